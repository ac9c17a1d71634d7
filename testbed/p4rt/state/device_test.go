package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func tableEntries(es []*p4v1.Entity) []*p4v1.TableEntry {
	var out []*p4v1.TableEntry
	for _, e := range es {
		if x := e.GetTableEntry(); x != nil {
			out = append(out, x)
		}
	}
	return out
}

func TestCanonicalReadBack(t *testing.T) {
	d := newDev(t, "features")
	mustWrite(t, d,
		ins(te(tConstDefault, 0, direct(act(aSetPort, prm(1, 0, 0, 7))), ex(1, 0, 0, 0, 0, 0, 0, 0, 9))),
		ins(te(tACL, 5, direct(act(aDrop)), tn(1, bs(0, 10, 0, 0, 0), bs(0, 0, 255, 0, 0, 0)), rg(2, bs(0, 0, 80), bs(0, 1, 0)), op(3, 0, 1))),
	)
	got := tableEntries(read(t, d, &p4v1.TableEntry{TableId: tConstDefault}))
	want := te(tConstDefault, 0, direct(act(aSetPort, prm(1, 7))), ex(1, 9))
	if len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	got = tableEntries(read(t, d, &p4v1.TableEntry{TableId: tACL}))
	want = te(tACL, 5, direct(act(aDrop)), tn(1, bs(10, 0, 0, 0), bs(255, 0, 0, 0)), rg(2, bs(80), bs(1, 0)), op(3, 1))
	if len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	// The padded key finds the same entry.
	got = tableEntries(read(t, d, te(tConstDefault, 0, nil, ex(1, 0, 9))))
	if len(got) != 1 {
		t.Fatalf("read by padded key: %v", got)
	}
}

func TestMetadataReadBack(t *testing.T) {
	d := newDev(t, "features")
	e := tinyEntry(10, 0, 0, 0, 8)
	e.ControllerMetadata = 0xc0ffee
	e.Metadata = []byte("cookie")
	mustWrite(t, d, ins(e))
	got := tableEntries(read(t, d, &p4v1.TableEntry{TableId: tTiny}))
	if len(got) != 1 || got[0].GetControllerMetadata() != 0xc0ffee || string(got[0].GetMetadata()) != "cookie" {
		t.Fatalf("read %v", got)
	}
	// MODIFY is a full snapshot: metadata not given is cleared; the action
	// is kept when not given.
	m := te(tTiny, 0, nil, lp(1, 8, 10, 0, 0, 0))
	m.Metadata = []byte("new")
	mustWrite(t, d, mod(m))
	got = tableEntries(read(t, d, &p4v1.TableEntry{TableId: tTiny}))
	want := tinyEntry(10, 0, 0, 0, 8)
	want.Metadata = []byte("new")
	if len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("after modify: %v, want %v", got, want)
	}
}

func TestDefaultEntry(t *testing.T) {
	d := newDev(t, "features")
	readDef := func(table uint32) *p4v1.TableEntry {
		t.Helper()
		got := tableEntries(read(t, d, &p4v1.TableEntry{TableId: table, IsDefaultAction: true}))
		if len(got) != 1 {
			t.Fatalf("default entry read: %v", got)
		}
		return got[0]
	}
	if got, want := readDef(tTiny), defEntry(tTiny, direct(act(aNoAction))); !proto.Equal(got, want) {
		t.Errorf("initial default %v, want %v", got, want)
	}
	if got, want := readDef(tConstDefault), withConst(defEntry(tConstDefault, direct(act(aDrop)))); !proto.Equal(got, want) {
		t.Errorf("const default %v, want %v", got, want)
	}
	m := defEntry(tTiny, direct(act(aSetPort, prm(1, 0, 4))))
	m.Metadata = []byte("m")
	mustWrite(t, d, mod(m))
	want := defEntry(tTiny, direct(act(aSetPort, prm(1, 4))))
	want.Metadata = []byte("m")
	if got := readDef(tTiny); !proto.Equal(got, want) {
		t.Errorf("modified default %v, want %v", got, want)
	}
	// Default entries are not part of a wildcard read.
	if got := read(t, d, &p4v1.TableEntry{TableId: tTiny}); len(got) != 0 {
		t.Errorf("wildcard read returned %v", got)
	}
	// Reset: MODIFY without action.
	mustWrite(t, d, mod(defEntry(tTiny, nil)))
	if got, want := readDef(tTiny), defEntry(tTiny, direct(act(aNoAction))); !proto.Equal(got, want) {
		t.Errorf("reset default %v, want %v", got, want)
	}
	// SetInitialDefault changes what the entry is and resets to.
	if err := d.SetInitialDefault(tTiny, act(aSetPort, prm(1, 9))); err != nil {
		t.Fatal(err)
	}
	if got, want := readDef(tTiny), defEntry(tTiny, direct(act(aSetPort, prm(1, 9)))); !proto.Equal(got, want) {
		t.Errorf("initial default set: %v, want %v", got, want)
	}
	if err := d.SetInitialDefault(tTiny, act(aPunt)); status.Code(err) != codes.PermissionDenied {
		t.Errorf("SetInitialDefault TABLE_ONLY: %v", err)
	}
	if err := d.SetInitialDefault(tConstDefault, act(aSetPort, prm(1, 1))); status.Code(err) != codes.InvalidArgument {
		t.Errorf("SetInitialDefault other than the const default: %v", err)
	}
	// All default entries of all tables.
	if got := read(t, d, &p4v1.TableEntry{IsDefaultAction: true}); len(got) != len(d.Schema().Tables()) {
		t.Errorf("default entries of every table: %d, want %d", len(got), len(d.Schema().Tables()))
	}
}

