package pipeline_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
)

func route(prefix string, nh objective.NextHop) objective.Route {
	return objective.Route{Prefix: netip.MustParsePrefix(prefix), Target: objective.Target{NextHop: &nh}}
}

func groupRoute(prefix string, g objective.NextHopGroup) objective.Route {
	return objective.Route{Prefix: netip.MustParsePrefix(prefix), Target: objective.Target{Group: &g}}
}

var (
	nhA = objective.NextHop{ID: "1", Port: 1}
	nhB = objective.NextHop{ID: "2", Port: 2}
	nhC = objective.NextHop{ID: "3", Port: 3}
)

// describe renders updates as "TYPE kind table-or-profile" lines.
func describe(t *testing.T, ups []*p4v1.Update) []string {
	t.Helper()
	s := basicPipeconf(t).Schema
	var out []string
	for _, u := range ups {
		r, err := entity.Describe(s, u.GetEntity())
		if err != nil {
			t.Fatalf("update %v: %v", u, err)
		}
		name := r.Name[strings.LastIndex(r.Name, ".")+1:]
		out = append(out, fmt.Sprintf("%s %s", u.GetType(), name))
	}
	return out
}

func TestState(t *testing.T) {
	type step struct {
		add, remove []objective.Objective
		want        []string // describe() of the updates, when set
		none        bool     // no updates
		wantErr     string
		entities    int // after the step
	}
	r1 := route("10.0.1.0/24", nhA)
	r2 := route("10.0.2.0/24", nhA)
	grp := objective.NextHopGroup{ID: "10", Members: []objective.Weighted{{NextHop: nhA}, {NextHop: nhB, Weight: 2}}}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "shared next hop stays until its last user goes", steps: []step{
			{add: objs(r1), want: []string{"INSERT wcmp_selector", "INSERT wcmp_table", "INSERT table0"}, entities: 3},
			{add: objs(r2), want: []string{"INSERT table0"}, entities: 4},
			{remove: objs(r1), want: []string{"DELETE table0"}, entities: 3},
			{remove: objs(r2), want: []string{"DELETE table0", "DELETE wcmp_table", "DELETE wcmp_selector"}, entities: 0},
		}},
		{name: "both at once, removed at once", steps: []step{
			{add: objs(r1, r2), want: []string{"INSERT wcmp_selector", "INSERT wcmp_table", "INSERT table0", "INSERT table0"}, entities: 4},
			{remove: objs(r2, r1), want: []string{"DELETE table0", "DELETE table0", "DELETE wcmp_table", "DELETE wcmp_selector"}, entities: 0},
		}},
		{name: "replace a route's next hop", steps: []step{
			{add: objs(r1), entities: 3, want: []string{"INSERT wcmp_selector", "INSERT wcmp_table", "INSERT table0"}},
			{add: objs(route("10.0.1.0/24", nhB)), entities: 3,
				want: []string{"INSERT wcmp_selector", "INSERT wcmp_table", "MODIFY table0", "DELETE wcmp_table", "DELETE wcmp_selector"}},
		}},
		{name: "replace keeps a next hop another route uses", steps: []step{
			{add: objs(r1, r2), entities: 4},
			{add: objs(route("10.0.1.0/24", nhB)), entities: 6,
				want: []string{"INSERT wcmp_selector", "INSERT wcmp_table", "MODIFY table0"}},
		}},
		{name: "adding the same objective again writes nothing", steps: []step{
			{add: objs(r1), entities: 3},
			{add: objs(r1), none: true, entities: 3},
		}},
		{name: "conflict: a shared next hop changed by one user", steps: []step{
			{add: objs(r1, r2), entities: 4},
			{add: objs(route("10.0.1.0/24", objective.NextHop{ID: "1", Port: 5})), wantErr: `route vrf=,prefix=10.0.1.0/24 conflicts with route vrf=,prefix=10.0.2.0/24: both need action_profile_member`, entities: 4},
			{remove: objs(r1), want: []string{"DELETE table0"}, entities: 3}, // unchanged by the failed add
		}},
		{name: "conflict within one call", steps: []step{
			{add: objs(r1, route("10.0.3.0/24", objective.NextHop{ID: "1", Port: 5})), wantErr: "route vrf=,prefix=10.0.3.0/24 conflicts with route vrf=,prefix=10.0.1.0/24", entities: 0},
		}},
		{name: "changing a shared next hop for all its users at once", steps: []step{
			{add: objs(r1, r2), entities: 4},
			{add: objs(route("10.0.1.0/24", objective.NextHop{ID: "1", Port: 5}), route("10.0.2.0/24", objective.NextHop{ID: "1", Port: 5})),
				want: []string{"MODIFY wcmp_selector"}, entities: 4},
		}},
		{name: "group shares its members with next hops", steps: []step{
			{add: objs(nhA), want: []string{"INSERT wcmp_selector", "INSERT wcmp_table"}, entities: 2},
			{add: objs(grp), want: []string{"INSERT wcmp_selector", "INSERT wcmp_selector", "INSERT wcmp_table"}, entities: 5},
			{add: objs(groupRoute("0.0.0.0/0", grp)), want: []string{"INSERT table0"}, entities: 6},
			{remove: objs(grp), none: true, entities: 6},
			{remove: objs(nhA), want: []string{"DELETE wcmp_table"}, entities: 5},
			{remove: objs(groupRoute("0.0.0.0/0", grp)), want: []string{"DELETE table0", "DELETE wcmp_table", "DELETE wcmp_selector", "DELETE wcmp_selector", "DELETE wcmp_selector"}, entities: 0},
		}},
		{name: "unsupported objective changes nothing", steps: []step{
			{add: objs(r1), entities: 3},
			{add: objs(r2, objective.L3Interface{Port: 1, RouterMAC: objective.MustMAC("00:00:00:00:00:01")}), wantErr: "program onos-basic cannot express it", entities: 3},
		}},
		{name: "invalid objective", steps: []step{
			{add: objs(objective.Route{Prefix: netip.MustParsePrefix("10.0.0.0/8")}), wantErr: "route vrf=,prefix=10.0.0.0/8: route 10.0.0.0/8: no next_hop or group"},
		}},
		{name: "nil objective", steps: []step{
			{add: []objective.Objective{nil}, wantErr: "objective 0 is nil"},
			{add: []objective.Objective{(*objective.Route)(nil)}, wantErr: "objective 0 is nil"},
			{remove: []objective.Objective{nil}, wantErr: "objective 0 is nil"},
		}},
		{name: "the same objective twice in one call", steps: []step{
			{add: objs(r1, route("10.0.1.0/24", nhB)), wantErr: "objectives 0 and 1 are the same route"},
			{add: objs(r1), entities: 3},
			{remove: objs(r1, r1), wantErr: "objectives 0 and 1 are the same route", entities: 3},
		}},
		{name: "removing what is not installed", steps: []step{
			{add: objs(r1), entities: 3},
			{remove: objs(r1, r2), wantErr: "route vrf=,prefix=10.0.2.0/24: objective not installed", entities: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := pipeline.NewState(newPipeliner(t))
			for i, s := range tt.steps {
				var ups []*p4v1.Update
				var err error
				if s.add != nil {
					ups, err = st.Add(s.add...)
				} else {
					ups, err = st.Remove(s.remove...)
				}
				if s.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), s.wantErr) {
						t.Fatalf("step %d: err = %v, want %q", i, err, s.wantErr)
					}
				} else if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if s.none && len(ups) > 0 {
					t.Errorf("step %d: %d updates, want none", i, len(ups))
				}
				if s.want != nil {
					if got := describe(t, ups); strings.Join(got, "; ") != strings.Join(s.want, "; ") {
						t.Errorf("step %d: updates\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
					}
				}
				if n := len(st.Entities()); n != s.entities {
					t.Errorf("step %d: %d entities, want %d", i, n, s.entities)
				}
			}
		})
	}
}

