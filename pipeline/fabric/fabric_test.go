package fabric_test

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

var (
	macRouter = objective.MustMAC("00:aa:00:00:00:01")
	macHost1  = objective.MustMAC("00:bb:00:00:00:01")
	macHost2  = objective.MustMAC("00:bb:00:00:00:02")
	macHost3  = objective.MustMAC("00:bb:00:00:00:03")
)

func fabricSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New(p4infos.MustInfo("fabric-v1model"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPipeliner(t testing.TB) (pipeline.Pipeliner, *schema.Schema) {
	t.Helper()
	s := fabricSchema(t)
	pl, err := fabric.New(s, pipeline.DeviceOptions{CPUPort: 255})
	if err != nil {
		t.Fatal(err)
	}
	return pl, s
}

// Next hops shared by several objectives below.
var (
	nh1  = objective.NextHop{ID: "1", Port: 3, SrcMAC: macRouter, DstMAC: macHost1}
	nhB  = objective.NextHop{ID: "nh-b", Port: 4, VLAN: 20, SrcMAC: macRouter, DstMAC: macHost2}
	nhC  = objective.NextHop{ID: "nh-c", Port: 5, SrcMAC: macRouter, DstMAC: macHost3}
	nhD  = objective.NextHop{ID: "nh-d", Port: 6} // no MAC rewrite: output_hashed
	ecmp = objective.NextHopGroup{ID: "ecmp1", Members: []objective.Weighted{
		{NextHop: nhC, Weight: 3}, {NextHop: nh1, Weight: 2}}}
)

// everyKind returns objectives of every kind, with the variants the
// translation distinguishes.
func everyKind() []objective.Objective {
	return []objective.Objective{
		objective.L3Interface{Port: 1, RouterMAC: macRouter},
		objective.L3Interface{Port: 2, VLAN: 10, RouterMAC: macRouter},
		nh1,
		nhB,
		nhD,
		ecmp,
		objective.NextHopGroup{ID: "7", Members: []objective.Weighted{{NextHop: nhB}}},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Target: objective.Target{NextHop: &nh1}},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.1.0/24"), Target: objective.Target{Group: &ecmp}},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.2.1/32"), Target: objective.Target{NextHop: &nhB}},
		objective.Route{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Target: objective.Target{NextHop: &nh1}},
		objective.Bridging{VLAN: 10, MAC: macHost1, Port: 7},
		objective.Bridging{MAC: macHost2, Port: 3},
		objective.Bridging{VLAN: 20, MAC: macHost3, NextHop: &nhD},
		objective.ACL{Name: "drop-telnet", Priority: 100, Action: objective.ACLDrop, Match: objective.ACLMatch{
			InPort: 1, EtherType: 0x0800, SrcIP: netip.MustParsePrefix("192.168.0.0/16"), DstIP: netip.MustParsePrefix("10.0.0.1/32"),
			IPProto: 6, L4Src: 1024, L4Dst: 23}},
		objective.ACL{Name: "permit-mac", Priority: 90, Action: objective.ACLPermit, Match: objective.ACLMatch{
			SrcMAC: macHost1, DstMAC: macHost2}},
		objective.ACL{Name: "punt-icmp", Priority: 80, Action: objective.ACLPunt, Match: objective.ACLMatch{
			EtherType: 0x0800, IPProto: 1, Fields: map[string]objective.Ternary{"icmp_type": {Value: 8, Mask: 0xff}}}},
		objective.ACL{Name: "redirect-web", Priority: 70, Action: objective.ACLRedirect, Match: objective.ACLMatch{
			EtherType: 0x0800, IPProto: 6, L4Dst: 80}, Target: &objective.Target{Group: &ecmp}},
		objective.ACL{Name: "redirect-vlan", Priority: 60, Action: objective.ACLRedirect, Match: objective.ACLMatch{
			Fields: map[string]objective.Ternary{"vlan_id": {Value: 10, Mask: 0xfff}}}, Target: &objective.Target{NextHop: &nhB}},
		objective.Multicast{GroupID: 5, Ports: []uint32{7, 3, 8}},
		objective.Punt{Protocol: objective.LLDP},
		objective.Punt{Protocol: objective.ARP},
		objective.Punt{EtherType: 0x8942},
	}
}