func TestDirectResourcesRead(t *testing.T) {
	d := newDev(t, "features")
	cfg := &p4v1.MeterConfig{Cir: 1, Cburst: 2, Pir: 3, Pburst: 4}
	mustWrite(t, d, ins(withMeter(withCounter(aclEntry(1), 5, 500), cfg)), ins(aclEntry(2)))
	// Not asked, not returned.
	for _, e := range tableEntries(read(t, d, &p4v1.TableEntry{TableId: tACL})) {
		if e.CounterData != nil || e.MeterConfig != nil || e.MeterCounterData != nil {
			t.Errorf("resources not asked for: %v", e)
		}
	}
	q := &p4v1.TableEntry{TableId: tACL, Priority: 1, CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}, MeterCounterData: &p4v1.MeterCounterData{}}
	got := tableEntries(read(t, d, q))
	if len(got) != 1 {
		t.Fatalf("priority filter: %v", got)
	}
	if g := got[0]; g.GetCounterData().GetPacketCount() != 5 || g.GetCounterData().GetByteCount() != 500 || !proto.Equal(g.GetMeterConfig(), cfg) || g.GetMeterCounterData().GetRed() == nil {
		t.Errorf("resources: %v", g)
	}
	// The entry with the default meter configuration has no meter_config.
	q.Priority = 2
	if g := tableEntries(read(t, d, q)); len(g) != 1 || g[0].MeterConfig != nil || g[0].GetCounterData() == nil {
		t.Errorf("default meter: %v", g)
	}
	// MODIFY without meter_config resets the meter; without counter_data keeps the counter.
	mustWrite(t, d, mod(aclEntry(1)))
	q.Priority = 1
	if g := tableEntries(read(t, d, q)); len(g) != 1 || g[0].MeterConfig != nil || g[0].GetCounterData().GetPacketCount() != 5 {
		t.Errorf("after modify: %v", g)
	}
	// DirectCounterEntry and DirectMeterEntry.
	mustWrite(t, d, mod(&p4v1.DirectCounterEntry{TableEntry: aclEntry(1), Data: &p4v1.CounterData{PacketCount: 7}}),
		mod(&p4v1.DirectMeterEntry{TableEntry: aclEntry(2), Config: cfg}))
	dc := read(t, d, &p4v1.DirectCounterEntry{TableEntry: te(tACL, 1, nil, tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0)))})
	if len(dc) != 1 || dc[0].GetDirectCounterEntry().GetData().GetPacketCount() != 7 {
		t.Errorf("direct counter read: %v", dc)
	}
	if all := read(t, d, &p4v1.DirectCounterEntry{TableEntry: &p4v1.TableEntry{}}); len(all) != 2 {
		t.Errorf("direct counters of every table: %v", all)
	}
	if all := read(t, d, &p4v1.DirectCounterEntry{}); len(all) != 2 {
		t.Errorf("direct counters without table_entry: %v", all)
	}
	dm := read(t, d, &p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: tACL}})
	if len(dm) != 2 {
		t.Fatalf("direct meters: %v", dm)
	}
	n := 0
	for _, e := range dm {
		if proto.Equal(e.GetDirectMeterEntry().GetConfig(), cfg) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("direct meter configs: %v", dm)
	}
	_, err := tryRead(d, &p4v1.DirectCounterEntry{TableEntry: aclEntry(9)})
	if c := codesOf(t, err, 1)[0]; c != codes.NotFound {
		t.Errorf("direct counter of a missing entry: %v", err)
	}
	// Deleting the entry removes its resources.
	mustWrite(t, d, del(aclEntry(1)))
	if all := read(t, d, &p4v1.DirectCounterEntry{}); len(all) != 1 {
		t.Errorf("after delete: %v", all)
	}
}

