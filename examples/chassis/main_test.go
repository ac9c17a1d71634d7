package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRun runs the example against the testbed it starts and checks the
// story it prints: four modules, the commit, both ends of the cable going
// down, and the reroute that leaves leaf1 one path.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	t.Logf("\n%s", got)
	for _, want := range []string{
		"registered spine1 (serial spine1, role fabric) as module 1\n",
		"registered leaf2 (serial leaf2, role forwarder) as module 4\n",
		"committed version 1 (operation tx-",
		"taking eth-3/0/1 (leaf1 port 1) down\n",
		"port-down module=3 serial=leaf1 port=1",
		"port-down module=1 serial=spine1 port=1",
		`leaf1 now routes 10.0.2.0/24 over group "spines": spine2 via eth-3/0/2` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^rerouted: version 2 because .*port-down eth-3/0/1`).MatchString(got) {
		t.Error("output lacks the reroute of eth-3/0/1")
	}
	if n := len(regexp.MustCompile(`(?m)^  event #\d+ box-connected `).FindAllString(got, -1)); n != 4 {
		t.Errorf("%d box-connected events printed, want 4", n)
	}
	// The reroute is printed after the events that caused it.
	if strings.Index(got, "rerouted:") < strings.Index(got, "port-down module=3") {
		t.Error("the reroute is printed before leaf1's port-down event")
	}
}
