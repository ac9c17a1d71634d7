// Package pipelinetest holds the test helpers that check a pipeliner's
// entities on a real (emulated) switch: start a switch with a program,
// read back everything it holds, and compare entity sets by key and
// content. Tests of the pipeline packages use it; it lives under testbed
// because it starts switches, and pipeline never imports testbed outside
// tests.
//
//	c := pipelinetest.Start(t, s.P4Info(), nil)
//	// ... write the translated entities with c ...
//	pipelinetest.SameSet(t, s, pipelinetest.ReadAll(t, c), want)
package pipelinetest

import (
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// Timeout bounds every helper call and the context Context returns.
const Timeout = 20 * time.Second

// Context returns a context that ends with the test or after Timeout.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Start starts an emulated switch (device 1, 8 ports), connects as its
// primary controller and commits the P4Info with the device config
// (anything, for the emulated target). The switch and the client end with
// the test.
func Start(t testing.TB, info *p4configv1.P4Info, deviceConfig []byte, cookie ...uint64) *client.Client {
	t.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "pipelinetest", DeviceID: 1, Ports: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	ctx := Context(t)
	c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(1),
		client.WithElectionID(client.ElectionID{Low: 1}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPipeline(ctx, info, deviceConfig, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, cookie...); err != nil {
		t.Fatal(err)
	}
	return c
}

// ReadAll reads every table entry, action profile member and group,
// multicast group and clone session the switch holds.
func ReadAll(t testing.TB, c *client.Client) []*p4v1.Entity {
	t.Helper()
	es, err := c.ReadAll(Context(t),
		entity.Wrap(&p4v1.TableEntry{}),
		entity.Wrap(&p4v1.ActionProfileMember{}),
		entity.Wrap(&p4v1.ActionProfileGroup{}),
		entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: &p4v1.MulticastGroupEntry{}}}),
		entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{CloneSessionEntry: &p4v1.CloneSessionEntry{}}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// SameSet checks that got and want hold the same entities: the same keys
// (entity.Key) and, for each, proto.Equal canonical forms (diff.Canonical).
// Every difference is reported, named with the schema.
func SameSet(t testing.TB, s *schema.Schema, got, want []*p4v1.Entity) {
	t.Helper()
	byKey := map[string]*p4v1.Entity{}
	for _, e := range got {
		byKey[entity.Key(e)] = e
	}
	if len(byKey) != len(got) {
		t.Errorf("the switch returned %d entities with %d keys", len(got), len(byKey))
	}
	for _, w := range want {
		g, ok := byKey[entity.Key(w)]
		if !ok {
			t.Errorf("missing on the switch: %s", entity.Format(s, w))
			continue
		}
		if !proto.Equal(diff.Canonical(g), diff.Canonical(w)) {
			t.Errorf("read back differs:\n got %s\nwant %s", entity.Format(s, g), entity.Format(s, w))
		}
		delete(byKey, entity.Key(w))
	}
	for _, g := range byKey {
		t.Errorf("unexpected on the switch: %s", entity.Format(s, g))
	}
}
