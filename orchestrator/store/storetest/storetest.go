// Package storetest is the conformance suite of store.Store: every engine
// runs it from its own tests, so that code written against the interface
// behaves the same on each.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := bolt.Open(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// The suite covers every method and its edges: reads and writes with their
// revisions and versions, invalid arguments, ranges (order, limit, paging),
// compare-and-swap on each compare target and operator, concurrent
// read-modify-write without lost updates, watches (from now, from the past,
// of deletes, cancellation, close), leases (expiry observed through the
// watch, keep-alive, revoke), snapshots and Close. Lease tests use TTLs of
// one and two seconds and wait on events, so a run takes a few seconds.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// Timeouts of the suite: every subtest runs under testTimeout, and every
// wait for an event is bounded by eventTimeout.
const (
	testTimeout  = 60 * time.Second
	eventTimeout = 20 * time.Second
)

// Run runs the conformance suite as subtests of t. open is called once per
// subtest and must return a new, empty store (for an engine shared between
// subtests, an empty namespace of it) and close it when the subtest ends
// (t.Cleanup), ignoring the ErrClosed of a store the suite closed itself.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s store.Store)
	}{
		{"PutGet", testPutGet},
		{"Delete", testDelete},
		{"Invalid", testInvalid},
		{"Range", testRange},
		{"Revisions", testRevisions},
		{"TxnCompares", testTxnCompares},
		{"TxnOps", testTxnOps},
		{"CompareAndSwap", testCompareAndSwap},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"WatchFromNow", testWatchFromNow},
		{"WatchFromPast", testWatchFromPast},
		{"WatchCancel", testWatchCancel},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseKeepAlive", testLeaseKeepAlive},
		{"LeaseRevoke", testLeaseRevoke},
		{"Snapshot", testSnapshot},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.fn(t, ctx, s)
		})
	}
}

func put(t *testing.T, ctx context.Context, s store.Store, key, value string, opts ...store.PutOption) int64 {
	t.Helper()
	rev, err := s.Put(ctx, key, []byte(value), opts...)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return rev
}

func get(t *testing.T, ctx context.Context, s store.Store, key string) store.KeyValue {
	t.Helper()
	kv, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func revision(t *testing.T, ctx context.Context, s store.Store) int64 {
	t.Helper()
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func wantNotFound(t *testing.T, ctx context.Context, s store.Store, key string) {
	t.Helper()
	_, err := s.Get(ctx, key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %v, want ErrNotFound", key, err)
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("Get(%q) error %q does not name the key", key, err)
	}
}

func watch(t *testing.T, ctx context.Context, s store.Store, prefix string, opts ...store.WatchOption) <-chan store.Event {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, opts...)
	if err != nil {
		t.Fatalf("Watch(%q): %v", prefix, err)
	}
	return ch
}

// next waits for the next event of ch, failing the test after eventTimeout.
func next(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed, want an event")
		}
		return ev
	case <-timer.C:
		t.Fatalf("no watch event within %v", eventTimeout)
	}
	return store.Event{}
}

// waitClosed drains ch until it is closed, failing after eventTimeout, and
// returns what it drained.
func waitClosed(t *testing.T, ch <-chan store.Event) []store.Event {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	var evs []store.Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timer.C:
			t.Fatalf("watch channel not closed within %v (drained %v)", eventTimeout, evs)
		}
	}
}

// wantEvent checks the next event of ch.
func wantEvent(t *testing.T, ch <-chan store.Event, typ store.EventType, key, value string, rev int64) store.Event {
	t.Helper()
	ev := next(t, ch)
	if ev.Type != typ || ev.KV.Key != key || (typ == store.EventPut && string(ev.KV.Value) != value) ||
		(rev != 0 && ev.Revision != rev) || ev.Revision != ev.KV.ModRevision {
		t.Fatalf("event = %s %q=%q rev %d (kv mod %d) err %v, want %s %q=%q rev %d",
			ev.Type, ev.KV.Key, ev.KV.Value, ev.Revision, ev.KV.ModRevision, ev.Err, typ, key, value, rev)
	}
	return ev
}

func testPutGet(t *testing.T, ctx context.Context, s store.Store) {
	tests := []struct {
		key, value  string
		wantVersion int64
		sameCreate  bool // create revision of the first put of the key
	}{
		{"a/one", "1", 1, false},
		{"a/one", "2", 2, true},
		{"a/one", "", 3, true},
		{"a/bin", "\x00\xff\x00", 1, false},
		{"a/one", "4", 4, true},
		{"a/ünïcode key with spaces", "v", 1, false},
	}
	created := map[string]int64{}
	prev := revision(t, ctx, s)
	for _, tc := range tests {
		rev := put(t, ctx, s, tc.key, tc.value)
		if rev <= prev {
			t.Fatalf("Put(%q) revision %d, not after %d", tc.key, rev, prev)
		}
		prev = rev
		kv := get(t, ctx, s, tc.key)
		if kv.Key != tc.key || !bytes.Equal(kv.Value, []byte(tc.value)) || kv.ModRevision != rev ||
			kv.Version != tc.wantVersion || kv.Lease != store.NoLease {
			t.Errorf("Get(%q) = %+v, want value %q mod %d version %d", tc.key, kv, tc.value, rev, tc.wantVersion)
		}
		if !tc.sameCreate {
			created[tc.key] = rev
		}
		if kv.CreateRevision != created[tc.key] {
			t.Errorf("Get(%q).CreateRevision = %d, want %d", tc.key, kv.CreateRevision, created[tc.key])
		}
	}
	wantNotFound(t, ctx, s, "a/missing")
	wantNotFound(t, ctx, s, "a") // a prefix of keys is not a key
}

