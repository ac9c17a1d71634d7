package state

import (
	"fmt"
	"sort"
	"testing"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// IDs of the hand-written features P4Info.
const (
	tACL          uint32 = 33554433
	tConst        uint32 = 33554434
	tConstDefault uint32 = 33554435
	tECMP         uint32 = 33554436
	tIdle         uint32 = 33554437
	tPorts        uint32 = 33554438
	tTiny         uint32 = 33554439
	tKeyless      uint32 = 33554440
	tProfiled     uint32 = 33554441

	aNoAction    uint32 = 16777217
	aSetPort     uint32 = 16777218
	aDrop        uint32 = 16777219
	aSetNexthop  uint32 = 16777220
	aSetPortName uint32 = 16777221
	aPunt        uint32 = 16777223

	pSelector uint32 = 285212673
	pPlain    uint32 = 285212674

	cPort    uint32 = 301989889
	mPort    uint32 = 335544321
	mPolicer uint32 = 335544322
	rFlow    uint32 = 369098753
	dLearn   uint32 = 385875969
	vsTrill  uint32 = 50331649
	vsTPIDs  uint32 = 50331650
)

// onos-basic IDs.
const (
	onosTable0        uint32 = 33561568
	onosHostMeter     uint32 = 33571781
	onosWCMP          uint32 = 33594717
	onosSetEgress     uint32 = 16822046
	onosSendToCPU     uint32 = 16783057
	onosWCMPSetEgress uint32 = 16796092
	onosSelector      uint32 = 285253634
	onosReadMeter     uint32 = 16823832
)

// fabric-v1model IDs.
const (
	fabRoutingV4       uint32 = 41754650
	fabSetNextIDv4     uint32 = 19792090
	fabNopRoutingV4    uint32 = 29124955
	fabIngressPortVLAN uint32 = 43310977
	fabHashed          uint32 = 47960972
	fabOutputHashed    uint32 = 27301117
	fabHashedSelector  uint32 = 291115404
)

// sai-middleblock IDs.
const (
	saiIPv4         uint32 = 33554500
	saiWCMP         uint32 = 33554499
	saiSetNexthopID uint32 = 16777221
	saiDrop         uint32 = 16777222
)

func loadSchema(t testing.TB, name string) *schema.Schema {
	t.Helper()
	info, err := p4infos.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newDev(t testing.TB, name string) *Device {
	t.Helper()
	return New(loadSchema(t, name))
}

func bs(v ...byte) []byte { return v }

func ex(id uint32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}

func lp(id uint32, pl int32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: v, PrefixLen: pl}}}
}

func tn(id uint32, v, m []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: v, Mask: m}}}
}

func rg(id uint32, lo, hi []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: lo, High: hi}}}
}

func op(id uint32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: v}}}
}

func prm(id uint32, v ...byte) *p4v1.Action_Param { return &p4v1.Action_Param{ParamId: id, Value: v} }

func act(id uint32, ps ...*p4v1.Action_Param) *p4v1.Action {
	return &p4v1.Action{ActionId: id, Params: ps}
}

func direct(a *p4v1.Action) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
}

func mem(id uint32) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: id}}
}

func grp(id uint32) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: id}}
}

func oneShot(as ...*p4v1.ActionProfileAction) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: &p4v1.ActionProfileActionSet{ActionProfileActions: as}}}
}

func apa(a *p4v1.Action, w int32) *p4v1.ActionProfileAction {
	return &p4v1.ActionProfileAction{Action: a, Weight: w}
}

func te(table uint32, prio int32, ta *p4v1.TableAction, ms ...*p4v1.FieldMatch) *p4v1.TableEntry {
	return &p4v1.TableEntry{TableId: table, Priority: prio, Action: ta, Match: ms}
}

func defEntry(table uint32, ta *p4v1.TableAction) *p4v1.TableEntry {
	return &p4v1.TableEntry{TableId: table, IsDefaultAction: true, Action: ta}
}

func apMember(profile, id uint32, a *p4v1.Action) *p4v1.ActionProfileMember {
	return &p4v1.ActionProfileMember{ActionProfileId: profile, MemberId: id, Action: a}
}

func apGroup(profile, id uint32, maxSize int32, members ...*p4v1.ActionProfileGroup_Member) *p4v1.ActionProfileGroup {
	return &p4v1.ActionProfileGroup{ActionProfileId: profile, GroupId: id, MaxSize: maxSize, Members: members}
}

func gm(id uint32, w int32) *p4v1.ActionProfileGroup_Member {
	return &p4v1.ActionProfileGroup_Member{MemberId: id, Weight: w}
}

func replica(port []byte, instance uint32) *p4v1.Replica {
	return &p4v1.Replica{PortKind: &p4v1.Replica_Port{Port: port}, Instance: instance}
}

