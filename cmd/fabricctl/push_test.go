package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/p4/client"
	pbuiltin "github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// TestPipelinePush pushes a pipeconf to three switches (set), again
// (unchanged: the cookie matches), with --force (set), and to a target
// that does not answer under its device ID (failed, non-zero exit); the
// switches run the pipeconf with its cookie afterwards.
func TestPipelinePush(t *testing.T) {
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	var targets []string
	for _, sw := range tb.Switches() {
		targets = append(targets, "--target", fmt.Sprintf("%s/%d", sw.Addr(), sw.DeviceID()))
	}
	push := func(extra ...string) (pushResults, string, error) {
		t.Helper()
		args := append([]string{"pipeline", "push", "onos-basic", "--driver", "emulated", "--insecure", "--timeout", "30s", "-o", "json"}, targets...)
		stdout, stderr, err := run(t, append(args, extra...)...)
		var got pushResults
		if jerr := json.Unmarshal([]byte(stdout), &got); jerr != nil {
			t.Fatalf("output is not JSON: %v\n%s\nstderr: %s", jerr, stdout, stderr)
		}
		return got, stderr, err
	}
	results := func(rs pushResults) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Result)
		}
		return strings.Join(out, ",")
	}

	tests := []struct {
		name  string
		extra []string
		want  string
	}{
		{"first push", []string{"--progress"}, "set,set,set"},
		{"again", nil, "unchanged,unchanged,unchanged"},
		{"forced", []string{"--force"}, "set,set,set"},
		{"verify only", []string{"--verify-only"}, "verified,verified,verified"},
	}
	for _, tt := range tests {
		got, stderr, err := push(tt.extra...)
		if err != nil || results(got) != tt.want {
			t.Fatalf("%s: results %s, %v; want %s", tt.name, results(got), err, tt.want)
		}
		if tt.name == "first push" && !strings.Contains(stderr, "3/3") {
			t.Errorf("--progress: no finished bar on stderr: %q", stderr)
		}
	}

	// The switches run it, under the cookie the driver computes.
	pc, err := pbuiltin.Get("onos-basic")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sw := tb.Switches()[0]
	c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()), client.WithElectionID(client.ElectionID{Low: 9}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_ALL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.GetCookie().GetCookie(), driver.Cookie(pc, cfg.GetP4DeviceConfig()); got != want || cfg.GetP4Info() == nil {
		t.Errorf("switch runs cookie %#x, want %#x", got, want)
	}

	// The test's client (election ID 9) is primary on the first switch:
	// a push with election ID 1 fails there, and --take-over wins.
	got, _, err := push("--force")
	if err == nil || got[0].Result != "failed" || !strings.Contains(got[0].Error, "not primary") || results(got[1:]) != "set,set" {
		t.Errorf("push under another primary: %+v, %v; want the first failed, not primary", got, err)
	}
	if got, _, err := push("--force", "--take-over"); err != nil || results(got) != "set,set,set" {
		t.Errorf("--take-over: %s, %v; want set,set,set", results(got), err)
	}
	c.Close()

	// A wrong device ID fails that target only, and the command. (The
	// first switch now remembers the taken-over election ID: only
	// --take-over is primary there, spec "election_id_past".)
	targets = append(targets, "--target", sw.Addr()+"/99")
	got, _, err = push("--take-over")
	if err == nil || !strings.Contains(err.Error(), "1 of 4 targets failed") || got[3].Result != "failed" || got[3].Error == "" {
		t.Errorf("bad target: %+v, %v; want the fourth failed and an error", got, err)
	}
	for _, bad := range [][]string{
		{"pipeline", "push", "onos-basic", "--insecure"},                                     // no target
		{"pipeline", "push", "onos-basic", "--insecure", "--target", "nohost"},               // no port
		{"pipeline", "push", "onos-basic", "--insecure", "--target", "127.0.0.1:1/x"},        // bad device ID
		{"pipeline", "push", "no-such-pipeconf", "--insecure", "--target", "127.0.0.1:1"},    // unknown pipeconf
		{"pipeline", "push", "onos-basic", "--insecure", "--tls-ca", "x", "--target", "a:1"}, // exclusive
	} {
		if _, _, err := run(t, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