func testDelete(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "d/k", "1")
	put(t, ctx, s, "d/k", "2")
	put(t, ctx, s, "d/k2", "x")
	rev, err := s.Delete(ctx, "d/k")
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := revision(t, ctx, s); got != rev {
		t.Errorf("Revision after Delete = %d, Delete returned %d", got, rev)
	}
	wantNotFound(t, ctx, s, "d/k")
	get(t, ctx, s, "d/k2") // untouched

	_, err = s.Delete(ctx, "d/k")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "d/k") {
		t.Errorf("Delete of a missing key = %v, want ErrNotFound naming the key", err)
	}
	if got := revision(t, ctx, s); got != rev {
		t.Errorf("Delete of a missing key moved the revision from %d to %d", rev, got)
	}

	// Put after delete starts a new life: version 1, new create revision.
	rev2 := put(t, ctx, s, "d/k", "3")
	kv := get(t, ctx, s, "d/k")
	if kv.Version != 1 || kv.CreateRevision != rev2 || kv.ModRevision != rev2 {
		t.Errorf("re-created key = %+v, want version 1 and create = mod = %d", kv, rev2)
	}
}

func testInvalid(t *testing.T, ctx context.Context, s store.Store) {
	long := strings.Repeat("k", store.MaxKeySize+1)
	var nilCtx context.Context
	tooMany := make([]store.Op, store.MaxTxnOps+1)
	for i := range tooMany {
		tooMany[i] = store.OpGet(fmt.Sprintf("k%d", i))
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"get empty key", func() error { _, err := s.Get(ctx, ""); return err }},
		{"get long key", func() error { _, err := s.Get(ctx, long); return err }},
		{"get nil context", func() error { _, err := s.Get(nilCtx, "k"); return err }},
		{"put empty key", func() error { _, err := s.Put(ctx, "", nil); return err }},
		{"put long key", func() error { _, err := s.Put(ctx, long, nil); return err }},
		{"put nil context", func() error { _, err := s.Put(nilCtx, "k", nil); return err }},
		{"put negative lease", func() error { _, err := s.Put(ctx, "k", nil, store.WithLease(-1)); return err }},
		{"delete empty key", func() error { _, err := s.Delete(ctx, ""); return err }},
		{"range negative limit", func() error { _, err := s.Range(ctx, "", store.WithLimit(-1)); return err }},
		{"range long prefix", func() error { _, err := s.Range(ctx, long); return err }},
		{"range nil context", func() error { _, err := s.Range(nilCtx, ""); return err }},
		{"watch negative revision", func() error { _, err := s.Watch(ctx, "", store.WithStartRevision(-1)); return err }},
		{"watch nil context", func() error { _, err := s.Watch(nilCtx, ""); return err }},
		{"grant zero TTL", func() error { _, err := s.Grant(ctx, 0); return err }},
		{"grant negative TTL", func() error { _, err := s.Grant(ctx, -time.Second); return err }},
		{"grant huge TTL", func() error { _, err := s.Grant(ctx, store.MaxLeaseTTL+1); return err }},
		{"keep-alive nil context", func() error { _, err := s.KeepAlive(nilCtx, 1); return err }},
		{"revoke nil context", func() error { return s.Revoke(nilCtx, 1) }},
		{"revision nil context", func() error { _, err := s.Revision(nilCtx); return err }},
		{"snapshot nil writer", func() error { return s.Snapshot(ctx, nil) }},
		{"txn unknown target", func() error {
			_, err := s.Txn(ctx, store.Txn{If: []store.Compare{{Key: "k", Target: 99, Op: store.Equal}}})
			return err
		}},
		{"txn unknown operator", func() error {
			_, err := s.Txn(ctx, store.Txn{If: []store.Compare{{Key: "k", Target: store.TargetVersion, Op: 0}}})
			return err
		}},
		{"txn compare empty key", func() error {
			_, err := s.Txn(ctx, store.Txn{If: []store.Compare{store.Exists("")}})
			return err
		}},
		{"txn unknown op kind", func() error {
			_, err := s.Txn(ctx, store.Txn{Then: []store.Op{{Kind: 42, Key: "k"}}})
			return err
		}},
		{"txn op empty key", func() error {
			_, err := s.Txn(ctx, store.Txn{Else: []store.Op{store.OpDelete("")}})
			return err
		}},
		{"txn key written twice", func() error {
			_, err := s.Txn(ctx, store.Txn{Then: []store.Op{store.OpPut("k", nil), store.OpDelete("k")}})
			return err
		}},
		{"txn too many ops", func() error {
			_, err := s.Txn(ctx, store.Txn{Then: tooMany})
			return err
		}},
		{"txn nil context", func() error { _, err := s.Txn(nilCtx, store.Txn{}); return err }},
	}
	rev := revision(t, ctx, s)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	if got := revision(t, ctx, s); got != rev {
		t.Errorf("invalid calls moved the revision from %d to %d", rev, got)
	}
}

