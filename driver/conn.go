package driver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc"
	gbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/internal/backoff"
	"github.com/p4fabric/fabric/internal/window"
	"github.com/p4fabric/fabric/p4/client"
)

// Connection is the protocol side of a device: the P4Runtime, gNMI and
// gNOI clients of its endpoints, their health and their events. Drivers
// build their devices on it (embed it and add the Behaviours); it
// implements every Device method but the Behaviours.
//
// gNMI and gNOI endpoints at the same address with the same security
// share one gRPC connection; P4Runtime has its own (its client owns it).
// Each connection is watched: a broken TCP connection or P4Runtime stream,
// or a device that stops answering the periodic health check
// (WithHealthCheck), is reported Disconnected, and reconnection is tried
// with backoff (WithBackoff) until the device answers again, which is
// reported Connected.
type Connection struct {
	spec Spec
	o    options
	log  *slog.Logger

	p4   *client.Client
	gnmi *gnmi.Client
	gnoi *gnoi.Client
	// conns are the gRPC connections this Connection made for gNMI and gNOI.
	conns []*grpc.ClientConn

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	events  chan Event
	links   []*link
	dropped uint64

	closeOnce sync.Once
	closeErr  error
}

// link is one connection whose health is reported for its protocols.
type link struct {
	protocols []Protocol
	addr      string
	// transport: the TCP connection (and for P4Runtime the arbitrated
	// stream) is up; transportErr says why not.
	transport    bool
	transportErr error
	// probeErr is the error of the last health check; nil when healthy.
	probeErr error
	// up is what was last reported: transport && probeErr == nil.
	up         bool
	mastership client.MastershipState

	conn  *grpc.ClientConn // the gNMI/gNOI connection; nil for P4Runtime
	probe func(context.Context, ...grpc.CallOption) error
}

