package gnmi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openconfig/gnmi/cache"
	"github.com/openconfig/gnmi/ctree"
	"github.com/openconfig/gnmi/match"
	gpath "github.com/openconfig/gnmi/path"
	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Identity is what the switch reports about its hardware and software under
// /components and /system.
type Identity struct {
	// Vendor is the chassis mfg-name.
	Vendor string
	// Model is the chassis description.
	Model string
	// Serial is the chassis serial-no.
	Serial string
	// PartNumber is the chassis part-no.
	PartNumber string
	// SoftwareVersion is /system/state/software-version and the chassis
	// software-version (SetSoftwareVersion changes it).
	SoftwareVersion string
}

// Counters are a port's packet counters, as /interfaces/interface/state/
// counters reports them.
type Counters struct {
	// InPkts, InOctets and InDiscards count the packets that arrived on
	// the port, their bytes, and those not delivered.
	InPkts, InOctets, InDiscards uint64
	// OutPkts, OutOctets and OutDiscards count the packets sent out of the
	// port, their bytes, and those dropped instead.
	OutPkts, OutOctets, OutDiscards uint64
}

// Severity is the syslog severity of a system message (RFC 5424), reported
// as /messages/state/message/priority.
type Severity uint8

// The severities the switch uses.
const (
	SeverityCritical Severity = 2
	SeverityError    Severity = 3
	SeverityWarning  Severity = 4
	SeverityNotice   Severity = 5
	SeverityInfo     Severity = 6
)

// Message is one system message (openconfig-messages).
type Message struct {
	// Severity becomes the priority leaf.
	Severity Severity
	// App is the emitting application ("p4rt", "gnmi", "system", "ifmgr").
	App string
	// ID classifies the message: LINK_UP, LINK_DOWN, CONFIG_CHANGE,
	// SYSTEM_BOOT, SYSTEM_REBOOT...
	ID string
	// Text is the message.
	Text string
}

// The message IDs the switch publishes.
const (
	MsgLinkUp       = "LINK_UP"
	MsgLinkDown     = "LINK_DOWN"
	MsgConfigChange = "CONFIG_CHANGE"
	MsgSystemBoot   = "SYSTEM_BOOT"
	MsgSystemReboot = "SYSTEM_REBOOT"
)

// ConfigChange says what a committed configuration change touched; read the
// new values with Server.Config.
type ConfigChange struct {
	// Ports whose interface configuration changed, in order.
	Ports []uint32
	// Hostname changed.
	Hostname bool
	// NTP (enabled or servers) changed.
	NTP bool
	// NodeID (the chip's openconfig-p4rt node-id, the P4Runtime device
	// ID) changed.
	NodeID bool
}

// changed reports whether the change touched anything.
func (ch ConfigChange) changed() bool {
	return len(ch.Ports) > 0 || ch.Hostname || ch.NTP || ch.NodeID
}

// Option configures New.
type Option func(*options)

type options struct {
	name                string
	ports               int
	identity            Identity
	username, password  string
	clock               func() time.Time
	counters            func(port uint32) Counters
	log                 *slog.Logger
	minSample           time.Duration
	targetDefinedSample time.Duration
	maxQueue            int
	nodeID              uint64
}

// WithNodeID sets the default node ID of the switch's chip
// (/components/component[name=ChipName]/integrated-circuit/config/node-id):
// the P4Runtime device ID the switch answers to until a Set changes it, and
// what deleting the leaf restores. The default is 0.
func WithNodeID(id uint64) Option { return func(o *options) { o.nodeID = id } }

// WithName sets the switch's name: the default hostname and the name of its
// data in the cache. The default is "switch".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithPorts sets the number of ports, numbered 1..n, each with an interface
// "eth<n>" and a component "port<n>". The default is 0.
func WithPorts(n int) Option { return func(o *options) { o.ports = n } }

// WithIdentity sets what /components and /system report.
func WithIdentity(id Identity) Option { return func(o *options) { o.identity = id } }

// WithCredentials makes every RPC require this username and password in its
// metadata (keys "username" and "password", specification section 3.1); a
// request without them or with others fails with UNAUTHENTICATED.
func WithCredentials(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithClock sets the switch's clock: notification timestamps,
// current-datetime and boot-time read it. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.clock = now
		}
	}
}