func testRange(t *testing.T, ctx context.Context, s store.Store) {
	keys := []string{"r/b/2", "r/a", "r/b/1", "r/bc", "r/b", "r/c/x/y", "s/a", "r/b/10", "r/\xff"}
	for i, k := range keys {
		put(t, ctx, s, k, fmt.Sprint(i))
	}
	rev := revision(t, ctx, s)
	sorted := func(prefix string) []string {
		var out []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		prefix   string
		opts     []store.RangeOption
		want     []string
		wantMore bool
	}{
		{prefix: "r/", want: sorted("r/")},
		{prefix: "", want: sorted("")},
		{prefix: "r/b/", want: []string{"r/b/1", "r/b/10", "r/b/2"}},
		{prefix: "r/b", want: []string{"r/b", "r/b/1", "r/b/10", "r/b/2", "r/bc"}},
		{prefix: "r/c/x/y", want: []string{"r/c/x/y"}},
		{prefix: "q/", want: nil},
		{prefix: "r/", opts: []store.RangeOption{store.WithLimit(2)}, want: []string{"r/a", "r/b"}, wantMore: true},
		{prefix: "r/b/", opts: []store.RangeOption{store.WithLimit(3)}, want: []string{"r/b/1", "r/b/10", "r/b/2"}},
		{prefix: "r/b/", opts: []store.RangeOption{store.WithLimit(0)}, want: []string{"r/b/1", "r/b/10", "r/b/2"}},
		{prefix: "r/", opts: []store.RangeOption{store.WithStart("r/b/10")}, want: []string{"r/b/10", "r/b/2", "r/bc", "r/c/x/y", "r/\xff"}},
		{prefix: "r/", opts: []store.RangeOption{store.WithStart("r/b/10\x00"), store.WithLimit(1)}, want: []string{"r/b/2"}, wantMore: true},
		{prefix: "r/b/", opts: []store.RangeOption{store.WithStart("a")}, want: []string{"r/b/1", "r/b/10", "r/b/2"}},
		{prefix: "r/b/", opts: []store.RangeOption{store.WithStart("s")}, want: nil},
		{prefix: "r/", opts: []store.RangeOption{nil, store.WithLimit(1)}, want: []string{"r/a"}, wantMore: true},
	}
	for _, tc := range tests {
		res, err := s.Range(ctx, tc.prefix, tc.opts...)
		if err != nil {
			t.Fatalf("Range(%q): %v", tc.prefix, err)
		}
		var got []string
		for _, kv := range res.KVs {
			got = append(got, kv.Key)
			if kv.ModRevision == 0 || kv.Version != 1 {
				t.Errorf("Range(%q): %q has mod revision %d version %d", tc.prefix, kv.Key, kv.ModRevision, kv.Version)
			}
		}
		if !slices.Equal(got, tc.want) || res.More != tc.wantMore || res.Revision != rev {
			t.Errorf("Range(%q, %d opts) = %q more %v rev %d, want %q more %v rev %d",
				tc.prefix, len(tc.opts), got, res.More, res.Revision, tc.want, tc.wantMore, rev)
		}
	}

	// Paging through with a limit sees every key once, in order.
	var paged []string
	start := ""
	for page := 0; ; page++ {
		if page > len(keys) {
			t.Fatal("paging does not end")
		}
		res, err := s.Range(ctx, "r/", store.WithLimit(2), store.WithStart(start))
		if err != nil {
			t.Fatalf("Range page %d: %v", page, err)
		}
		for _, kv := range res.KVs {
			paged = append(paged, kv.Key)
		}
		if !res.More {
			break
		}
		start = res.KVs[len(res.KVs)-1].Key + "\x00"
	}
	if want := sorted("r/"); !slices.Equal(paged, want) {
		t.Errorf("paged range = %q, want %q", paged, want)
	}
	// Values come back with the keys.
	res, err := s.Range(ctx, "r/a")
	if err != nil || len(res.KVs) != 1 || string(res.KVs[0].Value) != "1" {
		t.Errorf("Range(r/a) = %+v, %v, want r/a=1", res, err)
	}
}

func testRevisions(t *testing.T, ctx context.Context, s store.Store) {
	prev := revision(t, ctx, s)
	steps := []struct {
		name   string
		do     func() (int64, error)
		writes bool
	}{
		{"put", func() (int64, error) { return s.Put(ctx, "v/a", []byte("1")) }, true},
		{"put again", func() (int64, error) { return s.Put(ctx, "v/a", []byte("2")) }, true},
		{"txn", func() (int64, error) {
			r, err := s.Txn(ctx, store.Txn{Then: []store.Op{store.OpPut("v/b", nil), store.OpPut("v/c", nil)}})
			return r.Revision, err
		}, true},
		{"read-only txn", func() (int64, error) {
			r, err := s.Txn(ctx, store.Txn{Then: []store.Op{store.OpGet("v/a")}})
			return r.Revision, err
		}, false},
		{"failed txn with empty else", func() (int64, error) {
			r, err := s.Txn(ctx, store.Txn{If: []store.Compare{store.Missing("v/a")}, Then: []store.Op{store.OpPut("v/x", nil)}})
			return r.Revision, err
		}, false},
		{"txn deleting a missing key", func() (int64, error) {
			r, err := s.Txn(ctx, store.Txn{Then: []store.Op{store.OpDelete("v/missing")}})
			return r.Revision, err
		}, false},
		{"delete", func() (int64, error) { return s.Delete(ctx, "v/b") }, true},
		{"put after delete", func() (int64, error) { return s.Put(ctx, "v/b", nil) }, true},
	}
	for _, st := range steps {
		rev, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		switch {
		case st.writes && rev <= prev:
			t.Errorf("%s: revision %d, want > %d", st.name, rev, prev)
		case !st.writes && rev != prev:
			t.Errorf("%s: revision %d, want unchanged %d", st.name, rev, prev)
		}
		if got := revision(t, ctx, s); got != rev {
			t.Errorf("%s: Revision() = %d, the call returned %d", st.name, got, rev)
		}
		prev = rev
	}
}

