package testbed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p4fabric/fabric/internal/window"
	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
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
	Name string
	// DeviceID is the P4Runtime device ID the switch answers to at first:
	// the default node ID of its chip (gNMI
	// /components/component[name=integrated_circuit0]/integrated-circuit/config/node-id),
	// which a gNMI Set changes.
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
	// Credentials, when set, make the gNMI service (and the services that
	// call Switch.Authenticate) require this username and password in the
	// metadata of every RPC.
	Credentials *Credentials
	// Clock, when set, is the switch's own time: gNMI timestamps,
	// current-datetime and boot-time read it. The default is time.Now.
	Clock func() time.Time
	// GNMIOptions are passed to the gNMI service when the switch is
	// created (after the switch's own: name, ports, identity, credentials,
	// clock, counters, logger).
	GNMIOptions []gnmisrv.Option
	// Services are registered on the switch's gRPC server every time it
	// starts, after P4Runtime and gNMI: the extension point for more
	// services on the same listener (gNOI). Switch.AddService adds more
	// after creation.
	Services []func(*grpc.Server)
}

// Credentials are a username and password a switch requires in the metadata
// of its management RPCs.
type Credentials struct {
	// Username is compared with the "username" metadata of each RPC.
	Username string
	// Password is compared with the "password" metadata of each RPC.
	Password string
}

// PortStats counts the packets a port handled.
type PortStats struct {
	TxPackets, TxBytes uint64 // sent out of the port (packet-out)
	RxPackets, RxBytes uint64 // arrived on the port from the linked peer
	Drops              uint64 // InDiscards + OutDiscards
	// OutDiscards counts packets not sent: out of an unlinked port whose
	// far end is not in the testbed, or of a port that is down.
	OutDiscards uint64
	// InDiscards counts packets that arrived and were not punted: no
	// pipeline, no packet_in header, or the port is down.
	InDiscards uint64
}

type portCounters struct {
	txPackets, txBytes, rxPackets, rxBytes, inDiscards, outDiscards atomic.Uint64
}

func (c *portCounters) reset() {
	for _, v := range []*atomic.Uint64{&c.txPackets, &c.txBytes, &c.rxPackets, &c.rxBytes, &c.inDiscards, &c.outDiscards} {
		v.Store(0)
	}
}

// PortEvent reports a change of a port's operational state.
type PortEvent struct {
	// Switch is the switch's name.
	Switch string `json:"switch"`
	// Port is the port number (P4Runtime port).
	Port uint32 `json:"port"`
	// Interface is the port's gNMI interface name ("eth<port>").
	Interface string `json:"interface"`
	// AdminUp is the port's administrative state at the change.
	AdminUp bool `json:"admin_up"`
	// OperUp is the new operational state.
	OperUp bool `json:"oper_up"`
	// Time is when the change happened (host clock).
	Time time.Time `json:"time"`
}

// peerFunc tells a switch what is linked to one of its ports.
type peerFunc func(port uint32) (peer *Switch, peerPort uint32, ok bool)

// egress is how a switch hands a packet to whatever is linked to one of its
// ports; the testbed wires it to the peer switch.
type egress func(port uint32, payload []byte) bool

