package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// nextEvent waits for a mastership event matching cond, skipping others.
func nextEvent(t *testing.T, c *Client, what string, cond func(MastershipEvent) bool) MastershipEvent {
	t.Helper()
	timer := time.NewTimer(testTimeout)
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
			t.Fatalf("timed out waiting for %s (status %+v)", what, c.Status())
		}
	}
}

func TestLoopbackPrimaryBackupAndTakeOver(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	a := dialFake(t, addr, WithElectionID(ElectionID{0, 10}))
	if !a.IsPrimary() {
		t.Fatalf("a: %+v", a.Status())
	}
	b := dialFake(t, addr, WithElectionID(ElectionID{0, 5}))
	st := b.Status()
	if st.State != Backup || !st.PrimaryPresent || st.PrimaryElectionID != (ElectionID{0, 10}) || st.Code != codes.AlreadyExists {
		t.Fatalf("b: %+v", st)
	}
	ctx := ctxT(t)
	err := b.Write(ctx, mkUpdates(3, 1))
	var we *WriteError
	if !errors.Is(err, ErrNotPrimary) || !errors.As(err, &we) || len(we.Updates) != 3 {
		t.Fatalf("backup write: %v", err)
	}
	if err := a.Write(ctx, mkUpdates(3, 1)); err != nil {
		t.Fatalf("primary write: %v", err)
	}

	// b takes over while a is alive: a is told it is a backup now.
	if err := b.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.State != Primary || st.ElectionID != (ElectionID{0, 11}) {
		t.Fatalf("b after take over: %+v", st)
	}
	ev := nextEvent(t, a, "a demoted", func(e MastershipEvent) bool { return e.State == Backup })
	if ev.PrimaryElectionID != (ElectionID{0, 11}) || !ev.PrimaryPresent {
		t.Fatalf("a's event %+v", ev)
	}
	if err := a.Write(ctx, mkUpdates(1, 1)); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("demoted write: %v", err)
	}
	if err := b.Write(ctx, mkUpdates(1, 1)); err != nil {
		t.Fatalf("new primary write: %v", err)
	}
	// Already primary: no-op.
	if err := b.TakeOver(ctx); err != nil || b.Status().ElectionID != (ElectionID{0, 11}) {
		t.Fatalf("second take over: %v %+v", err, b.Status())
	}

	// The primary goes away: the backup hears there is no primary, and
	// takes over again.
	b.Close()
	ev = nextEvent(t, a, "no primary", func(e MastershipEvent) bool { return !e.PrimaryPresent })
	if ev.State != Backup || ev.Code != codes.NotFound || ev.PrimaryElectionID != (ElectionID{0, 11}) {
		t.Fatalf("a's event %+v", ev)
	}
	if err := a.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitPrimary(ctx); err != nil || a.Status().ElectionID != (ElectionID{0, 12}) {
		t.Fatalf("a: %v %+v", err, a.Status())
	}
}