func testTxnCompares(t *testing.T, ctx context.Context, s store.Store) {
	create := put(t, ctx, s, "c/k", "v1")
	mod := put(t, ctx, s, "c/k", "v2") // version 2
	tests := []struct {
		name string
		cmps []store.Compare
		want bool
	}{
		{"value =", []store.Compare{store.CompareValue("c/k", store.Equal, []byte("v2"))}, true},
		{"value = other", []store.Compare{store.CompareValue("c/k", store.Equal, []byte("v1"))}, false},
		{"value !=", []store.Compare{store.CompareValue("c/k", store.NotEqual, []byte("v1"))}, true},
		{"value != same", []store.Compare{store.CompareValue("c/k", store.NotEqual, []byte("v2"))}, false},
		{"value <", []store.Compare{store.CompareValue("c/k", store.Less, []byte("v3"))}, true},
		{"value < smaller", []store.Compare{store.CompareValue("c/k", store.Less, []byte("v1"))}, false},
		{"value >", []store.Compare{store.CompareValue("c/k", store.Greater, []byte("v10"))}, true},
		{"value > equal", []store.Compare{store.CompareValue("c/k", store.Greater, []byte("v2"))}, false},
		{"value of missing key =", []store.Compare{store.CompareValue("c/none", store.Equal, nil)}, false},
		{"value of missing key !=", []store.Compare{store.CompareValue("c/none", store.NotEqual, []byte("x"))}, false},
		{"version =", []store.Compare{store.CompareVersion("c/k", store.Equal, 2)}, true},
		{"version = other", []store.Compare{store.CompareVersion("c/k", store.Equal, 1)}, false},
		{"version !=", []store.Compare{store.CompareVersion("c/k", store.NotEqual, 1)}, true},
		{"version <", []store.Compare{store.CompareVersion("c/k", store.Less, 3)}, true},
		{"version < equal", []store.Compare{store.CompareVersion("c/k", store.Less, 2)}, false},
		{"version >", []store.Compare{store.CompareVersion("c/k", store.Greater, 1)}, true},
		{"version of missing key = 0", []store.Compare{store.CompareVersion("c/none", store.Equal, 0)}, true},
		{"mod revision =", []store.Compare{store.CompareModRevision("c/k", store.Equal, mod)}, true},
		{"mod revision = stale", []store.Compare{store.CompareModRevision("c/k", store.Equal, create)}, false},
		{"mod revision !=", []store.Compare{store.CompareModRevision("c/k", store.NotEqual, create)}, true},
		{"mod revision <", []store.Compare{store.CompareModRevision("c/k", store.Less, mod+1)}, true},
		{"mod revision < equal", []store.Compare{store.CompareModRevision("c/k", store.Less, mod)}, false},
		{"mod revision >", []store.Compare{store.CompareModRevision("c/k", store.Greater, mod-1)}, true},
		{"mod revision > equal", []store.Compare{store.CompareModRevision("c/k", store.Greater, mod)}, false},
		{"mod revision of missing key", []store.Compare{store.CompareModRevision("c/none", store.Equal, 0)}, true},
		{"create revision =", []store.Compare{store.CompareCreateRevision("c/k", store.Equal, create)}, true},
		{"create revision = other", []store.Compare{store.CompareCreateRevision("c/k", store.Equal, mod)}, false},
		{"create revision !=", []store.Compare{store.CompareCreateRevision("c/k", store.NotEqual, mod)}, true},
		{"create revision <", []store.Compare{store.CompareCreateRevision("c/k", store.Less, mod)}, true},
		{"create revision >", []store.Compare{store.CompareCreateRevision("c/k", store.Greater, create)}, false},
		{"create revision of missing key", []store.Compare{store.CompareCreateRevision("c/none", store.Greater, 0)}, false},
		{"exists", []store.Compare{store.Exists("c/k")}, true},
		{"exists missing", []store.Compare{store.Exists("c/none")}, false},
		{"missing", []store.Compare{store.Missing("c/none")}, true},
		{"missing exists", []store.Compare{store.Missing("c/k")}, false},
		{"all hold", []store.Compare{store.Exists("c/k"), store.Missing("c/none"), store.CompareVersion("c/k", store.Equal, 2)}, true},
		{"one fails", []store.Compare{store.Exists("c/k"), store.Exists("c/none"), store.CompareVersion("c/k", store.Equal, 2)}, false},
		{"no compares", nil, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			then, els := fmt.Sprintf("c/then/%d", i), fmt.Sprintf("c/else/%d", i)
			res, err := s.Txn(ctx, store.Txn{
				If:   tc.cmps,
				Then: []store.Op{store.OpPut(then, []byte("t"))},
				Else: []store.Op{store.OpPut(els, []byte("e"))},
			})
			if err != nil {
				t.Fatalf("Txn: %v", err)
			}
			if res.Succeeded != tc.want {
				t.Fatalf("Succeeded = %v, want %v (%v)", res.Succeeded, tc.want, tc.cmps)
			}
			ran, skipped := then, els
			if !tc.want {
				ran, skipped = els, then
			}
			if kv := get(t, ctx, s, ran); kv.ModRevision != res.Revision {
				t.Errorf("branch key %q mod revision %d, txn revision %d", ran, kv.ModRevision, res.Revision)
			}
			wantNotFound(t, ctx, s, skipped)
			// The compare's reference semantics agree with the engine.
			kv, err := s.Get(ctx, "c/k")
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.cmps) == 1 && tc.cmps[0].Key == "c/k" && tc.cmps[0].Holds(kv, true) != tc.want {
				t.Errorf("Compare.Holds disagrees with the engine on %v", tc.cmps[0])
			}
		})
	}
}

