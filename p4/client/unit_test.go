package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

func loadSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New(p4infos.MustInfo("onos-basic"))
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return s
}

// offlineClient is a client without connection or stream loop, with a session
// whose sends succeed, to drive the dispatcher directly.
func offlineClient(t testing.TB, opts ...Option) (*Client, *session) {
	t.Helper()
	cfg := buildConfig(append([]Option{WithDeviceID(1)}, opts...))
	if cfg.err != nil {
		t.Fatal(cfg.err)
	}
	c := newClient(nil, cfg)
	t.Cleanup(func() { c.Close() })
	s := newSession(c.ctx, func(*p4v1.StreamMessageRequest) error { return nil })
	return c, s
}

func arbMsg(device uint64, code codes.Code, id *ElectionID) *p4v1.StreamMessageResponse {
	a := &p4v1.MasterArbitrationUpdate{DeviceId: device, Status: &rpcstatus.Status{Code: int32(code), Message: code.String()}}
	if id != nil {
		a.ElectionId = id.Proto()
	}
	return &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{Arbitration: a}}
}

// mkUpdates returns n INSERTs of table entries with TableId i+1 and a match
// value of size bytes.
func mkUpdates(n, size int) []*p4v1.Update {
	out := make([]*p4v1.Update, n)
	for i := range out {
		out[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
			TableId: uint32(i + 1),
			Match:   []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: make([]byte, size)}}}},
		}}}}
	}
	return out
}

func tableID(u *p4v1.Update) uint32 { return u.GetEntity().GetTableEntry().GetTableId() }

func TestElectionIDOrdering(t *testing.T) {
	max := ^uint64(0)
	cases := []struct {
		a, b ElectionID
		less bool
	}{
		{ElectionID{0, 1}, ElectionID{0, 2}, true},
		{ElectionID{0, 2}, ElectionID{0, 1}, false},
		{ElectionID{0, max}, ElectionID{1, 0}, true},
		{ElectionID{1, 0}, ElectionID{0, max}, false},
		{ElectionID{3, 3}, ElectionID{3, 3}, false},
	}
	for _, tc := range cases {
		if got := tc.a.Less(tc.b); got != tc.less {
			t.Errorf("%v.Less(%v) = %v, want %v", tc.a, tc.b, got, tc.less)
		}
	}
	incs := []struct{ in, out ElectionID }{
		{ElectionID{0, 0}, ElectionID{0, 1}},
		{ElectionID{0, max}, ElectionID{1, 0}},
		{ElectionID{7, max}, ElectionID{8, 0}},
		{ElectionID{max, max}, ElectionID{max, max}}, // saturates
	}
	for _, tc := range incs {
		if got := tc.in.Inc(); got != tc.out {
			t.Errorf("%v.Inc() = %v, want %v", tc.in, got, tc.out)
		}
		if tc.in != tc.out && !tc.in.Less(tc.in.Inc()) {
			t.Errorf("%v is not Less than its Inc", tc.in)
		}
	}
	if s := (ElectionID{1, 0}).String(); s != "18446744073709551616" {
		t.Errorf("String = %s", s)
	}
	if s := (ElectionID{0, 42}).String(); s != "42" {
		t.Errorf("String = %s", s)
	}
	if id, ok := electionIDFromProto(nil); ok || id != (ElectionID{}) {
		t.Errorf("unset election ID decoded as set")
	}
}

func TestSplitByCount(t *testing.T) {
	c, _ := offlineClient(t)
	ups := mkUpdates(10, 4)
	batches, over, err := c.split(ups, writeConfig{batchSize: 3, inFlight: 1})
	if err != nil || len(over) != 0 {
		t.Fatal(err, over)
	}
	var sizes, firsts []int
	for _, b := range batches {
		sizes = append(sizes, len(b.updates))
		firsts = append(firsts, b.first)
	}
	if fmt.Sprint(sizes) != "[3 3 3 1]" || fmt.Sprint(firsts) != "[0 3 6 9]" {
		t.Fatalf("batches sizes %v firsts %v", sizes, firsts)
	}
	checkCover(t, ups, batches, nil)
}

