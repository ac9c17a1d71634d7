package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
	"github.com/p4fabric/fabric/orchestrator/store/storetest"
)

const timeout = 30 * time.Second

// endpoints are those of the one server every test of the package shares;
// each store gets its own namespace of it.
var endpoints []string

// fsync makes the shared server fsync like a production member, for
// benchmarks comparable with the bolt engine's (which always fsyncs).
var fsync = flag.Bool("fsync", false, "run the shared embedded etcd server with fsync")

func TestMain(m *testing.M) {
	flag.Parse()
	var opts []etcdtest.Option
	if *fsync {
		opts = append(opts, etcdtest.WithFsync())
	}
	ctx, cancel := context.WithTimeout(context.Background(), etcdtest.DefaultStartTimeout)
	srv, err := etcdtest.New(ctx, opts...)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	endpoints = srv.Endpoints()
	code := m.Run()
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

var namespaces atomic.Int64

// open returns a store on a new namespace of the shared server.
func open(t testing.TB, opts ...etcd.Option) *etcd.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ns := fmt.Sprintf("/test/%d/", namespaces.Add(1))
	s, err := etcd.New(ctx, endpoints, append([]etcd.Option{etcd.WithNamespace(ns)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
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
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b) })
}

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

func TestNamespacesAreSeparate(t *testing.T) {
	ctx := testCtx(t)
	a, b := open(t), open(t)
	if _, err := a.Put(ctx, "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("b sees a's key: %v", err)
	}
	res, err := a.Range(ctx, "")
	if err != nil || len(res.KVs) != 1 || res.KVs[0].Key != "k" {
		t.Errorf("a.Range = %+v, %v; want only k, without the namespace", res, err)
	}
}

func TestWatchCompacted(t *testing.T) {
	ctx := testCtx(t)
	s := open(t)
	first, err := s.Put(ctx, "k", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.Put(ctx, "k", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "k", store.WithStartRevision(first))
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != store.EventError || !errors.Is(ev.Err, store.ErrCompacted) {
		t.Fatalf("event %s %v, want an ErrCompacted error", ev.Type, ev.Err)
	}
	if _, ok := <-ch; ok {
		t.Error("channel open after the error event")
	}
}

func TestNewErrors(t *testing.T) {
	ctx := testCtx(t)
	if _, err := etcd.New(ctx, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New without endpoints = %v", err)
	}
	// Nothing listens on a port just released.
	start := time.Now()
	_, err := etcd.New(ctx, []string{"127.0.0.1:1"}, etcd.WithDialTimeout(300*time.Millisecond))
	if err == nil {
		t.Fatal("New to a closed port succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("New took %v, want about the dial timeout", d)
	}
	if _, err := etcd.NewFromClient(nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("NewFromClient(nil) = %v", err)
	}
}

func TestNewFromClientLeavesClientOpen(t *testing.T) {
	ctx := testCtx(t)
	owner := open(t)
	s, err := etcd.NewFromClient(owner.Client(), etcd.WithNamespace("/shared/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Client().Get(ctx, "/shared/k"); err != nil {
		t.Errorf("client closed with the store: %v", err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	ctx := testCtx(t)
	s := open(t, etcd.WithNamespace("/snap/"))
	r1, err := s.Put(ctx, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Put(ctx, "a", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Grant(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "leased", []byte("x"), store.WithLease(l.ID)); err != nil {
		t.Fatal(err)
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if err := s.Snapshot(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "after", nil); err != nil {
		t.Fatal(err)
	}

	srv := etcdtest.Start(t, etcdtest.WithSnapshot(&snap))
	r, err := etcd.New(ctx, srv.Endpoints(), etcd.WithNamespace("/snap/"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.Revision(ctx); err != nil || got < rev {
		t.Errorf("restored revision %d, %v; want at least %d", got, err, rev)
	}
	kv, err := r.Get(ctx, "a")
	if err != nil || string(kv.Value) != "2" || kv.CreateRevision != r1 || kv.ModRevision != r2 || kv.Version != 2 {
		t.Errorf("restored a = %+v, %v", kv, err)
	}
	if _, err := r.Get(ctx, "after"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key put after the snapshot: %v", err)
	}
	// The lease came back with its key: revoking it deletes the key.
	if kv, err := r.Get(ctx, "leased"); err != nil || kv.Lease != l.ID {
		t.Fatalf("restored leased = %+v, %v", kv, err)
	}
	if err := r.Revoke(ctx, l.ID); err != nil {
		t.Errorf("Revoke of the restored lease: %v", err)
	}
	if _, err := r.Get(ctx, "leased"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after revoke: %v", err)
	}
}

func TestRestoreErrors(t *testing.T) {
	ctx := testCtx(t)
	notEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(notEmpty, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := etcd.RestoreConfig{Name: "default", PeerURLs: []string{"http://127.0.0.1:2380"}}
	tests := []struct {
		name string
		dir  string
		snap []byte
		cfg  etcd.RestoreConfig
		want error // nil: any error
	}{
		{"directory not empty", notEmpty, []byte("x"), cfg, fs.ErrExist},
		{"no name", "", []byte("x"), etcd.RestoreConfig{PeerURLs: cfg.PeerURLs}, store.ErrInvalid},
		{"garbage", "", bytes.Repeat([]byte("x"), 4096), cfg, nil},
		{"bad peer URL", "", bytes.Repeat([]byte("x"), 4096), etcd.RestoreConfig{Name: "n", PeerURLs: []string{"::"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "data")
			}
			err := etcd.Restore(ctx, bytes.NewReader(tc.snap), dir, tc.cfg)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Restore = %v, want %v", err, tc.want)
			}
			if tc.dir == "" {
				if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("failed restore left %s behind (%v)", dir, err)
				}
			}
		})
	}
}
