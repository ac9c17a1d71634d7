package northbound_test

import (
	"slices"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

// p50 returns the median of ds (sorted in place).
func p50(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkCommitOverhead commits the same change to 4 boxes (LeafSpine(2,2),
// ~100 routes per box: every route moves between two versions) through
// fabricd's API — Commit, then WatchOperation until COMMITTED, over TLS with
// a token — and through the library (Orchestrator.Commit of the config
// parsed beforehand; parsing is timed too), alternately in the same run, and
// reports the medians and their ratios.
func BenchmarkCommitOverhead(b *testing.B) {
	e := newEnv(b, true)
	ctx := chassistest.Context(b, 10*time.Minute)
	c := e.api.Dial(b, adminToken)
	e.RegisterAllAPI(b, c)
	const routes = 97 // + 3: 100 routes per box
	raw := [2][]byte{chassistest.ConfigYAML(1, routes), chassistest.ConfigYAML(2, routes)}
	var parsed [2]*goal.Config
	for i, r := range raw {
		cfg, err := goal.Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		parsed[i] = cfg
	}
	if _, err := e.o.Commit(ctx, parsed[1]); err != nil {
		b.Fatal(err)
	}
	goals, err := e.o.Compile(ctx, parsed[0])
	if err != nil {
		b.Fatal(err)
	}
	entries := 0
	for _, g := range goals {
		entries += len(g.Entities)
	}
	perBox := float64(entries) / float64(len(goals))

	var api, lib, libParse []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// API: version 1's config (the boxes hold version 2's).
		t0 := time.Now()
		op, err := c.Commit(ctx, &nbpb.CommitRequest{Config: raw[0]})
		if err != nil {
			b.Fatal(err)
		}
		w, err := c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: op.Id})
		if err != nil {
			b.Fatal(err)
		}
		for {
			st, err := w.Recv()
			if err != nil {
				b.Fatalf("watch %s: %v", op.Id, err)
			}
			if st.State != nbpb.Operation_RUNNING {
				if st.State != nbpb.Operation_COMMITTED {
					b.Fatalf("operation %s ended %v", op.Id, st)
				}
				break
			}
		}
		api = append(api, time.Since(t0))
		// Library: back to version 2's config, the same amount of change;
		// parsing the YAML (which the API does on the server) is timed
		// apart.
		t0 = time.Now()
		cfg, err := goal.Parse(raw[1])
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := e.o.Commit(ctx, cfg); err != nil {
			b.Fatal(err)
		}
		lib = append(lib, time.Since(t1))
		libParse = append(libParse, time.Since(t0))
	}
	b.StopTimer()
	ap, lp, lpp := p50(api), p50(lib), p50(libParse)
	b.ReportMetric(perBox, "entries/box")
	b.ReportMetric(float64(ap.Microseconds())/1000, "api-p50-ms")
	b.ReportMetric(float64(lp.Microseconds())/1000, "lib-p50-ms")
	b.ReportMetric(float64(lpp.Microseconds())/1000, "lib+parse-p50-ms")
	b.ReportMetric(float64(ap)/float64(lp), "p50-ratio")
	b.ReportMetric(float64(ap)/float64(lpp), "p50-ratio-vs-lib+parse")
}
