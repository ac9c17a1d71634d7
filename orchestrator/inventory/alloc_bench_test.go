package inventory_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// BenchmarkRegister measures registering n new boxes, conc at a time, with
// one inventory on a fresh bbolt store: the cost of module allocation as
// the inventory grows. It reports ns/box; a per-box figure that grows with
// n means allocation is not O(1) amortised. Each iteration starts from an
// empty store, so run it with -benchtime=1x or a few x.
func BenchmarkRegister(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, conc := range []int{1, 32} {
			b.Run(fmt.Sprintf("boxes=%d/conc=%d", n, conc), func(b *testing.B) {
				benchRegister(b, n, conc)
			})
		}
	}
}

func benchRegister(b *testing.B, n, conc int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	devs := make([]fakeDevice, n)
	for i := range devs {
		devs[i] = device(fmt.Sprintf("SN-%05d", i), 4)
	}
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		st, err := bolt.Open(ctx, filepath.Join(b.TempDir(), "data"))
		if err != nil {
			b.Fatal(err)
		}
		inv, err := inventory.New(st, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := registerAll(ctx, inv, devs, conc); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		if err := checkDense(ctx, inv, n); err != nil {
			b.Fatal(err)
		}
		_ = st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*n), "ns/box")
}

// registerAll registers devs, conc at a time.
func registerAll(ctx context.Context, inv *inventory.Inventory, devs []fakeDevice, conc int) error {
	work := make(chan fakeDevice)
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if _, err := inv.RegisterDevice(ctx, spec(d.id.Serial, "10.0.0.1:9559"), d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, d := range devs {
		select {
		case work <- d:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs
}

// checkDense checks that the n boxes hold exactly modules 1..n.
func checkDense(ctx context.Context, inv *inventory.Inventory, n int) error {
	boxes, _, err := inv.List(ctx)
	if err != nil {
		return err
	}
	if len(boxes) != n {
		return fmt.Errorf("%d boxes, want %d", len(boxes), n)
	}
	for i, b := range boxes {
		if b.Module != uint32(i+1) {
			return fmt.Errorf("box %d holds %v, want module %d", i, b, i+1)
		}
	}
	return nil
}
