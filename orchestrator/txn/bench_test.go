package txn_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// quantile returns the q-quantile of ds by nearest rank (the smallest
// value at least a fraction q of ds is at or under), sorting ds in place:
// of 100 samples, p99 is the 99th, not the largest.
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(len(ds)-1, i))]
}

// reportLatencies reports p50/p99 of both series and their ratios.
func reportLatencies(b *testing.B, what string, got, base []time.Duration) {
	gp50, gp99 := quantile(got, 0.5), quantile(got, 0.99)
	bp50, bp99 := quantile(base, 0.5), quantile(base, 0.99)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(gp50), what+"-p50-ms")
	b.ReportMetric(ms(gp99), what+"-p99-ms")
	b.ReportMetric(ms(bp50), "plain-p50-ms")
	b.ReportMetric(ms(bp99), "plain-p99-ms")
	b.ReportMetric(float64(gp50)/float64(bp50), "p50-ratio")
	b.ReportMetric(float64(gp99)/float64(bp99), "p99-ratio")
}

// BenchmarkP5Commit commits ~100 entries to each of N boxes (from a version
// without them) and, in the same run, writes the same entries to the same
// boxes with plain parallel P4Runtime writes (no journal, no read-back),
// boxes in parallel, two ways:
//
//   - plain-*, the baseline of p50-ratio and p99-ratio: in dependency
//     order, one Write per rank, each acknowledged before the next. The
//     entries are action profile members, the groups of those members,
//     the next-hop entries pointing at the groups and the routes pointing
//     at the next hops; a server may reorder the updates of one batch,
//     and dependent updates in one batch are non-deterministic, so the
//     spec has them split across sequential Writes (P4Runtime spec,
//     "Batching and Ordering of Updates").
//   - one-write-*: every entry of a box in one Write. The emulated switch
//     applies a batch in order, so this works here, but not by the spec.
//
// It reports p50/p99 and the ratios. 64 and 256 boxes take a second or
// more per commit: run them with -benchtime=Nx.
func BenchmarkP5Commit(b *testing.B) {
	for _, n := range []int{1, 4, 16, 64, 256} {
		b.Run(fmt.Sprintf("boxes=%d", n), func(b *testing.B) {
			bed := txntest.StartBed(b, n)
			ctx := txntest.Ctx(b)
			c := newCoord(b, bed)
			small, big := bed.Compile(b, 1, 0), bed.Compile(b, 1, 96)
			if _, err := c.Commit(ctx, small); err != nil {
				b.Fatal(err)
			}
			extra := map[string][]*p4v1.Entity{}
			pc, err := builtin.Get(big[txntest.BoxName(1)].Pipeconf)
			if err != nil {
				b.Fatal(err)
			}
			pl, err := pc.Pipeliner()
			if err != nil {
				b.Fatal(err)
			}
			for box := range big {
				plan, err := diff.Compute(big[box].Entities, small[box].Entities, diff.WithRank(pl.Rank))
				if err != nil {
					b.Fatal(err)
				}
				extra[box] = plan.Inserts
			}
			// write writes every box's extra entries (the reverse order for
			// deletes), boxes in parallel: byRank, one Write per rank, each
			// after the last is acknowledged; otherwise in one Write per
			// box.
			write := func(typ p4v1.Update_Type, byRank bool) {
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
						runs := [][]*p4v1.Update{ups}
						if byRank {
							runs = txn.Runs(ups, pl.Rank)
						}
						for _, run := range runs {
							if err := cl.Write(ctx, run); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			plain := func(typ p4v1.Update_Type) { write(typ, true) }
			oneWrite := func(typ p4v1.Update_Type) { write(typ, false) }
			// timed times w's inserts, then deletes them untimed.
			timed := func(w func(p4v1.Update_Type)) time.Duration {
				t0 := time.Now()
				w(p4v1.Update_INSERT)
				d := time.Since(t0)
				b.StopTimer()
				w(p4v1.Update_DELETE)
				b.StartTimer()
				return d
			}
			var commitD, plainD, oneD []time.Duration
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
				plainD = append(plainD, timed(plain))
				oneD = append(oneD, timed(oneWrite))
			}
			b.StopTimer()
			b.ReportMetric(float64(len(extra[txntest.BoxName(1)])), "entries/box")
			op50, op99 := quantile(oneD, 0.5), quantile(oneD, 0.99)
			cp50, cp99 := quantile(slices.Clone(commitD), 0.5), quantile(slices.Clone(commitD), 0.99)
			b.ReportMetric(float64(op50.Microseconds())/1000, "one-write-p50-ms")
			b.ReportMetric(float64(op99.Microseconds())/1000, "one-write-p99-ms")
			b.ReportMetric(float64(cp50)/float64(op50), "one-write-p50-ratio")
			b.ReportMetric(float64(cp99)/float64(op99), "one-write-p99-ratio")
			reportLatencies(b, "commit", commitD, plainD)
		})
	}
}

// BenchmarkP4RouteCommit commits, on a chassis of 4 boxes with 8 routes
// each, a version that adds one route (a new next hop and the route) to
// one box, and in the same run writes the same entities to that box with
// plain P4Runtime writes in rank order (one Write per rank, as the
// coordinator must) plus one bolt Put of the box's encoded goal: the
// least a durable change of one box can cost.
//
// It times each commit twice: to the box's acknowledgement of its last
// write (ack-*: the "committed → acknowledged by the box", taken
// from WithProgress when every box has applied), and to Commit's return,
// once the outcome is journaled too (commit-*).
func BenchmarkP4RouteCommit(b *testing.B) {
	const n, routes = 4, 8
	bed := txntest.StartBed(b, n)
	ctx := txntest.Ctx(b)
	c := newCoord(b, bed)
	box := txntest.BoxName(1)
	base := bed.Compile(b, 1, routes)
	// The same chassis with one more route on module 1, through a next hop
	// of its own.
	y := strings.Replace(string(txntest.ConfigYAML(1, n, routes)), "  \"1\":\n    objectives:\n",
		"  \"1\":\n    objectives:\n      - route: {prefix: 10.250.0.0/24, next_hop: {id: nhx, port: 3, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:cc:00:00:00:01\"}}\n", 1)
	cfg, err := goal.Parse([]byte(y))
	if err != nil {
		b.Fatal(err)
	}
	next, err := goal.Compile(cfg, bed.Boxes)
	if err != nil {
		b.Fatal(err)
	}
	pc, err := builtin.Get(base[box].Pipeconf)
	if err != nil {
		b.Fatal(err)
	}
	pl, err := pc.Pipeliner()
	if err != nil {
		b.Fatal(err)
	}
	add, err := diff.Compute(next[box].Entities, base[box].Entities, diff.WithRank(pl.Rank))
	if err != nil {
		b.Fatal(err)
	}
	del, err := diff.Compute(base[box].Entities, next[box].Entities, diff.WithRank(pl.Rank))
	if err != nil {
		b.Fatal(err)
	}
	if len(add.Inserts) < 2 || len(add.Modifies)+len(add.Deletes) != 0 {
		b.Fatalf("the new route is %d inserts, %d modifies, %d deletes; want a next hop and a route", len(add.Inserts), len(add.Modifies), len(add.Deletes))
	}
	value, err := next[box].MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	cl, err := bed.Raw[box].P4Runtime()
	if err != nil {
		b.Fatal(err)
	}
	plain := func(ctx context.Context, plan *diff.Plan, put bool) error {
		for _, run := range txn.Runs(plan.Updates(), pl.Rank) {
			if err := cl.Write(ctx, run); err != nil {
				return err
			}
		}
		if put {
			if _, err := bed.Store.Put(ctx, "/bench/p4", value); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := c.Commit(ctx, base); err != nil {
		b.Fatal(err)
	}
	var commitD, ackD, plainD []time.Duration
	var acked time.Time
	progress := txn.WithProgress(func(p txn.Progress) {
		if p.Phase == txn.PhaseApply && p.Done == p.Total {
			acked = time.Now()
		}
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := c.Commit(ctx, next, progress); err != nil {
			b.Fatal(err)
		}
		commitD = append(commitD, time.Since(t0))
		ackD = append(ackD, acked.Sub(t0))
		b.StopTimer()
		if _, err := c.Commit(ctx, base); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 = time.Now()
		if err := plain(ctx, add, true); err != nil {
			b.Fatal(err)
		}
		plainD = append(plainD, time.Since(t0))
		b.StopTimer()
		if err := plain(ctx, del, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(add.Inserts)), "entities")
	ap50, pp50 := quantile(slices.Clone(ackD), 0.5), quantile(slices.Clone(plainD), 0.5)
	b.ReportMetric(float64(ap50.Microseconds())/1000, "ack-p50-ms")
	b.ReportMetric(float64(ap50)/float64(pp50), "ack-p50-ratio")
	reportLatencies(b, "commit", commitD, plainD)
}
