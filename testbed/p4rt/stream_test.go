package p4rt_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// packetOut is a valid packet-out for the basic program: egress_port and
// _padding.
func packetOut(payload string, port byte) *p4v1.StreamMessageRequest {
	return &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
		Payload:  []byte(payload),
		Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{port}}, {MetadataId: 2, Value: []byte{0}}},
	}}}
}

// sink collects packet-outs handed to the WithPacketOut function.
type sink struct {
	ch  chan *p4v1.PacketOut
	err error
}

func newSink() *sink { return &sink{ch: make(chan *p4v1.PacketOut, 64)} }

func (s *sink) fn(p *p4v1.PacketOut) error {
	if s.err != nil {
		return s.err
	}
	s.ch <- p
	return nil
}

func TestPacketOut_FromPrimaryReachesSwitch(t *testing.T) {
	k := newSink()
	h, a := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	a.send(packetOut("hello", 3))
	select {
	case p := <-k.ch:
		if string(p.GetPayload()) != "hello" || !bytes.Equal(p.GetMetadata()[0].GetValue(), []byte{3}) {
			t.Fatalf("got %v", p)
		}
	case <-testCtx(t).Done():
		t.Fatal("packet-out not delivered")
	}
	a.expectQuiet()
	if st := h.srv.Stats(); st.PacketOuts != 1 {
		t.Fatalf("stats %+v, want 1 packet-out", st)
	}
}

func TestPacketOut_PaddedMetadataIsAccepted(t *testing.T) {
	k := newSink()
	_, a := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
		Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{0, 1}}, {MetadataId: 2, Value: []byte{0}}},
	}}})
	a.expectQuiet()
	if len(k.ch) != 1 {
		t.Fatal("padded packet-out not delivered")
	}
}

func TestPacketOut_FromBackupIsStreamErrorPermissionDenied(t *testing.T) {
	k := newSink()
	h, _ := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	b := h.open(t)
	b.backup("", 1, 10)
	req := packetOut("nope", 1)
	b.send(req)
	e := b.expectStreamError(codes.PermissionDenied)
	if !proto.Equal(e.GetPacketOut().GetPacketOut(), req.GetPacket()) {
		t.Fatalf("StreamError does not carry the packet-out: %v", e)
	}
	// The stream stays open.
	b.expectQuiet()
	if len(k.ch) != 0 {
		t.Fatal("a backup's packet-out reached the switch")
	}
}

func TestPacketOut_BeforeArbitrationIsStreamError(t *testing.T) {
	k := newSink()
	h, _ := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	x := h.open(t)
	x.send(packetOut("x", 1))
	x.expectStreamError(codes.PermissionDenied)
	x.expectQuiet()
	if len(k.ch) != 0 {
		t.Fatal("packet-out without arbitration reached the switch")
	}
}

func TestPacketOut_BeforePipelineIsStreamError(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	a.send(packetOut("x", 1))
	a.expectStreamError(codes.FailedPrecondition)
}

func TestPacketOut_MetadataMismatchIsInvalidArgument(t *testing.T) {
	for name, md := range map[string][]*p4v1.PacketMetadata{
		"unknown id":  {{MetadataId: 1, Value: []byte{1}}, {MetadataId: 2, Value: []byte{0}}, {MetadataId: 7, Value: []byte{1}}},
		"missing":     {{MetadataId: 1, Value: []byte{1}}},
		"duplicate":   {{MetadataId: 1, Value: []byte{1}}, {MetadataId: 1, Value: []byte{1}}, {MetadataId: 2, Value: []byte{0}}},
		"too wide":    {{MetadataId: 1, Value: []byte{2, 0}}, {MetadataId: 2, Value: []byte{0}}},
		"empty value": {{MetadataId: 1, Value: nil}, {MetadataId: 2, Value: []byte{0}}},
	} {
		t.Run(name, func(t *testing.T) {
			k := newSink()
			_, a := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
			a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{Payload: []byte("p"), Metadata: md}}})
			e := a.expectStreamError(codes.InvalidArgument)
			if e.GetPacketOut() == nil {
				t.Fatalf("StreamError details not packet_out: %v", e)
			}
			a.expectQuiet()
			if len(k.ch) != 0 {
				t.Fatal("invalid packet-out reached the switch")
			}
		})
	}
}

func TestPacketOut_SwitchErrorIsStreamError(t *testing.T) {
	k := newSink()
	k.err = status.Error(codes.InvalidArgument, "no such port")
	_, a := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	a.send(packetOut("x", 99))
	e := a.expectStreamError(codes.InvalidArgument)
	if e.GetMessage() != "no such port" {
		t.Fatalf("message %q", e.GetMessage())
	}
}

func TestPacketOut_PlainSwitchErrorIsUnknown(t *testing.T) {
	k := newSink()
	k.err = errors.New("boom")
	_, a := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	a.send(packetOut("x", 1))
	a.expectStreamError(codes.Unknown)
}

