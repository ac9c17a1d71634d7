package discovery_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// testTimeout bounds every test: generous, for two loaded cores.
const testTimeout = 60 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// bed is a running testbed with a primary client per switch and a program
// pushed to every switch.
type bed struct {
	tb      *testbed.Testbed
	pc      *pipeline.Pipeconf
	clients map[string]*client.Client
	devices []discovery.Device
}

// startBed starts a leaf-spine testbed, connects to every switch as
// primary and pushes program.
func startBed(t testing.TB, spines, leaves int, program string) *bed {
	t.Helper()
	ctx := testCtx(t)
	pc, err := builtin.Get(program)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pc.DeviceConfig(pipeline.TargetEmulated)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := testbed.Start(topology.LeafSpine(spines, leaves))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	b := &bed{tb: tb, pc: pc, clients: map[string]*client.Client{}}
	for _, sw := range tb.Switches() {
		c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()),
			client.WithElectionID(client.ElectionID{Low: 10}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.WaitPrimary(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
			t.Fatal(err)
		}
		pl, err := pc.Pipeliner()
		if err != nil {
			t.Fatal(err)
		}
		ports := make([]uint32, sw.Ports())
		for i := range ports {
			ports[i] = uint32(i + 1)
		}
		b.clients[sw.Name()] = c
		b.devices = append(b.devices, discovery.Device{ID: sw.Name(), Client: c, Ports: ports, Pipeliner: pl})
	}
	return b
}

// links returns the links of the testbed's topology, sorted.
func (b *bed) links() []discovery.Link {
	var out []discovery.Link
	for _, l := range b.tb.Topology().Links {
		out = append(out, discovery.NewLink(discovery.Endpoint{Device: l.A.Switch, Port: l.A.Port}, discovery.Endpoint{Device: l.B.Switch, Port: l.B.Port}))
	}
	slices.SortFunc(out, discovery.Link.Compare)
	return out
}

// without returns links without l.
func without(links []discovery.Link, l discovery.Link) []discovery.Link {
	return slices.DeleteFunc(slices.Clone(links), func(x discovery.Link) bool { return x == l })
}

// start starts discovery on every device of the bed, stopped at cleanup.
func (b *bed) start(t testing.TB, opts ...discovery.Option) *discovery.Discovery {
	t.Helper()
	d, err := discovery.Start(testCtx(t), b.devices, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
	return d
}

// startHooked is start with the packet-in verdicts hooked into a channel
// before any device is added.
func (b *bed) startHooked(t testing.TB, opts ...discovery.Option) (*discovery.Discovery, <-chan verdict) {
	t.Helper()
	d, err := discovery.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
	ch := verdicts(d)
	for _, dev := range b.devices {
		if err := d.Add(testCtx(t), dev); err != nil {
			t.Fatal(err)
		}
	}
	return d, ch
}

// watch follows a Discovery's events and the links they report up.
type watch struct {
	d  *discovery.Discovery
	up map[discovery.Link]bool
}

// watchEvents follows d's events from the first.
func watchEvents(d *discovery.Discovery) *watch {
	return &watch{d: d, up: map[discovery.Link]bool{}}
}

// next returns the next event, within the test's deadline.
func (w *watch) next(t testing.TB) discovery.Event {
	t.Helper()
	select {
	case ev, ok := <-w.d.Events():
		if !ok {
			t.Fatal("events closed")
		}
		switch ev.Kind {
		case discovery.LinkDiscovered:
			w.up[ev.Link] = true
		case discovery.LinkLost:
			delete(w.up, ev.Link)
		}
		return ev
	case <-time.After(testTimeout / 2):
		t.Fatalf("no event; links up %v", keys(w.up))
		return discovery.Event{}
	}
}

// links reads events until the links they report up are exactly want,
// and checks that Links agrees.
func (w *watch) links(t testing.TB, want []discovery.Link) {
	t.Helper()
	for !sameSet(w.up, want) {
		w.next(t)
	}
	if got := w.d.Links(); !slices.Equal(got, want) {
		t.Fatalf("Links() = %v, want %v", got, want)
	}
}

// event checks the next event.
func (w *watch) event(t testing.TB, kind discovery.EventKind, l discovery.Link, why discovery.Reason) {
	t.Helper()
	if ev := w.next(t); ev.Kind != kind || ev.Link != l || ev.Reason != why {
		t.Fatalf("event %v, want %v %v (%s)", ev, kind, l, why)
	}
}

func sameSet(have map[discovery.Link]bool, want []discovery.Link) bool {
	if len(have) != len(want) {
		return false
	}
	for _, l := range want {
		if !have[l] {
			return false
		}
	}
	return true
}

func keys(m map[discovery.Link]bool) []discovery.Link {
	out := make([]discovery.Link, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	slices.SortFunc(out, discovery.Link.Compare)
	return out
}

// hasPunt reports whether a device holds the punt rule its pipeliner
// writes.
func (b *bed) hasPunt(t testing.TB, dev discovery.Device) bool {
	t.Helper()
	want, err := dev.Pipeliner.Translate(discovery.PuntObjective())
	if err != nil {
		t.Fatal(err)
	}
	got, err := dev.Client.ReadAll(testCtx(t), &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g *p4v1.Entity) bool { return diff.Equal(g, w) }) {
			return false
		}
	}
	return true
}

// verdict is the fate of one packet-in.
type verdict struct {
	device, what string
	sent         time.Time
}

// verdicts hooks d's packet-in verdicts into a channel.
func verdicts(d *discovery.Discovery) <-chan verdict {
	ch := make(chan verdict, 4096)
	var mu sync.Mutex
	discovery.SetVerdictHook(d, func(device, what string, sent time.Time) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case ch <- verdict{device, what, sent}:
		default:
		}
	})
	return ch
}

// waitVerdict waits for a verdict that match accepts, skipping others.
func waitVerdict(t testing.TB, ch <-chan verdict, match func(verdict) bool) verdict {
	t.Helper()
	deadline := time.After(testTimeout / 2)
	for {
		select {
		case v := <-ch:
			if match(v) {
				return v
			}
		case <-deadline:
			t.Fatal("no matching packet-in verdict")
			return verdict{}
		}
	}
}
