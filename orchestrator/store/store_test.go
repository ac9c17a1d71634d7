package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

func TestCompareHolds(t *testing.T) {
	kv := store.KeyValue{Key: "k", Value: []byte("m"), CreateRevision: 3, ModRevision: 7, Version: 2}
	tests := []struct {
		c     store.Compare
		found bool
		want  bool
	}{
		{store.CompareValue("k", store.Equal, []byte("m")), true, true},
		{store.CompareValue("k", store.NotEqual, []byte("m")), true, false},
		{store.CompareValue("k", store.Less, []byte("n")), true, true},
		{store.CompareValue("k", store.Greater, []byte("l")), true, true},
		{store.CompareValue("k", store.Equal, nil), false, false},
		{store.CompareValue("k", store.NotEqual, []byte("x")), false, false},
		{store.CompareVersion("k", store.Equal, 2), true, true},
		{store.CompareVersion("k", store.Equal, 0), false, true},
		{store.CompareModRevision("k", store.Greater, 6), true, true},
		{store.CompareModRevision("k", store.Less, 7), true, false},
		{store.CompareCreateRevision("k", store.Equal, 3), true, true},
		{store.CompareCreateRevision("k", store.NotEqual, 0), false, false},
		{store.Exists("k"), true, true},
		{store.Exists("k"), false, false},
		{store.Missing("k"), false, true},
		{store.Missing("k"), true, false},
		{store.Compare{Key: "k", Target: 0, Op: store.Equal}, true, false},
		{store.Compare{Key: "k", Target: store.TargetVersion, Op: 9, Number: 2}, true, false},
	}
	for _, tc := range tests {
		if got := tc.c.Holds(kv, tc.found); got != tc.want {
			t.Errorf("%v on found=%v: %v, want %v", tc.c, tc.found, got, tc.want)
		}
	}
}

func TestTxnValidate(t *testing.T) {
	many := make([]store.Compare, store.MaxTxnOps+1)
	for i := range many {
		many[i] = store.Exists("k")
	}
	tests := []struct {
		name string
		txn  store.Txn
		ok   bool
	}{
		{"empty", store.Txn{}, true},
		{"typical", store.Txn{If: []store.Compare{store.Missing("a")}, Then: []store.Op{store.OpPut("a", nil)}, Else: []store.Op{store.OpGet("a")}}, true},
		{"get and put of one key", store.Txn{Then: []store.Op{store.OpGet("a"), store.OpPut("a", nil), store.OpGet("a")}}, true},
		{"same key in both branches", store.Txn{Then: []store.Op{store.OpPut("a", nil)}, Else: []store.Op{store.OpDelete("a")}}, true},
		{"put twice", store.Txn{Then: []store.Op{store.OpPut("a", nil), store.OpPut("a", nil)}}, false},
		{"put and delete", store.Txn{Else: []store.Op{store.OpPut("a", nil), store.OpDelete("a")}}, false},
		{"empty compare key", store.Txn{If: []store.Compare{store.Exists("")}}, false},
		{"bad target", store.Txn{If: []store.Compare{{Key: "a", Target: 7, Op: store.Equal}}}, false},
		{"bad op kind", store.Txn{Then: []store.Op{{Kind: 0, Key: "a"}}}, false},
		{"lease on delete", store.Txn{Then: []store.Op{{Kind: store.KindDelete, Key: "a", Lease: 3}}}, false},
		{"negative lease", store.Txn{Then: []store.Op{store.OpPut("a", nil, store.WithLease(-2))}}, false},
		{"too many compares", store.Txn{If: many}, false},
		{"long key", store.Txn{Then: []store.Op{store.OpGet(strings.Repeat("k", store.MaxKeySize+1))}}, false},
	}
	for _, tc := range tests {
		err := tc.txn.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("%s: Validate = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{store.EventPut.String(), "put"},
		{store.EventDelete.String(), "delete"},
		{store.EventError.String(), "error"},
		{store.EventType(9).String(), "EventType(9)"},
		{store.KindGet.String(), "get"},
		{store.OpKind(0).String(), "OpKind(0)"},
		{store.CompareModRevision("a/b", store.Equal, 7).String(), `mod_revision("a/b") = 7`},
		{store.CompareValue("a", store.NotEqual, []byte("x")).String(), `value("a") != "x"`},
		{store.CompareOp(0).String(), "CompareOp(0)"},
		{store.CompareTarget(0).String(), "CompareTarget(0)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestOptions(t *testing.T) {
	if c := store.NewPutConfig(nil, store.WithLease(5)); c.Lease != 5 || c.Validate() != nil {
		t.Errorf("put config %+v", c)
	}
	if c := store.NewRangeConfig(store.WithLimit(3), nil, store.WithStart("b")); c.Limit != 3 || c.Start != "b" || c.Validate() != nil {
		t.Errorf("range config %+v", c)
	}
	if c := store.NewWatchConfig(store.WithStartRevision(9), nil); c.StartRevision != 9 || c.Validate() != nil {
		t.Errorf("watch config %+v", c)
	}
	if err := store.ValidTTL(time.Nanosecond); err != nil {
		t.Errorf("ValidTTL(1ns) = %v", err)
	}
}

func openBolt(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestHelperErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := openBolt(t)
	boom := errors.New("boom")
	if _, err := store.Update(ctx, s, "k", func(store.KeyValue, bool) ([]byte, error) { return nil, boom }); err != boom {
		t.Errorf("Update with a failing function = %v, want it as is", err)
	}
	if _, err := store.Update(ctx, nil, "k", nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Update(nil) = %v", err)
	}
	if _, err := store.CompareAndSwap(ctx, nil, "k", 0, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CompareAndSwap(nil) = %v", err)
	}
	if _, err := store.Update(ctx, s, "", func(store.KeyValue, bool) ([]byte, error) { return nil, nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Update of the empty key = %v", err)
	}
	// Update keeps a lease given as an option.
	l, err := s.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := store.Update(ctx, s, "leased", func(store.KeyValue, bool) ([]byte, error) { return []byte("v"), nil }, store.WithLease(l.ID))
	if err != nil || kv.Lease != l.ID || kv.Version != 1 {
		t.Errorf("Update with a lease = %+v, %v", kv, err)
	}
	if got, err := s.Get(ctx, "leased"); err != nil || got.ModRevision != kv.ModRevision || got.CreateRevision != kv.CreateRevision || got.Lease != l.ID {
		t.Errorf("stored %+v, %v; Update returned %+v", got, err, kv)
	}
}

func TestKeepAliveLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := openBolt(t)
	l, err := s.Grant(ctx, 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- store.KeepAliveLoop(ctx, s, l) }()
	// The 30ms lease may also expire first on a loaded machine: either way
	// the loop must end with ErrLeaseNotFound.
	if err := s.Revoke(ctx, l.ID); err != nil && !errors.Is(err, store.ErrLeaseNotFound) {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrLeaseNotFound) {
			t.Errorf("KeepAliveLoop after revoke = %v, want ErrLeaseNotFound", err)
		}
	case <-ctx.Done():
		t.Fatal("KeepAliveLoop did not notice the revoke")
	}
	if err := store.KeepAliveLoop(ctx, s, store.Lease{ID: 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("KeepAliveLoop with no TTL = %v", err)
	}
	if err := store.KeepAliveLoop(ctx, nil, l); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("KeepAliveLoop(nil) = %v", err)
	}
}
