package txn_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed/txntest"
)

const routes = 3

func newCoord(t testing.TB, b *txntest.Bed, opts ...txn.Option) *txn.Coordinator {
	t.Helper()
	c, err := txn.New(b.Store, b.Devs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCommitFaults commits to 16 boxes, then commits the next version with a
// fault injected at one box during apply: every box must read back exactly
// the previous version (or, for a fault the box survives, exactly the new
// one: never a mix).
func TestCommitFaults(t *testing.T) {
	const n, k = 16, 7
	b := txntest.StartBed(t, n)
	ctx := txntest.Ctx(t)
	victim := txntest.BoxName(k)
	tests := []struct {
		name string
		// inject runs once the transaction is journaled, before any write.
		inject func(t *testing.T)
		// mayCommit: the box may recover in time, so the commit may
		// succeed; the boxes must then all read back the new version.
		mayCommit bool
	}{
		{name: "writes-rejected", inject: func(t *testing.T) {
			b.TB.Switch(victim).P4Runtime().RejectWrites(1, codes.Unavailable)
		}},
		{name: "stream-dropped", mayCommit: true, inject: func(t *testing.T) {
			b.TB.Switch(victim).P4Runtime().DropStreams()
		}},
		{name: "stream-dropped-mid-write", inject: func(t *testing.T) {
			// The stream breaks as the write arrives: the box refuses it
			// for lack of a primary.
			b.TB.Switch(victim).P4Runtime().DropStreams()
			b.TB.Switch(victim).P4Runtime().RejectWrites(1, codes.PermissionDenied)
		}},
		{name: "box-rebooted", inject: func(t *testing.T) {
			if err := b.TB.Switch(victim).Reboot(6*time.Second, "test"); err != nil {
				t.Error(err)
			}
		}},
	}
	v := 1
	base := b.Compile(t, v, routes)
	c := newCoord(t, b)
	if _, err := c.Commit(ctx, base); err != nil {
		t.Fatal(err)
	}
	b.Expect(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := b.Compile(t, v+1, routes)
			var fired atomic.Bool
			fc := newCoord(t, b, txn.WithBoxTimeout(4*time.Second), txn.WithRestoreTimeout(30*time.Second),
				txn.WithHook(func(s txn.Stage, box string) error {
					if s == txn.StageJournaled && !fired.Swap(true) {
						tt.inject(t)
					}
					return nil
				}))
			res, err := fc.Commit(ctx, next)
			switch {
			case err == nil && tt.mayCommit:
				t.Logf("box survived the fault; committed version %d", res.Version)
				b.Expect(t, next, base)
				v++
				base = next
				return
			case err == nil:
				t.Fatalf("commit succeeded despite the fault")
			}
			var ae *txn.AbortError
			if !errors.As(err, &ae) || !ae.Restored {
				t.Fatalf("commit error = %v, want a restored *AbortError", err)
			}
			if _, ok := ae.Reasons[victim]; !ok || len(ae.Reasons) != 1 {
				t.Errorf("reasons = %v, want only %s", ae.Reasons, victim)
			}
			rec, err := fc.Transaction(ctx, ae.ID)
			if err != nil || rec.State != txn.Aborted {
				t.Errorf("journal: %+v, %v; want ABORTED", rec, err)
			}
			b.Expect(t, base, next)
			cur, err := fc.Current(ctx)
			if err != nil || cur.Number != int64(v) {
				t.Errorf("current version = %+v, %v; want %d", cur, err, v)
			}
		})
	}
}

// TestCrashRecovery abandons the coordinator between journal and apply and
// mid-apply; a new coordinator on the same store recovers: no box is left
// between versions.
func TestCrashRecovery(t *testing.T) {
	b := txntest.StartBed(t, 4)
	ctx := txntest.Ctx(t)
	v1 := b.Compile(t, 1, routes)
	if _, err := newCoord(t, b).Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stage txn.Stage
		// applied is whether some box holds v2 when the coordinator dies.
		applied bool
	}{
		{"between-journal-and-apply", txn.StageJournaled, false},
		{"mid-apply", txn.StageBoxApplied, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2 := b.Compile(t, 2, routes)
			dying := newCoord(t, b, txn.WithHook(func(s txn.Stage, box string) error {
				if s == tt.stage {
					return txn.ErrAbandon
				}
				return nil
			}))
			if _, err := dying.Commit(ctx, v2); !errors.Is(err, txn.ErrAbandon) {
				t.Fatalf("commit = %v, want ErrAbandon", err)
			}
			if _, err := dying.Commit(ctx, v2); !errors.Is(err, txn.ErrAbandon) {
				t.Fatalf("abandoned coordinator committed again: %v", err)
			}
			at2 := 0
			for box, g := range v2 {
				if b.ReadBack(ctx, box, g, []map[string]*goal.Goal{v1}) == "" {
					at2++
				}
			}
			if (at2 > 0) != tt.applied {
				t.Fatalf("%d boxes hold version 2 when the coordinator dies, want some: %v", at2, tt.applied)
			}
			fresh := newCoord(t, b)
			rec, err := fresh.Recover(ctx)
			if err != nil || rec == nil || rec.State != txn.Aborted {
				t.Fatalf("recover = %+v, %v; want an ABORTED record", rec, err)
			}
			b.Expect(t, v1, v2)
			if again, err := fresh.Recover(ctx); again != nil || err != nil {
				t.Errorf("second recover = %+v, %v; want nothing", again, err)
			}
			cur, err := fresh.Current(ctx)
			if err != nil || cur.Number != 1 {
				t.Errorf("current = %+v, %v; want version 1", cur, err)
			}
		})
	}
}

