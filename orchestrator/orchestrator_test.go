package orchestrator_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// TestCommit registers a LeafSpine(2,2) testbed (modules 1..4) and commits
// successive versions: every box reads back the version, a Committed event
// and the logbook carry the operation ID.
func TestCommit(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	b.registerAll(t, o)
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	var prev map[string]*goal.Goal
	for _, tt := range []struct {
		name    string
		version int
	}{{"first", 1}, {"second", 2}, {"same-again", 2}} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := o.Commit(ctx, config(t, tt.version), txn.WithComment(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			cur, err := o.Current(ctx)
			if err != nil || cur.Number != res.Version || cur.Txn != res.ID {
				t.Fatalf("current = %+v, %v; want version %d by %s", cur, err, res.Version, res.ID)
			}
			if len(cur.Goals) != 4 {
				t.Fatalf("current version has %d goals, want 4", len(cur.Goals))
			}
			var others []map[string]*goal.Goal
			if prev != nil {
				others = append(others, prev)
			}
			expect(t, o, cur.Goals, others...)
			prev = cur.Goals
			e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.OpID == res.ID })
			if e.Kind != events.Committed {
				t.Errorf("event %v, want committed", e)
			}
			o.Log().Flush()
			recs, err := o.Log().Query(logbook.Filter{OpID: res.ID})
			if err != nil || len(recs) == 0 {
				t.Errorf("logbook has %d records of op %s (%v)", len(recs), res.ID, err)
			}
		})
	}
	h, err := o.History(ctx)
	if err != nil || len(h) != 3 {
		t.Fatalf("history = %+v, %v; want 3 versions", h, err)
	}
	d, err := o.Diff(ctx, 1, 2)
	if err != nil || len(d) != 4 {
		t.Fatalf("diff 1→2 = %v, %v; want 4 boxes", d, err)
	}
	if d, err := o.Diff(ctx, 2, 3); err != nil || len(d) != 0 {
		t.Fatalf("diff 2→3 = %v, %v; want none", d, err)
	}
}

// TestCommitFault commits version 2 with a fault at one leaf: the commit
// aborts, an Aborted event names the failed box, and every box reads back
// version 1.
func TestCommitFault(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithBoxTimeout(5*time.Second))
	ctx := testCtx(t)
	b.registerAll(t, o)
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := b.tb.Switch("leaf1")
	serial := victim.Identity().Serial
	tests := []struct {
		name   string
		inject func()
	}{
		{"writes-rejected", func() { victim.P4Runtime().RejectWrites(1, codes.Unavailable) }},
		{"writes-denied", func() {
			victim.P4Runtime().RejectWrites(1, codes.PermissionDenied)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Aborted, events.Committed}})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Cancel()
			cfg := config(t, 10+i)
			next, err := o.Compile(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.inject()
			_, err = o.Commit(ctx, cfg)
			var ae *txn.AbortError
			if !errors.As(err, &ae) || !ae.Restored {
				t.Fatalf("commit error = %v, want a restored *txn.AbortError", err)
			}
			if _, ok := ae.Reasons[serial]; !ok || len(ae.Reasons) != 1 {
				t.Errorf("reasons = %v, want only %s", ae.Reasons, serial)
			}
			e := waitEvent(t, ctx, sub, func(events.Event) bool { return true })
			if e.Kind != events.Aborted || e.OpID != ae.ID || e.Attrs["box."+serial] == "" {
				t.Errorf("event %v %v, want aborted %s naming %s", e, e.Attrs, ae.ID, serial)
			}
			expect(t, o, v1.Goals, next)
			if cur, err := o.Current(ctx); err != nil || cur.Number != v1.Number {
				t.Errorf("current = %+v, %v; want version %d", cur, err, v1.Number)
			}
		})
	}
}

