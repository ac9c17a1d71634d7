package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/orchestrator/txn"
	pipebuiltin "github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// demoFlags are the flags of "fabricctl demo".
type demoFlags struct {
	spines, leaves int
	timeout        time.Duration
}

// The demo's tempo. Everything runs on loopback, so the intervals are far
// shorter than a real chassis would use: the demo waits on events, and
// these say how soon the events come.
const (
	demoProbeInterval  = 200 * time.Millisecond  // LLDP probe rounds
	demoSampleInterval = 100 * time.Millisecond  // gNOI Time samples per box
	demoTimeThreshold  = 5 * time.Millisecond    // clock alarm raised past this offset...
	demoTimeHysteresis = 1 * time.Millisecond    // ...cleared (converged) under threshold − this
	demoReconcile      = 5 * time.Second         // reconciler passes
	demoBoxTimeout     = 5 * time.Second         // one box's apply in a commit
	demoClockSpan      = 1500 * time.Millisecond // sampling before a clock's drift is shown
	demoSteady         = 5                       // samples in a row within the clear level: converged
)

// demoSkews are the clock faults injected into some leaves (by leaf number)
// so that the clock tables have something to show. Leaves the topology does
// not have are skipped.
var demoSkews = []struct {
	leaf   int
	offset time.Duration
	drift  float64 // ppm
}{
	{leaf: 2, offset: 40 * time.Millisecond},
	{leaf: 3, offset: -25 * time.Millisecond},
	{leaf: 4, offset: 12 * time.Millisecond, drift: 500},
}

// newDemoCmd is "fabricctl demo": the whole stack in one process, as the
// first thing a new user runs. It uses the public library API only, the
// way an application would.
func newDemoCmd(opts *globalOptions) *cobra.Command {
	f := demoFlags{spines: 2, leaves: 4, timeout: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run an emulated leaf-spine as one chassis: commit, links, clocks and a reroute",
		Long: `Run the whole stack in this process, with nothing installed: an emulated
leaf-spine fabric (P4Runtime, gNMI and gNOI on loopback), and the orchestrator
on a temporary store that makes it one chassis. The demo

  1. registers every switch (spines as fabric boxes, leaves as forwarders),
     each getting a module ID;
  2. commits a routed config to all of them as one transaction: every leaf
     serves a host subnet 10.0.<leaf>.0/24 and reaches the others over an
     ECMP group across the spines;
  3. shows the links that LLDP discovery found;
  4. shows each box's clock offset (some leaves are skewed on purpose), then
     points every box's NTP at the orchestrator and shows them converge;
  5. takes leaf1's first uplink down and shows the events and the reroute:
     the ECMP groups of leaf1 lose the member through that port.

It then exits; the store and the switches are gone. With -o json or -o yaml
it prints one document with every section instead of the tables.`,
		Example: "  fabricctl demo\n  fabricctl demo --spines 4 --leaves 8\n  fabricctl demo -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			p, err := opts.printer(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			rep, err := runDemo(ctx, cmd.OutOrStdout(), p, f)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
					return fmt.Errorf("demo: %w (the demo is bounded by --timeout %v)", err, f.timeout)
				}
				return fmt.Errorf("demo: %w", err)
			}
			if p.Format() != output.FormatTable {
				return p.Print(rep)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.spines, "spines", f.spines, "number of spines (2 to 8: ECMP needs two)")
	fl.IntVar(&f.leaves, "leaves", f.leaves, "number of leaves (2 to 32)")
	fl.DurationVar(&f.timeout, "timeout", f.timeout, "bound on the whole demo")
	return cmd
}

func (f demoFlags) validate() error {
	var errs []error
	if f.spines < 2 || f.spines > 8 {
		errs = append(errs, fmt.Errorf("--spines %d: want 2 to 8 (the reroute needs two uplinks per leaf)", f.spines))
	}
	if f.leaves < 2 || f.leaves > 32 {
		errs = append(errs, fmt.Errorf("--leaves %d: want 2 to 32", f.leaves))
	}
	if f.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %v: want a positive duration", f.timeout))
	}
	return errors.Join(errs...)
}

// demoReport is everything the demo shows: one document in JSON and YAML.
type demoReport struct {
	Topology   string            `json:"topology"`
	Modules    []demoModule      `json:"modules"`
	Commit     demoCommit        `json:"commit"`
	Links      []demoLink        `json:"links"`
	Clocks     []demoClock       `json:"clocks"`
	ClocksNTP  []demoClock       `json:"clocks_after_ntp"`
	Reroute    demoReroute       `json:"reroute"`
	ElapsedMS  int64             `json:"elapsed_ms"`
	skewByName map[string]string // the injected clock faults, by switch name
}