// union translates objectives and merges their entities by key, failing
// when two objectives give different entities under one key.
func union(t *testing.T, pl pipeline.Pipeliner, s *schema.Schema, objs []objective.Objective) []*p4v1.Entity {
	t.Helper()
	byKey := map[string]*p4v1.Entity{}
	var out []*p4v1.Entity
	for _, o := range objs {
		ents, err := pl.Translate(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.Kind(), o.Key(), err)
		}
		for _, e := range ents {
			k := entity.Key(e)
			if prev, ok := byKey[k]; ok {
				if !proto.Equal(prev, e) {
					t.Fatalf("%s %s: two entities under one key:\n %s\n %s", o.Kind(), o.Key(), entity.Format(s, prev), entity.Format(s, e))
				}
				continue
			}
			byKey[k] = e
			out = append(out, e)
		}
	}
	return out
}

func startSwitch(t *testing.T, info *schema.Schema) *client.Client {
	t.Helper()
	return pipelinetest.Start(t, info.P4Info(), nil)
}

// writeByRank inserts entities one rank after the other, one write per
// rank.
func writeByRank(t *testing.T, c *client.Client, pl pipeline.Pipeliner, ents []*p4v1.Entity) {
	t.Helper()
	writeRanks(t, c, pl, ents, p4v1.Update_INSERT)
}

// writeRanks writes entities one rank after the other, one write per
// rank: lowest rank first for inserts, last for deletes.
func writeRanks(t *testing.T, c *client.Client, pl pipeline.Pipeliner, ents []*p4v1.Entity, typ p4v1.Update_Type) {
	t.Helper()
	ranks := map[int][]*p4v1.Update{}
	for _, e := range ents {
		r := pl.Rank(e)
		ranks[r] = append(ranks[r], &p4v1.Update{Type: typ, Entity: e})
	}
	keys := make([]int, 0, len(ranks))
	for r := range ranks {
		keys = append(keys, r)
	}
	slices.Sort(keys)
	if typ == p4v1.Update_DELETE {
		slices.Reverse(keys)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range keys {
		if err := c.Write(ctx, ranks[r]); err != nil {
			t.Fatalf("write rank %d: %v", r, err)
		}
	}
}

// readBack reads every table entry, member, group and multicast group.
func readBack(t *testing.T, c *client.Client) map[string]*p4v1.Entity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := c.ReadAll(ctx,
		entity.Wrap(&p4v1.TableEntry{}),
		entity.Wrap(&p4v1.ActionProfileMember{}),
		entity.Wrap(&p4v1.ActionProfileGroup{}),
		entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{
			MulticastGroupEntry: &p4v1.MulticastGroupEntry{}}}))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*p4v1.Entity{}
	for _, e := range got {
		out[entity.Key(e)] = e
	}
	return out
}

// TestSwitchAcceptsEveryKind writes the entities of every objective kind
// to an emulated switch with fabric.p4's P4Info, in rank order, and reads
// them back unchanged.
func TestSwitchAcceptsEveryKind(t *testing.T) {
	pl, s := newPipeliner(t)
	ents := union(t, pl, s, everyKind())
	for _, e := range ents {
		if _, err := entity.Describe(s, e); err != nil {
			t.Errorf("schema rejects %s: %v", entity.Format(s, e), err)
		}
	}
	c := startSwitch(t, s)
	writeByRank(t, c, pl, ents)
	got := readBack(t, c)
	if len(got) != len(ents) {
		t.Errorf("read back %d entities, wrote %d", len(got), len(ents))
	}
	for _, e := range ents {
		g, ok := got[entity.Key(e)]
		switch {
		case !ok:
			t.Errorf("not read back: %s", entity.Format(s, e))
		case !proto.Equal(g, e):
			t.Errorf("read back differs:\n got  %s\n want %s", entity.Format(s, g), entity.Format(s, e))
		}
	}
	// Deleting in reverse rank order never strands a reference.
	writeRanks(t, c, pl, ents, p4v1.Update_DELETE)
	if got := readBack(t, c); len(got) != 0 {
		t.Errorf("%d entities left after deleting all", len(got))
	}
}

