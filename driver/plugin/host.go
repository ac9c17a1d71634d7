package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/driver"
	pluginpb "github.com/p4fabric/fabric/driver/plugin/proto"
	"github.com/p4fabric/fabric/pipeline"
)

// Defaults of the host.
const (
	// DefaultStartTimeout bounds the start and handshake of a plugin
	// process, on top of the caller's context.
	DefaultStartTimeout = 30 * time.Second
	// CloseTimeout bounds the plugin's Close of a device in Device.Close.
	CloseTimeout = 5 * time.Second
	// installChunk is the size of the image chunks sent to a plugin.
	installChunk = 64 << 10
)

// LoadOption configures the host side of a plugin driver (Load, Register).
type LoadOption func(*hostConfig)

type hostConfig struct {
	log          *slog.Logger
	deviceOpts   []driver.Option
	startTimeout time.Duration
	env          []string
}

func buildHostConfig(opts []LoadOption) hostConfig {
	c := hostConfig{log: slog.New(slog.DiscardHandler), startTimeout: DefaultStartTimeout}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithHostLogger receives the host's records about the plugin (starts,
// exits) and the plugin's own log records, forwarded from its standard
// error, each tagged with driver=<name>. The default discards them.
func WithHostLogger(l *slog.Logger) LoadOption {
	return func(c *hostConfig) {
		if l != nil {
			c.log = l
		}
	}
}

// WithDeviceOptions configures the protocol connections of the devices
// the plugin opens (health checks, backoff, events, ...), as the options
// of a built-in driver do.
func WithDeviceOptions(opts ...driver.Option) LoadOption {
	return func(c *hostConfig) { c.deviceOpts = append(c.deviceOpts, opts...) }
}

// WithStartTimeout bounds the start and handshake of the plugin process
// (default DefaultStartTimeout).
func WithStartTimeout(d time.Duration) LoadOption {
	return func(c *hostConfig) {
		if d > 0 {
			c.startTimeout = d
		}
	}
}

// WithEnv adds "KEY=value" entries to the plugin's environment, which
// otherwise is the host's.
func WithEnv(kv ...string) LoadOption {
	return func(c *hostConfig) { c.env = append(c.env, kv...) }
}

// Found is a driver plugin executable found by Discover.
type Found struct {
	// Name is the driver name: the executable's name without
	// ExecutablePrefix (and ".exe").
	Name string
	// Path is the executable's path.
	Path string
}

// Discover lists the driver plugins of dir: the files named
// fabric-driver-<name>. It returns the usable ones, sorted by name, and
// an error joining one error per file it had to skip (a directory, a file
// that is not executable: ErrNotExecutable), each naming the file. An
// unreadable dir is an error with nothing found.
func Discover(dir string) ([]Found, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin: discover: %w", err)
	}
	var found []Found
	var problems []error
	for _, e := range entries {
		name, ok := driverName(e.Name())
		if !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := checkExecutable(path); err != nil {
			problems = append(problems, err)
			continue
		}
		found = append(found, Found{Name: name, Path: path})
	}
	slices.SortFunc(found, func(a, b Found) int { return strings.Compare(a.Name, b.Name) })
	return found, errors.Join(problems...)
}

// driverName returns the driver name of an executable's file name.
func driverName(file string) (string, bool) {
	name, ok := strings.CutPrefix(file, ExecutablePrefix)
	if runtime.GOOS == "windows" {
		name = strings.TrimSuffix(name, ".exe")
	}
	return name, ok && name != ""
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	switch {
	case info.IsDir():
		return fmt.Errorf("plugin %s: %w: it is a directory", path, ErrNotExecutable)
	case !info.Mode().IsRegular():
		return fmt.Errorf("plugin %s: %w: not a regular file (%s)", path, ErrNotExecutable, info.Mode().Type())
	case runtime.GOOS != "windows" && info.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("plugin %s: %w: mode %s has no execute bit (chmod +x it)", path, ErrNotExecutable, info.Mode().Perm())
	}
	return nil
}

