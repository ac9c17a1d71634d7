package txn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// TestJournalEngines runs the journal on both store engines, bolt and the
// embedded etcd: a commit, a commit one box refuses (aborted, every box
// restored), a coordinator that dies mid-apply and the recovery of a fresh
// one from the journal alone, and the versions and records left behind.
func TestJournalEngines(t *testing.T) {
	engines := []struct {
		name string
		open func(t *testing.T, b *txntest.Bed) store.Store
	}{
		{"bolt", func(t *testing.T, b *txntest.Bed) store.Store { return b.Store }},
		{"etcd", func(t *testing.T, b *txntest.Bed) store.Store {
			srv := etcdtest.Start(t)
			st, err := etcd.New(txntest.Ctx(t), srv.Endpoints())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			const victim = 2
			b := txntest.StartBed(t, 3)
			b.Store = eng.open(t, b)
			ctx := txntest.Ctx(t)
			v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
			c := newCoord(t, b)
			if _, err := c.Commit(ctx, v1); err != nil {
				t.Fatal(err)
			}

			// A box refuses the write: aborted, every box back at v1.
			b.TB.Switch(txntest.BoxName(victim)).P4Runtime().RejectWrites(1, codes.Unavailable)
			_, err := c.Commit(ctx, v2)
			var ae *txn.AbortError
			if !errors.As(err, &ae) || !ae.Restored {
				t.Fatalf("commit with a refusing box = %v, want a restored *AbortError", err)
			}
			b.Expect(t, v1, v2)
			if rec, err := c.Transaction(ctx, ae.ID); err != nil || rec.State != txn.Aborted || len(rec.Goals) != 3 || len(rec.Previous) != 3 {
				t.Errorf("aborted record = %+v, %v; want ABORTED with 3 goals and 3 previous", rec, err)
			}

			// The coordinator dies once one box holds v2; a fresh one
			// recovers from what the journal holds.
			dying := newCoord(t, b, txn.WithHook(func(s txn.Stage, box string) error {
				if s == txn.StageBoxApplied {
					return txn.ErrAbandon
				}
				return nil
			}))
			if _, err := dying.Commit(ctx, v2); !errors.Is(err, txn.ErrAbandon) {
				t.Fatalf("commit = %v, want ErrAbandon", err)
			}
			fresh := newCoord(t, b)
			rec, err := fresh.Recover(ctx)
			if err != nil || rec == nil || rec.State != txn.Aborted {
				t.Fatalf("recover = %+v, %v; want an ABORTED record", rec, err)
			}
			b.Expect(t, v1, v2)

			// The journal still commits, and a version reads back whole
			// from a coordinator that did not write it.
			res, err := fresh.Commit(ctx, v2)
			if err != nil || res.Version != 2 {
				t.Fatalf("commit after recovery = %+v, %v; want version 2", res, err)
			}
			b.Expect(t, v2, v1)
			cur, err := newCoord(t, b).Current(ctx)
			if err != nil || cur.Number != 2 || len(cur.Goals) != 3 {
				t.Fatalf("current = %+v, %v; want version 2 with 3 goals", cur, err)
			}
			if d, err := txn.DiffGoals(cur.Goals, v2); err != nil || len(d) != 0 {
				t.Errorf("version 2 read back differs from what was committed: %v, %v", d, err)
			}
			if h, err := fresh.History(ctx); err != nil || len(h) != 2 {
				t.Errorf("history = %+v, %v; want 2 versions", h, err)
			}
		})
	}
}

