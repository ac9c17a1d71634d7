package builtin_test

import (
	"fmt"
	"net/netip"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/pipeline/sai"
)

// Benchmark of issue 5: translating 100,000 routing objectives on every
// registered pipeliner against building the same entities by hand as raw
// protobuf with every ID resolved beforehand (goal: at most 2× the
// hand-built cost). Routes go to 8 next hops (ID "1".."8" on ports 1..8,
// with MAC rewrite where the program has it); each translation yields
// the next hop's entities and the route entry, and so does the hand-built
// code.
//
//	go test -run '^$' -bench TranslateRoutes -benchmem -benchtime 3x ./pipeline/builtin/

const benchRoutes = 100_000

var benchSink []*p4v1.Entity

func benchNextHop(program string, k int) *objective.NextHop {
	nh := &objective.NextHop{ID: fmt.Sprint(k + 1), Port: uint32(k + 1)}
	if program != basic.Program {
		nh.SrcMAC = objective.MAC{0x00, 0xaa, 0, 0, 0, 0x01}
		nh.DstMAC = objective.MAC{0x00, 0xbb, 0, 0, 0, byte(k + 1)}
	}
	return nh
}

func benchRoute(program string, i int) objective.Route {
	a := p4bench.RouteAddr(i)
	return objective.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4(a), 24), Target: objective.Target{NextHop: benchNextHop(program, i%8)}}
}

func BenchmarkTranslateRoutes(b *testing.B) {
	for _, pc := range registry(b).All() {
		p, err := pc.Pipeliner()
		if err != nil {
			b.Fatal(err)
		}
		hand, err := newHandBuilt(pc)
		if err != nil {
			b.Fatal(err)
		}
		routes := make([]objective.Route, benchRoutes)
		for i := range routes {
			routes[i] = benchRoute(pc.ID, i)
		}
		b.Run(pc.ID+"/pipeliner", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range routes {
					es, err := p.Translate(routes[i])
					if err != nil {
						b.Fatal(err)
					}
					benchSink = es
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRoutes), "ns/route")
		})
		b.Run(pc.ID+"/hand-built", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range routes {
					benchSink = hand(i)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRoutes), "ns/route")
		})
	}
}

// TestHandBuiltMatchesTranslate keeps the benchmark honest: the hand-built
// entities are exactly what the pipeliners produce.
func TestHandBuiltMatchesTranslate(t *testing.T) {
	for _, pc := range registry(t).All() {
		p, err := pc.Pipeliner()
		if err != nil {
			t.Fatal(err)
		}
		hand, err := newHandBuilt(pc)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1, 7, 8, 65535, benchRoutes - 1} {
			want, err := p.Translate(benchRoute(pc.ID, i))
			if err != nil {
				t.Fatal(err)
			}
			got := hand(i)
			if len(got) != len(want) {
				t.Fatalf("%s route %d: %d hand-built entities, want %d", pc.ID, i, len(got), len(want))
			}
			for j := range want {
				if !proto.Equal(got[j], want[j]) {
					t.Errorf("%s route %d entity %d:\n got %s\nwant %s", pc.ID, i, j, prototext.Format(got[j]), prototext.Format(want[j]))
				}
			}
		}
	}
}

// newHandBuilt returns the hand-written translation of benchmark route i
// for a program, with every ID resolved now.
func newHandBuilt(pc *pipeline.Pipeconf) (func(i int) []*p4v1.Entity, error) {
	r := resolver{s: pc.Schema}
	var hand func(int) []*p4v1.Entity
	switch pc.ID {
	case basic.Program:
		hand = handBasic(&r)
	case fabric.Program:
		hand = handFabric(&r)
	case sai.ProgramID:
		hand = handSAI(&r)
	default:
		return nil, fmt.Errorf("no hand-built translation for %s", pc.ID)
	}
	return hand, r.err
}

// resolver looks IDs up, keeping the first error.
type resolver struct {
	s   *schema.Schema
	err error
}

func (r *resolver) table(name string) *schema.Table {
	t, err := r.s.Table(name)
	if err != nil {
		r.err = err
		return &schema.Table{}
	}
	return t
}

func (r *resolver) field(t *schema.Table, name string) uint32 {
	f, err := t.Field(name)
	if err != nil {
		r.err = err
		return 0
	}
	return f.ID
}

func (r *resolver) action(t *schema.Table, name string) uint32 {
	a, err := t.Action(name)
	if err != nil {
		r.err = err
		return 0
	}
	return a.Action.ID
}

