package inventory_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/inventory"
)

// TestOpensExistingStore: a store written before the inventory remembered
// module IDs (records and bindings only, no <prefix>freed key), with a hole
// at module 3, is read as it is: its boxes keep their modules and new boxes
// fill the hole first.
func TestOpensExistingStore(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		s := e.open(t)
		inv := newInventory(t, e, s)
		reg := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, b := range []struct {
			serial string
			module uint32
		}{{"SN-old1", 1}, {"SN-old2", 2}, {"SN-old4", 4}} {
			// The record as the earlier code wrote it.
			rec, err := json.Marshal(map[string]any{
				"serial": b.serial, "module": b.module,
				"identity":   driver.Identity{Vendor: "Acme", Model: "X1", Serial: b.serial},
				"spec":       spec(b.serial, "10.1.0.1:9559"),
				"ports":      []driver.Port{{Name: "xe1", ID: 1}},
				"registered": reg, "updated": reg,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(ctx, inv.BoxKey(b.serial), rec); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(ctx, inv.ModuleKey(b.module), []byte(b.serial)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, inv.FreedKey()); err == nil {
			t.Fatalf("%s exists before any decommission", inv.FreedKey())
		}
		if b, err := inv.ByModule(ctx, 4); err != nil || b.Serial != "SN-old4" || !b.Registered.Equal(reg) {
			t.Fatalf("ByModule(4) = %+v, %v", b, err)
		}
		if b := register(t, ctx, inv, "SN-old2", "10.1.0.9:9559"); b.Module != 2 {
			t.Fatalf("old box registered again: %v, want module 2", b)
		}
		for _, c := range []struct {
			serial string
			want   uint32
		}{{"SN-new1", 3}, {"SN-new2", 5}} {
			if b := register(t, ctx, inv, c.serial, "10.1.0.2:9559"); b.Module != c.want {
				t.Fatalf("register %s: %v, want module %d", c.serial, b, c.want)
			}
		}
		if _, err := inv.Decommission(ctx, "SN-old1"); err != nil {
			t.Fatal(err)
		}
		if b := register(t, ctx, inv, "SN-new3", "10.1.0.3:9559"); b.Module != 1 {
			t.Fatalf("after decommission of module 1: %v, want module 1", b)
		}
	})
}

// TestAllocationAcrossInventories: two inventories (two orchestrators: on
// etcd two clients of one server, on bolt one store) each remember the IDs
// they know of. An ID the other took is not given twice, and an ID the
// other freed is given again at once, lowest first.
func TestAllocationAcrossInventories(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		s1 := e.open(t)
		s2 := e.connect(t, s1)
		if s2 == nil {
			s2 = s1
		}
		a, b := newInventory(t, e, s1), newInventory(t, e, s2)
		steps := []struct {
			inv    *inventory.Inventory
			serial string
			want   uint32 // 0: decommission serial
		}{
			{a, "SN-1", 1}, {a, "SN-2", 2}, {a, "SN-3", 3},
			{b, "SN-4", 4}, // b reads the store: 1-3 held
			{a, "SN-5", 5}, // a does not know 4 is held: the store says so
			{b, "SN-2", 0}, // b frees 2
			{a, "SN-6", 2}, // a learns it from the store, at once
			{b, "SN-7", 6}, // b knows 2 is free but not that a took it, nor 5
			{a, "SN-3", 0},
			{a, "SN-8", 3}, // a's own decommission
			{b, "SN-9", 7},
		}
		for i, st := range steps {
			if st.want == 0 {
				if _, err := st.inv.Decommission(ctx, st.serial); err != nil {
					t.Fatalf("step %d: decommission %s: %v", i, st.serial, err)
				}
				continue
			}
			if got := register(t, ctx, st.inv, st.serial, "10.0.0.1:9559"); got.Module != st.want {
				t.Fatalf("step %d: register %s: %v, want module %d", i, st.serial, got, st.want)
			}
		}
	})
}

