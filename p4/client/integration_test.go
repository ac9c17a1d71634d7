package client_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/roleconfig"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// Integration tests: the client against the testbed's emulated switch over
// real gRPC on loopback.

const (
	timeout  = 10 * time.Second
	table0   = 33561568 // ingress.table0_control.table0
	dropID   = 16815319 // ingress.table0_control.drop
	etherTyp = 4        // table0's hdr.ethernet.ether_type, ternary bit<16>
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

func basicSchema(t *testing.T) *schema.Schema {
	t.Helper()
	s, err := schema.New(p4infos.MustInfo("onos-basic"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startSwitch serves an emulated switch (device 1) on addr.
func startSwitch(t *testing.T, addr string, opts ...p4rt.Option) (*p4rt.Server, string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sw := p4rt.New(1, opts...)
	gs := grpc.NewServer()
	sw.Register(gs)
	go gs.Serve(lis)
	stop := sync.OnceFunc(gs.Stop)
	t.Cleanup(stop)
	return sw, lis.Addr().String(), stop
}

func dial(t *testing.T, addr string, id uint64, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{
		client.WithInsecure(),
		client.WithDeviceID(1),
		client.WithElectionID(client.ElectionID{Low: id}),
		client.WithBackoff(10*time.Millisecond, 200*time.Millisecond),
	}, opts...)
	c, err := client.Dial(testCtx(t), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func setPipeline(t *testing.T, c *client.Client) {
	t.Helper()
	err := c.SetPipeline(testCtx(t), basicSchema(t).P4Info(), []byte(`{"program": "basic"}`),
		p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, 1)
	if err != nil {
		t.Fatal(err)
	}
}

// entry is a table0 entry matching one EtherType, dropping.
func entry(etherType uint16) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: table0,
		Match: []*p4v1.FieldMatch{{FieldId: etherTyp, FieldMatchType: &p4v1.FieldMatch_Ternary_{
			Ternary: &p4v1.FieldMatch_Ternary{Value: []byte{byte(etherType >> 8), byte(etherType)}, Mask: []byte{0xff, 0xff}}}}},
		Priority: 10,
		Action:   &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: dropID}}},
	}}}
}

// waitEvent waits for a mastership event that satisfies cond.
func waitEvent(t *testing.T, c *client.Client, what string, cond func(client.MastershipEvent) bool) client.MastershipEvent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Mastership():
			if !ok {
				t.Fatalf("mastership channel closed waiting for %s", what)
			}
			if cond(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("timed out waiting for %s; status %+v", what, c.Status())
		}
	}
}

func TestPrimaryBackupTakeOver(t *testing.T) {
	_, addr, _ := startSwitch(t, "127.0.0.1:0")
	ctx := testCtx(t)
	a := dial(t, addr, 10)
	if !a.IsPrimary() {
		t.Fatalf("a: %+v", a.Status())
	}
	setPipeline(t, a)
	b := dial(t, addr, 5)
	st := b.Status()
	if st.State != client.Backup || !st.PrimaryPresent || st.PrimaryElectionID != (client.ElectionID{Low: 10}) || st.Code != codes.AlreadyExists {
		t.Fatalf("b: %+v", st)
	}
	if err := b.Insert(ctx, entry(0x0800)); !errors.Is(err, client.ErrNotPrimary) {
		t.Fatalf("backup's write: %v", err)
	}
	if err := a.Insert(ctx, entry(0x0800)); err != nil {
		t.Fatalf("primary's write: %v", err)
	}

	// b takes over while a is alive: the switch tells a it is a backup.
	if err := b.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.State != client.Primary || st.ElectionID != (client.ElectionID{Low: 11}) {
		t.Fatalf("b after take over: %+v", st)
	}
	ev := waitEvent(t, a, "a demoted", func(e client.MastershipEvent) bool { return e.State == client.Backup })
	if ev.Previous != client.Primary || ev.PrimaryElectionID != (client.ElectionID{Low: 11}) || ev.Code != codes.AlreadyExists {
		t.Fatalf("a's event %+v", ev)
	}
	if err := a.Insert(ctx, entry(0x0806)); !errors.Is(err, client.ErrNotPrimary) {
		t.Fatalf("demoted primary's write: %v", err)
	}
	if err := b.Insert(ctx, entry(0x0806)); err != nil {
		t.Fatal(err)
	}

	// The primary goes away: the backup hears that there is no primary and
	// is not promoted by itself; it takes over.
	b.Close()
	ev = waitEvent(t, a, "no primary", func(e client.MastershipEvent) bool { return !e.PrimaryPresent })
	if ev.State != client.Backup || ev.Code != codes.NotFound || ev.PrimaryElectionID != (client.ElectionID{Low: 11}) {
		t.Fatalf("a's event %+v", ev)
	}
	if err := a.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.State != client.Primary || st.ElectionID != (client.ElectionID{Low: 12}) {
		t.Fatalf("a: %+v", st)
	}
	if err := a.Insert(ctx, entry(0x86dd)); err != nil {
		t.Fatal(err)
	}
}