// TestSharedNextHop: two routes through one next hop give identical
// next-hop entities; they differ only in their routing entries. Writing
// the shared entities once serves both.
func TestSharedNextHop(t *testing.T) {
	pl, s := newPipeliner(t)
	r1 := objective.Route{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Target: objective.Target{NextHop: &nh1}}
	nhCopy := nh1 // the same next hop, written inline in another objective
	r2 := objective.Route{Prefix: netip.MustParsePrefix("10.2.0.0/16"), Target: objective.Target{NextHop: &nhCopy}}
	e1, err := pl.Translate(r1)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := pl.Translate(r2)
	if err != nil {
		t.Fatal(err)
	}
	if len(e1) != 6 || len(e2) != 6 {
		t.Fatalf("want 6 entities per route, got %d and %d", len(e1), len(e2))
	}
	for i := range 5 {
		if entity.Key(e1[i]) != entity.Key(e2[i]) || !proto.Equal(e1[i], e2[i]) {
			t.Errorf("shared entity %d differs:\n %s\n %s", i, entity.Format(s, e1[i]), entity.Format(s, e2[i]))
		}
		b1, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e1[i])
		b2, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e2[i])
		if string(b1) != string(b2) {
			t.Errorf("shared entity %d: different bytes", i)
		}
	}
	if entity.Key(e1[5]) == entity.Key(e2[5]) {
		t.Error("the routing entries have the same key")
	}
	// The NextHop objective itself gives exactly the shared part.
	en, err := pl.Translate(nh1)
	if err != nil {
		t.Fatal(err)
	}
	if len(en) != 5 {
		t.Fatalf("next hop: %d entities, want 5", len(en))
	}
	for i := range en {
		if !proto.Equal(en[i], e1[i]) {
			t.Errorf("next hop entity %d differs from the route's", i)
		}
	}
	// And the switch takes both routes with the shared part once.
	c := startSwitch(t, s)
	writeByRank(t, c, pl, union(t, pl, s, []objective.Objective{r1, r2, nh1}))
	if got := readBack(t, c); len(got) != 7 {
		t.Errorf("switch holds %d entities, want 7 (5 shared + 2 routes)", len(got))
	}
}

// TestGroupSharesNextHopMembers: a group's members are the members of
// its next hops, byte for byte.
func TestGroupSharesNextHopMembers(t *testing.T) {
	pl, s := newPipeliner(t)
	eg, err := pl.Translate(ecmp)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*p4v1.Entity{}
	for _, e := range eg {
		keys[entity.Key(e)] = e
	}
	for _, m := range ecmp.Members {
		en, err := pl.Translate(m.NextHop)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range en {
			if e.GetActionProfileMember() == nil && e.GetTableEntry().GetTableId() != tableID(t, s, "egress_vlan") {
				continue
			}
			g, ok := keys[entity.Key(e)]
			if !ok || !proto.Equal(g, e) {
				t.Errorf("group lacks next hop %s's %s", m.NextHop.ID, entity.Format(s, e))
			}
		}
	}
	// Weights are kept, members in ID order.
	var group *p4v1.ActionProfileGroup
	for _, e := range eg {
		if g := e.GetActionProfileGroup(); g != nil {
			group = g
		}
	}
	if group == nil || group.GetGroupId() != fabric.GroupNextID("ecmp1") {
		t.Fatalf("no group %#x in %v", fabric.GroupNextID("ecmp1"), eg)
	}
	want := []*p4v1.ActionProfileGroup_Member{
		{MemberId: fabric.NextHopNextID("1"), Weight: 2},
		{MemberId: fabric.NextHopNextID("nh-c"), Weight: 3},
	}
	slices.SortFunc(want, func(a, b *p4v1.ActionProfileGroup_Member) int { return cmp.Compare(a.MemberId, b.MemberId) })
	if len(group.Members) != 2 || !proto.Equal(group.Members[0], want[0]) || !proto.Equal(group.Members[1], want[1]) {
		t.Errorf("group members %v, want %v", group.Members, want)
	}
}

func tableID(t testing.TB, s *schema.Schema, name string) uint32 {
	t.Helper()
	tb, err := s.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tb.ID
}