func TestOneShotReadBack(t *testing.T) {
	d := newDev(t, "features")
	set := oneShot(apa(nexthop(1), 1), apa(nexthop(2), 2), apa(nexthop(2), 2))
	set.GetActionProfileActionSet().ActionProfileActions[0].WatchKind = &p4v1.ActionProfileAction_WatchPort{WatchPort: bs(1)}
	padded := proto.Clone(set).(*p4v1.TableAction)
	padded.GetActionProfileActionSet().ActionProfileActions[1].Action.Params[1].Value = bs(0, 0, 2)
	mustWrite(t, d, ins(te(tECMP, 0, padded, ex(1, 5))))
	got := tableEntries(read(t, d, &p4v1.TableEntry{TableId: tECMP}))
	if len(got) != 1 || !proto.Equal(got[0].GetAction(), set) {
		t.Fatalf("one-shot read back %v, want action %v", got, set)
	}
	// Hidden members and groups are not visible.
	if ms := read(t, d, &p4v1.ActionProfileMember{}); len(ms) != 0 {
		t.Errorf("members visible: %v", ms)
	}
	if gs := read(t, d, &p4v1.ActionProfileGroup{}); len(gs) != 0 {
		t.Errorf("groups visible: %v", gs)
	}
	if c := d.Counts(); c.OneShotEntries != 1 || c.Members != 0 {
		t.Errorf("counts %+v", c)
	}
	// Capacity is given back on delete and accounted on modify: 32 slots,
	// 5 used; a modify to 8 uses 8.
	mustWrite(t, d, mod(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 5))))
	for i := byte(6); i < 9; i++ {
		mustWrite(t, d, ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, i))))
	}
	if c, err := writeCode(t, d, ins(te(tECMP, 0, oneShot(apa(nexthop(1), 1)), ex(1, 20)))); c != codes.ResourceExhausted {
		t.Fatalf("selector full: %v %v", c, err)
	}
	mustWrite(t, d, del(te(tECMP, 0, nil, ex(1, 5))))
	mustWrite(t, d, ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 20))))
	// Once no one-shot entry is left, members can be used.
	for _, k := range []byte{6, 7, 8, 20} {
		mustWrite(t, d, del(te(tECMP, 0, nil, ex(1, k))))
	}
	mustWrite(t, d, ins(apMember(pSelector, 1, nexthop(1))))
}

func TestActionProfileReads(t *testing.T) {
	d := newDev(t, "features")
	mustWrite(t, d,
		ins(apMember(pSelector, 2, nexthop(2))), ins(apMember(pSelector, 1, act(aSetNexthop, prm(1, 0, 1), prm(2, 0, 0, 0, 0, 0, 0, 1)))),
		ins(apMember(pPlain, 1, act(aDrop))),
	)
	mustWrite(t, d, ins(apGroup(pSelector, 1, 4, gm(1, 1), gm(2, 3))))
	if ms := read(t, d, &p4v1.ActionProfileMember{}); len(ms) != 3 {
		t.Errorf("every member: %v", ms)
	}
	ms := read(t, d, &p4v1.ActionProfileMember{ActionProfileId: pSelector})
	if len(ms) != 2 || ms[0].GetActionProfileMember().GetMemberId() != 1 {
		t.Fatalf("members of the selector: %v", ms)
	}
	// Canonical parameters.
	if !proto.Equal(ms[0].GetActionProfileMember().GetAction(), nexthop(1)) {
		t.Errorf("member 1 action %v", ms[0].GetActionProfileMember().GetAction())
	}
	if one := read(t, d, &p4v1.ActionProfileMember{ActionProfileId: pSelector, MemberId: 2}); len(one) != 1 {
		t.Errorf("member 2: %v", one)
	}
	if none := read(t, d, &p4v1.ActionProfileMember{ActionProfileId: pSelector, MemberId: 9}); len(none) != 0 {
		t.Errorf("member 9: %v", none)
	}
	gs := read(t, d, &p4v1.ActionProfileGroup{ActionProfileId: pSelector, GroupId: 1})
	if len(gs) != 1 || !proto.Equal(gs[0].GetActionProfileGroup(), apGroup(pSelector, 1, 4, gm(1, 1), gm(2, 3))) {
		t.Errorf("group 1: %v", gs)
	}
	// A group modify moves its members; the member left out can be deleted.
	mustWrite(t, d, mod(apGroup(pSelector, 1, 4, gm(2, 4))))
	mustWrite(t, d, del(apMember(pSelector, 1, nil)))
	if c, _ := writeCode(t, d, del(apMember(pSelector, 2, nil))); c != codes.FailedPrecondition {
		t.Errorf("delete member in group: %v", c)
	}
	_, err := tryRead(d, &p4v1.ActionProfileMember{ActionProfileId: 0x11ffffff})
	if c := codesOf(t, err, 1)[0]; c != codes.InvalidArgument {
		t.Errorf("unknown profile read: %v", err)
	}
}

func TestReadWildcards(t *testing.T) {
	d := newDev(t, "features")
	e10 := tinyEntry(10, 0, 0, 0, 8)
	e10.ControllerMetadata = 7
	mustWrite(t, d,
		ins(e10), ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 2))), lp(1, 16, 11, 1, 0, 0))),
		ins(aclEntry(1)), ins(aclEntry(2)), ins(te(tACL, 3, direct(act(aPunt)), op(3, 4))),
		ins(te(tIdle, 0, direct(act(aNoAction)), ex(1, mac1...))),
	)
	cases := []struct {
		name string
		q    *p4v1.TableEntry
		want int
	}{
		{"all_tables", &p4v1.TableEntry{}, 6},
		{"one_table", &p4v1.TableEntry{TableId: tACL}, 3},
		{"by_key", te(tTiny, 0, nil, lp(1, 16, 11, 1, 0, 0)), 1},
		{"by_missing_key", te(tTiny, 0, nil, lp(1, 16, 12, 1, 0, 0)), 0},
		{"by_priority", &p4v1.TableEntry{TableId: tACL, Priority: 2}, 1},
		{"by_match_without_priority", te(tACL, 0, nil, tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0))), 2},
		{"by_match_and_priority", te(tACL, 1, nil, tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0))), 1},
		{"by_action", &p4v1.TableEntry{TableId: tACL, Action: direct(act(aPunt))}, 1},
		{"by_controller_metadata", &p4v1.TableEntry{TableId: tTiny, ControllerMetadata: 7}, 1},
		{"by_metadata", &p4v1.TableEntry{TableId: tTiny, Metadata: []byte("x")}, 0},
		{"const_table_empty", &p4v1.TableEntry{TableId: tConst}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := read(t, d, c.q); len(got) != c.want {
				t.Errorf("%d entities, want %d: %v", len(got), c.want, texts(got))
			}
		})
	}
	// Several queries in one request; the answer can repeat entities.
	es, err := tryRead(d, &p4v1.TableEntry{TableId: tTiny}, &p4v1.TableEntry{TableId: tTiny})
	if err != nil || len(es) != 4 {
		t.Errorf("two queries: %v %v", len(es), err)
	}
	// Idle time asked for.
	q := &p4v1.TableEntry{TableId: tIdle, TimeSinceLastHit: &p4v1.TableEntry_IdleTimeout{}}
	if got := tableEntries(read(t, d, q)); len(got) != 1 || got[0].TimeSinceLastHit == nil {
		t.Errorf("time_since_last_hit: %v", got)
	}
}

