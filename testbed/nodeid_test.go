package testbed_test

import (
	"context"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/testbed"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

// The chip's openconfig-p4rt node ID.
const (
	nodeIDConfig = "/components/component[name=" + gnmisrv.ChipName + "]/integrated-circuit/config/node-id"
	nodeIDState  = "/components/component[name=" + gnmisrv.ChipName + "]/integrated-circuit/state/node-id"
)

// table0Drop is an entry of onos-basic's table0 (ether_type 0x0800 →
// drop), to show that a controller may write.
var table0Drop = &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
	TableId: 33561568,
	Match: []*p4v1.FieldMatch{{FieldId: 4, FieldMatchType: &p4v1.FieldMatch_Ternary_{
		Ternary: &p4v1.FieldMatch_Ternary{Value: []byte{0x08, 0x00}, Mask: []byte{0xff, 0xff}}}}},
	Priority: 10,
	Action:   &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 16815319}}},
}}}

func nodeIDOf(t *testing.T, ctx context.Context, sw *testbed.Switch) uint64 {
	t.Helper()
	c := gnmiDial(t, sw) // a fresh connection: sw may just have restarted
	got, err := c.Get(ctx, []string{nodeIDState}, gnmiclient.GetEncoding(gpb.Encoding_PROTO))
	if err != nil || len(got) != 1 {
		t.Fatalf("get %s: %v, %v", nodeIDState, got, err)
	}
	id, ok := got[0].Value.(uint64)
	if !ok {
		t.Fatalf("%s = %v (%T), want a uint64", nodeIDState, got[0].Value, got[0].Value)
	}
	return id
}

// TestGNMINodeIDSetsTheP4RuntimeDeviceID: setting the chip's node ID over
// gNMI moves the switch's P4Runtime service to that device ID at once: the
// primary of the old ID is cut off, a controller of the new one becomes
// primary and writes, the old ID is NOT_FOUND; the ID survives a restart,
// and deleting the leaf restores the configured one.
func TestGNMINodeIDSetsTheP4RuntimeDeviceID(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())
	if got := nodeIDOf(t, ctx, sw); got != 1 {
		t.Fatalf("initial node-id %d, want the configured device ID 1", got)
	}
	old := connect(t, ctx, sw, plain)

	g := gnmiDial(t, sw)
	st := gnmiSubscribe(t, ctx, g, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: nodeIDState, Mode: gnmiclient.OnChange}}})
	until(t, st, "the initial node-id", leafIs(nodeIDState, uint64(1)))
	if _, err := g.Set(ctx, gnmiclient.SetUpdate(nodeIDConfig, 7)); err != nil {
		t.Fatal(err)
	}
	until(t, st, "node-id 7 published", leafIs(nodeIDState, uint64(7)))
	if got := nodeIDOf(t, ctx, sw); got != 7 {
		t.Fatalf("state/node-id %d after the Set, want 7", got)
	}
	if got := sw.DeviceID(); got != 7 {
		t.Fatalf("DeviceID() = %d, want 7", got)
	}

	// The old primary's stream has ended, NOT_FOUND.
	for {
		_, err := old.stream.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.NotFound {
			t.Fatalf("old primary's stream ended with %v, want NOT_FOUND", err)
		}
		break
	}
	// A controller of device 7 becomes primary and writes.
	ctl := connect(t, ctx, sw, plain)
	if ctl.dev != 7 {
		t.Fatalf("controller for device %d", ctl.dev)
	}
	ctl.setPipeline(ctx, "onos-basic")
	if _, err := ctl.client.Write(ctx, &p4v1.WriteRequest{DeviceId: 7, ElectionId: &p4v1.Uint128{Low: 1},
		Updates: []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: table0Drop}}}); err != nil {
		t.Fatalf("write as device 7: %v", err)
	}
	// The old ID is refused: a Write, and an arbitration.
	_, err = ctl.client.Write(ctx, &p4v1.WriteRequest{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1},
		Updates: []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: table0Drop}}})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("write as device 1: %v, want NOT_FOUND", err)
	}
	stale, err := ctl.client.StreamChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stale.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 2}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Recv(); status.Code(err) != codes.NotFound {
		t.Fatalf("arbitration for device 1: %v, want NOT_FOUND", err)
	}
	ctl.close()

	// Configuration survives a restart.
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := sw.DeviceID(); got != 7 {
		t.Fatalf("DeviceID() = %d after a restart, want 7", got)
	}
	if got := nodeIDOf(t, ctx, sw); got != 7 {
		t.Fatalf("state/node-id %d after a restart, want 7", got)
	}
	connect(t, ctx, sw, plain).close() // device 7 answers

	// Deleting the leaf restores the configured ID.
	if _, err := gnmiDial(t, sw).Set(ctx, gnmiclient.SetDelete(nodeIDConfig)); err != nil {
		t.Fatal(err)
	}
	if got := sw.DeviceID(); got != 1 {
		t.Fatalf("DeviceID() = %d after deleting node-id, want 1", got)
	}
	connect(t, ctx, sw, plain).close()
}

// TestGNMINodeIDRejects: node-id lives on the chip only and takes a
// uint64; a refused Set changes nothing.
func TestGNMINodeIDRejects(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 3, Ports: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	g := gnmiDial(t, sw)
	for _, tc := range []struct {
		name string
		op   gnmiclient.SetOp
		code codes.Code
	}{
		{"on a port", gnmiclient.SetUpdate("/components/component[name=port1]/integrated-circuit/config/node-id", 7), codes.NotFound},
		{"on a missing component", gnmiclient.SetUpdate("/components/component[name=chip9]/integrated-circuit/config/node-id", 7), codes.NotFound},
		{"negative", gnmiclient.SetUpdate(nodeIDConfig, -1), codes.InvalidArgument},
		{"not a number", gnmiclient.SetUpdate(nodeIDConfig, "seven"), codes.InvalidArgument},
		{"state", gnmiclient.SetUpdate(nodeIDState, 7), codes.InvalidArgument},
		{"key contradicts the path", gnmiclient.SetUpdate("/components/component[name="+gnmisrv.ChipName+"]",
			map[string]any{"name": "chassis", "integrated-circuit": map[string]any{"config": map[string]any{"node-id": 7}}}), codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.Set(ctx, tc.op)
			if status.Code(err) != tc.code {
				t.Fatalf("got %v, want %v", err, tc.code)
			}
			if got := sw.DeviceID(); got != 3 {
				t.Fatalf("DeviceID() = %d after a refused Set, want 3", got)
			}
		})
	}
	// The whole component in JSON, as PINS configures it (RFC 7951 quotes
	// 64-bit integers).
	if _, err := g.Set(ctx, gnmiclient.SetUpdate("/components", map[string]any{"component": []any{map[string]any{
		"name": gnmisrv.ChipName, "integrated-circuit": map[string]any{"config": map[string]any{"node-id": "123456"}}}}})); err != nil {
		t.Fatal(err)
	}
	if got := sw.DeviceID(); got != 123456 {
		t.Fatalf("DeviceID() = %d, want 123456", got)
	}
}
