package testbed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Identity is what a box says about itself: the fields a driver reports and
// the orchestrator keys its inventory on (the serial).
type Identity struct {
	Vendor          string `json:"vendor"`
	Model           string `json:"model"`
	Serial          string `json:"serial"`
	SoftwareVersion string `json:"software_version"`
}

// SwitchConfig describes one emulated switch.
type SwitchConfig struct {
	Name     string
	DeviceID uint64
	Ports    int    // ports are numbered 1..Ports
	Address  string // listen address; "127.0.0.1:0" (the default) picks a free port
	Identity Identity
	// TLS, when set, makes the switch serve TLS with this configuration
	// (set ClientAuth and ClientCAs for mTLS); otherwise it serves plaintext.
	TLS *tls.Config
	// Logger receives the switch's records; nil discards them.
	Logger *slog.Logger
	// ServerOptions are passed to the P4Runtime service every time the
	// switch (re)starts.
	ServerOptions []p4rt.Option
}

// PortStats counts the packets a port handled.
type PortStats struct {
	TxPackets, TxBytes uint64 // sent out of the port (packet-out)
	RxPackets, RxBytes uint64 // arrived on the port from the linked peer
	Drops              uint64 // sent out of an unlinked port, or not deliverable
}

type portCounters struct {
	txPackets, txBytes, rxPackets, rxBytes, drops atomic.Uint64
}

// egress is how a switch hands a packet to whatever is linked to one of its
// ports; the testbed wires it to the peer switch.
type egress func(port uint32, payload []byte) bool

// Switch is an emulated white box: a P4Runtime service (gNMI and gNOI join
// it on the same listener) on its own loopback address, with numbered ports
// that may be linked to other switches' ports.
//
// The switch does not run the program's data plane yet: every packet that
// arrives on a port is punted to the controller as a packet-in carrying the
// ingress port, whatever the tables say.
type Switch struct {
	cfg   SwitchConfig
	log   *slog.Logger
	ports []portCounters // index port-1

	mu      sync.Mutex
	addr    string // fixed after the first start, so restarts keep it
	srv     *p4rt.Server
	grpcSrv *grpc.Server
	lis     net.Listener
	running bool
	link    egress
	boots   int
}

// NewSwitch returns a switch that is not yet listening.
func NewSwitch(cfg SwitchConfig) (*Switch, error) {
	if cfg.Name == "" {
		return nil, errors.New("testbed: switch without a name")
	}
	if cfg.Ports < 0 || cfg.Ports > 1<<16 {
		return nil, fmt.Errorf("testbed: switch %q: ports %d out of range 0..65536", cfg.Name, cfg.Ports)
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	if cfg.Identity.Serial == "" {
		cfg.Identity.Serial = cfg.Name
	}
	if cfg.Identity.Vendor == "" {
		cfg.Identity.Vendor = "Fabric"
	}
	if cfg.Identity.Model == "" {
		cfg.Identity.Model = "emulated"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Switch{cfg: cfg, log: log.With("switch", cfg.Name), ports: make([]portCounters, cfg.Ports), addr: cfg.Address}, nil
}

// Name returns the switch's name.
func (s *Switch) Name() string { return s.cfg.Name }

// DeviceID returns the P4Runtime device ID the switch answers for.
func (s *Switch) DeviceID() uint64 { return s.cfg.DeviceID }

// Ports returns the number of ports (numbered 1..Ports).
func (s *Switch) Ports() int { return s.cfg.Ports }

// Identity returns what the switch reports about itself.
func (s *Switch) Identity() Identity { return s.cfg.Identity }

// TLS reports whether the switch serves TLS.
func (s *Switch) TLS() bool { return s.cfg.TLS != nil }

// Addr returns the address the switch listens on (host:port). After the
// first Start it is the bound address and stays the same across restarts.
func (s *Switch) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Running reports whether the switch is serving.
func (s *Switch) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// P4Runtime returns the switch's current P4Runtime service, for fault
// injection (RejectWrites, SetDelay, DropStreams) and for injecting
// digests. A restart replaces it, so call again after Restart.
func (s *Switch) P4Runtime() *p4rt.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Start makes the switch listen and serve. Starting a running switch is an
// error.
func (s *Switch) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return fmt.Errorf("testbed: switch %q already running", s.cfg.Name)
	}
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("testbed: switch %q: listen on %s: %w", s.cfg.Name, s.addr, err)
	}
	s.addr = lis.Addr().String()
	opts := append([]p4rt.Option{
		p4rt.WithLogger(s.log),
		p4rt.WithPacketOut(s.packetOut),
	}, s.cfg.ServerOptions...)
	s.srv = p4rt.New(s.cfg.DeviceID, opts...)
	var gopts []grpc.ServerOption
	if s.cfg.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.cfg.TLS)))
	}
	s.grpcSrv = grpc.NewServer(gopts...)
	s.srv.Register(s.grpcSrv)
	s.lis = lis
	s.running = true
	s.boots++
	g := s.grpcSrv
	go func() { _ = g.Serve(lis) }()
	s.log.Info("switch started", "addr", s.addr, "device_id", s.cfg.DeviceID, "tls", s.cfg.TLS != nil)
	return nil
}

