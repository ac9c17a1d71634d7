package timesync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/internal/sntp"
)

// Errors callers branch on with errors.Is; the Service wraps them with the
// box or operation concerned.
var (
	// ErrClosed: the Service is closed.
	ErrClosed = errors.New("timesync: service closed")
	// ErrNotStarted: the operation needs the SNTP server, and Start has not
	// been called.
	ErrNotStarted = errors.New("timesync: service not started")
	// ErrUnknownBox: no box of that name was added (or it was removed).
	ErrUnknownBox = errors.New("timesync: unknown box")
	// ErrInvalidBox: Add was given a box without a name or a time client,
	// or a name already in use.
	ErrInvalidBox = errors.New("timesync: invalid box")
	// ErrReadBack: a box's NTP configuration read back over gNMI is not
	// what ConfigureNTP set.
	ErrReadBack = errors.New("timesync: NTP configuration not applied")
)

// TimeClient reads a box's clock: gNOI system.Time with the round trip of
// the call. *gnoi.Client (driver/gnoi) satisfies it.
type TimeClient interface {
	Time(ctx context.Context) (gnoi.TimeResult, error)
}

// ConfigClient reads and writes a box's configuration over gNMI.
// *gnmi.Client (driver/gnmi) satisfies it.
type ConfigClient interface {
	Get(ctx context.Context, paths []string, opts ...gnmi.GetOption) ([]gnmi.Update, error)
	Set(ctx context.Context, ops ...gnmi.SetOp) (*gpb.SetResponse, error)
}

// The driver clients satisfy the interfaces.
var (
	_ TimeClient   = (*gnoi.Client)(nil)
	_ ConfigClient = (*gnmi.Client)(nil)
)

// Box is a box whose clock the Service follows. The caller owns the
// clients: the Service never closes them.
type Box struct {
	// Name identifies the box in every call, estimate and alarm; required.
	Name string
	// Module is the box's module ID, carried into estimates and alarms.
	Module uint32
	// Time samples the box's clock; required.
	Time TimeClient
	// Config configures the box's NTP client; ConfigureNTP fails for a box
	// without one.
	Config ConfigClient
}

// Service is the chassis time service: the SNTP server, the NTP
// configuration of the boxes, and the per-box clock estimates and alarms.
// Create it with New; it is safe for concurrent use.
type Service struct {
	cfg config

	mu      sync.Mutex
	boxes   map[string]*boxState
	started bool
	closed  bool
	runCtx  context.Context
	cancel  context.CancelFunc
	conn    net.PacketConn
	served  chan struct{} // closed when the SNTP server stops
	runners sync.WaitGroup

	// The callback queue (see notify).
	qmu        sync.Mutex
	queue      []func()
	delivering bool
	qclosed    bool
	qwg        sync.WaitGroup
}

// boxState is the Service's record of one box.
type boxState struct {
	box Box

	cancel context.CancelFunc // stops the sampler; nil until it runs
	done   chan struct{}      // closed when the sampler ends

	mu       sync.Mutex
	est      *estimator
	failures int
	err      error
	alarm    bool
	removed  bool
	changed  chan struct{} // closed and replaced at each change
}

// New returns a Service configured by opts; it serves and samples nothing
// until Start.
func New(opts ...Option) (*Service, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, boxes: map[string]*boxState{}}, nil
}

// Start binds the SNTP server's UDP socket, starts serving the chassis
// clock on it, and starts sampling every box added (and every box added
// later) at the sampling interval. Serving and sampling stop when ctx ends
// or at Close; Close must still be called to release the socket. Start can
// be called once.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return errors.New("timesync: start: already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("timesync: start: %w", err)
	}
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", s.cfg.listen)
	if err != nil {
		return fmt.Errorf("timesync: start SNTP server on %s: %w", s.cfg.listen, err)
	}
	s.conn = conn
	s.runCtx, s.cancel = context.WithCancel(ctx)
	s.started = true
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := sntp.Serve(s.runCtx, conn, s.cfg.now); err != nil {
			s.cfg.log.Error("timesync: SNTP server stopped", "addr", conn.LocalAddr(), "err", err)
		}
	}()
	for _, b := range s.boxes {
		s.launch(b)
	}
	s.cfg.log.Info("timesync started", "sntp", conn.LocalAddr(), "boxes", len(s.boxes), "interval", s.cfg.interval)
	return nil
}

// launch starts a box's sampler. The caller holds s.mu and has started
// the Service.
func (s *Service) launch(b *boxState) {
	ctx, cancel := context.WithCancel(s.runCtx)
	b.cancel, b.done = cancel, make(chan struct{})
	s.runners.Add(1)
	go func() {
		defer s.runners.Done()
		defer close(b.done)
		s.run(ctx, b)
	}()
}

