package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/store/storetest"
)

const timeout = 30 * time.Second

func open(t testing.TB, dir string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := bolt.Open(ctx, dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b, b.TempDir()) })
}

// next returns the next event of ch within timeout.
func next(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(timeout):
		t.Fatal("no event")
	}
	return store.Event{}
}

func mustPut(t *testing.T, s store.Store, key, value string, opts ...store.PutOption) int64 {
	t.Helper()
	rev, err := s.Put(testCtx(t), key, []byte(value), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	s := open(t, dir)
	r1 := mustPut(t, s, "a", "1")
	r2 := mustPut(t, s, "a", "2")
	r3 := mustPut(t, s, "b", "x")
	if _, err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	kv, err := s.Get(ctx, "a")
	if err != nil || string(kv.Value) != "2" || kv.CreateRevision != r1 || kv.ModRevision != r2 || kv.Version != 2 {
		t.Errorf("after reopen Get(a) = %+v, %v", kv, err)
	}
	if got, _ := s.Revision(ctx); got != rev {
		t.Errorf("after reopen revision %d, want %d", got, rev)
	}
	// History survives too.
	ch, err := s.Watch(ctx, "b", store.WithStartRevision(r3))
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != store.EventPut || ev.Revision != r3 {
		t.Errorf("replayed %s at %d, want put at %d", ev.Type, ev.Revision, r3)
	}
	if ev := next(t, ch); ev.Type != store.EventDelete || ev.Revision != rev {
		t.Errorf("replayed %s at %d, want delete at %d", ev.Type, ev.Revision, rev)
	}
	// And revisions go on from where they were.
	if r := mustPut(t, s, "c", ""); r != rev+1 {
		t.Errorf("first put after reopen at %d, want %d", r, rev+1)
	}
}

// fakeClock is a Clock moved by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{} // closed and replaced when a waiter is added
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), added: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	close(c.added)
	c.added = make(chan struct{})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// waitTimer waits until a timer for time at is set, so that advancing the
// clock past at fires it.
func (c *fakeClock) waitTimer(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for _, w := range c.waiters {
			if w.at.Equal(at) {
				c.mu.Unlock()
				return
			}
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("no timer set for %v", at)
		}
	}
}

func TestLeaseExpiryClock(t *testing.T) {
	ctx := testCtx(t)
	clk := newFakeClock()
	s := open(t, t.TempDir(), bolt.WithClock(clk))
	ch, err := s.Watch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now()
	l, err := s.Grant(ctx, 10*time.Second)
	if err != nil || l.TTL != 10*time.Second {
		t.Fatalf("Grant = %+v, %v; want an exact 10s TTL", l, err)
	}
	mustPut(t, s, "live", "", store.WithLease(l.ID))
	next(t, ch)

	steps := []struct {
		advance   time.Duration
		keepAlive bool
		timerAt   time.Duration // from t0: the expiry timer to wait for before advancing
		expired   bool
	}{
		{advance: 9 * time.Second, timerAt: 10 * time.Second},
		{keepAlive: true}, // deadline now t0+19s
		{advance: 2 * time.Second, timerAt: 10 * time.Second}, // the old timer fires, nothing expires
		{advance: 7 * time.Second, timerAt: 19 * time.Second}, // t0+18s
		{advance: time.Second, timerAt: 19 * time.Second, expired: true},
	}
	for i, st := range steps {
		if st.keepAlive {
			if ttl, err := s.KeepAlive(ctx, l.ID); err != nil || ttl != l.TTL {
				t.Fatalf("step %d: KeepAlive = %v, %v", i, ttl, err)
			}
			continue
		}
		clk.waitTimer(t, t0.Add(st.timerAt))
		clk.Advance(st.advance)
		if !st.expired {
			if _, err := s.Get(ctx, "live"); err != nil {
				t.Fatalf("step %d (t0+%v): %v", i, clk.Now().Sub(t0), err)
			}
			continue
		}
		if ev := next(t, ch); ev.Type != store.EventDelete || ev.KV.Key != "live" {
			t.Fatalf("step %d: event %s %q, want the delete of live", i, ev.Type, ev.KV.Key)
		}
	}
	if _, err := s.KeepAlive(ctx, l.ID); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("KeepAlive after expiry = %v", err)
	}
}