// Switch is an emulated white box: P4Runtime and gNMI services (gNOI joins
// them through SwitchConfig.Services or AddService) on one gRPC listener at
// its own loopback address, with numbered ports that may be linked to other
// switches' ports.
//
// Every port has an administrative state (gNMI config/enabled, or
// SetPortAdmin) and an operational state: up when the switch runs, the port
// is enabled and, for a linked port, the far end is enabled and its switch
// runs too. A port that is down drops packet-outs and delivers no packets.
//
// The switch does not run the program's data plane yet: every packet that
// arrives on a port is punted to the controller as a packet-in carrying the
// ingress port, whatever the tables say.
type Switch struct {
	cfg   SwitchConfig
	log   *slog.Logger
	ports []portCounters // index port-1
	gnmi  *gnmisrv.Server
	up    atomic.Bool // running, for the lock-free port checks

	mu       sync.Mutex
	addr     string // fixed after the first start, so restarts keep it
	srv      *p4rt.Server
	grpcSrv  *grpc.Server
	lis      net.Listener
	running  bool
	runCh    chan struct{} // closed while running
	link     egress
	peers    peerFunc
	boots    int
	services []func(*grpc.Server)
	reboot   *time.Timer // pending start of a reboot
	identity Identity
	// rebootReason is reported by the next boot's message.
	rebootReason string

	operMu    sync.Mutex // serialises operational state changes
	listeners map[int]func(PortEvent)
	listenSeq int
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
	s := &Switch{
		cfg: cfg, log: log.With("switch", cfg.Name), ports: make([]portCounters, cfg.Ports), addr: cfg.Address,
		runCh: make(chan struct{}), services: append(([]func(*grpc.Server))(nil), cfg.Services...),
		identity: cfg.Identity, listeners: map[int]func(PortEvent){},
	}
	gopts := []gnmisrv.Option{
		gnmisrv.WithName(cfg.Name),
		gnmisrv.WithPorts(cfg.Ports),
		gnmisrv.WithIdentity(gnmisrv.Identity{
			Vendor: cfg.Identity.Vendor, Model: cfg.Identity.Model, Serial: cfg.Identity.Serial,
			PartNumber: cfg.Identity.Model, SoftwareVersion: cfg.Identity.SoftwareVersion,
		}),
		gnmisrv.WithCounters(s.counters),
		gnmisrv.WithLogger(s.log),
		gnmisrv.WithNodeID(cfg.DeviceID),
	}
	if c := cfg.Credentials; c != nil {
		gopts = append(gopts, gnmisrv.WithCredentials(c.Username, c.Password))
	}
	if cfg.Clock != nil {
		gopts = append(gopts, gnmisrv.WithClock(cfg.Clock))
	}
	var err error
	if s.gnmi, err = gnmisrv.New(append(gopts, cfg.GNMIOptions...)...); err != nil {
		return nil, fmt.Errorf("testbed: switch %q: %w", cfg.Name, err)
	}
	s.gnmi.OnConfigChange(func(ch gnmisrv.ConfigChange) {
		for _, p := range ch.Ports {
			s.portChanged(p)
		}
		if ch.NodeID {
			s.applyNodeID()
		}
	})
	return s, nil
}

// counters feeds the gNMI interface counters.
func (s *Switch) counters(port uint32) gnmisrv.Counters {
	st, err := s.PortStats(port)
	if err != nil {
		return gnmisrv.Counters{}
	}
	return gnmisrv.Counters{
		InPkts: st.RxPackets, InOctets: st.RxBytes, InDiscards: st.InDiscards,
		OutPkts: st.TxPackets, OutOctets: st.TxBytes, OutDiscards: st.OutDiscards,
	}
}

// Name returns the switch's name.
func (s *Switch) Name() string { return s.cfg.Name }

// DeviceID returns the P4Runtime device ID the switch answers for: its
// chip's configured node ID (SwitchConfig.DeviceID until a gNMI Set of
// integrated-circuit/config/node-id changes it; the change is kept across
// restarts like all gNMI configuration).
func (s *Switch) DeviceID() uint64 { return s.gnmi.NodeID() }

// applyNodeID hands the configured node ID to the running P4Runtime
// service, which ends the arbitration of the old ID (see
// p4rt.Server.SetDeviceID). It runs in the goroutine of the gNMI Set,
// before the Set answers, so a client that saw the Set succeed finds the
// new ID in force. Reading the configuration here, not the change, makes
// concurrent Sets converge on the last one.
func (s *Switch) applyNodeID() {
	// A start that replaces srv after this read creates its service from
	// the configuration, already changed: either way the running service
	// ends up with the new ID. The switch lock is not held across the
	// call, which waits for the Writes in flight.
	if srv := s.P4Runtime(); srv != nil {
		srv.SetDeviceID(s.gnmi.NodeID())
	}
}

// Ports returns the number of ports (numbered 1..Ports).
func (s *Switch) Ports() int { return s.cfg.Ports }

