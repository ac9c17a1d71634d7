package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// leafSpine23 is every cable of LeafSpine(2,3): leaf j port i ↔ spine i port j.
var leafSpine23 = []string{
	"leaf1:1 <-> spine1:1", "leaf1:2 <-> spine2:1",
	"leaf2:1 <-> spine1:2", "leaf2:2 <-> spine2:2",
	"leaf3:1 <-> spine1:3", "leaf3:2 <-> spine2:3",
}

// TestRun runs the example on the testbed it starts, with each built-in
// program, and checks that it finds exactly the cables of the topology.
func TestRun(t *testing.T) {
	for _, program := range builtin.IDs() {
		t.Run(program, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var out bytes.Buffer
			links, err := run(ctx, &out, config{
				program: program, deviceTarget: pipeline.TargetEmulated, spines: 2, leaves: 3,
				interval: 200 * time.Millisecond, wait: 30 * time.Second, expect: len(leafSpine23),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(links, leafSpine23) {
				t.Fatalf("links %v, want %v\n%s", links, leafSpine23, out.String())
			}
			if !strings.Contains(out.String(), "leaf3   2     spine2  3") || !strings.Contains(out.String(), "6 links") {
				t.Fatalf("table:\n%s", out.String())
			}
		})
	}
}

// TestRunConnect runs the example against switches started apart, as with
// -switch flags, listening for the full wait.
func TestRunConnect(t *testing.T) {
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	cfg := config{program: builtin.ONOSBasic, deviceTarget: pipeline.TargetEmulated, interval: 100 * time.Millisecond, wait: 2 * time.Second}
	for _, sw := range tb.Switches() {
		cfg.switches = append(cfg.switches, target{sw.Name(), sw.Addr(), sw.DeviceID(), sw.Ports()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	links, err := run(ctx, &out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The wait is generous for loopback: the probes of the first round
	// come back in milliseconds.
	if want := []string{"leaf1:1 <-> spine1:1", "leaf2:1 <-> spine1:2"}; !slices.Equal(links, want) {
		t.Fatalf("links %v, want %v\n%s", links, want, out.String())
	}
}

// TestParseProbe ignores frames that are not our probes.
func TestParseProbe(t *testing.T) {
	nonce := []byte{2, 1, 2, 3, 4, 5}
	good := lldpFrame("leaf1", 7, nonce)
	tests := []struct {
		name  string
		frame []byte
		ok    bool
	}{
		{"ours", good, true},
		{"other sender", lldpFrame("leaf1", 7, []byte{2, 9, 9, 9, 9, 9}), false},
		{"truncated", good[:20], false},
		{"short", good[:10], false},
		{"not LLDP", append(append([]byte{}, good[:12]...), 0x08, 0x00), false},
	}
	for _, tc := range tests {
		sw, port, ok := parseProbe(tc.frame, nonce)
		if ok != tc.ok || (ok && (sw != "leaf1" || port != 7)) {
			t.Errorf("%s: parseProbe = %q, %d, %v", tc.name, sw, port, ok)
		}
	}
}