// Register loads every plugin Discover finds in dir and registers it in
// r. It returns the drivers it registered (Close them when done) and an
// error joining the problems of the files it skipped and of the
// registrations that failed.
func Register(r *driver.Registry, dir string, opts ...LoadOption) ([]*Driver, error) {
	found, err := Discover(dir)
	problems := []error{err}
	var out []*Driver
	for _, f := range found {
		d, err := Load(f.Path, opts...)
		if err == nil {
			err = r.Register(d)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(problems...)
}

// Driver is a driver served by a plugin process. It implements
// driver.Driver: Open starts the process if it is not running (or has
// exited), asks it to open the device, and dials the endpoints it answers
// with using the host's own clients. It is safe for concurrent use.
type Driver struct {
	name, path string
	o          hostConfig
	log        *slog.Logger

	mu   sync.Mutex
	proc *process
}

// Load returns the driver of the plugin executable at path, named after
// the file (fabric-driver-<name>). The process is started by the first
// Open (or Start).
func Load(path string, opts ...LoadOption) (*Driver, error) {
	name, ok := driverName(filepath.Base(path))
	if !ok {
		return nil, fmt.Errorf("plugin %s: the file name must be %s<name>", path, ExecutablePrefix)
	}
	if err := checkExecutable(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	o := buildHostConfig(opts)
	return &Driver{name: name, path: abs, o: o, log: o.log.With("driver", name)}, nil
}

// Name returns the driver's name.
func (d *Driver) Name() string { return d.name }

// Path returns the plugin executable's path.
func (d *Driver) Path() string { return d.path }

// PID returns the process ID of the running plugin, or 0.
func (d *Driver) PID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil || d.proc.dead() {
		return 0
	}
	return d.proc.pid
}

// Start starts the plugin process and completes the handshake, if the
// process is not already running.
func (d *Driver) Start(ctx context.Context) error {
	_, err := d.process(ctx)
	return err
}

// Close stops the plugin process. The devices it opened keep their
// protocol connections until closed, but their behaviours fail with
// ErrPluginExited. A later Open starts the plugin again.
func (d *Driver) Close() error {
	d.mu.Lock()
	p := d.proc
	d.proc = nil
	d.mu.Unlock()
	if p != nil {
		p.client.Kill()
	}
	return nil
}

// process returns the running process, starting one when there is none
// or the last one exited.
func (d *Driver) process(ctx context.Context) (*process, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil && !d.proc.dead() {
		return d.proc, nil
	}
	if d.proc != nil {
		go d.proc.client.Kill() // reap what is left
		d.proc = nil
	}
	p, err := d.start(ctx)
	if err != nil {
		return nil, err
	}
	d.proc = p
	return p, nil
}

// start starts a plugin process. d.mu is held.
func (d *Driver) start(ctx context.Context) (*process, error) {
	if err := checkExecutable(d.path); err != nil {
		return nil, err
	}
	cmd := exec.Command(d.path)
	cmd.Env = slices.Clone(d.o.env)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{}}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hostHCLogger(d.log, filepath.Base(d.path)),
		Stderr:           stderrForwarder(d.log),
		SyncStdout:       stderrForwarder(d.log.With("stream", "stdout")),
		SyncStderr:       stderrForwarder(d.log.With("stream", "stderr")),
		StartTimeout:     d.o.startTimeout,
		AutoMTLS:         true,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize))},
	})
	type result struct {
		disp *dispensed
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		rpc, err := client.Client()
		if err != nil {
			ch <- result{err: err}
			return
		}
		raw, err := rpc.Dispense(pluginName)
		if err != nil {
			ch <- result{err: err}
			return
		}
		disp, ok := raw.(*dispensed)
		if !ok {
			ch <- result{err: fmt.Errorf("dispensed %T", raw)}
			return
		}
		ch <- result{disp: disp}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		go func() {
			<-ch
			client.Kill()
		}()
		return nil, fmt.Errorf("plugin %s (%s): start: %w", d.name, d.path, ctx.Err())
	}
	if r.err != nil {
		client.Kill()
		return nil, d.startErr(r.err)
	}
	p := &process{client: client, rpc: r.disp.rpc, exited: r.disp.ctx.Done(), devices: map[*device]struct{}{}}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	info, err := p.rpc.Info(ctx, &pluginpb.InfoRequest{})
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s (%s): %w: Info: %v", d.name, d.path, ErrHandshake, err)
	}
	d.log.Info("driver plugin started", "pid", p.pid, "path", d.path, "plugin_name", info.GetName(), "plugin_version", info.GetVersion())
	go d.watch(p)
	return p, nil
}