type demoModule struct {
	Module   uint32 `json:"module"`
	Name     string `json:"name"`
	Serial   string `json:"serial"`
	Role     string `json:"role"`
	Pipeconf string `json:"pipeconf"`
	Ports    int    `json:"ports"`
	Address  string `json:"address"`
}

type demoCommit struct {
	Op      string          `json:"op"`
	Version int64           `json:"version"`
	Boxes   []demoBoxChange `json:"boxes"`
}

type demoBoxChange struct {
	Module   uint32 `json:"module"`
	Name     string `json:"name"`
	Pipeline bool   `json:"pipeline"`
	Inserts  int    `json:"inserts"`
	Modifies int    `json:"modifies"`
	Deletes  int    `json:"deletes"`
	GNMI     int    `json:"gnmi"`
}

type demoLink struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Cable string `json:"cable"`
}

type demoClock struct {
	Module     uint32  `json:"module"`
	Name       string  `json:"name"`
	Injected   string  `json:"injected,omitempty"`
	OffsetMS   float64 `json:"offset_ms"`
	BoundMS    float64 `json:"error_bound_ms"`
	DriftPPM   float64 `json:"drift_ppm"`
	DriftError float64 `json:"drift_error_ppm"`
	Alarm      bool    `json:"alarm"`
}

type demoReroute struct {
	Interface string          `json:"interface"`
	Cable     string          `json:"cable"`
	Events    []demoEvent     `json:"events"`
	Op        string          `json:"op"`
	Version   int64           `json:"version"`
	Reason    string          `json:"reason"`
	Groups    []demoGroup     `json:"groups"`
	Diff      []demoBoxChange `json:"diff"`
}

type demoEvent struct {
	AfterMS   float64 `json:"after_ms"`
	Kind      string  `json:"kind"`
	Interface string  `json:"interface,omitempty"`
	Detail    string  `json:"detail,omitempty"`
}

type demoGroup struct {
	Box     string   `json:"box"`
	Group   string   `json:"group"`
	Routes  int      `json:"routes"`
	Before  []string `json:"before"`
	After   []string `json:"after"`
	Changed bool     `json:"changed"`
}

// demoRun is one run of the demo: where it writes and what it found.
type demoRun struct {
	w     io.Writer
	p     *output.Printer
	f     demoFlags
	start time.Time
	step  int
	rep   *demoReport

	tb          *testbed.Testbed
	o           *orchestrator.Orchestrator
	boxes       []inventory.Box
	names       map[uint32]string    // module → switch name
	linkSub     *events.Subscription // LinkDiscovered events from the commit on
	commitStart time.Time            // when the routed config's commit began
}

const demoSteps = 6

// say prints a story line (tables only: JSON and YAML get one document).
func (d *demoRun) say(format string, args ...any) {
	if d.p.Format() == output.FormatTable {
		fmt.Fprintf(d.w, format+"\n", args...)
	}
}

// heading starts the next step of the story.
func (d *demoRun) heading(format string, args ...any) {
	d.step++
	if d.step > 1 {
		d.say("")
	}
	d.say("[%d/%d] %s", d.step, demoSteps, fmt.Sprintf(format, args...))
}

// table prints a table (tables only).
func (d *demoRun) table(headers []string, rows [][]string) error {
	if d.p.Format() != output.FormatTable {
		return nil
	}
	return d.p.Table(headers, rows)
}