// WithCounters sets where the interface counters come from. The server
// reads it when told a port's counters changed (CountersChanged).
func WithCounters(f func(port uint32) Counters) Option {
	return func(o *options) { o.counters = f }
}

// WithLogger receives the server's records. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithMinSampleInterval sets the shortest sample and heartbeat interval
// accepted; shorter non-zero intervals are refused with INVALID_ARGUMENT
// (specification section 3.5.1.5.2), and 0 means this one. The default is
// 1ms.
func WithMinSampleInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.minSample = d
		}
	}
}

// WithTargetDefinedSample sets the sample interval of the leaves a
// TARGET_DEFINED subscription samples (counters, current-datetime) when the
// subscription gives none. The default is 10s.
func WithTargetDefinedSample(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.targetDefinedSample = d
		}
	}
}

// WithMaxQueue bounds the updates waiting to be sent to one subscriber. A
// subscriber that falls further behind is disconnected with
// RESOURCE_EXHAUSTED, so that a slow client never slows the switch. The
// default is 100000.
func WithMaxQueue(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxQueue = n
		}
	}
}

// Server is the gNMI service of one emulated switch. It outlives the
// switch's gRPC servers: register it on each with Register, and its
// configuration survives restarts. It is safe for concurrent use.
type Server struct {
	gpb.UnimplementedGNMIServer

	o         options
	prefix    *gpb.Path // prefix of the notifications in the cache
	msgPrefix *gpb.Path // prefix of the message notifications
	cache     *cache.Cache
	match     *match.Match

	mu         sync.RWMutex // guards what follows; held to publish
	scratch    []string     // match path of the update being published
	paths      []portPaths  // prebuilt paths of the leaves published often
	cfg        Config
	oper       []bool
	counters   []Counters
	swVersion  string
	lastTS     int64
	clockDirty bool

	hooksMu sync.Mutex
	hooks   map[int]func(ConfigChange)
	hookSeq int

	dirty          []atomic.Bool
	dirtyAny       atomic.Bool
	flushScheduled atomic.Bool

	active atomic.Int64 // running Subscribe RPCs
}

