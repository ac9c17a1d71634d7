package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// moduleOf returns the module of the bed's switch name among boxes.
func moduleOf(t *testing.T, b *bed, boxes []inventory.Box, name string) uint32 {
	t.Helper()
	serial := b.tb.Switch(name).Identity().Serial
	for _, x := range boxes {
		if x.Serial == serial {
			return x.Module
		}
	}
	t.Fatalf("switch %s not registered", name)
	return 0
}

// TestMonitorPortDown: with WithMonitor, an admin-down leaf uplink gives
// PortDown events for both ends of the link on the bus and in the log, and
// PortUp events when it comes back.
func TestMonitorPortDown(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithMonitor())
	ctx := testCtx(t)
	boxes := b.registerAll(t, o)
	leaf1, spine1 := moduleOf(t, b, boxes, "leaf1"), moduleOf(t, b, boxes, "spine1")
	if got := o.Monitor().Watched(); len(got) != 4 {
		t.Fatalf("monitor watches %v, want 4 boxes", got)
	}
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.PortDown, events.PortUp}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	for _, up := range []bool{false, true} {
		kind := events.PortDown
		if up {
			kind = events.PortUp
		}
		if err := b.tb.SetPortAdmin("leaf1", 1, up); err != nil {
			t.Fatal(err)
		}
		want := map[uint32]bool{leaf1: true, spine1: true}
		for len(want) > 0 {
			e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == kind && e.Port == 1 && want[e.Module] })
			if e.Serial == "" || e.Attrs["interface"] == "" {
				t.Errorf("event %v lacks serial or interface", e)
			}
			delete(want, e.Module)
		}
	}
	// The logbook consumes the bus: the records arrive shortly.
	for {
		o.Log().Flush()
		recs, err := o.Log().Query(logbook.Filter{Modules: []uint32{leaf1}, Kinds: []string{events.PortDown.String()}})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("logbook has no port-down record of module %d", leaf1)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ecmpConfig: leaves run fabric-v1model with a route over a two-member
// group (one member per uplink: ports 1 and 2) and a one-member group on
// port 1; spines run onos-basic with nothing.
func ecmpConfig(t *testing.T) *goal.Config {
	t.Helper()
	const y = `version: 1
roles:
  fabric: {pipeconf: onos-basic}
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
      - route:
          prefix: 10.9.0.0/24
          group:
            id: ecmp1
            members:
              - next_hop: {id: up1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}
              - next_hop: {id: up2, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:02"}
      - next-hop-group:
          id: single
          members:
            - next_hop: {id: only, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:03"}
`
	cfg, err := goal.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// groups returns the member next-hop IDs of every group in g's objectives.
func groups(g *goal.Goal) map[string][]string {
	out := map[string][]string{}
	add := func(x *objective.NextHopGroup) {
		for _, m := range x.Members {
			out[x.ID] = append(out[x.ID], m.NextHop.ID)
		}
	}
	for _, ob := range g.Objectives {
		switch x := objective.Value(ob).(type) {
		case objective.NextHopGroup:
			add(&x)
		case objective.Route:
			if x.Group != nil {
				add(x.Group)
			}
		}
	}
	return out
}

// boxGroupSize reads the box back and returns how many members its
// fabric.p4 group of ECMP group id has (-1: no such group).
func boxGroupSize(t *testing.T, o *orchestrator.Orchestrator, serial, id string) int {
	t.Helper()
	c, err := o.DeviceOf(serial).P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadAll(testCtx(t), entity.Wrap(&p4v1.ActionProfileGroup{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if g := e.GetActionProfileGroup(); g != nil && g.GetGroupId() == fabric.GroupNextID(id) {
			return len(g.GetMembers())
		}
	}
	return -1
}

func sameIDs(a []string, b ...string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// TestReroute: a leaf uplink goes down → the orchestrator commits a version
// without the ECMP member that leaves through it (read back on the boxes),
// keeps a group's last member, and says why in the Committed event; the
// uplink comes back → the configured groups are committed again.
func TestReroute(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithReroute())
	ctx := testCtx(t)
	boxes := b.registerAll(t, o)
	leaf1 := moduleOf(t, b, boxes, "leaf1")
	leaf1Serial := b.tb.Switch("leaf1").Identity().Serial
	leaf2Serial := b.tb.Switch("leaf2").Identity().Serial
	if _, err := o.Commit(ctx, ecmpConfig(t)); err != nil {
		t.Fatal(err)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(v1.Goals[leaf1Serial]); !sameIDs(g["ecmp1"], "up1", "up2") || !sameIDs(g["single"], "only") {
		t.Fatalf("configured groups of leaf1 = %v", g)
	}
	expect(t, o, v1.Goals)
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 2 {
		t.Fatalf("leaf1 holds ecmp1 with %d members, want 2", n)
	}
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()

	iface := inventory.FormatInterface(leaf1, 1)
	start := time.Now()
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return strings.Contains(e.Attrs[events.AttrReason], iface) })
	t.Logf("port down → reroute committed: %v", time.Since(start))
	if !strings.Contains(e.Attrs[events.AttrReason], "port-down") {
		t.Errorf("reroute event %v: reason lacks port-down", e)
	}
	v2, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number <= v1.Number || v2.Txn != e.OpID {
		t.Fatalf("current = version %d by %s, want a new version by %s", v2.Number, v2.Txn, e.OpID)
	}
	if g := groups(v2.Goals[leaf1Serial]); !sameIDs(g["ecmp1"], "up2") || !sameIDs(g["single"], "only") {
		t.Errorf("leaf1 groups after port-down = %v, want ecmp1 [up2], single [only]", g)
	}
	if g := groups(v2.Goals[leaf2Serial]); !sameIDs(g["ecmp1"], "up1", "up2") {
		t.Errorf("leaf2 groups after leaf1's port-down = %v, want ecmp1 unchanged", g)
	}
	expect(t, o, v2.Goals, v1.Goals) // read back: leaf1's group lost up1
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 1 {
		t.Errorf("leaf1 holds ecmp1 with %d members after port-down, want 1", n)
	}
	if n := boxGroupSize(t, o, leaf1Serial, "single"); n != 1 {
		t.Errorf("leaf1 holds group single with %d members after port-down, want 1 (last member kept)", n)
	}
	if n := boxGroupSize(t, o, leaf2Serial, "ecmp1"); n != 2 {
		t.Errorf("leaf2 holds ecmp1 with %d members, want 2", n)
	}

	if err := b.tb.SetPortAdmin("leaf1", 1, true); err != nil {
		t.Fatal(err)
	}
	e = waitEvent(t, ctx, sub, func(e events.Event) bool {
		return strings.Contains(e.Attrs[events.AttrReason], "port-up") && strings.Contains(e.Attrs[events.AttrReason], iface)
	})
	v3, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Txn != e.OpID {
		t.Fatalf("current by %s, want %s", v3.Txn, e.OpID)
	}
	if g := groups(v3.Goals[leaf1Serial]); !sameIDs(g["ecmp1"], "up1", "up2") {
		t.Errorf("leaf1 groups after port-up = %v, want ecmp1 [up1 up2]", g)
	}
	expect(t, o, v3.Goals, v2.Goals)
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 2 {
		t.Errorf("leaf1 holds ecmp1 with %d members after port-up, want 2", n)
	}
}

// TestPrune: members on down ports go, the last member of a group stays,
// and a module's own objective wins over its role's.
func TestPrune(t *testing.T) {
	cfg := ecmpConfig(t)
	boxes := []inventory.Box{
		{Serial: "a", Module: 3, Spec: inventory.BoxSpec{Role: inventory.RoleForwarder}},
		{Serial: "b", Module: 4, Spec: inventory.BoxSpec{Role: inventory.RoleForwarder}},
	}
	down := func(m, p uint32) bool { return m == 3 && p == 1 || m == 4 && p == 2 }
	out := orchestrator.Prune(cfg, boxes, down, nil)
	goals, err := goal.Compile(out, []goal.Box{{Name: "a", Module: 3, Role: "forwarder"}, {Name: "b", Module: 4, Role: "forwarder"}})
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(goals["a"]); !sameIDs(g["ecmp1"], "up2") || !sameIDs(g["single"], "only") {
		t.Errorf("module 3 groups = %v", g)
	}
	if g := groups(goals["b"]); !sameIDs(g["ecmp1"], "up1") || !sameIDs(g["single"], "only") {
		t.Errorf("module 4 groups = %v", g)
	}
	if len(cfg.Modules) != 0 {
		t.Errorf("Prune changed its input: %v", cfg.Modules)
	}
}

// TestTimeSyncService: with WithTimeSync, a box whose clock is 50ms ahead
// raises a TimeAlarmRaised event, and its offset reaches the logbook; when
// its clock comes back, a TimeAlarmCleared event follows.
func TestTimeSyncService(t *testing.T) {
	b := startBed(t)
	// Without NTP configuration: the skew stays until the test removes it.
	o := b.open(t, orchestrator.WithTimeSync(timesync.WithListenAddr("127.0.0.1:0"),
		timesync.WithInterval(20*time.Millisecond), timesync.WithThreshold(10*time.Millisecond)),
		orchestrator.WithNTPConfig(false))
	ctx := testCtx(t)
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.TimeAlarmRaised, events.TimeAlarmCleared}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	b.tb.Clock("leaf1").SetOffset(50 * time.Millisecond)
	boxes := b.registerAll(t, o)
	leaf1 := moduleOf(t, b, boxes, "leaf1")
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Module == leaf1 && e.Kind == events.TimeAlarmRaised })
	if e.Serial != b.tb.Switch("leaf1").Identity().Serial {
		t.Errorf("alarm %v: wrong serial", e)
	}
	est, ok := o.TimeSync().Estimate(e.Serial)
	if !ok || est.Offset < 40*time.Millisecond || est.Offset > 60*time.Millisecond {
		t.Errorf("estimate of leaf1 = %+v, %v; want ≈50ms", est, ok)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		off, _, ok := o.Log().Offset(leaf1)
		if ok && off > 40*time.Millisecond && off < 60*time.Millisecond {
			break
		}
		select {
		case <-wctx.Done():
			t.Fatalf("logbook offset of module %d = %v, %v; want ≈50ms", leaf1, off, ok)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The clock comes back: the alarm clears.
	b.tb.Clock("leaf1").SetOffset(0)
	waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Module == leaf1 && e.Kind == events.TimeAlarmCleared })
}