func objs(os ...objective.Objective) []objective.Objective { return os }

func TestStateErrors(t *testing.T) {
	st := pipeline.NewState(newPipeliner(t))
	r1 := route("10.0.1.0/24", nhA)
	if _, err := st.Add(r1, route("10.0.2.0/24", objective.NextHop{ID: "1", Port: 7})); err == nil {
		t.Fatal("conflict not reported")
	} else {
		var ce *pipeline.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %T, want *ConflictError", err)
		}
		if ce.Objective.Key() != "vrf=,prefix=10.0.2.0/24" || ce.Other.Key() != "vrf=,prefix=10.0.1.0/24" {
			t.Errorf("conflict names %s and %s", ce.Objective.Key(), ce.Other.Key())
		}
	}
	if _, err := st.Remove(r1); !errors.Is(err, pipeline.ErrNotInstalled) {
		t.Errorf("remove after a failed add: err = %v, want ErrNotInstalled", err)
	}
	_, err := st.Add(objective.Multicast{GroupID: 1, Ports: []uint32{1}})
	var ue *objective.UnsupportedError
	if !errors.As(err, &ue) || ue.Program != "onos-basic" || ue.Kind != objective.KindMulticast {
		t.Errorf("err = %v, want the UnsupportedError of the pipeliner", err)
	}
	var zero pipeline.State
	if _, err := zero.Add(r1); err == nil {
		t.Error("zero State: no error")
	}
	if _, err := (*pipeline.State)(nil).Remove(r1); err == nil {
		t.Error("nil State: no error")
	}
}