// run samples a box until ctx ends: at once, then every interval.
func (s *Service) run(ctx context.Context, b *boxState) {
	t := time.NewTicker(s.cfg.interval)
	defer t.Stop()
	for {
		_, _ = s.sample(ctx, b)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Addr returns the SNTP server's address, nil before Start.
func (s *Service) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.conn.LocalAddr()
}

// Now returns the chassis time (the clock WithClock gave, or time.Now).
func (s *Service) Now() time.Time { return s.cfg.now() }

// Close stops the SNTP server and the sampling, delivers the alarms still
// queued, and waits for all of it to end. It is safe to call more than
// once. Do not call it from an alarm or error callback.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel, conn, served := s.cancel, s.conn, s.served
	s.mu.Unlock()
	var err error
	if cancel != nil {
		cancel()
		if cerr := conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = fmt.Errorf("timesync: close SNTP server: %w", cerr)
		}
		<-served
	}
	s.runners.Wait()
	s.qmu.Lock()
	s.qclosed = true
	s.qmu.Unlock()
	s.qwg.Wait()
	return err
}

// Add starts following a box: it is sampled from Start on (at once if the
// Service runs). The name must be new; Time is required.
func (s *Service) Add(b Box) error {
	switch {
	case b.Name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidBox)
	case b.Time == nil:
		return fmt.Errorf("%w: box %q: no time client", ErrInvalidBox, b.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.boxes[b.Name]; ok {
		return fmt.Errorf("%w: box %q: already added", ErrInvalidBox, b.Name)
	}
	st := &boxState{
		box:     b,
		est:     newEstimator(s.cfg.window, s.cfg.filter),
		changed: make(chan struct{}),
	}
	st.est.est.Box, st.est.est.Module = b.Name, b.Module
	s.boxes[b.Name] = st
	if s.started && s.runCtx.Err() == nil {
		s.launch(st)
	}
	return nil
}

// Remove stops following a box and forgets its estimate. If its alarm was
// raised, a clear is delivered ("box removed"). Remove waits for a sample
// in progress to end (the sample's context is cancelled).
func (s *Service) Remove(name string) error {
	s.mu.Lock()
	b, ok := s.boxes[name]
	var cancel context.CancelFunc
	var done chan struct{}
	if ok {
		delete(s.boxes, name)
		cancel, done = b.cancel, b.done
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownBox, name)
	}
	if cancel != nil {
		cancel()
		<-done
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removed = true
	if b.alarm {
		b.alarm = false
		e := b.estimate()
		e.Updated = s.cfg.now().Round(0)
		s.emitAlarm(s.newAlarm(e, false, "box removed"))
	}
	b.notifyLocked()
	return nil
}

func (s *Service) box(name string) (*boxState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.boxes[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownBox, name)
	}
	return b, nil
}

// Sample takes one sample of a box now (one gNOI Time call, bounded by the
// sample timeout), updates its estimate and alarm, and returns the new
// estimate. The Service samples every box by itself once started; Sample
// is for a measurement on demand. On error the estimate is returned too,
// with Err and Failures updated.
func (s *Service) Sample(ctx context.Context, name string) (Estimate, error) {
	b, err := s.box(name)
	if err != nil {
		return Estimate{}, err
	}
	return s.sample(ctx, b)
}

