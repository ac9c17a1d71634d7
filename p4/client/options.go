package client

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/p4fabric/fabric/internal/window"
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/anypb"
)

// Defaults used when the corresponding option is not given.
const (
	// DefaultMaxMessageSize is the largest message the client sends or
	// accepts: gRPC servers, the switch's included, refuse larger requests
	// by default.
	DefaultMaxMessageSize = 4 << 20
	// DefaultPacketBuffer is the number of packet-ins buffered for a reader
	// of PacketIn before further ones are dropped.
	DefaultPacketBuffer = 1024
	// DefaultNotificationBuffer is the number of digest lists, idle-timeout
	// notifications, stream errors and other messages buffered (each) before
	// further ones are dropped.
	DefaultNotificationBuffer = 256
	// DefaultBatchSize is the largest number of updates Write puts in one
	// WriteRequest.
	DefaultBatchSize = 1000
)

// Option configures a Client made by Dial or New.
type Option func(*config)

type config struct {
	deviceID        uint64
	roleName        string
	roleConfig      *anypb.Any
	electionID      ElectionID
	tls             *tls.Config
	insecure        bool
	timeout         time.Duration
	maxMsgSize      int
	keepalive       *keepalive.ClientParameters
	schema          *schema.Schema
	logger          *slog.Logger
	packetBuf       int
	notifBuf        int
	backoffBase     time.Duration
	backoffMax      time.Duration
	dialOpts        []grpc.DialOption
	window          int32
	manualDigestAck bool
	err             error
}

func defaultConfig() config {
	return config{
		electionID: ElectionID{Low: 1},
		maxMsgSize: DefaultMaxMessageSize,
		window:     window.Stream,
		packetBuf:  DefaultPacketBuffer,
		notifBuf:   DefaultNotificationBuffer,
	}
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("p4runtime client option: "+format, args...)
	}
}

// WithDeviceID sets the P4Runtime device ID (default 0).
func WithDeviceID(id uint64) Option { return func(c *config) { c.deviceID = id } }

// WithRole sets the role the client arbitrates for, and its role config
// (spec "Role Config"; p4/roleconfig builds Stratum's format). An empty
// name and a nil config mean the default role, full pipeline access: the role
// is then left unset in every request, as the spec requires ("Default Role").
func WithRole(name string, roleConfig *anypb.Any) Option {
	return func(c *config) { c.roleName, c.roleConfig = name, roleConfig }
}

// WithElectionID sets the election ID the client arbitrates with (default
// 1). TakeOver raises it.
func WithElectionID(id ElectionID) Option { return func(c *config) { c.electionID = id } }

// WithTLS makes Dial use TLS with the given configuration (mutual TLS when it
// carries a client certificate). Dial requires WithTLS or WithInsecure.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) {
		if cfg == nil {
			c.fail("WithTLS(nil)")
			return
		}
		c.tls = cfg
	}
}

// WithInsecure makes Dial use plaintext. Use it only on loopback or a trusted
// management network (spec "Security concerns").
func WithInsecure() Option { return func(c *config) { c.insecure = true } }

// WithTimeout bounds each unary call (Write batches, SetPipeline,
// GetPipeline, Capabilities) by d, on top of the caller's context. Zero, the
// default, adds no bound.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("negative timeout %v", d)
			return
		}
		c.timeout = d
	}
}

// WithMaxMessageSize sets the largest message sent or received, in bytes
// (default DefaultMaxMessageSize). Write splits batches to stay under it, so
// set it to what the switch accepts.
func WithMaxMessageSize(n int) Option {
	return func(c *config) {
		if n < 4096 {
			c.fail("max message size %d below 4096 bytes", n)
			return
		}
		c.maxMsgSize = n
	}
}

// WithKeepalive sets gRPC keepalive parameters for Dial, so that a silent
// peer is noticed and the stream re-established.
func WithKeepalive(p keepalive.ClientParameters) Option {
	return func(c *config) { c.keepalive = &p }
}