// checkCover checks that batches hold every update except skipped, in order,
// each at its index.
func checkCover(t *testing.T, ups []*p4v1.Update, batches []batch, skipped map[int]bool) {
	t.Helper()
	next := 0
	for _, b := range batches {
		for i, u := range b.updates {
			for skipped[next] {
				next++
			}
			if b.first+i != next || ups[next] != u {
				t.Fatalf("batch at %d holds update %d at position %d, want %d", b.first, tableID(u)-1, b.first+i, next)
			}
			next++
		}
	}
	for skipped[next] {
		next++
	}
	if next != len(ups) {
		t.Fatalf("batches cover %d of %d updates", next, len(ups))
	}
}

func TestSplitByMessageSize(t *testing.T) {
	c, _ := offlineClient(t, WithMaxMessageSize(8192), WithRole("some-role", nil))
	ups := mkUpdates(50, 1000)
	batches, over, err := c.split(ups, writeConfig{batchSize: 1000, inFlight: 1})
	if err != nil || len(over) != 0 {
		t.Fatal(err, over)
	}
	if len(batches) < 7 {
		t.Fatalf("%d batches for 50 KB under an 8 KB limit", len(batches))
	}
	for _, b := range batches {
		req := &p4v1.WriteRequest{DeviceId: 1, Role: "some-role", ElectionId: &p4v1.Uint128{High: ^uint64(0), Low: ^uint64(0)}, Updates: b.updates}
		if n := proto.Size(req); n > 8192 {
			t.Errorf("batch at %d is %d bytes, over the limit", b.first, n)
		}
	}
	checkCover(t, ups, batches, nil)
}

func TestSplitOversizeUpdate(t *testing.T) {
	c, _ := offlineClient(t, WithMaxMessageSize(4096))
	ups := mkUpdates(6, 100)
	ups[3] = mkUpdates(1, 5000)[0]
	batches, over, err := c.split(ups, writeConfig{batchSize: 1000, inFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(over) != 1 || over[0].Index != 3 || !over[0].NotSent || over[0].Code != codes.ResourceExhausted {
		t.Fatalf("oversize = %+v", over)
	}
	checkCover(t, ups, batches, map[int]bool{3: true})
}

func TestSplitAtomicKeepsOneBatch(t *testing.T) {
	c, _ := offlineClient(t, WithMaxMessageSize(8192))
	ups := mkUpdates(5, 10)
	batches, _, err := c.split(ups, writeConfig{batchSize: 2, inFlight: 1, atomicity: p4v1.WriteRequest_ROLLBACK_ON_ERROR})
	if err != nil || len(batches) != 1 || len(batches[0].updates) != 5 {
		t.Fatalf("atomic split = %v, %v", batches, err)
	}
	_, _, err = c.split(mkUpdates(20, 1000), writeConfig{batchSize: 2, inFlight: 1, atomicity: p4v1.WriteRequest_DATAPLANE_ATOMIC})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized atomic batch: err = %v, want ErrTooLarge", err)
	}
}

func p4Err(code codes.Code, msg, space string, vendor int32) *anypb.Any {
	a, err := anypb.New(&p4v1.Error{CanonicalCode: int32(code), Message: msg, Space: space, Code: vendor})
	if err != nil {
		panic(err)
	}
	return a
}

func statusErr(code codes.Code, msg string, details ...*anypb.Any) error {
	return status.ErrorProto(&rpcstatus.Status{Code: int32(code), Message: msg, Details: details})
}

func TestDecodeWriteErrorDetails(t *testing.T) {
	ups := mkUpdates(3, 1)
	b := batch{first: 10, updates: ups}
	// The example of spec "Error Reporting" for the Write RPC.
	err := statusErr(codes.Unknown, "Write failure.",
		p4Err(codes.ResourceExhausted, "Table is full.", "targetX-psa-vendorY", 500),
		p4Err(codes.OK, "", "", 0),
		p4Err(codes.AlreadyExists, "Entity already exists.", "targetX-psa-vendorY", 600))
	entries, whole := decodeWriteError(err, b)
	if whole || len(entries) != 2 {
		t.Fatalf("entries %v whole %v", entries, whole)
	}
	e0, e1 := entries[0], entries[1]
	if e0.Index != 10 || e0.Update != ups[0] || e0.Code != codes.ResourceExhausted || e0.Message != "Table is full." ||
		e0.Space != "targetX-psa-vendorY" || e0.SpaceCode != 500 || e0.NotSent {
		t.Errorf("entry 0 = %+v", e0)
	}
	if e1.Index != 12 || e1.Update != ups[2] || e1.Code != codes.AlreadyExists || e1.SpaceCode != 600 {
		t.Errorf("entry 1 = %+v", e1)
	}
}

func TestDecodeWriteErrorWholeBatch(t *testing.T) {
	ups := mkUpdates(3, 1)
	b := batch{first: 4, updates: ups}
	notAny, _ := anypb.New(durationpb.New(0))
	cases := []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"permission denied", statusErr(codes.PermissionDenied, "not primary"), codes.PermissionDenied, "not primary"},
		{"unavailable", statusErr(codes.Unavailable, "not ready"), codes.Unavailable, "not ready"},
		{"details count mismatch", statusErr(codes.Unknown, "oops", p4Err(codes.Internal, "x", "", 0)), codes.Unknown, "1 error details for 3 updates"},
		{"foreign detail", statusErr(codes.Unknown, "oops", p4Err(codes.Internal, "x", "", 0), notAny, p4Err(codes.OK, "", "", 0)), codes.Unknown, "oops"},
		{"all OK details", statusErr(codes.Unknown, "odd", p4Err(codes.OK, "", "", 0), p4Err(codes.OK, "", "", 0), p4Err(codes.OK, "", "", 0)), codes.Unknown, "odd"},
		{"not a status", errors.New("boom"), codes.Unknown, "boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, whole := decodeWriteError(tc.err, b)
			if !whole || len(entries) != 3 {
				t.Fatalf("whole %v entries %d", whole, len(entries))
			}
			for i, e := range entries {
				if e.Index != 4+i || e.Update != ups[i] || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
					t.Errorf("entry %d = %+v", i, e)
				}
			}
		})
	}
}

