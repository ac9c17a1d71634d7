package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Errors the methods of Discovery wrap.
var (
	// ErrStopped: the Discovery was stopped.
	ErrStopped = errors.New("discovery: stopped")
	// ErrUnknownDevice: no device of that ID was added.
	ErrUnknownDevice = errors.New("discovery: unknown device")
	// ErrUnknownPort: the device has no such port.
	ErrUnknownPort = errors.New("discovery: unknown port")
	// ErrDuplicateDevice: a device of that ID was already added.
	ErrDuplicateDevice = errors.New("discovery: device already added")
)

// PuntObjective returns the objective Add installs on every device that
// has a pipeliner: LLDP (ether type 0x88cc) to the controller.
func PuntObjective() objective.Punt { return objective.Punt{Protocol: objective.LLDP} }

// Device is a device to discover links of.
type Device struct {
	// ID names the device (its module ID or name): probes carry it as
	// their chassis ID and links name it. 1 to 255 bytes.
	ID string
	// Client is a connected P4Runtime client of the device, with the
	// device's pipeline set. Probes are sent while it is primary.
	Client *client.Client
	// Ports are the ports to probe; links are learned between them only.
	Ports []uint32
	// Pipeliner translates the punt rule (PuntObjective) for the device's program;
	// Add writes it and Remove and Stop delete it, unless it was already
	// on the device. Nil when the caller keeps the rule on the device
	// itself (as part of its goal state, say).
	Pipeliner pipeline.Pipeliner
	// PacketIn is where the device's packet-ins come from; nil reads
	// Client.PacketIn(), and then every packet-in of the client that is
	// not a probe is dropped (counted in Stats.Other). Set it when other
	// code wants the client's packet-ins too, and fan them out yourself.
	PacketIn <-chan *client.PacketIn
	// PortName names a port for programs whose port is translated to an
	// SDN string (SAI-P4's port_id_t); nil uses the port number in
	// decimal.
	PortName func(port uint32) string
}

// Endpoint is one end of a link: a port of a device.
type Endpoint struct {
	// Device is the device's ID (Device.ID).
	Device string `json:"device"`
	// Port is the port number.
	Port uint32 `json:"port"`
}

// String renders the endpoint as device:port.
func (e Endpoint) String() string { return fmt.Sprintf("%s:%d", e.Device, e.Port) }

// Compare orders endpoints by device, then port.
func (e Endpoint) Compare(o Endpoint) int {
	if c := cmp.Compare(e.Device, o.Device); c != 0 {
		return c
	}
	return cmp.Compare(e.Port, o.Port)
}

// Link is a bidirectional link between two ports, A before B (NewLink
// orders them). A link is up when probes cross it in both directions: one
// direction alone (a unidirectional failure, or a probe whose answer has
// not come yet) is not a link, and losing either direction loses the
// link.
type Link struct {
	// A is the end that sorts first (Endpoint.Compare), B the other.
	A Endpoint `json:"a"`
	B Endpoint `json:"b"`
}

// NewLink returns the link between a and b, with its ends in order.
func NewLink(a, b Endpoint) Link {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return Link{A: a, B: b}
}

// String renders the link as "a <-> b".
func (l Link) String() string { return l.A.String() + " <-> " + l.B.String() }

// Compare orders links by A, then B.
func (l Link) Compare(o Link) int {
	if c := l.A.Compare(o.A); c != 0 {
		return c
	}
	return l.B.Compare(o.B)
}

// EventKind says what happened to a link.
type EventKind int

