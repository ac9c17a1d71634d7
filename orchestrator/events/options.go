package events

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults used by NewBus and Subscribe when no option overrides them.
const (
	// DefaultHistory is how many of the most recent events the bus keeps
	// for replay to new subscribers.
	DefaultHistory = 1024
	// DefaultBuffer is how many events a subscriber's buffer holds before
	// the oldest are dropped.
	DefaultBuffer = 256
)

type config struct {
	history int
	buffer  int
	now     func() time.Time
	logger  *slog.Logger
	offset  func(module uint32) time.Duration
}

// Option configures a Bus.
type Option func(*config)

// WithHistory keeps the last n events for replay (WithReplay). n must be at
// least 0; 0 disables replay.
func WithHistory(n int) Option { return func(c *config) { c.history = n } }

// WithBuffer sets the default subscriber buffer to n events (n ≥ 1).
func WithBuffer(n int) Option { return func(c *config) { c.buffer = n } }

// WithClock replaces time.Now as the bus's clock (for ObservedTime and the
// publish → delivery latency). A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets the logger for drop reports (default slog.Default()). A
// nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithSourceOffset gives the bus each box's clock offset (box clock minus
// orchestrator clock, as the time-sync service estimates it), subtracted from
// SourceTime before measuring source → observed latency. Module 0 is never
// looked up. The function is called from Publish and must not block or call
// the bus.
func WithSourceOffset(offset func(module uint32) time.Duration) Option {
	return func(c *config) { c.offset = offset }
}

func newConfig(opts []Option) (config, error) {
	c := config{history: DefaultHistory, buffer: DefaultBuffer, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.history < 0 {
		return c, fmt.Errorf("events: history %d: %w", c.history, ErrInvalid)
	}
	if c.buffer < 1 {
		return c, fmt.Errorf("events: buffer %d: %w", c.buffer, ErrInvalid)
	}
	return c, nil
}

type subConfig struct {
	replay int
	buffer int
	name   string
}

// SubscribeOption configures a Subscription.
type SubscribeOption func(*subConfig)

// WithReplay first delivers up to n of the most recent retained events that
// match the filter (the bus retains WithHistory events, DefaultHistory by
// default), oldest first. The subscription's buffer grows by the number of
// replayed events, so that replay never crowds out live events. n must be at
// least 0.
func WithReplay(n int) SubscribeOption { return func(c *subConfig) { c.replay = n } }

// WithSubscriptionBuffer sets this subscription's buffer to n events (n ≥ 1),
// overriding the bus's WithBuffer.
func WithSubscriptionBuffer(n int) SubscribeOption {
	return func(c *subConfig) { c.buffer = n }
}

// WithName names the subscriber in Stats and drop reports.
func WithName(name string) SubscribeOption { return func(c *subConfig) { c.name = name } }