func TestReadErrors(t *testing.T) {
	d := newDev(t, "features")
	mustWrite(t, d, ins(tinyEntry(10, 0, 0, 0, 8)))
	cases := []struct {
		name string
		q    *p4v1.Entity
		want codes.Code
	}{
		{"entity_unset", &p4v1.Entity{}, codes.InvalidArgument},
		{"unknown_table", ent(&p4v1.TableEntry{TableId: 0x02ffffff}), codes.InvalidArgument},
		{"filter_with_table_zero", ent(&p4v1.TableEntry{Priority: 3}), codes.InvalidArgument},
		{"invalid_key", ent(te(tTiny, 0, nil, lp(1, 0, 0))), codes.InvalidArgument},
		{"key_too_wide", ent(te(tTiny, 0, nil, lp(1, 8, 1, 10, 0, 0, 0))), codes.OutOfRange},
		{"action_filter_with_params", ent(&p4v1.TableEntry{TableId: tTiny, Action: direct(act(aSetPort, prm(1, 1)))}), codes.InvalidArgument},
		{"default_with_match", ent(withMatch(defEntry(tTiny, nil), lp(1, 8, 10, 0, 0, 0))), codes.InvalidArgument},
		{"direct_counter_table_without_counter", ent(&p4v1.DirectCounterEntry{TableEntry: &p4v1.TableEntry{TableId: tTiny}}), codes.InvalidArgument},
		{"counter_unknown", ent(&p4v1.CounterEntry{CounterId: 0x12ffffff}), codes.InvalidArgument},
		{"counter_index_out_of_range", ent(&p4v1.CounterEntry{CounterId: cPort, Index: idx(16)}), codes.OutOfRange},
		{"counter_index_negative", ent(&p4v1.CounterEntry{CounterId: cPort, Index: idx(-1)}), codes.InvalidArgument},
		{"counter_zero_with_index", ent(&p4v1.CounterEntry{Index: idx(1)}), codes.InvalidArgument},
		{"meter_index_out_of_range", ent(&p4v1.MeterEntry{MeterId: mPort, Index: idx(8)}), codes.OutOfRange},
		{"register_unknown", ent(&p4v1.RegisterEntry{RegisterId: 0x16ffffff}), codes.InvalidArgument},
		{"digest_unknown", ent(&p4v1.DigestEntry{DigestId: 0x17ffffff}), codes.InvalidArgument},
		{"value_set_with_members", ent(valueSet(vsTrill, ex(1, 1))), codes.InvalidArgument},
		{"member_without_profile", ent(&p4v1.ActionProfileMember{MemberId: 3}), codes.InvalidArgument},
		{"group_unknown_profile", ent(&p4v1.ActionProfileGroup{ActionProfileId: 0x11ffffff}), codes.InvalidArgument},
		{"pre_unset", ent(&p4v1.PacketReplicationEngineEntry{}), codes.InvalidArgument},
		{"extern", ent(&p4v1.ExternEntry{}), codes.Unimplemented},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A bad query next to a good one: the good one's entities are
			// sent, the status has one p4.v1.Error per query.
			var got []*p4v1.Entity
			err := d.Read([]*p4v1.Entity{ent(&p4v1.TableEntry{TableId: tTiny}), c.q}, func(es []*p4v1.Entity) error {
				got = append(got, es...)
				return nil
			})
			if status.Code(err) != codes.Unknown {
				t.Fatalf("status %v, want UNKNOWN with details", err)
			}
			cs := codesOf(t, err, 2)
			if cs[0] != codes.OK || cs[1] != c.want {
				t.Errorf("codes %v, want [OK %v] (%v)", cs, c.want, err)
			}
			if len(got) != 1 {
				t.Errorf("entities of the valid query: %v", got)
			}
		})
	}
	// An error from send ends the read with that error.
	boom := errors.New("boom")
	if err := d.Read([]*p4v1.Entity{ent(&p4v1.TableEntry{})}, func([]*p4v1.Entity) error { return boom }); err != boom {
		t.Errorf("send error: %v", err)
	}
}

