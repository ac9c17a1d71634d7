package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/monitor"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// testTimeout bounds every test: generous, for two loaded cores.
const testTimeout = 60 * time.Second

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// bed is a running LeafSpine(1,2) testbed (spine1, leaf1, leaf2; module
// IDs 1, 2, 3 in that order), an emulated device per switch, a bus and a
// log.
type bed struct {
	tb    *testbed.Testbed
	boxes map[string]monitor.Box
	bus   *events.Bus
	log   *logbook.Log
}

func startBed(t testing.TB) *bed {
	t.Helper()
	ctx := testCtx(t)
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	bus, err := events.NewBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	lg, err := logbook.New(logbook.WithWindow(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	b := &bed{tb: tb, boxes: map[string]monitor.Box{}, bus: bus, log: lg}
	drv := emulated.New(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond), driver.WithHealthCheck(-1, 0))
	for i, sw := range tb.Switches() {
		dev, err := drv.Open(ctx, driver.Spec{Name: sw.Name(), Address: sw.Addr(), DeviceID: sw.DeviceID(), Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dev.Close() })
		b.boxes[sw.Name()] = monitor.Box{Name: sw.Name(), Serial: sw.Identity().Serial, Module: uint32(i + 1), Device: dev}
	}
	return b
}

// monitor returns a monitor watching every box, closed at cleanup.
func (b *bed) monitor(t testing.TB, opts ...monitor.Option) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(b.bus, b.log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, name := range []string{"spine1", "leaf1", "leaf2"} {
		if err := m.Watch(testCtx(t), b.boxes[name]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// subscribe subscribes to the bus, cancelled at cleanup.
func (b *bed) subscribe(t testing.TB, f events.Filter) *events.Subscription {
	t.Helper()
	sub, err := b.bus.Subscribe(testCtx(t), f, events.WithSubscriptionBuffer(4096))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Cancel)
	return sub
}

// key identifies an event in the tests.
type key struct {
	Kind   events.Kind
	Module uint32
	Port   uint32
}

func (k key) String() string { return fmt.Sprintf("%s module=%d port=%d", k.Kind, k.Module, k.Port) }

func keyOf(e events.Event) key { return key{e.Kind, e.Module, e.Port} }

// waitFor receives events until every key of want has been seen, within
// ctx's deadline, and returns the events seen (all of them).
func waitFor(t testing.TB, ctx context.Context, sub *events.Subscription, want ...key) []events.Event {
	t.Helper()
	missing := map[key]bool{}
	for _, k := range want {
		missing[k] = true
	}
	var seen []events.Event
	for len(missing) > 0 {
		select {
		case e, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription ended; still waiting for %v", missing)
			}
			seen = append(seen, e)
			delete(missing, keyOf(e))
		case <-ctx.Done():
			t.Fatalf("still waiting for %v after %v; seen %v", missing, testTimeout, seen)
		}
	}
	return seen
}

// waitRecord follows the log until a record matching ok arrives (the ones
// already retained included), within ctx's deadline.
func waitRecord(t testing.TB, ctx context.Context, lg *logbook.Log, f logbook.Filter, ok func(logbook.Record) bool) logbook.Record {
	t.Helper()
	fl, err := lg.Follow(ctx, f, logbook.WithBacklog(logbook.DefaultCapacity))
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Cancel()
	for {
		select {
		case r, open := <-fl.C():
			if !open {
				t.Fatal("log follower ended")
			}
			if ok(r) {
				return r
			}
		case <-ctx.Done():
			recs, _ := lg.Query(f)
			t.Fatalf("no matching record after %v; log: %v", testTimeout, recs)
		}
	}
}