func TestWriteErrorMatching(t *testing.T) {
	we := &WriteError{Total: 2, Updates: []*UpdateError{{Index: 1, Code: codes.PermissionDenied, Message: "outside role"}}}
	if errors.Is(we, ErrNotPrimary) {
		t.Error("a per-update PERMISSION_DENIED must not read as ErrNotPrimary")
	}
	we = &WriteError{Total: 2, Err: context.Canceled, notPrimary: true}
	if !errors.Is(we, ErrNotPrimary) || !errors.Is(we, context.Canceled) {
		t.Error("errors.Is misses ErrNotPrimary or the RPC error")
	}
	if !strings.Contains(we.Error(), "0 of 2") {
		t.Errorf("message %q", we.Error())
	}
}

// next reads the pending mastership event, failing if there is none.
func next(t *testing.T, c *Client) MastershipEvent {
	t.Helper()
	select {
	case ev := <-c.Mastership():
		return ev
	default:
		t.Fatal("no mastership event pending")
	}
	return MastershipEvent{}
}

func noEvent(t *testing.T, c *Client) {
	t.Helper()
	select {
	case ev := <-c.Mastership():
		t.Fatalf("unexpected mastership event %+v", ev)
	default:
	}
}

func TestMastershipStateMachine(t *testing.T) {
	c, s := offlineClient(t, WithElectionID(ElectionID{0, 5}))
	if st := c.Status(); st.State != Disconnected || c.IsPrimary() {
		t.Fatalf("initial status %+v", st)
	}

	// A backup while nobody was ever primary: NOT_FOUND, election ID unset.
	c.dispatch(s, arbMsg(1, codes.NotFound, nil))
	ev := next(t, c)
	if ev.State != Backup || ev.Previous != Disconnected || ev.PrimaryPresent || ev.PrimaryElectionIDSet || ev.Code != codes.NotFound {
		t.Fatalf("event %+v", ev)
	}

	// Becomes primary.
	c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 5}))
	ev = next(t, c)
	if ev.State != Primary || ev.Previous != Backup || !ev.PrimaryPresent || ev.PrimaryElectionID != (ElectionID{0, 5}) || !c.IsPrimary() {
		t.Fatalf("event %+v", ev)
	}
	// The same answer again changes nothing: no event.
	c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 5}))
	noEvent(t, c)

	// Another controller outranks it.
	c.dispatch(s, arbMsg(1, codes.AlreadyExists, &ElectionID{0, 9}))
	ev = next(t, c)
	if ev.State != Backup || ev.Previous != Primary || !ev.PrimaryPresent || ev.PrimaryElectionID != (ElectionID{0, 9}) {
		t.Fatalf("event %+v", ev)
	}

	// The primary went away.
	c.dispatch(s, arbMsg(1, codes.NotFound, &ElectionID{0, 9}))
	ev = next(t, c)
	if ev.State != Backup || ev.PrimaryPresent || !ev.PrimaryElectionIDSet {
		t.Fatalf("event %+v", ev)
	}

	// Messages for another device, or without status, are ignored.
	before := c.Stats().Malformed
	c.dispatch(s, arbMsg(2, codes.OK, &ElectionID{0, 5}))
	bad := arbMsg(1, codes.OK, &ElectionID{0, 5})
	bad.GetArbitration().Status = nil
	c.dispatch(s, bad)
	noEvent(t, c)
	if c.IsPrimary() || c.Stats().Malformed != before+2 {
		t.Fatalf("ignored messages changed state: %+v, malformed %d", c.Status(), c.Stats().Malformed)
	}

	// The stream breaks.
	c.sessionEnded(s, status.Error(codes.Unavailable, "gone"))
	ev = next(t, c)
	if ev.State != Disconnected || ev.Previous != Backup || status.Code(ev.Err) != codes.Unavailable {
		t.Fatalf("event %+v", ev)
	}
	if c.Stats().ArbitrationReceived != 5 {
		t.Errorf("ArbitrationReceived = %d", c.Stats().ArbitrationReceived)
	}
}