// TestRestart closes the orchestrator and starts a new one on the same
// bolt store: module IDs and the committed version are kept, the boxes
// still hold it, and a rollback commits an old version as a new one.
func TestRestart(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	before := b.registerAll(t, o)
	r1, err := o.Commit(ctx, config(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := o.Commit(ctx, config(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Boxes(ctx); !errors.Is(err, orchestrator.ErrClosed) {
		t.Fatalf("Boxes after Close: %v, want ErrClosed", err)
	}

	o2 := b.open(t)
	after, err := o2.Boxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d boxes after restart, want %d", len(after), len(before))
	}
	for i := range before {
		if after[i].Serial != before[i].Serial || after[i].Module != before[i].Module {
			t.Errorf("box %d: %v after restart, was %v", i, after[i], before[i])
		}
	}
	cur, err := o2.Current(ctx)
	if err != nil || cur.Number != r2.Version {
		t.Fatalf("current after restart = %+v, %v; want version %d", cur, err, r2.Version)
	}
	v1, err := o2.History(ctx)
	if err != nil || len(v1) != 2 || v1[0].Txn != r1.ID {
		t.Fatalf("history = %+v, %v", v1, err)
	}
	expect(t, o2, cur.Goals)
	// Re-registering a box keeps its module.
	again, err := o2.Register(ctx, spec(b.tb.Switch("leaf2")))
	if err != nil || again.Module != before[3].Module {
		t.Fatalf("re-register leaf2 = %v, %v; want module %d", again, err, before[3].Module)
	}

	res, err := o2.Rollback(ctx, r1.Version)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != r2.Version+1 {
		t.Errorf("rollback committed version %d, want %d", res.Version, r2.Version+1)
	}
	cur3, err := o2.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := o2.Diff(ctx, r1.Version, cur3.Number); err != nil || len(d) != 0 {
		t.Errorf("diff version 1 → rollback = %v, %v; want none", d, err)
	}
	expect(t, o2, cur3.Goals, cur.Goals)
}

// TestReconcileOnReconnect restarts a box (it loses its state): the
// orchestrator sees it reconnect, replays its goal, and publishes
// DriftRepaired.
func TestReconcileOnReconnect(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	b.registerAll(t, o)
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	cur, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sw := b.tb.Switch("leaf2")
	serial := sw.Identity().Serial
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.DriftRepaired}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Serial == serial })
	if e.Module != 4 || e.Attrs["replayed"] != "true" {
		t.Errorf("drift event %v %v, want module 4 replayed", e, e.Attrs)
	}
	expect(t, o, cur.Goals)
	// A pass on demand finds nothing more to do.
	d, err := o.Reconcile(ctx, serial)
	if err != nil || !d.Changes.Empty() {
		t.Errorf("reconcile = %+v, %v; want no changes", d, err)
	}
	if _, err := o.Reconcile(ctx, "no-such-box"); !errors.Is(err, inventory.ErrUnknownBox) || errors.Is(err, orchestrator.ErrNotConnected) {
		t.Errorf("reconcile unknown box: %v, want inventory.ErrUnknownBox", err)
	}
}

// TestBackupAndDecommission writes a backup that bolt.Restore accepts and
// that holds the inventory and the version; a decommissioned box's module
// is freed.
func TestBackupAndDecommission(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	boxes := b.registerAll(t, o)
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if err := o.Backup(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := bolt.Restore(ctx, &snap, dir); err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inv, err := inventory.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	restored, _, err := inv.List(ctx)
	if err != nil || len(restored) != 4 {
		t.Fatalf("restored inventory = %v, %v; want 4 boxes", restored, err)
	}
	coord, err := txn.New(st, txn.DeviceMap{})
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := coord.Current(ctx); err != nil || cur == nil || cur.Number != 1 {
		t.Fatalf("restored version = %+v, %v; want 1", cur, err)
	}

	gone, err := o.Decommission(ctx, boxes[3].Serial)
	if err != nil || gone.Module != 4 {
		t.Fatalf("decommission = %v, %v", gone, err)
	}
	if o.DeviceOf(boxes[3].Serial) != nil {
		t.Error("device still open after decommission")
	}
	left, err := o.Boxes(ctx)
	if err != nil || len(left) != 3 {
		t.Fatalf("boxes = %v, %v; want 3", left, err)
	}
	if _, err := o.Decommission(ctx, boxes[3].Serial); !errors.Is(err, inventory.ErrUnknownBox) {
		t.Errorf("second decommission: %v, want ErrUnknownBox", err)
	}
}

// TestNewInvalid checks New's argument errors.
func TestNewInvalid(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	for _, tt := range []struct {
		name string
		f    func() error
	}{
		{"nil-store", func() error { _, err := orchestrator.New(ctx, nil, b.reg); return err }},
		{"nil-registry", func() error { _, err := orchestrator.New(ctx, b.st, nil); return err }},
		{"nil-config", func() error {
			o := b.open(t)
			_, err := o.Commit(ctx, nil)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f(); !errors.Is(err, orchestrator.ErrInvalid) {
				t.Errorf("error %v, want ErrInvalid", err)
			}
		})
	}
}

// TestCrashRecovery abandons an orchestrator's commit (as a crash would)
// after the journal and mid-apply; a new orchestrator on the same store
// rolls the transaction back when it starts, reports it as Aborted, and no
// box is left between versions.
func TestCrashRecovery(t *testing.T) {
	for _, stage := range []txn.Stage{txn.StageJournaled, txn.StageBoxApplied} {
		t.Run(string(stage), func(t *testing.T) {
			b := startBed(t)
			ctx := testCtx(t)
			var crash atomic.Bool
			o := b.open(t, orchestrator.WithTxnOptions(txn.WithHook(func(s txn.Stage, _ string) error {
				if s == stage && crash.Load() {
					return txn.ErrAbandon
				}
				return nil
			})))
			b.registerAll(t, o)
			if _, err := o.Commit(ctx, config(t, 1)); err != nil {
				t.Fatal(err)
			}
			v1, err := o.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			crash.Store(true)
			v2, err := o.Compile(ctx, config(t, 2))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Commit(ctx, config(t, 2)); !errors.Is(err, txn.ErrAbandon) {
				t.Fatalf("commit = %v, want ErrAbandon", err)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}

			o2 := b.open(t)
			sub, err := o2.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Aborted}}, events.WithReplay(8))
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Cancel()
			waitEvent(t, ctx, sub, func(e events.Event) bool { return e.OpID != "" })
			if cur, err := o2.Current(ctx); err != nil || cur.Number != v1.Number {
				t.Fatalf("current = %+v, %v; want version %d", cur, err, v1.Number)
			}
			expect(t, o2, v1.Goals, v2)
		})
	}
}