// TestDeterminism: the same objective twice, or through two pipeliners,
// gives identical entities.
func TestDeterminism(t *testing.T) {
	pl, _ := newPipeliner(t)
	pl2, _ := newPipeliner(t)
	for _, o := range everyKind() {
		a, err := pl.Translate(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []pipeline.Pipeliner{pl, pl2} {
			b, err := p.Translate(o)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(b) {
				t.Fatalf("%s %s: %d then %d entities", o.Kind(), o.Key(), len(a), len(b))
			}
			for i := range a {
				if !proto.Equal(a[i], b[i]) {
					t.Errorf("%s %s: entity %d differs", o.Kind(), o.Key(), i)
				}
			}
		}
	}
	// Order-insensitive inputs give the same entities.
	rev := objective.NextHopGroup{ID: ecmp.ID, Members: []objective.Weighted{ecmp.Members[1], ecmp.Members[0]}}
	a, _ := pl.Translate(ecmp)
	b, _ := pl.Translate(rev)
	sameSet(t, a, b)
	m1 := objective.Multicast{GroupID: 9, Ports: []uint32{1, 2, 3}}
	m2 := objective.Multicast{GroupID: 9, Ports: []uint32{3, 1, 2}}
	a, _ = pl.Translate(m1)
	b, _ = pl.Translate(m2)
	sameSet(t, a, b)
}

func sameSet(t *testing.T, a, b []*p4v1.Entity) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d entities", len(a), len(b))
	}
	m := map[string]*p4v1.Entity{}
	for _, e := range a {
		m[entity.Key(e)] = e
	}
	for _, e := range b {
		if x, ok := m[entity.Key(e)]; !ok || !proto.Equal(x, e) {
			t.Errorf("entity differs: %v", e)
		}
	}
}

// TestRankOrder: every translation comes in rank order, has no duplicate
// key, and everything an entity refers to (members of a group, the group
// of a hashed entry, the next_id an entry sets) comes before it with a
// lower rank.
func TestRankOrder(t *testing.T) {
	pl, s := newPipeliner(t)
	hashed := tableID(t, s, "FabricIngress.next.hashed")
	for _, o := range everyKind() {
		ents, err := pl.Translate(o)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		members := map[uint32]int{}
		groups := map[uint32]int{}
		nextIDs := map[uint32]bool{}
		for i, e := range ents {
			r := pl.Rank(e)
			if i > 0 && r < pl.Rank(ents[i-1]) {
				t.Errorf("%s %s: entity %d (rank %d) after rank %d", o.Kind(), o.Key(), i, r, pl.Rank(ents[i-1]))
			}
			k := entity.Key(e)
			if seen[k] {
				t.Errorf("%s %s: entity %d repeated: %s", o.Kind(), o.Key(), i, entity.Format(s, e))
			}
			seen[k] = true
			switch {
			case e.GetActionProfileMember() != nil:
				members[e.GetActionProfileMember().GetMemberId()] = r
			case e.GetActionProfileGroup() != nil:
				g := e.GetActionProfileGroup()
				for _, m := range g.GetMembers() {
					if mr, ok := members[m.GetMemberId()]; !ok || mr >= r {
						t.Errorf("%s %s: group %d refers to member %d not written before it", o.Kind(), o.Key(), g.GetGroupId(), m.GetMemberId())
					}
				}
				groups[g.GetGroupId()] = r
			case e.GetTableEntry() != nil:
				te := e.GetTableEntry()
				if te.GetTableId() == hashed {
					gid := te.GetAction().GetActionProfileGroupId()
					if gr, ok := groups[gid]; !ok || gr >= r {
						t.Errorf("%s %s: hashed entry refers to group %d not written before it", o.Kind(), o.Key(), gid)
					}
					nextIDs[gid] = true // group ID = next_id
				}
				if a := te.GetAction().GetAction(); a != nil && strings.Contains(s.ObjectName(a.GetActionId()), "set_next_id") {
					var id uint32
					for _, b := range a.GetParams()[0].GetValue() {
						id = id<<8 | uint32(b)
					}
					if !nextIDs[id] {
						t.Errorf("%s %s: next_id %#x set before its hashed entry", o.Kind(), o.Key(), id)
					}
				}
			}
		}
	}
}