func TestMastershipLatestStateWithoutReader(t *testing.T) {
	c, s := offlineClient(t)
	for i := range 100 {
		code := codes.OK
		if i%2 == 1 {
			code = codes.AlreadyExists
		}
		c.dispatch(s, arbMsg(1, code, &ElectionID{0, uint64(i + 1)}))
	}
	ev := next(t, c)
	if ev.State != Backup || ev.PrimaryElectionID != (ElectionID{0, 100}) {
		t.Fatalf("latest event %+v, want the 100th", ev)
	}
	noEvent(t, c)
}

func packetInMsg(port uint64) *p4v1.StreamMessageResponse {
	return &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Packet{Packet: &p4v1.PacketIn{
		Payload:  []byte{0xde, 0xad},
		Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{byte(port >> 8), byte(port)}}, {MetadataId: 2, Value: []byte{0}}, {MetadataId: 77, Value: []byte{1}}},
	}}}
}

func TestSlowPacketReaderDoesNotStallArbitration(t *testing.T) {
	c, s := offlineClient(t, WithPacketBuffer(4))
	for i := range 100 {
		c.dispatch(s, packetInMsg(uint64(i)))
	}
	c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 1}))
	if !c.IsPrimary() {
		t.Fatal("arbitration not applied behind a full packet-in buffer")
	}
	st := c.Stats()
	if st.PacketInReceived != 100 || st.PacketInDropped != 96 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 4 {
		p := <-c.PacketIn()
		if p.MetadataByID[1][1] != byte(i) {
			t.Fatalf("packet %d out of order: %v", i, p.MetadataByID)
		}
	}
}

func TestPacketInDecode(t *testing.T) {
	c, s := offlineClient(t, WithSchema(loadSchema(t)))
	c.dispatch(s, packetInMsg(300))
	p := <-c.PacketIn()
	if string(p.Payload) != "\xde\xad" {
		t.Errorf("payload %x", p.Payload)
	}
	port, err := p.Uint("ingress_port")
	if err != nil || port != 300 {
		t.Errorf("ingress_port = %d, %v", port, err)
	}
	if _, ok := p.Metadata["_padding"]; !ok {
		t.Error("padding field missing by name")
	}
	if len(p.Metadata) != 2 || len(p.MetadataByID) != 3 || p.MetadataByID[77] == nil {
		t.Errorf("metadata by name %v, by ID %v", p.Metadata, p.MetadataByID)
	}
	if _, err := p.Uint("egress_port"); err == nil {
		t.Error("Uint of an absent field succeeded")
	}
}

func digestMsg(id uint32, list uint64) *p4v1.StreamMessageResponse {
	return &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Digest{Digest: &p4v1.DigestList{
		DigestId: id, ListId: list, Timestamp: 1_000_000_000,
		Data: []*p4v1.P4Data{{Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{1}}}},
	}}}
}

func ackOf(t *testing.T, s *session) *p4v1.DigestListAck {
	t.Helper()
	select {
	case m := <-s.ctrl:
		a := m.req.GetDigestAck()
		if a == nil {
			t.Fatalf("queued %v, want a digest ack", m.req)
		}
		return a
	default:
		t.Fatal("no ack queued")
	}
	return nil
}

