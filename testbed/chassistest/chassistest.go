package chassistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Timeout bounds each helper that talks to the chassis (starting the
// store and the orchestrator, registering, dialing). It is generous because
// the race detector on two shared cores slows everything down.
const Timeout = 30 * time.Second

// The default chassis size: LeafSpine(DefaultSpines, DefaultLeaves).
const (
	DefaultSpines = 2
	DefaultLeaves = 2
)

// Context returns a context that ends with the test or after d, whichever
// comes first.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Chassis is a running leaf-spine testbed with what an orchestrator needs
// to drive it. Its fields are there for tests that need more than the
// helpers give (fault injection on a switch, a second orchestrator on the
// same store); they must not be replaced.
type Chassis struct {
	// Testbed holds the emulated switches, spines first; nil with
	// WithoutSwitches.
	Testbed *testbed.Testbed
	// Store is the bolt store in Dir. It is closed at cleanup, after every
	// orchestrator Open started.
	Store *bolt.Store
	// Drivers is the built-in driver registry.
	Drivers *driver.Registry
	// Dir is the store's data directory, inside t.TempDir().
	Dir string

	spines, leaves int
	hostPorts      uint32
}

type options struct {
	spines, leaves int
	hostPorts      uint32
	noSwitches     bool
}

// Option changes what Start starts.
type Option func(*options)

// WithSize sets the number of spines and leaves (default 2 and 2). Values
// below 1 are taken as 1, so that every module has a port 1 for
// ConfigYAML's interface.
func WithSize(spines, leaves int) Option {
	return func(o *options) { o.spines, o.leaves = max(spines, 1), max(leaves, 1) }
}

// WithHostPorts gives every leaf n host-facing ports after its uplinks
// (topology.WithHostPorts).
func WithHostPorts(n uint32) Option { return func(o *options) { o.hostPorts = n } }

// WithoutSwitches starts no testbed: an orchestrator with no box to
// drive, for tests of the API itself (authentication, errors) that would
// only pay for switches they never use.
func WithoutSwitches() Option { return func(o *options) { o.noSwitches = true } }

// Start starts the chassis: the testbed (unless WithoutSwitches), the bolt
// store in a temporary directory and the built-in drivers. All of it ends
// with the test.
func Start(t testing.TB, opts ...Option) *Chassis {
	t.Helper()
	cfg := options{spines: DefaultSpines, leaves: DefaultLeaves}
	for _, o := range opts {
		o(&cfg)
	}
	c := &Chassis{Dir: t.TempDir(), spines: cfg.spines, leaves: cfg.leaves, hostPorts: cfg.hostPorts}
	if !cfg.noSwitches {
		tb, err := testbed.Start(topology.LeafSpine(cfg.spines, cfg.leaves, topology.WithHostPorts(cfg.hostPorts)))
		if err != nil {
			t.Fatalf("chassistest: testbed LeafSpine(%d,%d): %v", cfg.spines, cfg.leaves, err)
		}
		t.Cleanup(func() { _ = tb.Close() })
		c.Testbed = tb
	}
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatalf("chassistest: driver registry: %v", err)
	}
	c.Drivers = reg
	st, err := bolt.Open(Context(t, Timeout), c.Dir)
	if err != nil {
		t.Fatalf("chassistest: store in %s: %v", c.Dir, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c.Store = st
	return c
}

// Switches returns the testbed's switches in module order (spines, then
// leaves); none with WithoutSwitches.
func (c *Chassis) Switches() []*testbed.Switch {
	if c.Testbed == nil {
		return nil
	}
	return c.Testbed.Switches()
}

// Open starts an orchestrator on the chassis's store and drivers, closed
// at cleanup. The defaults suit tests: the reconciler runs only when a test
// asks (interval of an hour), and a box gets 10s to answer. opts come
// after them, so they override.
func (c *Chassis) Open(t testing.TB, opts ...orchestrator.Option) *orchestrator.Orchestrator {
	t.Helper()
	opts = append([]orchestrator.Option{
		orchestrator.WithReconcileInterval(time.Hour),
		orchestrator.WithBoxTimeout(10 * time.Second),
	}, opts...)
	o, err := orchestrator.New(Context(t, Timeout), c.Store, c.Drivers, opts...)
	if err != nil {
		t.Fatalf("chassistest: orchestrator: %v", err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

// Role is the role of a leaf-spine switch: spines carry the fabric,
// leaves forward.
func Role(sw *testbed.Switch) inventory.Role {
	if strings.HasPrefix(sw.Name(), "spine") {
		return inventory.RoleFabric
	}
	return inventory.RoleForwarder
}

// Spec is how the orchestrator registers sw: the emulated driver in
// plaintext, with the switch's role and device ID.
func Spec(sw *testbed.Switch) inventory.BoxSpec {
	return inventory.BoxSpec{Name: sw.Name(), Driver: builtin.Emulated, Address: sw.Addr(),
		Role: Role(sw), DeviceID: sw.DeviceID(), Insecure: true}
}

// RegisterAll registers every switch with o in testbed order and fails
// unless switch i became module i+1 with its own serial: ConfigYAML and
// the tests' module numbers rely on that order.
func (c *Chassis) RegisterAll(t testing.TB, o *orchestrator.Orchestrator) []inventory.Box {
	t.Helper()
	ctx := Context(t, Timeout)
	var boxes []inventory.Box
	for i, sw := range c.Switches() {
		box, err := o.Register(ctx, Spec(sw))
		if err != nil {
			t.Fatalf("chassistest: register %s: %v", sw.Name(), err)
		}
		checkModule(t, sw, i, box.Module, box.Serial)
		boxes = append(boxes, box)
	}
	return boxes
}

// checkModule fails unless the i-th switch got module i+1 and its serial.
func checkModule(t testing.TB, sw *testbed.Switch, i int, module uint32, serial string) {
	t.Helper()
	if module != uint32(i+1) || serial != sw.Identity().Serial {
		t.Fatalf("chassistest: switch %s registered as module %d serial %q, want module %d serial %q",
			sw.Name(), module, serial, i+1, sw.Identity().Serial)
	}
}

// ConfigYAML is version v of the default chassis's config (LeafSpine(2,2)
// registered by RegisterAll), as (*Chassis).ConfigYAML describes it. It
// needs no running chassis, so tests that only compile or diff configs
// can use it too.
func ConfigYAML(v, routes int) []byte {
	return configYAML(DefaultSpines, DefaultLeaves, 0, v, routes)
}

// ConfigYAML is version v of the chassis config: spines (fabric role) run
// onos-basic, leaves (forwarder role) fabric-v1model with an L3 interface
// on port 1; every module has 3+routes /32 routes whose prefixes
// (10.v.x.y) and output ports move with v, and an interface eth-M/0/1
// described "vV". So two versions differ on every box (inserts and deletes
// in every diff), the same v gives the same bytes, and v appears in the
// committed config. v should stay below 256 to keep the prefixes valid.
func (c *Chassis) ConfigYAML(v, routes int) []byte {
	return configYAML(c.spines, c.leaves, c.hostPorts, v, routes)
}

func configYAML(spines, leaves int, hostPorts uint32, v, routes int) []byte {
	n := spines + leaves
	var s strings.Builder
	s.WriteString("version: 1\nroles:\n  fabric: {pipeconf: onos-basic}\n")
	s.WriteString("  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n")
	s.WriteString("      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\ninterfaces:\n")
	for m := 1; m <= n; m++ {
		fmt.Fprintf(&s, "  eth-%d/0/1: {description: \"v%d\"}\n", m, v)
	}
	s.WriteString("modules:\n")
	for m := 1; m <= n; m++ {
		// Routes alternate between ports 1 and 2 where the box has two:
		// the driver's port map refuses a port the box lacks.
		ports := leaves // a spine has one downlink per leaf
		if m > spines {
			ports = spines + int(hostPorts)
		}
		ports = min(ports, 2)
		fmt.Fprintf(&s, "  \"%d\":\n    objectives:\n", m)
		for r := range 3 + routes {
			port := 1 + (r+v)%ports
			if m <= spines { // basic.p4 forwards without rewriting MACs
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.%d/32, next_hop: {id: nh%d, port: %d}}\n",
					v, r/256, r%256, r%2, port)
			} else {
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.%d/32, next_hop: {id: nh%d, port: %d, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:00:%02x\"}}\n",
					v, r/256, r%256, r%2, port, m%256)
			}
		}
	}
	return []byte(s.String())
}