// TestUnsupported: what fabric.p4 cannot express is an
// *objective.UnsupportedError naming the objective and the program.
func TestUnsupported(t *testing.T) {
	pl, _ := newPipeliner(t)
	nh := func(id string, port uint32, vlan uint16) *objective.NextHop {
		return &objective.NextHop{ID: id, Port: port, VLAN: vlan, SrcMAC: macRouter, DstMAC: macHost1}
	}
	for _, tc := range []struct {
		o    objective.Objective
		want string
	}{
		{objective.Route{Prefix: netip.MustParsePrefix("2001:db8::/32"), Target: objective.Target{NextHop: nh("1", 1, 0)}}, "no routing_v6"},
		{objective.Route{VRF: "blue", Prefix: netip.MustParsePrefix("10.0.0.0/8"), Target: objective.Target{NextHop: nh("1", 1, 0)}}, "no VRFs"},
		{objective.L3Interface{Port: 1, RouterMAC: macRouter, VRF: "blue"}, "no VRFs"},
		{objective.L3Interface{Port: 255, RouterMAC: macRouter}, "CPU port"},
		{objective.L3Interface{Port: 1, VLAN: 4094, RouterMAC: macRouter}, "internal VLAN"},
		{*nh("x", 1, 4094), "internal VLAN"},
		{*nh("x", 600, 0), "9-bit ports"},
		{*nh("x", 255, 0), "CPU port"},
		{objective.NextHop{ID: "x", Port: 1, SrcMAC: macRouter}, "both MACs"},
		{objective.NextHopGroup{ID: "g", Members: []objective.Weighted{{NextHop: *nh("a", 1, 0)}, {NextHop: *nh("b", 2, 10)}}}, "differ in VLAN"},
		{objective.NextHopGroup{ID: "g", Members: []objective.Weighted{{NextHop: *nh("a", 1, 0), Weight: 10}, {NextHop: *nh("b", 2, 0), Weight: 7}}}, "max_group_size 16"},
		{objective.Bridging{MAC: macHost1, Port: 255}, "CPU port"},
		{objective.Bridging{VLAN: 4094, MAC: macHost1, Port: 1}, "internal VLAN"},
		{objective.ACL{Name: "v6", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{EtherType: 0x86dd, SrcIP: netip.MustParsePrefix("2001:db8::/32")}}, "IPv4 addresses only"},
		{objective.ACL{Name: "v6l4", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{EtherType: 0x86dd, IPProto: 6}}, "IPv4 headers only"},
		{objective.ACL{Name: "f", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"ttl": {Value: 1, Mask: 0xff}}}}, `field "ttl"`},
		{objective.ACL{Name: "f2", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{InPort: 1, Fields: map[string]objective.Ternary{"ig_port": {Value: 1, Mask: 0x1ff}}}}, "matched twice"},
		{objective.ACL{Name: "f3", Priority: 1, Action: objective.ACLDrop, Match: objective.ACLMatch{Fields: map[string]objective.Ternary{"port_type": {Value: 4, Mask: 7}}}}, "does not fit bit<2>"},
		{objective.ACL{Name: "r", Priority: 1, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: nh("x", 4094, 0)}}, "9-bit ports"},
		{objective.Multicast{GroupID: 70000, Ports: []uint32{1}}, "16-bit"},
		{objective.Multicast{GroupID: 1, Ports: []uint32{1, 512}}, "9-bit ports"},
	} {
		if err := tc.o.Validate(); err != nil {
			t.Fatalf("%s %s: test objective invalid: %v", tc.o.Kind(), tc.o.Key(), err)
		}
		ents, err := pl.Translate(tc.o)
		var ue *objective.UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%s %s: got %v, %d entities; want an UnsupportedError", tc.o.Kind(), tc.o.Key(), err, len(ents))
			continue
		}
		if ents != nil {
			t.Errorf("%s %s: partial result with the error", tc.o.Kind(), tc.o.Key())
		}
		if ue.Program != "fabric-v1model" || ue.Kind != tc.o.Kind() || ue.Key != tc.o.Key() {
			t.Errorf("error names %s %s on %s, want %s %s on fabric-v1model", ue.Kind, ue.Key, ue.Program, tc.o.Kind(), tc.o.Key())
		}
		if !errors.Is(err, objective.ErrUnsupported) {
			t.Error("errors.Is(err, ErrUnsupported) is false")
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "fabric-v1model") || !strings.Contains(msg, tc.o.Key()) {
			t.Errorf("%s %s: error %q lacks %q, the program or the key", tc.o.Kind(), tc.o.Key(), msg, tc.want)
		}
	}
}