func TestLoopbackWriteErrorsAcrossBatches(t *testing.T) {
	f := newFakeServer(1)
	// Updates whose table ID is a multiple of 4 fail with ALREADY_EXISTS.
	f.writeFn = func(req *p4v1.WriteRequest) error {
		var details []*anypb.Any
		failed := false
		for _, u := range req.GetUpdates() {
			if tableID(u)%4 == 0 {
				failed = true
				details = append(details, p4Err(codes.AlreadyExists, "exists", "fake", 6))
			} else {
				details = append(details, p4Err(codes.OK, "", "", 0))
			}
		}
		if !failed {
			return nil
		}
		return statusErr(codes.Unknown, "write failure", details...)
	}
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	ups := mkUpdates(25, 1)
	err := c.Write(ctxT(t), ups, WithBatchSize(10))
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v", err)
	}
	if we.Err != nil || we.Total != 25 || errors.Is(err, ErrNotPrimary) {
		t.Fatalf("write error %+v", we)
	}
	var idx []int
	for _, u := range we.Updates {
		idx = append(idx, u.Index)
		if u.Update != ups[u.Index] || u.Code != codes.AlreadyExists || u.Space != "fake" || u.SpaceCode != 6 || u.NotSent {
			t.Errorf("entry %+v", u)
		}
	}
	if want := []int{3, 7, 11, 15, 19, 23}; !equalInts(idx, want) {
		t.Fatalf("failed indexes %v, want %v", idx, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.writes) != 3 || len(f.writes[0].Updates) != 10 || len(f.writes[2].Updates) != 5 {
		t.Fatalf("server saw %d requests", len(f.writes))
	}
	for _, w := range f.writes {
		if w.GetElectionId().GetLow() != 1 || w.GetDeviceId() != 1 || w.GetRole() != "" {
			t.Errorf("request header %v", w)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoopbackWriteOrdered(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	if err := c.Write(ctxT(t), mkUpdates(50, 1), WithBatchSize(7)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxWrite != 1 {
		t.Errorf("%d writes in flight in ordered mode", f.maxWrite)
	}
	want := uint32(1)
	for _, w := range f.writes {
		for _, u := range w.Updates {
			if tableID(u) != want {
				t.Fatalf("update %d arrived where %d was due", tableID(u), want)
			}
			want++
		}
	}
	if want != 51 {
		t.Fatalf("server saw %d updates", want-1)
	}
}

func TestLoopbackWriteInFlight(t *testing.T) {
	f := newFakeServer(1)
	const n = 3
	var mu sync.Mutex
	arrived := 0
	release := make(chan struct{})
	f.writeFn = func(*p4v1.WriteRequest) error {
		mu.Lock()
		arrived++
		if arrived == n {
			close(release)
		}
		mu.Unlock()
		select { // the first n batches wait for each other
		case <-release:
		case <-time.After(testTimeout):
			return status.Error(codes.DeadlineExceeded, "batches did not overlap")
		}
		return nil
	}
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	if err := c.Write(ctxT(t), mkUpdates(40, 1), WithBatchSize(4), WithInFlight(n)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxWrite != n {
		t.Fatalf("max in flight %d, want %d", f.maxWrite, n)
	}
	if len(f.writes) != 10 {
		t.Fatalf("%d requests", len(f.writes))
	}
}

func TestLoopbackWriteStopsAfterBatchFailure(t *testing.T) {
	f := newFakeServer(1)
	f.writeFn = func(req *p4v1.WriteRequest) error {
		if tableID(req.Updates[0]) == 6 {
			return status.Error(codes.Unavailable, "busy")
		}
		return nil
	}
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	err := c.Write(ctxT(t), mkUpdates(12, 1), WithBatchSize(5))
	var we *WriteError
	if !errors.As(err, &we) || status.Code(we.Err) != codes.Unavailable || errors.Is(err, ErrNotPrimary) {
		t.Fatalf("err = %v", err)
	}
	if len(we.Updates) != 7 {
		t.Fatalf("%d entries", len(we.Updates))
	}
	for _, u := range we.Updates {
		switch {
		case u.Index >= 5 && u.Index < 10:
			if u.Code != codes.Unavailable || u.NotSent {
				t.Errorf("entry %+v", u)
			}
		case u.Index >= 10:
			if !u.NotSent {
				t.Errorf("entry %+v", u)
			}
		default:
			t.Errorf("update %d reported failed", u.Index)
		}
	}
}

func TestLoopbackWriteContextCancelled(t *testing.T) {
	f := newFakeServer(1)
	started := make(chan struct{}, 16)
	f.writeFn = func(*p4v1.WriteRequest) error {
		started <- struct{}{}
		<-time.After(testTimeout)
		return nil
	}
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	ctx, cancel := context.WithCancel(ctxT(t))
	go func() {
		<-started
		cancel()
	}()
	err := c.Write(ctx, mkUpdates(10, 1), WithBatchSize(5))
	var we *WriteError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &we) || len(we.Updates) != 10 {
		t.Fatalf("err = %v", err)
	}
	if we.Updates[0].Code != codes.Canceled || we.Updates[0].NotSent || !we.Updates[9].NotSent {
		t.Fatalf("entries %+v %+v", we.Updates[0], we.Updates[9])
	}
}

func TestLoopbackRead(t *testing.T) {
	f := newFakeServer(1)
	cancelled := make(chan struct{})
	f.readFn = func(req *p4v1.ReadRequest, st p4v1.P4Runtime_ReadServer) error {
		switch req.GetEntities()[0].GetTableEntry().GetTableId() {
		case 1: // three responses of two entities
			for i := range 3 {
				resp := &p4v1.ReadResponse{}
				for j := range 2 {
					resp.Entities = append(resp.Entities, mkUpdates(i*2+j+1, 1)[i*2+j].Entity)
				}
				if err := st.Send(resp); err != nil {
					return err
				}
			}
			return nil
		case 2: // endless, until the client stops
			for {
				if err := st.Send(&p4v1.ReadResponse{Entities: []*p4v1.Entity{mkUpdates(1, 1)[0].Entity}}); err != nil {
					break
				}
				select {
				case <-st.Context().Done():
				default:
					continue
				}
				break
			}
			<-st.Context().Done()
			close(cancelled)
			return st.Context().Err()
		default: // per-request errors: the second request fails
			return statusErr(codes.Unknown, "read failure", p4Err(codes.OK, "", "", 0), p4Err(codes.NotFound, "no such table", "", 0))
		}
	}
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	ctx := ctxT(t)
	entity := func(id uint32) *p4v1.Entity { return mkUpdates(int(id), 1)[id-1].Entity }

	all, err := c.ReadAll(ctx, entity(1))
	if err != nil || len(all) != 6 {
		t.Fatalf("ReadAll = %d entities, %v", len(all), err)
	}
	for i, e := range all {
		if e.GetTableEntry().GetTableId() != uint32(i+1) {
			t.Fatalf("entity %d is %v", i, e)
		}
	}

	n := 0
	for _, err := range c.Read(ctx, entity(2)) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	select {
	case <-cancelled:
	case <-ctx.Done():
		t.Fatal("stopping the loop did not cancel the Read RPC")
	}

	_, err = c.ReadAll(ctx, entity(3), entity(3))
	var re *ReadError
	if !errors.As(err, &re) || len(re.Entities) != 1 || re.Entities[0].Index != 1 || re.Entities[0].Code != codes.NotFound {
		t.Fatalf("read error %v", err)
	}
}

func TestLoopbackPipeline(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	ctx := ctxT(t)
	info := loadSchema(t).P4Info()

	if _, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_ALL); !errors.Is(err, ErrNoPipeline) {
		t.Fatalf("GetPipeline before any: %v", err)
	}
	if err := c.SetPipeline(ctx, info, []byte("cfg"), p4v1.SetForwardingPipelineConfigRequest_VERIFY); err != nil || c.Schema() != nil {
		t.Fatalf("VERIFY: %v, schema %v", err, c.Schema())
	}
	if err := c.SetPipeline(ctx, info, []byte("cfg"), p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, 42); err != nil {
		t.Fatal(err)
	}
	if c.Schema() == nil || c.Schema().P4Info() != info {
		t.Fatal("schema not taken from the committed P4Info")
	}
	for _, bad := range []struct {
		info   bool
		action p4v1.SetForwardingPipelineConfigRequest_Action
		cookie []uint64
	}{
		{true, p4v1.SetForwardingPipelineConfigRequest_COMMIT, nil},
		{false, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE, nil},
		{true, p4v1.SetForwardingPipelineConfigRequest_UNSPECIFIED, nil},
		{true, p4v1.SetForwardingPipelineConfigRequest_Action(99), nil},
		{true, p4v1.SetForwardingPipelineConfigRequest_VERIFY, []uint64{1, 2}},
	} {
		var i = info
		if !bad.info {
			i = nil
		}
		if err := c.SetPipeline(ctx, i, nil, bad.action, bad.cookie...); err == nil {
			t.Errorf("SetPipeline(%v, %s, %v) accepted", bad.info, bad.action, bad.cookie)
		}
	}
	if err := c.SetPipeline(ctx, info, []byte("cfg2"), p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE, 43); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPipeline(ctx, nil, nil, p4v1.SetForwardingPipelineConfigRequest_COMMIT); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPipeline(ctx, info, []byte("cfg3"), p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT, 44); err != nil {
		t.Fatal(err)
	}

	want := map[p4v1.GetForwardingPipelineConfigRequest_ResponseType][2]bool{ // p4info, device config
		p4v1.GetForwardingPipelineConfigRequest_ALL:                      {true, true},
		p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY:              {false, false},
		p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE:        {true, false},
		p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE: {false, true},
	}
	for rt, w := range want {
		cfg, err := c.GetPipeline(ctx, rt)
		if err != nil {
			t.Fatalf("%s: %v", rt, err)
		}
		if cfg.GetCookie().GetCookie() != 44 || (cfg.GetP4Info() != nil) != w[0] || (cfg.GetP4DeviceConfig() != nil) != w[1] {
			t.Errorf("%s: %v", rt, cfg)
		}
	}
	if _, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_ResponseType(9)); err == nil {
		t.Error("invalid response type accepted")
	}

	// A fresh client learns the schema from GetPipeline.
	b := dialFake(t, addr, WithElectionID(ElectionID{0, 0}))
	if _, err := b.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE); err != nil || b.Schema() == nil {
		t.Fatalf("GetPipeline: %v, schema %v", err, b.Schema())
	}
	if err := b.SetPipeline(ctx, info, nil, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("backup SetPipeline: %v", err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil || caps.GetP4RuntimeApiVersion() != "1.5.0" {
		t.Fatalf("Capabilities = %v, %v", caps, err)
	}
}

func TestLoopbackPacketIOAndDigests(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr, WithSchema(loadSchema(t)))
	ctx := ctxT(t)
	if err := c.PacketOut(ctx, []byte("frame"), map[string][]byte{"egress_port": {0, 7}}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-f.packetOuts:
		want := &p4v1.PacketOut{Payload: []byte("frame"), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{7}}, {MetadataId: 2, Value: []byte{0}}}}
		if !proto.Equal(p, want) {
			t.Fatalf("server got %v", p)
		}
	case <-ctx.Done():
		t.Fatal("packet-out not received")
	}
	f.toPrimary(packetInMsg(9))
	f.toPrimary(digestMsg(5, 77))
	select {
	case p := <-c.PacketIn():
		if port, _ := p.Uint("ingress_port"); port != 9 {
			t.Fatalf("packet-in %+v", p)
		}
	case <-ctx.Done():
		t.Fatal("no packet-in")
	}
	select {
	case d := <-c.Digests():
		if d.ListID != 77 {
			t.Fatalf("digest %+v", d)
		}
	case <-ctx.Done():
		t.Fatal("no digest")
	}
	select {
	case a := <-f.acks:
		if a.GetDigestId() != 5 || a.GetListId() != 77 {
			t.Fatalf("ack %v", a)
		}
	case <-ctx.Done():
		t.Fatal("digest not acknowledged")
	}
	if st := c.Stats(); st.PacketOutSent != 1 || st.PacketInReceived != 1 || st.DigestAcked != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoopbackSlowPacketReader(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr, WithPacketBuffer(8))
	for i := range 200 {
		f.toPrimary(packetInMsg(uint64(i)))
	}
	// The stream is ordered: once this notification arrives, every
	// packet-in before it has been dispatched.
	f.toPrimary(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_IdleTimeoutNotification{
		IdleTimeoutNotification: &p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{{TableId: 1}}}}})
	ctx := ctxT(t)
	select {
	case <-c.IdleTimeouts():
	case <-ctx.Done():
		t.Fatal("notification stuck behind unread packet-ins")
	}
	// Arbitration still flows while the packet-in buffer is full.
	b := dialFake(t, addr, WithElectionID(ElectionID{0, 2}))
	if !b.IsPrimary() {
		t.Fatal("b not primary")
	}
	nextEvent(t, c, "demotion", func(e MastershipEvent) bool { return e.State == Backup })
	if st := c.Stats(); st.PacketInReceived != 200 || st.PacketInDropped != 192 {
		t.Fatalf("stats %+v", st)
	}
	if len(c.PacketIn()) != 8 {
		t.Fatalf("%d packets buffered", len(c.PacketIn()))
	}
}