func TestDigestAutoAck(t *testing.T) {
	c, s := offlineClient(t)
	c.dispatch(s, digestMsg(385000000, 7))
	d := <-c.Digests()
	if d.DigestID != 385000000 || d.ListID != 7 || len(d.Data) != 1 || d.Timestamp.Unix() != 1 {
		t.Fatalf("digest %+v", d)
	}
	if a := ackOf(t, s); a.DigestId != 385000000 || a.ListId != 7 {
		t.Fatalf("ack %+v", a)
	}
	if st := c.Stats(); st.DigestReceived != 1 || st.DigestAcked != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDigestManualAck(t *testing.T) {
	c, s := offlineClient(t, WithManualDigestAck(), WithNotificationBuffer(1))
	c.dispatch(s, digestMsg(1, 1))
	select {
	case m := <-s.ctrl:
		t.Fatalf("manual mode acked a delivered list: %v", m.req)
	default:
	}
	// The buffer is full: the next list is dropped and acknowledged so that
	// the switch reports its data again.
	c.dispatch(s, digestMsg(1, 2))
	if a := ackOf(t, s); a.ListId != 2 {
		t.Fatalf("ack %+v", a)
	}
	if st := c.Stats(); st.DigestDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStreamErrorsSurfaced(t *testing.T) {
	c, s := offlineClient(t, WithNotificationBuffer(1))
	mk := func(msg string) *p4v1.StreamMessageResponse {
		return &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Error{Error: &p4v1.StreamError{
			CanonicalCode: int32(codes.InvalidArgument), Message: msg,
			Details: &p4v1.StreamError_PacketOut{PacketOut: &p4v1.PacketOutError{}},
		}}}
	}
	c.dispatch(s, mk("bad metadata"))
	c.dispatch(s, mk("dropped"))
	e := <-c.StreamErrors()
	if e.GetMessage() != "bad metadata" || e.GetPacketOut() == nil {
		t.Fatalf("stream error %v", e)
	}
	if st := c.Stats(); st.StreamErrorReceived != 2 || st.StreamErrorDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDispatchMalformedAndOther(t *testing.T) {
	c, s := offlineClient(t)
	msgs := []*p4v1.StreamMessageResponse{
		nil,
		{},
		{Update: &p4v1.StreamMessageResponse_Arbitration{}},
		{Update: &p4v1.StreamMessageResponse_Packet{}},
		{Update: &p4v1.StreamMessageResponse_Digest{}},
		{Update: &p4v1.StreamMessageResponse_IdleTimeoutNotification{}},
		{Update: &p4v1.StreamMessageResponse_Error{}},
		{Update: &p4v1.StreamMessageResponse_Other{}},
	}
	for _, m := range msgs {
		c.dispatch(s, m)
	}
	if st := c.Stats(); st.Malformed != uint64(len(msgs)) {
		t.Fatalf("malformed = %d, want %d", st.Malformed, len(msgs))
	}
	other, _ := anypb.New(durationpb.New(5))
	c.dispatch(s, &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Other{Other: other}})
	c.dispatch(s, &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_IdleTimeoutNotification{
		IdleTimeoutNotification: &p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{{TableId: 1}}}}})
	if got := <-c.Other(); !proto.Equal(got, other) {
		t.Errorf("other = %v", got)
	}
	if got := <-c.IdleTimeouts(); len(got.GetTableEntry()) != 1 {
		t.Errorf("idle timeout = %v", got)
	}
}

