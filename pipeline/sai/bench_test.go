package sai_test

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Translating a route (the benchmark: 100,000 routes per
// pipeliner against the same entities built by hand) — here a working set
// of distinct IPv4 routes in the default VRF over 16 next hops, each
// becoming a router interface, a neighbor, a next hop and a route entry.

const benchRoutes = 4096

func benchObjectives() []objective.Route {
	hops := make([]objective.NextHop, 16)
	for i := range hops {
		hops[i] = objective.NextHop{ID: fmt.Sprintf("hop-%d", i), Port: uint32(1 + i%8),
			SrcMAC: objective.MAC{0, 0xaa, 0, 0, 0, byte(1 + i%8)}, DstMAC: objective.MAC{0, 0xbb, 0, 0, 0, byte(i)}}
	}
	routes := make([]objective.Route, benchRoutes)
	for i := range routes {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0})
		routes[i] = objective.Route{Prefix: netip.PrefixFrom(a, 24), Target: objective.Target{NextHop: &hops[i%len(hops)]}}
	}
	return routes
}

var benchSink []*p4v1.Entity

func BenchmarkTranslateRoute(b *testing.B) {
	p := newPipeliner(b)
	routes := benchObjectives()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		es, err := p.Translate(&routes[i%benchRoutes])
		if err != nil {
			b.Fatal(err)
		}
		benchSink = es
		i++
	}
}

// handIDs are the IDs a hand-written controller would hard-code.
type handIDs struct {
	rifTable, rifAction, nbrTable, setDstMAC, nhTable, setIPNH, v4Table, setNH uint32
}

func resolveHandIDs(tb testing.TB, s *schema.Schema) handIDs {
	tb.Helper()
	id := func(table, action string) (uint32, uint32) {
		t, err := s.Table(table)
		if err != nil {
			tb.Fatal(err)
		}
		a, err := t.Action(action)
		if err != nil {
			tb.Fatal(err)
		}
		return t.ID, a.Action.ID
	}
	var h handIDs
	h.rifTable, h.rifAction = id("router_interface_table", "unicast_set_port_and_src_mac")
	h.nbrTable, h.setDstMAC = id("neighbor_table", "set_dst_mac")
	h.nhTable, h.setIPNH = id("nexthop_table", "set_ip_nexthop")
	h.v4Table, h.setNH = id("ipv4_table", "set_nexthop_id")
	return h
}

// handBuild builds the entities of an IPv4 route in the default VRF as
// raw protobuf: field and parameter IDs are 1, 2 in P4Info order.
func handBuild(h *handIDs, r *objective.Route) []*p4v1.Entity {
	nh := r.NextHop
	const hexd = "0123456789abcdef"
	port := []byte(strconv.FormatUint(uint64(nh.Port), 10))
	rif := make([]byte, 0, len(port)+18)
	rif = append(append(rif, port...), '/')
	for i, c := range nh.SrcMAC {
		if i > 0 {
			rif = append(rif, ':')
		}
		rif = append(rif, hexd[c>>4], hexd[c&0xf])
	}
	d := nh.DstMAC
	nbr := []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, d[0] ^ 2, d[1], d[2], 0xff, 0xfe, d[3], d[4], d[5]}
	id := []byte(nh.ID)
	// bit<W> values are sent in canonical form: no leading zero bytes.
	canonical := func(v []byte) []byte {
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		return v
	}
	exact := func(fid uint32, v []byte) *p4v1.FieldMatch {
		return &p4v1.FieldMatch{FieldId: fid, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
	}
	action := func(aid uint32, params ...[]byte) *p4v1.TableAction {
		ps := make([]*p4v1.Action_Param, len(params))
		for i, v := range params {
			ps[i] = &p4v1.Action_Param{ParamId: uint32(i + 1), Value: v}
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: aid, Params: ps}}}
	}
	entry := func(te *p4v1.TableEntry) *p4v1.Entity {
		return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}
	}
	a := r.Prefix.Masked().Addr().As4()
	return []*p4v1.Entity{
		entry(&p4v1.TableEntry{TableId: h.rifTable, Match: []*p4v1.FieldMatch{exact(1, rif)},
			Action: action(h.rifAction, port, canonical(nh.SrcMAC))}),
		entry(&p4v1.TableEntry{TableId: h.nbrTable, Match: []*p4v1.FieldMatch{exact(1, rif), exact(2, nbr)},
			Action: action(h.setDstMAC, canonical(nh.DstMAC))}),
		entry(&p4v1.TableEntry{TableId: h.nhTable, Match: []*p4v1.FieldMatch{exact(1, id)},
			Action: action(h.setIPNH, rif, nbr)}),
		entry(&p4v1.TableEntry{TableId: h.v4Table, Match: []*p4v1.FieldMatch{exact(1, nil),
			{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: canonical(a[:]), PrefixLen: int32(r.Prefix.Bits())}}}},
			Action: action(h.setNH, id)}),
	}
}

func BenchmarkHandBuiltRoute(b *testing.B) {
	h := resolveHandIDs(b, saiSchema(b))
	routes := benchObjectives()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = handBuild(&h, &routes[i%benchRoutes])
		i++
	}
}

// TestHandBuiltMatchesTranslate makes sure the two benchmarks build the
// same entities.
func TestHandBuiltMatchesTranslate(t *testing.T) {
	p := newPipeliner(t)
	h := resolveHandIDs(t, p.Schema())
	routes := benchObjectives()
	for i := 0; i < benchRoutes; i += 97 {
		got, err := p.Translate(routes[i])
		if err != nil {
			t.Fatal(err)
		}
		want := handBuild(&h, &routes[i])
		if len(got) != len(want) {
			t.Fatalf("route %d: %d entities, hand-built %d", i, len(got), len(want))
		}
		for j := range got {
			if !proto.Equal(got[j], want[j]) {
				t.Fatalf("route %d entity %d:\n\t%v\nhand-built\n\t%v", i, j, got[j], want[j])
			}
		}
	}
}