// runDemo runs the demo under ctx, printing the story to w in table mode,
// and returns what it showed.
func runDemo(ctx context.Context, w io.Writer, p *output.Printer, f demoFlags) (*demoReport, error) {
	d := &demoRun{w: w, p: p, f: f, start: time.Now(), rep: &demoReport{skewByName: map[string]string{}}}

	// The testbed: switches with real gRPC servers on loopback. Leaves get
	// one host port after their uplinks (port spines+1).
	topo := topology.LeafSpine(f.spines, f.leaves, topology.WithHostPorts(1))
	for i := range topo.Switches {
		// Boxes are known by serial, not by name: make the two differ.
		topo.Switches[i].Identity.Serial = fmt.Sprintf("EMU%04d", 1000+topo.Switches[i].DeviceID)
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		return nil, fmt.Errorf("start testbed: %w", err)
	}
	defer tb.Close()
	d.tb = tb
	for _, s := range demoSkews {
		name := "leaf" + strconv.Itoa(s.leaf)
		c := tb.Clock(name)
		if c == nil {
			continue
		}
		c.SetOffset(s.offset)
		desc := signed(s.offset)
		if s.drift != 0 {
			if err := c.SetDrift(s.drift); err != nil {
				return nil, fmt.Errorf("skew the clock of %s: %w", name, err)
			}
			desc += fmt.Sprintf(" %+gppm", s.drift)
		}
		d.rep.skewByName[name] = desc
	}
	d.rep.Topology = fmt.Sprintf("leaf-spine, %d spines, %d leaves", f.spines, f.leaves)

	// The orchestrator, on a bbolt store in a folder that goes at exit.
	dir, err := os.MkdirTemp("", "fabric-demo-")
	if err != nil {
		return nil, fmt.Errorf("store folder: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		return nil, err
	}
	o, err := orchestrator.New(ctx, st, drivers,
		orchestrator.WithReroute(),
		orchestrator.WithDiscovery(discovery.WithInterval(demoProbeInterval)),
		orchestrator.WithTimeSync(timesync.WithInterval(demoSampleInterval), timesync.WithThreshold(demoTimeThreshold), timesync.WithHysteresis(demoTimeHysteresis)),
		// By default the orchestrator points every box's NTP at itself as
		// soon as the box is registered; the demo does it itself, later,
		// to show the clocks before and after.
		orchestrator.WithNTPConfig(false),
		orchestrator.WithReconcileInterval(demoReconcile),
		orchestrator.WithBoxTimeout(demoBoxTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("start orchestrator: %w", err)
	}
	defer o.Close()
	d.o = o

	d.say("fabricctl demo: %d emulated switches (%d spines, %d leaves) run as one chassis by the orchestrator",
		len(tb.Switches()), f.spines, f.leaves)
	d.say("store: %s (removed at exit)", dir)

	for _, step := range []func(context.Context) error{d.register, d.commit, d.links, d.clocks, d.reroute} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	elapsed := time.Since(d.start)
	d.rep.ElapsedMS = elapsed.Milliseconds()
	d.say("")
	d.say("Done in %s. The switches stop and the store is removed as the demo exits.", elapsed.Round(time.Millisecond))
	return d.rep, nil
}

// register registers every switch: spines are fabric boxes, leaves
// forwarders. Registering in topology order gives spines the first module
// IDs, then leaves.
func (d *demoRun) register(ctx context.Context) error {
	d.names = map[uint32]string{}
	for _, sw := range d.tb.Switches() {
		role := inventory.RoleForwarder
		if strings.HasPrefix(sw.Name(), "spine") {
			role = inventory.RoleFabric
		}
		box, err := d.o.Register(ctx, inventory.BoxSpec{Name: sw.Name(), Driver: builtin.Emulated, Address: sw.Addr(),
			Role: role, DeviceID: sw.DeviceID(), Insecure: true})
		if err != nil {
			return fmt.Errorf("register %s: %w", sw.Name(), err)
		}
		d.boxes = append(d.boxes, box)
		d.names[box.Module] = sw.Name()
	}
	return nil
}

// commit commits the routed config and prints the modules and what the
// transaction changed on each.
func (d *demoRun) commit(ctx context.Context) error {
	cfg := demoConfig(d.boxes, d.f.spines)
	// Links are discovered once the boxes have their pipeline, that is
	// from this commit on: listen before committing so no event is missed.
	sub, err := d.o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.LinkDiscovered}})
	if err != nil {
		return err
	}
	d.linkSub = sub
	t := time.Now()
	res, err := d.o.Commit(ctx, cfg, txn.WithComment("fabricctl demo: routed leaf-spine"))
	if err != nil {
		return fmt.Errorf("commit the routed config: %w", err)
	}
	d.commitStart = t
	took := time.Since(t)
	cur, err := d.o.Current(ctx)
	if err != nil {
		return err
	}
	d.rep.Commit = demoCommit{Op: res.ID, Version: res.Version}
	for _, b := range d.boxes {
		ch := res.Changes[b.Serial]
		d.rep.Commit.Boxes = append(d.rep.Commit.Boxes, demoBoxChange{Module: b.Module, Name: b.Spec.Name, Pipeline: ch.Pipeline,
			Inserts: ch.Inserts, Modifies: ch.Modifies, Deletes: ch.Deletes, GNMI: ch.GNMI})
		m := demoModule{Module: b.Module, Name: b.Spec.Name, Serial: b.Serial, Role: string(b.Spec.Role), Ports: len(b.Ports), Address: b.Spec.Address}
		if g := cur.Goals[b.Serial]; g != nil {
			m.Pipeconf = g.Pipeconf
		}
		d.rep.Modules = append(d.rep.Modules, m)
	}

	d.heading("Registered %d boxes: each got a module ID; port p of module m is interface eth-m/0/p.", len(d.boxes))
	rows := make([][]string, 0, len(d.rep.Modules))
	for _, m := range d.rep.Modules {
		rows = append(rows, []string{strconv.FormatUint(uint64(m.Module), 10), m.Name, m.Serial, m.Role, m.Pipeconf, strconv.Itoa(m.Ports), m.Address})
	}
	if err := d.table([]string{"MODULE", "NAME", "SERIAL", "ROLE", "PIPECONF", "PORTS", "ADDRESS"}, rows); err != nil {
		return err
	}

	d.heading("Committed a routed config to the %d boxes as one transaction (version %d, op %s) in %s.",
		len(d.boxes), res.Version, res.ID, took.Round(time.Millisecond))
	d.say("Leaves: host subnet 10.0.<leaf>.0/24 on port %d, the other leaves' subnets over an ECMP group", d.f.spines+1)
	d.say("across the spines; spines: each leaf's subnet out of the port to that leaf.")
	rows = rows[:0]
	for _, c := range d.rep.Commit.Boxes {
		rows = append(rows, []string{strconv.FormatUint(uint64(c.Module), 10), c.Name, yesNo(c.Pipeline), strconv.Itoa(c.Inserts), strconv.Itoa(c.GNMI)})
	}
	return d.table([]string{"MODULE", "NAME", "PIPELINE SET", "P4 INSERTS", "GNMI LEAVES"}, rows)
}

