package p4rt_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/p4/roleconfig"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fakeStream is an in-process StreamChannel server stream.
type fakeStream struct {
	ctx  context.Context
	in   chan *p4v1.StreamMessageRequest
	mu   sync.Mutex
	out  []*p4v1.StreamMessageResponse
	sent chan struct{} // capacity 1: something was sent
}

func newFakeStream(ctx context.Context) *fakeStream {
	return &fakeStream{ctx: ctx, in: make(chan *p4v1.StreamMessageRequest, 16), sent: make(chan struct{}, 1)}
}

func (f *fakeStream) Context() context.Context { return f.ctx }
func (f *fakeStream) Send(m *p4v1.StreamMessageResponse) error {
	// Marshal as gRPC would, to catch messages that cannot be sent.
	if _, err := proto.Marshal(m); err != nil {
		return err
	}
	f.mu.Lock()
	f.out = append(f.out, m)
	f.mu.Unlock()
	select {
	case f.sent <- struct{}{}:
	default:
	}
	return nil
}
func (f *fakeStream) Recv() (*p4v1.StreamMessageRequest, error) {
	select {
	case m, ok := <-f.in:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-f.ctx.Done():
		return nil, f.ctx.Err()
	}
}
func (f *fakeStream) SetHeader(metadata.MD) error  { return nil }
func (f *fakeStream) SendHeader(metadata.MD) error { return nil }
func (f *fakeStream) SetTrailer(metadata.MD)       {}
func (f *fakeStream) SendMsg(any) error            { return nil }
func (f *fakeStream) RecvMsg(any) error            { return nil }

func (f *fakeStream) messages() []*p4v1.StreamMessageResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*p4v1.StreamMessageResponse(nil), f.out...)
}

// waitFor waits until a sent message satisfies ok, or done closes.
func (f *fakeStream) waitFor(t *testing.T, done <-chan struct{}, ok func(*p4v1.StreamMessageResponse) bool) bool {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		for _, m := range f.messages() {
			if ok(m) {
				return true
			}
		}
		select {
		case <-f.sent:
		case <-done:
			return false
		case <-deadline:
			t.Fatal("no answer from the stream handler in time")
		}
	}
}

// fuzzSwitch is a server with the basic pipeline committed and a default
// role primary (election ID 10) on an in-process stream.
type fuzzSwitch struct {
	srv     *p4rt.Server
	primary *fakeStream
	done    chan struct{}
}

func newFuzzSwitch(t *testing.T) *fuzzSwitch {
	t.Helper()
	srv := p4rt.New(deviceID, p4rt.WithPanicRecovery(false), p4rt.WithPacketOut(func(*p4v1.PacketOut) error { return nil }))
	ctx, cancel := context.WithCancel(context.Background())
	p := newFakeStream(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.StreamChannel(p)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	p.in <- &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: deviceID, ElectionId: eid(10)}}}
	if !p.waitFor(t, done, func(m *p4v1.StreamMessageResponse) bool { return m.GetArbitration() != nil }) {
		t.Fatal("primary stream ended")
	}
	_, err := srv.SetForwardingPipelineConfig(context.Background(), &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: deviceID, ElectionId: eid(10), Action: verifyAndCommit,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: basicP4Info(t), Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzSwitch{srv: srv, primary: p, done: done}
}