// Kinds of events.
const (
	// LinkDiscovered: probes now cross the link both ways.
	LinkDiscovered EventKind = iota + 1
	// LinkLost: the link is gone; Event.Reason says why.
	LinkLost
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case LinkDiscovered:
		return "link-discovered"
	case LinkLost:
		return "link-lost"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Reason says why a link was lost.
type Reason string

// Reasons a link is lost.
const (
	// ReasonPortDown: PortDown was called for one of its ports.
	ReasonPortDown Reason = "port-down"
	// ReasonTimeout: no probe crossed it in one direction for the link
	// age (interval × missed probes).
	ReasonTimeout Reason = "probe-timeout"
	// ReasonNeighborChanged: a probe from another port arrived at one of
	// its ports (the cable was moved).
	ReasonNeighborChanged Reason = "neighbor-changed"
	// ReasonDeviceRemoved: Remove was called for one of its devices.
	ReasonDeviceRemoved Reason = "device-removed"
)

// Event reports a link discovered or lost.
type Event struct {
	// Kind says whether the link was discovered or lost.
	Kind EventKind `json:"kind"`
	// Link is the link.
	Link Link `json:"link"`
	// Reason is set for LinkLost.
	Reason Reason `json:"reason,omitempty"`
	// Time is when it happened, by the Discovery's clock.
	Time time.Time `json:"time"`
}

// String renders the event on one line.
func (e Event) String() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s %s (%s)", e.Kind, e.Link, e.Reason)
	}
	return fmt.Sprintf("%s %s", e.Kind, e.Link)
}

// Stats counts what a Discovery sent and received.
type Stats struct {
	// ProbesSent and SendErrors count packet-outs of probes.
	ProbesSent, SendErrors uint64
	// ProbesReceived counts probes of this Discovery that arrived on a
	// known, up port from a known, up port.
	ProbesReceived uint64
	// Foreign counts LLDP that is not this Discovery's: no probe TLV,
	// another fingerprint, a bad signature or too old.
	Foreign uint64
	// Unknown counts this Discovery's probes from or to a device or port
	// it does not probe, or that is down.
	Unknown uint64
	// Malformed counts LLDP frames that do not parse, and packet-ins
	// without a readable ingress port.
	Malformed uint64
	// Other counts packet-ins that are not LLDP.
	Other uint64
	// EventsDropped counts events dropped because nobody read Events.
	EventsDropped uint64
}

type counters struct {
	sent, sendErrors, received, foreign, unknown, malformed, other atomic.Uint64
}

// Discovery discovers the links between devices by sending LLDP probes as
// packet-outs out of every port and learning from the packet-ins where
// they arrive. It is safe for concurrent use.
type Discovery struct {
	cfg    config
	ctx    context.Context // ends with Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	events *eventQueue
	stats  counters
	// verdict, when set, hears the fate of every packet-in (tests).
	verdict atomic.Pointer[func(device, verdict string, sent time.Time)]

	mu      sync.Mutex
	stopped bool
	devices map[string]*device
	adding  map[string]bool
	in      map[Endpoint]heard // by the receiving port: whose probes arrive there
	up      map[Link]struct{}  // links seen both ways
	replied map[Endpoint]time.Time
}

// heard is the last probe a port received.
type heard struct {
	from Endpoint
	at   time.Time
}

type device struct {
	Device
	ports  map[uint32]bool // port → down
	byName map[string]uint32
	state  *pipeline.State
	ours   bool // Add wrote the punt rule
	io     atomic.Pointer[packetIO]
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a running Discovery without devices: Add them. Stop it when
// done.
func New(opts ...Option) (*Discovery, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Discovery{
		cfg: cfg, ctx: ctx, cancel: cancel,
		devices: map[string]*device{}, adding: map[string]bool{},
		in: map[Endpoint]heard{}, up: map[Link]struct{}{}, replied: map[Endpoint]time.Time{},
	}
	d.events = newEventQueue(cfg.eventBuf)
	d.wg.Add(2)
	go func() { defer d.wg.Done(); d.events.run(ctx) }()
	go func() { defer d.wg.Done(); d.loop() }()
	return d, nil
}

// Start returns a Discovery with devices added (New, then Add for every
// device, in parallel). On error, it stops what it started and returns
// the errors of every Add that failed.
func Start(ctx context.Context, devices []Device, opts ...Option) (*Discovery, error) {
	d, err := New(opts...)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(devices))
	var wg sync.WaitGroup
	for i, dev := range devices {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = d.Add(ctx, dev) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, d.Stop(ctx))
	}
	return d, nil
}

// Fingerprint returns the fingerprint of the Discovery's probes.
func (d *Discovery) Fingerprint() uint64 { return d.cfg.fingerprint }

