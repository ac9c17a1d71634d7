package basic_test

import (
	"context"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed"
)

func basicSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New(p4infos.MustInfo("onos-basic"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPipeliner(t testing.TB) pipeline.Pipeliner {
	t.Helper()
	p, err := basic.New(basicSchema(t), pipeline.DeviceOptions{CPUPort: 255})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startSwitch starts an emulated switch with basic.p4's P4Info and
// returns a primary client.
func startSwitch(t *testing.T, s *schema.Schema) *client.Client {
	t.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "basic", DeviceID: 1, Ports: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	ctx := testCtx(t)
	c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(1),
		client.WithElectionID(client.ElectionID{Low: 1}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPipeline(ctx, s.P4Info(), []byte("emulated"), p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
		t.Fatal(err)
	}
	return c
}

// readAll reads every table entry, action profile member and group and
// replication entry the switch holds.
func readAll(t *testing.T, c *client.Client) []*p4v1.Entity {
	t.Helper()
	es, err := c.ReadAll(testCtx(t),
		entity.Wrap(&p4v1.TableEntry{}),
		entity.Wrap(&p4v1.ActionProfileMember{}),
		entity.Wrap(&p4v1.ActionProfileGroup{}),
		entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: &p4v1.MulticastGroupEntry{}}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// sameSet checks that got and want hold the same entities: the same keys
// (entity.Key) and, for each, proto.Equal canonical forms.
func sameSet(t *testing.T, s *schema.Schema, got, want []*p4v1.Entity) {
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