// New returns a server with the default configuration: every interface
// enabled with MTU 1500, hostname the switch name, NTP disabled.
func New(opts ...Option) (*Server, error) {
	o := options{
		name:                "switch",
		clock:               time.Now,
		log:                 slog.New(slog.DiscardHandler),
		minSample:           time.Millisecond,
		targetDefinedSample: 10 * time.Second,
		maxQueue:            100000,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.ports < 0 || o.ports > 1<<16 {
		return nil, fmt.Errorf("gnmi: ports %d out of range 0..65536", o.ports)
	}
	if o.name == "" {
		return nil, errors.New("gnmi: empty switch name")
	}
	hostname := o.name
	if checkHostname(hostname) != nil {
		hostname = "switch"
	}
	s := &Server{
		o:         o,
		prefix:    &gpb.Path{Target: o.name},
		msgPrefix: &gpb.Path{Target: o.name, Elem: messagePath},
		cache:     cache.New([]string{o.name}),
		match:     match.New(),
		cfg:       defaultConfig(hostname, o.ports, o.nodeID),
		oper:      make([]bool, o.ports),
		counters:  make([]Counters, o.ports),
		swVersion: o.identity.SoftwareVersion,
		hooks:     map[int]func(ConfigChange){},
		dirty:     make([]atomic.Bool, o.ports),
		paths:     make([]portPaths, o.ports),
	}
	for i := range s.paths {
		s.paths[i] = newPortPaths(InterfaceName(uint32(i + 1)))
	}
	s.cache.SetClient(s.onCacheUpdate)
	s.mu.Lock()
	s.publishInitial()
	s.mu.Unlock()
	return s, nil
}

// Register adds the gNMI service to a gRPC server.
func (s *Server) Register(g *grpc.Server) { gpb.RegisterGNMIServer(g, s) }

// Name returns the switch name the server was created with.
func (s *Server) Name() string { return s.o.name }

// Ports returns the number of ports.
func (s *Server) Ports() int { return s.o.ports }

// Subscribers returns the number of Subscribe RPCs being served.
func (s *Server) Subscribers() int { return int(s.active.Load()) }

// checkPort returns an error naming the port when it does not exist.
func (s *Server) checkPort(port uint32) error {
	if port < 1 || int(port) > s.o.ports {
		return fmt.Errorf("gnmi: switch %q has no port %d (ports 1..%d)", s.o.name, port, s.o.ports)
	}
	return nil
}

// authenticate checks the credentials of an RPC (specification section 3.1).
func (s *Server) authenticate(ctx context.Context) error {
	if s.o.username == "" && s.o.password == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	user, pass := md.Get("username"), md.Get("password")
	if len(user) == 0 || len(pass) == 0 {
		return status.Error(codes.Unauthenticated, "gnmi: username and password required in the request metadata")
	}
	okUser := subtle.ConstantTimeCompare([]byte(user[0]), []byte(s.o.username)) == 1
	okPass := subtle.ConstantTimeCompare([]byte(pass[0]), []byte(s.o.password)) == 1
	if !okUser || !okPass {
		return status.Error(codes.Unauthenticated, "gnmi: invalid username or password")
	}
	return nil
}

// CheckCredentials is the credentials check the server applies to its RPCs,
// for other services of the same switch (gNOI): it returns nil when username
// and password are both empty (no credentials configured) or when ctx's
// incoming metadata carries them, and an UNAUTHENTICATED status otherwise.
func CheckCredentials(ctx context.Context, username, password string) error {
	s := &Server{o: options{username: username, password: password}}
	return s.authenticate(ctx)
}

// Capabilities implements gNMI Capabilities (specification section 3.2).
func (s *Server) Capabilities(ctx context.Context, _ *gpb.CapabilityRequest) (*gpb.CapabilityResponse, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	resp := &gpb.CapabilityResponse{
		SupportedEncodings: []gpb.Encoding{gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO},
		GNMIVersion:        gnmiVersion(),
	}
	for _, m := range models {
		resp.SupportedModels = append(resp.SupportedModels, &gpb.ModelData{Name: m.name, Organization: "OpenConfig working group", Version: m.version})
	}
	return resp, nil
}

// gnmiVersion is the version of the gNMI proto this server implements.
func gnmiVersion() string {
	opts := gpb.File_github_com_openconfig_gnmi_proto_gnmi_gnmi_proto.Options()
	if v, ok := proto.GetExtension(opts, gpb.E_GnmiService).(string); ok && v != "" {
		return v
	}
	return "0.10.0"
}

// ---- publication ---------------------------------------------------------

// now returns a notification timestamp from the switch's clock, strictly
// after the previous one (the cache refuses a leaf update that is not newer
// than the stored one). Caller holds s.mu.
func (s *Server) now() int64 {
	ts := s.o.clock().UnixNano()
	if ts <= s.lastTS {
		ts = s.lastTS + 1
	}
	s.lastTS = ts
	return ts
}

// put stores a leaf value. Caller holds s.mu.
func (s *Server) put(ts int64, elems []*gpb.PathElem, tv *gpb.TypedValue) {
	n := &gpb.Notification{Timestamp: ts, Prefix: s.prefix, Update: []*gpb.Update{{Path: &gpb.Path{Elem: elems}, Val: tv}}}
	if err := s.cache.GnmiUpdate(n); err != nil {
		s.o.log.Debug("gnmi: cache update refused", "err", err)
	}
}

// del removes a subtree. Caller holds s.mu.
func (s *Server) del(ts int64, elems []*gpb.PathElem) {
	n := &gpb.Notification{Timestamp: ts, Prefix: s.prefix, Delete: []*gpb.Path{{Elem: elems}}}
	if err := s.cache.GnmiUpdate(n); err != nil {
		s.o.log.Debug("gnmi: cache delete refused", "err", err)
	}
}

// onCacheUpdate hands every stored change to the subscriptions that match
// it (on-change delivery). It runs in the publisher's goroutine, with s.mu
// held, and only queues.
func (s *Server) onCacheUpdate(l *ctree.Leaf) {
	n, ok := l.Value().(*gpb.Notification)
	if !ok || n == nil {
		return
	}
	var elems []*gpb.PathElem
	switch {
	case len(n.GetDelete()) > 0:
		elems = n.GetDelete()[0].GetElem()
	case n.GetAtomic():
		elems = n.GetPrefix().GetElem()
	case len(n.GetUpdate()) > 0:
		elems = n.GetUpdate()[0].GetPath().GetElem()
	default:
		return
	}
	s.scratch = appendStrings(s.scratch[:0], elems)
	s.match.Update(n, s.scratch)
}

// appendStrings appends the cache form of a path (names, and key values in
// key-name order), as openconfig/gnmi's path.ToStrings makes it, without
// allocating for single-key elements.
func appendStrings(dst []string, elems []*gpb.PathElem) []string {
	for _, e := range elems {
		dst = append(dst, e.GetName())
		switch len(e.GetKey()) {
		case 0:
		case 1:
			for _, v := range e.GetKey() {
				dst = append(dst, v)
			}
		default:
			dst = append(dst, gpath.ToStrings(&gpb.Path{Elem: []*gpb.PathElem{e}}, false)[1:]...)
		}
	}
	return dst
}

// Shared path elements and values: notifications in the cache are never
// modified, so they may share them.
var (
	eConfig   = elem("config")
	eState    = elem("state")
	eCounters = elem("counters")

	tvUp    = str(statusUp)
	tvDown  = str(statusDown)
	tvTrue  = boolv(true)
	tvFalse = boolv(false)
)

// portPaths are the paths of a port's leaves that change at run time.
type portPaths struct {
	cfgEnabled, stEnabled, admin, oper, lastChange []*gpb.PathElem
	counters                                       [6][]*gpb.PathElem
}

// counterLeaves names the counters in portPaths.counters order.
var counterLeaves = [6]string{"in-pkts", "in-octets", "in-discards", "out-pkts", "out-octets", "out-discards"}

func newPortPaths(name string) portPaths {
	base := []*gpb.PathElem{elem("interfaces"), {Name: "interface", Key: map[string]string{"name": name}}}
	p := func(es ...*gpb.PathElem) []*gpb.PathElem {
		return append(append(make([]*gpb.PathElem, 0, len(base)+len(es)), base...), es...)
	}
	pp := portPaths{
		cfgEnabled: p(eConfig, elem("enabled")), stEnabled: p(eState, elem("enabled")),
		admin: p(eState, elem("admin-status")), oper: p(eState, elem("oper-status")), lastChange: p(eState, elem("last-change")),
	}
	for i, leaf := range counterLeaves {
		pp.counters[i] = p(eState, eCounters, elem(leaf))
	}
	return pp
}

func boolTV(b bool) *gpb.TypedValue {
	if b {
		return tvTrue
	}
	return tvFalse
}

func upDownTV(up bool) *gpb.TypedValue {
	if up {
		return tvUp
	}
	return tvDown
}

func str(v string) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: v}}
}
func boolv(v bool) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: v}}
}
func uintv(v uint64) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: v}}
}

