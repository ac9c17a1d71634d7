package gnoi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	filepb "github.com/openconfig/gnoi/file"
	hpb "github.com/openconfig/gnoi/healthz"
	ospb "github.com/openconfig/gnoi/os"
	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Defaults of the options.
const (
	// DefaultRebootGrace is the shortest time between the answer to a
	// request that reboots the box (Reboot with no delay, Activate) and the
	// box going down, so that the answer reaches the client first.
	DefaultRebootGrace = 100 * time.Millisecond
	// DefaultMaxFileSize is the largest file Put accepts.
	DefaultMaxFileSize = 16 << 20
	// DefaultMaxPackageSize is the largest OS package Install accepts.
	DefaultMaxPackageSize = 1 << 30
	// DefaultProgressInterval is how many bytes Install receives between two
	// TransferProgress messages.
	DefaultProgressInterval = 1 << 20
	// DefaultChassis is the name of the only component a Server reports
	// without WithHealth.
	DefaultChassis = "chassis"
	// ChunkSize is the size of the file chunks File.Get sends (the 64 KB
	// the gNOI protos name).
	ChunkSize = 64 << 10
)

// Box is the switch a Server operates. The testbed's Switch is wired to it;
// tests use fakes.
type Box interface {
	// Reboot takes the box down now: it closes its listener and drops its
	// forwarding state and unsaved configuration. After COLD and WARM it
	// comes back by itself after its boot delay; after POWERDOWN it stays
	// down. The Server calls it only with those three methods, from its own
	// goroutine, after the RPC that asked for the reboot has been answered.
	// reason is informational.
	Reboot(method syspb.RebootMethod, reason string) error
	// SoftwareVersion returns the version of the software the box runs.
	SoftwareVersion() string
	// SetSoftwareVersion changes the version the box reports. The Server
	// calls it just before Reboot when an activated version is to be booted
	// (and again, with the old version, if Reboot fails).
	SetSoftwareVersion(version string)
}

// Clock reads the box's time; *clock.Clock implements it.
type Clock interface {
	Now() time.Time
}

// Component is one component of the box as healthz reports it: Name is its
// OpenConfig /components/component name, Parent the name of the component
// it belongs to ("" for the chassis).
type Component struct {
	Name    string
	Parent  string
	Healthy bool
}

// Option configures a Server.
type Option func(*config)

type config struct {
	grace            time.Duration
	user, password   string
	auth             bool
	authFunc         func(context.Context) error
	health           func() []Component
	log              *slog.Logger
	maxFileSize      int64
	maxPackageSize   uint64
	progressInterval uint64
}

// WithRebootGrace sets the shortest time between the answer to a rebooting
// request and the reboot (default DefaultRebootGrace). A negative d is
// ignored.
func WithRebootGrace(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.grace = d
		}
	}
}

// WithCredentials makes every RPC require "username" and "password"
// metadata with these values (gnmic's convention); other requests fail with
// UNAUTHENTICATED.
func WithCredentials(username, password string) Option {
	return func(c *config) { c.user, c.password, c.auth = username, password, true }
}

// WithAuth makes every RPC call f with its context first and fail with
// f's error when it returns one (return a gRPC status such as
// UNAUTHENTICATED). The testbed's switch passes Switch.Authenticate, so that
// gNOI checks the same credentials as gNMI. A nil f is ignored.
func WithAuth(f func(context.Context) error) Option {
	return func(c *config) {
		if f != nil {
			c.authFunc = f
		}
	}
}

// WithHealth sets the function healthz asks for the box's components and
// their health. Without it the box has one component, DefaultChassis,
// always healthy. A nil f is ignored.
func WithHealth(f func() []Component) Option {
	return func(c *config) {
		if f != nil {
			c.health = f
		}
	}
}

// WithLogger sends the server's records (reboots, installs) to l. The
// default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMaxFileSize sets the largest file Put accepts (default
// DefaultMaxFileSize). A non-positive n is ignored.
func WithMaxFileSize(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxFileSize = n
		}
	}
}