// Identity returns what the switch reports about itself.
func (s *Switch) Identity() Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity
}

// SetSoftwareVersion changes the software version the switch reports
// (Identity, gNMI /system/state/software-version and the chassis
// component), as installing and activating a new image does.
func (s *Switch) SetSoftwareVersion(v string) {
	s.mu.Lock()
	s.identity.SoftwareVersion = v
	s.mu.Unlock()
	s.gnmi.SetSoftwareVersion(v)
}

// GNMI returns the switch's gNMI service. It lives as long as the switch:
// its configuration (Config, OnConfigChange) survives restarts.
func (s *Switch) GNMI() *gnmisrv.Server { return s.gnmi }

// Authenticate checks the credentials of an RPC the way the switch's gNMI
// service does: nil when the switch has no credentials or ctx's metadata
// carries them, an UNAUTHENTICATED status otherwise. Other services of the
// switch (gNOI) call it first thing in every RPC.
func (s *Switch) Authenticate(ctx context.Context) error {
	c := s.cfg.Credentials
	if c == nil {
		return nil
	}
	return gnmisrv.CheckCredentials(ctx, c.Username, c.Password)
}

// AddService registers f to be called with the switch's gRPC server every
// time the switch starts, after P4Runtime, gNMI and SwitchConfig.Services.
// It takes effect at the next start.
func (s *Switch) AddService(f func(*grpc.Server)) {
	if f == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = append(s.services, f)
}

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
// error. A start is a boot: the port counters start from zero, the ports
// come up (see Switch), and gNMI publishes the boot time and a SYSTEM_BOOT
// message.
func (s *Switch) Start() error {
	if err := s.start(); err != nil {
		return err
	}
	s.booted()
	return nil
}

// streamWorkers is the number of goroutines of each switch's gRPC server
// that serve calls (grpc.NumStreamWorkers).
const streamWorkers = 4

func (s *Switch) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return fmt.Errorf("testbed: switch %q already running", s.cfg.Name)
	}
	if s.reboot != nil {
		s.reboot.Stop()
		s.reboot = nil
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
	deviceID := s.gnmi.NodeID()
	s.srv = p4rt.New(deviceID, opts...)
	var gopts []grpc.ServerOption
	if s.cfg.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.cfg.TLS)))
	}
	// Fixed windows: no PING per call (see internal/window). A few
	// workers serve the calls: a goroutine per call would grow its stack
	// while decoding every request, which costs more CPU than the decoding
	// of a small Write. The long-lived streams (the P4Runtime stream
	// channel, gNMI subscriptions) hold a worker each; beyond the workers,
	// gRPC starts a goroutine per call.
	gopts = append(gopts, window.ServerOptions()...)
	gopts = append(gopts, grpc.NumStreamWorkers(streamWorkers))
	s.grpcSrv = grpc.NewServer(gopts...)
	s.srv.Register(s.grpcSrv)
	s.gnmi.Register(s.grpcSrv)
	for _, f := range s.services {
		f(s.grpcSrv)
	}
	for i := range s.ports {
		s.ports[i].reset()
	}
	s.lis = lis
	s.running = true
	close(s.runCh)
	s.boots++
	g := s.grpcSrv
	go func() { _ = g.Serve(lis) }()
	s.log.Info("switch started", "addr", s.addr, "device_id", deviceID, "tls", s.cfg.TLS != nil)
	return nil
}

// booted brings the ports up and then publishes the boot: boot-time and a
// SYSTEM_BOOT message, the last message of a boot, so that a client that
// reconnects after a reboot finds it as /messages/state/message.
func (s *Switch) booted() {
	s.mu.Lock()
	boots, version, reason := s.boots, s.identity.SoftwareVersion, s.rebootReason
	s.rebootReason = ""
	s.mu.Unlock()
	s.up.Store(true)
	for p := range s.ports {
		s.gnmi.CountersChanged(uint32(p + 1))
		s.portChanged(uint32(p + 1))
	}
	now := time.Now
	if s.cfg.Clock != nil {
		now = s.cfg.Clock
	}
	s.gnmi.SetBootTime(now())
	text := fmt.Sprintf("System booted (boot %d), software version %q", boots, version)
	if reason != "" {
		text += ", after a reboot: " + reason
	}
	s.gnmi.Publish(gnmisrv.Message{Severity: gnmisrv.SeverityNotice, App: "system", ID: gnmisrv.MsgSystemBoot, Text: text})
}