func mcast(id uint32, rs ...*p4v1.Replica) *p4v1.PacketReplicationEngineEntry {
	return &p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{
		MulticastGroupEntry: &p4v1.MulticastGroupEntry{MulticastGroupId: id, Replicas: rs}}}
}

func clone(id uint32, rs ...*p4v1.Replica) *p4v1.PacketReplicationEngineEntry {
	return &p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{
		CloneSessionEntry: &p4v1.CloneSessionEntry{SessionId: id, Replicas: rs}}}
}

func idx(i int64) *p4v1.Index { return &p4v1.Index{Index: i} }

func bitstring(v ...byte) *p4v1.P4Data {
	return &p4v1.P4Data{Data: &p4v1.P4Data_Bitstring{Bitstring: v}}
}

// ent wraps any entity message in an Entity.
func ent(m proto.Message) *p4v1.Entity {
	switch x := m.(type) {
	case *p4v1.Entity:
		return x
	case *p4v1.TableEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: x}}
	case *p4v1.ActionProfileMember:
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: x}}
	case *p4v1.ActionProfileGroup:
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: x}}
	case *p4v1.CounterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: x}}
	case *p4v1.DirectCounterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: x}}
	case *p4v1.MeterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: x}}
	case *p4v1.DirectMeterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: x}}
	case *p4v1.PacketReplicationEngineEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: x}}
	case *p4v1.ValueSetEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_ValueSetEntry{ValueSetEntry: x}}
	case *p4v1.RegisterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: x}}
	case *p4v1.DigestEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: x}}
	case *p4v1.ExternEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_ExternEntry{ExternEntry: x}}
	}
	panic(fmt.Sprintf("ent: %T", m))
}

func upd(typ p4v1.Update_Type, m proto.Message) *p4v1.Update {
	return &p4v1.Update{Type: typ, Entity: ent(m)}
}

func ins(m proto.Message) *p4v1.Update { return upd(p4v1.Update_INSERT, m) }
func mod(m proto.Message) *p4v1.Update { return upd(p4v1.Update_MODIFY, m) }
func del(m proto.Message) *p4v1.Update { return upd(p4v1.Update_DELETE, m) }

// codesOf returns the code of each of n updates or queries from the error
// of Write or Read.
func codesOf(t testing.TB, err error, n int) []codes.Code {
	t.Helper()
	out := make([]codes.Code, n)
	if err == nil {
		return out
	}
	st := status.Convert(err)
	if st.Code() != codes.Unknown {
		for i := range out {
			out[i] = st.Code()
		}
		return out
	}
	ds := st.Details()
	if len(ds) != n {
		t.Fatalf("status has %d details, want %d: %v", len(ds), n, err)
	}
	for i, d := range ds {
		e, ok := d.(*p4v1.Error)
		if !ok {
			t.Fatalf("detail %d is %T (%v)", i, d, d)
		}
		out[i] = codes.Code(e.GetCanonicalCode())
	}
	return out
}

// write applies updates with CONTINUE_ON_ERROR and fails the test on any
// error.
func mustWrite(t testing.TB, d *Device, us ...*p4v1.Update) {
	t.Helper()
	if err := d.Write(us, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// writeCode applies one update and returns its code.
func writeCode(t testing.TB, d *Device, u *p4v1.Update) (codes.Code, error) {
	t.Helper()
	err := d.Write([]*p4v1.Update{u}, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil)
	return codesOf(t, err, 1)[0], err
}

// read runs one query and returns the entities.
func read(t testing.TB, d *Device, q proto.Message) []*p4v1.Entity {
	t.Helper()
	es, err := tryRead(d, q)
	if err != nil {
		t.Fatalf("read %v: %v", q, err)
	}
	return es
}

func tryRead(d *Device, qs ...proto.Message) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	ents := make([]*p4v1.Entity, len(qs))
	for i, q := range qs {
		ents[i] = ent(q)
	}
	err := d.Read(ents, func(es []*p4v1.Entity) error {
		out = append(out, es...)
		return nil
	})
	return out, err
}

// texts renders entities in text format, sorted, for comparisons.
func texts(es []*p4v1.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = prototext.MarshalOptions{}.Format(e)
	}
	sort.Strings(out)
	return out
}

// dump is the whole readable state of a device, for before/after
// comparisons.
func dump(t testing.TB, d *Device) []string {
	t.Helper()
	qs := []proto.Message{
		&p4v1.TableEntry{CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}},
		&p4v1.TableEntry{IsDefaultAction: true, CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}},
		&p4v1.ActionProfileMember{},
		&p4v1.ActionProfileGroup{},
		&p4v1.CounterEntry{},
		&p4v1.MeterEntry{},
		&p4v1.RegisterEntry{},
		&p4v1.DigestEntry{},
		&p4v1.ValueSetEntry{},
		mcast(0),
		clone(0),
	}
	es, err := tryRead(d, qs...)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	return texts(es)
}