func TestLeasesSurviveReopen(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	clk := newFakeClock()
	s := open(t, dir, bolt.WithClock(clk))
	l, err := s.Grant(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "live", "", store.WithLease(l.ID))
	clk.Advance(9 * time.Second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// On open, the lease's TTL restarts: it lives 10s from the reopen.
	s = open(t, dir, bolt.WithClock(clk))
	kv, err := s.Get(ctx, "live")
	if err != nil || kv.Lease != l.ID {
		t.Fatalf("after reopen Get = %+v, %v", kv, err)
	}
	ch, err := s.Watch(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	reopened := clk.Now()
	clk.waitTimer(t, reopened.Add(10*time.Second))
	clk.Advance(9 * time.Second)
	if _, err := s.Get(ctx, "live"); err != nil {
		t.Fatalf("9s after reopen: %v", err)
	}
	clk.Advance(time.Second)
	if ev := next(t, ch); ev.Type != store.EventDelete {
		t.Fatalf("event %s, want delete", ev.Type)
	}
	// A new lease does not reuse the old ID.
	l2, err := s.Grant(ctx, time.Minute)
	if err != nil || l2.ID == l.ID {
		t.Errorf("Grant after reopen = %+v, %v; want a new ID", l2, err)
	}
}

func TestWatchCompacted(t *testing.T) {
	ctx := testCtx(t)
	const history = 5
	s := open(t, t.TempDir(), bolt.WithHistory(history))
	var revs []int64
	for i := range 10 {
		revs = append(revs, mustPut(t, s, fmt.Sprintf("k%d", i), ""))
	}
	cur := revs[len(revs)-1]
	tests := []struct {
		start     int64
		compacted bool
	}{
		{revs[0], true},
		{cur - history, true},
		{cur - history + 1, false},
		{cur, false},
	}
	for _, tc := range tests {
		ch, err := s.Watch(ctx, "", store.WithStartRevision(tc.start))
		if err != nil {
			t.Fatal(err)
		}
		ev := next(t, ch)
		if got := ev.Type == store.EventError && errors.Is(ev.Err, store.ErrCompacted); got != tc.compacted {
			t.Errorf("watch from %d (current %d, history %d): %s %v, compacted %v, want %v",
				tc.start, cur, history, ev.Type, ev.Err, got, tc.compacted)
		}
		if tc.compacted {
			if _, ok := <-ch; ok {
				t.Errorf("watch from %d: channel open after the error event", tc.start)
			}
		} else if ev.Revision != tc.start {
			t.Errorf("watch from %d: first event at %d", tc.start, ev.Revision)
		}
	}
}

// A consumer that stops reading falls behind; once the history it needs is
// pruned, it gets what was already read, then ErrCompacted, in order.
func TestWatchFallsBehind(t *testing.T) {
	ctx := testCtx(t)
	const history, perTxn, txns = 5, 10, 60
	s := open(t, t.TempDir(), bolt.WithHistory(history))
	ch, err := s.Watch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range txns {
		var ops []store.Op
		for j := range perTxn {
			ops = append(ops, store.OpPut(fmt.Sprintf("k/%d/%d", i, j), nil))
		}
		if _, err := s.Txn(ctx, store.Txn{Then: ops}); err != nil {
			t.Fatal(err)
		}
	}
	// The watch holds at most a batch plus its channel buffer, far fewer
	// than txns*perTxn events, so it must have hit pruned history.
	var last int64
	n := 0
	for {
		ev := next(t, ch)
		if ev.Type == store.EventError {
			if !errors.Is(ev.Err, store.ErrCompacted) {
				t.Fatalf("error event %v, want ErrCompacted", ev.Err)
			}
			break
		}
		if ev.Revision < last {
			t.Fatalf("event at %d after %d", ev.Revision, last)
		}
		last = ev.Revision
		n++
	}
	if n >= txns*perTxn {
		t.Errorf("got all %d events, want the watch to fall behind", n)
	}
	if _, ok := <-ch; ok {
		t.Error("channel open after the error event")
	}
}

// A watch replays more history than one read batch, across revisions that
// each hold many events, without losing or reordering any.
func TestWatchLongReplay(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, t.TempDir())
	const perTxn, txns = 100, 7
	first := int64(0)
	for i := range txns {
		var ops []store.Op
		for j := range perTxn {
			ops = append(ops, store.OpPut(fmt.Sprintf("k/%d/%03d", i, j), []byte{byte(j)}))
		}
		res, err := s.Txn(ctx, store.Txn{Then: ops})
		if err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = res.Revision
		}
	}
	ch, err := s.Watch(ctx, "k/", store.WithStartRevision(first))
	if err != nil {
		t.Fatal(err)
	}
	for i := range txns {
		for j := range perTxn {
			ev := next(t, ch)
			if want := fmt.Sprintf("k/%d/%03d", i, j); ev.KV.Key != want || ev.Revision != first+int64(i) || ev.KV.Value[0] != byte(j) {
				t.Fatalf("event %q at %d, want %q at %d", ev.KV.Key, ev.Revision, want, first+int64(i))
			}
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, t.TempDir())
	r1 := mustPut(t, s, "a", "1")
	mustPut(t, s, "a", "2")
	l, err := s.Grant(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "leased", "x", store.WithLease(l.ID))
	rev, _ := s.Revision(ctx)
	var snap bytes.Buffer
	if err := s.Snapshot(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "after", "not in the snapshot")

	dir := filepath.Join(t.TempDir(), "restored")
	if err := bolt.Restore(ctx, bytes.NewReader(snap.Bytes()), dir); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	r := open(t, dir)
	if got, _ := r.Revision(ctx); got != rev {
		t.Errorf("restored revision %d, want %d", got, rev)
	}
	res, err := r.Range(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range res.KVs {
		keys = append(keys, kv.Key+"="+string(kv.Value))
	}
	if fmt.Sprint(keys) != "[a=2 leased=x]" {
		t.Errorf("restored keys %v", keys)
	}
	ch, err := r.Watch(ctx, "a", store.WithStartRevision(r1))
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Revision != r1 || string(ev.KV.Value) != "1" {
		t.Errorf("restored history starts with %+v", ev)
	}
	// The lease came back: revoking it deletes its key.
	if err := r.Revoke(ctx, l.ID); err != nil {
		t.Errorf("Revoke of the restored lease: %v", err)
	}
	if _, err := r.Get(ctx, "leased"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after revoke Get(leased) = %v", err)
	}
}

func TestRestoreErrors(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, t.TempDir())
	var snap bytes.Buffer
	if err := s.Snapshot(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	if err := bolt.Restore(ctx, bytes.NewReader(snap.Bytes()), existing); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(t.TempDir(), "foreign.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	foreignBytes, err := os.ReadFile(foreign)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		snap []byte
		dir  string
		want error
	}{
		{"existing store", ctx, snap.Bytes(), existing, fs.ErrExist},
		{"garbage", ctx, []byte("not a bbolt file at all"), "", bolt.ErrCorrupt},
		{"empty", ctx, nil, "", bolt.ErrCorrupt},
		{"truncated", ctx, snap.Bytes()[:snap.Len()/2], "", bolt.ErrCorrupt},
		{"foreign bbolt file", ctx, foreignBytes, "", bolt.ErrCorrupt},
		{"canceled", canceled, snap.Bytes(), "", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			err := bolt.Restore(tc.ctx, bytes.NewReader(tc.snap), dir)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Restore = %v, want %v", err, tc.want)
			}
			if tc.dir == "" {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("failed restore left %v behind", entries)
				}
			}
		})
	}
	if err := bolt.Restore(ctx, nil, t.TempDir()); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Restore(nil) = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, bolt.FileName), bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := t.TempDir()
	db, err := bbolt.Open(filepath.Join(foreign, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	locked := t.TempDir()
	open(t, locked)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		dir  string
		opts []bolt.Option
		want error
	}{
		{"garbage file", garbage, nil, nil},
		{"foreign bbolt file", foreign, nil, bolt.ErrCorrupt},
		{"locked by another store", locked, []bolt.Option{bolt.WithLockTimeout(50 * time.Millisecond)}, bbolt.ErrTimeout},
		{"not a directory", notDir, nil, nil},
		{"empty path", "", nil, store.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := bolt.Open(ctx, tc.dir, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open = %v, want %v", err, tc.want)
			}
		})
	}
}

// Calls racing with Close either complete or fail with ErrClosed; nothing
// panics or touches the closed file.
func TestCloseRace(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, t.TempDir())
	l, err := s.Grant(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("k/%d/%d", w, i%10)
				var err error
				switch i % 4 {
				case 0:
					_, err = s.Put(ctx, key, nil, store.WithLease(l.ID))
				case 1:
					_, err = s.Range(ctx, "k/")
				case 2:
					var ch <-chan store.Event
					if ch, err = s.Watch(ctx, "k/"); err == nil {
						go func() {
							for range ch {
							}
						}()
					}
				case 3:
					_, err = s.KeepAlive(ctx, l.ID)
				}
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	mustPut(t, s, "go", "")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