func elem(name string) *gpb.PathElem { return &gpb.PathElem{Name: name} }

// Path builders for the leaves the server publishes.
func ifPath(name string, rest ...string) []*gpb.PathElem {
	p := []*gpb.PathElem{elem("interfaces"), {Name: "interface", Key: map[string]string{"name": name}}}
	for _, r := range rest {
		p = append(p, elem(r))
	}
	return p
}

func sysPath(rest ...string) []*gpb.PathElem {
	p := []*gpb.PathElem{elem("system")}
	for _, r := range rest {
		p = append(p, elem(r))
	}
	return p
}

func ntpServerPath(addr string, rest ...string) []*gpb.PathElem {
	p := []*gpb.PathElem{elem("system"), elem("ntp"), elem("servers"), {Name: "server", Key: map[string]string{"address": addr}}}
	for _, r := range rest {
		p = append(p, elem(r))
	}
	return p
}

func compPath(name string, rest ...string) []*gpb.PathElem {
	p := []*gpb.PathElem{elem("components"), {Name: "component", Key: map[string]string{"name": name}}}
	for _, r := range rest {
		p = append(p, elem(r))
	}
	return p
}

var messagePath = []*gpb.PathElem{elem("messages"), elem("state"), elem("message")}

// msgLeaf are the paths of a message's members, relative to messagePath.
var msgLeaf = [4]*gpb.Path{
	{Elem: []*gpb.PathElem{elem("msg")}}, {Elem: []*gpb.PathElem{elem("priority")}},
	{Elem: []*gpb.PathElem{elem("app-name")}}, {Elem: []*gpb.PathElem{elem("msgid")}},
}

func upDown(up bool) string {
	if up {
		return statusUp
	}
	return statusDown
}

