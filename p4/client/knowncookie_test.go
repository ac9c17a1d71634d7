package client_test

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/roleconfig"
)

// TestKnownCookie: the client knows the switch's cookie from its own
// SetPipeline or GetPipeline only while it stays primary without a break,
// for the default role, and forgets it at anything that may change the
// config behind its back.
func TestKnownCookie(t *testing.T) {
	sw, addr, _ := startSwitch(t, "127.0.0.1:0")
	ctx := testCtx(t)
	info := basicSchema(t).P4Info()
	set := func(c *client.Client, action p4v1.SetForwardingPipelineConfigRequest_Action, cookie ...uint64) {
		t.Helper()
		if err := c.SetPipeline(ctx, info, []byte(`{"program": "basic"}`), action, cookie...); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	get := func(c *client.Client) {
		t.Helper()
		if _, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY); err != nil {
			t.Fatal(err)
		}
	}
	want := func(c *client.Client, step string, cookie uint64, ok bool) {
		t.Helper()
		if got, gotOK := c.KnownCookie(); got != cookie || gotOK != ok {
			t.Fatalf("%s: KnownCookie = %d, %v; want %d, %v", step, got, gotOK, cookie, ok)
		}
	}

	a := dial(t, addr, 10)
	want(a, "new client", 0, false)
	set(a, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, 7)
	want(a, "after VERIFY_AND_COMMIT", 7, true)
	set(a, p4v1.SetForwardingPipelineConfigRequest_VERIFY, 8)
	want(a, "VERIFY changes nothing", 7, true)
	set(a, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE, 8)
	want(a, "after VERIFY_AND_SAVE", 0, false)
	get(a)
	want(a, "read back", 8, true)
	set(a, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT)
	want(a, "committed without a cookie", 0, false)
	get(a)
	want(a, "read back without a cookie", 0, false)
	set(a, p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT, 9)
	want(a, "after RECONCILE_AND_COMMIT", 9, true)

	// Another client takes over and sets another config: a is a backup,
	// and when it takes over again it does not know the config until it
	// reads it.
	b := dial(t, addr, 5)
	if err := b.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, a, "a demoted", func(e client.MastershipEvent) bool { return e.State == client.Backup })
	want(a, "backup", 0, false)
	set(b, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, 11)
	get(a)
	want(a, "a backup reads", 0, false)
	if err := a.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	want(a, "primary again", 0, false)
	get(a)
	want(a, "primary reads", 11, true)

	// A broken stream (the switch restarted) forgets it.
	sw.DropStreams()
	waitEvent(t, a, "disconnect", func(e client.MastershipEvent) bool { return e.State == client.Disconnected })
	want(a, "stream lost", 0, false)
	waitEvent(t, a, "primary again", func(e client.MastershipEvent) bool { return e.State == client.Primary })
	want(a, "new stream", 0, false)
	get(a)
	want(a, "read on the new stream", 11, true)

	// A client of another role never knows: the pipeline is not its.
	cfg, err := anypb.New(&roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0}})
	if err != nil {
		t.Fatal(err)
	}
	r := dial(t, addr, 1, client.WithRole("acl", cfg))
	get(r)
	want(r, "role client", 0, false)
}
