package discovery

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultInterval is the time between two probe rounds.
	DefaultInterval = 3 * time.Second
	// DefaultMissedProbes is how many intervals a direction of a link may
	// go without a probe before the link is lost.
	DefaultMissedProbes = 3
	// DefaultEventBuffer is how many undelivered events are kept.
	DefaultEventBuffer = 4096
)

// Option configures New and Start.
type Option func(*config)

type config struct {
	interval    time.Duration
	missed      int
	now         func() time.Time
	ticks       <-chan time.Time
	fingerprint uint64
	fpSet       bool
	secret      []byte
	log         *slog.Logger
	eventBuf    int
	err         error
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("discovery: "+format, args...)
	}
}

// WithInterval sets the time between two probe rounds (default
// DefaultInterval). Every round sends a probe out of every port that is
// not down, on every device.
func WithInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("interval %v is not positive", d)
			return
		}
		c.interval = d
	}
}

// WithMissedProbes sets how many intervals a direction of a link may go
// without a probe before the link is lost (default DefaultMissedProbes):
// a link whose probes stop is lost within n+1 intervals.
func WithMissedProbes(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.fail("missed probes %d is less than 1", n)
			return
		}
		c.missed = n
	}
}

// WithClock sets the clock that timestamps probes, packet-ins and events
// and ages links (default time.Now). With WithTicker, tests drive time
// entirely.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.fail("nil clock")
			return
		}
		c.now = now
	}
}

// WithTicker makes a probe round happen on every value received from
// ticks instead of every interval; the interval still sets how old a link
// may get (WithMissedProbes). For tests with WithClock, and for callers
// that pace the rounds themselves.
func WithTicker(ticks <-chan time.Time) Option {
	return func(c *config) {
		if ticks == nil {
			c.fail("nil ticker")
			return
		}
		c.ticks = ticks
	}
}

// WithFingerprint sets the fingerprint the probes carry (default: a random
// one per Discovery). A Discovery learns links only from probes with its
// fingerprint: orchestrators that take over each other's devices share
// one.
func WithFingerprint(fp uint64) Option {
	return func(c *config) { c.fingerprint, c.fpSet = fp, true }
}

// WithSecret signs every probe with an HMAC keyed with secret and ignores
// probes that do not verify or were sent more than the link age ago
// (interval × missed probes), so that a host cannot forge links by
// replaying or making up probes. Orchestrators that share a fingerprint
// share the secret too.
func WithSecret(secret []byte) Option {
	return func(c *config) { c.secret = append([]byte(nil), secret...) }
}

// WithLogger sets the logger for send errors and ignored packets (default:
// discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithEventBuffer sets how many undelivered events are kept while nobody
// reads Events (default DefaultEventBuffer); past that the oldest are
// dropped and counted in Stats. Links always tells the current state.
func WithEventBuffer(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.fail("event buffer %d is less than 1", n)
			return
		}
		c.eventBuf = n
	}
}

func buildConfig(opts []Option) (config, error) {
	c := config{
		interval: DefaultInterval,
		missed:   DefaultMissedProbes,
		now:      time.Now,
		log:      slog.New(slog.DiscardHandler),
		eventBuf: DefaultEventBuffer,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err != nil {
		return c, c.err
	}
	if !c.fpSet {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		c.fingerprint = binary.BigEndian.Uint64(b[:])
	}
	return c, nil
}

// maxAge is how long a direction of a link lives without a probe.
func (c *config) maxAge() time.Duration { return time.Duration(c.missed) * c.interval }