// Stop closes the listener and every connection at once, as pulling the
// power cord does. The forwarding state is lost. Stopping a stopped switch
// does nothing.
func (s *Switch) Stop() {
	s.mu.Lock()
	g := s.grpcSrv
	wasRunning := s.running
	s.running = false
	s.grpcSrv = nil
	s.mu.Unlock()
	if !wasRunning {
		return
	}
	g.Stop()
	s.log.Info("switch stopped")
}

// Restart power-cycles the switch: everything it held (pipeline, entries,
// arbitration) is lost and it serves again on the same address.
func (s *Switch) Restart() error {
	s.Stop()
	return s.Start()
}

// Boots counts how many times the switch has started.
func (s *Switch) Boots() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boots
}

// PortStats returns the counters of a port (1..Ports).
func (s *Switch) PortStats(port uint32) (PortStats, error) {
	c, err := s.port(port)
	if err != nil {
		return PortStats{}, err
	}
	return PortStats{
		TxPackets: c.txPackets.Load(), TxBytes: c.txBytes.Load(),
		RxPackets: c.rxPackets.Load(), RxBytes: c.rxBytes.Load(),
		Drops: c.drops.Load(),
	}, nil
}

func (s *Switch) port(port uint32) (*portCounters, error) {
	if port < 1 || int(port) > len(s.ports) {
		return nil, fmt.Errorf("testbed: switch %q has no port %d (ports 1..%d)", s.cfg.Name, port, len(s.ports))
	}
	return &s.ports[port-1], nil
}

func (s *Switch) setLink(e egress) {
	s.mu.Lock()
	s.link = e
	s.mu.Unlock()
}

// packetOut sends a controller's packet-out out of the port its metadata
// names.
func (s *Switch) packetOut(po *p4v1.PacketOut) error {
	sc := s.P4Runtime().Schema()
	port, err := egressPort(sc, po)
	if err != nil {
		return err
	}
	c, err := s.port(port)
	if err != nil {
		return err
	}
	c.txPackets.Add(1)
	c.txBytes.Add(uint64(len(po.GetPayload())))
	s.mu.Lock()
	link := s.link
	s.mu.Unlock()
	if link == nil || !link(port, po.GetPayload()) {
		c.drops.Add(1)
	}
	return nil
}