func (r *resolver) profile(name string) uint32 {
	p, err := r.s.ActionProfile(name)
	if err != nil {
		r.err = err
		return 0
	}
	return p.ID
}

func wrapTE(te *p4v1.TableEntry) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}
}

func exactMatch(id uint32, v []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}

func directAction(id uint32, params ...*p4v1.Action_Param) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: id, Params: params}}}
}

func param(id uint32, v []byte) *p4v1.Action_Param { return &p4v1.Action_Param{ParamId: id, Value: v} }

// canonicalAddr returns route i's address as a canonical bytestring.
func canonicalAddr(i int) []byte {
	a := p4bench.RouteAddr(i)
	v := a[:]
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

func handBasic(r *resolver) func(int) []*p4v1.Entity {
	t0 := r.table("ingress.table0_control.table0")
	wcmp := r.table("ingress.wcmp_control.wcmp_table")
	sel := r.profile("ingress.wcmp_control.wcmp_selector")
	fEthType, fDst := r.field(t0, "hdr.ethernet.ether_type"), r.field(t0, "hdr.ipv4.dst_addr")
	fNext := r.field(wcmp, "local_metadata.next_hop_id")
	aSetNext := r.action(t0, "set_next_hop_id")
	aEgress := r.action(wcmp, "set_egress_port")
	type nh struct {
		member uint32
		id     []byte // next_hop_id
		port   []byte
	}
	var nhs [8]nh
	for k := range nhs {
		id := fmt.Sprint(k + 1)
		nhs[k] = nh{member: basic.MemberID(id), id: []byte{byte(basic.NextHopID(id))}, port: []byte{byte(k + 1)}}
	}
	return func(i int) []*p4v1.Entity {
		n := &nhs[i%8]
		return []*p4v1.Entity{
			{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{
				ActionProfileId: sel, MemberId: n.member,
				Action: &p4v1.Action{ActionId: aEgress, Params: []*p4v1.Action_Param{param(1, n.port)}}}}},
			wrapTE(&p4v1.TableEntry{TableId: wcmp.ID, Match: []*p4v1.FieldMatch{exactMatch(fNext, n.id)},
				Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: n.member}}}),
			wrapTE(&p4v1.TableEntry{TableId: t0.ID,
				Match: []*p4v1.FieldMatch{
					{FieldId: fEthType, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: []byte{0x08, 0x00}, Mask: []byte{0xff, 0xff}}}},
					{FieldId: fDst, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: canonicalAddr(i), Mask: []byte{0xff, 0xff, 0xff, 0x00}}}},
				},
				Action:   directAction(aSetNext, param(1, n.id)),
				Priority: basic.PriorityRoute + 24}),
		}
	}
}

func handFabric(r *resolver) func(int) []*p4v1.Entity {
	nextVLAN := r.table("FabricIngress.pre_next.next_vlan")
	hashed := r.table("FabricIngress.next.hashed")
	egressVLAN := r.table("FabricEgress.egress_next.egress_vlan")
	routing := r.table("FabricIngress.forwarding.routing_v4")
	sel := r.profile("FabricIngress.next.hashed_selector")
	fNextVLAN, fHashed := r.field(nextVLAN, "next_id"), r.field(hashed, "next_id")
	fVLAN, fEgPort := r.field(egressVLAN, "vlan_id"), r.field(egressVLAN, "eg_port")
	fDst := r.field(routing, "ipv4_dst")
	aRoutingHashed := r.action(hashed, "routing_hashed")
	aSetVLAN := r.action(nextVLAN, "set_vlan")
	aPopVLAN := r.action(egressVLAN, "pop_vlan")
	aSetNext := r.action(routing, "set_next_id_routing_v4")
	vlan := fabric.InternalVLAN
	internalVLAN := []byte{byte(vlan >> 8), byte(vlan)}
	type nh struct {
		id         uint32
		idBytes    []byte
		port       []byte
		smac, dmac []byte
	}
	var nhs [8]nh
	for k := range nhs {
		id := fabric.NextHopNextID(fmt.Sprint(k + 1))
		nhs[k] = nh{id: id, idBytes: []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, port: []byte{byte(k + 1)},
			smac: []byte{0xaa, 0, 0, 0, 0x01}, dmac: []byte{0xbb, 0, 0, 0, byte(k + 1)}}
	}
	return func(i int) []*p4v1.Entity {
		n := &nhs[i%8]
		return []*p4v1.Entity{
			{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{
				ActionProfileId: sel, MemberId: n.id,
				Action: &p4v1.Action{ActionId: aRoutingHashed, Params: []*p4v1.Action_Param{param(1, n.port), param(2, n.smac), param(3, n.dmac)}}}}},
			{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{
				ActionProfileId: sel, GroupId: n.id, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: n.id, Weight: 1}}}}},
			wrapTE(&p4v1.TableEntry{TableId: nextVLAN.ID, Match: []*p4v1.FieldMatch{exactMatch(fNextVLAN, n.idBytes)},
				Action: directAction(aSetVLAN, param(1, internalVLAN))}),
			wrapTE(&p4v1.TableEntry{TableId: hashed.ID, Match: []*p4v1.FieldMatch{exactMatch(fHashed, n.idBytes)},
				Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: n.id}}}),
			wrapTE(&p4v1.TableEntry{TableId: egressVLAN.ID, Match: []*p4v1.FieldMatch{exactMatch(fVLAN, internalVLAN), exactMatch(fEgPort, n.port)},
				Action: directAction(aPopVLAN)}),
			wrapTE(&p4v1.TableEntry{TableId: routing.ID,
				Match:  []*p4v1.FieldMatch{{FieldId: fDst, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: canonicalAddr(i), PrefixLen: 24}}}},
				Action: directAction(aSetNext, param(1, n.idBytes))}),
		}
	}
}

