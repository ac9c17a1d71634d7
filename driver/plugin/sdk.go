package plugin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/driver"
	pluginpb "github.com/p4fabric/fabric/driver/plugin/proto"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
)

// OpenFunc opens the device spec describes, in the plugin process. spec
// arrives without the host's TLS configuration, which does not cross the
// process boundary: when the host connects with TLS, spec.TLS is an empty
// tls.Config (trust the system roots) and spec.Insecure is false; a plugin
// that reaches the device itself takes its own TLS settings from
// spec.Options.
type OpenFunc func(ctx context.Context, spec driver.Spec) (Device, error)

// Device is the one interface a vendor implements to write a driver
// plugin: an open device as the plugin serves it, the behaviours of
// driver.Device, and the endpoints the host dials for the protocols (the
// host uses its own P4Runtime, gNMI and gNOI clients). A behaviour the
// device lacks returns an error matching driver.ErrUnsupported.
//
// Optional behaviours are optional interfaces, as for a built-in driver:
// a Device that also implements driver.NodeIDSetter makes the host's
// device implement it too (the host asks the plugin to set the node ID);
// one that does not makes a host device without the method, so the
// orchestrator keeps the box's device ID.
type Device interface {
	driver.Behaviours
	// Endpoints tells the host where and how to reach each protocol of
	// the device; a protocol left out is one the device does not have.
	Endpoints() Endpoints
	// Close releases the device (the host closed it).
	Close() error
}

// Endpoint is where and how the host reaches one protocol of a device.
type Endpoint struct {
	// Address is host:port.
	Address string
	// Insecure makes the host connect in plaintext, whatever its spec
	// says; otherwise the host uses its spec's transport security.
	Insecure bool
	// Credentials, when set, replace the spec's for gNMI and gNOI.
	Credentials *driver.Credentials
	// TLSServerName and TLSCAPEM adjust the host's TLS configuration (or
	// make one): the name to verify and CA certificates (PEM) to trust.
	TLSServerName string
	TLSCAPEM      []byte
}

// Endpoints maps the protocols of a device to their endpoints.
type Endpoints map[driver.Protocol]Endpoint

// SpecEndpoints returns the endpoints of protocols at the addresses spec
// gives (spec.AddressOf), with defaultPort added to an address without a
// port (none when 0): a device reached the way the host describes it.
func SpecEndpoints(spec driver.Spec, defaultPort int, protocols ...driver.Protocol) Endpoints {
	eps := make(Endpoints, len(protocols))
	for _, p := range protocols {
		addr := spec.AddressOf(p)
		if defaultPort > 0 {
			addr = driver.WithDefaultPort(addr, defaultPort)
		}
		eps[p] = Endpoint{Address: addr}
	}
	return eps
}

// ServeOption configures Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	name    string
	version string
	log     *slog.Logger
}

// WithName sets the name the plugin reports (default: the executable's
// name without "fabric-driver-").
func WithName(name string) ServeOption { return func(c *serveConfig) { c.name = name } }

// WithVersion sets the plugin's version, which the host logs.
func WithVersion(v string) ServeOption { return func(c *serveConfig) { c.version = v } }

// WithLogger sets the logger of the plugin's serving code (default:
// NewLogger(slog.LevelInfo)). Use a logger from NewLogger: its records
// reach the host's log.
func WithLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) {
		if l != nil {
			c.log = l
		}
	}
}

// Serve serves a driver, whose devices open calls, to the Fabric host
// that started this process, and returns when the host is done with it.
// Call it from main:
//
//	func main() {
//		log := plugin.NewLogger(slog.LevelDebug)
//		if err := plugin.Serve(openDevice, plugin.WithLogger(log)); err != nil {
//			log.Error("serve", "err", err)
//			os.Exit(1)
//		}
//	}
//
// Run by hand, outside a host, the process prints that it is a plugin and
// exits with status 1 (hashicorp/go-plugin's check of the magic cookie).
func Serve(open OpenFunc, opts ...ServeOption) error {
	if open == nil {
		return errors.New("plugin: serve a nil OpenFunc")
	}
	cfg := serveConfig{name: strings.TrimPrefix(filepath.Base(os.Args[0]), ExecutablePrefix)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.log == nil {
		cfg.log = NewLogger(slog.LevelInfo)
	}
	srv := &server{open: open, cfg: cfg, log: cfg.log, devices: map[string]Device{}}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{srv: srv}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageSize), grpc.MaxSendMsgSize(maxMessageSize),
				grpc.ChainUnaryInterceptor(srv.recoverUnary), grpc.ChainStreamInterceptor(srv.recoverStream))...)
		},
		Logger: newHCLogJSON(cfg.log),
	})
	srv.closeAll()
	return nil
}

// server serves one driver over the plugin protocol.
type server struct {
	pluginpb.UnimplementedDriverServer
	open OpenFunc
	cfg  serveConfig
	log  *slog.Logger

	mu      sync.Mutex
	devices map[string]Device
	next    uint64
}

func (s *server) device(handle string) (Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[handle]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no open device %q", handle)
	}
	return d, nil
}

