package state

import (
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// populate writes some state of every kind into a features device.
func populate(t testing.TB, d *Device) {
	t.Helper()
	if err := d.Preload([]*p4v1.TableEntry{te(tConst, 0, direct(act(aDrop)), ex(1, 8, 6))}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, d,
		ins(tinyEntry(10, 0, 0, 0, 8)), ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 0x1f))), lp(1, 16, 11, 1, 0, 0))),
		mod(defEntry(tTiny, direct(act(aSetPort, prm(1, 2))))),
		ins(withMeter(withCounter(aclEntry(1), 4, 400), &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 2, Pburst: 2})), ins(aclEntry(2)),
		ins(apMember(pSelector, 1, nexthop(1))), ins(apMember(pSelector, 2, nexthop(2))),
		ins(apMember(pPlain, 7, act(aSetPort, prm(1, 3)))),
		ins(withIdle(te(tIdle, 0, direct(act(aSetPort, prm(1, 1))), ex(1, mac1...)), int64(time.Minute))),
		ins(te(tPorts, 2, direct(act(aSetPortName, prm(1, []byte("Ethernet8")...))), ex(1, []byte("Ethernet0")...), op(2, 0x0a))),
		mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(2), Data: &p4v1.CounterData{PacketCount: 2, ByteCount: 200}}),
		mod(&p4v1.MeterEntry{MeterId: mPolicer, Index: idx(1), Config: &p4v1.MeterConfig{Cir: 5, Cburst: 5, Pir: 5, Pburst: 5}}),
		mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(3), Data: bitstring(0x33)}),
		ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{MaxListSize: 4}}),
		mod(valueSet(vsTrill, ex(1, 0x22, 0xf3))),
		ins(mcast(1, replica(bs(1), 0))), ins(clone(9, replica(bs(2), 0))),
	)
	mustWrite(t, d, ins(apGroup(pSelector, 3, 8, gm(1, 2), gm(2, 2))))
	mustWrite(t, d, ins(te(tECMP, 0, grp(3), ex(1, 1))), ins(te(tECMP, 0, mem(1), ex(1, 2))), ins(te(tProfiled, 0, mem(7), ex(1, 10, 0, 0, 1))))
}

// editedFeatures returns the features P4Info changed by edit.
func editedFeatures(t testing.TB, edit func(*p4configv1.P4Info)) *schema.Schema {
	t.Helper()
	info := proto.Clone(p4infos.MustInfo("features")).(*p4configv1.P4Info)
	edit(info)
	s, err := schema.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func findTable(info *p4configv1.P4Info, id uint32) *p4configv1.Table {
	for _, t := range info.GetTables() {
		if t.GetPreamble().GetId() == id {
			return t
		}
	}
	return nil
}

func TestReconcileCarriesState(t *testing.T) {
	prev := newDev(t, "features")
	populate(t, prev)
	if err := prev.Hit(aclEntry(1), 1, 1); err != nil { // some runtime state
		t.Fatal(err)
	}
	d := newDev(t, "features")
	if err := d.Reconcile(prev); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, prev), dump(t, d); !equalStrings(a, b) {
		t.Errorf("state not carried:\nprev %v\nnew  %v", a, b)
	}
	if a, b := prev.Counts(), d.Counts(); a != b {
		t.Errorf("counts %+v, want %+v", b, a)
	}
	// Refcounts were rebuilt: the group in use cannot be deleted.
	if c, _ := writeCode(t, d, del(apGroup(pSelector, 3, 0))); c != codes.FailedPrecondition {
		t.Errorf("delete group in use after reconcile: %v", c)
	}
	// The const entry is still const.
	if c, _ := writeCode(t, d, del(te(tConst, 0, nil, ex(1, 8, 6)))); c != codes.PermissionDenied {
		t.Errorf("delete const entry after reconcile: %v", c)
	}
	if _, ok := d.DigestConfig(dLearn); !ok {
		t.Error("digest not carried")
	}
	// Reconcile with itself or nil is a no-op.
	if err := d.Reconcile(d); err != nil {
		t.Error(err)
	}
	if err := d.Reconcile(nil); err != nil {
		t.Error(err)
	}
}

func TestReconcileDropsRemovedObjects(t *testing.T) {
	prev := newDev(t, "features")
	populate(t, prev)
	s := editedFeatures(t, func(info *p4configv1.P4Info) {
		var tables []*p4configv1.Table
		for _, tb := range info.GetTables() {
			if tb.GetPreamble().GetId() != tTiny {
				tables = append(tables, tb)
			}
		}
		info.Tables = tables
		info.Counters = nil
		info.Registers[0].Preamble.Name = "ingress.renamed" // same ID, another object
	})
	d := New(s)
	if err := d.Reconcile(prev); err != nil {
		t.Fatal(err)
	}
	if d.Len(tACL) != 2 || d.Len(tECMP) != 2 || d.Len(tTiny) != 0 {
		t.Errorf("entries: acl %d ecmp %d tiny %d", d.Len(tACL), d.Len(tECMP), d.Len(tTiny))
	}
	if es := read(t, d, &p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(3)}); !proto.Equal(es[0].GetRegisterEntry().GetData(), bitstring(0)) {
		t.Errorf("renamed register kept its state: %v", es)
	}
}