// Connect connects to eps for the device spec describes and returns once
// every endpoint answers (P4Runtime: the stream is arbitrated; gNMI:
// Capabilities; gNOI: system.Time, an UNIMPLEMENTED answer counting as an
// answer), or ctx is done. spec gives the name, the P4Runtime device ID,
// role and election ID; spec.Driver names the driver in errors. Events
// then starts with one Connected event per protocol, in the order
// P4Runtime, gNMI, gNOI.
func Connect(ctx context.Context, spec Spec, eps Endpoints, opts ...Option) (*Connection, error) {
	if spec.Name == "" {
		return nil, errors.New("driver: connect: spec without a name")
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("driver: connect %q: no endpoints", spec.Name)
	}
	for p, ep := range eps {
		if !slices.Contains(Protocols, p) {
			return nil, fmt.Errorf("driver: connect %q: endpoint for unknown protocol %q", spec.Name, p)
		}
		if ep.Address == "" {
			return nil, fmt.Errorf("driver: connect %q: %s endpoint without an address", spec.Name, p)
		}
		if (ep.TLS != nil) == ep.Insecure {
			return nil, fmt.Errorf("driver: connect %q: %s endpoint %s: %w", spec.Name, p, ep.Address, ErrTransportSecurity)
		}
	}
	o := buildOptions(opts)
	c := &Connection{
		spec:   spec.Clone(),
		o:      o,
		log:    o.log.With("device", spec.Name),
		events: make(chan Event, o.eventBuffer),
	}
	if spec.Driver != "" {
		c.log = c.log.With("driver", spec.Driver)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if err := c.connect(ctx, eps); err != nil {
		c.cancel()
		c.release()
		return nil, fmt.Errorf("driver: open device %q: %w", spec.Name, err)
	}
	c.start()
	return c, nil
}

// connect dials every endpoint and checks that it answers.
func (c *Connection) connect(ctx context.Context, eps Endpoints) error {
	if ep, ok := eps[P4Runtime]; ok {
		p4, err := client.Dial(ctx, ep.Address, c.p4Options(ep)...)
		if err != nil {
			return fmt.Errorf("p4runtime at %s: %w", ep.Address, err)
		}
		c.p4 = p4
		st := p4.Status()
		c.links = append(c.links, &link{
			protocols: []Protocol{P4Runtime}, addr: ep.Address,
			transport: st.State != client.Disconnected, mastership: st.State,
			probe: func(ctx context.Context, _ ...grpc.CallOption) error {
				_, err := p4.Capabilities(ctx)
				return err
			},
		})
	}
	// gNMI and gNOI share a connection when they are reached the same way.
	type shared struct {
		ep   Endpoint
		link *link
	}
	var groups []*shared
	for _, p := range []Protocol{GNMI, GNOI} {
		ep, ok := eps[p]
		if !ok {
			continue
		}
		var g *shared
		for _, s := range groups {
			if sameEndpoint(s.ep, ep) {
				g = s
			}
		}
		if g == nil {
			conn, err := c.dial(ep)
			if err != nil {
				return fmt.Errorf("%s at %s: %w", p, ep.Address, err)
			}
			g = &shared{ep: ep, link: &link{addr: ep.Address, conn: conn}}
			groups = append(groups, g)
			c.conns = append(c.conns, conn)
		}
		g.link.protocols = append(g.link.protocols, p)
		switch p {
		case GNMI:
			gopts := []gnmi.Option{gnmi.WithLogger(c.log.With("protocol", "gnmi"))}
			if cr := ep.Credentials; cr != nil {
				gopts = append(gopts, gnmi.WithCredentials(cr.Username, cr.Password))
			}
			if c.o.backoffBase > 0 || c.o.backoffMax > 0 {
				gopts = append(gopts, gnmi.WithReconnectBackoff(c.o.backoffBase, c.o.backoffMax))
			}
			c.gnmi = gnmi.New(g.link.conn, append(gopts, c.o.gnmiOpts...)...)
			g.link.probe = c.gnmiProbe
		case GNOI:
			gopts := []gnoi.Option{gnoi.WithLogger(c.log.With("protocol", "gnoi"))}
			if cr := ep.Credentials; cr != nil {
				gopts = append(gopts, gnoi.WithCredentials(cr.Username, cr.Password))
			}
			c.gnoi = gnoi.New(g.link.conn, append(gopts, c.o.gnoiOpts...)...)
			if g.link.probe == nil {
				g.link.probe = c.gnoiProbe
			}
		}
	}
	for _, g := range groups {
		if err := healthErr(g.link.probe(ctx, grpc.WaitForReady(true))); err != nil {
			return fmt.Errorf("%s at %s: %w", protocolList(g.link.protocols), g.ep.Address, err)
		}
		g.link.transport = true
		c.links = append(c.links, g.link)
	}
	return nil
}

func (c *Connection) p4Options(ep Endpoint) []client.Option {
	opts := []client.Option{
		client.WithDeviceID(c.spec.DeviceID),
		client.WithRole(c.spec.Role, c.spec.RoleConfig),
		client.WithLogger(c.log.With("protocol", "p4runtime")),
	}
	if ep.TLS != nil {
		opts = append(opts, client.WithTLS(ep.TLS))
	} else {
		opts = append(opts, client.WithInsecure())
	}
	if c.spec.ElectionID != (client.ElectionID{}) {
		opts = append(opts, client.WithElectionID(c.spec.ElectionID))
	}
	if c.o.backoffBase > 0 || c.o.backoffMax > 0 {
		opts = append(opts, client.WithBackoff(c.o.backoffBase, c.o.backoffMax))
	}
	return append(opts, c.o.p4Opts...)
}

func (c *Connection) dial(ep Endpoint) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if ep.TLS != nil {
		creds = credentials.NewTLS(ep.TLS)
	}
	bc := gbackoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = backoff.DefaultBase, backoff.DefaultMax
	if c.o.backoffBase > 0 {
		bc.BaseDelay = c.o.backoffBase
	}
	if c.o.backoffMax > 0 {
		bc.MaxDelay = c.o.backoffMax
	}
	bc.MaxDelay = max(bc.MaxDelay, bc.BaseDelay)
	return grpc.NewClient(ep.Address, append(window.DialOptions(),
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 20 * time.Second}))...)
}

func sameEndpoint(a, b Endpoint) bool {
	sameCreds := (a.Credentials == nil && b.Credentials == nil) ||
		(a.Credentials != nil && b.Credentials != nil && *a.Credentials == *b.Credentials)
	return a.Address == b.Address && a.TLS == b.TLS && a.Insecure == b.Insecure && sameCreds
}

func protocolList(ps []Protocol) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += "+"
		}
		s += string(p)
	}
	return s
}