// TestRerouteCommitWhileDown: a config committed while a leaf uplink is
// down is committed without the members on it (the Committed event says
// which ports were down); when the uplink comes up, the members return.
func TestRerouteCommitWhileDown(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithReroute())
	ctx := testCtx(t)
	boxes := b.registerAll(t, o)
	leaf1 := moduleOf(t, b, boxes, "leaf1")
	leaf1Serial := b.tb.Switch("leaf1").Identity().Serial
	iface := inventory.FormatInterface(leaf1, 1)
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	for {
		ports, err := o.Monitor().Ports(leaf1Serial)
		if err != nil {
			t.Fatal(err)
		}
		down := false
		for _, p := range ports {
			down = down || p.Port == 1 && !p.Up
		}
		if down {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("leaf1 port 1 never seen down: %v", ports)
		case <-time.After(10 * time.Millisecond):
		}
	}
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	res, err := o.Commit(ctx, ecmpConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.OpID == res.ID })
	if r := e.Attrs[events.AttrReason]; !strings.Contains(r, "ports down") || !strings.Contains(r, iface) {
		t.Errorf("commit event reason %q, want the down ports (%s)", r, iface)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(v1.Goals[leaf1Serial]); !sameIDs(g["ecmp1"], "up2") {
		t.Errorf("leaf1 groups committed while port 1 down = %v, want ecmp1 [up2]", g)
	}
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 1 {
		t.Errorf("leaf1 holds ecmp1 with %d members, want 1", n)
	}
	if err := b.tb.SetPortAdmin("leaf1", 1, true); err != nil {
		t.Fatal(err)
	}
	e = waitEvent(t, ctx, sub, func(e events.Event) bool { return strings.Contains(e.Attrs[events.AttrReason], "port-up "+iface) })
	v2, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(v2.Goals[leaf1Serial]); v2.Txn != e.OpID || !sameIDs(g["ecmp1"], "up1", "up2") {
		t.Errorf("after port-up: version by %s (event %s), leaf1 groups %v", v2.Txn, e.OpID, g)
	}
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 2 {
		t.Errorf("leaf1 holds ecmp1 with %d members after port-up, want 2", n)
	}
}