func handSAI(r *resolver) func(int) []*p4v1.Entity {
	rif := r.table("router_interface_table")
	neighbor := r.table("neighbor_table")
	nexthop := r.table("nexthop_table")
	ipv4 := r.table("ipv4_table")
	fRIF := r.field(rif, "router_interface_id")
	fNRIF, fNeighbor := r.field(neighbor, "router_interface_id"), r.field(neighbor, "neighbor_id")
	fNexthop := r.field(nexthop, "nexthop_id")
	fVRF, fDst := r.field(ipv4, "vrf_id"), r.field(ipv4, "ipv4_dst")
	aRIF := r.action(rif, "unicast_set_port_and_src_mac")
	aDstMAC := r.action(neighbor, "set_dst_mac")
	aNexthop := r.action(nexthop, "set_ip_nexthop")
	aSetNexthop := r.action(ipv4, "set_nexthop_id")
	type nh struct {
		id, rif, port, neighbor, smac, dmac []byte
	}
	var nhs [8]nh
	for k := range nhs {
		src := objective.MAC{0x00, 0xaa, 0, 0, 0, 0x01}
		dst := objective.MAC{0x00, 0xbb, 0, 0, 0, byte(k + 1)}
		nb := sai.NeighborID(dst).As16()
		nhs[k] = nh{id: []byte(fmt.Sprint(k + 1)), rif: []byte(sai.RouterInterfaceID(uint32(k+1), src, 0)), port: []byte(fmt.Sprint(k + 1)),
			neighbor: nb[:], smac: []byte{0xaa, 0, 0, 0, 0x01}, dmac: []byte{0xbb, 0, 0, 0, byte(k + 1)}}
	}
	return func(i int) []*p4v1.Entity {
		n := &nhs[i%8]
		return []*p4v1.Entity{
			wrapTE(&p4v1.TableEntry{TableId: rif.ID, Match: []*p4v1.FieldMatch{exactMatch(fRIF, n.rif)},
				Action: directAction(aRIF, param(1, n.port), param(2, n.smac))}),
			wrapTE(&p4v1.TableEntry{TableId: neighbor.ID, Match: []*p4v1.FieldMatch{exactMatch(fNRIF, n.rif), exactMatch(fNeighbor, n.neighbor)},
				Action: directAction(aDstMAC, param(1, n.dmac))}),
			wrapTE(&p4v1.TableEntry{TableId: nexthop.ID, Match: []*p4v1.FieldMatch{exactMatch(fNexthop, n.id)},
				Action: directAction(aNexthop, param(1, n.rif), param(2, n.neighbor))}),
			wrapTE(&p4v1.TableEntry{TableId: ipv4.ID,
				Match: []*p4v1.FieldMatch{exactMatch(fVRF, nil),
					{FieldId: fDst, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: canonicalAddr(i), PrefixLen: 24}}}},
				Action: directAction(aSetNexthop, param(1, n.id))}),
		}
	}
}
