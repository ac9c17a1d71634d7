package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store"
)

func TestAllocationStartsAtOne(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		for i, serial := range []string{"SN-A", "SN-B", "SN/with space"} {
			b := register(t, ctx, inv, serial, fmt.Sprintf("10.0.0.%d:9559", i+1))
			if b.Module != uint32(i+1) || b.Serial != serial {
				t.Fatalf("register %s: %v, want module %d", serial, b, i+1)
			}
			got, err := inv.Get(ctx, serial)
			if err != nil || got.Module != b.Module || got.Identity.Serial != serial || got.Spec.Role != inventory.RoleForwarder {
				t.Fatalf("Get(%s) = %+v, %v", serial, got, err)
			}
			byMod, err := inv.ByModule(ctx, b.Module)
			if err != nil || byMod.Serial != serial {
				t.Fatalf("ByModule(%d) = %v, %v", b.Module, byMod, err)
			}
		}
		boxes, rev, err := inv.List(ctx)
		if err != nil || len(boxes) != 3 || rev == 0 {
			t.Fatalf("List = %v, %d, %v", boxes, rev, err)
		}
		for i, b := range boxes {
			if b.Module != uint32(i+1) {
				t.Errorf("List[%d] = %v, want module %d", i, b, i+1)
			}
		}
		if _, err := inv.Get(ctx, "SN-none"); !errors.Is(err, inventory.ErrUnknownBox) {
			t.Errorf("Get unknown: %v, want ErrUnknownBox", err)
		}
		for _, m := range []uint32{0, 4} {
			if _, err := inv.ByModule(ctx, m); !errors.Is(err, inventory.ErrUnknownModule) {
				t.Errorf("ByModule(%d): %v, want ErrUnknownModule", m, err)
			}
		}
	})
}

func TestStableAcrossRestart(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		s := e.open(t)
		inv := newInventory(t, e, s)
		register(t, ctx, inv, "SN-A", "10.0.0.1:9559")
		register(t, ctx, inv, "SN-B", "10.0.0.2:9559")

		s = e.reopen(t, s) // the orchestrator restarts
		inv = newInventory(t, e, s)
		for serial, want := range map[string]uint32{"SN-A": 1, "SN-B": 2} {
			b, err := inv.Get(ctx, serial)
			if err != nil || b.Module != want {
				t.Fatalf("after restart Get(%s) = %v, %v; want module %d", serial, b, err, want)
			}
		}
		if b := register(t, ctx, inv, "SN-B", "10.0.0.2:9559"); b.Module != 2 {
			t.Fatalf("SN-B reconnected as %v, want module 2", b)
		}
		if b := register(t, ctx, inv, "SN-C", "10.0.0.3:9559"); b.Module != 3 {
			t.Fatalf("SN-C registered as %v, want module 3", b)
		}
	})
}

func TestReRegisterNewAddressKeepsModule(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Second)
			return now
		}
		inv := newInventory(t, e, e.open(t), inventory.WithClock(clock))
		first := register(t, ctx, inv, "SN-A", "10.0.0.1:9559")
		register(t, ctx, inv, "SN-B", "10.0.0.2:9559")
		moved := register(t, ctx, inv, "SN-A", "10.9.9.9:9559")
		if moved.Module != first.Module || moved.Spec.Address != "10.9.9.9:9559" {
			t.Fatalf("moved box = %+v, want module %d at the new address", moved, first.Module)
		}
		got, err := inv.Get(ctx, "SN-A")
		if err != nil {
			t.Fatal(err)
		}
		if got.Module != 1 || got.Spec.Address != "10.9.9.9:9559" || !got.Registered.Equal(first.Registered) || !got.Updated.After(first.Updated) {
			t.Fatalf("Get after move = %+v (first %+v)", got, first)
		}
		// The same box asking for another module is refused.
		sp := spec("SN-A", "10.9.9.9:9559")
		sp.Module = 5
		if _, err := inv.RegisterDevice(ctx, sp, device("SN-A", 4)); !errors.Is(err, inventory.ErrModuleMismatch) {
			t.Fatalf("ask for another module: %v, want ErrModuleMismatch", err)
		}
	})
}