func testTxnOps(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "o/c", "old")
	put(t, ctx, s, "o/a", "old")
	before := revision(t, ctx, s)
	res, err := s.Txn(ctx, store.Txn{
		If: []store.Compare{store.Exists("o/c")},
		Then: []store.Op{
			store.OpGet("o/a"), // before the put: the old value
			store.OpPut("o/a", []byte("A")),
			store.OpPut("o/b", []byte("B")),
			store.OpDelete("o/c"),
			store.OpDelete("o/missing"),
			store.OpGet("o/a"), // after the put: the new value
			store.OpGet("o/c"), // deleted above
			store.OpGet("o/e"),
		},
	})
	if err != nil {
		t.Fatalf("Txn: %v", err)
	}
	if !res.Succeeded || res.Revision != before+1 || len(res.Results) != 8 {
		t.Fatalf("Txn = succeeded %v revision %d (before %d) %d results, want success at one new revision and 8 results",
			res.Succeeded, res.Revision, before, len(res.Results))
	}
	r := res.Results
	if !r[0].Found || string(r[0].KV.Value) != "old" {
		t.Errorf("get before put = %+v, want old", r[0])
	}
	if r[1].Found || r[2].Found {
		t.Errorf("put results = %+v %+v, want Found false", r[1], r[2])
	}
	if !r[3].Found || r[4].Found {
		t.Errorf("delete results = %+v %+v, want existing found and missing not", r[3], r[4])
	}
	if !r[5].Found || string(r[5].KV.Value) != "A" || r[5].KV.ModRevision != res.Revision || r[5].KV.Version != 2 {
		t.Errorf("get after put = %+v, want A at revision %d version 2", r[5], res.Revision)
	}
	if r[6].Found || r[7].Found {
		t.Errorf("get of deleted and missing keys = %+v %+v, want not found", r[6], r[7])
	}
	for _, k := range []string{"o/a", "o/b"} {
		if kv := get(t, ctx, s, k); kv.ModRevision != res.Revision {
			t.Errorf("%s mod revision %d, want the txn's %d", k, kv.ModRevision, res.Revision)
		}
	}
	wantNotFound(t, ctx, s, "o/c")

	// Else runs when a compare fails, with its own results.
	res, err = s.Txn(ctx, store.Txn{
		If:   []store.Compare{store.Exists("o/c")},
		Then: []store.Op{store.OpDelete("o/a")},
		Else: []store.Op{store.OpGet("o/b")},
	})
	if err != nil || res.Succeeded || len(res.Results) != 1 || string(res.Results[0].KV.Value) != "B" {
		t.Errorf("else branch = %+v, %v, want failure with o/b=B", res, err)
	}
	get(t, ctx, s, "o/a")

	// A put with an unknown lease fails the whole transaction.
	_, err = s.Txn(ctx, store.Txn{Then: []store.Op{store.OpPut("o/x", nil), store.OpPut("o/y", nil, store.WithLease(987654321))}})
	if !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("txn with an unknown lease = %v, want ErrLeaseNotFound", err)
	}
	wantNotFound(t, ctx, s, "o/x")
}