// Receive delivers a packet arriving on a port, as a linked peer or a test
// host does. The switch punts it to the controller as a packet-in with the
// ingress port. It reports false (and counts a drop) when the packet cannot
// be punted: no pipeline, or no packet_in header in the program.
func (s *Switch) Receive(port uint32, payload []byte) bool {
	c, err := s.port(port)
	if err != nil || !s.Running() {
		return false
	}
	c.rxPackets.Add(1)
	c.rxBytes.Add(uint64(len(payload)))
	srv := s.P4Runtime()
	pi, err := packetIn(srv.Schema(), port, payload)
	if err != nil {
		c.drops.Add(1)
		s.log.Debug("packet not punted", "port", port, "err", err)
		return false
	}
	srv.SendPacketIn(pi)
	return true
}

// ingressPortNames and egressPortNames are the packet-metadata field names
// the shipped programs use for the port (onos basic, fabric.p4, SAI-P4 and
// the p4lang tutorials).
var (
	ingressPortNames = []string{"ingress_port", "in_port"}
	egressPortNames  = []string{"egress_port", "out_port"}
)

func findField(pm *schema.PacketMetadata, names []string) *schema.MetadataField {
	for _, n := range names {
		if f, err := pm.Field(n); err == nil {
			return f
		}
	}
	return nil
}

// portValue decodes a port from packet metadata: an integer bytestring, or
// for SAI-P4's translated port_id_t the port number as a decimal string (as
// PINS switches use the gNMI interface ID).
func portValue(f *schema.MetadataField, v []byte) (uint32, error) {
	if f.Translated != nil && f.Translated.SDNString {
		n, err := strconv.ParseUint(string(v), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("port %q is not a port number", v)
		}
		return uint32(n), nil
	}
	n, err := codec.Uint(v)
	if err != nil || n > 1<<32-1 {
		return 0, fmt.Errorf("port 0x%x: %v", v, err)
	}
	return uint32(n), nil
}

func egressPort(sc *schema.Schema, po *p4v1.PacketOut) (uint32, error) {
	if sc == nil {
		return 0, errors.New("no pipeline")
	}
	pm, err := sc.PacketMetadata("packet_out")
	if err != nil {
		return 0, fmt.Errorf("program has no packet_out header: %w", err)
	}
	f := findField(pm, egressPortNames)
	if f == nil {
		return 0, fmt.Errorf("packet_out has no egress port field (looked for %v)", egressPortNames)
	}
	for _, m := range po.GetMetadata() {
		if m.GetMetadataId() == f.ID {
			return portValue(f, m.GetValue())
		}
	}
	return 0, fmt.Errorf("packet_out without metadata %q", f.Name)
}

func packetIn(sc *schema.Schema, port uint32, payload []byte) (*p4v1.PacketIn, error) {
	if sc == nil {
		return nil, errors.New("no pipeline")
	}
	pm, err := sc.PacketMetadata("packet_in")
	if err != nil {
		return nil, fmt.Errorf("program has no packet_in header: %w", err)
	}
	f := findField(pm, ingressPortNames)
	if f == nil {
		return nil, fmt.Errorf("packet_in has no ingress port field (looked for %v)", ingressPortNames)
	}
	// Spec section 16.1 "Packet I/O": a packet-in carries exactly one value
	// for every packet_in metadata field. Without a data plane only the
	// ingress port is known; the other fields are zero (an empty SDN string
	// for translated ones).
	md := make([]*p4v1.PacketMetadata, 0, len(pm.Fields))
	for _, m := range pm.Fields {
		sdnString := m.Translated != nil && m.Translated.SDNString
		var v []byte
		switch {
		case m == f && sdnString:
			v = []byte(strconv.FormatUint(uint64(port), 10))
		case m == f:
			if v, err = codec.EncodeUint(uint64(port), f.Bitwidth); err != nil {
				return nil, fmt.Errorf("port %d in %s: %w", port, f.Name, err)
			}
		case sdnString:
			v = []byte{}
		default:
			v = []byte{0}
		}
		md = append(md, &p4v1.PacketMetadata{MetadataId: m.ID, Value: v})
	}
	return &p4v1.PacketIn{Payload: append([]byte(nil), payload...), Metadata: md}, nil
}