func TestReconcileIncompatible(t *testing.T) {
	cases := []struct {
		name string
		edit func(*p4configv1.P4Info)
	}{
		{"param_narrower", func(info *p4configv1.P4Info) {
			for _, a := range info.GetActions() {
				if a.GetPreamble().GetId() == aSetPort {
					a.Params[0].Bitwidth = 4 // the entries use port 0x1f
				}
			}
		}},
		{"table_smaller", func(info *p4configv1.P4Info) { findTable(info, tACL).Size = 1 }},
		{"key_changed", func(info *p4configv1.P4Info) {
			findTable(info, tTiny).MatchFields[0].Match = &p4configv1.MatchField_MatchType_{MatchType: p4configv1.MatchField_EXACT}
		}},
		{"action_removed_from_table", func(info *p4configv1.P4Info) {
			tb := findTable(info, tIdle)
			tb.ActionRefs = tb.ActionRefs[1:] // set_port
		}},
		{"const_default_now", func(info *p4configv1.P4Info) { findTable(info, tTiny).ConstDefaultActionId = aNoAction }},
		{"register_narrower", func(info *p4configv1.P4Info) {
			info.Registers[0].TypeSpec.GetBitstring().GetBit().Bitwidth = 4
		}},
		{"counter_smaller", func(info *p4configv1.P4Info) { info.Counters[0].Size = 2 }},
	}
	prev := newDev(t, "features")
	populate(t, prev)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(editedFeatures(t, c.edit))
			before := dump(t, d)
			err := d.Reconcile(prev)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("Reconcile: %v, want INVALID_ARGUMENT", err)
			}
			if after := dump(t, d); !equalStrings(before, after) {
				t.Errorf("failed reconcile changed the state: %v", after)
			}
			if c := d.Counts(); c != (Counts{}) {
				t.Errorf("counts after a failed reconcile: %+v", c)
			}
		})
	}
}

// TestHugeArrays checks that arrays too large to allocate keep only the
// cells written.
func TestHugeArrays(t *testing.T) {
	s := editedFeatures(t, func(info *p4configv1.P4Info) {
		info.Counters[0].Size = 1 << 40
		info.Meters[0].Size = 1 << 40
		info.Registers[0].Size = 1 << 30
	})
	d := New(s)
	mustWrite(t, d,
		mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(1 << 39), Data: &p4v1.CounterData{PacketCount: 1}}),
		mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(5), Config: &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 1, Pburst: 1}}),
		mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(1 << 29), Data: bitstring(9)}),
	)
	if err := d.AddCounter(cPort, 7, 1, 1); err != nil {
		t.Fatal(err)
	}
	if es := read(t, d, &p4v1.CounterEntry{CounterId: cPort}); len(es) != 2 || es[1].GetCounterEntry().GetIndex().GetIndex() != 1<<39 {
		t.Errorf("counter cells: %v", es)
	}
	if es := read(t, d, &p4v1.CounterEntry{CounterId: cPort, Index: idx(3)}); len(es) != 1 {
		t.Errorf("one unwritten cell: %v", es)
	}
	if es := read(t, d, &p4v1.MeterEntry{MeterId: mPort}); len(es) != 1 {
		t.Errorf("meter cells: %v", es)
	}
	if es := read(t, d, &p4v1.RegisterEntry{RegisterId: rFlow}); len(es) != 1 {
		t.Errorf("register cells: %v", es)
	}
	if c, _ := writeCode(t, d, mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{PacketCount: 1}})); c != codes.Unimplemented {
		t.Errorf("wildcard set of a huge counter: %v", c)
	}
	if c, _ := writeCode(t, d, mod(&p4v1.RegisterEntry{RegisterId: rFlow, Data: bitstring(1)})); c != codes.Unimplemented {
		t.Errorf("wildcard set of a huge register: %v", c)
	}
	before := dump(t, d)
	err := d.Write([]*p4v1.Update{
		mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{}}),
		mod(&p4v1.MeterEntry{MeterId: mPort}),
		mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(-1)}),
	}, p4v1.WriteRequest_ROLLBACK_ON_ERROR, nil)
	if err == nil || !equalStrings(before, dump(t, d)) {
		t.Errorf("rollback of wildcard resets: %v", err)
	}
	mustWrite(t, d, mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{}}), mod(&p4v1.MeterEntry{MeterId: mPort}))
	if es := read(t, d, &p4v1.CounterEntry{}); len(es) != 0 {
		t.Errorf("after reset: %v", es)
	}
	if es := read(t, d, &p4v1.MeterEntry{MeterId: mPort}); len(es) != 0 {
		t.Errorf("meters after reset: %v", es)
	}
	n := New(s)
	if err := n.Reconcile(d); err != nil {
		t.Fatal(err)
	}
	if !equalStrings(dump(t, d), dump(t, n)) {
		t.Error("huge arrays not reconciled")
	}
}
