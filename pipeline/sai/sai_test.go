package sai_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/pipeline/sai"
)

func TestNew(t *testing.T) {
	p, err := sai.New(saiSchema(t), pipeline.DeviceOptions{CPUPort: 255})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Program(); got != "sai-middleblock" {
		t.Errorf("Program() = %q", got)
	}
	var _ pipeline.NewPipeliner = sai.New
}

func TestNewRejectsOtherPrograms(t *testing.T) {
	basic, err := schema.New(p4infos.MustInfo("onos-basic"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sai.New(basic, pipeline.DeviceOptions{})
	if err == nil || !strings.Contains(err.Error(), "not a SAI-P4 middleblock P4Info") || !strings.Contains(err.Error(), "vrf_table") {
		t.Errorf("onos-basic: err = %v, want one naming the missing SAI-P4 tables", err)
	}

	tor := saiInfo()
	tor.PkgInfo.Name = "tor.p4"
	s, err := schema.New(tor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sai.New(s, pipeline.DeviceOptions{}); err == nil || !strings.Contains(err.Error(), `"tor.p4"`) {
		t.Errorf("tor.p4: err = %v, want a refusal naming the program", err)
	}

	// A SAI-P4 P4Info whose router interfaces take ports as numbers.
	info := saiInfo()
	for _, a := range info.Actions {
		for _, pp := range a.Params {
			if pp.Name == "port" {
				pp.TypeName, pp.Bitwidth = nil, 9
			}
		}
	}
	if s, err = schema.New(info); err != nil {
		t.Fatal(err)
	}
	if _, err := sai.New(s, pipeline.DeviceOptions{}); err == nil || !strings.Contains(err.Error(), "parameter port is bit<9>, want an SDN string") {
		t.Errorf("numeric ports: err = %v", err)
	}

	if _, err := sai.New(nil, pipeline.DeviceOptions{}); err == nil {
		t.Error("nil schema accepted")
	}
	if _, err := sai.NewWithConfig(saiSchema(t), pipeline.DeviceOptions{}, sai.Config{PuntPriority: -1}); err == nil {
		t.Error("negative punt priority accepted")
	}
}

func TestSupports(t *testing.T) {
	p := newPipeliner(t)
	want := map[objective.Kind]bool{
		objective.KindL3Interface: true, objective.KindBridging: false, objective.KindRoute: true,
		objective.KindNextHop: true, objective.KindNextHopGroup: true, objective.KindACL: true,
		objective.KindMulticast: true, objective.KindPunt: true,
	}
	for _, k := range objective.Kinds() {
		if got := p.Supports(k); got != want[k] {
			t.Errorf("Supports(%s) = %v, want %v", k, got, want[k])
		}
	}
	// Every supported kind has an objective in the round trip, every
	// unsupported one a test that it is refused.
	seen := map[objective.Kind]bool{}
	for _, o := range supported() {
		seen[o.Kind()] = true
	}
	for k, ok := range want {
		if ok && !seen[k] {
			t.Errorf("no %s objective in supported()", k)
		}
	}
}

// tables lists the tables of a translation, in order, for the shape tests.
func tables(s *schema.Schema, es []*p4v1.Entity) []string {
	var out []string
	for _, e := range es {
		if te := e.GetTableEntry(); te != nil {
			name := s.TableByID(te.TableId).Alias
			out = append(out, name)
			continue
		}
		if e.GetPacketReplicationEngineEntry().GetMulticastGroupEntry() != nil {
			out = append(out, "multicast_group")
		}
	}
	return out
}

// TestTranslate checks what each kind of objective becomes, entity by
// entity, in the readable form.
func TestTranslate(t *testing.T) {
	p := newPipeliner(t)
	s := p.Schema()
	tests := []struct {
		name string
		o    objective.Objective
		want []string
	}{{
		name: "route in the default VRF",
		o:    objective.Route{Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: hop(leaf2)}},
		want: []string{
			`table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="1/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="1", src_mac=00:aa:00:00:00:01)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:02)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf2") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2)`,
			`table_entry ingress.routing_lookup.ipv4_table match(vrf_id="", ipv4_dst=10.0.2.0/24) action=set_nexthop_id(nexthop_id="leaf2")`,
		},
	}, {
		name: "IPv6 route to a group in a VRF",
		o:    objective.Route{VRF: "red", Prefix: pfx("2001:db8::1/32"), Target: objective.Target{Group: &spines}},
		want: []string{
			`table_entry ingress.routing_lookup.vrf_table match(vrf_id="red") action=no_action()`,
			`table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="1/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="1", src_mac=00:aa:00:00:00:01)`,
			`table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="2/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="2", src_mac=00:aa:00:00:00:01)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:02)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:3) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:03)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:4) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:04)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf2") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf3") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:3)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf4") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:4)`,
			`table_entry ingress.routing_resolution.wcmp_group_table match(wcmp_group_id="spines") action_set(weight=3 watch="1" set_nexthop_id(nexthop_id="leaf2"), weight=1 watch="2" set_nexthop_id(nexthop_id="leaf3"), weight=2 watch="2" set_nexthop_id(nexthop_id="leaf4"))`,
			`table_entry ingress.routing_lookup.ipv6_table match(vrf_id="red", ipv6_dst=2001:db8::/32) action=ingress.routing_lookup.set_wcmp_group_id(wcmp_group_id="spines")`,
		},
	}, {
		name: "L3 interface in a VRF",
		o:    objective.L3Interface{Port: 2, RouterMAC: routerMAC, VRF: "blue"},
		want: []string{
			`table_entry ingress.l3_admit.l3_admit_table match(dst_mac=00:aa:00:00:00:01&&&ff:ff:ff:ff:ff:ff, in_port="2") priority=1 action=ingress.l3_admit.admit_to_l3()`,
			`table_entry ingress.routing_lookup.vrf_table match(vrf_id="blue") action=no_action()`,
			`table_entry ingress.acl_pre_ingress.acl_pre_ingress_table match(in_port="2") priority=1 action=ingress.acl_pre_ingress.set_vrf(vrf_id="blue")`,
		},
	}, {
		name: "ACL redirect",
		o: objective.ACL{Name: "r", Priority: 7, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: hop(leaf2)},
			Match: objective.ACLMatch{EtherType: 0x0800, DstIP: pfx("10.1.0.0/16"), IPProto: 17, L4Dst: 4789}},
		want: []string{
			`table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="1/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="1", src_mac=00:aa:00:00:00:01)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:02)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf2") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2)`,
			`table_entry ingress.acl_ingress.acl_ingress_table match(is_ipv4=1, dst_ip=10.1.0.0&&&255.255.0.0, ip_protocol=0x11&&&0xff, l4_dst_port=0x12b5&&&0xffff) priority=7 action=ingress.acl_ingress.redirect_to_nexthop(nexthop_id="leaf2")`,
		},
	}, {
		name: "ACL on IPv6 upper 64 bits",
		o: objective.ACL{Name: "v6", Priority: 5, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x86dd, DstIP: pfx("2001:db8:1:2::/64")}},
		want: []string{
			`table_entry ingress.acl_ingress.acl_ingress_table match(is_ipv6=1, dst_ipv6=2001:db8:1:2::&&&ffff:ffff:ffff:ffff::) priority=5 action=acl_drop()`,
		},
	}, {
		name: "ACL with program fields",
		o: objective.ACL{Name: "ttl", Priority: 5, Action: objective.ACLPunt,
			Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"ttl": {Value: 0, Mask: 0xfe}, "is_ip": {Value: 1, Mask: 1}, "ecn": {Mask: 0}}}},
		want: []string{
			`table_entry ingress.acl_ingress.acl_ingress_table match(is_ip=1, ttl=0x00&&&0xfe) priority=5 action=ingress.acl_ingress.acl_trap(qos_queue="0x7")`,
		},
	}, {
		name: "ACL permit",
		o:    objective.ACL{Name: "ok", Priority: 3, Action: objective.ACLPermit, Match: objective.ACLMatch{EtherType: 0x0806}},
		want: []string{
			`table_entry ingress.acl_ingress.acl_ingress_table match(ether_type=0x0806&&&0xffff) priority=3 action=ingress.acl_ingress.acl_forward()`,
		},
	}, {
		name: "punt LLDP",
		o:    objective.Punt{Protocol: objective.LLDP},
		want: []string{
			`table_entry ingress.acl_ingress.acl_ingress_table match(ether_type=0x88cc&&&0xffff) priority=4096 action=ingress.acl_ingress.acl_trap(qos_queue="0x7")`,
		},
	}, {
		name: "punt IPv6",
		o:    objective.Punt{EtherType: 0x86dd},
		want: []string{
			`table_entry ingress.acl_ingress.acl_ingress_table match(is_ipv6=1) priority=4096 action=ingress.acl_ingress.acl_trap(qos_queue="0x7")`,
		},
	}, {
		name: "multicast",
		o:    &objective.Multicast{GroupID: 7, Ports: []uint32{1, 2}},
		want: []string{
			`table_entry egress.packet_rewrites.multicast_rewrites.multicast_router_interface_table match(multicast_replica_port="1", multicast_replica_instance=0) action=egress.packet_rewrites.multicast_rewrites.l2_multicast_passthrough()`,
			`table_entry egress.packet_rewrites.multicast_rewrites.multicast_router_interface_table match(multicast_replica_port="2", multicast_replica_instance=0) action=egress.packet_rewrites.multicast_rewrites.l2_multicast_passthrough()`,
			`multicast_group 7 replicas(port="1" instance=0, port="2" instance=0)`,
		},
	}, {
		name: "next hop",
		o:    &leaf3,
		want: []string{
			`table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="2/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="2", src_mac=00:aa:00:00:00:01)`,
			`table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:3) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:03)`,
			`table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf3") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="2/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:3)`,
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := p.Translate(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, entity.Format(s, e))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// TestTranslateOrder checks that every translation is in dependency
// order: ranks never decrease.
func TestTranslateOrder(t *testing.T) {
	p := newPipeliner(t)
	for _, o := range supported() {
		es, err := p.Translate(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.Kind(), o.Key(), err)
		}
		for i := 1; i < len(es); i++ {
			if p.Rank(es[i]) < p.Rank(es[i-1]) {
				t.Errorf("%s %s: entity %d (%v, rank %d) after one of rank %d", o.Kind(), o.Key(), i,
					tables(p.Schema(), es[i:i+1]), p.Rank(es[i]), p.Rank(es[i-1]))
			}
		}
	}
}

// TestRoundTrip writes the translation of every supported objective to an
// emulated switch running SAI-P4 middleblock's P4Info, rank by rank, reads
// everything back and compares; then deletes it all in reverse rank order.
func TestRoundTrip(t *testing.T) {
	p := newPipeliner(t)
	c := startSwitch(t)
	ctx := testCtx(t)

	want := map[string]*p4v1.Entity{}
	byRank := map[int][]*p4v1.Entity{}
	for _, o := range supported() {
		es, err := p.Translate(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.Kind(), o.Key(), err)
		}
		for _, e := range es {
			k := entity.Key(e)
			if prev, ok := want[k]; ok {
				if !proto.Equal(prev, e) {
					t.Errorf("%s %s: two different entities with one key:\n\t%s\n\t%s", o.Kind(), o.Key(),
						entity.Format(p.Schema(), prev), entity.Format(p.Schema(), e))
				}
				continue
			}
			want[k] = e
			byRank[p.Rank(e)] = append(byRank[p.Rank(e)], e)
		}
	}
	ranks := make([]int, 0, len(byRank))
	for r := range byRank {
		ranks = append(ranks, r)
	}
	slices.Sort(ranks)
	for _, r := range ranks {
		var ups []*p4v1.Update
		for _, e := range byRank[r] {
			ups = append(ups, &p4v1.Update{Type: p4v1.Update_INSERT, Entity: clone(e)})
		}
		if err := c.Write(ctx, ups); err != nil {
			t.Fatalf("rank %d: %v", r, describeWriteError(p.Schema(), err))
		}
	}

	got := readAll(t, c)
	if len(got) != len(want) {
		t.Errorf("read %d entities back, wrote %d", len(got), len(want))
	}
	for _, e := range got {
		w, ok := want[entity.Key(e)]
		switch {
		case !ok:
			t.Errorf("read back an entity never written: %s", entity.Format(p.Schema(), e))
		case !proto.Equal(w, e):
			t.Errorf("read back\n\t%s\nwrote\n\t%s", entity.Format(p.Schema(), e), entity.Format(p.Schema(), w))
		}
	}

	for i := len(ranks) - 1; i >= 0; i-- {
		var ups []*p4v1.Update
		for _, e := range byRank[ranks[i]] {
			ups = append(ups, &p4v1.Update{Type: p4v1.Update_DELETE, Entity: clone(e)})
		}
		if err := c.Write(ctx, ups); err != nil {
			t.Fatalf("delete rank %d: %v", ranks[i], describeWriteError(p.Schema(), err))
		}
	}
	if left := readAll(t, c); len(left) != 0 {
		t.Errorf("%d entities left after deleting everything", len(left))
	}
}