// TestIdempotentAndRollback re-applies a committed goal (no change on any
// box), commits a second version, diffs and rolls back.
func TestIdempotentAndRollback(t *testing.T) {
	b := txntest.StartBed(t, 3)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	v1 := b.Compile(t, 1, routes)
	r1, err := c.Commit(ctx, v1, txn.WithComment("first"))
	if err != nil {
		t.Fatal(err)
	}
	for box, ch := range r1.Changes {
		if ch.Empty() {
			t.Errorf("%s: first commit changed nothing", box)
		}
	}
	again, err := c.Commit(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	for box, ch := range again.Changes {
		if !ch.Empty() {
			t.Errorf("%s: re-apply changed %+v", box, ch)
		}
	}
	v2 := b.Compile(t, 2, routes)
	if _, err := c.Commit(ctx, v2); err != nil {
		t.Fatal(err)
	}
	b.Expect(t, v2, v1)
	d, err := c.Diff(ctx, 1, 3)
	if err != nil || len(d) != 3 {
		t.Errorf("diff 1..3 = %v, %v; want 3 boxes", d, err)
	}
	if d, err := c.Diff(ctx, 1, 2); err != nil || len(d) != 0 {
		t.Errorf("diff 1..2 = %v, %v; want none (same goals)", d, err)
	}
	rb, err := c.Rollback(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Version != 4 {
		t.Errorf("rollback version = %d, want 4", rb.Version)
	}
	b.Expect(t, v1, v2)
	h, err := c.History(ctx)
	if err != nil || len(h) != 4 || h[0].Comment != "first" {
		t.Errorf("history = %+v, %v", h, err)
	}
	if _, err := c.Rollback(ctx, 9); !errors.Is(err, txn.ErrNoVersion) {
		t.Errorf("rollback to 9 = %v, want ErrNoVersion", err)
	}
}

// TestCommitInvalid: a goal naming an unknown box or pipeconf is refused
// before anything is journaled or sent.
func TestCommitInvalid(t *testing.T) {
	b := txntest.StartBed(t, 1)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	tests := []struct {
		name  string
		goals map[string]*goal.Goal
	}{
		{"unknown-box", map[string]*goal.Goal{"nope": {Box: "nope"}}},
		{"wrong-box", map[string]*goal.Goal{txntest.BoxName(1): {Box: "other"}}},
		{"unknown-pipeconf", map[string]*goal.Goal{txntest.BoxName(1): {Box: txntest.BoxName(1), Pipeconf: "nope"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var be *txn.BoxError
			if _, err := c.Commit(ctx, tt.goals); !errors.As(err, &be) {
				t.Errorf("commit = %v, want *BoxError", err)
			}
		})
	}
	if h, _ := c.History(ctx); len(h) != 0 {
		t.Errorf("history = %v, want empty", h)
	}
}

// TestDecommissionedBoxIsForgotten: once a box has no device (it was
// decommissioned), the next commit leaves it out instead of failing to
// empty it.
func TestDecommissionedBoxIsForgotten(t *testing.T) {
	b := txntest.StartBed(t, 2)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	v1 := b.Compile(t, 1, routes)
	if _, err := c.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	var gone string
	for box := range v1 {
		gone = box
		break
	}
	delete(b.Devs, gone)
	v2 := b.Compile(t, 2, routes)
	delete(v2, gone)
	r, err := c.Commit(ctx, v2)
	if err != nil {
		t.Fatalf("commit after decommissioning %s: %v", gone, err)
	}
	if _, ok := r.Changes[gone]; ok {
		t.Fatalf("the commit touched the decommissioned box %s", gone)
	}
}

// TestCommitIDAndProgress: WithID names the transaction (a second commit of
// the same ID is a conflict), and WithProgress reports every box of every
// phase, Done counting up to Total.
func TestCommitIDAndProgress(t *testing.T) {
	const n = 3
	b := txntest.StartBed(t, n)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	var seen []txn.Progress
	res, err := c.Commit(ctx, b.Compile(t, 1, routes), txn.WithID("op-given"),
		txn.WithProgress(func(p txn.Progress) { seen = append(seen, p) }))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "op-given" {
		t.Errorf("ID = %q, want op-given", res.ID)
	}
	want := map[txn.Phase]int{txn.PhasePrepare: n, txn.PhaseApply: n}
	got := map[txn.Phase]int{}
	for _, p := range seen {
		got[p.Phase]++
		if p.ID != "op-given" || p.Total != n || p.Done != got[p.Phase] || p.Err != nil {
			t.Errorf("progress %+v: want ID op-given, Total %d, Done %d, no error", p, n, got[p.Phase])
		}
	}
	for ph, w := range want {
		if got[ph] != w {
			t.Errorf("%d %s reports, want %d", got[ph], ph, w)
		}
	}
	if _, err := c.Commit(ctx, b.Compile(t, 2, routes), txn.WithID("op-given")); !errors.Is(err, txn.ErrConflict) {
		t.Errorf("commit with a used ID: err = %v, want ErrConflict", err)
	}
	b.Expect(t, b.Compile(t, 1, routes))
}

// TestCommitOutcome: WithOutcome's operations are written with a committed
// version, and not at all when the commit aborts.
func TestCommitOutcome(t *testing.T) {
	b := txntest.StartBed(t, 2)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	outcome := txn.WithOutcome(func(v int64) []store.Op {
		return []store.Op{store.OpPut(fmt.Sprintf("/test/outcome/%d", v), []byte("v"+strconv.FormatInt(v, 10)))}
	})
	res, err := c.Commit(ctx, b.Compile(t, 1, routes), outcome)
	if err != nil {
		t.Fatal(err)
	}
	if kv, err := b.Store.Get(ctx, fmt.Sprintf("/test/outcome/%d", res.Version)); err != nil || string(kv.Value) != "v1" {
		t.Errorf("outcome of version %d: %q, %v; want v1", res.Version, kv.Value, err)
	}
	b.TB.Switch(txntest.BoxName(1)).P4Runtime().RejectWrites(1, codes.Unavailable)
	if _, err := c.Commit(ctx, b.Compile(t, 2, routes), outcome); !errors.Is(err, txn.ErrAborted) {
		t.Fatalf("commit with a box refusing writes: %v, want aborted", err)
	}
	if _, err := b.Store.Get(ctx, "/test/outcome/2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("outcome of the aborted version 2: err = %v, want not found", err)
	}
}

// TestCommitLeavesUnchangedBoxes: a commit that changes one box of three
// syncs that box only (the others report no changes and keep what they
// hold), and a failure on the changed box restores it.
func TestCommitLeavesUnchangedBoxes(t *testing.T) {
	b := txntest.StartBed(t, 3)
	ctx := txntest.Ctx(t)
	c := newCoord(t, b)
	v1 := b.Compile(t, 1, routes)
	if _, err := c.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	one := txntest.BoxName(1)
	next := map[string]*goal.Goal{}
	for box, g := range v1 {
		next[box] = g
	}
	next[one] = b.Compile(t, 2, routes)[one]
	// Drift behind the coordinator's back on a box the commit leaves as
	// it is: the commit does not read it back, so it does not repair it.
	two := txntest.BoxName(2)
	cl, err := b.Raw[two].P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	last := v1[two].Entities[len(v1[two].Entities)-1]
	if err := cl.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: last}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Commit(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	for box, ch := range res.Changes {
		if changed := !ch.Empty(); changed != (box == one) {
			t.Errorf("box %s: changes %+v; want changes only on %s", box, ch, one)
		}
	}
	if err := cl.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: last}}); err != nil {
		t.Fatalf("re-adding the entry the commit left deleted: %v", err)
	}
	b.Expect(t, next, v1)

	// The changed box refuses its writes: it is restored, the others stay.
	again := map[string]*goal.Goal{}
	for box, g := range next {
		again[box] = g
	}
	again[one] = b.Compile(t, 3, routes)[one]
	b.TB.Switch(one).P4Runtime().RejectWrites(1, codes.Unavailable)
	if _, err := c.Commit(ctx, again); !errors.Is(err, txn.ErrAborted) {
		t.Fatalf("commit with %s refusing writes: %v, want aborted", one, err)
	}
	b.Expect(t, next, again)
}