func testCompareAndSwap(t *testing.T, ctx context.Context, s store.Store) {
	rev, err := store.CompareAndSwap(ctx, s, "cas/k", 0, []byte("1"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = store.CompareAndSwap(ctx, s, "cas/k", 0, []byte("again"))
	if !errors.Is(err, store.ErrCompareFailed) || !strings.Contains(err.Error(), "cas/k") {
		t.Errorf("second create = %v, want ErrCompareFailed naming the key", err)
	}
	rev2, err := store.CompareAndSwap(ctx, s, "cas/k", rev, []byte("2"))
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	if _, err := store.CompareAndSwap(ctx, s, "cas/k", rev, []byte("stale")); !errors.Is(err, store.ErrCompareFailed) {
		t.Errorf("stale swap = %v, want ErrCompareFailed", err)
	}
	if kv := get(t, ctx, s, "cas/k"); string(kv.Value) != "2" || kv.ModRevision != rev2 || kv.Version != 2 {
		t.Errorf("after swaps: %+v, want 2 at %d version 2", kv, rev2)
	}
}

func testConcurrentUpdate(t *testing.T, ctx context.Context, s store.Store) {
	const workers, increments = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				_, err := store.Update(ctx, s, "n/counter", func(cur store.KeyValue, found bool) ([]byte, error) {
					n := 0
					if found {
						if _, err := fmt.Sscan(string(cur.Value), &n); err != nil {
							return nil, err
						}
					}
					return []byte(fmt.Sprint(n + 1)), nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	kv := get(t, ctx, s, "n/counter")
	if want := fmt.Sprint(workers * increments); string(kv.Value) != want || kv.Version != workers*increments {
		t.Errorf("counter = %s version %d, want %s and version %s (lost updates)", kv.Value, kv.Version, want, want)
	}
}

func testWatchFromNow(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "w/before", "x") // not reported: before the watch
	ch := watch(t, ctx, s, "w/")
	r1 := put(t, ctx, s, "w/a", "1")
	put(t, ctx, s, "x/a", "other prefix")
	r2 := put(t, ctx, s, "w/a", "2")
	r3, err := s.Delete(ctx, "w/a")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Txn(ctx, store.Txn{Then: []store.Op{
		store.OpPut("w/c", []byte("c")), store.OpPut("w/b", []byte("b")), store.OpDelete("w/before"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ev := wantEvent(t, ch, store.EventPut, "w/a", "1", r1)
	if ev.KV.Version != 1 || ev.KV.CreateRevision != r1 {
		t.Errorf("first put event %+v, want version 1 created at %d", ev.KV, r1)
	}
	ev = wantEvent(t, ch, store.EventPut, "w/a", "2", r2)
	if ev.KV.Version != 2 || ev.KV.CreateRevision != r1 {
		t.Errorf("second put event %+v, want version 2 created at %d", ev.KV, r1)
	}
	wantEvent(t, ch, store.EventDelete, "w/a", "", r3)
	// One transaction: one revision, events in the order of its operations.
	wantEvent(t, ch, store.EventPut, "w/c", "c", res.Revision)
	wantEvent(t, ch, store.EventPut, "w/b", "b", res.Revision)
	wantEvent(t, ch, store.EventDelete, "w/before", "", res.Revision)

	// A watch on the empty prefix sees every key.
	all := watch(t, ctx, s, "")
	r4 := put(t, ctx, s, "z", "z")
	wantEvent(t, all, store.EventPut, "z", "z", r4)
}

func testWatchFromPast(t *testing.T, ctx context.Context, s store.Store) {
	r1 := put(t, ctx, s, "p/a", "1")
	put(t, ctx, s, "q/a", "other")
	r2 := put(t, ctx, s, "p/b", "2")
	r3, err := s.Delete(ctx, "p/a")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		start int64
		want  []int64 // revisions of the replayed events
	}{
		{"from first write", r1, []int64{r1, r2, r3}},
		{"from second write", r2, []int64{r2, r3}},
		{"from last write", r3, []int64{r3}},
		{"from the next revision", r3 + 2, nil}, // r3+1 is the put to q/ below
	}
	chans := make([]<-chan store.Event, len(tests))
	for i, tc := range tests {
		chans[i] = watch(t, ctx, s, "p/", store.WithStartRevision(tc.start))
	}
	put(t, ctx, s, "q/b", "other")
	live := put(t, ctx, s, "p/live", "live")
	for i, tc := range tests {
		for _, rev := range tc.want {
			if ev := next(t, chans[i]); ev.Revision != rev || ev.Type == store.EventError {
				t.Fatalf("%s: replayed event %s %q rev %d err %v, want rev %d", tc.name, ev.Type, ev.KV.Key, ev.Revision, ev.Err, rev)
			}
		}
		// Then the live events follow.
		wantEvent(t, chans[i], store.EventPut, "p/live", "live", live)
	}
	// The replay of the deleted key carries its value and counters.
	ch := watch(t, ctx, s, "p/a", store.WithStartRevision(r1))
	wantEvent(t, ch, store.EventPut, "p/a", "1", r1)
	wantEvent(t, ch, store.EventDelete, "p/a", "", r3)
}

func testWatchCancel(t *testing.T, ctx context.Context, s store.Store) {
	wctx, cancel := context.WithCancel(ctx)
	ch := watch(t, wctx, s, "wc/")
	r := put(t, ctx, s, "wc/a", "1")
	wantEvent(t, ch, store.EventPut, "wc/a", "1", r)
	cancel()
	for _, ev := range waitClosed(t, ch) {
		if ev.Type != store.EventPut {
			t.Errorf("event after cancel: %s %v", ev.Type, ev.Err)
		}
	}
	// Other watches are unaffected.
	ch2 := watch(t, ctx, s, "wc/")
	r = put(t, ctx, s, "wc/b", "2")
	wantEvent(t, ch2, store.EventPut, "wc/b", "2", r)
}

func grant(t *testing.T, ctx context.Context, s store.Store, ttl time.Duration) store.Lease {
	t.Helper()
	l, err := s.Grant(ctx, ttl)
	if err != nil {
		t.Fatalf("Grant(%v): %v", ttl, err)
	}
	if l.ID == store.NoLease || l.TTL < ttl {
		t.Fatalf("Grant(%v) = %+v, want an ID and a TTL of at least %v", ttl, l, ttl)
	}
	return l
}

// waitDeleted waits for the delete event of key on ch, skipping other
// events, and returns the keys deleted before it.
func waitDeleted(t *testing.T, ch <-chan store.Event, key string) []string {
	t.Helper()
	var deleted []string
	for {
		ev := next(t, ch)
		switch {
		case ev.Type == store.EventError:
			t.Fatalf("watch error while waiting for the delete of %q: %v", key, ev.Err)
		case ev.Type == store.EventDelete && ev.KV.Key == key:
			return deleted
		case ev.Type == store.EventDelete:
			deleted = append(deleted, ev.KV.Key)
		}
	}
}

func testLeaseExpiry(t *testing.T, ctx context.Context, s store.Store) {
	ch := watch(t, ctx, s, "l/")
	l := grant(t, ctx, s, time.Second)
	put(t, ctx, s, "l/alive", "1", store.WithLease(l.ID))
	put(t, ctx, s, "l/plain", "1")
	if kv := get(t, ctx, s, "l/alive"); kv.Lease != l.ID {
		t.Errorf("key lease = %d, want %d", kv.Lease, l.ID)
	}
	waitDeleted(t, ch, "l/alive")
	wantNotFound(t, ctx, s, "l/alive")
	get(t, ctx, s, "l/plain")
	if _, err := s.KeepAlive(ctx, l.ID); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("KeepAlive of an expired lease = %v, want ErrLeaseNotFound", err)
	}
	if _, err := s.Put(ctx, "l/late", nil, store.WithLease(l.ID)); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("Put with an expired lease = %v, want ErrLeaseNotFound", err)
	}
	wantNotFound(t, ctx, s, "l/late")
}

func testLeaseKeepAlive(t *testing.T, ctx context.Context, s store.Store) {
	if _, err := s.KeepAlive(ctx, 987654321); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("KeepAlive of an unknown lease = %v, want ErrLeaseNotFound", err)
	}
	ch := watch(t, ctx, s, "k/")
	short := grant(t, ctx, s, time.Second)
	kept := grant(t, ctx, s, 2*time.Second)
	put(t, ctx, s, "k/short", "", store.WithLease(short.ID))
	put(t, ctx, s, "k/kept", "", store.WithLease(kept.ID))
	ttl, err := s.KeepAlive(ctx, kept.ID)
	if err != nil || ttl < 2*time.Second {
		t.Fatalf("KeepAlive = %v, %v, want a TTL of at least 2s", ttl, err)
	}
	kctx, stop := context.WithCancel(ctx)
	loopErr := make(chan error, 1)
	go func() { loopErr <- store.KeepAliveLoop(kctx, s, kept) }()
	defer func() {
		stop()
		if err := <-loopErr; !errors.Is(err, context.Canceled) {
			t.Errorf("KeepAliveLoop = %v, want context.Canceled", err)
		}
		// Leave no lease behind to delete keys during later tests (an engine
		// may share one revision counter between the suite's stores).
		if err := s.Revoke(ctx, kept.ID); err != nil {
			t.Errorf("Revoke: %v", err)
		}
	}()

	// Leases expire in deadline order. Without keep-alives, "kept" (2s)
	// would expire before "later", granted after "short" (1s) expired with
	// a TTL of 2s: seeing later's delete without kept's proves the
	// keep-alives worked.
	if gone := waitDeleted(t, ch, "k/short"); len(gone) > 0 {
		t.Fatalf("deleted before k/short: %q", gone)
	}
	later := grant(t, ctx, s, 2*time.Second)
	put(t, ctx, s, "k/later", "", store.WithLease(later.ID))
	if gone := waitDeleted(t, ch, "k/later"); len(gone) > 0 {
		t.Fatalf("deleted before k/later: %q (keep-alive failed)", gone)
	}
	get(t, ctx, s, "k/kept")
}

func testLeaseRevoke(t *testing.T, ctx context.Context, s store.Store) {
	l := grant(t, ctx, s, time.Minute)
	put(t, ctx, s, "rv/a", "", store.WithLease(l.ID))
	put(t, ctx, s, "rv/b", "", store.WithLease(l.ID))
	put(t, ctx, s, "rv/detached", "", store.WithLease(l.ID))
	put(t, ctx, s, "rv/detached", "") // a put without the lease detaches the key
	if kv := get(t, ctx, s, "rv/detached"); kv.Lease != store.NoLease {
		t.Errorf("detached key still has lease %d", kv.Lease)
	}
	ch := watch(t, ctx, s, "rv/")
	before := revision(t, ctx, s)
	if err := s.Revoke(ctx, l.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	// Both keys go in one revision.
	ev1, ev2 := next(t, ch), next(t, ch)
	got := []string{ev1.KV.Key, ev2.KV.Key}
	slices.Sort(got)
	if ev1.Type != store.EventDelete || ev2.Type != store.EventDelete || !slices.Equal(got, []string{"rv/a", "rv/b"}) ||
		ev1.Revision != before+1 || ev2.Revision != before+1 {
		t.Errorf("revoke events = %s %q@%d, %s %q@%d, want deletes of rv/a and rv/b at %d",
			ev1.Type, ev1.KV.Key, ev1.Revision, ev2.Type, ev2.KV.Key, ev2.Revision, before+1)
	}
	wantNotFound(t, ctx, s, "rv/a")
	wantNotFound(t, ctx, s, "rv/b")
	get(t, ctx, s, "rv/detached")
	if err := s.Revoke(ctx, l.ID); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("second Revoke = %v, want ErrLeaseNotFound", err)
	}
	if _, err := s.KeepAlive(ctx, l.ID); !errors.Is(err, store.ErrLeaseNotFound) {
		t.Errorf("KeepAlive of a revoked lease = %v, want ErrLeaseNotFound", err)
	}
	// Revoking a lease without keys changes nothing else.
	empty := grant(t, ctx, s, time.Minute)
	rev := revision(t, ctx, s)
	if err := s.Revoke(ctx, empty.ID); err != nil {
		t.Fatalf("Revoke of a lease without keys: %v", err)
	}
	if got := revision(t, ctx, s); got != rev {
		t.Errorf("revoking a lease without keys moved the revision from %d to %d", rev, got)
	}
}

func testSnapshot(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "snap/a", "1")
	var buf bytes.Buffer
	if err := s.Snapshot(ctx, &buf); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if buf.Len() == 0 {
		t.Error("Snapshot wrote nothing")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Snapshot(cctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot with a canceled context = %v, want context.Canceled", err)
	}
}

func testClose(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "cl/a", "1")
	l := grant(t, ctx, s, time.Minute)
	ch := watch(t, ctx, s, "cl/")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, ev := range waitClosed(t, ch) {
		if ev.Type != store.EventError || !errors.Is(ev.Err, store.ErrClosed) {
			t.Errorf("event on close: %s %v, want only an ErrClosed error", ev.Type, ev.Err)
		}
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "cl/a"); return err }},
		{"Put", func() error { _, err := s.Put(ctx, "cl/a", nil); return err }},
		{"Delete", func() error { _, err := s.Delete(ctx, "cl/a"); return err }},
		{"Range", func() error { _, err := s.Range(ctx, "cl/"); return err }},
		{"Txn", func() error { _, err := s.Txn(ctx, store.Txn{Then: []store.Op{store.OpGet("cl/a")}}); return err }},
		{"Watch", func() error { _, err := s.Watch(ctx, "cl/"); return err }},
		{"Grant", func() error { _, err := s.Grant(ctx, time.Minute); return err }},
		{"KeepAlive", func() error { _, err := s.KeepAlive(ctx, l.ID); return err }},
		{"Revoke", func() error { return s.Revoke(ctx, l.ID) }},
		{"Revision", func() error { _, err := s.Revision(ctx); return err }},
		{"Snapshot", func() error { return s.Snapshot(ctx, &bytes.Buffer{}) }},
		{"Close", s.Close},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, err)
		}
	}
}