func TestDecommissionAndReuse(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		for _, s := range []string{"SN-A", "SN-B", "SN-C"} {
			register(t, ctx, inv, s, "10.0.0.1:9559")
		}
		old, err := inv.Decommission(ctx, "SN-B")
		if err != nil || old.Module != 2 {
			t.Fatalf("Decommission(SN-B) = %v, %v", old, err)
		}
		if _, err := inv.Get(ctx, "SN-B"); !errors.Is(err, inventory.ErrUnknownBox) {
			t.Fatalf("Get decommissioned: %v, want ErrUnknownBox", err)
		}
		if _, err := inv.ByModule(ctx, 2); !errors.Is(err, inventory.ErrUnknownModule) {
			t.Fatalf("ByModule(2) decommissioned: %v, want ErrUnknownModule", err)
		}
		if _, err := inv.Decommission(ctx, "SN-B"); !errors.Is(err, inventory.ErrUnknownBox) {
			t.Fatalf("Decommission twice: %v, want ErrUnknownBox", err)
		}
		for _, c := range []struct {
			serial string
			want   uint32
		}{{"SN-D", 2}, {"SN-E", 4}, {"SN-B", 5}} { // lowest free first; SN-B comes back as a new box
			if b := register(t, ctx, inv, c.serial, "10.0.0.1:9559"); b.Module != c.want {
				t.Fatalf("register %s: %v, want module %d", c.serial, b, c.want)
			}
		}
	})
}

func TestRequestedModule(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t), inventory.WithMaxModule(8))
		sp := spec("SN-A", "10.0.0.1:9559")
		sp.Module = 7
		b, err := inv.RegisterDevice(ctx, sp, device("SN-A", 1))
		if err != nil || b.Module != 7 {
			t.Fatalf("ask for module 7: %v, %v", b, err)
		}
		sp = spec("SN-B", "10.0.0.2:9559")
		sp.Module = 7
		if _, err := inv.RegisterDevice(ctx, sp, device("SN-B", 1)); !errors.Is(err, inventory.ErrModuleTaken) {
			t.Fatalf("ask for a taken module: %v, want ErrModuleTaken", err)
		}
		for i, want := range []uint32{1, 2, 3, 4, 5, 6, 8} {
			if b := register(t, ctx, inv, fmt.Sprintf("SN-%d", i), "10.0.0.3:9559"); b.Module != want {
				t.Fatalf("box %d: %v, want module %d", i, b, want)
			}
		}
		if _, err := inv.RegisterDevice(ctx, spec("SN-X", "10.0.0.4:9559"), device("SN-X", 1)); !errors.Is(err, inventory.ErrNoFreeModule) {
			t.Fatalf("ninth box: %v, want ErrNoFreeModule", err)
		}
	})
}

// TestConcurrentAllocation is the issue's "two orchestrators allocating at
// once": two inventories, each on its own store client (on etcd, two
// clients of one server; on bolt, one store shared), register many serials
// from many goroutines, every serial through both. Every serial must end
// with one module, the same through both, and no module with two serials.
func TestConcurrentAllocation(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		s1 := e.open(t)
		s2 := e.connect(t, s1)
		if s2 == nil {
			s2 = s1
		}
		retries := &countHandler{msg: "inventory: conflict, retrying"}
		log := slog.New(retries)
		invs := []*inventory.Inventory{
			newInventory(t, e, s1, inventory.WithLogger(log)),
			newInventory(t, e, s2, inventory.WithLogger(log)),
		}
		const serials, workers = 40, 8
		type result struct {
			serial string
			module uint32
		}
		results := make(chan result, 2*serials)
		errs := make(chan error, 2*serials)
		var wg sync.WaitGroup
		for w := range workers {
			for k, inv := range invs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < serials; i += workers {
						// The two inventories go through the serials in opposite orders.
						n := i
						if k == 1 {
							n = serials - 1 - i
						}
						serial := fmt.Sprintf("SN-%03d", n)
						b, err := inv.RegisterDevice(ctx, spec(serial, fmt.Sprintf("10.%d.0.1:9559", k)), device(serial, 2))
						if err != nil {
							errs <- err
							return
						}
						results <- result{serial, b.Module}
					}
				}()
			}
		}
		wg.Wait()
		close(results)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		bySerial := map[string]uint32{}
		for r := range results {
			if m, ok := bySerial[r.serial]; ok && m != r.module {
				t.Errorf("serial %s got module %d and module %d", r.serial, m, r.module)
			}
			bySerial[r.serial] = r.module
		}
		t.Logf("%d registrations retried after a conflict", retries.n.Load())
		bySerialModule := map[uint32]string{}
		for s, m := range bySerial {
			if other, dup := bySerialModule[m]; dup {
				t.Errorf("module %d given to %s and %s", m, s, other)
			}
			bySerialModule[m] = s
		}
		boxes, _, err := invs[0].List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) != serials {
			t.Fatalf("%d boxes, want %d", len(boxes), serials)
		}
		for i, b := range boxes { // lowest free first: exactly 1..serials
			if b.Module != uint32(i+1) || bySerial[b.Serial] != b.Module {
				t.Errorf("box %d: %v (registered as module %d)", i, b, bySerial[b.Serial])
			}
		}
	})
}