// fake is a pipeliner whose entities the test chooses.
type fake struct {
	ents map[string][]*p4v1.Entity // by objective key
	err  error
}

func (f *fake) Program() string              { return "fake" }
func (f *fake) Rank(e *p4v1.Entity) int      { return int(e.GetTableEntry().GetTableId()) }
func (f *fake) Supports(objective.Kind) bool { return true }
func (f *fake) Translate(o objective.Objective) ([]*p4v1.Entity, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.ents[o.Key()], nil
}

func entry(table uint32, match byte, action uint32) *p4v1.Entity {
	return entity.Wrap(&p4v1.TableEntry{TableId: table,
		Match:  []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{match}}}}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: action}}}})
}

func TestStatePipelinerFaults(t *testing.T) {
	p := objective.Punt{Protocol: objective.LLDP}
	key := p.Key()
	tests := []struct {
		name string
		f    *fake
		want string
	}{
		{"translate error is named", &fake{err: errors.New("boom")}, "pipeline: punt ether_type=0x88cc on fake: boom"},
		{"empty entity", &fake{ents: map[string][]*p4v1.Entity{key: {{}}}}, "entity 0 is empty"},
		{"two entities with one key", &fake{ents: map[string][]*p4v1.Entity{key: {entry(1, 1, 1), entry(1, 1, 2)}}}, "two different entities with the same key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pipeline.NewState(tt.f).Add(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// The same entity twice in one translation is written once.
	f := &fake{ents: map[string][]*p4v1.Entity{key: {entry(1, 1, 1), entry(1, 1, 1), entry(2, 1, 1)}}}
	st := pipeline.NewState(f)
	ups, err := st.Add(p)
	if err != nil || len(ups) != 2 {
		t.Fatalf("%d updates, %v; want 2", len(ups), err)
	}
	// Entities come in rank order, whatever the translation order.
	f.ents["x"] = []*p4v1.Entity{entry(9, 1, 1), entry(0, 1, 1)}
	if _, err := st.Add(fakeObjective("x")); err != nil {
		t.Fatal(err)
	}
	var ranks []uint32
	for _, e := range st.Entities() {
		ranks = append(ranks, e.GetTableEntry().GetTableId())
	}
	if fmt.Sprint(ranks) != "[0 1 2 9]" {
		t.Errorf("entities in table order %v, want [0 1 2 9]", ranks)
	}
	if got := st.Objectives(); len(got) != 2 || got[0].Key() != key || got[1].Key() != "x" {
		t.Errorf("Objectives = %v", got)
	}
}

// fakeObjective is an objective of a kind of another package.
type fakeObjective string

func (fakeObjective) Kind() objective.Kind { return "fake" }
func (f fakeObjective) Key() string        { return string(f) }
func (fakeObjective) Validate() error      { return nil }

func TestStateConcurrent(t *testing.T) {
	st := pipeline.NewState(newPipeliner(t))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				r := route(fmt.Sprintf("10.%d.%d.0/24", g, i), nhA)
				if _, err := st.Add(r); err != nil {
					t.Error(err)
					return
				}
				_ = st.Entities()
				_ = st.Objectives()
				if i%2 == 0 {
					if _, err := st.Remove(r); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	// 4 × 12 routes left, sharing one next hop (member + wcmp entry).
	if n := len(st.Entities()); n != 4*12+2 {
		t.Errorf("%d entities, want %d", n, 4*12+2)
	}
	if n := st.Users(mustTranslate(t, st.Pipeliner(), nhA)[0]); n != 48 {
		t.Errorf("next hop has %d users, want 48", n)
	}
}

func mustTranslate(t *testing.T, p pipeline.Pipeliner, o objective.Objective) []*p4v1.Entity {
	t.Helper()
	es, err := p.Translate(o)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestStateOnSwitch runs State through adds, replacements, a change of a
// shared next hop and removals against an emulated switch with basic.p4,
// writing each step's updates and checking after each that the switch
// holds exactly State's entities (and that Reconcile finds nothing to do).
func TestStateOnSwitch(t *testing.T) {
	pc := basicPipeconf(t)
	c := startSwitch(t, pc)
	st := pipeline.NewState(newPipeliner(t))
	ctx := testCtx(t)
	grp := objective.NextHopGroup{ID: "20", Members: []objective.Weighted{{NextHop: nhA}, {NextHop: nhB, Weight: 3}}}
	nhA2 := objective.NextHop{ID: "1", Port: 4}
	steps := []struct {
		name        string
		add, remove []objective.Objective
	}{
		{"routes sharing a next hop", objs(route("10.0.1.0/24", nhA), route("10.0.2.0/24", nhA), route("10.0.3.0/24", nhB)), nil},
		{"a group sharing members", objs(groupRoute("0.0.0.0/0", grp)), nil},
		{"replace a route's next hop", objs(route("10.0.3.0/24", nhC)), nil},
		{"move a shared next hop to another port", objs(route("10.0.1.0/24", nhA2), route("10.0.2.0/24", nhA2),
			groupRoute("0.0.0.0/0", objective.NextHopGroup{ID: "20", Members: []objective.Weighted{{NextHop: nhA2}, {NextHop: nhB, Weight: 3}}})), nil},
		{"remove one user", nil, objs(route("10.0.1.0/24", nhA2))},
		{"remove the group route", nil, objs(groupRoute("0.0.0.0/0", grp))},
		{"remove the rest", nil, objs(route("10.0.2.0/24", nhA2), route("10.0.3.0/24", nhC))},
	}
	for _, s := range steps {
		var ups []*p4v1.Update
		var err error
		if s.add != nil {
			ups, err = st.Add(s.add...)
		} else {
			ups, err = st.Remove(s.remove...)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		// One update at a time, so that the order is what the switch checks.
		for i, u := range ups {
			if err := c.Write(ctx, []*p4v1.Update{u}); err != nil {
				t.Fatalf("%s: update %d (%v %s) refused: %v", s.name, i, u.GetType(), entity.Format(pc.Schema, u.GetEntity()), err)
			}
		}
		got := readAll(t, c)
		sameSet(t, pc.Schema, got, st.Entities())
		plan, err := st.Reconcile(got)
		if err != nil || !plan.Empty() {
			t.Errorf("%s: Reconcile = %d writes, %v; want none", s.name, plan.Len(), err)
		}
	}
	if n := len(readAll(t, c)); n != 0 {
		t.Errorf("%d entities left on the switch", n)
	}
}

// TestReconcileRepairs removes an entity behind the State's back and
// lets Reconcile put it back.
func TestReconcileRepairs(t *testing.T) {
	pc := basicPipeconf(t)
	c := startSwitch(t, pc)
	st := pipeline.NewState(newPipeliner(t))
	ctx := testCtx(t)
	ups, err := st.Add(route("10.0.1.0/24", nhA), route("10.0.2.0/24", nhB))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, ups); err != nil {
		t.Fatal(err)
	}
	// Drift: a route deleted, a stray entry added.
	last := st.Entities()[len(st.Entities())-1]
	stray := mustTranslate(t, st.Pipeliner(), objective.Punt{Protocol: objective.ARP})[0]
	if err := c.Write(ctx, []*p4v1.Update{entity.Delete(last), entity.Insert(stray)}); err != nil {
		t.Fatal(err)
	}
	plan, err := st.Reconcile(readAll(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Inserts) != 1 || len(plan.Deletes) != 1 || len(plan.Modifies) != 0 {
		t.Fatalf("plan: %d inserts, %d modifies, %d deletes; want 1, 0, 1", len(plan.Inserts), len(plan.Modifies), len(plan.Deletes))
	}
	if err := c.Write(ctx, plan.Updates()); err != nil {
		t.Fatal(err)
	}
	sameSet(t, pc.Schema, readAll(t, c), st.Entities())
}

// Entities a target always has are modified, never inserted or deleted.
func TestStateModifyOnly(t *testing.T) {
	def := entity.Wrap(&p4v1.TableEntry{TableId: 5, IsDefaultAction: true,
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 9}}}})
	cell := entity.Wrap(&p4v1.CounterEntry{CounterId: 7, Index: &p4v1.Index{Index: 1}, Data: &p4v1.CounterData{}})
	f := &fake{ents: map[string][]*p4v1.Entity{"d": {def, cell}}}
	st := pipeline.NewState(f)
	ups, err := st.Add(fakeObjective("d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 || ups[0].GetType() != p4v1.Update_MODIFY || ups[1].GetType() != p4v1.Update_MODIFY {
		t.Fatalf("add: %v", ups)
	}
	ups, err = st.Remove(fakeObjective("d"))
	if err != nil {
		t.Fatal(err)
	}
	// The default entry goes back to the program's default; the cell stays.
	if len(ups) != 1 || ups[0].GetType() != p4v1.Update_MODIFY || ups[0].GetEntity().GetTableEntry().GetAction() != nil ||
		!ups[0].GetEntity().GetTableEntry().GetIsDefaultAction() {
		t.Fatalf("remove: %v", ups)
	}
}