// demoRouterMAC is the router MAC of a module; demoHostMAC the MAC of the
// host behind a leaf's host port.
func demoRouterMAC(module uint32) objective.MAC {
	return objective.MAC{0x00, 0xaa, 0x00, 0x00, byte(module >> 8), byte(module)}
}

func demoHostMAC(module uint32) objective.MAC {
	return objective.MAC{0x00, 0xcc, 0x00, 0x00, byte(module >> 8), byte(module)}
}

// demoConfig is the routed chassis config of a LeafSpine(spines, leaves)
// whose boxes are registered as boxes (spines with the fabric role, leaves
// forwarders). Leaf j's uplink i (port i) goes to spine i, and spine i's
// port j to leaf j (topology.LeafSpine's numbering); leaf j's host port is
// spines+1 and serves 10.0.j.0/24.
func demoConfig(boxes []inventory.Box, spines int) *goal.Config {
	var spineBoxes, leafBoxes []inventory.Box
	for _, b := range boxes {
		if b.Spec.Role == inventory.RoleFabric {
			spineBoxes = append(spineBoxes, b)
		} else {
			leafBoxes = append(leafBoxes, b)
		}
	}
	subnet := func(leaf int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(leaf), 0}), 24)
	}
	cfg := &goal.Config{
		Version: goal.SchemaVersion,
		// Both tiers run fabric.p4: routed interfaces, routes, ECMP
		// groups and the LLDP punt rule discovery needs.
		Roles: map[string]goal.Section{
			string(inventory.RoleFabric):    {Pipeconf: pipebuiltin.FabricV1Model},
			string(inventory.RoleForwarder): {Pipeconf: pipebuiltin.FabricV1Model},
		},
		Interfaces: map[string]goal.Interface{},
		Modules:    map[string]goal.Section{},
	}
	describe := func(module, port uint32, text string) {
		cfg.Interfaces[inventory.FormatInterface(module, port)] = goal.Interface{Enabled: ptr(true), Description: ptr(text)}
	}
	for j, leaf := range leafBoxes {
		j := j + 1 // leaf j, as topology.LeafSpine numbers them
		mac := demoRouterMAC(leaf.Module)
		var objs objective.List
		// The ECMP group: one member per uplink. Every route to another
		// leaf carries it inline with the same ID, so the box holds it once.
		group := objective.NextHopGroup{ID: "spines"}
		for i, spine := range spineBoxes {
			port := uint32(i + 1)
			objs = append(objs, objective.L3Interface{Port: port, RouterMAC: mac})
			group.Members = append(group.Members, objective.Weighted{NextHop: objective.NextHop{
				ID: spine.Spec.Name, Port: port, SrcMAC: mac, DstMAC: demoRouterMAC(spine.Module)}})
			describe(leaf.Module, port, "uplink to "+spine.Spec.Name)
		}
		host := uint32(spines + 1)
		objs = append(objs,
			objective.L3Interface{Port: host, RouterMAC: mac},
			objective.Route{Prefix: subnet(j), Target: objective.Target{NextHop: &objective.NextHop{
				ID: "host", Port: host, SrcMAC: mac, DstMAC: demoHostMAC(leaf.Module)}}})
		describe(leaf.Module, host, "hosts 10.0."+strconv.Itoa(j)+".0/24")
		for k := range leafBoxes {
			if k+1 == j {
				continue
			}
			g := group
			g.Members = slices.Clone(group.Members)
			objs = append(objs, objective.Route{Prefix: subnet(k + 1), Target: objective.Target{Group: &g}})
		}
		cfg.Modules[strconv.FormatUint(uint64(leaf.Module), 10)] = goal.Section{Objectives: objs}
	}
	for _, spine := range spineBoxes {
		mac := demoRouterMAC(spine.Module)
		var objs objective.List
		for j, leaf := range leafBoxes {
			port := uint32(j + 1)
			objs = append(objs,
				objective.L3Interface{Port: port, RouterMAC: mac},
				objective.Route{Prefix: subnet(j + 1), Target: objective.Target{NextHop: &objective.NextHop{
					ID: leaf.Spec.Name, Port: port, SrcMAC: mac, DstMAC: demoRouterMAC(leaf.Module)}}})
			describe(spine.Module, port, "downlink to "+leaf.Spec.Name)
		}
		cfg.Modules[strconv.FormatUint(uint64(spine.Module), 10)] = goal.Section{Objectives: objs}
	}
	return cfg
}