// olderGoals encodes goals as the coordinators before this one did: every
// field through encoding/json, each entity a base64 string of its own
// binary protobuf.
func olderGoals(t *testing.T, goals map[string]*goal.Goal) []byte {
	t.Helper()
	type older struct {
		Box        string         `json:"box"`
		Pipeconf   string         `json:"pipeconf,omitempty"`
		Objectives objective.List `json:"objectives,omitempty"`
		Entities   [][]byte       `json:"entities,omitempty"`
		Config     []goal.Leaf    `json:"config,omitempty"`
	}
	out := map[string]older{}
	for box, g := range goals {
		o := older{Box: g.Box, Pipeconf: g.Pipeconf, Objectives: g.Objectives, Config: g.Config}
		for _, e := range g.Entities {
			b, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			o.Entities = append(o.Entities, b)
		}
		out[box] = o
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOlderJournal reads a journal written by the coordinators before this
// one, which copied the goals into every version and record, each entity
// on its own: the version reads back whole, and a transaction they left
// PREPARED is recovered.
func TestOlderJournal(t *testing.T) {
	b := txntest.StartBed(t, 2)
	ctx := txntest.Ctx(t)
	v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
	c := newCoord(t, b)
	if _, err := c.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	gj, g2 := olderGoals(t, v1), olderGoals(t, v2)
	put := func(k, v string) {
		t.Helper()
		if _, err := b.Store.Put(ctx, "/fabric/txn/"+k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	// Version 1 as older coordinators wrote it, and a transaction they
	// left PREPARED, goals inside.
	put(fmt.Sprintf("versions/%020d", 1), `{"number":1,"txn":"tx-old","time":"2026-01-01T00:00:00Z","goals":`+string(gj)+`}`)
	put("txns/tx-left", `{"id":"tx-left","state":"PREPARED","base":1,"version":2,"goals":`+string(g2)+`,"previous":`+string(gj)+`,"started":"2026-01-01T00:00:01Z"}`)
	put("pending", "tx-left")

	fresh := newCoord(t, b)
	cur, err := fresh.Current(ctx)
	if err != nil || cur.Number != 1 {
		t.Fatalf("current = %+v, %v; want version 1", cur, err)
	}
	if d, err := txn.DiffGoals(cur.Goals, v1); err != nil || len(d) != 0 {
		t.Errorf("older version 1 reads back different: %v, %v", d, err)
	}
	rec, err := fresh.Recover(ctx)
	if err != nil || rec == nil || rec.ID != "tx-left" || rec.State != txn.Aborted {
		t.Fatalf("recover = %+v, %v; want tx-left ABORTED", rec, err)
	}
	b.Expect(t, v1, v2)
	if res, err := fresh.Commit(ctx, v2); err != nil || res.Version != 2 {
		t.Fatalf("commit = %+v, %v; want version 2", res, err)
	}
	b.Expect(t, v2, v1)
}

// TestConflictChangesNothing: the boxes are read while the journal write is
// in flight, but a commit the journal refuses (another transaction is
// pending) changes no box.
func TestConflictChangesNothing(t *testing.T) {
	b := txntest.StartBed(t, 3)
	ctx := txntest.Ctx(t)
	v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
	c := newCoord(t, b)
	if _, err := c.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.Put(ctx, "/fabric/txn/pending", []byte("tx-elsewhere")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commit(ctx, v2); !errors.Is(err, txn.ErrConflict) {
		t.Fatalf("commit while another is pending = %v, want ErrConflict", err)
	}
	b.Expect(t, v1, v2)
	if cur, err := c.Current(ctx); err != nil || cur.Number != 1 {
		t.Errorf("current = %+v, %v; want version 1", cur, err)
	}
}

// refusingStore refuses, once armed, any store transaction that puts a key
// holding what (as etcd refuses a request over its size limit).
type refusingStore struct {
	store.Store
	armed *atomic.Bool
	what  string
}

var errRefused = errors.New("request too large")

func (s refusingStore) Txn(ctx context.Context, t store.Txn) (store.TxnResult, error) {
	for _, op := range t.Then {
		if s.armed.Load() && op.Kind == store.KindPut && strings.Contains(op.Key, s.what) {
			return store.TxnResult{}, errRefused
		}
	}
	return s.Store.Txn(ctx, t)
}

// TestOutcomeRefused: when the store refuses the outcome of a transaction
// every box applied, the boxes are rolled back to the current version and
// the transaction is journaled ABORTED: no box stays at a version the
// journal does not have.
func TestOutcomeRefused(t *testing.T) {
	b := txntest.StartBed(t, 3)
	ctx := txntest.Ctx(t)
	var armed atomic.Bool
	b.Store = refusingStore{b.Store, &armed, "/goals/"}
	v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
	c := newCoord(t, b)
	if _, err := c.Commit(ctx, v1); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	_, err := c.Commit(ctx, v2)
	var ae *txn.AbortError
	if !errors.As(err, &ae) || !ae.Restored || !strings.Contains(ae.Reasons["journal"], errRefused.Error()) {
		t.Fatalf("commit the store refuses = %v, want a restored *AbortError for the journal", err)
	}
	b.Expect(t, v1, v2)
	if rec, err := c.Transaction(ctx, ae.ID); err != nil || rec.State != txn.Aborted {
		t.Errorf("record = %+v, %v; want ABORTED", rec, err)
	}
	armed.Store(false)
	if res, err := c.Commit(ctx, v2); err != nil || res.Version != 2 {
		t.Fatalf("commit once the store takes it = %+v, %v; want version 2", res, err)
	}
	b.Expect(t, v2, v1)
}

// TestBlobJournal reads a journal written by the coordinator before per-box
// goals: a version's goals as one object under goals/<ID>, and a pending
// transaction's footprints under footprints/<ID>. The version reads back
// whole, the pending transaction is recovered, and the next commit
// journals per box.
func TestBlobJournal(t *testing.T) {
	b := txntest.StartBed(t, 2)
	ctx := txntest.Ctx(t)
	v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
	c := newCoord(t, b)
	res1, err := c.Commit(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	dying := newCoord(t, b, txn.WithHook(func(s txn.Stage, box string) error {
		if s == txn.StageBoxApplied {
			return txn.ErrAbandon
		}
		return nil
	}))
	if _, err := dying.Commit(ctx, v2); !errors.Is(err, txn.ErrAbandon) {
		t.Fatalf("commit = %v, want ErrAbandon", err)
	}
	pending, err := c.Pending(ctx)
	if err != nil || pending == "" {
		t.Fatalf("pending = %q, %v", pending, err)
	}
	get := func(k string) []byte {
		t.Helper()
		kv, err := b.Store.Get(ctx, "/fabric/txn/"+k)
		if err != nil {
			t.Fatal(err)
		}
		return kv.Value
	}
	put := func(k string, v []byte) {
		t.Helper()
		if _, err := b.Store.Put(ctx, "/fabric/txn/"+k, v); err != nil {
			t.Fatal(err)
		}
	}
	// Version 1 as the coordinator before wrote it: every goal in one
	// object, a record without per-box goals.
	blob := map[string]json.RawMessage{}
	for box := range v1 {
		blob[box] = get("goals/" + res1.ID + "/" + box)
		if _, err := b.Store.Delete(ctx, "/fabric/txn/goals/"+res1.ID+"/"+box); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(blob)
	if err != nil {
		t.Fatal(err)
	}
	put("goals/"+res1.ID, data)
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(get("txns/"+res1.ID), &rec); err != nil {
		t.Fatal(err)
	}
	delete(rec, "perBox")
	delete(rec, "refs")
	data, _ = json.Marshal(rec)
	put("txns/"+res1.ID, data)
	// The pending transaction's footprints under their own key.
	rec = nil
	if err := json.Unmarshal(get("txns/"+pending), &rec); err != nil {
		t.Fatal(err)
	}
	put("footprints/"+pending, rec["footprints"])
	delete(rec, "footprints")
	data, _ = json.Marshal(rec)
	put("txns/"+pending, data)

	fresh := newCoord(t, b)
	cur, err := fresh.Current(ctx)
	if err != nil || cur.Number != 1 {
		t.Fatalf("current = %+v, %v; want version 1", cur, err)
	}
	if d, err := txn.DiffGoals(cur.Goals, v1); err != nil || len(d) != 0 {
		t.Errorf("version 1 reads back different: %v, %v", d, err)
	}
	if r, err := fresh.Recover(ctx); err != nil || r == nil || r.ID != pending || r.State != txn.Aborted {
		t.Fatalf("recover = %+v, %v; want %s ABORTED", r, err, pending)
	}
	b.Expect(t, v1, v2)
	res2, err := fresh.Commit(ctx, v2)
	if err != nil || res2.Version != 2 {
		t.Fatalf("commit = %+v, %v; want version 2", res2, err)
	}
	b.Expect(t, v2, v1)
	if got := boxGoalKeys(t, b, res2.ID); len(got) != 2 {
		t.Errorf("version 2 journaled goals of %v, want both boxes", got)
	}
	for n, want := range map[int64]map[string]*goal.Goal{1: v1, 2: v2} {
		v, err := newCoord(t, b).Version(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := txn.DiffGoals(v.Goals, want); err != nil || len(d) != 0 {
			t.Errorf("version %d reads back different: %v, %v", n, d, err)
		}
	}
}

// TestGoalsInChunks: goals that do not fit in the outcome's store
// transaction are journaled ahead of it in transactions of their own; the
// version reads back whole, and a transaction whose outcome the store
// refuses leaves no goals behind.
func TestGoalsInChunks(t *testing.T) {
	defer txn.SetJournalLimits(4, 1<<20)()
	const n = 6
	b := txntest.StartBed(t, n)
	ctx := txntest.Ctx(t)
	var armed atomic.Bool
	b.Store = refusingStore{b.Store, &armed, "/versions/"} // the outcome only
	v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
	c := newCoord(t, b)
	res, err := c.Commit(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if got := boxGoalKeys(t, b, res.ID); len(got) != n {
		t.Fatalf("journaled goals of %v, want %d boxes", got, n)
	}
	if v, err := newCoord(t, b).Version(ctx, 1); err != nil {
		t.Fatal(err)
	} else if d, err := txn.DiffGoals(v.Goals, v1); err != nil || len(d) != 0 {
		t.Errorf("version 1 reads back different: %v, %v", d, err)
	}

	armed.Store(true)
	_, err = c.Commit(ctx, v2)
	var ae *txn.AbortError
	if !errors.As(err, &ae) || !ae.Restored {
		t.Fatalf("commit whose outcome is refused = %v, want a restored *AbortError", err)
	}
	b.Expect(t, v1, v2)
	if got := boxGoalKeys(t, b, ae.ID); len(got) != 0 {
		t.Errorf("the rolled-back transaction left goals of %v", got)
	}
	armed.Store(false)
	if res, err := c.Commit(ctx, v2); err != nil || res.Version != 2 {
		t.Fatalf("commit = %+v, %v; want version 2", res, err)
	}
	b.Expect(t, v2, v1)
}

// recordingStore notes, of every store transaction, whether it puts goals
// and whether it puts the outcome (the current version).
type recordingStore struct {
	store.Store
	mu   *sync.Mutex
	txns *[][2]bool // {puts goals, puts the outcome}
}

func (s recordingStore) Txn(ctx context.Context, t store.Txn) (store.TxnResult, error) {
	var goals, outcome bool
	for _, op := range t.Then {
		goals = goals || op.Kind == store.KindPut && strings.Contains(op.Key, "/goals/")
		outcome = outcome || op.Kind == store.KindPut && strings.HasSuffix(op.Key, "/current")
	}
	s.mu.Lock()
	*s.txns = append(*s.txns, [2]bool{goals, outcome})
	s.mu.Unlock()
	return s.Store.Txn(ctx, t)
}

// TestGoalsAhead: a commit whose goals are large journals them while the
// boxes are written, in store transactions of their own; the version reads
// back whole. If that write fails, or a box does, every box is restored,
// and a refused goals write leaves no goals behind.
func TestGoalsAhead(t *testing.T) {
	defer txn.SetGoalsAheadBytes(0)()
	const n = 4
	tests := []struct {
		name string
		// fail arms the failure before the second commit; "" commits.
		fail string
	}{
		{name: "committed"},
		{name: "goals-refused", fail: "goals"},
		{name: "box-fails", fail: "box"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := txntest.StartBed(t, n)
			ctx := txntest.Ctx(t)
			var armed atomic.Bool
			var mu sync.Mutex
			var txns [][2]bool
			b.Store = recordingStore{refusingStore{b.Store, &armed, "/goals/"}, &mu, &txns}
			v1, v2 := b.Compile(t, 1, routes), b.Compile(t, 2, routes)
			c := newCoord(t, b)
			if _, err := c.Commit(ctx, v1); err != nil {
				t.Fatal(err)
			}
			switch tt.fail {
			case "goals":
				armed.Store(true)
			case "box":
				b.TB.Switch(txntest.BoxName(n)).P4Runtime().RejectWrites(1, codes.Unavailable)
			}
			mu.Lock()
			txns = nil
			mu.Unlock()
			res, err := c.Commit(ctx, v2)
			if tt.fail == "" {
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				ahead := slices.Contains(txns, [2]bool{true, false})
				mu.Unlock()
				if !ahead {
					t.Errorf("store transactions %v: no goals journaled ahead of the outcome", txns)
				}
				if got := boxGoalKeys(t, b, res.ID); len(got) != n {
					t.Errorf("journaled goals of %v, want %d boxes", got, n)
				}
				if v, err := newCoord(t, b).Version(ctx, 2); err != nil {
					t.Fatal(err)
				} else if d, err := txn.DiffGoals(v.Goals, v2); err != nil || len(d) != 0 {
					t.Errorf("version 2 reads back different: %v, %v", d, err)
				}
				b.Expect(t, v2, v1)
				return
			}
			var ae *txn.AbortError
			if !errors.As(err, &ae) || !ae.Restored {
				t.Fatalf("commit = %v, want a restored *AbortError", err)
			}
			b.Expect(t, v1, v2)
			if rec, err := c.Transaction(ctx, ae.ID); err != nil || rec.State != txn.Aborted {
				t.Errorf("record = %+v, %v; want ABORTED", rec, err)
			}
			if tt.fail == "goals" {
				if !strings.Contains(ae.Reasons["journal"], errRefused.Error()) {
					t.Errorf("reasons %v, want the journal's", ae.Reasons)
				}
				if got := boxGoalKeys(t, b, ae.ID); len(got) != 0 {
					t.Errorf("the rolled-back transaction left goals of %v", got)
				}
			}
			if cur, err := c.Current(ctx); err != nil || cur.Number != 1 {
				t.Errorf("current = %+v, %v; want version 1", cur, err)
			}
		})
	}
}