// WithMaxPackageSize sets the largest OS package Install accepts (default
// DefaultMaxPackageSize); larger ones fail with TOO_LARGE. Zero is ignored.
func WithMaxPackageSize(n uint64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxPackageSize = n
		}
	}
}

// WithProgressInterval sets how many bytes Install receives between two
// TransferProgress messages (default DefaultProgressInterval). Zero is
// ignored.
func WithProgressInterval(n uint64) Option {
	return func(c *config) {
		if n > 0 {
			c.progressInterval = n
		}
	}
}

// Server is the gNOI side of an emulated switch: the system, os, healthz and
// file services. It outlives the gRPC servers it is registered on, so that
// a box that reboots keeps its installed packages, files and reboot history:
// create one Server per box and Register it on every new grpc.Server.
type Server struct {
	box   Box
	clock Clock
	cfg   config

	mu         sync.Mutex
	closed     bool
	pending    *pendingReboot
	reboots    uint32
	last       lastReboot
	packages   map[string]packageInfo
	next       string // version activated for the next boot; "" for none
	installing bool   // an Install is in progress
	health     map[string]*healthState
	files      map[string]*memFile
}

// New returns a Server for box, reading the time from clk (nil: the host
// clock). The version box runs counts as installed.
func New(box Box, clk Clock, opts ...Option) (*Server, error) {
	if box == nil {
		return nil, errors.New("gnoi server: nil box")
	}
	if clk == nil {
		clk = hostClock{}
	}
	cfg := config{
		grace:            DefaultRebootGrace,
		health:           func() []Component { return []Component{{Name: DefaultChassis, Healthy: true}} },
		log:              slog.New(slog.DiscardHandler),
		maxFileSize:      DefaultMaxFileSize,
		maxPackageSize:   DefaultMaxPackageSize,
		progressInterval: DefaultProgressInterval,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{
		box:      box,
		clock:    clk,
		cfg:      cfg,
		packages: map[string]packageInfo{},
		health:   map[string]*healthState{},
		files:    map[string]*memFile{},
	}
	if v := box.SoftwareVersion(); v != "" {
		s.packages[v] = packageInfo{description: "running at start"}
	}
	return s, nil
}

type hostClock struct{}

// Now returns the host time.
func (hostClock) Now() time.Time { return time.Now() }

// Register registers the system, os, healthz and file services on g. Call
// it on every grpc.Server the box starts.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	syspb.RegisterSystemServer(g, &systemServer{s: s})
	ospb.RegisterOSServer(g, &osServer{s: s})
	hpb.RegisterHealthzServer(g, &healthzServer{s: s})
	filepb.RegisterFileServer(g, &fileServer{s: s})
}

// Close cancels a pending reboot and makes further rebooting requests fail
// with UNAVAILABLE. A reboot already under way completes. Close does not
// stop the gRPC servers the Server is registered on.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if p := s.pending; p != nil && !p.firing {
		p.timer.Stop()
		s.pending = nil
	}
	return nil
}

// authorize checks the request's credentials (WithAuth, WithCredentials).
func (s *Server) authorize(ctx context.Context) error {
	if f := s.cfg.authFunc; f != nil {
		if err := f(ctx); err != nil {
			if _, ok := status.FromError(err); !ok {
				err = status.Error(codes.Unauthenticated, err.Error())
			}
			return err
		}
	}
	if !s.cfg.auth {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	user, pass := md.Get("username"), md.Get("password")
	if len(user) != 1 || len(pass) != 1 ||
		subtle.ConstantTimeCompare([]byte(user[0]), []byte(s.cfg.user)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass[0]), []byte(s.cfg.password)) != 1 {
		return status.Error(codes.Unauthenticated, "gnoi: invalid or missing username/password metadata")
	}
	return nil
}

// errorf returns a gRPC status error.
func errorf(c codes.Code, format string, args ...any) error {
	return status.Error(c, fmt.Sprintf(format, args...))
}