func TestReadChunks(t *testing.T) {
	d := newDev(t, "bench")
	var us []*p4v1.Update
	for i := 0; i < 2500; i++ {
		us = append(us, ins(benchRoute(i)))
	}
	mustWrite(t, d, us...)
	var sizes []int
	err := d.Read([]*p4v1.Entity{ent(&p4v1.TableEntry{})}, func(es []*p4v1.Entity) error {
		sizes = append(sizes, len(es))
		return nil
	})
	if err != nil || fmt.Sprint(sizes) != "[1000 1000 500]" {
		t.Errorf("chunks %v, %v", sizes, err)
	}
	if n := d.Len(benchRoutes); n != 2500 {
		t.Errorf("Len %d", n)
	}
}

func TestAtomicity(t *testing.T) {
	setup := func(t *testing.T) *Device {
		d := newDev(t, "features")
		mustWrite(t, d, ins(tinyEntry(10, 0, 0, 0, 8)), ins(apMember(pSelector, 1, nexthop(1))), ins(apMember(pSelector, 2, nexthop(2))),
			ins(mcast(1, replica(bs(1), 0))), mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(1), Data: &p4v1.CounterData{PacketCount: 4}}))
		return d
	}
	batch := func() []*p4v1.Update {
		return []*p4v1.Update{
			del(tinyEntry(10, 0, 0, 0, 8)),
			ins(tinyEntry(11, 0, 0, 0, 8)),
			ins(apGroup(pSelector, 1, 0, gm(1, 1), gm(2, 1))),
			mod(apMember(pSelector, 1, nexthop(3))),
			ins(te(tECMP, 0, grp(1), ex(1, 1))),
			del(mcast(1)),
			ins(clone(3)),
			mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{PacketCount: 9}}),
			mod(&p4v1.RegisterEntry{RegisterId: rFlow, Data: bitstring(5)}),
			mod(&p4v1.MeterEntry{MeterId: mPort, Config: &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 1, Pburst: 1}}),
			ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{}}),
			mod(valueSet(vsTrill, ex(1, 1))),
			mod(defEntry(tTiny, direct(act(aSetPort, prm(1, 1))))),
			ins(te(tACL, 1, direct(act(aDrop)), tn(1, bs(1), bs(0)))), // fails: mask 0
			ins(tinyEntry(12, 0, 0, 0, 8)),
		}
	}
	for _, mode := range []p4v1.WriteRequest_Atomicity{p4v1.WriteRequest_ROLLBACK_ON_ERROR, p4v1.WriteRequest_DATAPLANE_ATOMIC} {
		t.Run(mode.String()+"_restores_state", func(t *testing.T) {
			d := setup(t)
			before := dump(t, d)
			b := batch()
			err := d.Write(b, mode, nil)
			cs := codesOf(t, err, len(b))
			for i, c := range cs {
				want := codes.Aborted
				if i == 13 {
					want = codes.InvalidArgument
				}
				if c != want {
					t.Errorf("update #%d: %v, want %v", i, c, want)
				}
			}
			if after := dump(t, d); !equalStrings(before, after) {
				t.Errorf("state not restored:\nbefore %v\nafter  %v", before, after)
			}
			// The refcounts were restored too: member 1 can be deleted, the
			// group does not exist.
			mustWrite(t, d, del(apMember(pSelector, 1, nil)))
			// And a good batch in the same mode applies.
			b = batch()
			b = append(b[:13], b[14:]...)
			// Member 1 is gone now: the group insert fails, all is rolled back.
			if err := d.Write(b, mode, nil); err == nil || codesOf(t, err, len(b))[2] != codes.NotFound {
				t.Errorf("second batch: %v", err)
			}
			mustWrite(t, d, ins(apMember(pSelector, 1, nexthop(1))))
			if err := d.Write(b, mode, nil); err != nil {
				t.Errorf("good batch: %v", err)
			}
			if n := d.Len(tECMP); n != 1 {
				t.Errorf("ecmp entries %d", n)
			}
		})
	}
	t.Run("CONTINUE_ON_ERROR_applies_the_rest", func(t *testing.T) {
		d := setup(t)
		b := batch()
		err := d.Write(b, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil)
		cs := codesOf(t, err, len(b))
		for i, c := range cs {
			want := codes.OK
			if i == 13 {
				want = codes.InvalidArgument
			}
			if c != want {
				t.Errorf("update #%d: %v, want %v", i, c, want)
			}
		}
		if n := d.Len(tTiny); n != 2 {
			t.Errorf("tiny entries %d, want 2", n)
		}
		st := status.Convert(err)
		if st.Code() != codes.Unknown || len(st.Details()) != len(b) {
			t.Errorf("status %v", st)
		}
	})
	t.Run("unknown_atomicity", func(t *testing.T) {
		d := setup(t)
		if err := d.Write(batch(), 7, nil); status.Code(err) != codes.InvalidArgument {
			t.Errorf("atomicity 7: %v", err)
		}
	})
}