// TestNoFreeModuleSeesFreedElsewhere: an inventory that knows every ID to
// be held reads the store before it answers ErrNoFreeModule, so an ID
// another inventory freed is found.
func TestNoFreeModuleSeesFreedElsewhere(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		s1 := e.open(t)
		s2 := e.connect(t, s1)
		if s2 == nil {
			s2 = s1
		}
		a := newInventory(t, e, s1, inventory.WithMaxModule(3))
		b := newInventory(t, e, s2, inventory.WithMaxModule(3))
		for _, serial := range []string{"SN-1", "SN-2", "SN-3"} {
			register(t, ctx, a, serial, "10.0.0.1:9559")
		}
		if _, err := a.RegisterDevice(ctx, spec("SN-4", "10.0.0.1:9559"), device("SN-4", 1)); !errors.Is(err, inventory.ErrNoFreeModule) {
			t.Fatalf("fourth box: %v, want ErrNoFreeModule", err)
		}
		if _, err := b.Decommission(ctx, "SN-2"); err != nil {
			t.Fatal(err)
		}
		if got := register(t, ctx, a, "SN-4", "10.0.0.1:9559"); got.Module != 2 {
			t.Fatalf("after another inventory freed module 2: %v", got)
		}
	})
}

// TestConcurrentMixedClaims registers at once, through one inventory, new
// boxes that take the lowest free ID, one serial from several callers, and
// two boxes asking for the same module: the claims that share a commit
// must not spoil each other.
func TestConcurrentMixedClaims(t *testing.T) {
	forEngine(t, func(t *testing.T, e engine) {
		ctx := testCtx(t)
		inv := newInventory(t, e, e.open(t))
		const autos, dups = 24, 4
		type result struct {
			serial string
			box    inventory.Box
			err    error
		}
		var jobs []inventory.BoxSpec
		for i := range autos {
			jobs = append(jobs, spec(fmt.Sprintf("SN-%02d", i), "10.0.0.1:9559"))
		}
		for range dups {
			jobs = append(jobs, spec("SN-DUP", "10.0.0.2:9559"))
		}
		for _, serial := range []string{"SN-W1", "SN-W2"} {
			sp := spec(serial, "10.0.0.3:9559")
			sp.Module = 1000
			jobs = append(jobs, sp)
		}
		results := make(chan result, len(jobs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, sp := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				b, err := inv.RegisterDevice(ctx, sp, device(sp.Name, 2))
				results <- result{sp.Name, b, err}
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		modules := map[uint32]string{}
		wantTaken := 0
		for r := range results {
			switch {
			case r.serial == "SN-W1" || r.serial == "SN-W2":
				if errors.Is(r.err, inventory.ErrModuleTaken) {
					wantTaken++
					continue
				}
				if r.err != nil || r.box.Module != 1000 {
					t.Errorf("%s asked for module 1000: %v, %v", r.serial, r.box, r.err)
				}
			case r.err != nil:
				t.Errorf("register %s: %v", r.serial, r.err)
				continue
			}
			if other, ok := modules[r.box.Module]; ok && other != r.serial {
				t.Errorf("module %d given to %s and %s", r.box.Module, r.serial, other)
			}
			modules[r.box.Module] = r.serial
		}
		if wantTaken != 1 {
			t.Errorf("%d of the two boxes asking for module 1000 refused, want 1", wantTaken)
		}
		// 24 boxes and SN-DUP: modules 1-25, dense; and module 1000.
		if len(modules) != autos+2 {
			t.Fatalf("modules %v, want %d", modules, autos+2)
		}
		for m := uint32(1); m <= autos+1; m++ {
			if _, ok := modules[m]; !ok {
				t.Errorf("module %d not given (modules %v)", m, modules)
			}
		}
		boxes, _, err := inv.List(ctx)
		if err != nil || len(boxes) != autos+2 {
			t.Fatalf("List: %d boxes, %v; want %d", len(boxes), err, autos+2)
		}
		for _, b := range boxes {
			if modules[b.Module] != b.Serial {
				t.Errorf("stored %v, registered as module %d", b, b.Module)
			}
		}
	})
}