// startErr explains why a plugin did not start.
func (d *Driver) startErr(err error) error {
	var execErr *exec.Error
	var pathErr *fs.PathError
	msg := err.Error()
	switch {
	case errors.As(err, &execErr), errors.As(err, &pathErr) && errors.Is(pathErr.Err, fs.ErrPermission):
		return fmt.Errorf("plugin %s (%s): %w: %v", d.name, d.path, ErrNotExecutable, err)
	case strings.Contains(msg, "incompatible API version"), strings.Contains(msg, "ncompatible core API version"):
		return fmt.Errorf("plugin %s (%s): %w: it speaks another version of the plugin protocol (this host speaks version %d; rebuild the plugin with this Fabric's driver/plugin): %v",
			d.name, d.path, ErrHandshake, ProtocolVersion, err)
	case strings.Contains(msg, "exited before we could connect"), strings.Contains(msg, "Unrecognized remote plugin message"),
		strings.Contains(msg, "unsupported plugin protocol"), strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugin %s (%s): %w: not a Fabric driver plugin, or one built for another magic cookie (its standard error is in the host's log): %v",
			d.name, d.path, ErrHandshake, err)
	}
	return fmt.Errorf("plugin %s (%s): start: %v", d.name, d.path, err)
}

// watch reports the exit of a plugin process to its devices.
func (d *Driver) watch(p *process) {
	<-p.exited
	p.mu.Lock()
	p.gone = true
	devs := make([]*device, 0, len(p.devices))
	for dv := range p.devices {
		devs = append(devs, dv)
	}
	p.mu.Unlock()
	d.log.Warn("driver plugin exited", "pid", p.pid, "devices", len(devs))
	for _, dv := range devs {
		dv.Publish(driver.Event{Kind: driver.Disconnected, Protocol: driver.ProtocolDriver,
			Err: fmt.Errorf("plugin %s (pid %d): %w", d.name, p.pid, ErrPluginExited)})
	}
}

// process is one running plugin process.
type process struct {
	client *goplugin.Client
	rpc    pluginpb.DriverClient
	exited <-chan struct{}
	pid    int

	mu      sync.Mutex
	gone    bool
	devices map[*device]struct{}
}

func (p *process) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *process) add(dv *device) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		return false
	}
	p.devices[dv] = struct{}{}
	return true
}

func (p *process) remove(dv *device) {
	p.mu.Lock()
	delete(p.devices, dv)
	p.mu.Unlock()
}