func TestMixedBatchPerUpdateErrors(t *testing.T) {
	_, addr, _ := startSwitch(t, "127.0.0.1:0")
	c := dial(t, addr, 1, client.WithSchema(basicSchema(t)))
	setPipeline(t, c)
	bad := entry(0x1234)
	bad.GetTableEntry().Match[0].FieldId = 99 // no such match field
	ups := make([]*p4v1.Update, 12)
	for i := range ups {
		ups[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: entry(uint16(0x1000 + i))}
	}
	ups[4].Entity = bad
	ups[7].Entity = entry(0x1001) // inserted by update 1, in an earlier batch
	ups[9].Type = p4v1.Update_MODIFY
	ups[9].Entity = entry(0x2000) // does not exist
	ups[11].Type = p4v1.Update_DELETE
	ups[11].Entity = entry(0x2001) // does not exist
	err := c.Write(testCtx(t), ups, client.WithBatchSize(5))
	var we *client.WriteError
	if !errors.As(err, &we) || we.Err != nil || errors.Is(err, client.ErrNotPrimary) {
		t.Fatalf("err = %v", err)
	}
	want := map[int]codes.Code{4: codes.InvalidArgument, 7: codes.AlreadyExists, 9: codes.NotFound, 11: codes.NotFound}
	if len(we.Updates) != len(want) {
		t.Fatalf("failed updates: %v", err)
	}
	for _, u := range we.Updates {
		if code, ok := want[u.Index]; !ok || u.Code != code || u.Update != ups[u.Index] || u.NotSent || u.Message == "" {
			t.Errorf("entry %+v", u)
		}
	}
	got, err := c.ReadAll(testCtx(t), &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
	if err != nil || len(got) != 8 {
		t.Fatalf("read back %d entries, %v", len(got), err)
	}
	n := 0
	for _, err := range c.ReadTable(testCtx(t), "table0") {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
}

func TestAtomicBatchAndInFlight(t *testing.T) {
	_, addr, _ := startSwitch(t, "127.0.0.1:0")
	c := dial(t, addr, 1)
	setPipeline(t, c)
	ctx := testCtx(t)
	ups := make([]*p4v1.Update, 300)
	for i := range ups {
		ups[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: entry(uint16(i + 1))}
	}
	if err := c.Write(ctx, ups, client.WithBatchSize(16), client.WithInFlight(4)); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadAll(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: table0}}})
	if err != nil || len(got) != 300 {
		t.Fatalf("read back %d entries, %v", len(got), err)
	}
	// A ROLLBACK_ON_ERROR batch that a switch cannot apply all-or-none is
	// refused or rolled back as a whole: nothing of it stays.
	del := []*p4v1.Update{
		{Type: p4v1.Update_DELETE, Entity: entry(1)},
		{Type: p4v1.Update_DELETE, Entity: entry(0xffff)}, // does not exist
	}
	if err := c.Write(ctx, del, client.WithAtomicity(p4v1.WriteRequest_ROLLBACK_ON_ERROR), client.WithBatchSize(1)); err == nil {
		t.Fatal("atomic batch with a failing update succeeded")
	}
	got, err = c.ReadAll(ctx, entry(1))
	if err != nil || len(got) != 1 {
		t.Fatalf("entry 1 after a failed atomic batch: %d, %v", len(got), err)
	}
}