func ptr[T any](v T) *T { return &v }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// port names a port chassis-wide and, for the reader, by its switch:
// "eth-3/0/1 (leaf1:1)".
func (d *demoRun) port(module, port uint32) string {
	return fmt.Sprintf("%s (%s:%d)", inventory.FormatInterface(module, port), d.names[module], port)
}

// endpointModule reads a discovery endpoint's device ID: the orchestrator
// names devices by module ID in decimal.
func endpointModule(e discovery.Endpoint) (uint32, error) {
	m, err := strconv.ParseUint(e.Device, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("link endpoint %q: device is not a module ID: %w", e.Device, err)
	}
	return uint32(m), nil
}

// links waits until discovery knows every cable of the topology, checks
// that it found exactly those, and prints them.
func (d *demoRun) links(ctx context.Context) error {
	defer d.linkSub.Cancel()
	want := len(d.tb.Topology().Links)
	for len(d.o.Links()) < want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("discover links: %d of %d found: %w", len(d.o.Links()), want, ctx.Err())
		case _, ok := <-d.linkSub.C():
			if !ok {
				return fmt.Errorf("discover links: %d of %d found: event subscription ended: %w", len(d.o.Links()), want, context.Cause(ctx))
			}
		}
	}
	took := time.Since(d.commitStart)

	// Every link found must be a cable of the topology.
	cables := map[string]bool{}
	for _, l := range d.tb.Topology().Links {
		cables[l.A.String()+"|"+l.B.String()] = true
		cables[l.B.String()+"|"+l.A.String()] = true
	}
	type row struct {
		link             demoLink
		module, peerPort uint32
		port             uint32
	}
	var rows []row
	for _, l := range d.o.Links() {
		a, err := endpointModule(l.A)
		if err != nil {
			return err
		}
		b, err := endpointModule(l.B)
		if err != nil {
			return err
		}
		pa, pb := l.A.Port, l.B.Port
		if strings.HasPrefix(d.names[a], "spine") { // leaf first: it reads as "leaf1's uplink 1"
			a, b, pa, pb = b, a, pb, pa
		}
		ca, cb := fmt.Sprintf("%s:%d", d.names[a], pa), fmt.Sprintf("%s:%d", d.names[b], pb)
		if !cables[ca+"|"+cb] {
			return fmt.Errorf("discover links: found %s <-> %s, which is no cable of the topology", ca, cb)
		}
		rows = append(rows, row{link: demoLink{A: inventory.FormatInterface(a, pa), B: inventory.FormatInterface(b, pb), Cable: ca + " <-> " + cb},
			module: a, port: pa})
	}
	slices.SortFunc(rows, func(x, y row) int {
		if x.module != y.module {
			return int(x.module) - int(y.module)
		}
		return int(x.port) - int(y.port)
	})
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		d.rep.Links = append(d.rep.Links, r.link)
		table = append(table, []string{r.link.A + " <-> " + r.link.B, r.link.Cable})
	}
	d.heading("Discovered %d links with LLDP probes, within %s of the commit (it brought the punt rule).",
		len(d.rep.Links), took.Round(time.Millisecond))
	return d.table([]string{"LINK", "CABLE"}, table)
}

