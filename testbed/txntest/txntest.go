// Package txntest starts emulated boxes for the tests of packages txn and
// reconcile: n independent testbed switches, a driver device for each,
// their goal.Box descriptions and a bolt store, and reads boxes back to
// check them against goals.
package txntest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Ctx is a test context bounded to 90s.
func Ctx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Bed is n independent emulated switches, a device per switch and a bolt
// store.
type Bed struct {
	TB    *testbed.Testbed
	Devs  txn.DeviceMap
	Raw   map[string]driver.Device
	Boxes []goal.Box
	Store store.Store
}

// BoxName names the box of module m.
func BoxName(m int) string { return fmt.Sprintf("box%02d", m) }

// StartBed starts n boxes (modules 1..n, role "forwarder", 4 ports).
func StartBed(t testing.TB, n int) *Bed {
	t.Helper()
	ctx := Ctx(t)
	topo := &topology.Topology{}
	for m := 1; m <= n; m++ {
		topo.Switches = append(topo.Switches, topology.Switch{Name: BoxName(m), DeviceID: uint64(m), Ports: 4})
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	st, err := bolt.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &Bed{TB: tb, Devs: txn.DeviceMap{}, Raw: map[string]driver.Device{}, Store: st}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for m := 1; m <= n; m++ {
		wg.Go(func() {
			sw := tb.Switch(BoxName(m))
			dev, err := emulated.New().Open(ctx, driver.Spec{Name: sw.Name(), Address: sw.Addr(), DeviceID: sw.DeviceID(), Insecure: true})
			if err != nil {
				errs <- err
				return
			}
			ports, err := dev.Ports(ctx)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			b.Devs[sw.Name()] = dev
			b.Raw[sw.Name()] = dev
			b.Boxes = append(b.Boxes, goal.Box{Name: sw.Name(), Module: m, Role: "forwarder", Ports: ports})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range b.Raw {
			d.Close()
		}
	})
	return b
}

// ConfigYAML is version v of the test chassis: an L3 interface per box (by
// role), routes per module that move with v, and an interface description
// and MTU that say v.
func ConfigYAML(v, n, routes int) []byte {
	var s strings.Builder
	s.WriteString("version: 1\nroles:\n  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n")
	s.WriteString("      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\ninterfaces:\n")
	for m := 1; m <= n; m++ {
		fmt.Fprintf(&s, "  eth-%d/0/1: {description: \"v%d\", mtu: %d}\n", m, v, 1500+v)
	}
	s.WriteString("modules:\n")
	for m := 1; m <= n; m++ {
		fmt.Fprintf(&s, "  \"%d\":\n    objectives:\n", m)
		for r := 0; r < routes; r++ {
			fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.%d/32, next_hop: {id: nh%d, port: %d, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:%02x:%02x\"}}\n",
				v%200, r/256, r%256, r%2, 2+v%2, m/256, m%256)
		}
	}
	return []byte(s.String())
}

// Compile compiles ConfigYAML(v, boxes, routes) for the bed.
func (b *Bed) Compile(t testing.TB, v, routes int) map[string]*goal.Goal {
	t.Helper()
	cfg, err := goal.Parse(ConfigYAML(v, len(b.Boxes), routes))
	if err != nil {
		t.Fatal(err)
	}
	goals, err := goal.Compile(cfg, b.Boxes)
	if err != nil {
		t.Fatal(err)
	}
	return goals
}

// Expect reads every box back and fails unless it holds exactly want (its
// pipeline, the entities of the tables want and others touch, its gNMI
// leaves).
func (b *Bed) Expect(t testing.TB, want map[string]*goal.Goal, others ...map[string]*goal.Goal) {
	t.Helper()
	ctx := Ctx(t)
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for box, g := range want {
		wg.Go(func() {
			if p := b.ReadBack(ctx, box, g, others); p != "" {
				mu.Lock()
				problems = append(problems, p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
}

// ReadBack returns what differs between box and g ("" when nothing).
func (b *Bed) ReadBack(ctx context.Context, box string, g *goal.Goal, others []map[string]*goal.Goal) string {
	dev := b.Raw[box]
	c, err := dev.P4Runtime()
	if err != nil {
		return err.Error()
	}
	// Any client may read (P4Runtime spec "Reference Architecture"): the
	// box may have another primary.
	if err := c.WaitConnected(ctx); err != nil {
		return box + ": " + err.Error()
	}
	pc, err := builtin.Get(g.Pipeconf)
	if err != nil {
		return box + ": " + err.Error()
	}
	cfg, _ := dev.PackagePipeconf(ctx, pc)
	fpc, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY)
	if err != nil {
		return box + ": " + err.Error()
	}
	if fpc.GetCookie().GetCookie() != driver.Cookie(pc, cfg) {
		return fmt.Sprintf("%s: runs pipeline cookie %v, want %s", box, fpc.GetCookie(), g.Pipeconf)
	}
	cover := []*goal.Goal{g}
	for _, o := range others {
		cover = append(cover, o[box])
	}
	actual, err := c.ReadAll(ctx, txn.Wildcards(cover...)...)
	if err != nil {
		return box + ": read: " + err.Error()
	}
	plan, err := diff.Compute(g.Entities, actual)
	if err != nil {
		return box + ": " + err.Error()
	}
	if !plan.Empty() {
		return fmt.Sprintf("%s: %d missing, %d different, %d extra entities", box, len(plan.Inserts), len(plan.Modifies), len(plan.Deletes))
	}
	gn, err := dev.GNMI()
	if err != nil {
		return box + ": " + err.Error()
	}
	for _, l := range g.Config {
		recs, err := gn.Get(ctx, []string{l.Path})
		if err != nil || len(recs) != 1 || fmt.Sprint(recs[0].Value) != fmt.Sprint(l.Value) {
			return fmt.Sprintf("%s: %s = %v (%v), want %v", box, l.Path, recs, err, l.Value)
		}
	}
	return ""
}