func TestAllow(t *testing.T) {
	d := newDev(t, "features")
	allow := func(u *p4v1.Update) error {
		if u.GetEntity().GetTableEntry().GetTableId() == tACL {
			return status.Error(codes.PermissionDenied, "not your table")
		}
		return nil
	}
	err := d.Write([]*p4v1.Update{ins(tinyEntry(10, 0, 0, 0, 8)), ins(aclEntry(1))}, p4v1.WriteRequest_CONTINUE_ON_ERROR, allow)
	if cs := codesOf(t, err, 2); cs[0] != codes.OK || cs[1] != codes.PermissionDenied {
		t.Errorf("codes %v", cs)
	}
	if d.Len(tACL) != 0 || d.Len(tTiny) != 1 {
		t.Errorf("lens %d %d", d.Len(tACL), d.Len(tTiny))
	}
}

func TestCountersMetersRegisters(t *testing.T) {
	d := newDev(t, "features")
	if es := read(t, d, &p4v1.CounterEntry{CounterId: cPort}); len(es) != 16 {
		t.Fatalf("counter cells %d", len(es))
	}
	mustWrite(t, d,
		mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{PacketCount: 1, ByteCount: 2}}),
		mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(3), Data: &p4v1.CounterData{PacketCount: 30, ByteCount: 3000}}),
		mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(2), Config: &p4v1.MeterConfig{Cir: 10, Cburst: 1, Pir: 20, Pburst: 2}}),
		mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(4), Data: bitstring(0, 0, 1, 2)}),
	)
	es := read(t, d, &p4v1.CounterEntry{CounterId: cPort, Index: idx(3)})
	if len(es) != 1 || es[0].GetCounterEntry().GetData().GetByteCount() != 3000 {
		t.Errorf("counter 3: %v", es)
	}
	es = read(t, d, &p4v1.CounterEntry{CounterId: cPort, Index: idx(5)})
	if len(es) != 1 || es[0].GetCounterEntry().GetData().GetPacketCount() != 1 {
		t.Errorf("counter 5: %v", es)
	}
	if err := d.AddCounter(cPort, 5, 2, 100); err != nil {
		t.Fatal(err)
	}
	if err := d.AddCounter(cPort, 16, 1, 1); status.Code(err) != codes.OutOfRange {
		t.Errorf("AddCounter out of range: %v", err)
	}
	es = read(t, d, &p4v1.CounterEntry{CounterId: cPort, Index: idx(5)})
	if c := es[0].GetCounterEntry().GetData(); c.GetPacketCount() != 3 || c.GetByteCount() != 102 {
		t.Errorf("counter 5 after AddCounter: %v", c)
	}
	if all := read(t, d, &p4v1.CounterEntry{}); len(all) != 16 {
		t.Errorf("every counter: %d", len(all))
	}
	ms := read(t, d, &p4v1.MeterEntry{MeterId: mPort})
	if len(ms) != 8 {
		t.Fatalf("meter cells %d", len(ms))
	}
	for i, m := range ms {
		if (i == 2) != (m.GetMeterEntry().GetConfig() != nil) {
			t.Errorf("meter cell %d: %v", i, m)
		}
		if m.GetMeterEntry().GetCounterData() != nil {
			t.Errorf("meter counter data not asked for: %v", m)
		}
	}
	if ms := read(t, d, &p4v1.MeterEntry{MeterId: mPort, Index: idx(2), CounterData: &p4v1.MeterCounterData{}}); ms[0].GetMeterEntry().GetCounterData().GetGreen() == nil {
		t.Errorf("meter counter data: %v", ms)
	}
	if all := read(t, d, &p4v1.MeterEntry{}); len(all) != 12 {
		t.Errorf("every meter cell: %d", len(all))
	}
	// MODIFY without config resets.
	mustWrite(t, d, mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(2)}))
	if ms := read(t, d, &p4v1.MeterEntry{MeterId: mPort, Index: idx(2)}); ms[0].GetMeterEntry().GetConfig() != nil {
		t.Errorf("meter not reset: %v", ms)
	}
	rs := read(t, d, &p4v1.RegisterEntry{RegisterId: rFlow})
	if len(rs) != 16 {
		t.Fatalf("register cells %d", len(rs))
	}
	if got := rs[4].GetRegisterEntry().GetData(); !proto.Equal(got, bitstring(1, 2)) {
		t.Errorf("register 4 (canonical): %v", got)
	}
	if got := rs[0].GetRegisterEntry().GetData(); !proto.Equal(got, bitstring(0)) {
		t.Errorf("register 0 (zero): %v", got)
	}
	mustWrite(t, d, mod(&p4v1.RegisterEntry{RegisterId: rFlow, Data: bitstring(7)}))
	for _, r := range read(t, d, &p4v1.RegisterEntry{}) {
		if !proto.Equal(r.GetRegisterEntry().GetData(), bitstring(7)) {
			t.Errorf("register after wildcard write: %v", r)
		}
	}
}

