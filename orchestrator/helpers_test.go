package orchestrator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// bed is a LeafSpine(2,2) testbed, a driver registry and a bolt store.
type bed struct {
	tb  *testbed.Testbed
	reg *driver.Registry
	st  store.Store
	dir string
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startBed(t *testing.T) *bed {
	t.Helper()
	tb, err := testbed.Start(topology.LeafSpine(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := bolt.Open(testCtx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &bed{tb: tb, reg: reg, st: st, dir: dir}
}

// open starts an orchestrator on the bed's store; it is closed at cleanup.
func (b *bed) open(t *testing.T, opts ...orchestrator.Option) *orchestrator.Orchestrator {
	t.Helper()
	opts = append([]orchestrator.Option{orchestrator.WithReconcileInterval(time.Hour), orchestrator.WithBoxTimeout(10 * time.Second)}, opts...)
	o, err := orchestrator.New(testCtx(t), b.st, b.reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

// role is the role of a LeafSpine switch: spines are fabric boxes.
func role(sw *testbed.Switch) inventory.Role {
	if strings.HasPrefix(sw.Name(), "spine") {
		return inventory.RoleFabric
	}
	return inventory.RoleForwarder
}

func spec(sw *testbed.Switch) inventory.BoxSpec {
	return inventory.BoxSpec{Name: sw.Name(), Driver: builtin.Emulated, Address: sw.Addr(),
		Role: role(sw), DeviceID: sw.DeviceID(), Insecure: true}
}

// registerAll registers the bed's switches in order: modules 1..4.
func (b *bed) registerAll(t *testing.T, o *orchestrator.Orchestrator) []inventory.Box {
	t.Helper()
	ctx := testCtx(t)
	var boxes []inventory.Box
	for i, sw := range b.tb.Switches() {
		box, err := o.Register(ctx, spec(sw))
		if err != nil {
			t.Fatal(err)
		}
		if box.Module != uint32(i+1) || box.Serial != sw.Identity().Serial {
			t.Fatalf("switch %s registered as %v, want module %d serial %s", sw.Name(), box, i+1, sw.Identity().Serial)
		}
		boxes = append(boxes, box)
	}
	return boxes
}

// config is version v of the chassis: spines (fabric role) run onos-basic,
// leaves (forwarder role) fabric-v1model; every module has routes that move
// with v and an interface description that says v.
func config(t *testing.T, v int) *goal.Config {
	t.Helper()
	var s strings.Builder
	s.WriteString("version: 1\nroles:\n  fabric: {pipeconf: onos-basic}\n")
	s.WriteString("  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n")
	s.WriteString("      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\ninterfaces:\n")
	for m := 1; m <= 4; m++ {
		fmt.Fprintf(&s, "  eth-%d/0/1: {description: \"v%d\"}\n", m, v)
	}
	s.WriteString("modules:\n")
	for m := 1; m <= 4; m++ {
		fmt.Fprintf(&s, "  \"%d\":\n    objectives:\n", m)
		for r := range 3 {
			if m <= 2 { // spine: basic.p4 forwards unchanged
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.0/24, next_hop: {id: nh%d, port: %d}}\n", v, r, r%2, 1+(r+v)%2)
			} else {
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.0/24, next_hop: {id: nh%d, port: %d, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:00:%02x\"}}\n",
					v, r, r%2, 1+(r+v)%2, m)
			}
		}
	}
	cfg, err := goal.Parse([]byte(s.String()))
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