// Stop closes the listener and every connection at once, as pulling the
// power cord does. The forwarding state is lost; the gNMI configuration is
// kept. Every port goes down, and so do the far ends of its links. Stopping
// a stopped switch does nothing, except cancelling a pending reboot.
func (s *Switch) Stop() {
	s.mu.Lock()
	g, lis := s.grpcSrv, s.lis
	wasRunning := s.running
	s.running = false
	s.grpcSrv = nil
	if s.reboot != nil {
		s.reboot.Stop()
		s.reboot = nil
	}
	if wasRunning {
		s.runCh = make(chan struct{})
	}
	s.mu.Unlock()
	if !wasRunning {
		return
	}
	s.up.Store(false)
	g.Stop()
	// Stop closes only the listeners Serve has registered: if the serving
	// goroutine has not got that far, close this one here so that a
	// restart can bind the address again at once.
	_ = lis.Close()
	for p := range s.ports {
		s.portChanged(uint32(p + 1))
	}
	s.log.Info("switch stopped")
}

// Restart power-cycles the switch: everything it held (pipeline, entries,
// arbitration, port counters) is lost and it serves again on the same
// address. The gNMI configuration survives.
func (s *Switch) Restart() error {
	s.Stop()
	return s.Start()
}

// Reboot reboots the switch as a reboot command does: it publishes a
// SYSTEM_REBOOT message (sent to the subscribers that get it before the
// connections close), stops at once like Stop, and starts again after
// downtime, in the background; the SYSTEM_BOOT message of that start gives
// the reason. WaitRunning waits for it. The
// gNMI configuration survives; P4Runtime state and port counters do not.
// Rebooting a stopped switch is an error; Stop or Start during the downtime
// cancels the pending start.
func (s *Switch) Reboot(downtime time.Duration, reason string) error {
	if !s.Running() {
		return fmt.Errorf("testbed: switch %q: reboot: not running", s.cfg.Name)
	}
	if reason == "" {
		reason = "reboot requested"
	}
	s.gnmi.Publish(gnmisrv.Message{Severity: gnmisrv.SeverityWarning, App: "system", ID: gnmisrv.MsgSystemReboot,
		Text: fmt.Sprintf("System rebooting: %s", reason)})
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rebootReason = reason
	var t *time.Timer
	t = time.AfterFunc(max(downtime, 0), func() {
		s.mu.Lock()
		current := s.reboot == t
		if current {
			s.reboot = nil
		}
		s.mu.Unlock()
		if !current {
			return // cancelled by Stop or Start
		}
		if err := s.Start(); err != nil {
			s.log.Error("switch did not come back after a reboot", "err", err)
		}
	})
	s.reboot = t
	return nil
}

// WaitRunning waits until the switch runs (after Start, or at the end of a
// Reboot), or ctx is done.
func (s *Switch) WaitRunning(ctx context.Context) error {
	s.mu.Lock()
	ch := s.runCh
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("testbed: switch %q: waiting to run: %w", s.cfg.Name, ctx.Err())
	}
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
	st := PortStats{
		TxPackets: c.txPackets.Load(), TxBytes: c.txBytes.Load(),
		RxPackets: c.rxPackets.Load(), RxBytes: c.rxBytes.Load(),
		InDiscards: c.inDiscards.Load(), OutDiscards: c.outDiscards.Load(),
	}
	st.Drops = st.InDiscards + st.OutDiscards
	return st, nil
}

// SetPortAdmin enables or disables a port, as setting gNMI
// /interfaces/interface[name=eth<port>]/config/enabled does (it is that
// configuration, kept across restarts). The operational state of the port
// and of the far end of its link follow at once, each published on change.
func (s *Switch) SetPortAdmin(port uint32, up bool) error {
	if _, err := s.port(port); err != nil {
		return err
	}
	return s.gnmi.SetInterfaceEnabled(port, up)
}