// Add starts discovering links of a device: it checks that the device's
// program can send and receive probes, writes the punt rule through the
// device's pipeliner (unless the device already has it), starts reading
// its packet-ins and sends a first probe out of every port.
func (d *Discovery) Add(ctx context.Context, dev Device) error {
	nd, err := newDevice(dev)
	if err != nil {
		return err
	}
	io, err := newPacketIO(dev.Client.Schema())
	if err != nil {
		return fmt.Errorf("discovery: device %q: %w", dev.ID, err)
	}
	nd.io.Store(io)

	d.mu.Lock()
	switch {
	case d.stopped:
		d.mu.Unlock()
		return ErrStopped
	case d.devices[dev.ID] != nil || d.adding[dev.ID]:
		d.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrDuplicateDevice, dev.ID)
	}
	d.adding[dev.ID] = true
	d.mu.Unlock()

	if err := d.install(ctx, nd); err != nil {
		d.mu.Lock()
		delete(d.adding, dev.ID)
		d.mu.Unlock()
		return err
	}

	d.mu.Lock()
	delete(d.adding, dev.ID)
	if d.stopped {
		d.mu.Unlock()
		return errors.Join(ErrStopped, d.uninstall(ctx, nd))
	}
	dctx, cancel := context.WithCancel(d.ctx)
	nd.cancel = cancel
	d.devices[dev.ID] = nd
	ports := nd.upPorts()
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		defer close(nd.done)
		d.read(dctx, nd)
	}()
	d.probe(ctx, nd, ports)
	return nil
}

func newDevice(dev Device) (*device, error) {
	switch {
	case dev.ID == "" || len(dev.ID) > lldp.MaxID:
		return nil, fmt.Errorf("discovery: device ID %q: want 1 to %d bytes", dev.ID, lldp.MaxID)
	case dev.Client == nil:
		return nil, fmt.Errorf("discovery: device %q: no client", dev.ID)
	}
	nd := &device{Device: dev, ports: map[uint32]bool{}, byName: map[string]uint32{}, done: make(chan struct{})}
	nd.Ports = nil
	for _, p := range dev.Ports {
		if _, dup := nd.ports[p]; dup {
			continue
		}
		name := nd.portName(p)
		if q, dup := nd.byName[name]; dup {
			return nil, fmt.Errorf("discovery: device %q: ports %d and %d are both named %q", dev.ID, q, p, name)
		}
		nd.ports[p] = false
		nd.byName[name] = p
		nd.Ports = append(nd.Ports, p)
	}
	if dev.PacketIn == nil {
		nd.PacketIn = dev.Client.PacketIn()
	}
	if dev.Pipeliner != nil {
		nd.state = pipeline.NewState(dev.Pipeliner)
	}
	return nd, nil
}

func (nd *device) portName(p uint32) string {
	if nd.PortName != nil {
		return nd.PortName(p)
	}
	return decimal(p)
}

// upPorts returns the ports that are not down; the caller holds d.mu or
// owns nd.
func (nd *device) upPorts() []uint32 {
	out := make([]uint32, 0, len(nd.Ports))
	for _, p := range nd.Ports {
		if !nd.ports[p] {
			out = append(out, p)
		}
	}
	return out
}

// install writes the punt rule, unless the device has no pipeliner. A
// rule that is already there belongs to someone else: it stays.
func (d *Discovery) install(ctx context.Context, nd *device) error {
	if nd.state == nil {
		return nil
	}
	ups, err := nd.state.Add(PuntObjective())
	if err != nil {
		return fmt.Errorf("discovery: device %q: punt rule: %w", nd.ID, err)
	}
	err = nd.Client.Write(ctx, ups)
	var werr *client.WriteError
	switch {
	case err == nil:
		nd.ours = true
	case errors.As(err, &werr) && werr.Err == nil && allAlreadyExist(werr):
		nd.ours = false
	default:
		return fmt.Errorf("discovery: device %q: write punt rule: %w", nd.ID, err)
	}
	return nil
}

func allAlreadyExist(werr *client.WriteError) bool {
	for _, u := range werr.Updates {
		if u.Code != codes.AlreadyExists {
			return false
		}
	}
	return len(werr.Updates) > 0
}

