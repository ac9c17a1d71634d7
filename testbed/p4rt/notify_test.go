package p4rt_test

import (
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func digestEntry(maxList int32, ackTimeout int64) *p4v1.Update {
	return insert(&p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: &p4v1.DigestEntry{
		DigestId: digestID,
		Config:   &p4v1.DigestEntry_Config{MaxTimeoutNs: 0, MaxListSize: maxList, AckTimeoutNs: ackTimeout},
	}}})
}

// learned is one L2_digest message: {smac, ig_port}.
func learned(mac byte, port byte) *p4v1.P4Data {
	return &p4v1.P4Data{Data: &p4v1.P4Data_Struct{Struct: &p4v1.P4StructLike{Members: []*p4v1.P4Data{
		{Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{2, 0, 0, 0, 0, mac}}},
		{Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{port}}},
	}}}}
}

func digestHarness(t *testing.T, maxList int32, ackTimeout int64) (*harness, *ctrl) {
	t.Helper()
	h, a := primaryWithPipeline(t, digestP4Info(t))
	if err := h.write(t, "", eid(10), digestEntry(maxList, ackTimeout)); err != nil {
		t.Fatal(err)
	}
	return h, a
}

func (c *ctrl) nextDigest() *p4v1.DigestList {
	c.t.Helper()
	m := c.next()
	d := m.GetDigest()
	if d == nil {
		c.t.Fatalf("want a digest list, got %v", m)
	}
	return d
}

func TestDigest_DeliveredToPrimaryWhenEnabled(t *testing.T) {
	h, a := digestHarness(t, 1, 0)
	b := h.open(t)
	b.backup("", 1, 10)
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	d := a.nextDigest()
	if d.GetDigestId() != digestID || d.GetListId() == 0 || d.GetTimestamp() == 0 || len(d.GetData()) != 1 || !proto.Equal(d.GetData()[0], learned(1, 1)) {
		t.Fatalf("digest list %v", d)
	}
	b.expectQuiet()
}

func TestDigest_NotSentUntilEnabledByDigestEntry(t *testing.T) {
	h, a := primaryWithPipeline(t, digestP4Info(t))
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	a.expectQuiet()
}

func TestDigest_MaxListSizeSplitsLists(t *testing.T) {
	h, a := digestHarness(t, 2, 0)
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1), learned(2, 1), learned(3, 1), learned(1, 1)}})
	d1, d2 := a.nextDigest(), a.nextDigest()
	if len(d1.GetData()) != 2 || len(d2.GetData()) != 1 || d1.GetListId() == d2.GetListId() {
		t.Fatalf("lists %v / %v; want 2 + 1 distinct messages in lists with distinct IDs", d1, d2)
	}
	a.expectQuiet()
}

func TestDigest_UnackedDataIsNotSentAgainUntilAcked(t *testing.T) {
	h, a := digestHarness(t, 0, int64(testTimeout*10))
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	d := a.nextDigest()
	if got := h.srv.Stats().UnackedDigestLists; got != 1 {
		t.Fatalf("unacked lists %d, want 1", got)
	}
	// Same data again: held back while the list is unacknowledged.
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	a.expectQuiet()
	a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: &p4v1.DigestListAck{DigestId: digestID, ListId: d.GetListId()}}})
	a.expectQuiet() // the ack is processed: the stream handles messages in order
	if got := h.srv.Stats().UnackedDigestLists; got != 0 {
		t.Fatalf("unacked lists %d after the ack, want 0", got)
	}
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	if d2 := a.nextDigest(); d2.GetListId() == d.GetListId() {
		t.Fatalf("list ID %d reused", d2.GetListId())
	}
}

func TestDigest_ZeroAckTimeoutKeepsNoCache(t *testing.T) {
	h, a := digestHarness(t, 0, 0)
	for range 2 {
		h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
		a.nextDigest()
	}
	if got := h.srv.Stats().UnackedDigestLists; got != 0 {
		t.Fatalf("unacked lists %d, want 0", got)
	}
}

func TestDigestAck_UnknownDigestIDIsInvalidArgument(t *testing.T) {
	_, a := digestHarness(t, 0, 0)
	ack := &p4v1.DigestListAck{DigestId: 12345, ListId: 1}
	a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: ack}})
	e := a.expectStreamError(codes.InvalidArgument)
	if !proto.Equal(e.GetDigestListAck().GetDigestListAck(), ack) {
		t.Fatalf("StreamError details %v, want the ack", e)
	}
}

func TestDigestAck_FromBackupIsPermissionDenied(t *testing.T) {
	h, _ := digestHarness(t, 0, 0)
	b := h.open(t)
	b.backup("", 1, 10)
	b.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: &p4v1.DigestListAck{DigestId: digestID, ListId: 1}}})
	b.expectStreamError(codes.PermissionDenied)
}

func TestDigest_RoleWithoutDigestInConfigGetsNothing(t *testing.T) {
	h, a := digestHarness(t, 0, 0)
	r := h.open(t)
	r.arbitrate(deviceID, "tables", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{smacTable}})
	r.expectArb(codes.OK, eid(1))
	h.srv.SendDigest(&p4v1.DigestList{DigestId: digestID, Data: []*p4v1.P4Data{learned(1, 1)}})
	a.nextDigest()
	r.expectQuiet()
}

func TestIdleTimeout_DeliveredToPrimary(t *testing.T) {
	h, a := primaryWithPipeline(t, digestP4Info(t))
	b := h.open(t)
	b.backup("", 1, 10)
	te := &p4v1.TableEntry{TableId: smacTable, Match: []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{2, 0, 0, 0, 0, 1}}}}}, IdleTimeoutNs: 1000}
	h.srv.SendIdleTimeout(&p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{te}})
	m := a.next().GetIdleTimeoutNotification()
	if m == nil || len(m.GetTableEntry()) != 1 || !proto.Equal(m.GetTableEntry()[0], te) || m.GetTimestamp() == 0 {
		t.Fatalf("idle timeout notification %v", m)
	}
	b.expectQuiet()
	// An empty notification is never sent.
	h.srv.SendIdleTimeout(&p4v1.IdleTimeoutNotification{})
	a.expectQuiet()
}

func TestIdleTimeout_RoleGetsOnlyItsTables(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	r := h.open(t)
	r.arbitrate(deviceID, "meters", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{hostMeterTable}})
	r.expectArb(codes.OK, eid(1))
	h.srv.SendIdleTimeout(&p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{table0Entry(1).GetTableEntry()}})
	r.expectQuiet()
	h.srv.SendIdleTimeout(&p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{table0Entry(1).GetTableEntry(), hostMeterEntry(1).GetTableEntry()}})
	m := r.next().GetIdleTimeoutNotification()
	if len(m.GetTableEntry()) != 1 || m.GetTableEntry()[0].GetTableId() != hostMeterTable {
		t.Fatalf("role got %v, want only its table's entry", m)
	}
}
