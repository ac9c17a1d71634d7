package northbound_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, want)
	}
}

// commit commits cfg through c and waits until the operation ends; it
// checks the operation started RUNNING.
func commit(t *testing.T, ctx context.Context, c *northbound.Client, cfg []byte, comment string) *nbpb.Operation {
	t.Helper()
	op, err := c.Commit(ctx, &nbpb.CommitRequest{Config: cfg, Comment: comment})
	if err != nil {
		t.Fatal(err)
	}
	if op.State != nbpb.Operation_RUNNING || op.Id == "" || op.Kind != northbound.KindCommit {
		t.Fatalf("commit returned %v, want a RUNNING commit with an ID", op)
	}
	end, _ := chassistest.Watch(t, ctx, c, op.Id)
	return end
}

func TestEndToEnd(t *testing.T) {
	e := newEnv(t, true)
	ctx := chassistest.Context(t, 60*time.Second)
	admin := e.api.Dial(t, adminToken)
	reader := e.api.Dial(t, readToken)
	boxes := e.RegisterAllAPI(t, admin)

	list, err := reader.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Boxes) != 4 {
		t.Fatalf("ListBoxes: %d boxes, want 4", len(list.Boxes))
	}
	for i, b := range list.Boxes {
		if b.Module != uint32(i+1) || !b.Connected || len(b.Interfaces) == 0 || len(b.Interfaces) != len(b.Ports) {
			t.Fatalf("box %d: %v, want module %d, connected, with interfaces", i, b, i+1)
		}
		if want := "eth-" + itoa(b.Module) + "/0/" + itoa(b.Ports[0].Id); b.Interfaces[0] != want {
			t.Fatalf("box %d: interface %q, want %q", i, b.Interfaces[0], want)
		}
	}
	links, err := reader.ListLinks(ctx, &nbpb.ListLinksRequest{})
	if err != nil || len(links.Links) != 0 {
		t.Fatalf("ListLinks without discovery: %v, %v; want none", links, err)
	}
	_, err = reader.GetConfig(ctx, &nbpb.GetConfigRequest{})
	wantCode(t, "GetConfig before any commit", err, codes.NotFound)

	// Follow the bus before committing.
	evs, err := reader.Events(ctx, &nbpb.EventsRequest{Kinds: []string{"committed"}, Follow: true})
	if err != nil {
		t.Fatal(err)
	}

	v1 := commit(t, ctx, admin, chassistest.ConfigYAML(1, 0), "first")
	if v1.State != nbpb.Operation_COMMITTED || v1.Version != 1 || len(v1.Changes) != 4 || v1.Ended == nil {
		t.Fatalf("v1: %v, want COMMITTED version 1 with changes on 4 boxes", v1)
	}
	ev, err := evs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != "committed" || ev.Op != v1.Id {
		t.Fatalf("followed event %v, want committed of %s", ev, v1.Id)
	}

	// A config that does not compile starts nothing.
	before, err := reader.ListOperations(ctx, &nbpb.ListOperationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{
		nil,
		[]byte("version: 1\nroles: [\n"),
		[]byte("version: 1\ninterfaces:\n  eth-9/0/1: {description: nowhere}\n"),
		[]byte("version: 1\nroles:\n  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n      - l3-interface: {port: 1, router_mac: \"not-a-mac\"}\n"),
		[]byte("version: 1\nmodules:\n  \"9\":\n    objectives:\n      - route: {prefix: 10.0.0.0/8, next_hop: {id: a, port: 1}}\n"),
	} {
		_, err := admin.Commit(ctx, &nbpb.CommitRequest{Config: bad})
		wantCode(t, "commit of "+string(bad), err, codes.InvalidArgument)
	}
	after, err := reader.ListOperations(ctx, &nbpb.ListOperationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Operations) != len(before.Operations) {
		t.Fatalf("invalid configs started operations: %d, then %d", len(before.Operations), len(after.Operations))
	}

	v2 := commit(t, ctx, admin, chassistest.ConfigYAML(2, 0), "second")
	if v2.State != nbpb.Operation_COMMITTED || v2.Version != 2 {
		t.Fatalf("v2: %v", v2)
	}
	hist, err := reader.History(ctx, &nbpb.HistoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Versions) != 2 || hist.Versions[0].Txn != v1.Id || hist.Versions[1].Txn != v2.Id || hist.Versions[1].Comment != "second" {
		t.Fatalf("history %v, want versions 1 (%s) and 2 (%s)", hist.Versions, v1.Id, v2.Id)
	}
	got, err := reader.GetConfig(ctx, &nbpb.GetConfigRequest{})
	if err != nil || got.Version != 2 || !bytes.Contains(got.Config, []byte("v2")) {
		t.Fatalf("GetConfig: %v, %v; want version 2's config", got, err)
	}

	// Diff of versions: every box changed (the routes move with v).
	d, err := reader.Diff(ctx, &nbpb.DiffRequest{From: 1, To: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Boxes) != 4 || d.Boxes[0].Module != 1 || d.Boxes[3].Module != 4 || d.Boxes[2].Inserts == 0 || d.Boxes[2].Deletes == 0 {
		t.Fatalf("diff 1..2: %v", d)
	}
	_, err = reader.Diff(ctx, &nbpb.DiffRequest{From: 1, To: 7})
	wantCode(t, "diff with an unknown version", err, codes.NotFound)
	// Diff of a candidate: the committed config itself differs in nothing,
	// version 1's config like version 1 does.
	d, err = reader.Diff(ctx, &nbpb.DiffRequest{Candidate: chassistest.ConfigYAML(2, 0)})
	if err != nil || len(d.Boxes) != 0 || d.From != 2 {
		t.Fatalf("diff of the committed config: %v, %v; want no box from version 2", d, err)
	}
	d, err = reader.Diff(ctx, &nbpb.DiffRequest{Candidate: chassistest.ConfigYAML(1, 0)})
	if err != nil || len(d.Boxes) != 4 {
		t.Fatalf("diff of version 1's config: %v, %v; want 4 boxes", d, err)
	}
	_, err = reader.Diff(ctx, &nbpb.DiffRequest{Candidate: []byte("version: 7\n")})
	wantCode(t, "diff of an invalid candidate", err, codes.InvalidArgument)

	// Rollback to 1 is version 3.
	_, err = admin.Rollback(ctx, &nbpb.RollbackRequest{Version: 9})
	wantCode(t, "rollback to an unknown version", err, codes.NotFound)
	rb, err := admin.Rollback(ctx, &nbpb.RollbackRequest{Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rb.State != nbpb.Operation_RUNNING || rb.Kind != northbound.KindRollback {
		t.Fatalf("rollback returned %v", rb)
	}
	end, states := chassistest.Watch(t, ctx, admin, rb.Id)
	if end.State != nbpb.Operation_COMMITTED || end.Version != 3 {
		t.Fatalf("rollback ended %v, want COMMITTED version 3", end)
	}
	if len(states) < 2 || states[0].State != nbpb.Operation_RUNNING {
		t.Fatalf("watch saw %d states, first %v; want RUNNING then more", len(states), states[0])
	}
	d, err = reader.Diff(ctx, &nbpb.DiffRequest{From: 1, To: 3})
	if err != nil || len(d.Boxes) != 0 {
		t.Fatalf("diff 1..3 after rollback: %v, %v; want none", d, err)
	}

	// The events of the past: replay without follow ends by itself.
	evs2, err := reader.Events(ctx, &nbpb.EventsRequest{Op: v1.Id, Replay: 10})
	if err != nil {
		t.Fatal(err)
	}
	var replayed []*nbpb.Event
	for {
		ev, err := evs2.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		replayed = append(replayed, ev)
	}
	if len(replayed) != 1 || replayed[0].Kind != "committed" || replayed[0].Op != v1.Id {
		t.Fatalf("replayed %v, want v1's committed event", replayed)
	}
	_, err = recvErr(reader.Events(ctx, &nbpb.EventsRequest{Kinds: []string{"no-such-kind"}, Replay: 1}))
	wantCode(t, "events of a bad kind", err, codes.InvalidArgument)

	// The log of one operation.
	e.o.Log().Flush()
	lg, err := reader.Log(ctx, &nbpb.LogRequest{Op: v2.Id})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, err := lg.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Op != v2.Id {
			t.Fatalf("log record %v of another operation than %s", r, v2.Id)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no log record of operation %s", v2.Id)
	}
	_, err = recvErr(reader.Log(ctx, &nbpb.LogRequest{MinSeverity: "loud"}))
	wantCode(t, "log of a bad severity", err, codes.InvalidArgument)

	// Reconcile a box: nothing drifted.
	rec, err := admin.Reconcile(ctx, &nbpb.ReconcileRequest{Serial: boxes[2].Serial})
	if err != nil || rec.Error != "" || rec.Op == "" {
		t.Fatalf("reconcile: %v, %v", rec, err)
	}
	_, err = admin.Reconcile(ctx, &nbpb.ReconcileRequest{Serial: "no-such-box"})
	wantCode(t, "reconcile an unknown box", err, codes.NotFound)
	_, err = reader.Time(ctx, &nbpb.TimeRequest{})
	wantCode(t, "time without time sync", err, codes.FailedPrecondition)

	// A new server on the same orchestrator finds v1 in the journal.
	c2 := e.Serve(t, e.o).Dial(t, readToken)
	op, err := c2.GetOperation(ctx, &nbpb.GetOperationRequest{Id: v1.Id})
	if err != nil || op.State != nbpb.Operation_COMMITTED || op.Version != 1 || op.Comment != "first" {
		t.Fatalf("journal's v1 from a new server: %v, %v", op, err)
	}
	_, err = c2.GetOperation(ctx, &nbpb.GetOperationRequest{Id: "op-nope"})
	wantCode(t, "unknown operation", err, codes.NotFound)
	ops, err := c2.ListOperations(ctx, &nbpb.ListOperationsRequest{})
	if err != nil || len(ops.Operations) != 0 {
		t.Fatalf("new server's operations: %v, %v; want none", ops, err)
	}

	// Backup restores into a store with the same history.
	snap := chassistest.Backup(t, ctx, admin) // chunks no larger than BackupChunkSize
	dir := t.TempDir() + "/restored"
	if err := bolt.Restore(ctx, bytes.NewReader(snap), dir); err != nil {
		t.Fatalf("restore of the backup (%d bytes): %v", len(snap), err)
	}
	rst, err := bolt.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	if _, err := rst.Get(ctx, "/fabric/inventory/boxes/"+boxes[0].Serial); err != nil {
		t.Fatalf("restored store lacks box %s: %v", boxes[0].Serial, err)
	}

	// Decommission frees module 4.
	gone, err := admin.DecommissionBox(ctx, &nbpb.DecommissionBoxRequest{Serial: boxes[3].Serial})
	if err != nil || gone.Module != 4 {
		t.Fatalf("decommission: %v, %v", gone, err)
	}
	_, err = admin.DecommissionBox(ctx, &nbpb.DecommissionBoxRequest{Serial: boxes[3].Serial})
	wantCode(t, "decommission twice", err, codes.NotFound)
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// recvErr returns the first error of a stream: the status of a call
// refused before any message.
func recvErr[T any](st grpc.ServerStreamingClient[T], err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return st.Recv()
}

// TestServerNeedsAuth: a server is never silently open.
func TestServerNeedsAuth(t *testing.T) {
	e := newEnv(t, false)
	if _, err := northbound.NewServer(e.o); !errors.Is(err, northbound.ErrNoAuth) {
		t.Fatalf("NewServer without tokens: %v, want ErrNoAuth", err)
	}
	if _, err := northbound.NewServer(e.o, northbound.WithTokens(northbound.Tokens{Admin: []string{"  "}})); !errors.Is(err, northbound.ErrNoAuth) {
		t.Fatalf("NewServer with a blank token: %v, want ErrNoAuth", err)
	}
	if _, err := northbound.NewServer(e.o, northbound.WithoutAuth(), northbound.WithTokens(northbound.Tokens{Admin: []string{"x"}})); !errors.Is(err, northbound.ErrInvalid) {
		t.Fatalf("NewServer with tokens and WithoutAuth: %v, want ErrInvalid", err)
	}
	if _, err := northbound.NewServer(nil, northbound.WithoutAuth()); !errors.Is(err, northbound.ErrInvalid) {
		t.Fatalf("NewServer(nil): %v, want ErrInvalid", err)
	}

	// A grpc.Server built without ServerOptions refuses every call.
	srv, err := northbound.NewServer(e.o, northbound.WithTokens(northbound.Tokens{Admin: []string{adminToken}}))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	gs := grpc.NewServer()
	srv.Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	c, err := northbound.Dial(chassistest.Context(t, 5*time.Second), lis.Addr().String(), northbound.WithInsecure(),
		northbound.WithToken(adminToken), northbound.WithTokenOverPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ListBoxes(chassistest.Context(t, 5*time.Second), &nbpb.ListBoxesRequest{})
	wantCode(t, "call on a server without interceptors", err, codes.Unauthenticated)
	_, err = recvErr(c.Events(chassistest.Context(t, 5*time.Second), &nbpb.EventsRequest{Replay: 1}))
	wantCode(t, "stream on a server without interceptors", err, codes.Unauthenticated)
}

func TestDialOptions(t *testing.T) {
	ctx := chassistest.Context(t, 5*time.Second)
	if _, err := northbound.Dial(ctx, "127.0.0.1:1"); !errors.Is(err, northbound.ErrInvalid) {
		t.Fatalf("Dial without TLS or insecure: %v, want ErrInvalid", err)
	}
	if _, err := northbound.Dial(ctx, "127.0.0.1:1", northbound.WithInsecure(), northbound.WithToken("t")); !errors.Is(err, northbound.ErrInsecureToken) {
		t.Fatalf("Dial with a token over plaintext: %v, want ErrInsecureToken", err)
	}
	if _, err := northbound.Dial(ctx, "", northbound.WithInsecure()); !errors.Is(err, northbound.ErrInvalid) {
		t.Fatalf("Dial of an empty address: %v, want ErrInvalid", err)
	}
	c, err := northbound.Dial(ctx, "127.0.0.1:1", northbound.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
}

// TestClose: Close ends the streams (UNAVAILABLE) and refuses new
// operations.
func TestClose(t *testing.T) {
	e := newEnv(t, false)
	api := e.Serve(t, e.o)
	srv, c := api.Server, api.Dial(t, adminToken)
	ctx := chassistest.Context(t, 20*time.Second)
	evs, err := c.Events(ctx, &nbpb.EventsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := c.Log(ctx, &nbpb.LogRequest{Follow: true, Sources: []string{"event"}, Kinds: []string{"committed"}})
	if err != nil {
		t.Fatal(err)
	}
	// A commit of an empty chassis, to know the streams are up.
	op, err := c.Commit(ctx, &nbpb.CommitRequest{Config: []byte("version: 1\n")})
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := chassistest.Watch(t, ctx, c, op.Id); end.State != nbpb.Operation_COMMITTED {
		t.Fatalf("empty commit ended %v", end)
	}
	if ev, err := evs.Recv(); err != nil || ev.Op != op.Id {
		t.Fatalf("event %v, %v; want the commit's", ev, err)
	}
	if r, err := logs.Recv(); err != nil || r.Op != op.Id || r.Kind != "committed" || r.Source != "event" {
		t.Fatalf("log record %v, %v; want the commit's event", r, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = evs.Recv(); err != nil {
			break
		}
	}
	wantCode(t, "events stream at close", err, codes.Unavailable)
	for {
		if _, err = logs.Recv(); err != nil {
			break
		}
	}
	wantCode(t, "log stream at close", err, codes.Unavailable)
	_, err = c.Commit(ctx, &nbpb.CommitRequest{Config: []byte("version: 1\n")})
	wantCode(t, "commit after close", err, codes.Unavailable)
}

// TestListLinks: with discovery, the links of LeafSpine(2,2) (each leaf to
// each spine) are listed with chassis-wide interface names.
func TestListLinks(t *testing.T) {
	e := newEnv(t, true, orchestrator.WithDiscovery())
	ctx := chassistest.Context(t, 60*time.Second)
	c := e.api.Dial(t, adminToken)
	evs, err := c.Events(ctx, &nbpb.EventsRequest{Kinds: []string{"link-discovered"}, Follow: true, Replay: 100})
	if err != nil {
		t.Fatal(err)
	}
	e.RegisterAllAPI(t, c)
	if end := commit(t, ctx, c, chassistest.ConfigYAML(1, 0), ""); end.State != nbpb.Operation_COMMITTED {
		t.Fatalf("commit ended %v", end)
	}
	// Each link is reported from both ends at most; wait for 4 links.
	seen := map[string]bool{}
	for len(seen) < 4 {
		ev, err := evs.Recv()
		if err != nil {
			t.Fatalf("after %d links: %v", len(seen), err)
		}
		a := itoa(ev.Module) + "/" + itoa(ev.Port)
		b := ev.Attrs["peer.module"] + "/" + ev.Attrs["peer.port"]
		if b < a {
			a, b = b, a
		}
		seen[a+"-"+b] = true
	}
	links, err := c.ListLinks(ctx, &nbpb.ListLinksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(links.Links) < 4 {
		t.Fatalf("%d links listed, want 4: %v", len(links.Links), links.Links)
	}
	for _, l := range links.Links {
		for _, ep := range []*nbpb.Endpoint{l.A, l.B} {
			if want := "eth-" + ep.Device + "/0/" + itoa(ep.Port); ep.Interface != want {
				t.Fatalf("endpoint %v: interface %q, want %q", ep, ep.Interface, want)
			}
		}
	}
}

// TestTime: with time sync, Time reports the SNTP server and every box's
// clock estimate.
func TestTime(t *testing.T) {
	e := newEnv(t, true, orchestrator.WithTimeSync(timesync.WithInterval(50*time.Millisecond)))
	ctx := chassistest.Context(t, 60*time.Second)
	c := e.api.Dial(t, readToken)
	admin := e.api.Dial(t, adminToken)
	sw := e.Switches()[0]
	_, err := admin.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: sw.Name(), Driver: "emulated", Address: sw.Addr(),
		Role: "fabric", DeviceId: sw.DeviceID()})
	wantCode(t, "register over TLS without box TLS", err, codes.FailedPrecondition)
	_, err = admin.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: sw.Name(), Driver: "no-such-driver", Address: sw.Addr(),
		Role: "fabric", DeviceId: sw.DeviceID(), Insecure: true})
	wantCode(t, "register with an unknown driver", err, codes.InvalidArgument)
	_, err = admin.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: sw.Name(), Driver: "emulated", Address: sw.Addr(),
		Role: "king", DeviceId: sw.DeviceID(), Insecure: true})
	wantCode(t, "register with an unknown role", err, codes.InvalidArgument)
	boxes := e.RegisterAllAPI(t, admin)
	for _, b := range boxes {
		if _, err := e.o.TimeSync().Wait(ctx, b.Serial, timesync.Estimate.Valid); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := c.Time(ctx, &nbpb.TimeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.NtpServer == "" || tr.Now == nil || len(tr.Boxes) != 4 {
		t.Fatalf("time: %v", tr)
	}
	if want, _ := e.o.TimeSync().Threshold(); tr.GetThreshold().AsDuration() != want || want == 0 {
		t.Errorf("threshold %v, want %v", tr.GetThreshold().AsDuration(), want)
	}
	modules := map[uint32]bool{}
	for _, b := range tr.Boxes {
		if b.Samples < 1 || b.Updated == nil || b.ErrorBound == nil || b.Module == 0 {
			t.Fatalf("estimate %v", b)
		}
		modules[b.Module] = true
	}
	if len(modules) != 4 {
		t.Fatalf("estimates of modules %v, want 1..4", modules)
	}
}