func TestPacketOut_FromNamedRolePrimaryIsAccepted(t *testing.T) {
	k := newSink()
	h, _ := primaryWithPipeline(t, nil, p4rt.WithPacketOut(k.fn))
	r := h.open(t)
	r.become("lldp", 1, codes.OK)
	r.send(packetOut("lldp", 1))
	r.expectQuiet()
	if len(k.ch) != 1 {
		t.Fatal("named role primary's packet-out not delivered")
	}
}

func TestPacketIn_GoesToPrimaryOnly(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	b := h.open(t)
	b.backup("", 1, 10)
	p := &p4v1.PacketIn{Payload: []byte("in"), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{4}}}}
	h.srv.SendPacketIn(p)
	m := a.next()
	if !proto.Equal(m.GetPacket(), p) {
		t.Fatalf("primary got %v, want %v", m, p)
	}
	b.expectQuiet()
}

func TestPacketIn_RoleConfigSelectsReceivers(t *testing.T) {
	h, def := primaryWithPipeline(t, nil)
	none, all, port2 := h.open(t), h.open(t), h.open(t)
	none.arbitrate(deviceID, "none", eid(1), &roleconfig.P4RoleConfig{ReceivesPacketIns: false})
	none.expectArb(codes.OK, eid(1))
	all.arbitrate(deviceID, "all", eid(1), &roleconfig.P4RoleConfig{ReceivesPacketIns: true})
	all.expectArb(codes.OK, eid(1))
	// The filter value is compared canonically: 0x0002 matches 0x02.
	port2.arbitrate(deviceID, "port2", eid(1), &roleconfig.P4RoleConfig{
		ReceivesPacketIns: true,
		PacketInFilter:    &roleconfig.P4RoleConfig_PacketFilter{MetadataId: 1, Value: []byte{0, 2}},
	})
	port2.expectArb(codes.OK, eid(1))

	p1 := &p4v1.PacketIn{Payload: []byte("1"), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{1}}}}
	p2 := &p4v1.PacketIn{Payload: []byte("2"), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{2}}}}
	h.srv.SendPacketIn(p1)
	h.srv.SendPacketIn(p2)
	for _, c := range []*ctrl{def, all} {
		if a, b := c.next().GetPacket(), c.next().GetPacket(); !proto.Equal(a, p1) || !proto.Equal(b, p2) {
			t.Fatalf("got %v, %v; want both packets", a, b)
		}
	}
	if got := port2.next().GetPacket(); !proto.Equal(got, p2) {
		t.Fatalf("filtered role got %v, want only port 2's packet", got)
	}
	port2.expectQuiet()
	none.expectQuiet()
}

func TestStream_EmptyMessageIsStreamError(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.send(&p4v1.StreamMessageRequest{})
	a.expectStreamError(codes.InvalidArgument)
	a.become("", 1, codes.OK) // the stream is still usable
}

func TestStream_OtherMessageIsUnimplementedStreamError(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	other, _ := anypb.New(wrapperspb.String("x"))
	a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Other{Other: other}})
	e := a.expectStreamError(codes.Unimplemented)
	if !proto.Equal(e.GetOther().GetOther(), other) {
		t.Fatalf("StreamError details %v, want the message", e)
	}
}

func TestStream_SlowReaderDropsAndDoesNotBlock(t *testing.T) {
	h, a := primaryWithPipeline(t, nil, p4rt.WithStreamQueueSize(4))
	// A new primary that reads nothing: big packets fill gRPC's
	// flow-control window, then the queue, then are dropped, and
	// SendPacketIn never blocks.
	raw, err := h.c.StreamChannel(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{
		DeviceId: deviceID, ElectionId: eid(11),
	}}}); err != nil {
		t.Fatal(err)
	}
	a.expectArb(codes.AlreadyExists, eid(11)) // the switch has taken it
	payload := make([]byte, 256<<10)
	for range 200 {
		h.srv.SendPacketIn(&p4v1.PacketIn{Payload: payload})
	}
	st := h.srv.Stats()
	if st.Dropped == 0 {
		t.Fatalf("stats %+v: no drop with a stalled reader", st)
	}
	if st.PacketIns+st.Dropped != 200 {
		t.Fatalf("stats %+v: packet-ins queued + dropped != 200", st)
	}
	a.expectQuiet() // the backup is not affected
}

func TestCapabilities_ReportsAPIVersion(t *testing.T) {
	h := start(t)
	for _, id := range []uint64{0, deviceID} {
		r, err := h.c.Capabilities(testCtx(t), &p4v1.CapabilitiesRequest{DeviceId: id})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetP4RuntimeApiVersion() != "1.5.0" {
			t.Fatalf("version %q", r.GetP4RuntimeApiVersion())
		}
	}
}

func TestCapabilities_UnknownDeviceIsNotFound(t *testing.T) {
	h := start(t)
	_, err := h.c.Capabilities(testCtx(t), &p4v1.CapabilitiesRequest{DeviceId: deviceID + 1})
	mustCode(t, err, codes.NotFound)
}