// checkStatus fails on errors that are not gRPC statuses or that report an
// internal error.
func checkStatus(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%s: error is not a gRPC status: %v", what, err)
	}
	if st.Code() == codes.Internal || st.Code() == codes.OK {
		t.Fatalf("%s: %v", what, err)
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func streamSeeds(t testing.TB) [][2][]byte {
	arb := func(role string, id *p4v1.Uint128, cfg proto.Message) []byte {
		u := &p4v1.MasterArbitrationUpdate{DeviceId: deviceID, ElectionId: id}
		if role != "" || cfg != nil {
			u.Role = &p4v1.Role{Name: role}
			if cfg != nil {
				u.Role.Config, _ = anypb.New(cfg)
			}
		}
		return marshal(t, &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: u}})
	}
	po := marshal(t, packetOut("payload", 1))
	ack := marshal(t, &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: &p4v1.DigestListAck{DigestId: 1, ListId: 1}}})
	other, _ := anypb.New(&p4v1.Uint128{Low: 1})
	oth := marshal(t, &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Other{Other: other}})
	rc := &roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0ID}, ReceivesPacketIns: true,
		PacketInFilter: &roleconfig.P4RoleConfig_PacketFilter{MetadataId: 1, Value: []byte{1}}}
	return [][2][]byte{
		{arb("", eid(11), nil), po},
		{arb("", eid(3), nil), po},
		{arb("", nil, nil), ack},
		{arb("r1", eid(1), rc), po},
		{arb("r1", eid(1), rc), arb("r1", eid(2), rc)},
		{arb("", eid(11), nil), arb("", eid(12), nil)},
		{arb("", eid(11), nil), arb("x", eid(12), nil)},
		{po, ack},
		{oth, nil},
		{nil, nil},
	}
}

// FuzzStreamChannel feeds two arbitrary StreamMessageRequests on a new
// stream of a switch that has a pipeline and a primary, then emits
// packet-ins, digests and idle-timeout notifications. The handler must not
// panic, must end the stream only with a proper status, and must keep
// answering.
func FuzzStreamChannel(f *testing.F) {
	for _, s := range streamSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sw := newFuzzSwitch(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fs := newFakeStream(ctx)
		done := make(chan struct{})
		var endErr error
		go func() {
			defer close(done)
			endErr = sw.srv.StreamChannel(fs)
		}()
		for _, data := range [][]byte{a, b} {
			m := &p4v1.StreamMessageRequest{}
			if err := proto.Unmarshal(data, m); err != nil {
				continue
			}
			fs.in <- m
		}
		fs.in <- &p4v1.StreamMessageRequest{} // barrier
		answered := fs.waitFor(t, done, func(m *p4v1.StreamMessageResponse) bool {
			return strings.Contains(m.GetError().GetMessage(), "empty StreamMessageRequest")
		})
		sw.srv.SendPacketIn(&p4v1.PacketIn{Payload: a, Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{1}}}})
		sw.srv.SendDigest(&p4v1.DigestList{DigestId: 1, Data: []*p4v1.P4Data{{Data: &p4v1.P4Data_Bitstring{Bitstring: b}}}})
		sw.srv.SendIdleTimeout(&p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{{TableId: table0ID}}})
		_ = sw.srv.Stats()
		close(fs.in)
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Fatal("stream handler did not end after the client closed")
		}
		if !answered {
			// Only an arbitration error may end the stream early.
			checkStatus(t, "stream end", endErr)
		} else if endErr != nil {
			t.Fatalf("stream ended with %v after the client closed", endErr)
		}
		for _, m := range fs.messages() {
			if e := m.GetError(); e != nil && e.GetDetails() == nil {
				t.Fatalf("StreamError without details: %v", e)
			}
			if u := m.GetArbitration(); u != nil && u.GetStatus() == nil {
				t.Fatalf("arbitration notification without status: %v", u)
			}
		}
	})
}