func (c *Connection) gnmiProbe(ctx context.Context, opts ...grpc.CallOption) error {
	_, err := c.gnmi.Raw().Capabilities(c.gnmi.Context(ctx), &gpb.CapabilityRequest{}, opts...)
	return err
}

func (c *Connection) gnoiProbe(ctx context.Context, opts ...grpc.CallOption) error {
	_, err := c.gnoi.System().Time(c.gnoi.Context(ctx), &syspb.TimeRequest{}, opts...)
	return err
}

// healthErr turns the error of a health check into why the device is
// unhealthy: nil when it answered, even UNIMPLEMENTED (the service is
// there, the RPC is not).
func healthErr(err error) error {
	if err == nil || status.Code(err) == codes.Unimplemented {
		return nil
	}
	return fmt.Errorf("health check: %w", err)
}

// start reports the initial state and starts the watchers.
func (c *Connection) start() {
	c.mu.Lock()
	now := time.Now()
	for _, l := range c.links {
		l.up = l.transport
		if !l.up {
			continue
		}
		for _, p := range l.protocols {
			ev := Event{Device: c.spec.Name, Kind: Connected, Protocol: p, Time: now}
			if p == P4Runtime {
				ev.Mastership = l.mastership
			}
			c.emitLocked(ev)
		}
	}
	c.mu.Unlock()
	for _, l := range c.links {
		c.wg.Add(2)
		if l.conn == nil {
			go c.watchP4(l)
		} else {
			go c.watchConn(l, l.conn)
		}
		go c.probeLoop(l)
	}
}

// watchP4 follows the P4Runtime client's arbitration state.
func (c *Connection) watchP4(l *link) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case ev, ok := <-c.p4.Mastership():
			if !ok {
				return
			}
			c.update(l, func(l *link) {
				up := ev.State != client.Disconnected
				if up && !l.transport {
					l.probeErr = nil // a fresh stream is proof of life
				}
				l.transport = up
				l.transportErr = ev.Err
				l.mastership = ev.State
			})
		}
	}
}

// watchConn follows a gRPC connection's state and keeps it connecting
// while it is down: gRPC leaves a broken connection idle until the next
// RPC, which would leave a device that came back unnoticed.
func (c *Connection) watchConn(l *link, conn *grpc.ClientConn) {
	defer c.wg.Done()
	var bopts []backoff.Option
	if c.o.backoffBase > 0 {
		bopts = append(bopts, backoff.WithBase(c.o.backoffBase))
	}
	if c.o.backoffMax > 0 {
		bopts = append(bopts, backoff.WithMax(c.o.backoffMax))
	}
	bo := backoff.New(bopts...)
	readySinceIdle := true
	for {
		st := conn.GetState()
		switch st {
		case connectivity.Ready:
			bo.Reset()
			readySinceIdle = true
			c.update(l, func(l *link) {
				if !l.transport {
					l.probeErr = nil // a fresh connection is proof of life
				}
				l.transport, l.transportErr = true, nil
			})
		case connectivity.Idle:
			c.update(l, func(l *link) {
				l.transport, l.transportErr = false, fmt.Errorf("connection to %s lost", l.addr)
			})
			if !readySinceIdle {
				if bo.Wait(c.ctx) != nil {
					return
				}
			}
			readySinceIdle = false
			conn.Connect()
		case connectivity.TransientFailure:
			c.update(l, func(l *link) {
				l.transport, l.transportErr = false, fmt.Errorf("cannot connect to %s", l.addr)
			})
		case connectivity.Shutdown:
			return
		}
		if !conn.WaitForStateChange(c.ctx, st) {
			return
		}
	}
}

// probeLoop health-checks a link periodically while its transport is up.
func (c *Connection) probeLoop(l *link) {
	defer c.wg.Done()
	if c.o.healthInterval <= 0 {
		return
	}
	t := time.NewTicker(c.o.healthInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		transport := l.transport
		c.mu.Unlock()
		if !transport {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.o.healthTimeout)
		err := healthErr(l.probe(ctx))
		cancel()
		if c.ctx.Err() != nil {
			return
		}
		c.update(l, func(l *link) { l.probeErr = err })
	}
}

