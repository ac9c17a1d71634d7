package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline/builtin"
)

// Goals gives the committed goal of a box; *txn.Coordinator is one.
type Goals interface {
	Goal(ctx context.Context, box string) (*goal.Goal, error)
}

// Gate keeps transactions from running while a box is repaired;
// *txn.Coordinator is one.
type Gate interface {
	Hold(ctx context.Context) (release func(), err error)
}

// Drift is the record of one reconcile pass of a box that found drift or
// failed.
type Drift struct {
	// Op is the pass's operation ID (in gRPC metadata and logs).
	Op string
	// Box names the box.
	Box string
	// Time is when the pass started; Duration how long it took.
	Time     time.Time
	Duration time.Duration
	// Changes counts the repairs: entities re-added (Inserts), fixed
	// (Modifies) and removed (Deletes), gNMI leaves set.
	Changes txn.Changes
	// Replayed is set when the box had lost its pipeline (it rebooted):
	// the pipeline was set and the goal replayed in full.
	Replayed bool
	// Err is why the pass failed, if it did.
	Err error
}

// Option configures a Reconciler.
type Option func(*Reconciler)

// WithInterval sets the period of Run's passes over every box (default 30s).
func WithInterval(d time.Duration) Option { return func(r *Reconciler) { r.interval = d } }

// WithTimeout bounds one pass of one box (default 30s).
func WithTimeout(d time.Duration) Option { return func(r *Reconciler) { r.timeout = d } }

// WithCallback receives a Drift for every pass that repaired something or
// failed. It is called from the reconciling goroutine: keep it short.
func WithCallback(f func(Drift)) Option { return func(r *Reconciler) { r.report = f } }

// WithLogger sets the logger; every line carries the pass's "op".
func WithLogger(l *slog.Logger) Option { return func(r *Reconciler) { r.log = l } }

// WithPipeconfs sets where pipeconfs are found (default: the built-ins).
func WithPipeconfs(p goal.Pipeconfs) Option { return func(r *Reconciler) { r.pcs = p } }

// WithGate holds g during each repair (pass the txn.Coordinator).
func WithGate(g Gate) Option { return func(r *Reconciler) { r.gate = g } }

// Reconciler keeps boxes at their committed goal: per box, it reads back
// what the goal covers (P4 Read of the tables, action profiles and
// replication entries the goal touches; gNMI Get of the leaves it
// configures), diffs that against the goal and repairs the difference
// (txn.Sync). Entries in tables the goal does not touch are not its
// business and are left alone.
type Reconciler struct {
	goals    Goals
	devs     txn.Devices
	boxes    []string
	interval time.Duration
	timeout  time.Duration
	report   func(Drift)
	log      *slog.Logger
	pcs      goal.Pipeconfs
	gate     Gate

	kick chan string
	mu   sync.Mutex // one pass per box at a time
	busy map[string]*sync.Mutex
}

// New returns a reconciler of boxes.
func New(goals Goals, devs txn.Devices, boxes []string, opts ...Option) (*Reconciler, error) {
	if goals == nil || devs == nil {
		return nil, errors.New("reconcile: nil goals or devices")
	}
	r := &Reconciler{goals: goals, devs: devs, boxes: slices.Clone(boxes), interval: 30 * time.Second, timeout: 30 * time.Second,
		kick: make(chan string, 64), busy: map[string]*sync.Mutex{}}
	for _, o := range opts {
		o(r)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.pcs == nil {
		reg, err := builtin.Registry()
		if err != nil {
			return nil, fmt.Errorf("reconcile: built-in pipeconfs: %w", err)
		}
		r.pcs = reg
	}
	return r, nil
}

func (r *Reconciler) boxLock(box string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.busy[box]
	if !ok {
		m = &sync.Mutex{}
		r.busy[box] = m
	}
	return m
}

// Reconcile runs one pass on box now and returns its record (also given to
// the callback when it repaired something or failed).
func (r *Reconciler) Reconcile(ctx context.Context, box string) (Drift, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	d := Drift{Op: "rc-" + hex.EncodeToString(b[:]), Box: box, Time: time.Now()}
	log := r.log.With("op", d.Op, "box", box)
	l := r.boxLock(box)
	l.Lock()
	defer l.Unlock()
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, txn.MetadataKey, d.Op)
	d.Err = r.pass(ctx, box, &d, log)
	d.Duration = time.Since(d.Time)
	if d.Err != nil {
		d.Err = fmt.Errorf("reconcile box %s: %w", box, d.Err)
		log.Warn("reconcile failed", "err", d.Err)
	} else if !d.Changes.Empty() {
		log.Info("drift repaired", "inserts", d.Changes.Inserts, "modifies", d.Changes.Modifies,
			"deletes", d.Changes.Deletes, "gnmi", d.Changes.GNMI, "replayed", d.Replayed, "took", d.Duration)
	}
	if r.report != nil && (d.Err != nil || !d.Changes.Empty()) {
		r.report(d)
	}
	return d, d.Err
}

func (r *Reconciler) pass(ctx context.Context, box string, d *Drift, log *slog.Logger) error {
	if r.gate != nil {
		release, err := r.gate.Hold(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	g, err := r.goals.Goal(ctx, box)
	if err != nil {
		return err
	}
	dev, err := r.devs.Device(box)
	if err != nil {
		return err
	}
	// A box that just restarted may still look connected to the client
	// (its old stream not yet broken): retry what such a box answers
	// until the pass's deadline.
	wait := 20 * time.Millisecond
	for {
		ch, err := txn.Sync(ctx, box, dev, g, nil, txn.SyncOptions{Pipeconfs: r.pcs, Logger: log})
		// The counts are the last attempt's; the pipeline, once set by
		// any attempt, counts.
		ch.Pipeline = ch.Pipeline || d.Changes.Pipeline
		d.Changes, d.Replayed = ch, ch.Pipeline
		if err == nil || !transient(err) {
			return err
		}
		log.Debug("transient failure, retrying", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// transient reports errors of a box that is (re)connecting: UNAVAILABLE, or
// a refusal for lack of a primary.
func transient(err error) bool {
	if errors.Is(err, client.ErrNotPrimary) || status.Code(err) == codes.Unavailable {
		return true
	}
	var we *client.WriteError
	if errors.As(err, &we) {
		for _, u := range we.Updates {
			if u.Code == codes.Unavailable || u.Code == codes.PermissionDenied {
				return true
			}
		}
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if st, ok := status.FromError(e); ok && st.Code() == codes.Unavailable {
			return true
		}
	}
	return false
}

// Trigger asks Run to reconcile box soon (on a reconnect, say). It never
// blocks; a request that finds the queue full is dropped (the timer
// catches up).
func (r *Reconciler) Trigger(box string) {
	select {
	case r.kick <- box:
	default:
	}
}

// WatchEvents triggers a pass for a device every time it (re)connects. It
// returns when ctx ends or events is closed.
func (r *Reconciler) WatchEvents(ctx context.Context, events <-chan driver.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Kind == driver.Connected {
				r.Trigger(ev.Device)
			}
		}
	}
}

// Run reconciles every box at once when it starts, then every interval,
// and any box Trigger names, until ctx ends; it returns ctx's error.
// Boxes are reconciled in parallel; failures go to the callback and the
// log, and the box is tried again at the next pass.
func (r *Reconciler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	all := func() {
		for _, b := range r.boxes {
			wg.Go(func() { _, _ = r.Reconcile(ctx, b) })
		}
	}
	all()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			all()
		case b := <-r.kick:
			wg.Go(func() { _, _ = r.Reconcile(ctx, b) })
		}
	}
}
