// Package testbed runs emulated white boxes for tests, examples and labs:
// switches that serve real P4Runtime over gRPC on loopback addresses, wired
// into a topology, with faults on demand.
//
// A topology comes from a YAML file (package topology) or a generator such as
// topology.LeafSpine. Start brings every switch up and wires the links:
//
//	tb, err := testbed.Start(topology.LeafSpine(2, 4))
//	if err != nil { ... }
//	defer tb.Close()
//	leaf := tb.Switch("leaf1")
//	fmt.Println(leaf.Addr(), leaf.DeviceID()) // point any P4Runtime client here
//
// Packet I/O follows the cables: a packet-out sent on port p of a switch
// leaves through p; if p is linked to port q of another switch, the packet
// arrives there and is punted to that switch's primary controller as a
// packet-in carrying q in the program's ingress-port metadata (decimal string
// for SAI-P4's translated port_id_t). A packet sent out of an unlinked port is
// dropped and counted. The switches do not run the program's data plane yet,
// so every arriving packet is punted, whatever the tables say.
//
// Every switch also serves gNMI on the same address (package testbed/gnmi):
// interfaces eth1..ethN for the ports, system, components and system
// messages. Ports have an administrative state (gNMI config/enabled, or
// SetPortAdmin) and an operational state: both ends of a link are up when
// both are enabled and both switches run, and a port that is down neither
// sends nor delivers packets. OnPortChange reports every operational
// change. Point gnmic at a switch's address to look:
//
//	gnmic -a 127.0.0.1:PORT --insecure get --path /interfaces
//
// Faults: Switch.P4Runtime() returns the service, whose RejectWrites, SetDelay
// and DropStreams inject faults; Switch.Restart power-cycles a box (pipeline,
// entries, arbitration and counters are lost; the address and the gNMI
// configuration stay) and Switch.Reboot does the same after a downtime, as a
// reboot command does. SwitchConfig.Services and Switch.AddService add gRPC
// services to a switch's listener; WithSetup reaches every switch of a
// testbed before it starts.
//
// Every switch of a testbed serves gNOI too (AttachGNOI, package
// testbed/gnoi): system Time from its own emulated clock (skewed as the
// topology's clock offset and drift_ppm say, and disciplined by a real SNTP
// client once NTP is configured over gNMI at /system/ntp), Reboot and
// RebootStatus, os Install/Activate/Verify (the activated version is
// reported after the reboot), healthz and file. Testbed.Clock reaches a
// switch's clock to skew it in tests.
//
// Switches configured with tls.generate share one in-memory CA per testbed
// (Testbed.CA), so clients can trust them; tls.cert/key/ca load PEM files
// (with ca set, clients must present a certificate signed by it).
package testbed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/testbed/clock"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
	"github.com/p4fabric/fabric/testbed/p4rt"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Testbed is a running topology of emulated switches.
type Testbed struct {
	topo     *topology.Topology
	switches []*Switch
	byName   map[string]*Switch
	ca       *certs.CA
	peers    map[topology.Endpoint]topology.Endpoint
	gnoi     map[string]*SwitchGNOI

	closeOnce sync.Once
}

func credentialsOf(c *topology.Credentials) *Credentials {
	if c == nil {
		return nil
	}
	return &Credentials{Username: c.Username, Password: c.Password}
}

// Option configures Start.
type Option func(*options)

type options struct {
	log           *slog.Logger
	serverOptions []p4rt.Option
	gnmiOptions   []gnmisrv.Option
	setup         []func(*Switch) error
}

// WithLogger sends every switch's log records to l (each tagged with the
// switch name). The default discards them.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithServerOptions passes options to every switch's P4Runtime service.
func WithServerOptions(opts ...p4rt.Option) Option {
	return func(o *options) { o.serverOptions = append(o.serverOptions, opts...) }
}

// WithGNMIOptions passes options to every switch's gNMI service.
func WithGNMIOptions(opts ...gnmisrv.Option) Option {
	return func(o *options) { o.gnmiOptions = append(o.gnmiOptions, opts...) }
}

// WithSetup calls f for every switch after it is created and before it
// starts, in topology order: the place to add services (Switch.AddService)
// or listeners. An error stops Start.
func WithSetup(f func(*Switch) error) Option {
	return func(o *options) {
		if f != nil {
			o.setup = append(o.setup, f)
		}
	}
}

