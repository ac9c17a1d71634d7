package driver

import (
	"log/slog"
	"time"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/p4/client"
)

// Defaults of the connection management options.
const (
	// DefaultHealthInterval is how often an idle connection is probed.
	DefaultHealthInterval = 10 * time.Second
	// DefaultHealthTimeout bounds one probe.
	DefaultHealthTimeout = 5 * time.Second
	// DefaultEventBuffer is the capacity of a device's Events channel.
	DefaultEventBuffer = 64
)

// Option configures a driver (its constructor) and through it the devices
// it opens, or Connect directly.
type Option func(*options)

type options struct {
	log            *slog.Logger
	healthInterval time.Duration
	healthTimeout  time.Duration
	backoffBase    time.Duration
	backoffMax     time.Duration
	eventBuffer    int
	p4Opts         []client.Option
	gnmiOpts       []gnmi.Option
	gnoiOpts       []gnoi.Option
}

func buildOptions(opts []Option) options {
	o := options{
		log:            slog.New(slog.DiscardHandler),
		healthInterval: DefaultHealthInterval,
		healthTimeout:  DefaultHealthTimeout,
		eventBuffer:    DefaultEventBuffer,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithLogger receives the records of the devices (connections going up
// and down at Info, dropped events at Warn). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithHealthCheck sets how often each connection of a device is probed
// with a cheap RPC (P4Runtime and gNMI Capabilities, gNOI system.Time) and
// how long a probe may take: a device that stops answering while its TCP
// connection stays up is reported Disconnected. A negative interval turns
// probing off (broken connections and streams are still reported); zero
// values keep DefaultHealthInterval and DefaultHealthTimeout.
func WithHealthCheck(interval, timeout time.Duration) Option {
	return func(o *options) {
		if interval != 0 {
			o.healthInterval = interval
		}
		if timeout > 0 {
			o.healthTimeout = timeout
		}
	}
}

// WithBackoff sets the delays between reconnection attempts: the first
// waits about base, each next one 1.6 times longer, never more than max.
// Zero values keep the defaults (100ms, 10s).
func WithBackoff(base, max time.Duration) Option {
	return func(o *options) {
		if base > 0 {
			o.backoffBase = base
		}
		if max > 0 {
			o.backoffMax = max
		}
	}
}

// WithEventBuffer sets the capacity of each device's Events channel
// (default DefaultEventBuffer, at least 1).
func WithEventBuffer(n int) Option {
	return func(o *options) { o.eventBuffer = max(n, 1) }
}

// WithP4RuntimeOptions adds options to every device's P4Runtime client
// (WithSchema, WithTimeout, WithMaxMessageSize, ...). The device sets the
// transport, device ID, role, election ID, backoff and logger itself.
func WithP4RuntimeOptions(opts ...client.Option) Option {
	return func(o *options) { o.p4Opts = append(o.p4Opts, opts...) }
}

// WithGNMIOptions adds options to every device's gNMI client (WithTarget,
// WithEncoding, ...).
func WithGNMIOptions(opts ...gnmi.Option) Option {
	return func(o *options) { o.gnmiOpts = append(o.gnmiOpts, opts...) }
}

// WithGNOIOptions adds options to every device's gNOI client
// (WithChunkSize, ...).
func WithGNOIOptions(opts ...gnoi.Option) Option {
	return func(o *options) { o.gnoiOpts = append(o.gnoiOpts, opts...) }
}
