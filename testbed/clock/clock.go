// Package clock is the emulated clock of a testbed switch: the host's time,
// plus an offset, plus a drift integrated since the clock started, with an
// NTP discipline that slews it toward an SNTP server over real UDP.
//
// # Model
//
// At true time t (the host clock, read with time.Now) the clock reads
//
//	Now(t) = t + offset(t)
//
// where offset(t) grows by DriftPPM parts per million of the true time
// elapsed, plus whatever a slew in progress adds. A clock made with
// WithOffset(o) and WithDrift(d) (or WithTopology, from a topology file's
// clock: {offset, drift_ppm}) reads t + o + (t - t0)·d/10⁶ where t0 is when
// New returned, as package topology documents.
//
// SetOffset steps the clock (it reads true time + d from that instant on,
// drift continuing from there) and cancels any slew; SetDrift changes the
// rate from that instant on. Offset reports the current deviation from the
// host's time.
//
// # NTP discipline
//
// EnableNTP starts a poll loop: every poll interval (DefaultPollInterval,
// 200 ms) the clock sends an SNTP request (package internal/sntp) to the
// server over UDP, reading its own emulated time for the request and reply
// timestamps, and learns the server's offset from it. It then slews: the
// offset is corrected gradually at most at the slew rate (DefaultSlewRate,
// 500 ms per second of true time), so that the clock never jumps and, as
// long as the slew rate and the drift together stay below one second per
// second, never runs backwards. Each new sample replaces the correction
// still to be done. With WithStepThreshold an offset at least that large is
// stepped at once instead, as ntpd does beyond 128 ms.
//
// The discipline corrects phase only, as an SNTP client does: the drift
// keeps running, and each poll removes what it accumulated since the last,
// so a synchronized clock stays within about drift × poll interval plus half
// the round trip of the server. With the defaults a 50 ms skew is gone in
// 100 ms of slewing, and the clock reports StateSynchronized at the first
// poll after that (within about half a second).
//
// Status reports the state: StateDisabled, StateUnsynchronized (no usable
// sample yet, or three polls in a row failed), StateSlewing (the last
// sample was further than the sync threshold, DefaultSyncThreshold = 1 ms)
// and StateSynchronized. Changes returns a channel closed at the next status
// change; WaitSynchronized waits for synchronization.
//
// A Clock is safe for concurrent use. Close stops the NTP loop.
package clock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Defaults of the NTP discipline.
const (
	// DefaultPollInterval is the time between two SNTP polls.
	DefaultPollInterval = 200 * time.Millisecond
	// DefaultSlewRate is the largest correction applied per second of true
	// time: 500 ms/s slews a 50 ms skew away in 100 ms.
	DefaultSlewRate = 500 * time.Millisecond
	// DefaultSyncThreshold is the largest measured offset at which the clock
	// counts as synchronized.
	DefaultSyncThreshold = time.Millisecond
	// unreachableAfter is the number of consecutive failed polls after which
	// a synchronized clock reports StateUnsynchronized.
	unreachableAfter = 3
	// minQueryTimeout bounds an SNTP query from below when the poll
	// interval is shorter.
	minQueryTimeout = 500 * time.Millisecond
)

// MaxDriftPPM bounds the drift: at a million ppm the clock would stand still
// (or run at twice the speed).
const MaxDriftPPM = 1e6

// ErrClosed is returned by EnableNTP on a closed Clock.
var ErrClosed = errors.New("clock: closed")

// SyncState is the state of the NTP discipline.
type SyncState int

// Sync states.
const (
	// StateDisabled: NTP is off.
	StateDisabled SyncState = iota
	// StateUnsynchronized: NTP is on but no usable sample has arrived yet, or
	// the last three polls failed.
	StateUnsynchronized
	// StateSlewing: the server is reachable and the clock is correcting an
	// offset larger than the sync threshold.
	StateSlewing
	// StateSynchronized: the last sample found the clock within the sync
	// threshold of the server.
	StateSynchronized
)

