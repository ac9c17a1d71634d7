package discovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/pipeline/builtin"
)

// BenchmarkDiscoverLeafSpine measures the time from starting discovery on
// every switch of a LeafSpine(2,4) running fabric.p4 (punt rule written,
// first probes sent) to every one of its 8 links known, and Stop (punt
// rules deleted) outside the timer. Probe rounds are 1 s apart, so the
// links come from the first probes and their answers.
func BenchmarkDiscoverLeafSpine(b *testing.B) {
	bd := startBed(b, 2, 4, builtin.FabricV1Model)
	want := len(bd.links())
	ctx := context.Background()
	for b.Loop() {
		d, err := discovery.Start(ctx, bd.devices, discovery.WithInterval(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.After(testTimeout)
		for n := 0; n < want; {
			select {
			case ev := <-d.Events():
				if ev.Kind == discovery.LinkDiscovered {
					n++
				}
			case <-deadline:
				b.Fatalf("%d of %d links after %v", n, want, testTimeout)
			}
		}
		b.StopTimer()
		if err := d.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