// clocks shows every box's clock as the orchestrator measures it over gNOI,
// then points the boxes' NTP at the orchestrator and waits until every
// clock is certainly back within the alarm's clear level.
func (d *demoRun) clocks(ctx context.Context) error {
	ts := d.o.TimeSync()
	if ts == nil {
		return errors.New("clocks: the orchestrator runs no time sync")
	}
	for _, b := range d.boxes {
		// The drift is a slope: it needs samples spread in time.
		if _, err := ts.Wait(ctx, b.Serial, func(e timesync.Estimate) bool { return e.Span >= demoClockSpan }); err != nil {
			return fmt.Errorf("clocks: sample %s: %w", b.Spec.Name, err)
		}
	}
	d.rep.Clocks = d.clockRows(func(serial string) timesync.Estimate { e, _ := ts.Estimate(serial); return e })
	var skewed []string
	for _, c := range d.rep.Clocks {
		if c.Injected != "" {
			skewed = append(skewed, c.Name)
		}
	}
	d.heading("Clocks as gNOI Time samples see them, before NTP: %s skewed on purpose, alarm past %v.",
		strings.Join(skewed, ", "), demoTimeThreshold)
	if err := d.printClocks(d.rep.Clocks, true); err != nil {
		return err
	}

	t := time.Now()
	if err := ts.ConfigureAll(ctx); err != nil {
		return fmt.Errorf("clocks: configure NTP: %w", err)
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		errs      []error
		converged time.Duration // until the last box converged
		steadyAt  = map[string]timesync.Estimate{}
	)
	for _, b := range d.boxes {
		wg.Go(func() {
			// WaitConverged returns at the first converged sample; a clock
			// whose NTP client is still settling can swing out again, so
			// wait until it stays in for a few samples in a row.
			streak := 0
			steady := func(e timesync.Estimate) bool {
				if e.Err == nil && ts.Converged(e) {
					streak++
				} else {
					streak = 0
				}
				return streak >= demoSteady
			}
			e, err := ts.Wait(ctx, b.Serial, steady)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("clocks: %s did not converge: %w", b.Spec.Name, err))
				mu.Unlock()
				return
			}
			conv := time.Since(t)
			mu.Lock()
			converged = max(converged, conv)
			steadyAt[b.Serial] = e
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Each box as it was when it had converged: the emulated switches' SNTP
	// clients take every poll at face value, so a scheduling stall on a
	// busy machine can still swing a clock for a poll or two.
	d.rep.ClocksNTP = d.clockRows(func(serial string) timesync.Estimate { return steadyAt[serial] })
	host, port, err := ts.NTPServer()
	if err != nil {
		return fmt.Errorf("clocks: %w", err)
	}
	d.heading("Pointed every box's NTP at the orchestrator (SNTP %s:%d) over gNMI: all converged in %s.",
		host, port, converged.Round(time.Millisecond))
	d.say("(Converged: %d samples in a row certainly within %v of the chassis clock.)", demoSteady, demoTimeThreshold-demoTimeHysteresis)
	// No drift column: a window that still holds the slew would show it as
	// drift, and the point here is the offsets.
	return d.printClocks(d.rep.ClocksNTP, false)
}

// clockRows makes the clock rows of every box from its estimate.
func (d *demoRun) clockRows(estimate func(serial string) timesync.Estimate) []demoClock {
	rows := make([]demoClock, 0, len(d.boxes))
	for _, b := range d.boxes {
		e := estimate(b.Serial)
		rows = append(rows, demoClock{Module: b.Module, Name: b.Spec.Name, Injected: d.rep.skewByName[b.Spec.Name],
			OffsetMS: ms(e.Offset), BoundMS: ms(e.ErrorBound), DriftPPM: math.Round(e.DriftPPM*10) / 10, DriftError: math.Round(e.DriftError*10) / 10, Alarm: e.Alarm})
	}
	return rows
}

func (d *demoRun) printClocks(clocks []demoClock, withDrift bool) error {
	headers := []string{"MODULE", "NAME", "INJECTED", "OFFSET", "ERROR BOUND", "ALARM"}
	if withDrift {
		headers = slices.Insert(headers, 5, "DRIFT PPM")
	}
	rows := make([][]string, 0, len(clocks))
	for _, c := range clocks {
		drift := "-" // not fitted yet: too few samples since the window (re)started
		if c.DriftError > 0 {
			drift = fmt.Sprintf("%+.0f ± %.0f", c.DriftPPM, c.DriftError)
		}
		row := []string{strconv.FormatUint(uint64(c.Module), 10), c.Name, c.Injected,
			fmt.Sprintf("%+.3f ms", c.OffsetMS), fmt.Sprintf("± %.3f ms", c.BoundMS), yesNo(c.Alarm)}
		if withDrift {
			row = slices.Insert(row, 5, drift)
		}
		rows = append(rows, row)
	}
	return d.table(headers, rows)
}

// signed formats a duration with its sign: "+40ms".
func signed(d time.Duration) string {
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// ms converts a duration to milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// reroute takes leaf1's first uplink down and shows what follows: both
// ends of the cable go down, discovery loses the link, and the orchestrator
// commits a version where leaf1's ECMP groups lack the member through it.
func (d *demoRun) reroute(ctx context.Context) error {
	const sw, port = "leaf1", 1
	var leaf1 inventory.Box
	for _, b := range d.boxes {
		if b.Spec.Name == sw {
			leaf1 = b
		}
	}
	iface := inventory.FormatInterface(leaf1.Module, port)
	peer, _ := d.tb.Topology().Peer(sw, port)
	v1, err := d.o.Current(ctx)
	if err != nil || v1 == nil {
		return fmt.Errorf("reroute: current version: %v", errors.Join(err, errors.New("none")))
	}
	sub, err := d.o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{
		events.PortDown, events.LinkLost, events.Committed, events.Aborted}})
	if err != nil {
		return fmt.Errorf("reroute: %w", err)
	}
	defer sub.Cancel()

	t0 := time.Now()
	if err := d.tb.SetPortAdmin(sw, port, false); err != nil {
		return fmt.Errorf("reroute: take %s:%d down: %w", sw, port, err)
	}
	rr := &d.rep.Reroute
	rr.Interface, rr.Cable = iface, fmt.Sprintf("%s:%d <-> %s", sw, port, peer)
	var (
		committed *events.Event
		lost      bool
		downs     int
	)
	for committed == nil || !lost || downs < 2 {
		var e events.Event
		select {
		case <-ctx.Done():
			return fmt.Errorf("reroute: after %s went down, saw %d port-down, link lost %v, reroute committed %v: %w",
				iface, downs, lost, committed != nil, ctx.Err())
		case ev, ok := <-sub.C():
			if !ok {
				return fmt.Errorf("reroute: event subscription ended: %w", context.Cause(ctx))
			}
			e = ev
		}
		// When the demo received it: the events' own times come from
		// several clocks (devices, discovery, the bus).
		row := demoEvent{AfterMS: float64(time.Since(t0).Microseconds()) / 1000, Kind: e.Kind.String()}
		if e.Module != 0 {
			row.Interface = d.port(e.Module, e.Port)
		}
		switch e.Kind {
		case events.PortDown:
			downs++
			row.Detail = e.Message
		case events.LinkLost:
			lost = true
			pm, _ := strconv.ParseUint(e.Attrs[events.AttrPeerModule], 10, 32)
			pp, _ := strconv.ParseUint(e.Attrs[events.AttrPeerPort], 10, 32)
			row.Detail = "to " + d.port(uint32(pm), uint32(pp))
			if r := e.Attrs[events.AttrReason]; r != "" {
				row.Detail += ": " + r
			}
		case events.Committed:
			row.Detail = "version " + e.Attrs["version"]
			if r := e.Attrs[events.AttrReason]; r != "" {
				row.Detail += ": " + r
			}
			if strings.Contains(e.Attrs[events.AttrReason], "port-down "+iface) {
				committed = &e
			}
		case events.Aborted:
			return fmt.Errorf("reroute: transaction %s aborted: %s", e.OpID, e.Attrs[events.AttrReason])
		}
		rr.Events = append(rr.Events, row)
	}
	rr.Op, rr.Reason = committed.OpID, committed.Attrs[events.AttrReason]

	v2, err := d.o.Current(ctx)
	if err != nil {
		return fmt.Errorf("reroute: current version: %w", err)
	}
	if v2.Txn != committed.OpID {
		return fmt.Errorf("reroute: current version %d was committed by %s, not by the reroute %s", v2.Number, v2.Txn, committed.OpID)
	}
	rr.Version = v2.Number
	for _, b := range d.boxes {
		if b.Spec.Role != inventory.RoleForwarder {
			continue
		}
		before, after := demoGroups(v1.Goals[b.Serial]), demoGroups(v2.Goals[b.Serial])
		for _, id := range slices.Sorted(maps.Keys(before)) {
			g := demoGroup{Box: b.Spec.Name, Group: id, Routes: before[id].routes,
				Before: d.members(b.Module, before[id].members), After: d.members(b.Module, after[id].members)}
			g.Changed = !slices.Equal(g.Before, g.After)
			rr.Groups = append(rr.Groups, g)
		}
	}
	diff, err := d.o.Diff(ctx, v1.Number, v2.Number)
	if err != nil {
		return fmt.Errorf("reroute: diff versions %d and %d: %w", v1.Number, v2.Number, err)
	}
	for _, b := range d.boxes {
		if x, ok := diff[b.Serial]; ok {
			rr.Diff = append(rr.Diff, demoBoxChange{Module: b.Module, Name: b.Spec.Name,
				Inserts: x.Inserts, Modifies: x.Modifies, Deletes: x.Deletes, GNMI: x.GNMI})
		}
	}

	d.heading("Took leaf1's uplink %s down (cable %s): the events, then the reroute.", iface, rr.Cable)
	rows := make([][]string, 0, len(rr.Events))
	for _, e := range rr.Events {
		rows = append(rows, []string{fmt.Sprintf("+%.1f ms", e.AfterMS), e.Kind, e.Interface, e.Detail})
	}
	if err := d.table([]string{"AFTER", "EVENT", "INTERFACE", "DETAIL"}, rows); err != nil {
		return err
	}
	d.say("")
	d.say("The reroute is version %d (op %s). The ECMP groups of the leaves, version %d → %d:", v2.Number, rr.Op, v1.Number, v2.Number)
	rows = rows[:0]
	for _, g := range rr.Groups {
		mark := "unchanged"
		if g.Changed {
			mark = "rerouted"
		}
		rows = append(rows, []string{g.Box, g.Group, strconv.Itoa(g.Routes), strings.Join(g.Before, ", "), strings.Join(g.After, ", "), mark})
	}
	if err := d.table([]string{"BOX", "GROUP", "ROUTES", "MEMBERS BEFORE", "MEMBERS AFTER", "STATUS"}, rows); err != nil {
		return err
	}
	d.say("")
	d.say("What the reroute changed on the boxes (Diff %d %d):", v1.Number, v2.Number)
	rows = rows[:0]
	for _, x := range rr.Diff {
		rows = append(rows, []string{strconv.FormatUint(uint64(x.Module), 10), x.Name,
			strconv.Itoa(x.Inserts), strconv.Itoa(x.Modifies), strconv.Itoa(x.Deletes), strconv.Itoa(x.GNMI)})
	}
	return d.table([]string{"MODULE", "NAME", "INSERTS", "MODIFIES", "DELETES", "GNMI"}, rows)
}