// String names the state.
func (s SyncState) String() string {
	switch s {
	case StateDisabled:
		return "disabled"
	case StateUnsynchronized:
		return "unsynchronized"
	case StateSlewing:
		return "slewing"
	case StateSynchronized:
		return "synchronized"
	}
	return fmt.Sprintf("SyncState(%d)", int(s))
}

// MarshalText writes the state's name, for JSON and YAML output.
func (s SyncState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SyncStatus is the state of a clock's NTP discipline.
type SyncStatus struct {
	// State is the discipline's state.
	State SyncState
	// Server is the SNTP server address; empty when NTP is disabled.
	Server string
	// Offset is the server's offset from this clock at the last usable
	// sample (positive: the server is ahead).
	Offset time.Duration
	// RTT is the round-trip delay of the last usable sample.
	RTT time.Duration
	// Stratum is the server's stratum at the last usable sample.
	Stratum uint8
	// Polls counts the polls since NTP was enabled.
	Polls uint64
	// Failures counts the consecutive failed polls.
	Failures uint64
	// LastSample is the clock's own time at the last usable sample; zero
	// before the first.
	LastSample time.Time
	// Err is the error of the last poll, nil when it succeeded.
	Err error
}

// Option configures New.
type Option func(*config)

type config struct {
	offset        time.Duration
	drift         float64
	poll          time.Duration
	slew          time.Duration
	syncThreshold time.Duration
	stepThreshold time.Duration
	log           *slog.Logger
	err           error
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("clock: "+format, args...)
	}
}

// WithOffset sets the initial offset from the host's time.
func WithOffset(d time.Duration) Option { return func(c *config) { c.offset = d } }

// WithDrift sets the initial drift in parts per million; |ppm| must be
// below MaxDriftPPM.
func WithDrift(ppm float64) Option {
	return func(c *config) {
		if err := checkDrift(ppm); err != nil {
			c.fail("%v", err)
			return
		}
		c.drift = ppm
	}
}

// WithTopology sets the offset and drift from a topology file's clock
// entry. A nil entry changes nothing.
func WithTopology(tc *topology.Clock) Option {
	return func(c *config) {
		if tc == nil {
			return
		}
		WithOffset(tc.Offset)(c)
		WithDrift(tc.DriftPPM)(c)
	}
}

// WithPollInterval sets the time between SNTP polls (default
// DefaultPollInterval); it must be positive.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("poll interval %v is not positive", d)
			return
		}
		c.poll = d
	}
}

// WithSlewRate sets the largest correction per second of true time
// (default DefaultSlewRate); it must be positive and below one second.
func WithSlewRate(perSecond time.Duration) Option {
	return func(c *config) {
		if perSecond <= 0 || perSecond >= time.Second {
			c.fail("slew rate %v per second outside (0, 1s)", perSecond)
			return
		}
		c.slew = perSecond
	}
}

// WithSyncThreshold sets the largest measured offset at which the clock
// reports StateSynchronized (default DefaultSyncThreshold); it must not be
// negative.
func WithSyncThreshold(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("sync threshold %v is negative", d)
			return
		}
		c.syncThreshold = d
	}
}

// WithStepThreshold makes the discipline step, rather than slew, offsets of
// at least d. Zero, the default, always slews.
func WithStepThreshold(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("step threshold %v is negative", d)
			return
		}
		c.stepThreshold = d
	}
}

// WithLogger sends the discipline's records (failed polls, steps) to l. The
// default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

func checkDrift(ppm float64) error {
	if math.IsNaN(ppm) || math.IsInf(ppm, 0) || math.Abs(ppm) >= MaxDriftPPM {
		return fmt.Errorf("drift %v ppm outside (-%g, %g)", ppm, MaxDriftPPM, MaxDriftPPM)
	}
	return nil
}

// queryFunc measures a server's offset from the clock read by now.
type queryFunc func(ctx context.Context, server string, now func() time.Time) (sntp.Response, error)