// countHandler counts the log records with one message.
type countHandler struct {
	msg string
	n   atomic.Int64
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func TestWatchEndsWithContext(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		wctx, cancel := context.WithCancel(ctx)
		events, err := inv.Watch(wctx)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		for {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-ctx.Done():
				t.Fatal("watch channel not closed after its context ended")
			}
		}
	})
}

func TestWatch(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		register(t, ctx, inv, "SN-0", "10.0.0.1:9559")
		_, rev, err := inv.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events, err := inv.Watch(ctx, inventory.WatchFrom(rev+1))
		if err != nil {
			t.Fatal(err)
		}
		register(t, ctx, inv, "SN-A", "10.0.0.1:9559")
		register(t, ctx, inv, "SN-A", "10.0.0.2:9559")
		if _, err := inv.Decommission(ctx, "SN-A"); err != nil {
			t.Fatal(err)
		}
		want := []struct {
			typ    inventory.EventType
			module uint32
			addr   string
		}{
			{inventory.EventRegistered, 2, "10.0.0.1:9559"},
			{inventory.EventUpdated, 2, "10.0.0.2:9559"},
			{inventory.EventDecommissioned, 0, ""},
		}
		for i, w := range want {
			select {
			case ev := <-events:
				if ev.Type != w.typ || ev.Box.Serial != "SN-A" || ev.Box.Module != w.module || ev.Box.Spec.Address != w.addr || ev.Revision == 0 {
					t.Fatalf("event %d = %v %+v, want %v module %d", i, ev.Type, ev.Box, w.typ, w.module)
				}
			case <-ctx.Done():
				t.Fatalf("event %d: %v", i, ctx.Err())
			}
		}
	})
}

func TestStoreChangedBehindInventory(t *testing.T) {
	ctx := testCtx(t)
	e := boltEngine
	s := e.open(t)
	inv := newInventory(t, e, s)
	register(t, ctx, inv, "SN-A", "10.0.0.1:9559")
	// Someone rebinds module 1 by hand: the inventory must say so, not spin.
	if _, err := s.Put(ctx, inv.ModuleKey(1), []byte("SN-Z")); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.RegisterDevice(ctx, spec("SN-A", "10.0.0.2:9559"), device("SN-A", 1)); err == nil {
		t.Fatal("register over a broken binding succeeded")
	}
	if _, err := inv.Decommission(ctx, "SN-A"); err == nil {
		t.Fatal("decommission over a broken binding succeeded")
	}
}

func TestInvalidArguments(t *testing.T) {
	ctx := testCtx(t)
	if _, err := inventory.New(nil, nil); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("New(nil store): %v", err)
	}
	inv := newInventory(t, boltEngine, boltEngine.open(t))
	for _, c := range []struct {
		name string
		spec inventory.BoxSpec
		dev  fakeDevice
		want error
	}{
		{"no name", inventory.BoxSpec{Driver: "x", Address: "a", Role: inventory.RoleFabric}, device("S", 1), inventory.ErrInvalid},
		{"no driver", inventory.BoxSpec{Name: "n", Address: "a", Role: inventory.RoleFabric}, device("S", 1), inventory.ErrInvalid},
		{"bad role", inventory.BoxSpec{Name: "n", Driver: "x", Address: "a", Role: "spine"}, device("S", 1), inventory.ErrInvalid},
		{"no address", inventory.BoxSpec{Name: "n", Driver: "x", Role: inventory.RoleFabric}, device("S", 1), inventory.ErrInvalid},
		{"no serial", spec("n", "a"), device("", 1), inventory.ErrNoSerial},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := inv.RegisterDevice(ctx, c.spec, c.dev); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := inv.Register(ctx, spec("n", "127.0.0.1:1")); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("Register without a registry: %v", err)
	}
	for _, s := range []string{"Controller", " fabric ", "forwarder"} {
		if _, err := inventory.ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	if _, err := inventory.ParseRole("spine"); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("ParseRole(spine): %v", err)
	}
	_ = store.ErrInvalid
}