// uninstall deletes the punt rule if install wrote it.
func (d *Discovery) uninstall(ctx context.Context, nd *device) error {
	if nd.state == nil || !nd.ours {
		return nil
	}
	ups, err := nd.state.Remove(PuntObjective())
	if err != nil {
		return fmt.Errorf("discovery: device %q: punt rule: %w", nd.ID, err)
	}
	if err := nd.Client.Write(ctx, ups); err != nil {
		return fmt.Errorf("discovery: device %q: delete punt rule: %w", nd.ID, err)
	}
	nd.ours = false
	return nil
}

// Remove stops discovering links of a device: its links are lost
// (ReasonDeviceRemoved), its packet-ins are no longer read, and the punt
// rule is deleted if Add wrote it.
func (d *Discovery) Remove(ctx context.Context, id string) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return ErrStopped
	}
	nd := d.devices[id]
	if nd == nil {
		d.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownDevice, id)
	}
	delete(d.devices, id)
	for _, p := range nd.Ports {
		d.forgetLocked(Endpoint{id, p}, ReasonDeviceRemoved)
	}
	d.mu.Unlock()
	nd.cancel()
	select {
	case <-nd.done:
	case <-ctx.Done():
		return fmt.Errorf("discovery: remove %q: %w", id, ctx.Err())
	}
	return d.uninstall(ctx, nd)
}

// Stop stops probing, deletes the punt rules Add wrote, and closes Events.
// Links are not reported lost. Stopping again does nothing.
func (d *Discovery) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	devs := make([]*device, 0, len(d.devices))
	for _, nd := range d.devices {
		devs = append(devs, nd)
	}
	clear(d.devices)
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.events.close()
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i, nd := range devs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = d.uninstall(ctx, nd) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PortDown tells the Discovery that a port went down (from a gNMI
// on-change notification, say): its links are lost at once
// (ReasonPortDown), it is no longer probed, and probes to or from it are
// ignored until PortUp.
func (d *Discovery) PortDown(device string, port uint32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	nd, err := d.portLocked(device, port)
	if err != nil {
		return err
	}
	nd.ports[port] = true
	d.forgetLocked(Endpoint{device, port}, ReasonPortDown)
	return nil
}

// PortUp tells the Discovery that a port came up: it is probed again,
// starting now.
func (d *Discovery) PortUp(device string, port uint32) error {
	d.mu.Lock()
	nd, err := d.portLocked(device, port)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	wasDown := nd.ports[port]
	nd.ports[port] = false
	if wasDown {
		d.wg.Add(1)
	}
	d.mu.Unlock()
	if wasDown {
		go func() {
			defer d.wg.Done()
			d.probe(d.ctx, nd, []uint32{port})
		}()
	}
	return nil
}

func (d *Discovery) portLocked(device string, port uint32) (*device, error) {
	if d.stopped {
		return nil, ErrStopped
	}
	nd := d.devices[device]
	if nd == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDevice, device)
	}
	if _, ok := nd.ports[port]; !ok {
		return nil, fmt.Errorf("%w: %s:%d", ErrUnknownPort, device, port)
	}
	return nd, nil
}

// Links returns the links that are up, sorted.
func (d *Discovery) Links() []Link {
	d.mu.Lock()
	out := make([]Link, 0, len(d.up))
	for l := range d.up {
		out = append(out, l)
	}
	d.mu.Unlock()
	slices.SortFunc(out, Link.Compare)
	return out
}

// Events returns the channel of link events, in the order they happened.
// Events wait in a buffer (WithEventBuffer) until read; Stop closes the
// channel. Every call returns the same channel.
func (d *Discovery) Events() <-chan Event { return d.events.out }

// Stats returns the counters.
func (d *Discovery) Stats() Stats {
	s := &d.stats
	return Stats{
		ProbesSent: s.sent.Load(), SendErrors: s.sendErrors.Load(), ProbesReceived: s.received.Load(),
		Foreign: s.foreign.Load(), Unknown: s.unknown.Load(), Malformed: s.malformed.Load(), Other: s.other.Load(),
		EventsDropped: d.events.dropped.Load(),
	}
}

// loop runs the probe rounds: age the links, then probe every port.
func (d *Discovery) loop() {
	ticks := d.cfg.ticks
	if ticks == nil {
		t := time.NewTicker(d.cfg.interval)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-ticks:
		}
		d.expire()
		d.round()
	}
}