// publishInitial fills the cache. Caller holds s.mu.
func (s *Server) publishInitial() {
	ts := s.now()
	id := s.o.identity
	s.put(ts, compPath("chassis", "name"), str("chassis"))
	for leaf, v := range map[string]string{
		"name": "chassis", "type": "CHASSIS", "description": id.Model, "serial-no": id.Serial,
		"part-no": id.PartNumber, "mfg-name": id.Vendor, "software-version": s.swVersion, "oper-status": "ACTIVE",
	} {
		s.put(ts, compPath("chassis", "state", leaf), str(v))
	}
	s.put(ts, compPath(ChipName, "name"), str(ChipName))
	for leaf, v := range map[string]string{
		"name": ChipName, "type": "INTEGRATED_CIRCUIT", "description": "Switching ASIC", "parent": "chassis", "oper-status": "ACTIVE",
	} {
		s.put(ts, compPath(ChipName, "state", leaf), str(v))
	}
	s.publishNodeID(ts)
	s.put(ts, sysPath("state", "software-version"), str(s.swVersion))
	s.publishHostname(ts)
	s.put(ts, sysPath("ntp", "config", "enabled"), boolv(s.cfg.NTP.Enabled))
	s.put(ts, sysPath("ntp", "state", "enabled"), boolv(s.cfg.NTP.Enabled))
	s.put(ts, sysPath("state", "current-datetime"), str(s.datetime()))
	for i := range s.cfg.Interfaces {
		port := uint32(i + 1)
		name, comp := InterfaceName(port), ComponentName(port)
		s.put(ts, ifPath(name, "name"), str(name))
		s.put(ts, ifPath(name, "config", "name"), str(name))
		s.put(ts, ifPath(name, "state", "name"), str(name))
		s.put(ts, ifPath(name, "state", "ifindex"), uintv(uint64(port)))
		s.put(ts, ifPath(name, "state", "id"), uintv(uint64(port)))
		s.put(ts, ifPath(name, "state", "hardware-port"), str(comp))
		s.put(ts, ifPath(name, "state", "oper-status"), str(statusDown))
		s.put(ts, ifPath(name, "state", "last-change"), uintv(uint64(ts)))
		s.publishInterface(ts, InterfaceConfig{}, s.cfg.Interfaces[i], true)
		s.publishCounters(ts, port, Counters{}, Counters{}, true)
		s.put(ts, compPath(comp, "name"), str(comp))
		for leaf, v := range map[string]string{
			"name": comp, "type": "PORT", "description": "Port " + strconv.Itoa(i+1), "parent": "chassis", "oper-status": "ACTIVE",
		} {
			s.put(ts, compPath(comp, "state", leaf), str(v))
		}
	}
}

func (s *Server) datetime() string {
	return s.o.clock().UTC().Format(time.RFC3339Nano)
}

// publishNodeID publishes the chip's node ID, configured and applied: the
// switch applies it in the same step (see Switch), so state follows config
// at once. Caller holds s.mu.
func (s *Server) publishNodeID(ts int64) {
	s.put(ts, compPath(ChipName, "integrated-circuit", "config", "node-id"), uintv(s.cfg.NodeID))
	s.put(ts, compPath(ChipName, "integrated-circuit", "state", "node-id"), uintv(s.cfg.NodeID))
}

func (s *Server) publishHostname(ts int64) {
	s.put(ts, sysPath("config", "hostname"), str(s.cfg.Hostname))
	s.put(ts, sysPath("state", "hostname"), str(s.cfg.Hostname))
}

// publishInterface publishes what changed between two configurations of
// one interface (everything when all is set). Caller holds s.mu.
func (s *Server) publishInterface(ts int64, old, cur InterfaceConfig, all bool) {
	name := cur.Name
	if all || old.Enabled != cur.Enabled {
		pp := &s.paths[cur.Port-1]
		s.put(ts, pp.cfgEnabled, boolTV(cur.Enabled))
		s.put(ts, pp.stEnabled, boolTV(cur.Enabled))
		s.put(ts, pp.admin, upDownTV(cur.Enabled))
	}
	if all || old.Description != cur.Description {
		if cur.Description == "" {
			if !all {
				s.del(ts, ifPath(name, "config", "description"))
				s.del(ts, ifPath(name, "state", "description"))
			}
		} else {
			s.put(ts, ifPath(name, "config", "description"), str(cur.Description))
			s.put(ts, ifPath(name, "state", "description"), str(cur.Description))
		}
	}
	if all || old.MTU != cur.MTU {
		s.put(ts, ifPath(name, "config", "mtu"), uintv(uint64(cur.MTU)))
		s.put(ts, ifPath(name, "state", "mtu"), uintv(uint64(cur.MTU)))
	}
}