// demoGroupInfo is one next-hop group of a goal: its members' next hops
// and how many routes use it.
type demoGroupInfo struct {
	members []objective.NextHop
	routes  int
}

// demoGroups returns the next-hop groups of a goal's objectives, by ID:
// next-hop-group objectives and the groups routes carry inline.
func demoGroups(g *goal.Goal) map[string]demoGroupInfo {
	out := map[string]demoGroupInfo{}
	if g == nil {
		return out
	}
	add := func(x *objective.NextHopGroup, route bool) {
		info := out[x.ID]
		info.members = info.members[:0]
		for _, m := range x.Members {
			info.members = append(info.members, m.NextHop)
		}
		if route {
			info.routes++
		}
		out[x.ID] = info
	}
	for _, ob := range g.Objectives {
		switch x := objective.Value(ob).(type) {
		case objective.NextHopGroup:
			add(&x, false)
		case objective.Route:
			if x.Group != nil {
				add(x.Group, true)
			}
		}
	}
	return out
}

// members names a group's next hops by the interface they leave by.
func (d *demoRun) members(module uint32, nhs []objective.NextHop) []string {
	out := make([]string, 0, len(nhs))
	for _, nh := range nhs {
		out = append(out, inventory.FormatInterface(module, nh.Port))
	}
	return out
}
