package reconcile_test

import (
	"context"
	"slices"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/reconcile"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// BenchmarkP7Replay: a box holding its goal of ~10,000 entries restarts
// (losing pipeline and entries); once its client is primary again, one
// reconcile pass sets the pipeline and replays the goal. In the same run,
// the same box is restarted and the pipeline and the same entries are
// written plainly (SetPipeline, one Write). Reports both and the ratio.
func BenchmarkP7Replay(b *testing.B) {
	bed := txntest.StartBed(b, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	box := txntest.BoxName(1)
	sw := bed.TB.Switch(box)
	// A benchmark copy of fabric-v1model whose tables hold 10,000 entries.
	orig, err := builtin.Get("fabric-v1model")
	if err != nil {
		b.Fatal(err)
	}
	info := proto.Clone(orig.Schema.P4Info()).(*p4configv1.P4Info)
	for _, t := range info.GetTables() {
		t.Size = max(t.Size, 16384)
	}
	big := *orig
	if big.Schema, err = schema.New(info); err != nil {
		b.Fatal(err)
	}
	reg, err := pipeline.NewRegistry(&big)
	if err != nil {
		b.Fatal(err)
	}
	coord, err := txn.New(bed.Store, bed.Devs, txn.WithPipeconfs(reg))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := goal.Parse(txntest.ConfigYAML(1, 1, 9996))
	if err != nil {
		b.Fatal(err)
	}
	goals, err := goal.Compile(cfg, bed.Boxes, goal.WithPipeconfs(reg))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if _, err := coord.Commit(ctx, goals); err != nil {
		b.Fatal(err)
	}
	b.Logf("initial commit of %d entries: %v", len(goals[box].Entities), time.Since(t0))
	es := goals[box].Entities
	b.ReportMetric(float64(len(es)), "entries")
	r, err := reconcile.New(coord, bed.Devs, []string{box}, reconcile.WithPipeconfs(reg), reconcile.WithTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	pc := &big
	cl, err := bed.Raw[box].P4Runtime()
	if err != nil {
		b.Fatal(err)
	}
	restart := func() {
		b.StopTimer()
		defer b.StartTimer()
		// Wait until the client has a new stream and is primary on it.
		before := cl.Stats().StreamsOpened
		if err := sw.Restart(); err != nil {
			b.Fatal(err)
		}
		for cl.Stats().StreamsOpened == before {
			select {
			case <-ctx.Done():
				b.Fatal("client did not reconnect")
			case <-time.After(5 * time.Millisecond):
			}
		}
		if err := cl.WaitPrimary(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ups := make([]*p4v1.Update, len(es))
	for i, e := range es {
		ups[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}
	}
	devCfg, err := bed.Raw[box].PackagePipeconf(ctx, pc)
	if err != nil {
		b.Fatal(err)
	}
	var replayD, plainD []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		restart()
		t0 := time.Now()
		d, err := r.Reconcile(ctx, box)
		if err != nil || !d.Replayed || d.Changes.Inserts != len(es) {
			b.Fatalf("replay = %+v, %v", d, err)
		}
		replayD = append(replayD, time.Since(t0))
		restart()
		t0 = time.Now()
		if err := cl.SetPipeline(ctx, pc.Schema.P4Info(), devCfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
			b.Fatal(err)
		}
		if err := cl.Write(ctx, ups); err != nil {
			b.Fatal(err)
		}
		plainD = append(plainD, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(replayD)
	slices.Sort(plainD)
	rp, pp := replayD[len(replayD)/2], plainD[len(plainD)/2]
	b.ReportMetric(float64(rp.Microseconds())/1000, "replay-p50-ms")
	b.ReportMetric(float64(pp.Microseconds())/1000, "plain-p50-ms")
	b.ReportMetric(float64(rp)/float64(pp), "ratio")
}