// sample measures one offset of b and applies it.
func (s *Service) sample(ctx context.Context, b *boxState) (Estimate, error) {
	name := b.box.Name
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	r, err := b.box.Time.Time(ctx)
	cancel()
	var smp sample
	if err == nil {
		smp, err = s.toSample(r)
	}
	if err != nil {
		err = fmt.Errorf("timesync: box %q: sample: %w", name, err)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.removed {
			return b.estimate(), err
		}
		b.failures++
		b.err = err
		s.cfg.log.Debug("time sample failed", "box", name, "failures", b.failures, "err", err)
		if f := s.cfg.onError; f != nil {
			s.notify(func() { f(name, err) })
		}
		b.notifyLocked()
		return b.estimate(), err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.removed {
		return b.estimate(), nil
	}
	b.failures, b.err = 0, nil
	if b.est.add(smp) {
		s.cfg.log.Info("clock step detected", "box", name, "offset", smp.offset, "error_bound", smp.bound)
	}
	e := b.estimate()
	switch {
	case !b.alarm && overThreshold(e, s.cfg.threshold):
		b.alarm = true
		e.Alarm = true
		s.emitAlarm(s.newAlarm(e, true, ""))
	case b.alarm && underClearLevel(e, s.cfg.threshold, s.cfg.hyst):
		b.alarm = false
		e.Alarm = false
		s.emitAlarm(s.newAlarm(e, false, ""))
	}
	b.notifyLocked()
	return e, nil
}

// toSample places a gNOI Time result on the chassis clock.
func (s *Service) toSample(r gnoi.TimeResult) (sample, error) {
	if r.Time.IsZero() || r.Local.IsZero() {
		return sample{}, errors.New("time result without a device or local time")
	}
	if r.RTT < 0 || r.ErrorBound < 0 {
		return sample{}, fmt.Errorf("time result with a negative round trip %v or error bound %v", r.RTT, r.ErrorBound)
	}
	// The local time is the host's; the chassis clock may differ from it
	// (WithClock). Two readings in a row give the difference, to within
	// the time between them.
	at := r.Local
	if !s.cfg.hostClock {
		h1 := time.Now()
		c := s.cfg.now()
		h2 := time.Now()
		at = at.Add(c.Sub(h1.Add(h2.Sub(h1) / 2)))
	}
	at = at.Round(0)
	return sample{at: at, offset: r.Time.Sub(at), bound: max(r.ErrorBound, r.RTT/2)}, nil
}

// estimate returns the box's current estimate. The caller holds b.mu.
func (b *boxState) estimate() Estimate {
	e := b.est.est
	e.Failures, e.Err, e.Alarm = b.failures, b.err, b.alarm
	return e
}

// notifyLocked wakes the waiters. The caller holds b.mu.
func (b *boxState) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Estimate returns a box's current estimate; ok is false for an unknown box
// and for a box not sampled successfully yet (the estimate still carries
// Err and Failures then).
func (s *Service) Estimate(name string) (e Estimate, ok bool) {
	b, err := s.box(name)
	if err != nil {
		return Estimate{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e = b.estimate()
	return e, e.Valid()
}

// Snapshot returns the estimates of every box, sampled or not, sorted by
// name.
func (s *Service) Snapshot() []Estimate {
	s.mu.Lock()
	boxes := make([]*boxState, 0, len(s.boxes))
	for _, b := range s.boxes {
		boxes = append(boxes, b)
	}
	s.mu.Unlock()
	out := make([]Estimate, 0, len(boxes))
	for _, b := range boxes {
		b.mu.Lock()
		out = append(out, b.estimate())
		b.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Estimate) int { return strings.Compare(a.Box, b.Box) })
	return out
}

// Wait waits until cond holds for a box's estimate and returns that
// estimate. cond is called with every new estimate (each sample, failed or
// not), starting with the current one. Wait fails when ctx ends first
// (returning the last estimate) or the box is removed.
func (s *Service) Wait(ctx context.Context, name string, cond func(Estimate) bool) (Estimate, error) {
	b, err := s.box(name)
	if err != nil {
		return Estimate{}, err
	}
	if cond == nil {
		cond = func(Estimate) bool { return true }
	}
	for {
		b.mu.Lock()
		e, ch, removed := b.estimate(), b.changed, b.removed
		b.mu.Unlock()
		if removed {
			return e, fmt.Errorf("%w %q: removed while waiting", ErrUnknownBox, name)
		}
		if cond(e) {
			return e, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return e, fmt.Errorf("timesync: box %q: wait (offset %v ± %v, %d samples, last error %v): %w",
				name, e.Offset, e.ErrorBound, e.Samples, e.Err, ctx.Err())
		}
	}
}

// Converged reports whether an estimate shows the box certainly within the
// alarm's clear level: |Offset| + ErrorBound ≤ threshold − hysteresis.
func (s *Service) Converged(e Estimate) bool {
	return e.Valid() && underClearLevel(e, s.cfg.threshold, s.cfg.hyst)
}

// WaitConverged waits until a box's estimate is Converged: after
// ConfigureNTP, this is how the Service sees the box's NTP client take its
// clock to the chassis time.
func (s *Service) WaitConverged(ctx context.Context, name string) (Estimate, error) {
	return s.Wait(ctx, name, s.Converged)
}

// Normalize converts a timestamp read on a box's clock (a log line's, a
// notification's) to chassis time, with the box's estimate: t − offset,
// the offset carried by the drift from Updated to t (for at most the
// window's span or the sampling interval, whichever is longer). A zero t,
// and t for an unknown or unsampled box, come back unchanged.
func (s *Service) Normalize(name string, t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	b, err := s.box(name)
	if err != nil {
		return t
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.est.est.Valid() {
		return t
	}
	// The drift is a function of chassis time; t − Offset is close enough
	// to it (the error is drift × offset, parts per million of the offset).
	approx := t.Add(-b.est.est.Offset)
	return t.Add(-b.est.offsetAt(approx, s.cfg.interval))
}