func (s *server) closeAll() {
	s.mu.Lock()
	devs := s.devices
	s.devices = map[string]Device{}
	s.mu.Unlock()
	for h, d := range devs {
		if err := d.Close(); err != nil {
			s.log.Warn("closing device", "device", h, "err", err)
		}
	}
}

// recoverUnary turns a panic of the driver's code into an INTERNAL error
// of the call, logged with its stack, so that one bad call does not take
// the other devices of the plugin down.
func (s *server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer s.recover(info.FullMethod, &err)
	return h(ctx, req)
}

func (s *server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer s.recover(info.FullMethod, &err)
	return h(srv, ss)
}

func (s *server) recover(method string, err *error) {
	if r := recover(); r != nil {
		s.log.Error("driver panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "driver panicked in %s: %v", method, r)
	}
}

// errorDomain marks the errors a driver returned (as opposed to failures
// of the plugin's transport, which the host reads as the plugin going
// away): an ErrorInfo detail with this domain.
const errorDomain = "fabric.driver.plugin"

// toStatus carries err across the boundary: ErrUnsupported as
// UNIMPLEMENTED, context errors as their codes, a gRPC status (of the
// device) as its code, the rest as UNKNOWN, always with the error's text
// and marked as the driver's.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, driver.ErrUnsupported):
		code = codes.Unimplemented
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	default:
		if st, ok := status.FromError(err); ok {
			code = st.Code()
		}
	}
	st, derr := status.New(code, err.Error()).WithDetails(&errdetails.ErrorInfo{Reason: "DRIVER_ERROR", Domain: errorDomain})
	if derr != nil {
		return status.Error(code, err.Error())
	}
	return st.Err()
}

// fromDriver reports whether st is an error a driver returned.
func fromDriver(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == errorDomain {
			return true
		}
	}
	return false
}

// Info describes the plugin.
func (s *server) Info(context.Context, *pluginpb.InfoRequest) (*pluginpb.InfoResponse, error) {
	return &pluginpb.InfoResponse{Name: s.cfg.name, Version: s.cfg.version}, nil
}

// Open opens a device.
func (s *server) Open(ctx context.Context, req *pluginpb.OpenRequest) (*pluginpb.OpenResponse, error) {
	spec, err := specFromProto(req.GetSpec())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	dev, err := s.open(ctx, spec)
	if err != nil {
		return nil, toStatus(err)
	}
	if dev == nil {
		return nil, status.Errorf(codes.Internal, "driver opened device %q as nil", spec.Name)
	}
	resp := &pluginpb.OpenResponse{Capabilities: capabilities(dev)}
	for p, ep := range dev.Endpoints() {
		pe := &pluginpb.Endpoint{Protocol: string(p), Address: ep.Address, Insecure: ep.Insecure,
			TlsServerName: ep.TLSServerName, TlsCaPem: ep.TLSCAPEM}
		if c := ep.Credentials; c != nil {
			pe.Credentials = &pluginpb.Credentials{Username: c.Username, Password: c.Password}
		}
		resp.Endpoints = append(resp.Endpoints, pe)
	}
	s.mu.Lock()
	s.next++
	resp.Device = "d" + strconv.FormatUint(s.next, 10)
	s.devices[resp.Device] = dev
	s.mu.Unlock()
	s.log.Debug("device opened", "device", spec.Name, "handle", resp.Device)
	return resp, nil
}

// Close closes a device.
func (s *server) Close(_ context.Context, req *pluginpb.DeviceRequest) (*pluginpb.CloseResponse, error) {
	s.mu.Lock()
	d, ok := s.devices[req.GetDevice()]
	delete(s.devices, req.GetDevice())
	s.mu.Unlock()
	if !ok {
		return &pluginpb.CloseResponse{}, nil
	}
	return &pluginpb.CloseResponse{}, toStatus(d.Close())
}

// Identity reports a device's identity.
func (s *server) Identity(ctx context.Context, req *pluginpb.DeviceRequest) (*pluginpb.IdentityResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	id, err := d.Identity(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginpb.IdentityResponse{Vendor: id.Vendor, Model: id.Model, Serial: id.Serial, SoftwareVersion: id.SoftwareVersion}, nil
}

// Ports reports a device's ports.
func (s *server) Ports(ctx context.Context, req *pluginpb.DeviceRequest) (*pluginpb.PortsResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	m, err := d.Ports(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pluginpb.PortsResponse{}
	for _, p := range m.Ports() {
		resp.Ports = append(resp.Ports, &pluginpb.Port{Name: p.Name, Id: p.ID})
	}
	return resp, nil
}

// PackagePipeconf packages a pipeconf for a device.
func (s *server) PackagePipeconf(ctx context.Context, req *pluginpb.PackagePipeconfRequest) (*pluginpb.PackagePipeconfResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	info := &p4configv1.P4Info{}
	if err := proto.Unmarshal(req.GetP4Info(), info); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "pipeconf %q: P4Info: %v", req.GetPipeconfId(), err)
	}
	sc, err := schema.New(info)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "pipeconf %q: %v", req.GetPipeconfId(), err)
	}
	pc := &pipeline.Pipeconf{ID: req.GetPipeconfId(), Schema: sc, DeviceConfigs: req.GetDeviceConfigs(),
		Options: pipeline.DeviceOptions{CPUPort: req.GetCpuPort()}}
	if pc.DeviceConfigs == nil {
		pc.DeviceConfigs = map[string][]byte{}
	}
	b, err := d.PackagePipeconf(ctx, pc)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginpb.PackagePipeconfResponse{DeviceConfig: b}, nil
}

