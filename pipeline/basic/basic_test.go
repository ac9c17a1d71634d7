package basic_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/pipeline/objective"
)

var (
	nh1  = objective.NextHop{ID: "nh1", Port: 1}
	nh2  = objective.NextHop{ID: "nh2", Port: 2}
	nh3  = objective.NextHop{ID: "3", Port: 3}
	grp  = objective.NextHopGroup{ID: "spines", Members: []objective.Weighted{{NextHop: nh1}, {NextHop: nh2, Weight: 3}}}
	mac1 = objective.MustMAC("00:00:00:00:00:0a")
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// Readable forms of the shared entities.
func memberLine(nh objective.NextHop) string {
	return fmt.Sprintf("action_profile_member ingress.wcmp_control.wcmp_selector member=%d action=ingress.wcmp_control.set_egress_port(port=%d)", basic.MemberID(nh.ID), nh.Port)
}

func wcmpMemberLine(nh objective.NextHop) string {
	return fmt.Sprintf("table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=%d) member=%d", basic.NextHopID(nh.ID), basic.MemberID(nh.ID))
}

func groupLines() []string {
	return []string{
		memberLine(nh1), memberLine(nh2),
		fmt.Sprintf("action_profile_group ingress.wcmp_control.wcmp_selector group=%d members(%d weight=1, %d weight=3)", basic.GroupID("spines"), basic.MemberID("nh1"), basic.MemberID("nh2")),
		fmt.Sprintf("table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=%d) group=%d", basic.NextHopID("spines"), basic.GroupID("spines")),
	}
}

func TestTranslate(t *testing.T) {
	p := newPipeliner(t)
	s := basicSchema(t)
	t0 := "table_entry ingress.table0_control.table0 "
	tests := []struct {
		name string
		obj  objective.Objective
		want []string
	}{
		{"next hop", nh1, []string{memberLine(nh1), wcmpMemberLine(nh1)}},
		{"numeric next hop ID", nh3, []string{memberLine(nh3),
			fmt.Sprintf("table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=3) member=%d", basic.MemberID("3"))}},
		{"group", grp, groupLines()},
		{"route to next hop", objective.Route{Prefix: pfx("10.0.1.0/24"), Target: objective.Target{NextHop: &nh1}}, []string{
			memberLine(nh1), wcmpMemberLine(nh1),
			t0 + fmt.Sprintf("match(hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.dst_addr=10.0.1.0&&&255.255.255.0) priority=1024 action=ingress.table0_control.set_next_hop_id(next_hop_id=%d)", basic.NextHopID("nh1")),
		}},
		{"route host bits cleared", objective.Route{Prefix: pfx("10.0.1.7/16"), Target: objective.Target{NextHop: &nh3}}, []string{
			memberLine(nh3), fmt.Sprintf("table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=3) member=%d", basic.MemberID("3")),
			t0 + "match(hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.dst_addr=10.0.0.0&&&255.255.0.0) priority=1016 action=ingress.table0_control.set_next_hop_id(next_hop_id=3)",
		}},
		{"default route to group", objective.Route{Prefix: pfx("0.0.0.0/0"), Target: objective.Target{Group: &grp}}, append(groupLines(),
			t0+fmt.Sprintf("match(hdr.ethernet.ether_type=0x0800&&&0xffff) priority=1000 action=ingress.table0_control.set_next_hop_id(next_hop_id=%d)", basic.NextHopID("spines")))},
		{"bridging to port", objective.Bridging{MAC: mac1, Port: 3}, []string{
			t0 + "match(hdr.ethernet.dst_addr=00:00:00:00:00:0a&&&ff:ff:ff:ff:ff:ff) priority=2000 action=ingress.table0_control.set_egress_port(port=3)",
		}},
		{"bridging to next hop", objective.Bridging{MAC: mac1, NextHop: &nh2}, []string{
			memberLine(nh2), wcmpMemberLine(nh2),
			t0 + fmt.Sprintf("match(hdr.ethernet.dst_addr=00:00:00:00:00:0a&&&ff:ff:ff:ff:ff:ff) priority=2000 action=ingress.table0_control.set_next_hop_id(next_hop_id=%d)", basic.NextHopID("nh2")),
		}},
		{"punt lldp", objective.Punt{Protocol: objective.LLDP}, []string{
			t0 + "match(hdr.ethernet.ether_type=0x88cc&&&0xffff) priority=30000 action=ingress.table0_control.send_to_cpu()",
		}},
		{"punt by ether type", objective.Punt{EtherType: 0x0806}, []string{
			t0 + "match(hdr.ethernet.ether_type=0x0806&&&0xffff) priority=30000 action=ingress.table0_control.send_to_cpu()",
		}},
		{"acl drop 5-tuple", objective.ACL{Name: "ssh", Priority: 5, Action: objective.ACLDrop, Match: objective.ACLMatch{
			InPort: 2, EtherType: 0x0800, SrcIP: pfx("10.1.0.0/16"), DstIP: pfx("10.2.3.4/32"), IPProto: 6, L4Src: 1024, L4Dst: 22}}, []string{
			t0 + "match(standard_metadata.ingress_port=0x002&&&0x1ff, hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.src_addr=10.1.0.0&&&255.255.0.0, hdr.ipv4.dst_addr=10.2.3.4&&&255.255.255.255, hdr.ipv4.protocol=0x06&&&0xff, local_metadata.l4_src_port=0x0400&&&0xffff, local_metadata.l4_dst_port=0x0016&&&0xffff) priority=40005 action=ingress.table0_control.drop()",
		}},
		{"acl punt by MAC", objective.ACL{Name: "arp-from", Priority: 1, Action: objective.ACLPunt, Match: objective.ACLMatch{SrcMAC: mac1, DstMAC: objective.MustMAC("ff:ff:ff:ff:ff:ff")}}, []string{
			t0 + "match(hdr.ethernet.src_addr=00:00:00:00:00:0a&&&ff:ff:ff:ff:ff:ff, hdr.ethernet.dst_addr=ff:ff:ff:ff:ff:ff&&&ff:ff:ff:ff:ff:ff) priority=40001 action=ingress.table0_control.send_to_cpu()",
		}},
		{"acl redirect with program fields", objective.ACL{Name: "steer", Priority: 7, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: &nh1},
			Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"local_metadata.l4_dst_port": {Value: 0x1000, Mask: 0xf000}}}}, []string{
			memberLine(nh1), wcmpMemberLine(nh1),
			t0 + fmt.Sprintf("match(local_metadata.l4_dst_port=0x1000&&&0xf000) priority=40007 action=ingress.table0_control.set_next_hop_id(next_hop_id=%d)", basic.NextHopID("nh1")),
		}},
		{"pointer objective", &objective.Punt{Protocol: objective.ARP}, []string{
			t0 + "match(hdr.ethernet.ether_type=0x0806&&&0xffff) priority=30000 action=ingress.table0_control.send_to_cpu()",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := p.Translate(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				if _, err := entity.Describe(s, e); err != nil {
					t.Errorf("the schema does not resolve %s: %v", entity.Format(s, e), err)
				}
				got = append(got, entity.Format(s, e))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("entities:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// Dependency order: ranks never decrease.
			for i := 1; i < len(es); i++ {
				if p.Rank(es[i]) < p.Rank(es[i-1]) {
					t.Errorf("entity %d ranks below entity %d", i, i-1)
				}
			}
			// A pure function: the same objective gives equal entities.
			again, err := p.Translate(tt.obj)
			if err != nil || len(again) != len(es) {
				t.Fatalf("second translation: %d entities, %v", len(again), err)
			}
			for i := range es {
				if !diff.Equal(es[i], again[i]) {
					t.Errorf("entity %d differs on a second translation", i)
				}
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	p := newPipeliner(t)
	macNH := objective.NextHop{ID: "gw", Port: 1, SrcMAC: mac1, DstMAC: objective.MustMAC("00:00:00:00:00:0b")}
	tests := []struct {
		name   string
		obj    objective.Objective
		reason string
	}{
		{"l3 interface", objective.L3Interface{Port: 1, RouterMAC: mac1}, "no router MAC or L3 admit table"},
		{"multicast", objective.Multicast{GroupID: 1, Ports: []uint32{1, 2}}, "does not use the packet replication engine"},
		{"route through MAC rewrite", objective.Route{Prefix: pfx("10.0.0.0/8"), Target: objective.Target{NextHop: &macNH}}, `next hop "gw" rewrites MAC addresses and basic.p4 has no MAC rewrite`},
		{"group member with MAC rewrite", objective.NextHopGroup{ID: "g", Members: []objective.Weighted{{NextHop: nh1}, {NextHop: macNH}}}, "no MAC rewrite"},
		{"next hop with VLAN", objective.NextHop{ID: "v", Port: 1, VLAN: 10}, "does not parse or push VLAN tags"},
		{"next hop on port 600", objective.NextHop{ID: "far", Port: 600}, "port 600 does not fit basic.p4's 9-bit port"},
		{"next hop on the CPU port", objective.NextHop{ID: "cpu", Port: 255}, "port 255 is the CPU port"},
		{"IPv6 route", objective.Route{Prefix: pfx("2001:db8::/32"), Target: objective.Target{NextHop: &nh1}}, "parses IPv4 only"},
		{"route in a VRF", objective.Route{VRF: "blue", Prefix: pfx("10.0.0.0/8"), Target: objective.Target{NextHop: &nh1}}, `no VRFs (route in VRF "blue")`},
		{"bridging in a VLAN", objective.Bridging{VLAN: 10, MAC: mac1, Port: 1}, "does not parse VLAN tags"},
		{"bridging to a MAC rewrite", objective.Bridging{MAC: mac1, NextHop: &macNH}, "no MAC rewrite"},
		{"acl permit", objective.ACL{Name: "p", Priority: 1, Action: objective.ACLPermit}, "basic.p4 has no permit"},
		{"acl on IPv6", objective.ACL{Name: "v6", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{EtherType: 0x86dd, SrcIP: pfx("2001:db8::/32")}}, "parses IPv4 only"},
		{"acl on in_port 512", objective.ACL{Name: "p", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{InPort: 512}}, "in_port 512 does not fit"},
		{"acl on an unknown field", objective.ACL{Name: "f", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"hdr.vlan.vid": {Value: 1, Mask: 1}}}}, `table0 has no field "hdr.vlan.vid"`},
		{"acl priority too high", objective.ACL{Name: "hi", Priority: basic.MaxACLPriority + 1, Action: objective.ACLDrop}, "does not fit table0's priorities"},
		{"redirect through MAC rewrite", objective.ACL{Name: "r", Priority: 1, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: &macNH}}, "no MAC rewrite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := p.Translate(tt.obj)
			if err == nil {
				t.Fatalf("translated into %d entities, want an error", len(es))
			}
			var ue *objective.UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, objective.ErrUnsupported) {
				t.Fatalf("err = %v (%T), want an *objective.UnsupportedError", err, err)
			}
			if ue.Program != basic.Program || ue.Kind != tt.obj.Kind() || ue.Key != tt.obj.Key() {
				t.Errorf("error names %s %s on %s, want %s %s on %s", ue.Kind, ue.Key, ue.Program, tt.obj.Kind(), tt.obj.Key(), basic.Program)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %q, want the reason %q", err, tt.reason)
			}
			if es != nil {
				t.Errorf("partial result: %d entities", len(es))
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	p := newPipeliner(t)
	tests := []struct {
		name string
		obj  objective.Objective
		want string
	}{
		{"nil", nil, "nil objective"},
		{"nil pointer", (*objective.Route)(nil), "nil objective"},
		{"route without target", objective.Route{Prefix: pfx("10.0.0.0/8")}, "no next_hop or group"},
		{"route without prefix", objective.Route{Target: objective.Target{NextHop: &nh1}}, "prefix is required"},
		{"next hop without port", objective.NextHop{ID: "x"}, "port is required"},
		{"acl field twice", objective.ACL{Name: "twice", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{EtherType: 0x800,
			Fields: map[string]objective.Ternary{"hdr.ethernet.ether_type": {Value: 1, Mask: 1}}}}, "matched twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Translate(tt.obj)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if errors.Is(err, objective.ErrUnsupported) {
				t.Errorf("an invalid objective is not an unsupported one: %v", err)
			}
		})
	}
}

func TestSupports(t *testing.T) {
	p := newPipeliner(t)
	want := map[objective.Kind]bool{
		objective.KindNextHop: true, objective.KindNextHopGroup: true, objective.KindRoute: true,
		objective.KindBridging: true, objective.KindACL: true, objective.KindPunt: true,
	}
	for _, k := range objective.Kinds() {
		if p.Supports(k) != want[k] {
			t.Errorf("Supports(%s) = %v, want %v", k, p.Supports(k), want[k])
		}
	}
	if p.Program() != "onos-basic" {
		t.Errorf("Program = %q", p.Program())
	}
}

func TestNewRejectsOtherPrograms(t *testing.T) {
	if _, err := basic.New(nil, pipeline.DeviceOptions{}); err == nil {
		t.Error("New(nil): no error")
	}
	for _, name := range []string{"fabric-v1model", "sai-middleblock", "bmv2-simple_router"} {
		s, err := schema.New(p4infos.MustInfo(name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = basic.New(s, pipeline.DeviceOptions{})
		if err == nil || !strings.Contains(err.Error(), "not basic.p4's") {
			t.Errorf("%s: err = %v, want the schema refused", name, err)
		}
	}
}

func TestNextHopID(t *testing.T) {
	tests := []struct {
		id   string
		want uint16
	}{{"1", 1}, {"65535", 65535}, {"42", 42}}
	for _, tt := range tests {
		if got := basic.NextHopID(tt.id); got != tt.want {
			t.Errorf("NextHopID(%q) = %d, want %d", tt.id, got, tt.want)
		}
	}
	for _, id := range []string{"0", "65536", "007", "+5", "leaf1", ""} {
		got := basic.NextHopID(id)
		if got == 0 || got == basic.NextHopID(id+"x") {
			t.Errorf("NextHopID(%q) = %d: want a non-zero hash", id, got)
		}
	}
}

// allObjectives has an objective of every kind basic.p4 supports, sharing
// next hops.
func allObjectives() []objective.Objective {
	return []objective.Objective{
		nh1,
		grp,
		objective.Route{Prefix: pfx("10.0.1.0/24"), Target: objective.Target{NextHop: &nh1}},
		objective.Route{Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: &nh1}},
		objective.Route{Prefix: pfx("0.0.0.0/0"), Target: objective.Target{Group: &grp}},
		objective.Bridging{MAC: mac1, Port: 3},
		objective.Bridging{MAC: objective.MustMAC("00:00:00:00:00:0b"), NextHop: &nh3},
		objective.ACL{Name: "ssh", Priority: 5, Action: objective.ACLDrop, Match: objective.ACLMatch{EtherType: 0x0800, IPProto: 6, L4Dst: 22}},
		objective.ACL{Name: "punt-bcast", Priority: 2, Action: objective.ACLPunt, Match: objective.ACLMatch{DstMAC: objective.MustMAC("ff:ff:ff:ff:ff:ff")}},
		objective.ACL{Name: "steer", Priority: 3, Action: objective.ACLRedirect, Target: &objective.Target{Group: &grp}, Match: objective.ACLMatch{InPort: 4}},
		objective.Punt{Protocol: objective.LLDP},
		objective.Punt{Protocol: objective.ARP},
	}
}

// TestSwitchAcceptsEveryKind writes every supported kind to an emulated
// switch with basic.p4's P4Info through State, reads everything back and
// compares it with the entities State wants; then removes everything.
func TestSwitchAcceptsEveryKind(t *testing.T) {
	s := basicSchema(t)
	c := startSwitch(t, s)
	p := newPipeliner(t)
	st := pipeline.NewState(p)
	ctx := testCtx(t)

	for _, o := range allObjectives() {
		ups, err := st.Add(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.Kind(), o.Key(), err)
		}
		if err := c.Write(ctx, ups); err != nil {
			t.Fatalf("%s %s: the switch refuses: %v", o.Kind(), o.Key(), err)
		}
		sameSet(t, s, readAll(t, c), st.Entities())
	}
	// Shared next hops are written once.
	if got := st.Users(mustFirst(t, p, nh1)); got != 6 {
		t.Errorf("nh1's member has %d users, want 6 (itself, two routes, the group, the default route and the ACL through the group)", got)
	}
	objs := allObjectives()
	for i := len(objs) - 1; i >= 0; i-- {
		ups, err := st.Remove(objs[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, ups); err != nil {
			t.Fatalf("remove %s %s: the switch refuses: %v", objs[i].Kind(), objs[i].Key(), err)
		}
		sameSet(t, s, readAll(t, c), st.Entities())
	}
	if n := len(readAll(t, c)); n != 0 {
		t.Errorf("%d entities left on the switch", n)
	}
}

func mustFirst(t *testing.T, p pipeline.Pipeliner, o objective.Objective) *p4v1.Entity {
	t.Helper()
	es, err := p.Translate(o)
	if err != nil || len(es) == 0 {
		t.Fatalf("translate %v: %v", o, err)
	}
	return es[0]
}

// TestSwitchRefusesWithoutGroupMembers is a control: the round trip above
// means something only if the switch checks references.
func TestSwitchRefusesWithoutGroupMembers(t *testing.T) {
	s := basicSchema(t)
	c := startSwitch(t, s)
	es, err := newPipeliner(t).Translate(grp)
	if err != nil {
		t.Fatal(err)
	}
	// Skip the members: the group refers to members that do not exist.
	err = c.Write(testCtx(t), []*p4v1.Update{entity.Insert(es[2])})
	var werr *client.WriteError
	if !errors.As(err, &werr) {
		t.Fatalf("err = %v, want the group refused", err)
	}
}
