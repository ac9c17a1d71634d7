package fabric_test

import (
	"net"
	"net/netip"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// The goal of issue 5: translating a route costs at most twice building
// the same entities by hand with every ID resolved.
//
//	go test -run '^$' -bench 'Route$' -benchmem -count 5 ./pipeline/fabric/

var benchRoute = objective.Route{
	Prefix: netip.MustParsePrefix("10.0.2.0/24"),
	Target: objective.Target{NextHop: &objective.NextHop{ID: "leaf2", Port: 2,
		SrcMAC: objective.MustMAC("00:aa:00:00:00:01"), DstMAC: objective.MustMAC("00:bb:00:00:00:02")}},
}

var benchSink []*p4v1.Entity

func BenchmarkTranslateRoute(b *testing.B) {
	pl, _ := newPipeliner(b)
	b.ReportAllocs()
	for b.Loop() {
		ents, err := pl.Translate(benchRoute)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = ents
	}
}

func BenchmarkHandBuiltRoute(b *testing.B) {
	hb := newHandBuilt(b, fabricSchema(b))
	b.ReportAllocs()
	for b.Loop() {
		benchSink = hb.route(benchRoute.Prefix, benchRoute.NextHop)
	}
}

// handBuilt holds the IDs a hand-written translation would hard-code.
type handBuilt struct {
	profile, member, selector                      uint32
	routingHashed, setVLAN, popVLAN, setNextRoute  uint32
	nextVLAN, hashed, egressVLAN, routingV4        uint32
	nextVLANField, hashedField, vlanField, egField uint32
	ipv4Field                                      uint32
}

func newHandBuilt(tb testing.TB, s *schema.Schema) *handBuilt {
	tb.Helper()
	id := func(f func(string) (uint32, error), name string) uint32 {
		v, err := f(name)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	table := func(n string) (uint32, error) { t, err := s.Table(n); return idOr(t, err) }
	action := func(n string) (uint32, error) { a, err := s.Action(n); return idOr(a, err) }
	field := func(table, f string) uint32 {
		t, err := s.Table(table)
		if err != nil {
			tb.Fatal(err)
		}
		mf, err := t.Field(f)
		if err != nil {
			tb.Fatal(err)
		}
		return mf.ID
	}
	p, err := s.ActionProfile("FabricIngress.next.hashed_selector")
	if err != nil {
		tb.Fatal(err)
	}
	return &handBuilt{
		profile:       p.ID,
		routingHashed: id(action, "FabricIngress.next.routing_hashed"),
		setVLAN:       id(action, "FabricIngress.pre_next.set_vlan"),
		popVLAN:       id(action, "FabricEgress.egress_next.pop_vlan"),
		setNextRoute:  id(action, "FabricIngress.forwarding.set_next_id_routing_v4"),
		nextVLAN:      id(table, "FabricIngress.pre_next.next_vlan"),
		hashed:        id(table, "FabricIngress.next.hashed"),
		egressVLAN:    id(table, "FabricEgress.egress_next.egress_vlan"),
		routingV4:     id(table, "FabricIngress.forwarding.routing_v4"),
		nextVLANField: field("FabricIngress.pre_next.next_vlan", "next_id"),
		hashedField:   field("FabricIngress.next.hashed", "next_id"),
		vlanField:     field("FabricEgress.egress_next.egress_vlan", "vlan_id"),
		egField:       field("FabricEgress.egress_next.egress_vlan", "eg_port"),
		ipv4Field:     field("FabricIngress.forwarding.routing_v4", "ipv4_dst"),
	}
}

func idOr[T interface{ *schema.Table | *schema.Action }](v T, err error) (uint32, error) {
	if err != nil {
		return 0, err
	}
	switch x := any(v).(type) {
	case *schema.Table:
		return x.ID, nil
	case *schema.Action:
		return x.ID, nil
	}
	return 0, nil
}

// canon is the canonical bytestring of a value (leading zero bytes cut).
func canon(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func u32(v uint32) []byte { return canon([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) }

func exact(field uint32, v []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: field, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}

func direct(a *p4v1.Action) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
}

func tableEntity(te *p4v1.TableEntry) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}
}

// route builds the entities of a route to an untagged next hop, as
// Translate does, straight into protobuf.
func (h *handBuilt) route(prefix netip.Prefix, nh *objective.NextHop) []*p4v1.Entity {
	id := fabric.NextHopNextID(nh.ID)
	nid := u32(id)
	addr := prefix.Masked().Addr().As4()
	return []*p4v1.Entity{
		{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{
			ActionProfileId: h.profile, MemberId: id,
			Action: &p4v1.Action{ActionId: h.routingHashed, Params: []*p4v1.Action_Param{
				{ParamId: 1, Value: u32(nh.Port)},
				{ParamId: 2, Value: canon(net.HardwareAddr(nh.SrcMAC))},
				{ParamId: 3, Value: canon(net.HardwareAddr(nh.DstMAC))},
			}},
		}}},
		{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{
			ActionProfileId: h.profile, GroupId: id,
			Members: []*p4v1.ActionProfileGroup_Member{{MemberId: id, Weight: 1}},
		}}},
		tableEntity(&p4v1.TableEntry{TableId: h.nextVLAN, Match: []*p4v1.FieldMatch{exact(h.nextVLANField, nid)},
			Action: direct(&p4v1.Action{ActionId: h.setVLAN, Params: []*p4v1.Action_Param{{ParamId: 1, Value: []byte{0x0f, 0xfe}}}})}),
		tableEntity(&p4v1.TableEntry{TableId: h.hashed, Match: []*p4v1.FieldMatch{exact(h.hashedField, nid)},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: id}}}),
		tableEntity(&p4v1.TableEntry{TableId: h.egressVLAN,
			Match:  []*p4v1.FieldMatch{exact(h.vlanField, []byte{0x0f, 0xfe}), exact(h.egField, u32(nh.Port))},
			Action: direct(&p4v1.Action{ActionId: h.popVLAN})}),
		tableEntity(&p4v1.TableEntry{TableId: h.routingV4,
			Match: []*p4v1.FieldMatch{{FieldId: h.ipv4Field, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{
				Value: canon(addr[:]), PrefixLen: int32(prefix.Bits())}}}},
			Action: direct(&p4v1.Action{ActionId: h.setNextRoute, Params: []*p4v1.Action_Param{{ParamId: 1, Value: nid}}})}),
	}
}

// TestHandBuiltMatchesTranslate: the benchmark's baseline builds exactly
// what Translate does.
func TestHandBuiltMatchesTranslate(t *testing.T) {
	pl, s := newPipeliner(t)
	got, err := pl.Translate(benchRoute)
	if err != nil {
		t.Fatal(err)
	}
	want := newHandBuilt(t, s).route(benchRoute.Prefix, benchRoute.NextHop)
	if len(got) != len(want) {
		t.Fatalf("%d entities, hand-built %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("entity %d:\n got  %v\n want %v", i, got[i], want[i])
		}
	}
}