// round sends a probe out of every port that is up, devices in parallel,
// each round bounded by the interval (at least a second).
func (d *Discovery) round() {
	ctx, cancel := context.WithTimeout(d.ctx, max(d.cfg.interval, time.Second))
	defer cancel()
	type job struct {
		nd    *device
		ports []uint32
	}
	d.mu.Lock()
	jobs := make([]job, 0, len(d.devices))
	for _, nd := range d.devices {
		jobs = append(jobs, job{nd, nd.upPorts()})
	}
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); d.probe(ctx, j.nd, j.ports) }()
	}
	wg.Wait()
}

// probe sends a probe out of each port of a device, if the client is
// primary.
func (d *Discovery) probe(ctx context.Context, nd *device, ports []uint32) {
	if len(ports) == 0 || !nd.Client.IsPrimary() {
		return
	}
	io, err := d.packetIO(nd)
	if err != nil {
		d.stats.sendErrors.Add(uint64(len(ports)))
		d.cfg.log.Warn("cannot send probes", "device", nd.ID, "err", err)
		return
	}
	for _, p := range ports {
		if ctx.Err() != nil {
			return
		}
		pr := Probe{Device: nd.ID, Port: p, Fingerprint: d.cfg.fingerprint, Sent: d.cfg.now(), TTL: d.cfg.maxAge()}
		frame, err := pr.Marshal(d.cfg.secret)
		if err == nil {
			err = nd.Client.PacketOut(ctx, frame, io.metadata(p, nd.portName(p)))
		}
		if err != nil {
			d.stats.sendErrors.Add(1)
			if ctx.Err() == nil {
				d.cfg.log.Debug("probe not sent", "device", nd.ID, "port", p, "err", err)
			}
			continue
		}
		d.stats.sent.Add(1)
	}
}

// packetIO returns the device's packet I/O for the client's current
// program, rebuilding it when the pipeline changed.
func (d *Discovery) packetIO(nd *device) (*packetIO, error) {
	s := nd.Client.Schema()
	if io := nd.io.Load(); io != nil && io.schema == s {
		return io, nil
	}
	io, err := newPacketIO(s)
	if err != nil {
		return nil, err
	}
	nd.io.Store(io)
	return io, nil
}

// read handles the device's packet-ins until the device is removed or its
// client closed.
func (d *Discovery) read(ctx context.Context, nd *device) {
	for {
		select {
		case <-ctx.Done():
			return
		case pi, ok := <-nd.PacketIn:
			if !ok {
				return
			}
			if pi != nil {
				v, sent := d.handle(ctx, nd, pi)
				if f := d.verdict.Load(); f != nil {
					(*f)(nd.ID, v, sent)
				}
			}
		}
	}
}

// handle learns from one packet-in and says what it was, and when it was
// sent if it is a probe.
func (d *Discovery) handle(ctx context.Context, nd *device, pi *client.PacketIn) (string, time.Time) {
	pr, err := ParseProbe(pi.Payload, d.cfg.secret)
	switch {
	case errors.Is(err, lldp.ErrNotLLDP):
		d.stats.other.Add(1)
		return "other", pr.Sent
	case errors.Is(err, ErrNotProbe) || errors.Is(err, ErrBadSignature):
		d.stats.foreign.Add(1)
		return "foreign", pr.Sent
	case err != nil:
		d.stats.malformed.Add(1)
		d.cfg.log.Debug("malformed LLDP", "device", nd.ID, "err", err)
		return "malformed", pr.Sent
	case pr.Fingerprint != d.cfg.fingerprint:
		d.stats.foreign.Add(1)
		return "foreign", pr.Sent
	}
	now := d.cfg.now()
	if len(d.cfg.secret) > 0 && now.Sub(pr.Sent) > d.cfg.maxAge() {
		d.stats.foreign.Add(1)
		return "foreign", pr.Sent
	}
	io, err := d.packetIO(nd)
	var port uint32
	if err == nil {
		port, err = io.ingressPort(pi, nd.byName)
	}
	if err != nil {
		d.stats.malformed.Add(1)
		d.cfg.log.Debug("packet-in without an ingress port", "device", nd.ID, "err", err)
		return "malformed", pr.Sent
	}
	from, to := Endpoint{pr.Device, pr.Port}, Endpoint{nd.ID, port}
	reply, ok := d.learn(nd, from, to, now)
	if !ok {
		d.stats.unknown.Add(1)
		return "unknown", pr.Sent
	}
	d.stats.received.Add(1)
	if reply {
		rctx, cancel := context.WithTimeout(ctx, max(d.cfg.interval, time.Second))
		d.probe(rctx, nd, []uint32{port})
		cancel()
	}
	return "probe", pr.Sent
}