func describeWriteError(s *schema.Schema, err error) error {
	var werr *client.WriteError
	if !errors.As(err, &werr) {
		return err
	}
	var b strings.Builder
	b.WriteString(err.Error())
	for _, u := range werr.Updates {
		fmt.Fprintf(&b, "\n\t%s: %s: %s", entity.Format(s, u.Update.GetEntity()), u.Code, u.Message)
	}
	return errors.New(b.String())
}

// TestDefaultVRFRoute checks that a route in the default VRF matches
// vrf_id "" — what SAI-P4 maps to VRF 0 (@p4runtime_translation_mappings
// on vrf_id_t) — and that no vrf_table entry is written for it.
func TestDefaultVRFRoute(t *testing.T) {
	p := newPipeliner(t)
	r := objective.Route{Prefix: pfx("0.0.0.0/0"), Target: objective.Target{NextHop: hop(leaf2)}}
	es, err := p.Translate(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := tables(p.Schema(), es); !slices.Equal(got, []string{"router_interface_table", "neighbor_table", "nexthop_table", "ipv4_table"}) {
		t.Fatalf("tables %v", got)
	}
	route := es[len(es)-1].GetTableEntry()
	if len(route.Match) != 1 || route.Match[0].FieldId != 1 || route.Match[0].GetExact() == nil || len(route.Match[0].GetExact().Value) != 0 {
		t.Errorf("default route match %v, want vrf_id \"\" and no ipv4_dst (the /0 is don't care)", route.Match)
	}

	// The switch takes vrf_id "" as PINS switches do.
	c := startSwitch(t)
	ctx := testCtx(t)
	for _, e := range es {
		if err := c.Insert(ctx, clone(e)); err != nil {
			t.Fatal(describeWriteError(p.Schema(), err))
		}
	}
}

// TestSharedEntities checks that objectives sharing a next hop give
// identical entities for it, whether the next hop is on its own, in a
// route or in a group.
func TestSharedEntities(t *testing.T) {
	p := newPipeliner(t)
	r1, err := p.Translate(objective.Route{Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: hop(leaf2)}})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := p.Translate(&objective.Route{Prefix: pfx("10.0.3.0/24"), Target: objective.Target{NextHop: hop(leaf2)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != 4 || len(r2) != 4 {
		t.Fatalf("got %d and %d entities, want 4 each", len(r1), len(r2))
	}
	for i := range 3 {
		if !proto.Equal(r1[i], r2[i]) {
			t.Errorf("shared entity %d differs:\n\t%s\n\t%s", i, entity.Format(p.Schema(), r1[i]), entity.Format(p.Schema(), r2[i]))
		}
	}
	if entity.Key(r1[3]) == entity.Key(r2[3]) {
		t.Error("the two routes have the same key")
	}

	byKey := func(es []*p4v1.Entity) map[string]*p4v1.Entity {
		m := map[string]*p4v1.Entity{}
		for _, e := range es {
			m[entity.Key(e)] = e
		}
		return m
	}
	alone, err := p.Translate(leaf2)
	if err != nil {
		t.Fatal(err)
	}
	group, err := p.Translate(spines)
	if err != nil {
		t.Fatal(err)
	}
	g := byKey(group)
	for i, e := range alone {
		if !proto.Equal(e, r1[i]) {
			t.Errorf("next hop alone and in a route differ at %d", i)
		}
		if ge, ok := g[entity.Key(e)]; !ok || !proto.Equal(ge, e) {
			t.Errorf("next hop %s is not the same in the group", entity.Format(p.Schema(), e))
		}
	}
	// leaf3 and leaf4 share port 2's router interface: written once.
	if got := tables(p.Schema(), group); !slices.Equal(got, []string{"router_interface_table", "router_interface_table",
		"neighbor_table", "neighbor_table", "neighbor_table", "nexthop_table", "nexthop_table", "nexthop_table", "wcmp_group_table"}) {
		t.Errorf("group tables %v", got)
	}
	// The same VRF from a route and an L3 interface.
	rv, _ := p.Translate(objective.Route{VRF: "blue", Prefix: pfx("10.9.0.0/16"), Target: objective.Target{NextHop: hop(leaf2)}})
	lv, _ := p.Translate(objective.L3Interface{Port: 4, RouterMAC: routerMAC, VRF: "blue"})
	if !proto.Equal(rv[0], lv[1]) || !strings.Contains(entity.Format(p.Schema(), rv[0]), "vrf_table") {
		t.Errorf("VRF entities differ:\n\t%s\n\t%s", entity.Format(p.Schema(), rv[0]), entity.Format(p.Schema(), lv[1]))
	}
}

func TestUnsupported(t *testing.T) {
	p := newPipeliner(t)
	noSrc := leaf2
	noSrc.SrcMAC = nil
	zeroSrc := leaf2
	zeroSrc.SrcMAC = objective.MustMAC("00:00:00:00:00:00")
	noDst := leaf2
	noDst.ID, noDst.DstMAC = "no-dst", nil
	vlan := leaf2
	vlan.VLAN = 10
	big := objective.NextHopGroup{ID: "big", Members: []objective.Weighted{{NextHop: leaf2, Weight: 300}, {NextHop: leaf3, Weight: 300}}}
	tests := []struct {
		o      objective.Objective
		reason string
	}{
		{objective.Bridging{VLAN: 10, MAC: routerMAC, Port: 1}, "no L2 forwarding table"},
		{objective.Bridging{MAC: routerMAC, NextHop: hop(leaf2)}, "no L2 forwarding table"},
		{objective.L3Interface{Port: 1, VLAN: 10, RouterMAC: routerMAC}, "does not match VLANs"},
		{noSrc, "has no src_mac"},
		{zeroSrc, "src_mac != 0"},
		{noDst, "has no dst_mac"},
		{vlan, "unicast_set_port_and_src_mac_and_vlan_id) is @unsupported"},
		{objective.Route{Prefix: pfx("10.0.0.0/8"), Target: objective.Target{NextHop: &vlan}}, "@unsupported"},
		{objective.NextHopGroup{ID: "g", Members: []objective.Weighted{{NextHop: leaf2}, {NextHop: noDst}}}, "has no dst_mac"},
		{big, "sum of weights 600 exceeds the WCMP selector's max_group_size 512"},
		{objective.ACL{Name: "p", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{InPort: 3}}, "no in_port field"},
		{objective.ACL{Name: "s", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{SrcMAC: routerMAC}}, "no src_mac field"},
		{objective.ACL{Name: "v6", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x86dd, DstIP: pfx("2001:db8::1/128")}}, "upper 64 bits"},
		{objective.ACL{Name: "v4on6", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x86dd, DstIP: pfx("10.0.0.0/8")}}, "needs ether_type 0x0800"},
		{objective.ACL{Name: "arp-ip", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x0806, IPProto: 6}}, "needs ether_type 0x0800 or 0x86dd"},
		{objective.ACL{Name: "icmp-port", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x0800, IPProto: 1, L4Dst: 80}}, "needs ip_proto 6 (TCP) or 17 (UDP)"},
		{objective.ACL{Name: "f", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"vlan_id": {Value: 1, Mask: 0xfff}}}}, `no field "vlan_id"`},
		{objective.ACL{Name: "opt", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"is_ip": {Value: 1, Mask: 3}}}}, "does not fit bit<1>"},
		{objective.ACL{Name: "dup", Priority: 1, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x0806, Fields: map[string]objective.Ternary{"ether_type": {Value: 0x0806, Mask: 0xffff}}}}, "set twice"},
		{objective.ACL{Name: "g", Priority: 1, Action: objective.ACLRedirect, Target: &objective.Target{Group: &spines}}, "not to a WCMP group"},
		{objective.Multicast{GroupID: 70000, Ports: []uint32{1}}, "bit<16>"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s", tc.o.Kind(), tc.o.Key()), func(t *testing.T) {
			es, err := p.Translate(tc.o)
			if es != nil {
				t.Errorf("partial result %v", es)
			}
			var ue *objective.UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want an *objective.UnsupportedError", err)
			}
			if !errors.Is(err, objective.ErrUnsupported) {
				t.Error("errors.Is(err, objective.ErrUnsupported) is false")
			}
			if ue.Program != "sai-middleblock" || ue.Kind != tc.o.Kind() || ue.Key != tc.o.Key() {
				t.Errorf("error names %s %s on %s, want %s %s on sai-middleblock", ue.Kind, ue.Key, ue.Program, tc.o.Kind(), tc.o.Key())
			}
			if !strings.Contains(ue.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", ue.Reason, tc.reason)
			}
			msg := err.Error()
			if !strings.Contains(msg, "sai-middleblock") || !strings.Contains(msg, tc.o.Key()) {
				t.Errorf("message %q does not name the objective and the program", msg)
			}
		})
	}
}