func TestLoopbackReconnect(t *testing.T) {
	f := newFakeServer(1)
	addr, stop := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	if !c.IsPrimary() {
		t.Fatal("not primary")
	}
	stop()
	ev := nextEvent(t, c, "disconnect", func(e MastershipEvent) bool { return e.State == Disconnected })
	if ev.Previous != Primary || ev.Err == nil {
		t.Fatalf("event %+v", ev)
	}
	ctx := ctxT(t)
	if err := c.Write(ctx, mkUpdates(1, 1)); err == nil {
		t.Fatal("write succeeded with the server down")
	}
	// A new server (a full restart: no memory of election IDs) on the same
	// address.
	f2 := newFakeServer(1)
	f2.serve(t, addr)
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.StreamsOpened != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := c.Write(ctx, mkUpdates(1, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestDialFailsFastOnRefusedArbitration(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	start := time.Now()
	_, err := Dial(ctxT(t), addr, WithInsecure(), WithDeviceID(99))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Dial for an unknown device: %v", err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Fatalf("Dial took %v", d)
	}
	// An election ID already used by a live controller is refused too.
	dialFake(t, addr, WithElectionID(ElectionID{0, 3}))
	_, err = Dial(ctxT(t), addr, WithInsecure(), WithDeviceID(1), WithElectionID(ElectionID{0, 3}))
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Dial with a duplicate election ID: %v", err)
	}
}

func TestDialTimesOutWithoutServer(t *testing.T) {
	f := newFakeServer(1)
	addr, stop := f.serve(t, "127.0.0.1:0")
	stop() // nothing listens on addr any more
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, addr, WithInsecure(), WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	f := newFakeServer(1)
	addr, _ := f.serve(t, "127.0.0.1:0")
	c := dialFake(t, addr)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c.Close() // idempotent
	ev := nextEvent(t, c, "final event", func(MastershipEvent) bool { return true })
	if ev.State != Disconnected || !errors.Is(ev.Err, ErrClosed) {
		t.Fatalf("final event %+v", ev)
	}
	for name, ch := range map[string]func() bool{
		"mastership": func() bool { _, ok := <-c.Mastership(); return ok },
		"packet-in":  func() bool { _, ok := <-c.PacketIn(); return ok },
		"digests":    func() bool { _, ok := <-c.Digests(); return ok },
		"idle":       func() bool { _, ok := <-c.IdleTimeouts(); return ok },
		"errors":     func() bool { _, ok := <-c.StreamErrors(); return ok },
		"other":      func() bool { _, ok := <-c.Other(); return ok },
	} {
		if ch() {
			t.Errorf("%s channel still open", name)
		}
	}
	ctx := ctxT(t)
	if err := c.Write(ctx, mkUpdates(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := c.WaitPrimary(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitPrimary after Close: %v", err)
	}
	if _, err := c.ReadAll(ctx, mkUpdates(1, 1)[0].Entity); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := c.SendPacketOut(ctx, &p4v1.PacketOut{}); !errors.Is(err, ErrClosed) {
		t.Errorf("SendPacketOut after Close: %v", err)
	}
}