// TestUnreachableAtStart starts an orchestrator while a box is down: it
// starts anyway, reports the box disconnected, and once the box is back
// (having lost its state) opens it and replays its goal.
func TestUnreachableAtStart(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	o := b.open(t)
	b.registerAll(t, o)
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	cur, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	sw := b.tb.Switch("leaf1")
	serial := sw.Identity().Serial
	sw.Stop()

	o2 := b.open(t, orchestrator.WithReconcileInterval(20*time.Millisecond), orchestrator.WithBoxTimeout(2*time.Second))
	sub, err := o2.Events().Subscribe(ctx, events.Filter{Modules: []uint32{3}}, events.WithReplay(64))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == events.BoxDisconnected })
	if _, err := o2.Reconcile(ctx, serial); !errors.Is(err, orchestrator.ErrNotConnected) {
		t.Fatalf("reconcile of the down box: %v, want ErrNotConnected", err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == events.DriftRepaired })
	if e.Serial != serial || e.Attrs["replayed"] != "true" {
		t.Errorf("drift event %v %v, want %s replayed", e, e.Attrs, serial)
	}
	expect(t, o2, cur.Goals)
}

// TestConfigTransactionConnected: every version keeps the config it was
// committed from (a rollback the config of the version it restores), the
// journal answers for a commit's operation ID, and Connected follows
// registration.
func TestConfigTransactionConnected(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	o := b.open(t)
	boxes := b.registerAll(t, o)
	for _, box := range boxes {
		if !o.Connected(box.Serial) {
			t.Errorf("box %s: not connected after Register", box.Serial)
		}
	}
	if o.Connected("no-such-serial") {
		t.Error("unknown serial reported connected")
	}
	if _, _, err := o.Config(ctx, 0); !errors.Is(err, txn.ErrNoVersion) {
		t.Errorf("Config before any commit: err = %v, want ErrNoVersion", err)
	}
	var ids []string
	for v := 1; v <= 2; v++ {
		res, err := o.Commit(ctx, config(t, v))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	if _, err := o.Rollback(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ ask, want, cfg int64 }{{0, 3, 1}, {1, 1, 1}, {2, 2, 2}, {3, 3, 1}} {
		got, n, err := o.Config(ctx, tt.ask)
		if err != nil {
			t.Fatalf("Config(%d): %v", tt.ask, err)
		}
		want, _ := config(t, int(tt.cfg)).Marshal()
		have, _ := got.Marshal()
		if n != tt.want || string(have) != string(want) {
			t.Errorf("Config(%d) = version %d, config of v%d? %v; want version %d with the config of v%d", tt.ask, n, tt.cfg, string(have) == string(want), tt.want, tt.cfg)
		}
	}
	if _, _, err := o.Config(ctx, 9); !errors.Is(err, txn.ErrNoVersion) {
		t.Errorf("Config(9): err = %v, want ErrNoVersion", err)
	}
	rec, err := o.Transaction(ctx, ids[1])
	if err != nil || rec.State != txn.Committed || rec.Version != 2 {
		t.Errorf("Transaction(%s) = %+v, %v; want committed version 2", ids[1], rec, err)
	}
	if _, err := o.Transaction(ctx, "op-unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Transaction(unknown): err = %v, want store.ErrNotFound", err)
	}
	if _, err := o.Decommission(ctx, boxes[0].Serial); err != nil {
		t.Fatal(err)
	}
	if o.Connected(boxes[0].Serial) {
		t.Error("decommissioned box still connected")
	}
}