func pipelineSeeds(t testing.TB) [][]byte {
	cfg := &p4v1.ForwardingPipelineConfig{P4Info: basicP4Info(t), P4DeviceConfig: []byte("x"), Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 7}}
	small := &p4configv1.P4Info{
		Tables: []*p4configv1.Table{{
			Preamble:    &p4configv1.Preamble{Id: 33554433, Name: "t"},
			MatchFields: []*p4configv1.MatchField{{Id: 1, Name: "f", Bitwidth: 8, Match: &p4configv1.MatchField_MatchType_{MatchType: p4configv1.MatchField_EXACT}}},
			ActionRefs:  []*p4configv1.ActionRef{{Id: 16777217}},
		}},
		Actions: []*p4configv1.Action{{Preamble: &p4configv1.Preamble{Id: 16777217, Name: "a"}, Params: []*p4configv1.Action_Param{{Id: 1, Name: "p", Bitwidth: 9}}}},
		ControllerPacketMetadata: []*p4configv1.ControllerPacketMetadata{{
			Preamble: &p4configv1.Preamble{Id: 67108865, Name: "packet_out"},
			Metadata: []*p4configv1.ControllerPacketMetadata_Metadata{{Id: 1, Name: "port", Bitwidth: 9}},
		}},
	}
	out := [][]byte{
		marshal(t, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: deviceID, ElectionId: eid(10), Action: verifyAndCommit, Config: &p4v1.ForwardingPipelineConfig{P4Info: small}}),
		marshal(t, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: deviceID, ElectionId: eid(10), Action: reconcileAndCommit, Config: &p4v1.ForwardingPipelineConfig{P4Info: small}}),
		marshal(t, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: deviceID, ElectionId: eid(10), Action: verifyAndSave, Config: &p4v1.ForwardingPipelineConfig{P4Info: small}}),
		marshal(t, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: deviceID, Role: "r", ElectionId: eid(10), Action: verify}),
	}
	for _, act := range []action{verify, verifyAndSave, verifyAndCommit, commit, reconcileAndCommit, 0} {
		r := &p4v1.SetForwardingPipelineConfigRequest{DeviceId: deviceID, ElectionId: eid(10), Action: act, Config: cfg}
		if act == commit {
			r.Config = nil
		}
		out = append(out, marshal(t, r))
	}
	return out
}

// FuzzSetPipeline feeds an arbitrary SetForwardingPipelineConfigRequest,
// as sent and with device, role and election ID fixed up to the primary's
// so that it reaches the config checks, then reads the config back.
func FuzzSetPipeline(f *testing.F) {
	for _, s := range pipelineSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &p4v1.SetForwardingPipelineConfigRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return
		}
		sw := newFuzzSwitch(t)
		ctx := context.Background()
		_, err := sw.srv.SetForwardingPipelineConfig(ctx, req)
		checkStatus(t, "set as sent", err)
		fixed := proto.Clone(req).(*p4v1.SetForwardingPipelineConfigRequest)
		fixed.DeviceId, fixed.Role, fixed.ElectionId = deviceID, "", eid(10)
		_, err = sw.srv.SetForwardingPipelineConfig(ctx, fixed)
		checkStatus(t, "set fixed up", err)
		if err == nil && sw.srv.Schema() == nil {
			t.Fatal("no committed schema after a successful set")
		}
		for rt := range 4 {
			_, err := sw.srv.GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{
				DeviceId: deviceID, ResponseType: p4v1.GetForwardingPipelineConfigRequest_ResponseType(rt),
			})
			checkStatus(t, "get", err)
		}
		// The switch still works.
		if _, err := sw.srv.Write(ctx, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: eid(10)}); err != nil {
			checkStatus(t, "write after set", err)
		}
	})
}

// fakeRead is an in-process Read server stream.
type fakeRead struct {
	ctx context.Context
	n   int
}

func (f *fakeRead) Context() context.Context { return f.ctx }
func (f *fakeRead) Send(m *p4v1.ReadResponse) error {
	if _, err := proto.Marshal(m); err != nil {
		return err
	}
	f.n += len(m.GetEntities())
	return nil
}
func (f *fakeRead) SetHeader(metadata.MD) error  { return nil }
func (f *fakeRead) SendHeader(metadata.MD) error { return nil }
func (f *fakeRead) SetTrailer(metadata.MD)       {}
func (f *fakeRead) SendMsg(any) error            { return nil }
func (f *fakeRead) RecvMsg(any) error            { return nil }