func TestPRE(t *testing.T) {
	d := newDev(t, "features")
	m2 := mcast(2, replica(bs(5), 1), &p4v1.Replica{PortKind: &p4v1.Replica_Port{Port: bs(12)}, Instance: 2,
		BackupReplicas: []*p4v1.BackupReplica{{Port: bs(13), Instance: 5}}})
	m2.GetMulticastGroupEntry().Metadata = []byte("md")
	mustWrite(t, d, ins(m2), ins(mcast(1, &p4v1.Replica{PortKind: &p4v1.Replica_EgressPort{EgressPort: 3}})), ins(clone(100, replica(bs(0xff, 0xff, 0xff, 0xfd), 1))))
	es := read(t, d, mcast(0))
	if len(es) != 2 || es[0].GetPacketReplicationEngineEntry().GetMulticastGroupEntry().GetMulticastGroupId() != 1 {
		t.Fatalf("every multicast group: %v", es)
	}
	es = read(t, d, mcast(2))
	if len(es) != 1 || !proto.Equal(es[0].GetPacketReplicationEngineEntry(), m2) {
		t.Errorf("group 2: %v", es)
	}
	if g, ok := d.MulticastGroup(2); !ok || !proto.Equal(g, m2.GetMulticastGroupEntry()) {
		t.Errorf("MulticastGroup(2): %v %v", g, ok)
	}
	mustWrite(t, d, mod(mcast(2, replica(bs(6), 0))), del(mcast(1)))
	if es := read(t, d, mcast(0)); len(es) != 1 || len(es[0].GetPacketReplicationEngineEntry().GetMulticastGroupEntry().GetReplicas()) != 1 {
		t.Errorf("after modify and delete: %v", es)
	}
	if es := read(t, d, clone(0)); len(es) != 1 {
		t.Errorf("clone sessions: %v", es)
	}
	if _, ok := d.CloneSession(100); !ok {
		t.Error("CloneSession(100) missing")
	}
	if c := d.Counts(); c.MulticastGroups != 1 || c.CloneSessions != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestDigestConfig(t *testing.T) {
	d := newDev(t, "features")
	if _, ok := d.DigestConfig(dLearn); ok {
		t.Fatal("digest enabled initially")
	}
	cfg := &p4v1.DigestEntry_Config{MaxTimeoutNs: 1e6, MaxListSize: 10, AckTimeoutNs: 1e9}
	mustWrite(t, d, ins(&p4v1.DigestEntry{DigestId: dLearn, Config: cfg}))
	if got, ok := d.DigestConfig(dLearn); !ok || !proto.Equal(got, cfg) {
		t.Errorf("DigestConfig %v %v", got, ok)
	}
	if es := read(t, d, &p4v1.DigestEntry{}); len(es) != 1 || !proto.Equal(es[0].GetDigestEntry().GetConfig(), cfg) {
		t.Errorf("digest read: %v", es)
	}
	cfg2 := &p4v1.DigestEntry_Config{MaxListSize: 1}
	mustWrite(t, d, mod(&p4v1.DigestEntry{DigestId: dLearn, Config: cfg2}))
	if got, _ := d.DigestConfig(dLearn); !proto.Equal(got, cfg2) {
		t.Errorf("after modify %v", got)
	}
	mustWrite(t, d, del(&p4v1.DigestEntry{DigestId: dLearn}))
	if _, ok := d.DigestConfig(dLearn); ok {
		t.Error("digest enabled after delete")
	}
	if es := read(t, d, &p4v1.DigestEntry{DigestId: dLearn}); len(es) != 0 {
		t.Errorf("disabled digest read: %v", es)
	}
}

func TestValueSets(t *testing.T) {
	d := newDev(t, "features")
	mustWrite(t, d, mod(valueSet(vsTrill, ex(1, 0, 0x22, 0xf3), ex(1, 0x89, 0x3b))))
	es := read(t, d, &p4v1.ValueSetEntry{ValueSetId: vsTrill})
	if want := valueSet(vsTrill, ex(1, 0x22, 0xf3), ex(1, 0x89, 0x3b)); len(es) != 1 || !proto.Equal(es[0].GetValueSetEntry(), want) {
		t.Errorf("value set: %v, want %v", es, want)
	}
	if all := read(t, d, &p4v1.ValueSetEntry{}); len(all) != 2 {
		t.Errorf("every value set: %v", all)
	}
	mustWrite(t, d, mod(valueSet(vsTrill)))
	if es := read(t, d, &p4v1.ValueSetEntry{ValueSetId: vsTrill}); len(es[0].GetValueSetEntry().GetMembers()) != 0 {
		t.Errorf("emptied value set: %v", es)
	}
}

func TestIdleTimeout(t *testing.T) {
	d := newDev(t, "features")
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	e := withIdle(te(tIdle, 0, direct(act(aSetPort, prm(1, 1))), ex(1, mac1...)), int64(time.Second))
	mustWrite(t, d, ins(e), ins(te(tIdle, 0, direct(act(aNoAction)), ex(1, 2))))
	now = now.Add(1500 * time.Millisecond)
	q := &p4v1.TableEntry{TableId: tIdle, TimeSinceLastHit: &p4v1.TableEntry_IdleTimeout{}}
	got := tableEntries(read(t, d, q))
	if len(got) != 2 || got[0].GetTimeSinceLastHit().GetElapsedNs() != int64(1500*time.Millisecond) || got[0].GetIdleTimeoutNs() != int64(time.Second) {
		t.Fatalf("idle read: %v", got)
	}
	idle := d.IdleEntries(now)
	if len(idle) != 1 || !proto.Equal(idle[0].GetMatch()[0], ex(1, 1)) {
		t.Fatalf("IdleEntries: %v", idle)
	}
	if again := d.IdleEntries(now.Add(time.Hour)); len(again) != 0 {
		t.Errorf("reported twice: %v", again)
	}
	// A hit restarts the timer.
	if err := d.Hit(te(tIdle, 0, nil, ex(1, mac1...)), 1, 64); err != nil {
		t.Fatal(err)
	}
	if got := tableEntries(read(t, d, q)); got[0].GetTimeSinceLastHit().GetElapsedNs() != 0 {
		t.Errorf("after hit: %v", got[0])
	}
	if idle := d.IdleEntries(now.Add(2 * time.Second)); len(idle) != 1 {
		t.Errorf("idle again after the hit: %v", idle)
	}
	if err := d.Hit(te(tIdle, 0, nil, ex(1, 9)), 1, 1); status.Code(err) != codes.NotFound {
		t.Errorf("Hit of a missing entry: %v", err)
	}
}

func TestHitCountsDirectCounter(t *testing.T) {
	d := newDev(t, "features")
	mustWrite(t, d, ins(aclEntry(1)))
	for i := 0; i < 3; i++ {
		if err := d.Hit(aclEntry(1), 1, 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Hit(defEntry(tACL, nil), 1, 10); err != nil {
		t.Fatal(err)
	}
	es := read(t, d, &p4v1.DirectCounterEntry{TableEntry: aclEntry(1)})
	if c := es[0].GetDirectCounterEntry().GetData(); c.GetPacketCount() != 3 || c.GetByteCount() != 300 {
		t.Errorf("direct counter %v", c)
	}
	es = read(t, d, &p4v1.TableEntry{TableId: tACL, IsDefaultAction: true, CounterData: &p4v1.CounterData{}})
	if c := es[0].GetTableEntry().GetCounterData(); c.GetPacketCount() != 1 {
		t.Errorf("default entry counter %v", c)
	}
}

func TestPreloadConstEntries(t *testing.T) {
	d := newDev(t, "features")
	c1 := te(tConst, 0, direct(act(aDrop)), ex(1, 0x08, 0x06))
	if err := d.Preload([]*p4v1.TableEntry{c1, te(tConst, 0, direct(act(aSetPort, prm(1, 1))), ex(1, 0x86, 0xdd))}); err != nil {
		t.Fatal(err)
	}
	got := tableEntries(read(t, d, &p4v1.TableEntry{TableId: tConst}))
	if len(got) != 2 || !got[0].GetIsConst() {
		t.Fatalf("const entries: %v", got)
	}
	// Only MODIFY without action (direct resources) is allowed; there are
	// none here, so the entry stays the same.
	if c, err := writeCode(t, d, mod(te(tConst, 0, direct(act(aDrop)), ex(1, 0x08, 0x06)))); c != codes.PermissionDenied {
		t.Errorf("modify const entry with action: %v %v", c, err)
	}
	if c, err := writeCode(t, d, mod(te(tConst, 0, nil, ex(1, 0x08, 0x06)))); c != codes.OK {
		t.Errorf("modify const entry without action: %v %v", c, err)
	}
	if c, _ := writeCode(t, d, del(c1)); c != codes.PermissionDenied {
		t.Errorf("delete const entry: %v", c)
	}
	// A const entry in a normal table.
	ce := withConst(tinyEntry(10, 0, 0, 0, 8))
	if err := d.Preload([]*p4v1.TableEntry{ce}); err != nil {
		t.Fatal(err)
	}
	if c, _ := writeCode(t, d, del(tinyEntry(10, 0, 0, 0, 8))); c != codes.PermissionDenied {
		t.Errorf("delete const entry of a normal table: %v", c)
	}
	mustWrite(t, d, ins(tinyEntry(11, 0, 0, 0, 8)), del(tinyEntry(11, 0, 0, 0, 8)))
	// Preload is all or nothing.
	if err := d.Preload([]*p4v1.TableEntry{te(tConst, 0, direct(act(aDrop)), ex(1, 1)), te(tConst, 0, direct(act(aDrop)), ex(1))}); status.Code(err) != codes.OutOfRange {
		t.Errorf("bad preload: %v", err)
	}
	if n := d.Len(tConst); n != 2 {
		t.Errorf("const entries after a failed preload: %d", n)
	}
}

// TestConcurrent runs writers and readers at once (run with -race).
func TestConcurrent(t *testing.T) {
	d := newDev(t, "bench")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				e := benchRoute(w*1000 + i)
				_ = d.Write([]*p4v1.Update{ins(e)}, p4v1.WriteRequest_ROLLBACK_ON_ERROR, nil)
				if i%3 == 0 {
					_ = d.Write([]*p4v1.Update{del(e)}, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil)
				}
			}
		}(w)
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_ = d.Read([]*p4v1.Entity{ent(&p4v1.TableEntry{}), ent(te(benchRoutes, 0, nil, lp(1, 32, 10, 0, 0, 1)))}, func(es []*p4v1.Entity) error {
					for _, e := range es {
						_ = proto.Size(e)
					}
					return nil
				})
				_ = d.Len(benchRoutes)
				_ = d.Counts()
			}
		}()
	}
	wg.Wait()
	if n := d.Len(benchRoutes); n != 4*(200-67) {
		t.Errorf("entries %d, want %d", n, 4*(200-67))
	}
}
