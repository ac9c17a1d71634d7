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
// Faults: Switch.P4Runtime() returns the service, whose RejectWrites, SetDelay
// and DropStreams inject faults; Switch.Restart power-cycles a box (pipeline,
// entries and arbitration are lost; the address stays).
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
	"github.com/p4fabric/fabric/testbed/p4rt"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Testbed is a running topology of emulated switches.
type Testbed struct {
	topo     *topology.Topology
	switches []*Switch
	byName   map[string]*Switch
	ca       *certs.CA

	closeOnce sync.Once
}

// Option configures Start.
type Option func(*options)

type options struct {
	log           *slog.Logger
	serverOptions []p4rt.Option
}

// WithLogger sends every switch's log records to l (each tagged with the
// switch name). The default discards them.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithServerOptions passes options to every switch's P4Runtime service.
func WithServerOptions(opts ...p4rt.Option) Option {
	return func(o *options) { o.serverOptions = append(o.serverOptions, opts...) }
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
	tb := &Testbed{topo: topo, byName: map[string]*Switch{}}
	for _, sc := range topo.Switches {
		tlsConf, err := tb.tlsConfig(sc)
		if err != nil {
			tb.Close()
			return nil, err
		}
		sw, err := NewSwitch(SwitchConfig{
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
		})
		if err != nil {
			tb.Close()
			return nil, err
		}
		tb.switches = append(tb.switches, sw)
		tb.byName[sw.Name()] = sw
	}
	for _, sw := range tb.switches {
		sw.setLink(tb.egressOf(sw))
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
	return func(port uint32, payload []byte) bool {
		peer, ok := tb.topo.Peer(sw.Name(), port)
		if !ok {
			return false
		}
		dst := tb.byName[peer.Switch]
		if dst == nil {
			return false
		}
		return dst.Receive(peer.Port, payload)
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
	})
	return nil
}
