package diff_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/diff"
)

// TestProperties checks the diff of generated pairs of entity sets:
//
//   - applying diff(desired, actual) to actual yields desired (modify-only
//     cells that only actual has are left alone);
//   - walking the writes one by one, no state ever has a reference to an
//     entity it lacks: inserts never reference what is not yet there,
//     deletes never strand a reference;
//   - the plan is minimal: one write per key that differs, none for equal
//     entities (padded bytestrings, other field or member orders);
//   - inserts and modifies come by ascending rank, deletes by descending.
func TestProperties(t *testing.T) {
	const cases = 800
	for seed := range uint64(cases) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		desired := (&gen{r: r}).set()
		actual := (&gen{r: r, pad: r.IntN(2) == 0}).set()
		if seed%10 == 0 {
			// Overlapping sets: actual is desired with a few changes.
			actual = mutate(r, desired)
		}
		checkPlan(t, seed, desired, actual)
	}
}

// mutate returns a copy of a consistent set with some contents changed,
// some entities dropped (only those nothing refers to) and the values
// padded.
func mutate(r *rand.Rand, set []*p4v1.Entity) []*p4v1.Entity {
	var out []*p4v1.Entity
	referred := map[ref]bool{}
	for _, e := range set {
		for _, x := range refs(e) {
			referred[x] = true
		}
	}
	for _, e := range set {
		c := proto.Clone(e).(*p4v1.Entity)
		switch r.IntN(6) {
		case 0:
			if n := name(e); n == "" || !referred[n] {
				continue // drop it
			}
		case 1:
			if a := c.GetTableEntry().GetAction().GetAction(); a != nil && c.GetTableEntry().GetTableId() == tACL {
				a.Params[0].Value = []byte{a.Params[0].Value[len(a.Params[0].Value)-1] ^ 1}
			}
			if m := c.GetActionProfileMember(); m != nil {
				m.Action.Params[0].Value = []byte{9}
			}
		case 2:
			for _, m := range c.GetTableEntry().GetMatch() {
				if x := m.GetExact(); x != nil {
					x.Value = append([]byte{0, 0}, x.Value...)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func checkPlan(t *testing.T, seed uint64, desired, actual []*p4v1.Entity) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+format, append([]any{seed}, args...)...)
	}
	if msg, bad := dangling(desired); bad {
		fail("generator: desired set inconsistent: %s", msg)
	}
	if msg, bad := dangling(actual); bad {
		fail("generator: actual set inconsistent: %s", msg)
	}
	plan, err := diff.Compute(desired, actual, diff.WithRank(modelRank))
	if err != nil {
		fail("Compute: %v", err)
	}

	// Walk the writes, checking references after each.
	ups := plan.Updates()
	state, err := diff.Apply(actual, ups)
	if err != nil {
		fail("updates do not apply: %v", err)
	}
	w := newWalker(actual)
	for i, u := range ups {
		if msg, bad := w.apply(u); bad {
			fail("after update %d (%v %v): %s", i, u.GetType(), u.GetEntity(), msg)
		}
	}

	// The result is desired.
	want := map[string]*p4v1.Entity{}
	for _, e := range desired {
		want[entity.Key(e)] = e
	}
	got := map[string]*p4v1.Entity{}
	for _, e := range state {
		got[entity.Key(e)] = e
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			fail("missing after the writes: %v", w)
		}
		if !diff.Equal(g, w) {
			fail("differs after the writes:\n got %v\nwant %v", g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && !diff.ModifyOnly(g) {
			fail("left over after the writes: %v", g)
		}
	}

	// Minimal: one write per differing key.
	have := map[string]*p4v1.Entity{}
	for _, e := range actual {
		have[entity.Key(e)] = e
	}
	wantWrites := 0
	for k, w := range want {
		if a, ok := have[k]; !ok || !diff.Equal(a, w) {
			wantWrites++
		}
	}
	for k, a := range have {
		if _, ok := want[k]; !ok && !diff.ModifyOnly(a) {
			wantWrites++
		}
	}
	if plan.Len() != wantWrites {
		fail("%d writes, want %d (inserts %d, modifies %d, deletes %d)", plan.Len(), wantWrites, len(plan.Inserts), len(plan.Modifies), len(plan.Deletes))
	}

	// Order.
	for _, l := range []struct {
		name string
		es   []*p4v1.Entity
		desc bool
	}{{"inserts", plan.Inserts, false}, {"modifies", plan.Modifies, false}, {"deletes", plan.Deletes, true}} {
		for i := 1; i < len(l.es); i++ {
			a, b := modelRank(l.es[i-1]), modelRank(l.es[i])
			if (!l.desc && b < a) || (l.desc && b > a) {
				fail("%s out of rank order at %d: %d then %d", l.name, i, a, b)
			}
		}
	}
}

func te(table uint32, prio int32, match []*p4v1.FieldMatch, a *p4v1.TableAction) *p4v1.Entity {
	return entity.Wrap(&p4v1.TableEntry{TableId: table, Priority: prio, Match: match, Action: a})
}

func TestEqual(t *testing.T) {
	base := func() *p4v1.Entity {
		return te(tACL, 3, []*p4v1.FieldMatch{
			{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: []byte{1}, Mask: []byte{0xf}}}},
			{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: []byte{2}, Mask: []byte{0xff}}}},
		}, action(aACL, []byte{1}, []byte{0x0a, 0}))
	}
	group := func(members ...uint32) *p4v1.Entity {
		g := &p4v1.ActionProfileGroup{ActionProfileId: 1, GroupId: 1}
		for _, m := range members {
			g.Members = append(g.Members, &p4v1.ActionProfileGroup_Member{MemberId: m, Weight: 1})
		}
		return entity.Wrap(g)
	}
	mcast := func(rs ...*p4v1.Replica) *p4v1.Entity {
		return entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{
			MulticastGroupEntry: &p4v1.MulticastGroupEntry{MulticastGroupId: 1, Replicas: rs}}})
	}
	port := func(p []byte) *p4v1.Replica { return &p4v1.Replica{PortKind: &p4v1.Replica_Port{Port: p}, Instance: 1} }
	tests := []struct {
		name   string
		a, b   *p4v1.Entity
		change func(e *p4v1.Entity)
		watchA bool // a's first group member watches port 1
		want   bool
	}{
		{name: "same", a: base(), b: base(), want: true},
		{name: "padded match value", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().Match[0].GetTernary().Value = []byte{0, 0, 1}
		}, want: true},
		{name: "padded param", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().GetAction().GetAction().Params[0].Value = []byte{0, 1}
		}, want: true},
		{name: "fields in another order", a: base(), b: base(), change: func(e *p4v1.Entity) {
			m := e.GetTableEntry().Match
			m[0], m[1] = m[1], m[0]
		}, want: true},
		{name: "params in another order", a: base(), b: base(), change: func(e *p4v1.Entity) {
			p := e.GetTableEntry().GetAction().GetAction().Params
			p[0], p[1] = p[1], p[0]
		}, want: true},
		{name: "time since last hit ignored", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().TimeSinceLastHit = &p4v1.TableEntry_IdleTimeout{ElapsedNs: 5}
			e.GetTableEntry().IsConst = true
		}, want: true},
		{name: "param value", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().GetAction().GetAction().Params[0].Value = []byte{2}
		}},
		{name: "action ID", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().GetAction().GetAction().ActionId = 7
		}},
		{name: "missing param", a: base(), b: base(), change: func(e *p4v1.Entity) {
			a := e.GetTableEntry().GetAction().GetAction()
			a.Params = a.Params[:1]
		}},
		{name: "member instead of action", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: 1}}
		}},
		{name: "metadata", a: base(), b: base(), change: func(e *p4v1.Entity) { e.GetTableEntry().Metadata = []byte("x") }},
		{name: "counter data", a: base(), b: base(), change: func(e *p4v1.Entity) {
			e.GetTableEntry().CounterData = &p4v1.CounterData{PacketCount: 1}
		}},
		{name: "priority is key", a: base(), b: base(), change: func(e *p4v1.Entity) { e.GetTableEntry().Priority = 4 }},
		{name: "group members in another order", a: group(1, 2, 3), b: group(3, 1, 2), want: true},
		{name: "group members differ", a: group(1, 2), b: group(1, 3)},
		{name: "group same", a: group(1, 2), b: group(1, 2), want: true},
		{name: "group weight", a: group(1, 2), b: group(1, 2), change: func(e *p4v1.Entity) {
			e.GetActionProfileGroup().Members[1].Weight = 2
		}},
		{name: "group max size", a: group(1, 2), b: group(1, 2), change: func(e *p4v1.Entity) { e.GetActionProfileGroup().MaxSize = 8 }},
		{name: "group watched member", a: group(1, 2), b: group(1, 2), change: func(e *p4v1.Entity) {
			e.GetActionProfileGroup().Members[0].WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: []byte{1}}
		}},
		{name: "group watched members alike", a: group(1, 2), b: group(1, 2), change: func(e *p4v1.Entity) {
			// change runs on b only: a is made the same by hand below.
			e.GetActionProfileGroup().Members[0].WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: []byte{1}}
		}, watchA: true, want: true},
		{name: "replicas in another order and padded", a: mcast(port([]byte{1}), port([]byte{2})), b: mcast(port([]byte{0, 2}), port([]byte{1})), want: true},
		{name: "replica egress_port and port", a: mcast(port([]byte{1})), b: mcast(&p4v1.Replica{PortKind: &p4v1.Replica_EgressPort{EgressPort: 1}, Instance: 1}), want: true},
		{name: "replicas differ", a: mcast(port([]byte{1})), b: mcast(port([]byte{2}))},
		{name: "different kinds", a: base(), b: group(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(tt.b)
			}
			if tt.watchA {
				tt.a.GetActionProfileGroup().Members[0].WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: []byte{1}}
			}
			if got := diff.Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
			if got := diff.Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal (swapped) = %v, want %v", got, tt.want)
			}
			if got := proto.Equal(diff.Canonical(tt.a), diff.Canonical(tt.b)) && entity.Key(tt.a) == entity.Key(tt.b); got != tt.want {
				t.Errorf("canonical forms equal = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGroupEqualAllocs: comparing two groups alike allocates nothing (a
// commit compares the groups of every box it may leave alone).
func TestGroupEqualAllocs(t *testing.T) {
	mk := func() *p4v1.Entity {
		return entity.Wrap(&p4v1.ActionProfileGroup{ActionProfileId: 1, GroupId: 1, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 1}, {MemberId: 2, Weight: 1}}})
	}
	a, b := mk(), mk()
	if n := testing.AllocsPerRun(100, func() { diff.Equal(a, b) }); n != 0 {
		t.Errorf("Equal of two groups alike: %v allocations, want 0", n)
	}
}

