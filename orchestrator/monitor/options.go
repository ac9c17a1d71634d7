package monitor

import "log/slog"

type config struct {
	initial bool
	noWait  bool
	logger  *slog.Logger
}

// Option configures a Monitor.
type Option func(*config)

// WithInitialState publishes each box's initial port states (PortUp or
// PortDown with AttrInitial = "true") and adds its latest system message to
// the log when the box is first watched. By default the initial state is
// recorded (Monitor.Ports) but not published.
func WithInitialState() Option { return func(c *config) { c.initial = true } }

// WithLogger receives the monitor's own records: broken subscriptions,
// values it cannot read, events the bus or log refused. The default
// discards them. A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithoutInitialWait makes Watch return as soon as the box's subscriptions
// are made, without waiting for its initial state: for boxes that may be
// unreachable when they are watched. The initial state is then taken
// whenever it arrives, and changes before that are part of it (they are
// not published).
func WithoutInitialWait() Option { return func(c *config) { c.noWait = true } }
