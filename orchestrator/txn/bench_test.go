package txn_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator/txn/txntest"
	"github.com/p4fabric/fabric/pipeline/diff"
)

// quantile returns the q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// BenchmarkP5Commit commits ~100 entries to each of N boxes (from a version
// without them) and, in the same run, writes the same entries to the same
// boxes with plain parallel P4Runtime writes (no journal, no read-back).
// It reports both p50/p99 and the p99 ratio.
func BenchmarkP5Commit(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("boxes=%d", n), func(b *testing.B) {
			bed := txntest.StartBed(b, n)
			ctx := txntest.Ctx(b)
			c := newCoord(b, bed)
			small, big := bed.Compile(b, 1, 0), bed.Compile(b, 1, 96)
			if _, err := c.Commit(ctx, small); err != nil {
				b.Fatal(err)
			}
			extra := map[string][]*p4v1.Entity{}
			for box := range big {
				plan, err := diff.Compute(big[box].Entities, small[box].Entities)
				if err != nil {
					b.Fatal(err)
				}
				extra[box] = plan.Inserts
			}
			b.ReportMetric(float64(len(extra[txntest.BoxName(1)])), "entries/box")
			plain := func(typ p4v1.Update_Type) {
				var wg sync.WaitGroup
				for box, es := range extra {
					wg.Go(func() {
						cl, err := bed.Raw[box].P4Runtime()
						if err != nil {
							b.Error(err)
							return
						}
						ups := make([]*p4v1.Update, len(es))
						for i, e := range es {
							ups[i] = &p4v1.Update{Type: typ, Entity: e}
						}
						if typ == p4v1.Update_DELETE {
							slices.Reverse(ups)
						}
						if err := cl.Write(ctx, ups); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			var commitD, plainD []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := c.Commit(ctx, big); err != nil {
					b.Fatal(err)
				}
				commitD = append(commitD, time.Since(t0))
				b.StopTimer()
				if _, err := c.Commit(ctx, small); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 = time.Now()
				plain(p4v1.Update_INSERT)
				plainD = append(plainD, time.Since(t0))
				b.StopTimer()
				plain(p4v1.Update_DELETE)
				b.StartTimer()
			}
			b.StopTimer()
			cp50, cp99 := quantile(commitD, 0.5), quantile(commitD, 0.99)
			pp50, pp99 := quantile(plainD, 0.5), quantile(plainD, 0.99)
			b.ReportMetric(float64(cp50.Microseconds())/1000, "commit-p50-ms")
			b.ReportMetric(float64(cp99.Microseconds())/1000, "commit-p99-ms")
			b.ReportMetric(float64(pp50.Microseconds())/1000, "plain-p50-ms")
			b.ReportMetric(float64(pp99.Microseconds())/1000, "plain-p99-ms")
			b.ReportMetric(float64(cp99)/float64(pp99), "p99-ratio")
		})
	}
}