func writeSeeds(t testing.TB) [][]byte {
	w := func(updates ...*p4v1.Update) []byte {
		return marshal(t, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: eid(10), Updates: updates})
	}
	del := &p4v1.Update{Type: p4v1.Update_DELETE, Entity: table0Entry(0x800)}
	mod := &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: hostMeterEntry(1)}
	return [][]byte{
		w(insert(table0Entry(0x800))),
		w(insert(table0Entry(0x800)), insert(hostMeterEntry(1)), del),
		w(mod),
		marshal(t, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: eid(10), Atomicity: p4v1.WriteRequest_ROLLBACK_ON_ERROR, Updates: []*p4v1.Update{insert(table0Entry(1))}}),
		w(&p4v1.Update{Type: p4v1.Update_INSERT, Entity: &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{CounterId: 302004684}}}}),
	}
}

// FuzzWrite feeds an arbitrary WriteRequest, as sent and fixed up to come
// from the primary, then reads everything back. Per-update errors must come
// one per update.
func FuzzWrite(f *testing.F) {
	for _, s := range writeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &p4v1.WriteRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return
		}
		sw := newFuzzSwitch(t)
		ctx := context.Background()
		_, err := sw.srv.Write(ctx, req)
		checkStatus(t, "write as sent", err)
		fixed := proto.Clone(req).(*p4v1.WriteRequest)
		fixed.DeviceId, fixed.Role, fixed.ElectionId = deviceID, "", eid(10)
		_, err = sw.srv.Write(ctx, fixed)
		checkStatus(t, "write fixed up", err)
		if status.Code(err) == codes.Unknown {
			if n := len(status.Convert(err).Details()); n != len(fixed.GetUpdates()) {
				t.Fatalf("%d error details for %d updates: %v", n, len(fixed.GetUpdates()), err)
			}
		}
		err = sw.srv.Read(&p4v1.ReadRequest{DeviceId: deviceID, Entities: []*p4v1.Entity{
			{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}},
		}}, &fakeRead{ctx: ctx})
		checkStatus(t, "read back", err)
	})
}

func readSeeds(t testing.TB) [][]byte {
	r := func(es ...*p4v1.Entity) []byte {
		return marshal(t, &p4v1.ReadRequest{DeviceId: deviceID, Entities: es})
	}
	return [][]byte{
		r(&p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}}),
		r(&p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: table0ID}}}),
		r(table0Entry(0x800)),
		r(&p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{CounterId: 302004684}}}),
		r(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{}}}),
		r(),
	}
}

// FuzzRead feeds an arbitrary ReadRequest to a switch holding a few
// entries.
func FuzzRead(f *testing.F) {
	for _, s := range readSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &p4v1.ReadRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return
		}
		sw := newFuzzSwitch(t)
		ctx := context.Background()
		if _, err := sw.srv.Write(ctx, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: eid(10), Updates: []*p4v1.Update{
			insert(table0Entry(0x800)), insert(hostMeterEntry(1)),
		}}); err != nil {
			t.Fatal(err)
		}
		checkStatus(t, "read as sent", sw.srv.Read(req, &fakeRead{ctx: ctx}))
		fixed := proto.Clone(req).(*p4v1.ReadRequest)
		fixed.DeviceId, fixed.Role = deviceID, ""
		checkStatus(t, "read fixed up", sw.srv.Read(fixed, &fakeRead{ctx: ctx}))
	})
}

// TestWriteFuzzSeeds regenerates the committed seed corpora in
// testdata/fuzz/<FuzzName>/ from the valid requests above. It runs only
// with P4RT_WRITE_FUZZ_SEEDS=1:
//
//	P4RT_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./testbed/p4rt/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("P4RT_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set P4RT_WRITE_FUZZ_SEEDS=1 to regenerate the seed corpora")
	}
	write := func(fuzz string, i int, args ...[]byte) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			b.WriteString("[]byte(" + strconv.Quote(string(a)) + ")\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range streamSeeds(t) {
		write("FuzzStreamChannel", i, s[0], s[1])
	}
	for i, s := range pipelineSeeds(t) {
		write("FuzzSetPipeline", i, s)
	}
	for i, s := range writeSeeds(t) {
		write("FuzzWrite", i, s)
	}
	for i, s := range readSeeds(t) {
		write("FuzzRead", i, s)
	}
}