// WithSchema gives the P4Info schema used to resolve names and decode
// packet-in metadata. The client then keeps it: SetPipeline and GetPipeline do
// not replace it.
func WithSchema(s *schema.Schema) Option { return func(c *config) { c.schema = s } }

// WithLogger sets the logger (default: none).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPacketBuffer sets how many packet-ins are buffered for PacketIn before
// further ones are dropped and counted (default DefaultPacketBuffer).
func WithPacketBuffer(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.fail("negative packet buffer %d", n)
			return
		}
		c.packetBuf = n
	}
}

// WithNotificationBuffer sets how many digest lists, idle-timeout
// notifications, stream errors and other stream messages are buffered, each,
// before further ones are dropped and counted (default
// DefaultNotificationBuffer).
func WithNotificationBuffer(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.fail("negative notification buffer %d", n)
			return
		}
		c.notifBuf = n
	}
}

// WithBackoff sets the delays between attempts to re-open the stream channel:
// the first retry waits about base, each next one 1.6 times longer with ±20%
// jitter, never more than max. Dial applies the same bounds to the gRPC
// channel's reconnection. Zero keeps a default (100ms, 10s).
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) {
		if base < 0 || max < 0 {
			c.fail("negative backoff %v, %v", base, max)
			return
		}
		c.backoffBase, c.backoffMax = base, max
	}
}

// WithDialOptions adds gRPC dial options for Dial (interceptors, a custom
// dialer, per-RPC credentials, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.dialOpts = append(c.dialOpts, opts...) }
}

// WithWindow sets Dial's HTTP/2 flow-control window: n bytes per stream,
// 4n per connection (default 4 MiB and 16 MiB), fixed. Zero leaves the
// windows to gRPC, which estimates the link's bandwidth-delay product with
// a PING after the data of nearly every short call: worth it only on a
// long, fast link. A window below 64 KiB is refused (HTTP/2's default).
func WithWindow(n int32) Option {
	return func(c *config) {
		if n != 0 && n < 64<<10 {
			c.fail("window %d below 64 KiB", n)
			return
		}
		c.window = n
	}
}

// WithManualDigestAck turns off the automatic acknowledgement of digest
// lists: call AckDigest once a list has been acted on (spec
// "DigestEntry"). By default each list is acknowledged as soon as it is
// received.
func WithManualDigestAck() Option { return func(c *config) { c.manualDigestAck = true } }

// WriteOption configures one Write.
type WriteOption func(*writeConfig)

type writeConfig struct {
	batchSize int
	atomicity p4v1.WriteRequest_Atomicity
	inFlight  int
	encoded   func(*p4v1.Entity) []byte
	err       error
}

// WithBatchSize sets the largest number of updates per WriteRequest (default
// DefaultBatchSize). Batches are also split to stay under the maximum message
// size.
func WithBatchSize(n int) WriteOption {
	return func(w *writeConfig) {
		if n < 1 {
			w.err = fmt.Errorf("p4runtime write option: batch size %d < 1", n)
			return
		}
		w.batchSize = n
	}
}

// WithAtomicity sets the batch atomicity (spec "Batch Atomicity").
// With ROLLBACK_ON_ERROR or DATAPLANE_ATOMIC all updates travel in a single
// WriteRequest, whatever WithBatchSize says, since splitting would silently
// break the all-or-none guarantee; Write fails with ErrTooLarge, sending
// nothing, when they do not fit in one message.
func WithAtomicity(a p4v1.WriteRequest_Atomicity) WriteOption {
	return func(w *writeConfig) { w.atomicity = a }
}

// WithInFlight lets up to n batches be outstanding at once, for throughput.
// The default, 1, sends batches one after another, each after the previous
// one was answered, which is the only way to order dependent batches (spec
// "Batching and Ordering of Updates"). With n > 1 the switch may apply
// batches in any order.
func WithInFlight(n int) WriteOption {
	return func(w *writeConfig) {
		if n < 1 {
			w.err = fmt.Errorf("p4runtime write option: in-flight %d < 1", n)
			return
		}
		w.inFlight = n
	}
}
