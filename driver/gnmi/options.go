package gnmi

import (
	"crypto/tls"
	"log/slog"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
)

// Option configures a Client (Dial and New).
type Option func(*options)

type options struct {
	tls      *tls.Config
	insecure bool

	username, password string
	credentials        bool

	target   string
	encoding gpb.Encoding
	dialOpts []grpc.DialOption

	backoffBase, backoffMax time.Duration
	log                     *slog.Logger
}

// WithTLS makes Dial connect over TLS with this configuration (set RootCAs to
// trust the target's CA, Certificates for mutual TLS). gNMI requires TLS
// (specification section 3.1); the emulated switches serve plaintext unless
// their topology asks for TLS.
func WithTLS(c *tls.Config) Option {
	return func(o *options) {
		if c != nil {
			o.tls = c.Clone()
		}
	}
}

// WithInsecure makes Dial connect without transport security. It must be
// asked for explicitly: Dial refuses to pick plaintext by itself.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithCredentials sends a username and password in the metadata of every
// RPC, under the keys "username" and "password" as gnmic sends them
// (specification section 3.1). They travel in clear text over a plaintext
// connection.
func WithCredentials(username, password string) Option {
	return func(o *options) {
		o.username, o.password, o.credentials = username, password, true
	}
}

// WithTarget sets the target name put in the prefix of every request
// (specification section 2.2.2.1); the target echoes it in its responses.
// The default sets none.
func WithTarget(name string) Option { return func(o *options) { o.target = name } }

// WithEncoding sets the encoding of Get requests and of the values Set sends
// (see EncodeValue). The default is JSON, which every target supports.
func WithEncoding(e gpb.Encoding) Option { return func(o *options) { o.encoding = e } }

// WithDialOptions adds gRPC dial options (Dial only).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithReconnectBackoff sets the delays between attempts to re-establish a
// broken STREAM subscription: the first retry waits about base, each next
// one 1.6 times longer (with ±20% jitter), never more than max. Non-positive
// values keep the defaults of 100ms and 10s.
func WithReconnectBackoff(base, max time.Duration) Option {
	return func(o *options) { o.backoffBase, o.backoffMax = base, max }
}

// WithLogger receives the client's records (reconnections at Info). The
// default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}