func TestReconnectAfterSwitchRestart(t *testing.T) {
	sw, addr, stop := startSwitch(t, "127.0.0.1:0")
	c := dial(t, addr, 7)
	setPipeline(t, c)
	ctx := testCtx(t)

	// The switch drops its streams: the client re-opens and re-arbitrates
	// with the same election ID, and is primary again.
	sw.DropStreams()
	ev := waitEvent(t, c, "disconnect", func(e client.MastershipEvent) bool { return e.State == client.Disconnected })
	if status.Code(ev.Err) != codes.Unavailable {
		t.Fatalf("event %+v", ev)
	}
	waitEvent(t, c, "primary again", func(e client.MastershipEvent) bool { return e.State == client.Primary })
	if err := c.Insert(ctx, entry(0x0800)); err != nil {
		t.Fatal(err)
	}

	// The switch stops, and a new one (a full restart) comes up on the same
	// address.
	stop()
	waitEvent(t, c, "disconnect", func(e client.MastershipEvent) bool { return e.State == client.Disconnected })
	if err := c.Insert(ctx, entry(0x0806)); err == nil {
		t.Fatal("write succeeded while the switch is down")
	}
	startSwitch(t, addr)
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.StreamsOpened != 3 {
		t.Fatalf("streams opened %d, want 3", st.StreamsOpened)
	}
	// The restarted switch has no pipeline.
	if _, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY); !errors.Is(err, client.ErrNoPipeline) {
		t.Fatalf("GetPipeline after restart: %v", err)
	}
	setPipeline(t, c)
	if err := c.Insert(ctx, entry(0x0806)); err != nil {
		t.Fatal(err)
	}
}

func packetIn(port uint16) *p4v1.PacketIn {
	return &p4v1.PacketIn{Payload: []byte{0xca, 0xfe}, Metadata: []*p4v1.PacketMetadata{
		{MetadataId: 1, Value: []byte{byte(port >> 8), byte(port)}}, {MetadataId: 2, Value: []byte{0}},
	}}
}

func TestPacketInDropsWithSlowReader(t *testing.T) {
	sw, addr, _ := startSwitch(t, "127.0.0.1:0", p4rt.WithStreamQueueSize(4096))
	c := dial(t, addr, 1, client.WithPacketBuffer(16))
	setPipeline(t, c)
	const n = 500
	for i := range n {
		sw.SendPacketIn(packetIn(uint16(i % 511)))
	}
	// The stream is ordered: when this notification arrives, every
	// packet-in sent before it has been handled.
	sw.SendIdleTimeout(&p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{entry(0x0800).GetTableEntry()}})
	select {
	case <-c.IdleTimeouts():
	case <-testCtx(t).Done():
		t.Fatal("notification stuck behind unread packet-ins")
	}
	if d := sw.Stats().Dropped; d != 0 {
		t.Fatalf("the switch dropped %d messages", d)
	}
	st := c.Stats()
	if st.PacketInReceived != n || st.PacketInDropped != n-16 {
		t.Fatalf("stats %+v", st)
	}
	// While the buffer is full, arbitration still gets through.
	dial(t, addr, 2)
	waitEvent(t, c, "demotion", func(e client.MastershipEvent) bool { return e.State == client.Backup })
	for i := range 16 {
		p := <-c.PacketIn()
		port, err := p.Uint("ingress_port")
		if err != nil || port != uint64(i) || string(p.Payload) != "\xca\xfe" {
			t.Fatalf("packet %d: port %d, %v", i, port, err)
		}
	}
}

