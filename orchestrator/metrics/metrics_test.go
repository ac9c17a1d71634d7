package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

func config(t *testing.T, v int) *goal.Config {
	t.Helper()
	cfg, err := goal.Parse([]byte(strings.ReplaceAll(`
version: 1
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
modules:
  "1":
    objectives:
      - route: {prefix: 10.0.V.0/24, next_hop: {id: nh1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
  "2":
    objectives:
      - route: {prefix: 10.1.V.0/24, next_hop: {id: nh1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:02"}}
`, "V", string(rune('0'+v)))))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCollector runs a real orchestrator over two emulated leaves through a
// commit, an aborted commit and a drift repair, and reads the metrics.
func TestCollector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	st, err := bolt.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	o, err := orchestrator.New(ctx, st, reg, orchestrator.WithReconcileInterval(time.Hour),
		orchestrator.WithBoxTimeout(10*time.Second), orchestrator.WithTimeSync(timesync.WithInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()

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
	for _, name := range []string{"leaf1", "leaf2"} {
		sw := tb.Switch(name)
		box, err := o.Register(ctx, inventory.BoxSpec{Name: name, Driver: builtin.Emulated, Address: sw.Addr(),
			Role: inventory.RoleForwarder, DeviceID: sw.DeviceID(), Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, box.Serial)
	}
	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	wait(events.Committed)
	tb.Switch("leaf2").P4Runtime().RejectWrites(1, codes.ResourceExhausted)
	var ae *txn.AbortError
	if _, err := o.Commit(ctx, config(t, 2)); !errors.As(err, &ae) {
		t.Fatalf("commit with a rejected write: %v, want an abort", err)
	}
	wait(events.Aborted)
	if err := tb.Switch("leaf1").Restart(); err != nil {
		t.Fatal(err)
	}
	if d, err := o.Reconcile(ctx, serials[0]); err != nil || !d.Replayed {
		t.Fatalf("reconcile of the restarted leaf1: %+v, %v", d, err)
	}
	if e := wait(events.DriftRepaired); e.Module != 1 {
		t.Fatalf("drift repaired on module %d, want 1", e.Module)
	}
	for _, s := range serials {
		if _, err := o.TimeSync().Wait(ctx, s, timesync.Estimate.Valid); err != nil {
			t.Fatal(err)
		}
	}

	const want = `
# HELP fabric_boxes_connected Registered boxes the orchestrator holds open.
# TYPE fabric_boxes_connected gauge
fabric_boxes_connected 2
# HELP fabric_boxes_registered Boxes registered in the inventory.
# TYPE fabric_boxes_registered gauge
fabric_boxes_registered 2
# HELP fabric_commits_total Chassis transactions ended, by outcome (committed, aborted).
# TYPE fabric_commits_total counter
fabric_commits_total{outcome="aborted"} 1
fabric_commits_total{outcome="committed"} 1
# HELP fabric_drift_repairs_total Reconcile passes that repaired a box drifted from its goal, by module.
# TYPE fabric_drift_repairs_total counter
fabric_drift_repairs_total{module="1"} 1
`
	if err := testutil.GatherAndCompare(preg, strings.NewReader(want),
		"fabric_boxes_connected", "fabric_boxes_registered", "fabric_commits_total", "fabric_drift_repairs_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "fabric_clock_offset_seconds"); n != 2 {
		t.Fatalf("%d clock offsets, want 2", n)
	}
	if n := testutil.CollectAndCount(c, "fabric_clock_alarm"); n != 2 {
		t.Fatalf("%d clock alarms, want 2", n)
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
	if evCount["committed"] != 1 || evCount["aborted"] != 1 || evCount["drift-repaired"] != 1 || evCount["box-connected"] < 2 {
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