// publishCounters publishes the counters of a port that changed. Caller
// holds s.mu.
func (s *Server) publishCounters(ts int64, port uint32, old, cur Counters, all bool) {
	pp := &s.paths[port-1]
	olds := [6]uint64{old.InPkts, old.InOctets, old.InDiscards, old.OutPkts, old.OutOctets, old.OutDiscards}
	curs := [6]uint64{cur.InPkts, cur.InOctets, cur.InDiscards, cur.OutPkts, cur.OutOctets, cur.OutDiscards}
	for i := range curs {
		if all || olds[i] != curs[i] {
			s.put(ts, pp.counters[i], uintv(curs[i]))
		}
	}
}

// publishNTP publishes the difference between two NTP configurations.
// Caller holds s.mu.
func (s *Server) publishNTP(ts int64, old, cur NTPConfig) {
	if old.Enabled != cur.Enabled {
		s.put(ts, sysPath("ntp", "config", "enabled"), boolv(cur.Enabled))
		s.put(ts, sysPath("ntp", "state", "enabled"), boolv(cur.Enabled))
	}
	for _, o := range old.Servers {
		if _, ok := cur.server(o.Address); !ok {
			s.del(ts, ntpServerPath(o.Address))
		}
	}
	for _, c := range cur.Servers {
		i, ok := old.server(c.Address)
		if ok && old.Servers[i] == c {
			continue
		}
		if !ok {
			s.put(ts, ntpServerPath(c.Address, "address"), str(c.Address))
			s.put(ts, ntpServerPath(c.Address, "config", "address"), str(c.Address))
			s.put(ts, ntpServerPath(c.Address, "state", "address"), str(c.Address))
		}
		s.put(ts, ntpServerPath(c.Address, "config", "port"), uintv(uint64(c.Port)))
		s.put(ts, ntpServerPath(c.Address, "state", "port"), uintv(uint64(c.Port)))
	}
}

// publishMessage publishes a system message as one atomic notification.
// Caller holds s.mu.
func (s *Server) publishMessage(ts int64, m Message) {
	n := &gpb.Notification{
		Timestamp: ts,
		Prefix:    s.msgPrefix,
		Atomic:    true,
		Update: []*gpb.Update{
			{Path: msgLeaf[0], Val: str(m.Text)},
			{Path: msgLeaf[1], Val: uintv(uint64(m.Severity))},
			{Path: msgLeaf[2], Val: str(m.App)},
			{Path: msgLeaf[3], Val: str(m.ID)},
		},
	}
	if err := s.cache.GnmiUpdate(n); err != nil {
		s.o.log.Debug("gnmi: message refused by the cache", "err", err)
	}
}

// ---- the switch's side ---------------------------------------------------

// Config returns a copy of the running configuration.
func (s *Server) Config() Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.Clone()
}

// hasComponent reports whether the switch has a component of that name:
// the chassis, its chip, or a port.
func (s *Server) hasComponent(name string) bool {
	if name == "chassis" || name == ChipName {
		return true
	}
	rest, ok := strings.CutPrefix(name, "port")
	if !ok {
		return false
	}
	_, ok = portOf("eth"+rest, s.o.ports)
	return ok
}

// NodeID returns the configured node ID of the switch's chip: the
// P4Runtime device ID the switch answers to.
func (s *Server) NodeID() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.NodeID
}

// InterfaceEnabled reports the administrative state of a port (false for a
// port that does not exist).
func (s *Server) InterfaceEnabled(port uint32) bool {
	if s.checkPort(port) != nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.Interfaces[port-1].Enabled
}

// OperStatus reports whether a port is operationally up, as last set with
// SetOperStatus.
func (s *Server) OperStatus(port uint32) bool {
	if s.checkPort(port) != nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.oper[port-1]
}

// OnConfigChange registers f to be called after every committed
// configuration change (a gNMI Set that changed something, or
// SetInterfaceEnabled), in the goroutine that made it and after the change
// is published. It returns a function that removes f.
func (s *Server) OnConfigChange(f func(ConfigChange)) (remove func()) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.hookSeq++
	id := s.hookSeq
	s.hooks[id] = f
	return func() {
		s.hooksMu.Lock()
		delete(s.hooks, id)
		s.hooksMu.Unlock()
	}
}