// TestInvalid: an invalid objective gives its own validation error, not
// an UnsupportedError, and never a partial result.
func TestInvalid(t *testing.T) {
	pl, _ := newPipeliner(t)
	for _, o := range []objective.Objective{
		objective.L3Interface{Port: 1},
		objective.NextHop{Port: 1},
		objective.NextHop{ID: "x"},
		objective.NextHopGroup{ID: "g"},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Target: objective.Target{NextHop: &nh1, Group: &ecmp}},
		objective.Bridging{MAC: macHost1},
		objective.Bridging{MAC: macHost1, Port: 1, NextHop: &nh1},
		objective.ACL{Name: "a", Action: objective.ACLDrop},
		objective.ACL{Name: "a", Priority: 1, Action: "reject"},
		objective.ACL{Name: "a", Priority: 1, Action: objective.ACLRedirect},
		objective.Multicast{GroupID: 1},
		objective.Multicast{GroupID: 1, Ports: []uint32{2, 2}},
		objective.Punt{},
		objective.Punt{Protocol: "ospf"},
	} {
		verr := o.Validate()
		if verr == nil {
			t.Fatalf("%s %s: test objective is valid", o.Kind(), o.Key())
		}
		ents, err := pl.Translate(o)
		if err == nil || ents != nil {
			t.Errorf("%s %s: got %d entities, err %v", o.Kind(), o.Key(), len(ents), err)
			continue
		}
		if errors.Is(err, objective.ErrUnsupported) || err.Error() != verr.Error() {
			t.Errorf("%s %s: got %v, want the validation error %v", o.Kind(), o.Key(), err, verr)
		}
	}
	if _, err := pl.Translate(nil); err == nil {
		t.Error("nil objective accepted")
	}
	if _, err := pl.Translate((*objective.Route)(nil)); err == nil {
		t.Error("nil *Route accepted")
	}
}

// TestPointerObjectives: pointers to objectives translate like values.
func TestPointerObjectives(t *testing.T) {
	pl, _ := newPipeliner(t)
	for _, o := range everyKind() {
		var p objective.Objective
		switch x := o.(type) {
		case objective.Route:
			p = &x
		case objective.ACL:
			p = &x
		case objective.NextHop:
			p = &x
		default:
			continue
		}
		a, err := pl.Translate(o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := pl.Translate(p)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, a, b)
	}
}