// update changes a link under the lock and reports what changed.
func (c *Connection) update(l *link, f func(*link)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	prevM := l.mastership
	f(l)
	up := l.transport && l.probeErr == nil
	now := time.Now()
	switch {
	case up != l.up:
		l.up = up
		kind, err := Connected, error(nil)
		if !up {
			kind, err = Disconnected, l.transportErr
			if l.transport {
				err = l.probeErr
			}
			if err == nil {
				err = errors.New("connection lost")
			}
			c.log.Info("disconnected", "protocols", protocolList(l.protocols), "addr", l.addr, "err", err)
		} else {
			c.log.Info("connected", "protocols", protocolList(l.protocols), "addr", l.addr)
		}
		for _, p := range l.protocols {
			ev := Event{Device: c.spec.Name, Kind: kind, Protocol: p, Time: now, Err: err}
			if p == P4Runtime {
				ev.Mastership = l.mastership
			}
			c.emitLocked(ev)
		}
	case up && l.mastership != prevM && slices.Contains(l.protocols, P4Runtime):
		c.log.Info("mastership changed", "from", prevM, "to", l.mastership)
		c.emitLocked(Event{Device: c.spec.Name, Kind: MastershipChanged, Protocol: P4Runtime, Time: now, Mastership: l.mastership})
	}
}

// emitLocked queues ev, dropping the oldest event when the buffer is full.
// c.mu must be held.
func (c *Connection) emitLocked(ev Event) {
	select {
	case c.events <- ev:
		return
	default:
	}
	select {
	case old := <-c.events:
		c.dropped++
		c.log.Warn("event dropped: Events channel full", "event", old.String(), "dropped", c.dropped)
	default:
	}
	select {
	case c.events <- ev:
	default:
	}
}

// Publish queues an event on Events, for what a driver watches besides
// the protocols (ProtocolDriver: the process of an out-of-process driver).
// Device and Time are filled in when empty. Nothing is published after
// Close.
func (c *Connection) Publish(ev Event) {
	if ev.Device == "" {
		ev.Device = c.spec.Name
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.emitLocked(ev)
	}
}

// Spec returns the device's spec.
func (c *Connection) Spec() Spec { return c.spec.Clone() }

// Logger returns the logger of the device (tagged with its name).
func (c *Connection) Logger() *slog.Logger { return c.log }

// Up reports whether the connection of protocol p is up (last reported
// Connected).
func (c *Connection) Up(p Protocol) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.links {
		if slices.Contains(l.protocols, p) {
			return l.up
		}
	}
	return false
}

// Closed reports whether Close was called.
func (c *Connection) Closed() bool { return c.isClosed() }

func (c *Connection) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// P4Runtime returns the P4Runtime client (see Device.P4Runtime).
func (c *Connection) P4Runtime() (*client.Client, error) {
	switch {
	case c.isClosed():
		return nil, ErrClosed
	case c.p4 == nil:
		return nil, Unsupported(c.spec.Name, c.spec.Driver, "P4Runtime")
	}
	return c.p4, nil
}

// GNMI returns the gNMI client (see Device.GNMI).
func (c *Connection) GNMI() (*gnmi.Client, error) {
	switch {
	case c.isClosed():
		return nil, ErrClosed
	case c.gnmi == nil:
		return nil, Unsupported(c.spec.Name, c.spec.Driver, "gNMI")
	}
	return c.gnmi, nil
}

// GNOI returns the gNOI client (see Device.GNOI).
func (c *Connection) GNOI() (*gnoi.Client, error) {
	switch {
	case c.isClosed():
		return nil, ErrClosed
	case c.gnoi == nil:
		return nil, Unsupported(c.spec.Name, c.spec.Driver, "gNOI")
	}
	return c.gnoi, nil
}

// Events returns the device's events (see Device.Events).
func (c *Connection) Events() <-chan Event { return c.events }

// Close closes the clients and connections and then Events. It is
// idempotent.
func (c *Connection) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.closeErr = c.release()
		c.mu.Lock()
		c.closed = true
		close(c.events)
		c.mu.Unlock()
	})
	return c.closeErr
}

// release closes what connect made and waits for the watchers. c.ctx must
// be cancelled.
func (c *Connection) release() error {
	var errs []error
	if c.p4 != nil {
		if err := c.p4.Close(); err != nil {
			errs = append(errs, fmt.Errorf("p4runtime: %w", err))
		}
	}
	c.wg.Wait()
	for _, conn := range c.conns {
		if err := conn.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("driver: close device %q: %w", c.spec.Name, err)
	}
	return nil
}