func TestComputeKinds(t *testing.T) {
	route := func(dst, next byte) *p4v1.Entity {
		return te(tRoute, 0, []*p4v1.FieldMatch{exact(1, []byte{dst})}, action(aRoute, []byte{next}))
	}
	member := func(id uint32, port byte) *p4v1.Entity {
		return entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: 1, MemberId: id, Action: &p4v1.Action{ActionId: aMember, Params: []*p4v1.Action_Param{{ParamId: 1, Value: []byte{port}}}}})
	}
	counter := func(i int64, n int64) *p4v1.Entity {
		return entity.Wrap(&p4v1.CounterEntry{CounterId: counterID, Index: &p4v1.Index{Index: i}, Data: &p4v1.CounterData{PacketCount: n}})
	}
	def := func(a uint32) *p4v1.Entity {
		return entity.Wrap(&p4v1.TableEntry{TableId: tRoute, IsDefaultAction: true, Action: action(a)})
	}
	tests := []struct {
		name            string
		desired, actual []*p4v1.Entity
		want            []string // "INSERT|MODIFY|DELETE rank"
	}{
		{name: "empty", want: nil},
		{name: "equal", desired: []*p4v1.Entity{route(1, 1)}, actual: []*p4v1.Entity{route(1, 1)}, want: nil},
		{name: "insert in rank order", desired: []*p4v1.Entity{route(1, 1), member(1, 1)},
			want: []string{"INSERT 20", "INSERT 100"}},
		{name: "delete in reverse rank order", actual: []*p4v1.Entity{member(1, 1), route(1, 1)},
			want: []string{"DELETE 100", "DELETE 20"}},
		{name: "modify", desired: []*p4v1.Entity{route(1, 2)}, actual: []*p4v1.Entity{route(1, 1)},
			want: []string{"MODIFY 100"}},
		{name: "inserts then modifies then deletes", desired: []*p4v1.Entity{route(1, 2), member(2, 1)}, actual: []*p4v1.Entity{route(1, 1), member(1, 1)},
			want: []string{"INSERT 20", "MODIFY 100", "DELETE 20"}},
		{name: "cells are modified, never inserted or deleted", desired: []*p4v1.Entity{counter(1, 0), counter(2, 0)}, actual: []*p4v1.Entity{counter(1, 5), counter(3, 5)},
			want: []string{"MODIFY 0", "MODIFY 0"}},
		{name: "default entries are modified", desired: []*p4v1.Entity{def(1)}, actual: []*p4v1.Entity{def(2)}, want: []string{"MODIFY 100"}},
		{name: "default entry only actual is kept", actual: []*p4v1.Entity{def(2)}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ups, err := diff.Updates(tt.desired, tt.actual)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range ups {
				got = append(got, u.GetType().String()+" "+itoa(diff.DefaultRank(u.GetEntity())))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("updates = %q, want %q", got, tt.want)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestComputeErrors(t *testing.T) {
	r1 := te(tRoute, 0, []*p4v1.FieldMatch{exact(1, []byte{1})}, action(aRoute, []byte{1}))
	r1b := te(tRoute, 0, []*p4v1.FieldMatch{exact(1, []byte{0, 1})}, action(aRoute, []byte{2}))
	tests := []struct {
		name            string
		desired, actual []*p4v1.Entity
		want            string
		dup             bool
	}{
		{name: "duplicate desired", desired: []*p4v1.Entity{r1, r1b}, want: "desired entities 0 and 1 have the same key", dup: true},
		{name: "duplicate desired, key in actual", desired: []*p4v1.Entity{r1, r1b}, actual: []*p4v1.Entity{r1}, want: "desired entities 0 and 1", dup: true},
		{name: "duplicate actual", actual: []*p4v1.Entity{r1, r1b}, want: "actual entities 0 and 1", dup: true},
		{name: "empty desired", desired: []*p4v1.Entity{{}}, want: "desired entity 0 is empty"},
		{name: "nil actual", actual: []*p4v1.Entity{nil}, want: "actual entity 0 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := diff.Compute(tt.desired, tt.actual)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var de *diff.DuplicateError
			if errors.As(err, &de) != tt.dup {
				t.Errorf("DuplicateError: %v, want %v", errors.As(err, &de), tt.dup)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	r1 := te(tRoute, 0, []*p4v1.FieldMatch{exact(1, []byte{1})}, action(aRoute, []byte{1}))
	tests := []struct {
		name string
		set  []*p4v1.Entity
		up   p4v1.Update_Type
		want error
	}{
		{name: "insert existing", set: []*p4v1.Entity{r1}, up: p4v1.Update_INSERT, want: diff.ErrExists},
		{name: "modify missing", up: p4v1.Update_MODIFY, want: diff.ErrNotFound},
		{name: "delete missing", up: p4v1.Update_DELETE, want: diff.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := diff.Apply(tt.set, []*p4v1.Update{{Type: tt.up, Entity: r1}})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := diff.Apply(nil, []*p4v1.Update{{Type: p4v1.Update_INSERT}}); err == nil {
		t.Error("insert of an empty entity: no error")
	}
}

func TestOrderUpdates(t *testing.T) {
	m := entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: 1, MemberId: 1})
	g := entity.Wrap(&p4v1.ActionProfileGroup{ActionProfileId: 1, GroupId: 1})
	e := te(tRoute, 0, nil, nil)
	ups := []*p4v1.Update{
		{Type: p4v1.Update_DELETE, Entity: m}, {Type: p4v1.Update_INSERT, Entity: e}, {Type: p4v1.Update_DELETE, Entity: e},
		{Type: p4v1.Update_MODIFY, Entity: e}, {Type: p4v1.Update_INSERT, Entity: m}, {Type: p4v1.Update_MODIFY, Entity: g},
	}
	diff.OrderUpdates(ups, nil)
	var got []string
	for _, u := range ups {
		got = append(got, u.GetType().String()+" "+itoa(diff.DefaultRank(u.GetEntity())))
	}
	want := []string{"INSERT 20", "INSERT 100", "MODIFY 30", "MODIFY 100", "DELETE 100", "DELETE 20"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}
