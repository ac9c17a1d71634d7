package etcdtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
)

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := etcdtest.New(ctx) // in a test: srv := etcdtest.Start(t)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	s, err := etcd.New(ctx, srv.Endpoints())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	l, err := s.Grant(ctx, 500*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("lease TTL:", l.TTL) // rounded up to the cluster's minimum
	// Output: lease TTL: 1s
}

// A server started on the data directory of a stopped one has its data.
func TestRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv := etcdtest.Start(t, etcdtest.WithDataDir(dir), etcdtest.WithFsync())
	s, err := etcd.New(ctx, srv.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Put(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}

	srv2 := etcdtest.Start(t, etcdtest.WithDataDir(dir))
	if srv2.DataDir() != dir || srv2.Endpoints()[0] == "" || srv2.PeerURLs()[0] == "" {
		t.Errorf("server: dir %s endpoints %v peers %v", srv2.DataDir(), srv2.Endpoints(), srv2.PeerURLs())
	}
	s2, err := etcd.New(ctx, srv2.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	kv, err := s2.Get(ctx, "k")
	if err != nil || string(kv.Value) != "v" || kv.ModRevision != rev {
		t.Errorf("after restart Get = %+v, %v; want v at %d", kv, err, rev)
	}
}

func TestNewFails(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := etcdtest.New(ctx); err == nil {
		t.Error("New with a canceled context succeeded")
	}
	var nilCtx context.Context
	if _, err := etcdtest.New(nilCtx); err == nil {
		t.Error("New with a nil context succeeded")
	}
}