// TestShapes pins down what each objective becomes.
func TestShapes(t *testing.T) {
	pl, s := newPipeliner(t)
	for _, tc := range []struct {
		o    objective.Objective
		want []string
	}{{
		objective.L3Interface{Port: 1, RouterMAC: macRouter},
		[]string{
			"table_entry FabricIngress.filtering.ingress_port_vlan match(ig_port=1, vlan_is_valid=0) priority=10 action=FabricIngress.filtering.permit_with_internal_vlan(vlan_id=4094, port_type=1)",
			"table_entry FabricIngress.filtering.fwd_classifier match(ig_port=1, eth_dst=00:aa:00:00:00:01&&&ff:ff:ff:ff:ff:ff, ip_eth_type=2048) priority=10 action=FabricIngress.filtering.set_forwarding_type(fwd_type=2)",
		},
	}, {
		objective.L3Interface{Port: 2, VLAN: 10, RouterMAC: macRouter},
		[]string{
			"table_entry FabricIngress.filtering.ingress_port_vlan match(ig_port=2, vlan_is_valid=1, vlan_id=0x00a&&&0xfff) priority=10 action=FabricIngress.filtering.permit(port_type=1)",
			"table_entry FabricIngress.filtering.fwd_classifier match(ig_port=2, eth_dst=00:aa:00:00:00:01&&&ff:ff:ff:ff:ff:ff, ip_eth_type=2048) priority=10 action=FabricIngress.filtering.set_forwarding_type(fwd_type=2)",
		},
	}, {
		nhB,
		[]string{
			"action_profile_member FabricIngress.next.hashed_selector member=%NH action=FabricIngress.next.routing_hashed(port_num=4, smac=00:aa:00:00:00:01, dmac=00:bb:00:00:00:02)",
			"action_profile_group FabricIngress.next.hashed_selector group=%NH members(%NH weight=1)",
			"table_entry FabricIngress.pre_next.next_vlan match(next_id=%NH) action=FabricIngress.pre_next.set_vlan(vlan_id=20)",
			"table_entry FabricIngress.next.hashed match(next_id=%NH) group=%NH",
			"table_entry FabricEgress.egress_next.egress_vlan match(vlan_id=20, eg_port=4) action=FabricEgress.egress_next.push_vlan()",
		},
	}, {
		objective.Bridging{VLAN: 10, MAC: macHost1, Port: 7},
		[]string{
			"action_profile_member FabricIngress.next.hashed_selector member=%PORT action=FabricIngress.next.output_hashed(port_num=7)",
			"action_profile_group FabricIngress.next.hashed_selector group=%PORT members(%PORT weight=1)",
			"table_entry FabricIngress.next.hashed match(next_id=%PORT) group=%PORT",
			"table_entry FabricEgress.egress_next.egress_vlan match(vlan_id=10, eg_port=7) action=FabricEgress.egress_next.push_vlan()",
			"table_entry FabricIngress.forwarding.bridging match(vlan_id=10, eth_dst=00:bb:00:00:00:01&&&ff:ff:ff:ff:ff:ff) priority=10 action=FabricIngress.forwarding.set_next_id_bridging(next_id=%PORT)",
		},
	}, {
		objective.Punt{Protocol: objective.LLDP},
		[]string{"table_entry FabricIngress.acl.acl match(eth_type=0x88cc&&&0xffff) priority=40000 action=FabricIngress.acl.punt_to_cpu()"},
	}, {
		objective.Multicast{GroupID: 5, Ports: []uint32{7, 3}},
		[]string{
			"multicast_group 5 replicas(port=3 instance=0, port=7 instance=0)",
			"table_entry FabricIngress.pre_next.next_vlan match(next_id=%MC) action=FabricIngress.pre_next.set_vlan(vlan_id=4094)",
			"table_entry FabricIngress.next.multicast match(next_id=%MC) action=FabricIngress.next.set_mcast_group_id(group_id=5)",
			"table_entry FabricEgress.egress_next.egress_vlan match(vlan_id=4094, eg_port=3) action=FabricEgress.egress_next.pop_vlan()",
			"table_entry FabricEgress.egress_next.egress_vlan match(vlan_id=4094, eg_port=7) action=FabricEgress.egress_next.pop_vlan()",
		},
	}} {
		ents, err := pl.Translate(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ents {
			got = append(got, entity.Format(s, e))
		}
		r := strings.NewReplacer("%NH", itoa(fabric.NextHopNextID(nhB.ID)), "%PORT", itoa(fabric.PortNextID(7, 10)), "%MC", itoa(fabric.MulticastNextID(5)))
		var want []string
		for _, w := range tc.want {
			want = append(want, r.Replace(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %s:\n got  %s\n want %s", tc.o.Kind(), tc.o.Key(), strings.Join(got, "\n      "), strings.Join(want, "\n      "))
		}
	}
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func TestNewRejectsOtherPrograms(t *testing.T) {
	for _, name := range []string{"onos-basic", "sai-middleblock", "bench"} {
		s, err := schema.New(p4infos.MustInfo(name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fabric.New(s, pipeline.DeviceOptions{}); err == nil || !strings.Contains(err.Error(), "not fabric.p4's") {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := fabric.New(nil, pipeline.DeviceOptions{}); err == nil {
		t.Error("nil schema accepted")
	}
}

func TestProgramAndSupports(t *testing.T) {
	pl, _ := newPipeliner(t)
	if pl.Program() != "fabric-v1model" {
		t.Errorf("Program() = %q", pl.Program())
	}
	for _, k := range objective.Kinds() {
		if !pl.Supports(k) {
			t.Errorf("Supports(%s) = false", k)
		}
	}
	if pl.Supports("mpls-label") {
		t.Error("Supports an unknown kind")
	}
}

func TestNextIDs(t *testing.T) {
	for _, tc := range []struct {
		got, want uint32
	}{
		{fabric.NextHopNextID("1"), 0x20000001},
		{fabric.NextHopNextID("536870911"), 0x3fffffff},
		{fabric.GroupNextID("42"), 0x6000002a},
		{fabric.PortNextID(7, 10), 0xa0000000 | 10<<9 | 7},
		{fabric.MulticastNextID(5), 0xc0000005},
	} {
		if tc.got != tc.want {
			t.Errorf("got %#x, want %#x", tc.got, tc.want)
		}
	}
	// Non-canonical numbers, too large numbers and names are hashed.
	for _, id := range []string{"01", "0", "536870912", "+1", "leaf2", ""} {
		if c := fabric.NextHopNextID(id) >> 29; c != 2 {
			t.Errorf("next hop %q: class %d, want 2 (hashed)", id, c)
		}
		if c := fabric.GroupNextID(id) >> 29; c != 4 {
			t.Errorf("group %q: class %d, want 4 (hashed)", id, c)
		}
	}
	if fabric.NextHopNextID("leaf2") != fabric.NextHopNextID("leaf2") || fabric.NextHopNextID("leaf2") == fabric.NextHopNextID("leaf3") {
		t.Error("hash is not a function of the ID")
	}
	// No collisions among a few thousand typical names.
	seen := map[uint32]string{}
	for i := range 4000 {
		id := "nh-" + itoa(uint32(i))
		n := fabric.NextHopNextID(id)
		if prev, ok := seen[n]; ok {
			t.Errorf("%s and %s collide", prev, id)
		}
		seen[n] = id
	}
}

// TestIPv6Build: with a P4Info of a build WITH_IPV6 (routing_v6), IPv6
// routes go to routing_v6 and L3 interfaces classify IPv6 too.
func TestIPv6Build(t *testing.T) {
	text, err := p4infos.Text("fabric-v1model")
	if err != nil {
		t.Fatal(err)
	}
	extra := `
tables {
  preamble { id: 33600001 name: "FabricIngress.forwarding.routing_v6" alias: "routing_v6" }
  match_fields { id: 1 name: "ipv6_dst" bitwidth: 128 match_type: LPM }
  action_refs { id: 16800001 }
  action_refs { id: 28485346 annotations: "@defaultonly" scope: DEFAULT_ONLY }
  size: 1024
}
actions {
  preamble { id: 16800001 name: "FabricIngress.forwarding.set_next_id_routing_v6" alias: "set_next_id_routing_v6" }
  params { id: 1 name: "next_id" bitwidth: 32 }
}
`
	s, err := schema.Parse(append(text, extra...), schema.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := fabric.New(s, pipeline.DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := objective.Route{Prefix: netip.MustParsePrefix("2001:db8::/32"), Target: objective.Target{NextHop: &nh1}}
	ents, err := pl.Translate(r)
	if err != nil {
		t.Fatal(err)
	}
	last := entity.Format(s, ents[len(ents)-1])
	want := "table_entry FabricIngress.forwarding.routing_v6 match(ipv6_dst=2001:db8::/32) action=FabricIngress.forwarding.set_next_id_routing_v6(next_id=" + itoa(fabric.NextHopNextID("1")) + ")"
	if last != want {
		t.Errorf("got  %s\nwant %s", last, want)
	}
	if pl.Rank(ents[len(ents)-1]) != fabric.RankForwarding {
		t.Error("routing_v6 is not ranked as forwarding")
	}
	ents, err = pl.Translate(objective.L3Interface{Port: 1, RouterMAC: macRouter})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 || !strings.Contains(entity.Format(s, ents[2]), "ip_eth_type=34525) priority=10 action=FabricIngress.filtering.set_forwarding_type(fwd_type=4)") {
		t.Errorf("no IPv6 classifier entry: %v", ents)
	}
	objs := append(everyKind(), r)
	c := startSwitch(t, s)
	writeByRank(t, c, pl, union(t, pl, s, objs))
}

// TestCPUPortOption: the CPU port comes from DeviceOptions (255 by
// default).
func TestCPUPortOption(t *testing.T) {
	s := fabricSchema(t)
	pl, err := fabric.New(s, pipeline.DeviceOptions{CPUPort: 192})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Translate(objective.Bridging{MAC: macHost1, Port: 255}); err != nil {
		t.Errorf("port 255 refused with CPU port 192: %v", err)
	}
	if _, err := pl.Translate(objective.Bridging{MAC: macHost1, Port: 192}); !errors.Is(err, objective.ErrUnsupported) {
		t.Errorf("CPU port 192 accepted as a bridging port: %v", err)
	}
	pl, _ = fabric.New(s, pipeline.DeviceOptions{})
	if _, err := pl.Translate(objective.Bridging{MAC: macHost1, Port: 255}); !errors.Is(err, objective.ErrUnsupported) {
		t.Errorf("default CPU port 255 accepted: %v", err)
	}
}

// TestConcurrentTranslate: a pipeliner is safe for concurrent use.
func TestConcurrentTranslate(t *testing.T) {
	pl, _ := newPipeliner(t)
	want := map[int][]*p4v1.Entity{}
	objs := everyKind()
	for i, o := range objs {
		ents, err := pl.Translate(o)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ents
	}
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for range 20 {
				for i, o := range objs {
					ents, err := pl.Translate(o)
					if err != nil {
						done <- err
						return
					}
					for j := range ents {
						if !proto.Equal(ents[j], want[i][j]) {
							done <- errors.New("different entities under concurrency")
							return
						}
					}
					_ = pl.Rank(ents[0])
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