func sntpQuery(ctx context.Context, server string, now func() time.Time) (sntp.Response, error) {
	return sntp.Query(ctx, server, sntp.WithClock(now))
}

// Clock is an emulated box clock. Create it with New.
type Clock struct {
	cfg   config
	query queryFunc

	mu sync.Mutex
	// The offset model: at true time t ≥ anchor the offset is
	// base + (t-anchor)·drift/10⁶ + the part of pending slewed by then.
	anchor  time.Time
	base    time.Duration
	drift   float64
	pending time.Duration

	gen     uint64 // incremented by EnableNTP and DisableNTP
	cancel  context.CancelFunc
	done    chan struct{} // closed when the poll loop exits
	status  SyncStatus
	changed chan struct{} // closed and replaced at each status change
	closed  bool
}

// New returns a clock that starts now at the host's time plus the offset
// given by the options.
func New(opts ...Option) (*Clock, error) {
	cfg := config{
		poll:          DefaultPollInterval,
		slew:          DefaultSlewRate,
		syncThreshold: DefaultSyncThreshold,
		log:           slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	return &Clock{
		cfg:     cfg,
		query:   sntpQuery,
		anchor:  time.Now(),
		base:    cfg.offset,
		drift:   cfg.drift,
		changed: make(chan struct{}),
	}, nil
}

// offsetAt returns the offset at true time t and the part of pending
// slewed by then. The caller holds mu.
func (c *Clock) offsetAt(t time.Time) (off, slewed time.Duration) {
	e := t.Sub(c.anchor)
	if e < 0 {
		e = 0 // a reading taken before the last change
	}
	off = c.base + time.Duration(float64(e)*c.drift/1e6)
	if c.pending != 0 {
		maxSlew := float64(e) * float64(c.cfg.slew) / float64(time.Second)
		if amount := math.Abs(float64(c.pending)); amount <= maxSlew {
			slewed = c.pending
		} else if c.pending > 0 {
			slewed = time.Duration(maxSlew)
		} else {
			slewed = -time.Duration(maxSlew)
		}
	}
	return off + slewed, slewed
}

// rebase moves the anchor to t, folding the drift and slew so far into
// base. The caller holds mu.
func (c *Clock) rebase(t time.Time) {
	off, slewed := c.offsetAt(t)
	c.base, c.pending, c.anchor = off, c.pending-slewed, t
}

// Now returns the clock's time (without a monotonic reading).
func (c *Clock) Now() time.Time {
	t := time.Now()
	c.mu.Lock()
	off, _ := c.offsetAt(t)
	c.mu.Unlock()
	return t.Add(off).Round(0)
}

// Offset returns how far the clock is from the host's time now (positive:
// ahead).
func (c *Clock) Offset() time.Duration {
	t := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	off, _ := c.offsetAt(t)
	return off
}

// Drift returns the drift in parts per million.
func (c *Clock) Drift() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.drift
}

// Slewing returns the correction still to be slewed.
func (c *Clock) Slewing() time.Duration {
	t := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	_, slewed := c.offsetAt(t)
	return c.pending - slewed
}

// SetOffset steps the clock so that it reads the host's time plus d from
// now on (drift accumulating from here), and cancels any slew in progress.
// An NTP discipline that is enabled measures the new offset at its next poll
// and slews it away.
func (c *Clock) SetOffset(d time.Duration) {
	t := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.pending, c.anchor = d, 0, t
}

// SetDrift sets the drift, in parts per million, from now on. |ppm| must be
// below MaxDriftPPM.
func (c *Clock) SetDrift(ppm float64) error {
	if err := checkDrift(ppm); err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	t := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rebase(t)
	c.drift = ppm
	return nil
}