// Start validates the topology, starts every switch and wires the links. On
// error, the switches already started are stopped.
func Start(topo *topology.Topology, opts ...Option) (*Testbed, error) {
	if topo == nil {
		return nil, errors.New("testbed: nil topology")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	topo.SetDefaults()
	if err := topo.Validate(); err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	tb := &Testbed{topo: topo, byName: map[string]*Switch{}, gnoi: map[string]*SwitchGNOI{}}
	for _, sc := range topo.Switches {
		tlsConf, err := tb.tlsConfig(sc)
		if err != nil {
			tb.Close()
			return nil, err
		}
		// One clock per box, skewed as the topology says: gNMI's
		// current-datetime and gNOI's system.Time both read it, and the
		// box's NTP configuration disciplines it.
		clk, err := clock.New(clock.WithTopology(sc.Clock))
		if err != nil {
			tb.Close()
			return nil, fmt.Errorf("testbed: switch %q: clock: %w", sc.Name, err)
		}
		sw, err := NewSwitch(SwitchConfig{
			Clock:    clk.Now,
			Name:     sc.Name,
			DeviceID: sc.DeviceID,
			Ports:    int(sc.Ports),
			Address:  sc.Address,
			Identity: Identity{
				Vendor: sc.Identity.Vendor, Model: sc.Identity.Model,
				Serial: sc.Identity.Serial, SoftwareVersion: sc.Identity.SoftwareVersion,
			},
			TLS:           tlsConf,
			Logger:        o.log,
			ServerOptions: o.serverOptions,
			Credentials:   credentialsOf(sc.Credentials),
			GNMIOptions:   o.gnmiOptions,
		})
		if err != nil {
			clk.Close()
			tb.Close()
			return nil, err
		}
		g, err := AttachGNOI(sw, GNOIConfig{Clock: clk})
		if err != nil {
			clk.Close()
			tb.Close()
			return nil, fmt.Errorf("testbed: switch %q: gNOI: %w", sc.Name, err)
		}
		tb.switches = append(tb.switches, sw)
		tb.byName[sw.Name()] = sw
		tb.gnoi[sw.Name()] = g
	}
	tb.peers = make(map[topology.Endpoint]topology.Endpoint, 2*len(topo.Links))
	for _, l := range topo.Links {
		tb.peers[l.A], tb.peers[l.B] = l.B, l.A
	}
	for _, sw := range tb.switches {
		sw.setLink(tb.egressOf(sw))
		sw.setPeers(tb.peerOf(sw))
		for _, f := range o.setup {
			if err := f(sw); err != nil {
				tb.Close()
				return nil, fmt.Errorf("testbed: switch %q: setup: %w", sw.Name(), err)
			}
		}
	}
	for _, sw := range tb.switches {
		if err := sw.Start(); err != nil {
			tb.Close()
			return nil, err
		}
	}
	return tb, nil
}

// tlsConfig builds a switch's server TLS configuration from its topology
// entry.
func (tb *Testbed) tlsConfig(sc topology.Switch) (*tls.Config, error) {
	if sc.TLS == nil {
		return nil, nil
	}
	if sc.TLS.Generate {
		if tb.ca == nil {
			ca, err := certs.NewCA()
			if err != nil {
				return nil, fmt.Errorf("testbed: CA: %w", err)
			}
			tb.ca = ca
		}
		cert, err := tb.ca.Issue(sc.Name)
		if err != nil {
			return nil, fmt.Errorf("testbed: switch %q: certificate: %w", sc.Name, err)
		}
		return certs.ServerConfig(cert, nil), nil
	}
	c, err := certs.LoadServerConfig(sc.TLS.Cert, sc.TLS.Key, sc.TLS.CA)
	if err != nil {
		return nil, fmt.Errorf("testbed: switch %q: %w", sc.Name, err)
	}
	return c, nil
}

// egressOf returns the function that carries packets leaving sw to the
// peer at the other end of each link.
func (tb *Testbed) egressOf(sw *Switch) egress {
	peerOf := tb.peerOf(sw)
	return func(port uint32, payload []byte) bool {
		dst, q, ok := peerOf(port)
		if !ok {
			return false
		}
		return dst.Receive(q, payload)
	}
}

// peerOf returns the function that says what is linked to each port of sw.
func (tb *Testbed) peerOf(sw *Switch) peerFunc {
	name := sw.Name()
	return func(port uint32) (*Switch, uint32, bool) {
		peer, ok := tb.peers[topology.Endpoint{Switch: name, Port: port}]
		if !ok {
			return nil, 0, false
		}
		dst := tb.byName[peer.Switch]
		if dst == nil {
			return nil, 0, false
		}
		return dst, peer.Port, true
	}
}

// SetPortAdmin enables or disables a port of a switch (Switch.SetPortAdmin).
func (tb *Testbed) SetPortAdmin(sw string, port uint32, up bool) error {
	s := tb.byName[sw]
	if s == nil {
		return fmt.Errorf("testbed: no switch %q", sw)
	}
	return s.SetPortAdmin(port, up)
}

// OnPortChange registers f on every switch (Switch.OnPortChange) and
// returns a function that removes it from all of them.
func (tb *Testbed) OnPortChange(f func(PortEvent)) (remove func()) {
	removes := make([]func(), 0, len(tb.switches))
	for _, sw := range tb.switches {
		removes = append(removes, sw.OnPortChange(f))
	}
	return func() {
		for _, r := range removes {
			r()
		}
	}
}

// Topology returns the topology the testbed runs (with defaults filled).
func (tb *Testbed) Topology() *topology.Topology { return tb.topo }

// Switches returns the switches in topology order.
func (tb *Testbed) Switches() []*Switch { return append([]*Switch(nil), tb.switches...) }

// Switch returns the switch of that name, or nil.
func (tb *Testbed) Switch(name string) *Switch { return tb.byName[name] }

// CA returns the certificate authority that signed the certificates of the
// switches with tls.generate, or nil when there are none. Clients trust
// CA().Pool().
func (tb *Testbed) CA() *certs.CA { return tb.ca }

// Close stops every switch. It is safe to call more than once.
func (tb *Testbed) Close() error {
	tb.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for _, sw := range tb.switches {
			wg.Add(1)
			go func() { defer wg.Done(); sw.Stop() }()
		}
		wg.Wait()
		for _, g := range tb.gnoi {
			_ = g.Close()
		}
	})
	return nil
}

// GNOI returns the gNOI side of a switch (its server and its clock, which
// tests skew with Clock.SetOffset and SetDrift), or nil for an unknown name.
func (tb *Testbed) GNOI(name string) *SwitchGNOI { return tb.gnoi[name] }

// Clock returns the emulated clock of a switch, or nil for an unknown name.
func (tb *Testbed) Clock(name string) *clock.Clock {
	if g := tb.gnoi[name]; g != nil {
		return g.Clock
	}
	return nil
}
