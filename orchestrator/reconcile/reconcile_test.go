package reconcile_test

import (
	"context"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/reconcile"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// TestReconcile changes a box behind the orchestrator's back; one pass
// repairs it, reports the counts, and the box reads back its goal.
func TestReconcile(t *testing.T) {
	b := txntest.StartBed(t, 2)
	ctx := txntest.Ctx(t)
	coord, err := txn.New(b.Store, b.Devs)
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := b.Compile(t, 1, 3), b.Compile(t, 2, 3)
	if _, err := coord.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	box := txntest.BoxName(1)
	sw := b.TB.Switch(box)
	plan, err := diff.Compute(v2[box].Entities, v1[box].Entities)
	if err != nil {
		t.Fatal(err)
	}
	p4 := func(t *testing.T, f func(ctx context.Context, es ...*p4v1.Entity) error, es []*p4v1.Entity) {
		t.Helper()
		if err := f(ctx, es...); err != nil {
			t.Fatal(err)
		}
	}
	client := func(t *testing.T) interface {
		Insert(context.Context, ...*p4v1.Entity) error
		Modify(context.Context, ...*p4v1.Entity) error
		Delete(context.Context, ...*p4v1.Entity) error
	} {
		c, err := b.Raw[box].P4Runtime()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WaitPrimary(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	last := v1[box].Entities[len(v1[box].Entities)-1]
	tests := []struct {
		name   string
		mutate func(t *testing.T)
		want   txn.Changes
	}{
		{"entry-deleted", func(t *testing.T) { p4(t, client(t).Delete, []*p4v1.Entity{last}) }, txn.Changes{Inserts: 1}},
		{"entries-added", func(t *testing.T) { p4(t, client(t).Insert, plan.Inserts) }, txn.Changes{Deletes: len(plan.Inserts)}},
		{"entries-changed", func(t *testing.T) { p4(t, client(t).Modify, plan.Modifies) }, txn.Changes{Modifies: len(plan.Modifies)}},
		{"gnmi-changed", func(t *testing.T) {
			g, err := b.Raw[box].GNMI()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Set(ctx, gnmi.SetUpdate(goal.InterfacePath("eth1", "description"), "changed")); err != nil {
				t.Fatal(err)
			}
		}, txn.Changes{GNMI: 1}},
		{"box-restarted", func(t *testing.T) {
			if err := sw.Restart(); err != nil {
				t.Fatal(err)
			}
		}, txn.Changes{Pipeline: true, Inserts: len(v1[box].Entities)}},
		{"no-drift", func(t *testing.T) {}, txn.Changes{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reported []reconcile.Drift
			r, err := reconcile.New(coord, b.Devs, []string{box}, reconcile.WithGate(coord),
				reconcile.WithCallback(func(d reconcile.Drift) { reported = append(reported, d) }))
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(t)
			d, err := r.Reconcile(ctx, box)
			if err != nil {
				t.Fatal(err)
			}
			if d.Changes != tt.want || d.Replayed != tt.want.Pipeline || d.Op == "" {
				t.Errorf("drift = %+v, want changes %+v", d, tt.want)
			}
			if wantReports := !tt.want.Empty(); (len(reported) == 1) != wantReports {
				t.Errorf("reported %d drifts, want %v", len(reported), wantReports)
			}
			b.Expect(t, v1, v2)
		})
	}
}

// TestRunTrigger: Run repairs a box that Trigger names, long before its
// timer.
func TestRunTrigger(t *testing.T) {
	b := txntest.StartBed(t, 1)
	ctx := txntest.Ctx(t)
	coord, err := txn.New(b.Store, b.Devs)
	if err != nil {
		t.Fatal(err)
	}
	v1 := b.Compile(t, 1, 3)
	if _, err := coord.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	box := txntest.BoxName(1)
	drifts := make(chan reconcile.Drift, 4)
	r, err := reconcile.New(coord, b.Devs, []string{box}, reconcile.WithInterval(time.Hour),
		reconcile.WithCallback(func(d reconcile.Drift) { drifts <- d }))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if err := b.TB.Switch(box).Restart(); err != nil {
		t.Fatal(err)
	}
	r.Trigger(box)
	// The first pass of Run may race the restart and fail; the trigger
	// (or a later pass) must replay the box.
	for replayed := false; !replayed; {
		select {
		case d := <-drifts:
			if d.Err != nil {
				t.Logf("pass failed (restart race): %v", d.Err)
				r.Trigger(box)
				continue
			}
			replayed = d.Replayed
		case <-ctx.Done():
			t.Fatal("no replay reported")
		}
	}
	b.Expect(t, v1)
}
