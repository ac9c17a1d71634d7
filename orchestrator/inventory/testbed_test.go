package inventory_test

import (
	"fmt"
	"testing"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

func switchSpec(sw *testbed.Switch, role inventory.Role) inventory.BoxSpec {
	return inventory.BoxSpec{
		Name: sw.Name(), Driver: builtin.Emulated, Address: sw.Addr(),
		Role: role, DeviceID: sw.DeviceID(), Insecure: true,
	}
}

// TestRegisterTestbed registers the switches of a leaf-spine testbed
// through the emulated driver, over gRPC: each is known by the serial it
// reports and gets one interface per port. A switch with the same serial
// at a new address (the box moved) keeps its module.
func TestRegisterTestbed(t *testing.T) {
	ctx := testCtx(t)
	tb, err := testbed.Start(topology.LeafSpine(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s := boltEngine.open(t)
	inv, err := inventory.New(s, reg)
	if err != nil {
		t.Fatal(err)
	}
	for i, sw := range tb.Switches() {
		b, err := inv.Register(ctx, switchSpec(sw, inventory.RoleFabric))
		if err != nil {
			t.Fatal(err)
		}
		if b.Serial != sw.Identity().Serial || b.Module != uint32(i+1) || b.Spec.DeviceID != sw.DeviceID() || b.Identity.Vendor != sw.Identity().Vendor {
			t.Fatalf("switch %s registered as %+v", sw.Name(), b)
		}
		ifs, err := inv.Interfaces(ctx, b.Serial)
		if err != nil || len(ifs) != sw.Ports() {
			t.Fatalf("Interfaces(%s) = %v, %v; want %d", b.Serial, ifs, err, sw.Ports())
		}
		for _, ifc := range ifs {
			// gNMI interfaces eth1..N have state/id = P4 port.
			if ifc.DeviceName != fmt.Sprintf("eth%d", ifc.Port) || ifc.Name != inventory.FormatInterface(b.Module, ifc.Port) {
				t.Fatalf("interface %+v", ifc)
			}
			got, err := inv.Resolve(ctx, ifc.Name)
			if err != nil || got != ifc {
				t.Fatalf("Resolve(%s) = %+v, %v", ifc.Name, got, err)
			}
		}
	}

	// leaf1's box comes back at another address (a new switch reporting
	// the same serial).
	leaf := tb.Switch("leaf1")
	before, err := inv.Get(ctx, leaf.Identity().Serial)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := testbed.NewSwitch(testbed.SwitchConfig{
		Name: "leaf1-moved", DeviceID: leaf.DeviceID(), Ports: leaf.Ports(),
		Identity: testbed.Identity{Serial: leaf.Identity().Serial},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := moved.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moved.Stop)
	if moved.Addr() == leaf.Addr() {
		t.Fatalf("moved switch listens on the old address %s", leaf.Addr())
	}
	after, err := inv.Register(ctx, switchSpec(moved, inventory.RoleForwarder))
	if err != nil {
		t.Fatal(err)
	}
	if after.Module != before.Module || after.Spec.Address != moved.Addr() || after.Spec.Role != inventory.RoleForwarder {
		t.Fatalf("moved box = %+v, want module %d at %s", after, before.Module, moved.Addr())
	}
	boxes, _, err := inv.List(ctx)
	if err != nil || len(boxes) != len(tb.Switches()) {
		t.Fatalf("List = %v, %v; want %d boxes", boxes, err, len(tb.Switches()))
	}
}

func TestRegisterUnreachable(t *testing.T) {
	ctx := testCtx(t)
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.New(boltEngine.open(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	sp := inventory.BoxSpec{Name: "ghost", Driver: "nope", Address: "127.0.0.1:1", Role: inventory.RoleFabric, Insecure: true}
	if _, err := inv.Register(ctx, sp); err == nil {
		t.Fatal("register with an unknown driver succeeded")
	}
}
