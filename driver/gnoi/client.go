package gnoi

import (
	"context"
	"crypto/tls"
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
	gbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/internal/backoff"
)

// DefaultChunkSize is the size of the chunks Install and Put stream: the
// 64 KB the gNOI protos allow per message.
const DefaultChunkSize = 64 << 10

// ErrUnsupported is wrapped by the error of an RPC the device answered with
// UNIMPLEMENTED: it does not implement the service, or that RPC of it. The
// error names the service and the RPC ("gnoi healthz.Artifact: ...").
var ErrUnsupported = errors.New("not supported by the device")

// ErrTransportSecurity is returned by Dial unless exactly one of WithTLS and
// WithInsecure is given: Dial never picks plaintext by itself.
var ErrTransportSecurity = errors.New("gnoi: choose exactly one of WithTLS or WithInsecure")

// RPCError is the error of a failed gNOI call: the service and RPC, and
// what went wrong (a gRPC status error, or a protocol error of the
// device's answer). status.Code and status.FromError see through it, and
// errors.Is(err, ErrUnsupported) holds when the device answered
// UNIMPLEMENTED.
type RPCError struct {
	// Service is the gNOI service ("system", "os", "healthz", "file").
	Service string
	// RPC is the method ("Time", "Install", ...).
	RPC string
	// Err is the underlying error.
	Err error
}

// Error names the call and the failure.
func (e *RPCError) Error() string {
	if status.Code(e.Err) == codes.Unimplemented {
		return fmt.Sprintf("gnoi %s.%s: %v: %v", e.Service, e.RPC, ErrUnsupported, e.Err)
	}
	return fmt.Sprintf("gnoi %s.%s: %v", e.Service, e.RPC, e.Err)
}

// Unwrap returns the underlying error, and ErrUnsupported when the device
// answered UNIMPLEMENTED.
func (e *RPCError) Unwrap() []error {
	if status.Code(e.Err) == codes.Unimplemented {
		return []error{ErrUnsupported, e.Err}
	}
	return []error{e.Err}
}

// GRPCStatus returns the gRPC status of the underlying error, so that
// status.Code(err) works on an *RPCError.
func (e *RPCError) GRPCStatus() *status.Status {
	st, _ := status.FromError(e.Err)
	return st
}

func rpcErr(service, rpc string, err error) error {
	if err == nil {
		return nil
	}
	return &RPCError{Service: service, RPC: rpc, Err: err}
}

// Option configures a Client (Dial and New).
type Option func(*options)

type options struct {
	tls                *tls.Config
	insecure           bool
	username, password string
	credentials        bool
	dialOpts           []grpc.DialOption
	chunkSize          int
	log                *slog.Logger
}

// WithTLS makes Dial connect over TLS with this configuration (RootCAs to
// trust the device's CA, Certificates for mutual TLS).
func WithTLS(c *tls.Config) Option {
	return func(o *options) {
		if c != nil {
			o.tls = c.Clone()
		}
	}
}

// WithInsecure makes Dial connect without transport security. It must be
// asked for explicitly.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithCredentials sends a username and password in the metadata of every
// RPC, under the keys "username" and "password" as gnmic and gnoic send
// them. They travel in clear text over a plaintext connection.
func WithCredentials(username, password string) Option {
	return func(o *options) { o.username, o.password, o.credentials = username, password, true }
}

// WithDialOptions adds gRPC dial options (Dial only); they come after the
// client's own, so they override them.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithChunkSize sets the size of the chunks Install and Put send (default
// DefaultChunkSize). Values outside 1 byte .. 4 MiB are ignored.
func WithChunkSize(n int) Option {
	return func(o *options) {
		if n > 0 && n <= 4<<20 {
			o.chunkSize = n
		}
	}
}

// WithLogger receives the client's records (retries of WaitVersion at
// Debug). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

func newOptions(opts []Option) options {
	o := options{chunkSize: DefaultChunkSize, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Client calls the gNOI services of one device. It is safe for concurrent
// use.
type Client struct {
	conn *grpc.ClientConn // nil when the caller owns the connection
	o    options

	sys  syspb.SystemClient
	os   ospb.OSClient
	hz   hpb.HealthzClient
	file filepb.FileClient

	closeOnce sync.Once
}

// Dial returns a client for the device at addr (host:port). The connection
// is made by the first RPC and re-made by gRPC when it breaks (after a
// reboot, for instance), retrying from 100 ms up to 10 s apart; Dial itself
// does not block. Transport security must be chosen: WithTLS or
// WithInsecure (ErrTransportSecurity otherwise).
func Dial(addr string, opts ...Option) (*Client, error) {
	o := newOptions(opts)
	if (o.tls != nil) == o.insecure {
		return nil, ErrTransportSecurity
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	bc := gbackoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = backoff.DefaultBase, backoff.DefaultMax
	dopts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 20 * time.Second}),
	}, o.dialOpts...)
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("gnoi: dial %s: %w", addr, err)
	}
	c := newClient(conn, o)
	c.conn = conn
	return c, nil
}

// New returns a client over a connection the caller made and keeps owning
// (Close does not close it), for instance the one a driver shares between
// P4Runtime, gNMI and gNOI. Transport options (WithTLS, WithInsecure,
// WithDialOptions) are ignored. A nil conn gives a client whose calls fail.
func New(conn grpc.ClientConnInterface, opts ...Option) *Client {
	if conn == nil {
		conn = nilConn{}
	}
	return newClient(conn, newOptions(opts))
}

func newClient(conn grpc.ClientConnInterface, o options) *Client {
	return &Client{
		o:    o,
		sys:  syspb.NewSystemClient(conn),
		os:   ospb.NewOSClient(conn),
		hz:   hpb.NewHealthzClient(conn),
		file: filepb.NewFileClient(conn),
	}
}

// nilConn fails every call, for New(nil).
type nilConn struct{}

// Invoke fails.
func (nilConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return status.Error(codes.FailedPrecondition, "gnoi: client made with a nil connection")
}

// NewStream fails.
func (nilConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.FailedPrecondition, "gnoi: client made with a nil connection")
}

// Close closes the connection Dial made. It is safe to call more than once.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	var err error
	c.closeOnce.Do(func() { err = c.conn.Close() })
	if err != nil {
		return fmt.Errorf("gnoi: close: %w", err)
	}
	return nil
}

// Context returns ctx carrying the client's credentials (WithCredentials) in
// its outgoing metadata; use it with the generated clients.
func (c *Client) Context(ctx context.Context) context.Context {
	if !c.o.credentials {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "username", c.o.username, "password", c.o.password)
}

// System returns the generated system client, for RPCs this package does
// not wrap. Its calls carry no credentials: wrap their context with Context.
func (c *Client) System() syspb.SystemClient { return c.sys }

// OS returns the generated os client (see System).
func (c *Client) OS() ospb.OSClient { return c.os }

// Healthz returns the generated healthz client (see System).
func (c *Client) Healthz() hpb.HealthzClient { return c.hz }

// File returns the generated file client (see System).
func (c *Client) File() filepb.FileClient { return c.file }
