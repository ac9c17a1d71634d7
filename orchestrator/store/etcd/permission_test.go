package etcd_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
)

// TestPermissionDenied: with etcd auth on, a request the user's role does
// not allow (keys outside its prefix, a snapshot, which etcd gives only to
// root) fails with store.ErrPermission, so that callers can tell it from
// a store that is down.
func TestPermissionDenied(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := testCtx(t)
	admin, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for i, step := range []func() error{
		func() error { _, err := admin.RoleAdd(ctx, "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "fabric"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "fabric", "/chassis/", clientv3.GetPrefixRangeEnd("/chassis/"),
				clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := admin.UserAdd(ctx, "fabric", "fabric-pw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "fabric", "fabric"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enabling auth, step %d: %v", i+1, err)
		}
	}
	own, err := etcd.New(ctx, srv.Endpoints(), etcd.WithNamespace("/chassis/"), etcd.WithCredentials("fabric", "fabric-pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if _, err := own.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("put in the role's prefix: %v", err)
	}
	if _, err := etcd.New(ctx, srv.Endpoints(), etcd.WithNamespace("/other/"), etcd.WithCredentials("fabric", "fabric-pw")); !errors.Is(err, store.ErrPermission) {
		t.Errorf("a store outside the role's prefix = %v, want ErrPermission", err)
	}
	var buf bytes.Buffer
	if err := own.Snapshot(ctx, &buf); !errors.Is(err, store.ErrPermission) {
		t.Errorf("snapshot without the root role = %v, want ErrPermission", err)
	}
}