func TestPacketOutAndStreamErrors(t *testing.T) {
	var sw *p4rt.Server
	// The switch loops every packet-out back as a packet-in on the port it
	// was sent to.
	sw, addr, _ := startSwitch(t, "127.0.0.1:0", p4rt.WithPacketOut(func(p *p4v1.PacketOut) error {
		sw.SendPacketIn(&p4v1.PacketIn{Payload: p.GetPayload(), Metadata: p.GetMetadata()})
		return nil
	}))
	c := dial(t, addr, 1, client.WithManualDigestAck())
	setPipeline(t, c) // the schema comes from the pipeline
	ctx := testCtx(t)
	if err := c.PacketOut(ctx, []byte("hello"), map[string][]byte{"egress_port": {0x01, 0x05}}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-c.PacketIn():
		if port, _ := p.Uint("ingress_port"); port != 0x105 || string(p.Payload) != "hello" {
			t.Fatalf("looped packet %+v", p)
		}
	case <-ctx.Done():
		t.Fatal("no packet-in")
	}
	// A packet-out the switch refuses comes back as a stream error.
	if err := c.SendPacketOut(ctx, &p4v1.PacketOut{Payload: []byte{1}, Metadata: []*p4v1.PacketMetadata{{MetadataId: 7, Value: []byte{1}}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.StreamErrors():
		if codes.Code(e.GetCanonicalCode()) != codes.InvalidArgument || e.GetPacketOut() == nil {
			t.Fatalf("stream error %v", e)
		}
	case <-ctx.Done():
		t.Fatal("no stream error")
	}
	// So does an ack for a digest the P4Info does not have.
	if err := c.AckDigest(ctx, &client.DigestList{DigestID: 123, ListID: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.StreamErrors():
		if codes.Code(e.GetCanonicalCode()) != codes.InvalidArgument || e.GetDigestListAck() == nil {
			t.Fatalf("stream error %v", e)
		}
	case <-ctx.Done():
		t.Fatal("no stream error")
	}
}

func TestRejectedWritesAndReads(t *testing.T) {
	sw, addr, _ := startSwitch(t, "127.0.0.1:0")
	c := dial(t, addr, 1)
	ctx := testCtx(t)
	if err := c.Insert(ctx, entry(1)); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("write before a pipeline: %v", err)
	}
	setPipeline(t, c)
	sw.RejectWrites(1, codes.Unavailable)
	err := c.Insert(ctx, entry(1), entry(2))
	var we *client.WriteError
	if !errors.As(err, &we) || status.Code(we.Err) != codes.Unavailable || len(we.Updates) != 2 || errors.Is(err, client.ErrNotPrimary) {
		t.Fatalf("rejected write: %v", err)
	}
	if err := c.Insert(ctx, entry(1), entry(2)); err != nil {
		t.Fatal(err)
	}
	cells, err := c.ReadAll(ctx)
	if err != nil || len(cells) != 0 {
		t.Fatalf("empty read: %v %v", cells, err)
	}
	var got []*p4v1.Entity
	for e, err := range c.ReadCounter(ctx, "ingress_port_counter", 1, 2) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].GetCounterEntry().GetIndex().GetIndex() != 1 {
		t.Fatalf("counter cells %v", got)
	}
	all := 0
	for _, err := range c.ReadCounter(ctx, "ingress_port_counter") {
		if err != nil {
			t.Fatal(err)
		}
		all++
	}
	if all != 511 {
		t.Fatalf("%d counter cells, want 511", all)
	}
	if _, err := c.ReadAll(ctx, &p4v1.Entity{}); err == nil {
		t.Fatal("read of an empty entity succeeded")
	}
	for _, err := range c.ReadTable(ctx, "no_such_table") {
		var le *schema.LookupError
		if !errors.As(err, &le) {
			t.Fatalf("unknown table: %v", err)
		}
	}
	caps, err := c.Capabilities(ctx)
	if err != nil || caps.GetP4RuntimeApiVersion() != p4rt.APIVersion {
		t.Fatalf("Capabilities: %v %v", caps, err)
	}
}

func TestRoleScopedWrites(t *testing.T) {
	_, addr, _ := startSwitch(t, "127.0.0.1:0")
	admin := dial(t, addr, 1)
	setPipeline(t, admin)
	cfg, err := anypb.New(&roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0}})
	if err != nil {
		t.Fatal(err)
	}
	r := dial(t, addr, 1, client.WithRole("acl", cfg))
	if st := r.Status(); st.State != client.Primary || st.Role != "acl" {
		t.Fatalf("role client: %+v", st)
	}
	ctx := testCtx(t)
	meter := &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: 33571781, // ingress.host_meter_control.host_meter_table, not in the role
		Match: []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Lpm{
			Lpm: &p4v1.FieldMatch_LPM{Value: []byte{0x0a, 0, 0, 0, 0, 0}, PrefixLen: 8}}}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 16823832}}},
	}}}
	err = r.Insert(ctx, entry(0x0800), meter)
	var we *client.WriteError
	if !errors.As(err, &we) || len(we.Updates) != 1 || we.Updates[0].Index != 1 || we.Updates[0].Code != codes.PermissionDenied {
		t.Fatalf("write outside the role: %v", err)
	}
	// Refused for its role, not for mastership.
	if errors.Is(err, client.ErrNotPrimary) {
		t.Fatal("a per-update PERMISSION_DENIED reads as ErrNotPrimary")
	}
	// The default role's primary may write the other table.
	if err := admin.Insert(ctx, meter); err != nil {
		t.Fatal(err)
	}
	// Reads are filtered by role.
	got, err := r.ReadAll(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
	if err != nil || len(got) != 1 || got[0].GetTableEntry().GetTableId() != table0 {
		t.Fatalf("role read: %v, %v", got, err)
	}
}