// EnableNTP starts disciplining the clock to the SNTP server at addr
// ("host:port", or "host" for port 123). Enabling it again with another
// server switches to that server; with the same server it does nothing.
func (c *Clock) EnableNTP(addr string) error {
	if addr == "" {
		return errors.New("clock: enable NTP: empty server address")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.cancel != nil && c.status.Server == addr {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	c.DisableNTP()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.cancel != nil { // a concurrent EnableNTP won
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.gen++
	c.cancel, c.done = cancel, make(chan struct{})
	c.setStatus(SyncStatus{State: StateUnsynchronized, Server: addr})
	go c.run(ctx, c.gen, addr, c.done)
	c.cfg.log.Info("NTP enabled", "server", addr, "poll", c.cfg.poll, "slew_per_second", c.cfg.slew)
	return nil
}

// DisableNTP stops the NTP discipline and waits for its poll loop to end. A
// slew in progress is completed. Disabling a disabled clock does nothing.
func (c *Clock) DisableNTP() {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.cancel, c.done = nil, nil
	if cancel != nil {
		c.gen++
		c.setStatus(SyncStatus{State: StateDisabled})
	}
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		c.cfg.log.Info("NTP disabled")
	}
}

// Close stops the NTP discipline for good; EnableNTP then fails. The clock
// keeps reading its time.
func (c *Clock) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.DisableNTP()
	return nil
}

// Status returns the state of the NTP discipline.
func (c *Clock) Status() SyncStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Changes returns a channel that is closed at the next change of Status
// (each poll is a change).
func (c *Clock) Changes() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// WaitSynchronized waits until the discipline reports StateSynchronized and
// returns that status, or returns the last status and an error when ctx ends
// first or NTP is disabled meanwhile.
func (c *Clock) WaitSynchronized(ctx context.Context) (SyncStatus, error) {
	for {
		c.mu.Lock()
		st, ch := c.status, c.changed
		c.mu.Unlock()
		switch st.State {
		case StateSynchronized:
			return st, nil
		case StateDisabled:
			return st, errors.New("clock: wait for synchronization: NTP is disabled")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, fmt.Errorf("clock: wait for synchronization with %s (state %s, last offset %v, last error %v): %w",
				st.Server, st.State, st.Offset, st.Err, ctx.Err())
		}
	}
}

// setStatus replaces the status and wakes the waiters. The caller holds mu.
func (c *Clock) setStatus(st SyncStatus) {
	c.status = st
	close(c.changed)
	c.changed = make(chan struct{})
}

// run polls the server until ctx ends.
func (c *Clock) run(ctx context.Context, gen uint64, server string, done chan struct{}) {
	defer close(done)
	timeout := max(c.cfg.poll, minQueryTimeout)
	ticker := time.NewTicker(c.cfg.poll)
	defer ticker.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		resp, err := c.query(qctx, server, c.Now)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.sample(gen, resp, err)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sample applies the outcome of one poll of generation gen.
func (c *Clock) sample(gen uint64, resp sntp.Response, err error) {
	t := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // NTP was disabled or re-enabled during the query
	}
	st := c.status
	st.Polls++
	if err != nil {
		st.Failures++
		st.Err = err
		if st.State != StateSynchronized && st.State != StateSlewing || st.Failures >= unreachableAfter {
			st.State = StateUnsynchronized
		}
		c.cfg.log.Debug("NTP poll failed", "server", st.Server, "failures", st.Failures, "err", err)
		c.setStatus(st)
		return
	}
	st.Failures, st.Err = 0, nil
	st.Offset, st.RTT, st.Stratum = resp.Offset, resp.RTT, resp.Stratum
	c.rebase(t)
	if c.cfg.stepThreshold > 0 && resp.Offset.Abs() >= c.cfg.stepThreshold {
		c.base += resp.Offset
		c.pending = 0
		c.cfg.log.Info("NTP stepped the clock", "server", st.Server, "offset", resp.Offset)
	} else {
		c.pending = resp.Offset
	}
	off, _ := c.offsetAt(t)
	st.LastSample = t.Add(off).Round(0)
	if resp.Offset.Abs() <= c.cfg.syncThreshold {
		st.State = StateSynchronized
	} else {
		st.State = StateSlewing
	}
	c.setStatus(st)
}
