package txn_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// TestCommitTouchesWhatChanges: a commit sends a box only the requests the
// change needs: no gNMI for a change of entities, no P4Runtime for a change
// of leaves, nothing for no change, and no pipeline check while the
// coordinator's stream has stayed primary since it set the pipeline (it
// asks again once the stream broke). The boxes hold each version.
func TestCommitTouchesWhatChanges(t *testing.T) {
	b := txntest.StartBed(t, 1)
	ctx := txntest.Ctx(t)
	box := txntest.BoxName(1)
	sw := b.TB.Switch(box)
	// Above the bed's own devices, which Expect reads the box with.
	p := dialProbe(t, b, box, client.ElectionID{High: 1})
	c, err := txn.New(b.Store, txn.DeviceMap{box: p})
	if err != nil {
		t.Fatal(err)
	}

	v1 := b.Compile(t, 1, 2)
	more := b.Compile(t, 1, 3) // one more route: entities only
	relabel := map[string]*goal.Goal{box: more[box].Clone()}
	relabel[box].Config[0].Value = "relabelled" // a leaf only
	const (
		read    = "/p4.v1.P4Runtime/Read"
		write   = "/p4.v1.P4Runtime/Write"
		getPipe = "/p4.v1.P4Runtime/GetForwardingPipelineConfig"
		setPipe = "/p4.v1.P4Runtime/SetForwardingPipelineConfig"
		get     = "/gnmi.gNMI/Get"
		set     = "/gnmi.gNMI/Set"
	)
	steps := []struct {
		name   string
		goals  map[string]*goal.Goal
		before func(t *testing.T)
		want   []string // methods sent, sorted
	}{
		{"first commit", v1, nil, []string{getPipe, setPipe, get, read, set, write}},
		{"entities only", more, nil, []string{read, write}},
		{"a leaf only", relabel, nil, []string{get, set}},
		{"nothing", relabel, nil, nil},
		{"stream broken since", v1, func(t *testing.T) {
			sw.P4Runtime().DropStreams()
			waitState(t, p.c, client.Disconnected)
			if err := p.c.WaitPrimary(ctx); err != nil {
				t.Fatal(err)
			}
		}, []string{get, getPipe, read, set, write}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before(t)
		}
		p.mu.Lock()
		clear(p.ops)
		p.mu.Unlock()
		if _, err := c.Commit(ctx, s.goals); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		p.mu.Lock()
		got := slices.Sorted(maps.Keys(p.ops))
		p.mu.Unlock()
		want := slices.Clone(s.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: sent %s, want %s", s.name, strings.Join(got, " "), strings.Join(want, " "))
		}
		b.Expect(t, s.goals, v1, more)
	}
}

// waitState waits until c reports state st.
func waitState(t *testing.T, c *client.Client, st client.MastershipState) {
	t.Helper()
	ctx := txntest.Ctx(t)
	for c.Status().State != st {
		select {
		case <-c.Mastership():
		case <-ctx.Done():
			t.Fatalf("client never %v: %+v", st, c.Status())
		}
	}
}

// boxGoalKeys lists the boxes whose goal a transaction journaled itself.
func boxGoalKeys(t *testing.T, b *txntest.Bed, id string) []string {
	t.Helper()
	prefix := "/fabric/txn/goals/" + id + "/"
	res, err := b.Store.Range(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range res.KVs {
		out = append(out, strings.TrimPrefix(kv.Key, prefix))
	}
	return out
}

// TestPerBoxGoals: a commit journals the goals of the boxes it changes
// only, the others by reference to the transaction that journaled them;
// every version reads back whole from a coordinator that did not write
// it, and rolling back to the first works.
func TestPerBoxGoals(t *testing.T) {
	const n = 4
	b := txntest.StartBed(t, n)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	v1 := b.Compile(t, 1, 2)
	// v2 changes box 1, v3 box 2 as well.
	v2 := maps.Clone(v1)
	v2[txntest.BoxName(1)] = b.Compile(t, 2, 2)[txntest.BoxName(1)]
	v3 := maps.Clone(v2)
	v3[txntest.BoxName(2)] = b.Compile(t, 3, 2)[txntest.BoxName(2)]
	var ids []string
	for i, v := range []map[string]*goal.Goal{v1, v2, v3} {
		res, err := c.Commit(ctx, v)
		if err != nil {
			t.Fatalf("version %d: %v", i+1, err)
		}
		ids = append(ids, res.ID)
		b.Expect(t, v)
	}
	if got := boxGoalKeys(t, b, ids[0]); len(got) != n {
		t.Errorf("version 1 journaled goals of %v, want all %d boxes", got, n)
	}
	for i, want := range []string{txntest.BoxName(1), txntest.BoxName(2)} {
		if got := boxGoalKeys(t, b, ids[i+1]); !slices.Equal(got, []string{want}) {
			t.Errorf("version %d journaled goals of %v, want [%s]", i+2, got, want)
		}
	}
	rec, err := c.Transaction(ctx, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := map[string]string{txntest.BoxName(1): ids[1], txntest.BoxName(3): ids[0], txntest.BoxName(4): ids[0]}
	if !rec.PerBox || !maps.Equal(rec.Refs, wantRefs) {
		t.Errorf("record of version 3: per box %v, refs %v; want %v", rec.PerBox, rec.Refs, wantRefs)
	}
	if d, err := txn.DiffGoals(rec.Goals, v3); err != nil || len(d) != 0 {
		t.Errorf("record's goals differ from version 3: %v, %v", d, err)
	}

	fresh := newCoord(t, b)
	for i, want := range []map[string]*goal.Goal{v1, v2, v3} {
		v, err := fresh.Version(ctx, int64(i+1))
		if err != nil {
			t.Fatalf("version %d: %v", i+1, err)
		}
		if d, err := txn.DiffGoals(v.Goals, want); err != nil || len(d) != 0 {
			t.Errorf("version %d reads back different: %v, %v", i+1, d, err)
		}
	}
	if d, err := fresh.Diff(ctx, 1, 3); err != nil || len(d) != 2 {
		t.Errorf("diff 1..3 = %v, %v; want boxes 1 and 2", d, err)
	}
	// The fresh coordinator's next commit refers to what the others
	// journaled: rolling back to version 1 writes the goals of boxes 1
	// and 2 only.
	res, err := fresh.Rollback(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.Expect(t, v1, v3)
	if got := boxGoalKeys(t, b, res.ID); !slices.Equal(got, []string{txntest.BoxName(1), txntest.BoxName(2)}) {
		t.Errorf("rollback journaled goals of %v, want boxes 1 and 2", got)
	}
	if v, err := newCoord(t, b).Current(ctx); err != nil || v.Number != 4 {
		t.Fatalf("current = %+v, %v", v, err)
	} else if d, err := txn.DiffGoals(v.Goals, v1); err != nil || len(d) != 0 {
		t.Errorf("version 4 reads back different from version 1: %v, %v", d, err)
	}
}
