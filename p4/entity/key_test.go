package entity_test

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/entity"
	e "github.com/p4fabric/fabric/p4/entity"
)

func TestKey(t *testing.T) {
	b := mustBuilder(t, "onos-basic")
	must := func(m *p4v1.Entity, err error) *p4v1.Entity {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	te := func(prio int32, etherType uint64, port uint64) *p4v1.Entity {
		return must(ent(b.TableEntry("table0", e.Priority(prio),
			e.Match(e.TernaryUint("hdr.ethernet.ether_type", etherType, 0xffff)), e.Action("set_egress_port", e.ParamUint("port", port)))))
	}
	base := te(10, 0x800, 1)

	// Same key: another action, reordered matches, padded values.
	sameKeys := map[string]*p4v1.Entity{
		"other action": te(10, 0x800, 2),
		"wrapped":      entity.Wrap(base.GetTableEntry()),
	}
	padded := proto.Clone(base).(*p4v1.Entity)
	tern := padded.GetTableEntry().GetMatch()[0].GetTernary()
	tern.Value, tern.Mask = []byte{0, 0, 8, 0}, []byte{0, 0xff, 0xff}
	sameKeys["padded"] = padded
	two := must(ent(b.TableEntry("table0", e.Priority(1), e.Match(e.TernaryUint("hdr.ethernet.ether_type", 1, 1), e.TernaryUint("standard_metadata.ingress_port", 1, 1)))))
	swapped := proto.Clone(two).(*p4v1.Entity)
	m := swapped.GetTableEntry().Match
	m[0], m[1] = m[1], m[0]
	if entity.Key(two) != entity.Key(swapped) {
		t.Error("match order changes the key")
	}
	for name, x := range sameKeys {
		if entity.Key(x) != entity.Key(base) {
			t.Errorf("%s: key differs", name)
		}
	}

	// Different keys.
	keys := map[string]string{"base": entity.Key(base)}
	add := func(name string, x *p4v1.Entity) {
		t.Helper()
		k := entity.Key(x)
		for other, ok := range keys {
			if ok == k {
				t.Errorf("%s has the key of %s", name, other)
			}
		}
		keys[name] = k
	}
	add("priority", te(11, 0x800, 1))
	add("value", te(10, 0x806, 1))
	add("two fields", two)
	add("default", must(ent(b.DefaultEntry("host_meter_table"))))
	add("other table", must(ent(b.TableEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", mac1, 48))))))
	add("lpm length", must(ent(b.TableEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", mac1, 47))))))
	add("member 1", must(ent(b.Member("wcmp_selector", 1))))
	add("member 2", must(ent(b.Member("wcmp_selector", 2))))
	add("group 1", must(ent(b.Group("wcmp_selector", 1, 0))))
	add("counter 1", must(ent(b.CounterEntry("ingress_port_counter", 1))))
	add("counter all", must(ent(b.CounterEntry("ingress_port_counter", entity.AllCells))))
	add("meter 1", must(ent(b.MeterEntry("ingress_port_meter", 1))))
	add("direct counter", must(ent(b.DirectCounterEntry("table0", e.Priority(10), e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x800, 0xffff))))))
	add("direct meter", must(ent(b.DirectMeterEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", mac1, 48))))))
	add("multicast 1", must(ent(b.MulticastGroup(1))))
	add("clone 1", must(ent(b.CloneSession(1, 0, 0))))
	add("extern", entity.Wrap(&p4v1.ExternEntry{ExternTypeId: 0x81, ExternId: 1}))
	f := mustBuilder(t, testFeatures)
	add("register", must(ent(f.RegisterEntry("flow_bytes", 1, 5))))
	add("value set", must(ent(f.ValueSetEntry("trill_types"))))
	add("digest", must(ent(f.DigestEntry("learn_t", nil))))
	add("range", must(ent(f.TableEntry("acl", e.Priority(1), e.Match(e.ExactUint("standard_metadata.ingress_port", 1), e.RangeUint("local_metadata.l4_dst_port", 1, 2))))))
	add("optional", must(ent(f.TableEntry("acl", e.Priority(1), e.Match(e.ExactUint("standard_metadata.ingress_port", 1), e.Optional("hdr.vlan.vid", 2))))))

	// Register values and counter data are not part of the key.
	if entity.Key(must(ent(f.RegisterEntry("flow_bytes", 1, 6)))) != keys["register"] {
		t.Error("register value changes the key")
	}
	if entity.Key(must(ent(b.CounterEntry("ingress_port_counter", 1, e.CounterData(1, 1))))) != keys["counter 1"] {
		t.Error("counter data changes the key")
	}
	// Key accepts any entity message.
	if entity.Key(base.GetTableEntry()) != keys["base"] {
		t.Error("Key(*TableEntry) differs from Key(*Entity)")
	}
	var nilTE *p4v1.TableEntry
	if entity.Key(nilTE) != "" || entity.Key(&p4v1.Entity{}) != "" || entity.Key((*p4v1.Entity)(nil)) != "" {
		t.Error("nil or empty entity has a key")
	}
}

func TestWrapAndUpdates(t *testing.T) {
	te := &p4v1.TableEntry{TableId: 1}
	if u := entity.Insert(te); u.GetType() != p4v1.Update_INSERT || u.GetEntity().GetTableEntry() != te {
		t.Errorf("Insert = %v", u)
	}
	if u := entity.Modify(&p4v1.CounterEntry{CounterId: 2}); u.GetType() != p4v1.Update_MODIFY || u.GetEntity().GetCounterEntry().GetCounterId() != 2 {
		t.Errorf("Modify = %v", u)
	}
	if u := entity.Delete(&p4v1.ActionProfileGroup{GroupId: 3}); u.GetType() != p4v1.Update_DELETE || u.GetEntity().GetActionProfileGroup().GetGroupId() != 3 {
		t.Errorf("Delete = %v", u)
	}
	x := &p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: &p4v1.DigestEntry{DigestId: 4}}}
	if entity.Wrap(x) != x {
		t.Error("Wrap(*Entity) is not the identity")
	}
	for _, w := range []*p4v1.Entity{
		entity.Wrap(&p4v1.ActionProfileMember{}), entity.Wrap(&p4v1.ActionProfileGroup{}), entity.Wrap(&p4v1.MeterEntry{}),
		entity.Wrap(&p4v1.DirectMeterEntry{}), entity.Wrap(&p4v1.CounterEntry{}), entity.Wrap(&p4v1.DirectCounterEntry{}),
		entity.Wrap(&p4v1.PacketReplicationEngineEntry{}), entity.Wrap(&p4v1.ValueSetEntry{}), entity.Wrap(&p4v1.RegisterEntry{}),
		entity.Wrap(&p4v1.DigestEntry{}), entity.Wrap(&p4v1.ExternEntry{}),
	} {
		if w.GetEntity() == nil {
			t.Errorf("Wrap lost the message: %v", w)
		}
	}
	var nilMember *p4v1.ActionProfileMember
	if w := entity.Wrap(nilMember); w == nil || w.GetEntity() != nil {
		t.Errorf("Wrap(nil) = %v, want an empty entity", w)
	}
	if w := entity.Wrap((*p4v1.Entity)(nil)); w == nil {
		t.Error("Wrap(nil *Entity) = nil")
	}
}

// TestKeyOfMessages checks that Key gives an entity message the key of
// the Entity that wraps it.
func TestKeyOfMessages(t *testing.T) {
	msgs := append(fuzzSeeds(t), entity.Wrap(&p4v1.ExternEntry{ExternTypeId: 0x81}), entity.Wrap(&p4v1.DirectCounterEntry{TableEntry: &p4v1.TableEntry{TableId: 1}}))
	for _, x := range msgs {
		var k string
		switch m := x.GetEntity().(type) {
		case *p4v1.Entity_TableEntry:
			k = entity.Key(m.TableEntry)
		case *p4v1.Entity_ActionProfileMember:
			k = entity.Key(m.ActionProfileMember)
		case *p4v1.Entity_ActionProfileGroup:
			k = entity.Key(m.ActionProfileGroup)
		case *p4v1.Entity_MeterEntry:
			k = entity.Key(m.MeterEntry)
		case *p4v1.Entity_DirectMeterEntry:
			k = entity.Key(m.DirectMeterEntry)
		case *p4v1.Entity_CounterEntry:
			k = entity.Key(m.CounterEntry)
		case *p4v1.Entity_DirectCounterEntry:
			k = entity.Key(m.DirectCounterEntry)
		case *p4v1.Entity_PacketReplicationEngineEntry:
			k = entity.Key(m.PacketReplicationEngineEntry)
		case *p4v1.Entity_ValueSetEntry:
			k = entity.Key(m.ValueSetEntry)
		case *p4v1.Entity_RegisterEntry:
			k = entity.Key(m.RegisterEntry)
		case *p4v1.Entity_DigestEntry:
			k = entity.Key(m.DigestEntry)
		case *p4v1.Entity_ExternEntry:
			k = entity.Key(m.ExternEntry)
		}
		if k == "" || k != entity.Key(x) {
			t.Errorf("%v: message key %q, entity key %q", x, k, entity.Key(x))
		}
	}
}

// TestSameKey: SameKey is Key(a) == Key(b), for every pair of a set of
// entities of every kind, equal and different, nil and empty.
func TestSameKey(t *testing.T) {
	b := mustBuilder(t, "onos-basic")
	te := func(prio int32, etherType, port uint64) *p4v1.Entity {
		m, err := ent(b.TableEntry("table0", e.Priority(prio),
			e.Match(e.TernaryUint("hdr.ethernet.ether_type", etherType, 0xffff)), e.Action("set_egress_port", e.ParamUint("port", port))))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	padded := proto.Clone(te(10, 0x800, 1)).(*p4v1.Entity)
	tern := padded.GetTableEntry().GetMatch()[0].GetTernary()
	tern.Value, tern.Mask = []byte{0, 0, 8, 0}, []byte{0, 0xff, 0xff}
	set := []*p4v1.Entity{
		nil, {}, te(10, 0x800, 1), te(10, 0x800, 2), te(11, 0x800, 1), te(10, 0x806, 1), padded,
		entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: 1, MemberId: 2}),
		entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: 1, MemberId: 3}),
		entity.Wrap(&p4v1.ActionProfileGroup{ActionProfileId: 1, GroupId: 2}),
		entity.Wrap(&p4v1.CounterEntry{CounterId: 5, Index: &p4v1.Index{Index: 1}}),
		entity.Wrap(&p4v1.CounterEntry{CounterId: 5}),
		entity.Wrap(&p4v1.TableEntry{TableId: 7, IsDefaultAction: true}),
	}
	for i, x := range set {
		for j, y := range set {
			if got, want := entity.SameKey(x, y), entity.Key(x) == entity.Key(y); got != want {
				t.Errorf("SameKey(#%d, #%d) = %v, Key equality %v", i, j, got, want)
			}
		}
	}
	x, y := set[2], set[6]
	if n := testing.AllocsPerRun(100, func() { entity.SameKey(x, y) }); n != 0 {
		t.Errorf("SameKey allocates %v times", n)
	}
}