func (s *Server) runHooks(ch ConfigChange) {
	s.hooksMu.Lock()
	fs := make([]func(ConfigChange), 0, len(s.hooks))
	for _, f := range s.hooks {
		fs = append(fs, f)
	}
	s.hooksMu.Unlock()
	for _, f := range fs {
		f(ch)
	}
}

// SetInterfaceEnabled changes the administrative state of a port, as a gNMI
// Set of /interfaces/interface[name=eth<port>]/config/enabled would: it is
// configuration, published on change with a CONFIG_CHANGE message, and kept
// across restarts.
func (s *Server) SetInterfaceEnabled(port uint32, enabled bool) error {
	if err := s.checkPort(port); err != nil {
		return err
	}
	s.mu.Lock()
	old := s.cfg.Interfaces[port-1]
	if old.Enabled == enabled {
		s.mu.Unlock()
		return nil
	}
	cur := old
	cur.Enabled = enabled
	s.cfg.Interfaces[port-1] = cur
	ts := s.now()
	s.publishInterface(ts, old, cur, false)
	s.publishMessage(ts, Message{Severity: SeverityNotice, App: "ifmgr", ID: MsgConfigChange,
		Text: fmt.Sprintf("Interface %s admin-status set to %s", cur.Name, upDown(enabled))})
	s.mu.Unlock()
	s.runHooks(ConfigChange{Ports: []uint32{port}})
	return nil
}

// SetOperStatus sets the operational state of a port; a change is
// published on change (oper-status and last-change) with a LINK_UP or
// LINK_DOWN message.
func (s *Server) SetOperStatus(port uint32, up bool) {
	if s.checkPort(port) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oper[port-1] == up {
		return
	}
	s.oper[port-1] = up
	ts := s.now()
	name := InterfaceName(port)
	pp := &s.paths[port-1]
	s.put(ts, pp.oper, upDownTV(up))
	s.put(ts, pp.lastChange, uintv(uint64(ts)))
	m := Message{Severity: SeverityNotice, App: "ifmgr", ID: MsgLinkUp, Text: "Interface " + name + " changed state to up"}
	if !up {
		m.Severity, m.ID, m.Text = SeverityWarning, MsgLinkDown, "Interface "+name+" changed state to down"
	}
	s.publishMessage(ts, m)
}

// CountersChanged tells the server that a port's counters moved; the new
// values are read from the WithCounters function and published shortly
// after (on-change subscribers get them) and before any read.
func (s *Server) CountersChanged(port uint32) {
	if s.o.counters == nil || s.checkPort(port) != nil {
		return
	}
	s.dirty[port-1].Store(true)
	s.dirtyAny.Store(true)
	if s.flushScheduled.CompareAndSwap(false, true) {
		go func() {
			s.flushScheduled.Store(false) // later changes schedule again
			s.syncCounters()
		}()
	}
}

// syncCounters publishes the counters of the ports marked as changed.
func (s *Server) syncCounters() {
	if !s.dirtyAny.Swap(false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := int64(0)
	for i := range s.dirty {
		if !s.dirty[i].Swap(false) {
			continue
		}
		port := uint32(i + 1)
		c := s.o.counters(port)
		if c == s.counters[i] {
			continue
		}
		if ts == 0 {
			ts = s.now()
		}
		s.publishCounters(ts, port, s.counters[i], c, false)
		s.counters[i] = c
	}
}

// refreshClock publishes the current time as current-datetime.
func (s *Server) refreshClock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(s.now(), sysPath("state", "current-datetime"), str(s.datetime()))
}

// SetBootTime publishes /system/state/boot-time.
func (s *Server) SetBootTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(s.now(), sysPath("state", "boot-time"), uintv(uint64(max(t.UnixNano(), 0))))
}

// SetSoftwareVersion changes the software version /system/state and the
// chassis component report (after a software install, for example).
func (s *Server) SetSoftwareVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swVersion = v
	ts := s.now()
	s.put(ts, sysPath("state", "software-version"), str(v))
	s.put(ts, compPath("chassis", "state", "software-version"), str(v))
}

// SoftwareVersion returns the software version the server reports.
func (s *Server) SoftwareVersion() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.swVersion
}

// Publish publishes a system message under /messages/state/message.
func (s *Server) Publish(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishMessage(s.now(), m)
}