// Reboot reboots a device.
func (s *server) Reboot(ctx context.Context, req *pluginpb.DeviceRequest) (*pluginpb.RebootResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	return &pluginpb.RebootResponse{}, toStatus(d.Reboot(ctx))
}

// InstallSoftware streams an image into the device's InstallSoftware.
func (s *server) InstallSoftware(stream pluginpb.Driver_InstallSoftwareServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "install software: the first message must name the device and version")
	}
	d, err := s.device(start.GetDevice())
	if err != nil {
		return err
	}
	ctx := stream.Context()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := d.InstallSoftware(ctx, start.GetVersion(), pr)
		pr.CloseWithError(errors.New("install software returned"))
		done <- err
	}()
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			pw.Close()
			break
		}
		if err != nil {
			pw.CloseWithError(err)
			<-done
			return err
		}
		if _, err := pw.Write(m.GetChunk()); err != nil {
			break // the device stopped reading: its answer says why
		}
	}
	if err := <-done; err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&pluginpb.InstallSoftwareResponse{})
}

// Clock reads a device's clock.
func (s *server) Clock(ctx context.Context, req *pluginpb.DeviceRequest) (*pluginpb.ClockResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	r, err := d.Clock(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginpb.ClockResponse{DeviceTime: r.Time.UnixNano(), LocalTime: r.Local.UnixNano(),
		Offset: int64(r.Offset), Rtt: int64(r.RTT), ErrorBound: int64(r.ErrorBound)}, nil
}

// SetNodeID sets the node ID of a device that implements
// driver.NodeIDSetter.
func (s *server) SetNodeID(ctx context.Context, req *pluginpb.SetNodeIDRequest) (*pluginpb.SetNodeIDResponse, error) {
	d, err := s.device(req.GetDevice())
	if err != nil {
		return nil, err
	}
	setter, ok := d.(driver.NodeIDSetter)
	if !ok {
		// The host asks only devices opened with the capability: this is
		// a host that ignored it.
		return nil, toStatus(driver.Unsupported(req.GetDevice(), s.cfg.name, "set node ID"))
	}
	if err := setter.SetNodeID(ctx, req.GetNodeId()); err != nil {
		return nil, toStatus(err)
	}
	return &pluginpb.SetNodeIDResponse{}, nil
}

// capabilities lists the optional interfaces dev implements, which the
// host's device will implement in turn.
func capabilities(dev Device) []pluginpb.Capability {
	var caps []pluginpb.Capability
	if _, ok := dev.(driver.NodeIDSetter); ok {
		caps = append(caps, pluginpb.Capability_CAPABILITY_SET_NODE_ID)
	}
	return caps
}

func specFromProto(p *pluginpb.Spec) (driver.Spec, error) {
	if p == nil {
		return driver.Spec{}, errors.New("open: no spec")
	}
	spec := driver.Spec{
		Name: p.GetName(), Address: p.GetAddress(), DeviceID: p.GetDeviceId(), Role: p.GetRole(),
		Insecure: p.GetInsecure(), Options: p.GetOptions(),
	}
	if p.GetTls() {
		spec.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c := p.GetCredentials(); c != nil {
		spec.Credentials = &driver.Credentials{Username: c.GetUsername(), Password: c.GetPassword()}
	}
	for k, v := range p.GetAddresses() {
		proto, err := driver.ParseProtocol(k)
		if err != nil {
			return driver.Spec{}, fmt.Errorf("open %q: %w", p.GetName(), err)
		}
		if spec.Addresses == nil {
			spec.Addresses = map[driver.Protocol]string{}
		}
		spec.Addresses[proto] = v
	}
	return spec, nil
}

func specToProto(s driver.Spec) *pluginpb.Spec {
	p := &pluginpb.Spec{
		Name: s.Name, Address: s.Address, DeviceId: s.DeviceID, Role: s.Role,
		Insecure: s.Insecure, Tls: s.TLS != nil, Options: s.Options,
	}
	if c := s.Credentials; c != nil {
		p.Credentials = &pluginpb.Credentials{Username: c.Username, Password: c.Password}
	}
	for k, v := range s.Addresses {
		if p.Addresses == nil {
			p.Addresses = map[string]string{}
		}
		p.Addresses[string(k)] = v
	}
	return p
}

func clockFromProto(r *pluginpb.ClockResponse) driver.ClockReading {
	return driver.ClockReading{
		Time: time.Unix(0, r.GetDeviceTime()), Local: time.Unix(0, r.GetLocalTime()),
		Offset: time.Duration(r.GetOffset()), RTT: time.Duration(r.GetRtt()), ErrorBound: time.Duration(r.GetErrorBound()),
	}
}
