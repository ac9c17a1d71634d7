package orchestrator_test

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// linkNames returns Links as sorted "a:p-b:q" strings.
func linkNames(o *orchestrator.Orchestrator) []string {
	var out []string
	for _, l := range o.Links() {
		out = append(out, l.A.String()+"-"+l.B.String())
	}
	slices.Sort(out)
	return out
}

// waitLinks receives link events from sub until Links equals want.
func waitLinks(t *testing.T, o *orchestrator.Orchestrator, sub *events.Subscription, want []string) {
	t.Helper()
	ctx := testCtx(t)
	for !slices.Equal(linkNames(o), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("links = %v, want %v", linkNames(o), want)
		case _, ok := <-sub.C():
			if !ok {
				t.Fatal("subscription ended")
			}
		}
	}
}

// TestDiscovery: with WithDiscovery, the commit puts the LLDP punt rule in
// every box's goal (and so on the box), the leaf-spine's four links are
// learned and published, a port going down loses its link and reroutes
// the ECMP members through it, the port coming back brings both back, and
// a new orchestrator on the same store learns the links again.
func TestDiscovery(t *testing.T) {
	b := startBed(t)
	opts := []orchestrator.Option{orchestrator.WithDiscovery(
		// Links are lost by port events here, not probe timeouts: a loaded
		// machine running -race may delay probes by hundreds of ms.
		discovery.WithInterval(100*time.Millisecond), discovery.WithMissedProbes(100)), orchestrator.WithReroute()}
	var logBuf syncBuf
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logBuf.String())
		}
	})
	opts = append(opts, orchestrator.WithLogger(slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	o := b.open(t, opts...)
	ctx := testCtx(t)
	if len(o.Links()) != 0 {
		t.Fatalf("links before any commit: %v", o.Links())
	}
	boxes := b.registerAll(t, o) // spine1, spine2, leaf1, leaf2: modules 1-4
	// Links and commits on subscriptions of their own: a reroute may be
	// committed before or after the link-lost event of the same port, and
	// waiting for one must not swallow the other.
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.LinkDiscovered, events.LinkLost}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	commits, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed}})
	if err != nil {
		t.Fatal(err)
	}
	defer commits.Cancel()
	if _, err := o.Commit(ctx, ecmpConfig(t)); err != nil {
		t.Fatal(err)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	punt := objective.Objective(discovery.PuntObjective())
	for _, box := range boxes {
		if !slices.ContainsFunc(v1.Goals[box.Serial].Objectives, func(ob objective.Objective) bool {
			return ob.Kind() == punt.Kind() && ob.Key() == punt.Key()
		}) {
			t.Errorf("goal of module %d lacks the LLDP punt objective", box.Module)
		}
	}
	expect(t, o, v1.Goals) // the punt rules are on the boxes
	if cfg, _, err := o.Config(ctx, 0); err != nil || len(cfg.Modules) != 0 {
		t.Errorf("Config() = %v, %v: want the config as given, without the punt objectives", cfg, err)
	}

	all := []string{"1:1-3:1", "1:2-4:1", "2:1-3:2", "2:2-4:2"} // leaf j port i <-> spine i port j
	waitLinks(t, o, sub, all)

	leaf1 := moduleOf(t, b, boxes, "leaf1")
	start := time.Now()
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	lost := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == events.LinkLost })
	if lost.Attrs[events.AttrReason] != string(discovery.ReasonPortDown) ||
		!(lost.Module == 1 && lost.Port == 1 && lost.Attrs[events.AttrPeerModule] == "3" && lost.Attrs[events.AttrPeerPort] == "1") {
		t.Errorf("link-lost event %v: want 1:1 <-> 3:1, reason port-down", lost)
	}
	waitLinks(t, o, sub, []string{"1:2-4:1", "2:1-3:2", "2:2-4:2"})
	re := waitEvent(t, ctx, commits, func(e events.Event) bool {
		return e.Kind == events.Committed && strings.Contains(e.Attrs[events.AttrReason], "eth-3/0/1")
	})
	t.Logf("port down → link lost and reroute committed: %v", time.Since(start))
	v2, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaf1Serial := b.tb.Switch("leaf1").Identity().Serial
	if v2.Txn != re.OpID || !sameIDs(groups(v2.Goals[leaf1Serial])["ecmp1"], "up2") {
		t.Errorf("after the link loss: version by %s with leaf1 ecmp1 %v; want by %s with [up2]", v2.Txn, groups(v2.Goals[leaf1Serial])["ecmp1"], re.OpID)
	}
	_ = leaf1

	if err := b.tb.SetPortAdmin("leaf1", 1, true); err != nil {
		t.Fatal(err)
	}
	waitLinks(t, o, sub, all)
	// The port is back: "port-up", or "link-discovered" when the link's
	// loss was what the chassis last recorded for it.
	waitEvent(t, ctx, commits, func(e events.Event) bool {
		r := e.Attrs[events.AttrReason]
		return e.Kind == events.Committed && (strings.Contains(r, "port-up eth-3/0/1") || strings.Contains(r, "link-discovered eth-3/0/1"))
	})
	v3, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameIDs(groups(v3.Goals[leaf1Serial])["ecmp1"], "up1", "up2") {
		t.Errorf("after the link came back: leaf1 ecmp1 = %v, want [up1 up2]", groups(v3.Goals[leaf1Serial])["ecmp1"])
	}
	expect(t, o, v3.Goals, v2.Goals)

	// A new orchestrator on the same store finds the links again.
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o2 := b.open(t, opts...)
	sub2, err := o2.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.LinkDiscovered}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Cancel()
	waitLinks(t, o2, sub2, all)
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
