package orchestrator_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

// sameGoals fails unless got and want are the same chassis goals.
func sameGoals(t *testing.T, what string, got, want map[string]*goal.Goal) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: goals of %d boxes, want %d", what, len(got), len(want))
	}
	d, err := txn.DiffGoals(want, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 0 {
		t.Fatalf("%s: goals differ from the plain commit's: %v", what, d)
	}
}

// compiles fails unless o compiled want configs since it had n.
func compiles(t *testing.T, o *orchestrator.Orchestrator, n, want int64, what string) {
	t.Helper()
	if got := o.Compiles() - n; got != want {
		t.Errorf("%s: %d compiles, want %d", what, got, want)
	}
}

// TestPrepareCommit: a prepared config commits without a second compile,
// and the boxes, the version's goals and its journaled config are those
// of a plain Commit of the same config. A config that does not compile is
// refused by Prepare; nil and closed cases fail with their sentinels.
func TestPrepareCommit(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	b.registerAll(t, o)

	if _, err := o.Commit(ctx, config(t, 1)); err != nil {
		t.Fatal(err)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Commit(ctx, config(t, 2)); err != nil {
		t.Fatal(err)
	}
	v2, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}

	n := o.Compiles()
	p, err := o.Prepare(ctx, config(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 1, "prepare")
	sameGoals(t, "prepared", p.Goals(), v1.Goals)
	res, err := p.Commit(ctx, txn.WithComment("prepared"))
	if err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 1, "prepare and commit")
	v3, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Number != res.Version || v3.Txn != res.ID || v3.Comment != "prepared" {
		t.Fatalf("current = version %d by %s (%q), want %d by %s (\"prepared\")", v3.Number, v3.Txn, v3.Comment, res.Version, res.ID)
	}
	sameGoals(t, "committed", v3.Goals, v1.Goals)
	expect(t, o, v3.Goals, v2.Goals)
	cfg, _, err := o.Config(ctx, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := cfg.Marshal()
	want, _ := config(t, 1).Marshal()
	if !bytes.Equal(got, want) {
		t.Errorf("journaled config of version %d:\n%s\nwant:\n%s", res.Version, got, want)
	}

	// From YAML: the text is journaled, the goals are Prepare's.
	n = o.Compiles()
	if p, err = o.PrepareYAML(ctx, chassistest.ConfigYAML(2, 0)); err != nil {
		t.Fatal(err)
	}
	if res, err = p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 1, "PrepareYAML and commit")
	v4, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameGoals(t, "committed from YAML", v4.Goals, v2.Goals)
	expect(t, o, v4.Goals, v3.Goals)
	if cfg, _, err = o.Config(ctx, res.Version); err != nil {
		t.Fatal(err)
	}
	got, _ = cfg.Marshal()
	want, _ = config(t, 2).Marshal()
	if !bytes.Equal(got, want) {
		t.Errorf("journaled config of version %d:\n%s\nwant:\n%s", res.Version, got, want)
	}
	if _, err := o.PrepareYAML(ctx, []byte("version: 1\nroles: [")); !errors.Is(err, goal.ErrInvalid) {
		t.Errorf("PrepareYAML(bad YAML) = %v, want goal.ErrInvalid", err)
	}

	bad, err := goal.Parse([]byte("version: 1\ninterfaces:\n  eth-9/0/1: {description: nowhere}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Prepare(ctx, bad); !errors.Is(err, goal.ErrInvalid) || !errors.Is(err, inventory.ErrUnknownModule) {
		t.Errorf("Prepare(interface of no module) = %v, want goal.ErrInvalid and inventory.ErrUnknownModule", err)
	}
	if _, err := o.Prepare(ctx, nil); !errors.Is(err, orchestrator.ErrInvalid) {
		t.Errorf("Prepare(nil) = %v, want ErrInvalid", err)
	}
	if _, err := (*orchestrator.Prepared)(nil).Commit(ctx); !errors.Is(err, orchestrator.ErrInvalid) {
		t.Errorf("nil Prepared: Commit = %v, want ErrInvalid", err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Commit(ctx); !errors.Is(err, orchestrator.ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
	if _, err := o.Prepare(ctx, config(t, 1)); !errors.Is(err, orchestrator.ErrClosed) {
		t.Errorf("Prepare after Close = %v, want ErrClosed", err)
	}
}

// TestPrepareStale: a box registered after Prepare gets its goal (the
// config is compiled again at Commit), and a box decommissioned after
// Prepare is left out, as a plain Commit would.
func TestPrepareStale(t *testing.T) {
	b := startBed(t)
	o := b.open(t)
	ctx := testCtx(t)
	for _, name := range []string{"spine1", "spine2", "leaf1"} {
		if _, err := o.Register(ctx, spec(b.tb.Switch(name))); err != nil {
			t.Fatal(err)
		}
	}
	leaf2 := b.tb.Switch("leaf2").Identity().Serial
	cfg := ecmpConfig(t) // roles only: it compiles for any set of boxes

	p, err := o.Prepare(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Goals(); len(g) != 3 || g[leaf2] != nil {
		t.Fatalf("prepared goals for %d boxes (leaf2: %v), want 3 without leaf2", len(g), g[leaf2] != nil)
	}
	if _, err := o.Register(ctx, spec(b.tb.Switch("leaf2"))); err != nil {
		t.Fatal(err)
	}
	n := o.Compiles()
	res, err := p.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 1, "commit after a registration")
	cur, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != res.Version {
		t.Fatalf("current version %d, want %d", cur.Number, res.Version)
	}
	if g := cur.Goals[leaf2]; g == nil || !sameIDs(groups(g)["ecmp1"], "up1", "up2") {
		t.Fatalf("leaf2, registered after Prepare: committed goal %v, want its role's groups", g)
	}
	plain, err := o.Compile(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameGoals(t, "after a registration", cur.Goals, plain)
	expect(t, o, cur.Goals)
	if n := boxGroupSize(t, o, leaf2, "ecmp1"); n != 2 {
		t.Fatalf("leaf2 holds ecmp1 with %d members, want 2", n)
	}

	// Prepared for 4 boxes, committed to 3.
	p, err = o.Prepare(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Decommission(ctx, leaf2); err != nil {
		t.Fatal(err)
	}
	n = o.Compiles()
	if res, err = p.Commit(ctx); err != nil {
		t.Fatalf("commit after a decommission: %v", err)
	}
	compiles(t, o, n, 1, "commit after a decommission")
	if cur, err = o.Current(ctx); err != nil {
		t.Fatal(err)
	}
	if cur.Number != res.Version || cur.Goals[leaf2] != nil || len(cur.Goals) != 3 {
		t.Fatalf("version %d: goals of %d boxes (leaf2: %v), want version %d for 3 boxes without leaf2",
			cur.Number, len(cur.Goals), cur.Goals[leaf2] != nil, res.Version)
	}
}

// TestPrepareReroute: with WithReroute, a config prepared while every port
// was up and committed after a leaf uplink went down is compiled again
// without the member on that port (read back on the box, the reason in the
// Committed event); one prepared while the port is down is committed as
// prepared.
func TestPrepareReroute(t *testing.T) {
	b := startBed(t)
	o := b.open(t, orchestrator.WithReroute())
	ctx := testCtx(t)
	boxes := b.registerAll(t, o)
	leaf1, spine1 := moduleOf(t, b, boxes, "leaf1"), moduleOf(t, b, boxes, "spine1")
	leaf1Serial := b.tb.Switch("leaf1").Identity().Serial
	iface := inventory.FormatInterface(leaf1, 1)

	p, err := o.Prepare(ctx, ecmpConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(p.Goals()[leaf1Serial]); !sameIDs(g["ecmp1"], "up1", "up2") {
		t.Fatalf("prepared groups of leaf1 = %v, want ecmp1 [up1 up2]", g)
	}
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.PortDown, events.Committed}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	// Both ends of the link: the monitor records a port before it
	// publishes its event, so the commit below sees both down.
	for want := map[uint32]bool{leaf1: true, spine1: true}; len(want) > 0; {
		e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == events.PortDown && e.Port == 1 && want[e.Module] })
		delete(want, e.Module)
	}

	n := o.Compiles()
	res, err := p.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 1, "commit after a port went down")
	e := waitEvent(t, ctx, sub, func(e events.Event) bool { return e.Kind == events.Committed && e.OpID == res.ID })
	if r := e.Attrs[events.AttrReason]; !strings.Contains(r, "ports down") || !strings.Contains(r, iface) {
		t.Errorf("commit event reason %q, want the down ports (%s)", r, iface)
	}
	v1, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := groups(v1.Goals[leaf1Serial]); !sameIDs(g["ecmp1"], "up2") || !sameIDs(g["single"], "only") {
		t.Fatalf("leaf1 groups committed while port 1 down = %v, want ecmp1 [up2], single [only]", g)
	}
	expect(t, o, v1.Goals)
	if n := boxGroupSize(t, o, leaf1Serial, "ecmp1"); n != 1 {
		t.Errorf("leaf1 holds ecmp1 with %d members, want 1", n)
	}

	n = o.Compiles()
	p, err = o.Prepare(ctx, ecmpConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 2, "prepare while ports are down (the config as given, then pruned)")
	if _, err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	compiles(t, o, n, 2, "prepare and commit while ports are down")
	v2, err := o.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameGoals(t, "prepared while down", v2.Goals, v1.Goals)
}
