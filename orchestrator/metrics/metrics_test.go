package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

// config is version v of the LeafSpine(2,2) chassis.
func config(t *testing.T, v int) *goal.Config {
	t.Helper()
	cfg, err := goal.Parse(chassistest.ConfigYAML(v, 0))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCollector runs a real orchestrator over a LeafSpine(2,2) chassis
// through a commit, an aborted commit and a drift repair, and reads the
// metrics.
func TestCollector(t *testing.T) {
	ch := chassistest.Start(t)
	ctx := chassistest.Context(t, 60*time.Second)
	o := ch.Open(t, orchestrator.WithTimeSync(timesync.WithInterval(50*time.Millisecond)))

	seen := make(chan events.Event, 16)
	c, err := New(o, withHook(func(e events.Event) { seen <- e }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	preg := prometheus.NewPedanticRegistry()
	if err := preg.Register(c); err != nil {
		t.Fatal(err)
	}
	wait := func(kind events.Kind) events.Event {
		t.Helper()
		select {
		case e := <-seen:
			if e.Kind != kind {
				t.Fatalf("collector saw %v, want a %v event", e, kind)
			}
			return e
		case <-ctx.Done():
			t.Fatalf("collector saw no %v event", kind)
		}
		return events.Event{}
	}

	var serials []string
	for _, box := range ch.RegisterAll(t, o) {
		serials = append(serials, box.Serial)
	}
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	wait(events.Committed)
	ch.Testbed.Switch("leaf2").P4Runtime().RejectWrites(1, codes.ResourceExhausted)
	var ae *txn.AbortError
	if _, err := o.Commit(ctx, config(t, 2)); !errors.As(err, &ae) {
		t.Fatalf("commit with a rejected write: %v, want an abort", err)
	}
	wait(events.Aborted)
	if err := ch.Testbed.Switch("leaf1").Restart(); err != nil {
		t.Fatal(err)
	}
	if d, err := o.Reconcile(ctx, serials[2]); err != nil || !d.Replayed {
		t.Fatalf("reconcile of the restarted leaf1: %+v, %v", d, err)
	}
	if e := wait(events.DriftRepaired); e.Module != 3 {
		t.Fatalf("drift repaired on module %d, want 3 (leaf1)", e.Module)
	}
	for _, s := range serials {
		if _, err := o.TimeSync().Wait(ctx, s, timesync.Estimate.Valid); err != nil {
			t.Fatal(err)
		}
	}

	const want = `
# HELP fabric_boxes_connected Registered boxes the orchestrator holds open.
# TYPE fabric_boxes_connected gauge
fabric_boxes_connected 4
# HELP fabric_boxes_registered Boxes registered in the inventory.
# TYPE fabric_boxes_registered gauge
fabric_boxes_registered 4
# HELP fabric_commits_total Chassis transactions ended, by outcome (committed, aborted).
# TYPE fabric_commits_total counter
fabric_commits_total{outcome="aborted"} 1
fabric_commits_total{outcome="committed"} 1
# HELP fabric_drift_repairs_total Reconcile passes that repaired a box drifted from its goal, by module.
# TYPE fabric_drift_repairs_total counter
fabric_drift_repairs_total{module="3"} 1
`
	if err := testutil.GatherAndCompare(preg, strings.NewReader(want),
		"fabric_boxes_connected", "fabric_boxes_registered", "fabric_commits_total", "fabric_drift_repairs_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "fabric_clock_offset_seconds"); n != 4 {
		t.Fatalf("%d clock offsets, want 4", n)
	}
	if n := testutil.CollectAndCount(c, "fabric_clock_alarm"); n != 4 {
		t.Fatalf("%d clock alarms, want 4", n)
	}

	fams, err := preg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	hist := map[string]uint64{}
	evCount := map[string]float64{}
	for _, f := range fams {
		switch f.GetName() {
		case "fabric_commit_duration_seconds":
			for _, m := range f.GetMetric() {
				h := m.GetHistogram()
				if h.GetSampleSum() <= 0 {
					t.Fatalf("commit duration sum %v", h.GetSampleSum())
				}
				hist[m.GetLabel()[0].GetValue()] = h.GetSampleCount()
			}
		case "fabric_events_total":
			for _, m := range f.GetMetric() {
				evCount[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if hist["committed"] != 1 || hist["aborted"] != 1 {
		t.Fatalf("commit durations observed %v, want one committed and one aborted", hist)
	}
	if evCount["committed"] != 1 || evCount["aborted"] != 1 || evCount["drift-repaired"] != 1 || evCount["box-connected"] < 4 {
		t.Fatalf("events_total %v", evCount)
	}

	rec := httptest.NewRecorder()
	Handler(preg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `fabric_commits_total{outcome="committed"} 1`) {
		t.Fatalf("handler: %d\n%s", rec.Code, rec.Body.String())
	}
}

func TestNewInvalid(t *testing.T) {
	if _, err := New(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("New(nil): %v, want ErrInvalid", err)
	}
}
