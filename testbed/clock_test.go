package testbed_test

import (
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// TestTopologyClockSkewVisibleThroughGNOI starts a testbed whose switches
// have the clock offsets of the topology file and reads them back with
// gNOI system.Time: each estimate is within its round-trip error bound.
func TestTopologyClockSkewVisibleThroughGNOI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	topo, err := topology.Parse([]byte(`
switches:
  - name: ahead
    ports: 1
    clock: {offset: 250ms}
  - name: behind
    ports: 1
    clock: {offset: -400ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	tests := []struct {
		name string
		want time.Duration
	}{
		{"ahead", 250 * time.Millisecond},
		{"behind", -400 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := gnoi.Dial(tb.Switch(tc.name).Addr(), gnoi.WithInsecure())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The first call also sets up the connection: keep the
			// tightest of a few samples, as NTP does.
			best, err := c.Time(ctx)
			for i := 0; i < 4 && err == nil; i++ {
				var r gnoi.TimeResult
				if r, err = c.Time(ctx); err == nil && r.RTT < best.RTT {
					best = r
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			// The offset also holds the drift since start (none here) and
			// the scheduling noise inside the round trip: allow the error
			// bound plus a millisecond.
			if d := best.Offset - tc.want; d > best.ErrorBound+time.Millisecond || d < -best.ErrorBound-time.Millisecond {
				t.Fatalf("offset %v, want %v ± %v", best.Offset, tc.want, best.ErrorBound)
			}
			if tb.Clock(tc.name) == nil || tb.GNOI(tc.name) == nil {
				t.Fatal("testbed does not expose the switch's clock and gNOI side")
			}
		})
	}
}
