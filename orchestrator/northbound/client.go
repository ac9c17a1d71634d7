package northbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// Client is a connection to a fabricd: every RPC of the Chassis service,
// with the token (WithToken) sent on each.
type Client struct {
	nbpb.ChassisClient
	conn *grpc.ClientConn
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// DialOption configures Dial.
type DialOption func(*dialOptions)

type dialOptions struct {
	tls        *tls.Config
	insecure   bool
	token      string
	plainToken bool
	grpc       []grpc.DialOption
}

// WithTLS reaches the daemon over TLS with c (its RootCAs trust the
// daemon's certificate; Certificates, for mutual TLS).
func WithTLS(c *tls.Config) DialOption { return func(o *dialOptions) { o.tls = c } }

// WithInsecure reaches the daemon in plaintext (a daemon started with
// --insecure). A token is then refused unless WithTokenOverPlaintext.
func WithInsecure() DialOption { return func(o *dialOptions) { o.insecure = true } }

// WithToken sends "authorization: Bearer <token>" with every call. Tokens
// travel only over TLS, unless WithTokenOverPlaintext says otherwise.
func WithToken(token string) DialOption {
	return func(o *dialOptions) { o.token = strings.TrimSpace(token) }
}

// WithTokenOverPlaintext lets WithInsecure send the token anyway: anyone
// on the path can read it. For a daemon on the loopback interface.
func WithTokenOverPlaintext() DialOption { return func(o *dialOptions) { o.plainToken = true } }

// WithGRPCOptions adds options to the gRPC client (interceptors, a
// dialer).
func WithGRPCOptions(opts ...grpc.DialOption) DialOption {
	return func(o *dialOptions) { o.grpc = append(o.grpc, opts...) }
}

// Dial returns a client of the daemon at addr (host:port). Exactly one of
// WithTLS and WithInsecure is required. Dial does not wait for the
// connection: the first call does, and fails UNAVAILABLE if the daemon
// cannot be reached. ctx only bounds Dial itself.
func Dial(ctx context.Context, addr string, opts ...DialOption) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("northbound: dial %s: %w", addr, err)
	}
	var o dialOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	switch {
	case addr == "":
		return nil, fmt.Errorf("northbound: dial: empty address: %w", ErrInvalid)
	case o.tls == nil && !o.insecure:
		return nil, fmt.Errorf("northbound: dial %s: neither WithTLS nor WithInsecure: %w", addr, ErrInvalid)
	case o.tls != nil && o.insecure:
		return nil, fmt.Errorf("northbound: dial %s: both WithTLS and WithInsecure: %w", addr, ErrInvalid)
	case o.insecure && o.token != "" && !o.plainToken:
		return nil, fmt.Errorf("northbound: dial %s: %w (use TLS, or WithTokenOverPlaintext)", addr, ErrInsecureToken)
	}
	gopts := []grpc.DialOption{}
	if o.insecure {
		gopts = append(gopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		gopts = append(gopts, grpc.WithTransportCredentials(credentials.NewTLS(o.tls.Clone())))
	}
	if o.token != "" {
		gopts = append(gopts, grpc.WithPerRPCCredentials(bearerCreds{token: o.token, secure: !o.plainToken}))
	}
	gopts = append(gopts, o.grpc...)
	conn, err := grpc.NewClient(addr, gopts...)
	if err != nil {
		return nil, fmt.Errorf("northbound: dial %s: %w", addr, err)
	}
	return &Client{ChassisClient: nbpb.NewChassisClient(conn), conn: conn}, nil
}

// bearerCreds sends the token with every call.
type bearerCreds struct {
	token  string
	secure bool
}

// GetRequestMetadata adds the authorization header to a call.
func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity makes gRPC itself refuse to send the token over
// a connection without TLS, unless WithTokenOverPlaintext.
func (b bearerCreds) RequireTransportSecurity() bool { return b.secure }