// Bench runs the store benchmarks as sub-benchmarks of b, each on a store
// from open, and reports ops/s:
//
//   - Put: sequential puts of 128-byte values over 1024 keys;
//   - PutParallel: the same from GOMAXPROCS goroutines;
//   - CAS: sequential compare-and-swaps of one key on its mod revision,
//     each expecting the previous one's revision (never failing);
//   - UpdateContended: store.Update increments of one counter from
//     GOMAXPROCS goroutines (retries on conflicts count as one op).
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	value := bytes.Repeat([]byte("v"), 128)
	ops := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}
	b.Run("Put", func(b *testing.B) {
		s, ctx := open(b), b.Context()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Put(ctx, fmt.Sprintf("bench/put/%d", i%1024), value); err != nil {
				b.Fatal(err)
			}
		}
		ops(b)
	})
	b.Run("PutParallel", func(b *testing.B) {
		s, ctx := open(b), b.Context()
		var n sync.Mutex
		next := 0
		b.RunParallel(func(pb *testing.PB) {
			n.Lock()
			id := next
			next++
			n.Unlock()
			for i := 0; pb.Next(); i++ {
				if _, err := s.Put(ctx, fmt.Sprintf("bench/pp/%d/%d", id, i%1024), value); err != nil {
					b.Error(err)
					return
				}
			}
		})
		ops(b)
	})
	b.Run("CAS", func(b *testing.B) {
		s, ctx := open(b), b.Context()
		rev, err := store.CompareAndSwap(ctx, s, "bench/cas", 0, value)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if rev, err = store.CompareAndSwap(ctx, s, "bench/cas", rev, value); err != nil {
				b.Fatal(err)
			}
		}
		ops(b)
	})
	b.Run("UpdateContended", func(b *testing.B) {
		s, ctx := open(b), b.Context()
		incr := func(cur store.KeyValue, found bool) ([]byte, error) {
			n := 0
			if found {
				if _, err := fmt.Sscan(string(cur.Value), &n); err != nil {
					return nil, err
				}
			}
			return []byte(fmt.Sprint(n + 1)), nil
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := store.Update(ctx, s, "bench/counter", incr); err != nil {
					b.Error(err)
					return
				}
			}
		})
		ops(b)
	})
}
