package orchestrator_test

import (
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/chassistest"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// bed is chassistest's LeafSpine(2,2) chassis under the names these tests
// use: the testbed, the driver registry, the bolt store and its directory.
type bed struct {
	*chassistest.Chassis
	tb  *testbed.Testbed
	reg *driver.Registry
	st  store.Store
	dir string
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	return chassistest.Context(t, 90*time.Second)
}

func startBed(t *testing.T) *bed {
	t.Helper()
	c := chassistest.Start(t)
	return &bed{Chassis: c, tb: c.Testbed, reg: c.Drivers, st: c.Store, dir: c.Dir}
}

// open starts an orchestrator on the bed's store; it is closed at cleanup.
func (b *bed) open(t *testing.T, opts ...orchestrator.Option) *orchestrator.Orchestrator {
	t.Helper()
	return b.Open(t, opts...)
}

// registerAll registers the bed's switches in order: modules 1..4.
func (b *bed) registerAll(t *testing.T, o *orchestrator.Orchestrator) []inventory.Box {
	t.Helper()
	return b.RegisterAll(t, o)
}

func role(sw *testbed.Switch) inventory.Role { return chassistest.Role(sw) }

func spec(sw *testbed.Switch) inventory.BoxSpec { return chassistest.Spec(sw) }

// config is version v of the chassis (chassistest.ConfigYAML): every
// module's routes and interface description move with v.
func config(t *testing.T, v int) *goal.Config {
	t.Helper()
	cfg, err := goal.Parse(chassistest.ConfigYAML(v, 0))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// expect reads every box back through o's devices and fails unless each
// holds exactly want (entities in the tables want and others touch,
// pipeline, gNMI leaves).
func expect(t *testing.T, o *orchestrator.Orchestrator, want map[string]*goal.Goal, others ...map[string]*goal.Goal) {
	t.Helper()
	tb := &txntest.Bed{Raw: map[string]driver.Device{}}
	for serial := range want {
		dev := o.DeviceOf(serial)
		if dev == nil {
			t.Fatalf("no device for box %s", serial)
		}
		tb.Raw[serial] = dev
	}
	tb.Expect(t, want, others...)
}

// waitEvent receives from sub until an event matches, or fails at ctx's
// end.
func waitEvent(t *testing.T, ctx context.Context, sub *events.Subscription, match func(events.Event) bool) events.Event {
	t.Helper()
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("no matching event: %v", ctx.Err())
		case e, ok := <-sub.C():
			if !ok {
				t.Fatal("subscription ended")
			}
			if match(e) {
				return e
			}
		}
	}
}