// TestInvalid checks that an invalid objective is its Validate error, not
// an unsupported one.
func TestInvalid(t *testing.T) {
	p := newPipeliner(t)
	for _, o := range []objective.Objective{
		objective.Route{Prefix: pfx("10.0.0.0/8")},
		objective.NextHop{Port: 1},
		objective.NextHopGroup{ID: "empty"},
		objective.L3Interface{Port: 1},
		objective.ACL{Name: "x", Priority: 1, Action: "mirror"},
		objective.Punt{Protocol: "ospf"},
		objective.Multicast{GroupID: 1},
		objective.Bridging{MAC: routerMAC},
	} {
		_, err := p.Translate(o)
		if err == nil || errors.Is(err, objective.ErrUnsupported) || err.Error() != o.Validate().Error() {
			t.Errorf("%s: err = %v, want %v", o.Kind(), err, o.Validate())
		}
	}
	if _, err := p.Translate(nil); err == nil {
		t.Error("nil objective accepted")
	}
	if _, err := p.Translate((*objective.Route)(nil)); err == nil {
		t.Error("nil *Route accepted")
	}
}

// TestDeterminism translates every objective twice, concurrently, and
// compares.
func TestDeterminism(t *testing.T) {
	p := newPipeliner(t)
	objs := supported()
	first := make([][]*p4v1.Entity, len(objs))
	for i, o := range objs {
		es, err := p.Translate(o)
		if err != nil {
			t.Fatal(err)
		}
		first[i] = es
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i, o := range objs {
				es, err := p.Translate(o)
				if err != nil {
					t.Error(err)
					return
				}
				if len(es) != len(first[i]) {
					t.Errorf("%s %s: %d entities, then %d", o.Kind(), o.Key(), len(first[i]), len(es))
					return
				}
				for j := range es {
					if !proto.Equal(es[j], first[i][j]) {
						t.Errorf("%s %s: entity %d differs between translations", o.Kind(), o.Key(), j)
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestConfig(t *testing.T) {
	p, err := sai.NewWithConfig(saiSchema(t), pipeline.DeviceOptions{}, sai.Config{CPUQueue: "CONTROLLER_PRIORITY_1", PuntPriority: 77})
	if err != nil {
		t.Fatal(err)
	}
	es, err := p.Translate(objective.Punt{Protocol: objective.ARP})
	if err != nil {
		t.Fatal(err)
	}
	want := `table_entry ingress.acl_ingress.acl_ingress_table match(ether_type=0x0806&&&0xffff) priority=77 action=ingress.acl_ingress.acl_trap(qos_queue="CONTROLLER_PRIORITY_1")`
	if got := entity.Format(p.Schema(), es[0]); got != want {
		t.Errorf("got %s", got)
	}
	if c := newPipeliner(t).Config(); c.CPUQueue != sai.DefaultCPUQueue || c.PuntPriority != sai.DefaultPuntPriority {
		t.Errorf("default config %+v", c)
	}
}

// TestVLANRouterInterface checks next hops with a VLAN on a SAI-P4
// P4Info whose VLAN router interface action is not @unsupported.
func TestVLANRouterInterface(t *testing.T) {
	info := saiInfo()
	for _, a := range info.Actions {
		if a.Preamble.Alias == "unicast_set_port_and_src_mac_and_vlan_id" {
			a.Preamble.Annotations = slices.DeleteFunc(a.Preamble.Annotations, func(s string) bool { return s == "@unsupported" })
		}
	}
	s, err := schema.New(info)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sai.New(s, pipeline.DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nh := leaf2
	nh.VLAN = 10
	es, err := p.Translate(nh)
	if err != nil {
		t.Fatal(err)
	}
	want := `table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="1/00:aa:00:00:00:01/10") action=ingress.routing_resolution.unicast_set_port_and_src_mac_and_vlan_id(port="1", src_mac=00:aa:00:00:00:01, vlan_id=10)`
	if got := entity.Format(s, es[0]); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := entity.Format(s, es[2]); !strings.Contains(got, `router_interface_id="1/00:aa:00:00:00:01/10"`) {
		t.Errorf("next hop does not use the VLAN interface: %s", got)
	}
}

func TestIDs(t *testing.T) {
	// The example of sonic-pins' p4rt_app neighbor test.
	if got := sai.NeighborID(objective.MustMAC("00:1a:11:17:5f:80")).String(); got != "fe80::21a:11ff:fe17:5f80" {
		t.Errorf("NeighborID = %s", got)
	}
	if got := sai.RouterInterfaceID(12, objective.MustMAC("00:02:03:04:05:06"), 0); got != "12/00:02:03:04:05:06" {
		t.Errorf("RouterInterfaceID = %s", got)
	}
	if got := sai.RouterInterfaceID(1, routerMAC, 4094); got != "1/00:aa:00:00:00:01/4094" {
		t.Errorf("RouterInterfaceID with VLAN = %s", got)
	}
}

// TestRanks checks Rank against every @refers_to and @referenced_by of the
// P4Info and the routing chain SAI creates objects in.
func TestRanks(t *testing.T) {
	p := newPipeliner(t)
	refs := sai.References(p.Schema())
	if len(refs) < 10 {
		t.Fatalf("only %d references found", len(refs))
	}
	for _, r := range refs {
		from, err := p.RankOf(r.From)
		if err != nil {
			t.Fatal(err)
		}
		to, err := p.RankOf(r.To)
		if err != nil {
			t.Fatal(err)
		}
		if from <= to {
			t.Errorf("%s.%s refers to %s.%s but ranks %d <= %d", r.From, r.Field, r.To, r.Key, from, to)
		}
	}
	chain := []string{"vrf_table", "router_interface_table", "neighbor_table", "nexthop_table", "wcmp_group_table", "ipv4_table"}
	for i := 1; i < len(chain); i++ {
		a, _ := p.RankOf(chain[i-1])
		b, _ := p.RankOf(chain[i])
		if a >= b {
			t.Errorf("rank(%s) = %d >= rank(%s) = %d", chain[i-1], a, chain[i], b)
		}
	}
	v4, _ := p.RankOf("ipv4_table")
	v6, _ := p.RankOf("ipv6_table")
	if v4 != v6 {
		t.Errorf("ipv4_table ranks %d, ipv6_table %d", v4, v6)
	}
	// Rank of entities, not only of tables.
	es, err := p.Translate(objective.Multicast{GroupID: 3, Ports: []uint32{1}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rank(es[0]) >= p.Rank(es[1]) {
		t.Errorf("replica rewrite ranks %d, its group %d", p.Rank(es[0]), p.Rank(es[1]))
	}
	acl, _ := p.RankOf("acl_ingress_table")
	aclTable, _ := p.Schema().Table("acl_ingress_table")
	dc := &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
		TableEntry: &p4v1.TableEntry{TableId: aclTable.ID}}}}
	if got := p.Rank(dc); got != acl+1 {
		t.Errorf("direct counter of acl_ingress_table ranks %d, want %d", got, acl+1)
	}
	if got := p.Rank(&p4v1.Entity{}); got != 0 {
		t.Errorf("empty entity ranks %d", got)
	}
}