// Open opens a device through the plugin: the plugin opens it and answers
// with its endpoints, which the host dials (driver.Connect). A plugin
// that exited is started again.
func (d *Driver) Open(ctx context.Context, spec driver.Spec) (driver.Device, error) {
	spec = spec.Clone()
	spec.Driver = d.name
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	var p *process
	var resp *pluginpb.OpenResponse
	for attempt := 0; ; attempt++ {
		var err error
		if p, err = d.process(ctx); err != nil {
			return nil, fmt.Errorf("%s: open device %q: %w", d.name, spec.Name, err)
		}
		resp, err = p.rpc.Open(ctx, &pluginpb.OpenRequest{Spec: specToProto(spec)})
		if err == nil {
			break
		}
		if st, _ := status.FromError(err); st.Code() == codes.Unavailable && !fromDriver(st) && attempt == 0 && ctx.Err() == nil {
			// The process is going away (it crashed a moment ago): make
			// sure it is gone and start a new one.
			go p.client.Kill()
			select {
			case <-p.exited:
				continue
			case <-ctx.Done():
			}
		}
		return nil, fmt.Errorf("%s: %w", d.name, d.callErr(ctx, p, spec.Name, "open", err))
	}
	eps, err := endpointsFromProto(spec, resp.GetEndpoints())
	if err == nil {
		var conn *driver.Connection
		if conn, err = driver.Connect(ctx, spec, eps, d.o.deviceOpts...); err == nil {
			dv := &device{Connection: conn, d: d, p: p, handle: resp.GetDevice(), name: spec.Name}
			if p.add(dv) {
				conn.Publish(driver.Event{Kind: driver.Connected, Protocol: driver.ProtocolDriver})
				return dv.withCapabilities(resp.GetCapabilities()), nil
			}
			conn.Close()
			err = fmt.Errorf("plugin %s (pid %d): %w", d.name, p.pid, ErrPluginExited)
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	_, _ = p.rpc.Close(cctx, &pluginpb.DeviceRequest{Device: resp.GetDevice()})
	return nil, fmt.Errorf("%s: %w", d.name, err)
}

// endpointsFromProto turns the plugin's endpoints into the host's,
// with the spec's transport security and credentials unless the plugin
// says otherwise.
func endpointsFromProto(spec driver.Spec, pes []*pluginpb.Endpoint) (driver.Endpoints, error) {
	if len(pes) == 0 {
		return nil, fmt.Errorf("open device %q: the plugin returned no endpoints", spec.Name)
	}
	eps := driver.Endpoints{}
	for _, pe := range pes {
		p, err := driver.ParseProtocol(pe.GetProtocol())
		if err != nil {
			return nil, fmt.Errorf("open device %q: plugin endpoint: %w", spec.Name, err)
		}
		if _, dup := eps[p]; dup {
			return nil, fmt.Errorf("open device %q: the plugin returned two %s endpoints", spec.Name, p)
		}
		if pe.GetAddress() == "" {
			return nil, fmt.Errorf("open device %q: the plugin's %s endpoint has no address", spec.Name, p)
		}
		ep := driver.Endpoint{Address: pe.GetAddress(), Credentials: spec.Credentials}
		if c := pe.GetCredentials(); c != nil {
			ep.Credentials = &driver.Credentials{Username: c.GetUsername(), Password: c.GetPassword()}
		}
		switch {
		case pe.GetInsecure():
			ep.Insecure = true
		case pe.GetTlsServerName() != "" || len(pe.GetTlsCaPem()) > 0:
			cfg := &tls.Config{MinVersion: tls.VersionTLS12}
			if spec.TLS != nil {
				cfg = spec.TLS.Clone()
			}
			if n := pe.GetTlsServerName(); n != "" {
				cfg.ServerName = n
			}
			if pem := pe.GetTlsCaPem(); len(pem) > 0 {
				pool := x509.NewCertPool()
				if cfg.RootCAs != nil {
					pool = cfg.RootCAs.Clone()
				}
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("open device %q: the plugin's %s endpoint has no PEM certificate in its CA", spec.Name, p)
				}
				cfg.RootCAs = pool
			}
			ep.TLS = cfg
		case spec.TLS != nil:
			ep.TLS = spec.TLS
		case spec.Insecure:
			ep.Insecure = true
		default:
			return nil, fmt.Errorf("open device %q: %w", spec.Name, driver.ErrTransportSecurity)
		}
		eps[p] = ep
	}
	return eps, nil
}

// RemoteError is an error a plugin returned: its gRPC code and message.
// status.Code sees the code through it.
type RemoteError struct {
	Code    codes.Code
	Message string
}

// Error returns the plugin's message.
func (e *RemoteError) Error() string { return e.Message }

// GRPCStatus returns the error's status.
func (e *RemoteError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// callErr explains the failure of a call to a plugin.
func (d *Driver) callErr(ctx context.Context, p *process, device, op string, err error) error {
	st, _ := status.FromError(err)
	driverErr := fromDriver(st)
	switch {
	case !driverErr && (p.dead() || st.Code() == codes.Unavailable && ctx.Err() == nil):
		// The connection to the process broke: it is going away.
		return fmt.Errorf("device %s: %s: plugin %s (pid %d): %w: %v", device, op, d.name, p.pid, ErrPluginExited, st.Message())
	case ctx.Err() != nil:
		return fmt.Errorf("device %s: %s: plugin %s (pid %d) did not answer in time: %w", device, op, d.name, p.pid, ctx.Err())
	case !driverErr && pastDeadline(ctx) && (st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded):
		// The deadline travels in the grpc-timeout header, and the plugin's
		// side may end the stream (RST_STREAM CANCEL) just before the
		// caller's own timer fires: the same timeout, seen first there.
		return fmt.Errorf("device %s: %s: plugin %s (pid %d) did not answer in time: %w", device, op, d.name, p.pid, context.DeadlineExceeded)
	case st.Code() == codes.Unimplemented:
		return fmt.Errorf("device %s: %s: %w: %w", device, op, driver.ErrUnsupported, &RemoteError{Code: st.Code(), Message: st.Message()})
	}
	return fmt.Errorf("device %s: %s: plugin %s: %w", device, op, d.name, &RemoteError{Code: st.Code(), Message: st.Message()})
}

// pastDeadline reports whether ctx's deadline has passed, whether or not
// its timer has fired yet.
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// device is a device opened through a plugin.
type device struct {
	*driver.Connection
	d      *Driver
	p      *process
	handle string
	name   string

	closeOnce sync.Once
	closeErr  error
}

// call runs one RPC of the device's plugin.
func (dv *device) call(ctx context.Context, op string, f func(context.Context, pluginpb.DriverClient) error) error {
	if dv.Closed() {
		return driver.ErrClosed
	}
	if dv.p.dead() {
		return fmt.Errorf("device %s: %s: plugin %s (pid %d): %w", dv.name, op, dv.d.name, dv.p.pid, ErrPluginExited)
	}
	if err := f(ctx, dv.p.rpc); err != nil {
		return dv.d.callErr(ctx, dv.p, dv.name, op, err)
	}
	return nil
}

func (dv *device) req() *pluginpb.DeviceRequest { return &pluginpb.DeviceRequest{Device: dv.handle} }

// Identity asks the plugin.
func (dv *device) Identity(ctx context.Context) (driver.Identity, error) {
	var id driver.Identity
	err := dv.call(ctx, "identity", func(ctx context.Context, c pluginpb.DriverClient) error {
		r, err := c.Identity(ctx, dv.req())
		if err == nil {
			id = driver.Identity{Vendor: r.GetVendor(), Model: r.GetModel(), Serial: r.GetSerial(), SoftwareVersion: r.GetSoftwareVersion()}
		}
		return err
	})
	return id, err
}

// Ports asks the plugin.
func (dv *device) Ports(ctx context.Context) (*driver.PortMap, error) {
	var ports []driver.Port
	err := dv.call(ctx, "ports", func(ctx context.Context, c pluginpb.DriverClient) error {
		r, err := c.Ports(ctx, dv.req())
		for _, p := range r.GetPorts() {
			ports = append(ports, driver.Port{Name: p.GetName(), ID: p.GetId()})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	m, err := driver.NewPortMap(ports)
	if err != nil {
		return nil, fmt.Errorf("device %s: ports from plugin %s: %w", dv.name, dv.d.name, err)
	}
	return m, nil
}

// PackagePipeconf sends the pipeconf (P4Info and device configs) to the
// plugin.
func (dv *device) PackagePipeconf(ctx context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	if pc == nil || pc.Schema == nil {
		return nil, fmt.Errorf("device %s: package pipeconf: nil pipeconf or schema", dv.name)
	}
	info, err := proto.Marshal(pc.Schema.P4Info())
	if err != nil {
		return nil, fmt.Errorf("device %s: package pipeconf %q: %w", dv.name, pc.ID, err)
	}
	var out []byte
	err = dv.call(ctx, "package pipeconf "+pc.ID, func(ctx context.Context, c pluginpb.DriverClient) error {
		r, err := c.PackagePipeconf(ctx, &pluginpb.PackagePipeconfRequest{Device: dv.handle, PipeconfId: pc.ID,
			P4Info: info, DeviceConfigs: pc.DeviceConfigs, CpuPort: pc.Options.CPUPort})
		out = r.GetDeviceConfig()
		return err
	})
	return out, err
}

// Reboot asks the plugin.
func (dv *device) Reboot(ctx context.Context) error {
	return dv.call(ctx, "reboot", func(ctx context.Context, c pluginpb.DriverClient) error {
		_, err := c.Reboot(ctx, dv.req())
		return err
	})
}

// InstallSoftware streams image to the plugin.
func (dv *device) InstallSoftware(ctx context.Context, version string, image io.Reader) error {
	if image == nil {
		return fmt.Errorf("device %s: install software %s: nil image", dv.name, version)
	}
	var readErr error
	err := dv.call(ctx, "install software "+version, func(ctx context.Context, c pluginpb.DriverClient) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.InstallSoftware(ctx)
		if err != nil {
			return err
		}
		err = stream.Send(&pluginpb.InstallSoftwareRequest{Request: &pluginpb.InstallSoftwareRequest_Start_{
			Start: &pluginpb.InstallSoftwareRequest_Start{Device: dv.handle, Version: version}}})
		buf := make([]byte, installChunk)
		for err == nil {
			n, rerr := image.Read(buf)
			if n > 0 {
				err = stream.Send(&pluginpb.InstallSoftwareRequest{Request: &pluginpb.InstallSoftwareRequest_Chunk{Chunk: slices.Clone(buf[:n])}})
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				readErr = rerr
				cancel()
				return rerr
			}
		}
		// A failed Send means the plugin ended the call: CloseAndRecv
		// says why.
		_, err = stream.CloseAndRecv()
		return err
	})
	if readErr != nil {
		return fmt.Errorf("device %s: install software %s: reading the image: %w", dv.name, version, readErr)
	}
	return err
}

// Clock asks the plugin.
func (dv *device) Clock(ctx context.Context) (driver.ClockReading, error) {
	var r driver.ClockReading
	err := dv.call(ctx, "clock", func(ctx context.Context, c pluginpb.DriverClient) error {
		resp, err := c.Clock(ctx, dv.req())
		if err == nil {
			r = clockFromProto(resp)
		}
		return err
	})
	return r, err
}

// withCapabilities returns the driver.Device of dv that implements the
// optional interfaces of the capabilities the plugin listed for it, and
// only those: callers detect a behaviour with a type assertion
// (dev.(driver.NodeIDSetter)), so a device whose plugin did not list a
// capability (an older plugin among them) must not have the method.
func (dv *device) withCapabilities(caps []pluginpb.Capability) driver.Device {
	if slices.Contains(caps, pluginpb.Capability_CAPABILITY_SET_NODE_ID) {
		return &nodeIDDevice{dv}
	}
	return dv
}

// nodeIDDevice is a device whose plugin device implements
// driver.NodeIDSetter.
type nodeIDDevice struct {
	*device
}

var _ driver.NodeIDSetter = (*nodeIDDevice)(nil)

// SetNodeID asks the plugin to set the node ID of the device's chip
// (driver.NodeIDSetter). The plugin's device does the work, over gNMI or
// however its box does; an error matching driver.ErrUnsupported means
// the box cannot (no chip component, path not served).
func (dv *nodeIDDevice) SetNodeID(ctx context.Context, id uint64) error {
	return dv.call(ctx, fmt.Sprintf("set node ID %d", id), func(ctx context.Context, c pluginpb.DriverClient) error {
		_, err := c.SetNodeID(ctx, &pluginpb.SetNodeIDRequest{Device: dv.handle, NodeId: id})
		return err
	})
}

// Close closes the device's connections and releases it in the plugin.
func (dv *device) Close() error {
	dv.closeOnce.Do(func() {
		err := dv.Connection.Close()
		if !dv.p.dead() {
			ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
			_, cerr := dv.p.rpc.Close(ctx, dv.req())
			cancel()
			if cerr != nil && !dv.p.dead() && status.Code(cerr) != codes.Unavailable {
				err = errors.Join(err, fmt.Errorf("device %s: plugin %s: close: %w", dv.name, dv.d.name, cerr))
			}
		}
		dv.p.remove(dv)
		dv.closeErr = err
	})
	return dv.closeErr
}