// TestStartWaitAndCredentials: a box that is down does not hold New up
// beyond the start wait, and boxes registered over TLS are reopened by a
// new orchestrator with the TLS configuration WithBoxCredentials gives.
func TestStartWaitAndCredentials(t *testing.T) {
	tb, err := testbed.Start(topology.LeafSpine(1, 2, topology.WithGeneratedTLS()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	b := startBed(t)
	ctx := testCtx(t)
	creds := func(inventory.Box) (*tls.Config, *driver.Credentials, error) {
		return &tls.Config{RootCAs: tb.CA().Pool(), MinVersion: tls.VersionTLS12}, nil, nil
	}
	o := b.open(t, orchestrator.WithBoxCredentials(creds))
	for _, sw := range tb.Switches() {
		// Neither TLS nor Insecure: WithBoxCredentials fills TLS in.
		if _, err := o.Register(ctx, inventory.BoxSpec{Name: sw.Name(), Driver: builtin.Emulated, Address: sw.Addr(),
			Role: role(sw), DeviceID: sw.DeviceID()}); err != nil {
			t.Fatalf("register %s over TLS: %v", sw.Name(), err)
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	tb.Switch("leaf1").Stop()

	start := time.Now()
	o2 := b.open(t, orchestrator.WithBoxCredentials(creds), orchestrator.WithBoxTimeout(20*time.Second),
		orchestrator.WithStartWait(200*time.Millisecond))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("New took %v with a box down, want about the 200ms start wait", d)
	}
	sub, err := o2.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.BoxConnected}}, events.WithReplay(16))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	for _, name := range []string{"spine1", "leaf2"} {
		serial := tb.Switch(name).Identity().Serial
		for !o2.Connected(serial) {
			waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Serial == serial })
		}
	}
	if o2.Connected(tb.Switch("leaf1").Identity().Serial) {
		t.Error("leaf1 is down but reported connected")
	}
}

// TestNodeIDs: a box registered with a device ID other than its module ID
// is renumbered (openconfig-p4rt node ID) to answer P4Runtime under its
// module ID, keeps answering after a registration with its old ID and a
// restart; WithNodeIDs(false) leaves boxes as registered.
func TestNodeIDs(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("on=%v", on), func(t *testing.T) {
			b := startBed(t)
			ctx := testCtx(t)
			o := b.open(t, orchestrator.WithNodeIDs(on))
			// leaf1 and leaf2 (device IDs 3, 4) first: modules 1, 2.
			var boxes []inventory.Box
			for _, name := range []string{"leaf1", "leaf2"} {
				sw := b.tb.Switch(name)
				box, err := o.Register(ctx, spec(sw))
				if err != nil {
					t.Fatal(err)
				}
				boxes = append(boxes, box)
			}
			for i, box := range boxes {
				want := uint64(3 + i)
				if on {
					want = uint64(box.Module)
				}
				sw := b.tb.Switches()[2+i]
				if box.Spec.DeviceID != want || sw.DeviceID() != want {
					t.Errorf("%s: module %d recorded with device ID %d, switch answers %d; want %d",
						sw.Name(), box.Module, box.Spec.DeviceID, sw.DeviceID(), want)
				}
			}
			cfg, err := goal.Parse([]byte("version: 1\nroles:\n  forwarder: {pipeconf: fabric-v1model}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Commit(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			// Registered again with the device ID it was configured with.
			again, err := o.Register(ctx, inventory.BoxSpec{Name: "leaf1", Driver: builtin.Emulated,
				Address: b.tb.Switch("leaf1").Addr(), Role: inventory.RoleForwarder, DeviceID: 3, Insecure: true})
			if err != nil {
				t.Fatal(err)
			}
			if again.Module != boxes[0].Module || again.Spec.DeviceID != boxes[0].Spec.DeviceID {
				t.Errorf("registered again: %v device ID %d, want module %d device ID %d", again, again.Spec.DeviceID, boxes[0].Module, boxes[0].Spec.DeviceID)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			o2 := b.open(t, orchestrator.WithNodeIDs(on))
			cur, err := o2.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, box := range boxes {
				if _, err := o2.Reconcile(ctx, box.Serial); err != nil {
					t.Errorf("after a restart, module %d: %v", box.Module, err)
				}
			}
			expect(t, o2, cur.Goals)
		})
	}
}