// PortAdmin reports whether a port is enabled.
func (s *Switch) PortAdmin(port uint32) (bool, error) {
	if _, err := s.port(port); err != nil {
		return false, err
	}
	return s.gnmi.InterfaceEnabled(port), nil
}

// PortOper reports whether a port is operationally up.
func (s *Switch) PortOper(port uint32) (bool, error) {
	if _, err := s.port(port); err != nil {
		return false, err
	}
	return s.gnmi.OperStatus(port), nil
}

// OnPortChange registers f to be called with every change of a port's
// operational state, in order, from the goroutine that caused it. f must
// return quickly and must not change port state itself (SetPortAdmin,
// Start, Stop): it runs under the switch's port lock. It returns a function
// that removes f.
func (s *Switch) OnPortChange(f func(PortEvent)) (remove func()) {
	s.operMu.Lock()
	defer s.operMu.Unlock()
	s.listenSeq++
	id := s.listenSeq
	s.listeners[id] = f
	return func() {
		s.operMu.Lock()
		delete(s.listeners, id)
		s.operMu.Unlock()
	}
}

func (s *Switch) setPeers(f peerFunc) {
	s.mu.Lock()
	s.peers = f
	s.mu.Unlock()
}

func (s *Switch) peerOf(port uint32) (*Switch, uint32, bool) {
	s.mu.Lock()
	f := s.peers
	s.mu.Unlock()
	if f == nil {
		return nil, 0, false
	}
	return f(port)
}

// portChanged recomputes the operational state of a port and of the far
// end of its link after something at this end changed.
func (s *Switch) portChanged(port uint32) {
	s.recompute(port)
	if peer, pp, ok := s.peerOf(port); ok {
		peer.recompute(pp)
	}
}

// recompute sets a port's operational state from its inputs. The inputs are
// stored before any recompute is called, and recomputes of one switch are
// serialised, so the last one sees the final inputs.
func (s *Switch) recompute(port uint32) {
	s.operMu.Lock()
	defer s.operMu.Unlock()
	admin := s.gnmi.InterfaceEnabled(port)
	up := s.up.Load() && admin
	if peer, pp, ok := s.peerOf(port); ok && up {
		up = peer.up.Load() && peer.gnmi.InterfaceEnabled(pp)
	}
	if s.gnmi.OperStatus(port) == up {
		return
	}
	s.gnmi.SetOperStatus(port, up)
	ev := PortEvent{Switch: s.cfg.Name, Port: port, Interface: gnmisrv.InterfaceName(port), AdminUp: admin, OperUp: up, Time: time.Now()}
	for _, f := range s.listeners {
		f(ev)
	}
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
	defer s.gnmi.CountersChanged(port)
	if !s.gnmi.OperStatus(port) {
		c.outDiscards.Add(1)
		return nil
	}
	c.txPackets.Add(1)
	c.txBytes.Add(uint64(len(po.GetPayload())))
	s.mu.Lock()
	link := s.link
	s.mu.Unlock()
	if link == nil || !link(port, po.GetPayload()) {
		c.outDiscards.Add(1)
	}
	return nil
}

// Receive delivers a packet arriving on a port, as a linked peer or a test
// host does. The switch punts it to the controller as a packet-in with the
// ingress port. It reports false (and counts an in-discard) when the packet
// cannot be punted: the port is down, no pipeline, or no packet_in header in
// the program.
func (s *Switch) Receive(port uint32, payload []byte) bool {
	c, err := s.port(port)
	if err != nil || !s.Running() {
		return false
	}
	defer s.gnmi.CountersChanged(port)
	if !s.gnmi.OperStatus(port) {
		c.inDiscards.Add(1)
		return false
	}
	c.rxPackets.Add(1)
	c.rxBytes.Add(uint64(len(payload)))
	srv := s.P4Runtime()
	pi, err := packetIn(srv.Schema(), port, payload)
	if err != nil {
		c.inDiscards.Add(1)
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