// learn records that a probe from one port arrived at another, and says
// whether to answer it at once with a probe back (the other direction is
// not known yet, and the port did not answer within the last interval),
// or that the probe is to be ignored (!ok).
func (d *Discovery) learn(nd *device, from, to Endpoint, now time.Time) (reply, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.devices[to.Device] != nd || !d.portUpLocked(to) || !d.portUpLocked(from) || from == to {
		return false, false
	}
	if old, had := d.in[to]; had && old.from != from {
		delete(d.in, to)
		d.lostLocked(NewLink(old.from, to), ReasonNeighborChanged, now)
	}
	d.in[to] = heard{from: from, at: now}
	if back, had := d.in[from]; had && back.from == to {
		l := NewLink(from, to)
		if _, up := d.up[l]; !up {
			d.up[l] = struct{}{}
			d.events.push(Event{Kind: LinkDiscovered, Link: l, Time: now})
		}
		return false, true
	}
	if last, had := d.replied[to]; had && now.Sub(last) < d.cfg.interval {
		return false, true
	}
	d.replied[to] = now
	return true, true
}

func (d *Discovery) portUpLocked(e Endpoint) bool {
	nd := d.devices[e.Device]
	if nd == nil {
		return false
	}
	down, ok := nd.ports[e.Port]
	return ok && !down
}

// lostLocked reports a link lost if it was up.
func (d *Discovery) lostLocked(l Link, why Reason, now time.Time) {
	if _, up := d.up[l]; !up {
		return
	}
	delete(d.up, l)
	// Answer the next probe on either end at once.
	delete(d.replied, l.A)
	delete(d.replied, l.B)
	d.events.push(Event{Kind: LinkLost, Link: l, Reason: why, Time: now})
}

// forgetLocked drops everything known about a port: probes it received
// and probes from it, and the links they made.
func (d *Discovery) forgetLocked(e Endpoint, why Reason) {
	now := d.cfg.now()
	var lost []Link
	for l := range d.up {
		if l.A == e || l.B == e {
			lost = append(lost, l)
		}
	}
	slices.SortFunc(lost, Link.Compare)
	for _, l := range lost {
		d.lostLocked(l, why, now)
	}
	delete(d.in, e)
	delete(d.replied, e)
	for to, h := range d.in {
		if h.from == e {
			delete(d.in, to)
			delete(d.replied, to)
		}
	}
}

// expire forgets the directions of links that no probe crossed for the
// link age, and reports their links lost.
func (d *Discovery) expire() {
	now := d.cfg.now()
	age := d.cfg.maxAge()
	d.mu.Lock()
	defer d.mu.Unlock()
	var lost []Link
	for to, h := range d.in {
		if now.Sub(h.at) > age {
			delete(d.in, to)
			lost = append(lost, NewLink(h.from, to))
		}
	}
	slices.SortFunc(lost, Link.Compare)
	for _, l := range lost {
		d.lostLocked(l, ReasonTimeout, now)
	}
}

// eventQueue keeps events in order until the reader takes them, dropping
// the oldest past its capacity.
type eventQueue struct {
	out     chan Event
	signal  chan struct{}
	max     int
	dropped atomic.Uint64

	mu    sync.Mutex
	items []Event
}

func newEventQueue(n int) *eventQueue {
	return &eventQueue{out: make(chan Event), signal: make(chan struct{}, 1), max: n}
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if len(q.items) >= q.max {
		q.items = q.items[1:]
		q.dropped.Add(1)
	}
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// run delivers events until ctx ends.
func (q *eventQueue) run(ctx context.Context) {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			select {
			case <-q.signal:
				continue
			case <-ctx.Done():
				return
			}
		}
		e := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- e:
		case <-ctx.Done():
			return
		}
	}
}

func (q *eventQueue) close() { close(q.out) }