// TestTimeSyncConfiguresNTP: with WithTimeSync, the orchestrator points
// every box's NTP at the chassis time source as the box is attached: a box
// 80 ms ahead synchronises to it (its emulated NTP client slews), and the
// orchestrator's estimate of its offset converges under the threshold.
func TestTimeSyncConfiguresNTP(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithTimeSync(timesync.WithListenAddr("127.0.0.1:0"),
		timesync.WithInterval(20*time.Millisecond), timesync.WithThreshold(10*time.Millisecond)))
	ctx := testCtx(t)
	b.tb.Clock("leaf1").SetOffset(80 * time.Millisecond)
	b.registerAll(t, o)
	for _, sw := range b.tb.Switches() {
		if _, err := b.tb.Clock(sw.Name()).WaitSynchronized(ctx); err != nil {
			t.Fatalf("%s: NTP never synchronised: %v", sw.Name(), err)
		}
	}
	est, err := o.TimeSync().WaitConverged(ctx, b.tb.Switch("leaf1").Identity().Serial)
	if err != nil {
		t.Fatalf("leaf1 never converged: %v", err)
	}
	if est.Offset.Abs() >= 10*time.Millisecond {
		t.Errorf("leaf1 converged at offset %v, want under the 10ms threshold", est.Offset)
	}
}
