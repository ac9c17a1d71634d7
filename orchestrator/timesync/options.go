package timesync

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Defaults of a Service.
const (
	// DefaultListenAddr is where the SNTP server listens unless told
	// otherwise: a free UDP port on the IPv4 loopback interface, which only
	// boxes on the same host (emulated switches) reach. A deployment listens
	// on a management address, or on ":123" with WithAdvertiseAddr.
	DefaultListenAddr = "127.0.0.1:0"
	// DefaultInterval is the time between two gNOI Time samples of a box.
	DefaultInterval = time.Second
	// DefaultTimeout bounds one sample (one gNOI Time call).
	DefaultTimeout = 2 * time.Second
	// DefaultWindow is the number of samples per box the drift is fitted
	// over.
	DefaultWindow = 64
	// DefaultFilter is the number of most recent samples the clock filter
	// chooses the offset from, as NTP's eight-stage clock filter does.
	DefaultFilter = 8
	// DefaultThreshold is the offset past which a box's alarm is raised.
	DefaultThreshold = time.Millisecond
	// DefaultHysteresisFraction is the hysteresis, as a fraction of the
	// threshold, when WithHysteresis is not given.
	DefaultHysteresisFraction = 0.2
)

// Option configures New.
type Option func(*config)

type config struct {
	listen    string
	advertise string
	now       func() time.Time
	hostClock bool // now is time.Now
	interval  time.Duration
	timeout   time.Duration
	window    int
	filter    int
	threshold time.Duration
	hyst      time.Duration
	hystSet   bool
	onAlarm   func(Alarm)
	onError   func(box string, err error)
	log       *slog.Logger
	errs      []error
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// WithListenAddr sets the UDP address the SNTP server listens on
// ("host:port"; port 0 picks a free one). Default DefaultListenAddr.
func WithListenAddr(addr string) Option {
	return func(c *config) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			c.fail("listen address %q: %v", addr, err)
			return
		}
		c.listen = addr
	}
}

// WithAdvertiseAddr sets the SNTP server address ConfigureNTP gives the
// boxes: a host (IP address or name) the boxes reach the orchestrator at,
// optionally with a port ("host:port") when they reach it through a
// translated port. Without it, the boxes are given the listen address's IP
// and the bound port, which does not work when the server listens on all
// addresses (":123"): ConfigureNTP then fails and asks for this option.
func WithAdvertiseAddr(addr string) Option {
	return func(c *config) {
		if addr == "" {
			c.fail("advertise address is empty")
			return
		}
		if host, port, err := net.SplitHostPort(addr); err == nil {
			p, perr := strconv.ParseUint(port, 10, 16)
			if host == "" || perr != nil || p == 0 {
				c.fail("advertise address %q: want host or host:port with a port in 1..65535", addr)
				return
			}
		}
		c.advertise = addr
	}
}

// WithClock sets the orchestrator's clock, the chassis time base: the SNTP
// server serves it and every offset is measured against it. The default is
// time.Now. A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now, c.hostClock = now, false
		}
	}
}

// WithInterval sets the time between two samples of a box (default
// DefaultInterval); it must be positive.
func WithInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("sample interval %v is not positive", d)
			return
		}
		c.interval = d
	}
}

// WithTimeout bounds one sample (default DefaultTimeout); it must be
// positive.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("sample timeout %v is not positive", d)
			return
		}
		c.timeout = d
	}
}

// WithWindow sets how many samples per box are kept for the drift fit
// (default DefaultWindow); at least 3.
func WithWindow(n int) Option {
	return func(c *config) {
		if n < 3 {
			c.fail("window of %d samples: want at least 3", n)
			return
		}
		c.window = n
	}
}

// WithFilter sets how many of the most recent samples the clock filter
// chooses the offset from (default DefaultFilter); at least 1. It is capped
// by the window.
func WithFilter(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.fail("filter of %d samples: want at least 1", n)
			return
		}
		c.filter = n
	}
}

// WithThreshold sets the alarm threshold (default DefaultThreshold); it must
// be positive. See the package documentation for how the error bound and
// the hysteresis apply.
func WithThreshold(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("alarm threshold %v is not positive", d)
			return
		}
		c.threshold = d
	}
}

// WithHysteresis sets how far under the threshold a box must certainly be
// for its alarm to clear (default DefaultHysteresisFraction of the
// threshold). It must be at least zero and below the threshold.
func WithHysteresis(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("hysteresis %v is negative", d)
			return
		}
		c.hyst, c.hystSet = d, true
	}
}

// WithAlarm receives the alarm events: one when a box's alarm is raised,
// one when it clears. Calls are made one at a time, in the order the
// alarms happened, from a goroutine of the Service (never from the
// sampling of a box, so a slow callback delays no sample); the callback may
// call any method of the Service except Close. A nil f is ignored.
func WithAlarm(f func(Alarm)) Option {
	return func(c *config) {
		if f != nil {
			c.onAlarm = f
		}
	}
}

// WithErrorHandler receives every failed sample, with the box's name and
// the error (which names the box), on the same goroutine and in the same
// order as WithAlarm's callback. Failures are also reported by Estimate
// (Err, Failures). A nil f is ignored.
func WithErrorHandler(f func(box string, err error)) Option {
	return func(c *config) {
		if f != nil {
			c.onError = f
		}
	}
}

// WithLogger sends the Service's records (failed samples at Debug, clock
// steps at Info, alarms at Warn and Info) to l. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

func newConfig(opts []Option) (config, error) {
	c := config{
		listen:    DefaultListenAddr,
		now:       time.Now,
		hostClock: true,
		interval:  DefaultInterval,
		timeout:   DefaultTimeout,
		window:    DefaultWindow,
		filter:    DefaultFilter,
		threshold: DefaultThreshold,
		log:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if !c.hystSet {
		c.hyst = time.Duration(float64(c.threshold) * DefaultHysteresisFraction)
	}
	if c.hyst >= c.threshold {
		c.fail("hysteresis %v is not below the threshold %v", c.hyst, c.threshold)
	}
	c.filter = min(c.filter, c.window)
	if err := errors.Join(c.errs...); err != nil {
		return c, fmt.Errorf("timesync: %w", err)
	}
	return c, nil
}