func TestBuildPacketOut(t *testing.T) {
	c, _ := offlineClient(t, WithSchema(loadSchema(t)))
	p, err := c.BuildPacketOut([]byte{1, 2}, map[string][]byte{"egress_port": {0, 0, 0, 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := &p4v1.PacketOut{Payload: []byte{1, 2}, Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{3}}, {MetadataId: 2, Value: []byte{0}}}}
	if !proto.Equal(p, want) {
		t.Fatalf("packet-out %v, want %v", p, want)
	}
	for name, md := range map[string]map[string][]byte{
		"missing field": {},
		"unknown field": {"egress_port": {1}, "ingress_port": {1}},
		"too wide":      {"egress_port": {0x02, 0x00}}, // 512 does not fit bit<9>
		"empty value":   {"egress_port": {}},
	} {
		if _, err := c.BuildPacketOut(nil, md); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c2, _ := offlineClient(t)
	if _, err := c2.BuildPacketOut(nil, nil); !errors.Is(err, ErrNoSchema) {
		t.Errorf("without schema: %v", err)
	}
}

func TestOptionValidation(t *testing.T) {
	ctx := context.Background()
	if _, err := Dial(ctx, "127.0.0.1:1"); !errors.Is(err, ErrTransportSecurity) {
		t.Errorf("Dial without security option: %v", err)
	}
	if _, err := Dial(ctx, "127.0.0.1:1", WithInsecure(), WithTLS(nil)); err == nil {
		t.Error("WithTLS(nil) accepted")
	}
	bad := []Option{WithMaxMessageSize(10), WithTimeout(-1), WithPacketBuffer(-1), WithNotificationBuffer(-1), WithBackoff(-1, 0), WithWindow(1000), WithWindow(-1)}
	for i, o := range bad {
		if _, err := Dial(ctx, "127.0.0.1:1", WithInsecure(), o); err == nil || errors.Is(err, ErrTransportSecurity) {
			t.Errorf("bad option %d: %v", i, err)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
	c, _ := offlineClient(t)
	for _, wo := range []WriteOption{WithBatchSize(0), WithInFlight(0)} {
		if err := c.Write(ctx, mkUpdates(1, 1), wo); err == nil {
			t.Error("bad write option accepted")
		}
	}
}

// answerTakeOver plays the switch for one TakeOver: it takes the
// arbitration request from the session's queue, checks its election ID and
// runs respond.
func answerTakeOver(t *testing.T, c *Client, s *session, want ElectionID, respond func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		m := <-s.ctrl
		if id, _ := electionIDFromProto(m.req.GetArbitration().GetElectionId()); id != want {
			t.Errorf("take over arbitrates with %v, want %v", id, want)
		}
		m.res <- nil
		respond()
	}()
	return done
}

func TestTakeOverStateMachine(t *testing.T) {
	ctx := context.Background()
	t.Run("confirmed after a stale notification", func(t *testing.T) {
		c, s := offlineClient(t)
		c.dispatch(s, arbMsg(1, codes.AlreadyExists, &ElectionID{0, 10}))
		done := answerTakeOver(t, c, s, ElectionID{0, 11}, func() {
			c.dispatch(s, arbMsg(1, codes.NotFound, &ElectionID{0, 10})) // sent before ours was seen
			c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 11}))
		})
		if err := c.TakeOver(ctx); err != nil {
			t.Fatal(err)
		}
		<-done
		if st := c.Status(); st.State != Primary || st.ElectionID != (ElectionID{0, 11}) {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("outranked meanwhile", func(t *testing.T) {
		c, s := offlineClient(t)
		c.dispatch(s, arbMsg(1, codes.AlreadyExists, &ElectionID{0, 10}))
		done := answerTakeOver(t, c, s, ElectionID{0, 11}, func() {
			c.dispatch(s, arbMsg(1, codes.AlreadyExists, &ElectionID{0, 12}))
		})
		if err := c.TakeOver(ctx); !errors.Is(err, ErrNotPrimary) {
			t.Fatalf("err = %v", err)
		}
		<-done
	})
	t.Run("refused election ID is given back", func(t *testing.T) {
		c, s := offlineClient(t, WithElectionID(ElectionID{0, 3}))
		c.dispatch(s, arbMsg(1, codes.NotFound, &ElectionID{0, 7}))
		done := answerTakeOver(t, c, s, ElectionID{0, 8}, func() {
			c.sessionEnded(s, status.Error(codes.InvalidArgument, "election ID in use"))
		})
		if err := c.TakeOver(ctx); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("err = %v", err)
		}
		<-done
		if id := c.Status().ElectionID; id != (ElectionID{0, 3}) {
			t.Fatalf("election ID %v after a refused take over, want 3", id)
		}
	})
	t.Run("already primary", func(t *testing.T) {
		c, s := offlineClient(t)
		c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 1}))
		if err := c.TakeOver(ctx); err != nil || c.Status().ElectionID != (ElectionID{0, 1}) {
			t.Fatalf("%v %+v", err, c.Status())
		}
	})
	t.Run("context ends while disconnected", func(t *testing.T) {
		c, _ := offlineClient(t)
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if err := c.TakeOver(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}
