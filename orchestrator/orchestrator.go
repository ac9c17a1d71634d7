package orchestrator

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/reconcile"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// Errors callers branch on; the orchestrator wraps them.
var (
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("orchestrator: closed")
	// ErrInvalid is returned for invalid arguments (a nil store, registry
	// or config).
	ErrInvalid = errors.New("orchestrator: invalid argument")
	// ErrNotConnected: the box is registered but the orchestrator holds
	// no open device for it.
	ErrNotConnected = errors.New("orchestrator: box not connected")
)

type options struct {
	logger     *slog.Logger
	interval   time.Duration
	boxTimeout time.Duration
	pipeconfs  goal.Pipeconfs
	busOpts    []events.Option
	logOpts    []logbook.Option
	txnOpts    []txn.Option
	invOpts    []inventory.Option
	svc        serviceOptions
	startWait  time.Duration
	creds      func(inventory.Box) (*tls.Config, *driver.Credentials, error)
	noNodeIDs  bool
}

// WithNodeIDs says whether Register makes each box answer P4Runtime under
// its module ID (default true): where the box's driver can set the
// openconfig-p4rt node ID of its chip (driver.NodeIDSetter), a box
// registered with another device ID gets its module ID as node ID, and is
// reopened and recorded with it. Boxes whose driver cannot keep the device
// ID they were registered with.
func WithNodeIDs(on bool) Option {
	return func(o *options) { o.noNodeIDs = !on }
}

// WithStartWait bounds how long New waits for the registered boxes to
// open (default 5s) before it returns; boxes still opening are attached
// when they answer, and reported BoxDisconnected if they do not within the
// box timeout. When a transaction is pending, New waits for every box
// regardless: rolling it back needs them. Values < 0 are ignored.
func WithStartWait(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.startWait = d
		}
	}
}

// WithBoxCredentials supplies the TLS configuration and the credentials of
// a box, which the store does not keep: New and the retries of unreachable
// boxes call f for every box registered without Insecure, and Register
// calls it for a spec with neither TLS nor Insecure set (so that a daemon
// can register boxes with its own trust anchors). A nil *tls.Config from f
// leaves the box unopened, with f's error or ErrInvalid.
func WithBoxCredentials(f func(b inventory.Box) (*tls.Config, *driver.Credentials, error)) Option {
	return func(o *options) { o.creds = f }
}

// Option configures New.
type Option func(*options)

// WithLogger also sends the orchestrator's logs to l (they always go to
// the logbook, Log). A nil l is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithReconcileInterval sets the period of the reconciler's passes over
// every box (default 30s). Values under 1ms are ignored.
func WithReconcileInterval(d time.Duration) Option {
	return func(o *options) {
		if d >= time.Millisecond {
			o.interval = d
		}
	}
}

// WithBoxTimeout bounds the apply of one box in a commit and one
// reconcile pass (default 30s). Values ≤ 0 are ignored.
func WithBoxTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.boxTimeout = d
		}
	}
}

// WithPipeconfs sets where pipeconfs are found (default: the built-ins).
func WithPipeconfs(p goal.Pipeconfs) Option {
	return func(o *options) {
		if p != nil {
			o.pipeconfs = p
		}
	}
}

// WithBusOptions passes options to the event bus.
func WithBusOptions(opts ...events.Option) Option {
	return func(o *options) { o.busOpts = append(o.busOpts, opts...) }
}

// WithLogbookOptions passes options to the logbook.
func WithLogbookOptions(opts ...logbook.Option) Option {
	return func(o *options) { o.logOpts = append(o.logOpts, opts...) }
}

// WithTxnOptions passes options to the transaction coordinator (after the
// orchestrator's own, so they win).
func WithTxnOptions(opts ...txn.Option) Option {
	return func(o *options) { o.txnOpts = append(o.txnOpts, opts...) }
}

// WithInventoryOptions passes options to the inventory.
func WithInventoryOptions(opts ...inventory.Option) Option {
	return func(o *options) { o.invOpts = append(o.invOpts, opts...) }
}

// conn is one open box.
type conn struct {
	box    inventory.Box
	dev    driver.Device
	cancel context.CancelFunc
	done   chan struct{}
	svc    *services // set when the services follow the box
	// watched: the monitor reads the device's events (not watch).
	watched bool
}

// Orchestrator makes the registered boxes behave as one chassis: it keeps
// an open device per box, commits chassis configs to all of them as one
// transaction, reconciles drift in the background, and publishes what
// happens on its event bus and in its logbook. It is safe for concurrent
// use.
type Orchestrator struct {
	st      store.Store
	drivers *driver.Registry
	o       options
	log     *slog.Logger
	inv     *inventory.Inventory
	coord   *txn.Coordinator
	rec     *reconcile.Reconciler
	bus     *events.Bus
	book    *logbook.Log
	svc     *services
	// compiles counts compiles: tests check that a prepared config is
	// not compiled again.
	compiles atomic.Int64

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.RWMutex
	conns    map[string]*conn         // by serial
	detached map[string]inventory.Box // registered, not open (by serial)
	closed   bool
}

// devices adapts the orchestrator's open boxes (by serial) to txn.Devices.
type devices struct{ o *Orchestrator }

// Device implements txn.Devices.
func (d devices) Device(serial string) (txn.Device, error) {
	d.o.mu.RLock()
	defer d.o.mu.RUnlock()
	c, ok := d.o.conns[serial]
	if !ok {
		return nil, fmt.Errorf("orchestrator: box %s: %w: %w", serial, ErrNotConnected, txn.ErrUnknownBox)
	}
	return c.dev, nil
}

// OpID returns a new operation ID.
func OpID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "op-" + hex.EncodeToString(b[:])
}

// New returns an orchestrator of the boxes registered in st, reaching them
// with the drivers of drivers. It opens every registered box (the TLS
// configuration and credentials of a box registered without Insecure are
// not kept in the store: WithBoxCredentials supplies them, or the box must
// be registered again), waiting for them up to the start wait
// (WithStartWait); a box that cannot be opened within the box timeout is
// reported BoxDisconnected and tried again every reconcile interval. It
// then resolves a transaction a previous
// orchestrator left pending (txn.Coordinator.Recover), and starts the
// reconciler in the background. If that transaction cannot be rolled back
// (a box it touched is unreachable), New fails with the *txn.AbortError:
// call it again once the box is back. st stays the caller's: Close does not
// close it.
func New(ctx context.Context, st store.Store, drivers *driver.Registry, opts ...Option) (*Orchestrator, error) {
	if st == nil || drivers == nil {
		return nil, fmt.Errorf("orchestrator: nil store or driver registry: %w", ErrInvalid)
	}
	if ctx == nil {
		return nil, fmt.Errorf("orchestrator: nil context: %w", ErrInvalid)
	}
	o := options{interval: 30 * time.Second, boxTimeout: 30 * time.Second, startWait: 5 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	book, err := logbook.New(o.logOpts...)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: logbook: %w", err)
	}
	var h slog.Handler = logbook.Handler(book)
	if o.logger != nil {
		h = slog.NewMultiHandler(h, o.logger.Handler())
	}
	logger := slog.New(h)
	bus, err := events.NewBus(append([]events.Option{events.WithLogger(logger)}, o.busOpts...)...)
	if err != nil {
		_ = book.Close()
		return nil, fmt.Errorf("orchestrator: event bus: %w", err)
	}
	inv, err := inventory.New(st, drivers, append([]inventory.Option{inventory.WithLogger(logger)}, o.invOpts...)...)
	if err != nil {
		_ = bus.Close()
		_ = book.Close()
		return nil, fmt.Errorf("orchestrator: inventory: %w", err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	orc := &Orchestrator{st: st, drivers: drivers, o: o, log: logger, inv: inv, bus: bus, book: book,
		ctx: bg, cancel: cancel, conns: map[string]*conn{}, detached: map[string]inventory.Box{}}
	fail := func(err error) (*Orchestrator, error) {
		_ = orc.Close()
		return nil, err
	}
	orc.wg.Go(func() { _ = book.Consume(bg, bus, events.Filter{}) })
	if err := orc.startServices(); err != nil {
		return fail(err)
	}

	tops := []txn.Option{txn.WithLogger(logger), txn.WithBoxTimeout(o.boxTimeout)}
	rops := []reconcile.Option{reconcile.WithLogger(logger), reconcile.WithTimeout(o.boxTimeout),
		reconcile.WithInterval(o.interval), reconcile.WithCallback(orc.drift)}
	if o.pipeconfs != nil {
		tops = append(tops, txn.WithPipeconfs(o.pipeconfs))
		rops = append(rops, reconcile.WithPipeconfs(o.pipeconfs))
	}
	orc.coord, err = txn.New(st, devices{orc}, append(tops, o.txnOpts...)...)
	if err != nil {
		return fail(fmt.Errorf("orchestrator: coordinator: %w", err))
	}
	orc.rec, err = reconcile.New(orc.coord, devices{orc}, nil, append(rops, reconcile.WithGate(orc.coord))...)
	if err != nil {
		return fail(fmt.Errorf("orchestrator: reconciler: %w", err))
	}

	op := OpID()
	log := logger.With(logbook.AttrOp, op)
	boxes, _, err := inv.List(ctx)
	if err != nil {
		return fail(fmt.Errorf("orchestrator: start: %w", err))
	}
	// Boxes are opened in the background. New waits for them only up to
	// the start wait, so that a dead box does not hold the chassis up,
	// unless a transaction is pending: rolling it back needs every box.
	reopened := make(chan struct{})
	var wg sync.WaitGroup
	for _, b := range boxes {
		wg.Go(func() { orc.reattach(bg, b, log) })
	}
	orc.wg.Go(func() {
		wg.Wait()
		close(reopened)
	})
	pending, err := orc.coord.Pending(ctx)
	if err != nil {
		return fail(fmt.Errorf("orchestrator: start: %w", err))
	}
	wait := o.startWait
	if pending != "" {
		wait = o.boxTimeout + time.Second // every reattach ends within its box timeout
	}
	t := time.NewTimer(wait)
	select {
	case <-reopened:
	case <-t.C:
		log.Warn("boxes still opening; going on without them", "waited", wait)
	case <-ctx.Done():
		t.Stop()
		return fail(fmt.Errorf("orchestrator: start: %w", ctx.Err()))
	}
	t.Stop()
	rec, err := orc.coord.Recover(ctx)
	if err != nil {
		return fail(fmt.Errorf("orchestrator: recover: %w", err))
	}
	if rec != nil {
		log.Warn("recovered a pending transaction", "txn", rec.ID, "state", string(rec.State))
		orc.publish(events.Event{Kind: events.Aborted, OpID: rec.ID, Message: "pending transaction rolled back on start",
			Attrs: map[string]string{events.AttrReason: "orchestrator restarted"}})
	}
	orc.wg.Go(func() { _ = orc.rec.Run(bg) })
	orc.wg.Go(orc.tick)
	log.Info("orchestrator started", "boxes", len(boxes))
	return orc, nil
}

// reattach opens b's device (within the box timeout) and attaches it. A box
// that cannot be opened is kept detached, reported BoxDisconnected, and
// tried again every reconcile interval.
func (o *Orchestrator) reattach(ctx context.Context, b inventory.Box, log *slog.Logger) {
	octx, cancel := context.WithTimeout(ctx, o.o.boxTimeout)
	defer cancel()
	spec, err := o.withCredentials(b, b.Spec)
	var dev driver.Device
	if err == nil {
		dev, err = o.openDevice(octx, spec)
	}
	if err == nil {
		o.attach(b, dev, log)
		return
	}
	o.mu.Lock()
	_, already := o.detached[b.Serial]
	o.detached[b.Serial] = b
	o.mu.Unlock()
	log.Warn("box unreachable", logbook.AttrModule, b.Module, "serial", b.Serial, "err", err)
	if !already {
		o.publish(events.Event{Kind: events.BoxDisconnected, Module: b.Module, Serial: b.Serial,
			Attrs: map[string]string{events.AttrReason: err.Error()}, Message: "box unreachable"})
	}
}

// tick asks the reconciler to pass over every box once per interval, and
// tries again to open the boxes that could not be.
func (o *Orchestrator) tick() {
	t := time.NewTicker(o.o.interval)
	defer t.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
			o.mu.RLock()
			for serial := range o.conns {
				o.rec.Trigger(serial)
			}
			detached := make([]inventory.Box, 0, len(o.detached))
			for _, b := range o.detached {
				detached = append(detached, b)
			}
			o.mu.RUnlock()
			for _, b := range detached {
				o.reattach(o.ctx, b, o.log.With(logbook.AttrOp, OpID()))
			}
		}
	}
}

// withCredentials returns spec with the TLS configuration and credentials
// of WithBoxCredentials for a box that is not insecure and has none.
func (o *Orchestrator) withCredentials(b inventory.Box, spec inventory.BoxSpec) (inventory.BoxSpec, error) {
	if spec.Insecure || spec.TLS != nil || o.o.creds == nil {
		return spec, nil
	}
	cfg, creds, err := o.o.creds(b)
	if err == nil && cfg == nil {
		err = fmt.Errorf("no TLS configuration: %w", ErrInvalid)
	}
	if err != nil {
		return spec, fmt.Errorf("orchestrator: credentials of box %q: %w", spec.Name, err)
	}
	spec = spec.Clone()
	spec.TLS, spec.Credentials = cfg, creds
	return spec, nil
}

// attach keeps dev open as box's device (closing one it replaces), watches
// its connection events and asks for a reconcile pass.
func (o *Orchestrator) attach(b inventory.Box, dev driver.Device, log *slog.Logger) {
	// The device reports its first connections (one Connected per
	// protocol) on its events: watch publishes them as BoxConnected.
	ctx, cancel := context.WithCancel(o.ctx)
	c := &conn{box: b, dev: dev, cancel: cancel, done: make(chan struct{})}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		cancel()
		_ = dev.Close()
		return
	}
	old := o.conns[b.Serial]
	o.conns[b.Serial] = c
	delete(o.detached, b.Serial)
	o.mu.Unlock()
	if old != nil {
		old.stop()
	}
	c.svc = o.svc
	c.watched = o.svc.attach(ctx, c)
	go func() {
		defer close(c.done)
		if c.watched {
			<-ctx.Done()
			return
		}
		o.watch(ctx, c)
	}()
	log.Info("box attached", logbook.AttrModule, b.Module, "serial", b.Serial, "name", b.Spec.Name)
	o.rec.Trigger(b.Serial)
}

// stop ends the watcher of c and closes its device.
func (c *conn) stop() {
	c.cancel()
	c.svc.detach(c, c.watched)
	_ = c.dev.Close()
	<-c.done
}

// watch turns c's device events into bus events and reconcile triggers.
func (o *Orchestrator) watch(ctx context.Context, c *conn) {
	evs := c.dev.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-evs:
			if !ok {
				return
			}
			switch ev.Kind {
			case driver.Connected:
				o.publish(events.Event{Kind: events.BoxConnected, Module: c.box.Module, Serial: c.box.Serial,
					ObservedTime: ev.Time, Attrs: map[string]string{"protocol": string(ev.Protocol)}, Message: ev.String()})
				o.rec.Trigger(c.box.Serial)
			case driver.Disconnected:
				attrs := map[string]string{"protocol": string(ev.Protocol)}
				if ev.Err != nil {
					attrs[events.AttrReason] = ev.Err.Error()
				}
				o.publish(events.Event{Kind: events.BoxDisconnected, Module: c.box.Module, Serial: c.box.Serial,
					ObservedTime: ev.Time, Attrs: attrs, Message: ev.String()})
			}
		}
	}
}

// drift is the reconciler's callback.
func (o *Orchestrator) drift(d reconcile.Drift) {
	if d.Err != nil || d.Changes.Empty() {
		return
	}
	var module uint32
	o.mu.RLock()
	if c, ok := o.conns[d.Box]; ok {
		module = c.box.Module
	}
	o.mu.RUnlock()
	o.publish(events.Event{Kind: events.DriftRepaired, Module: module, Serial: d.Box, OpID: d.Op,
		Attrs: map[string]string{
			"inserts": strconv.Itoa(d.Changes.Inserts), "modifies": strconv.Itoa(d.Changes.Modifies),
			"deletes": strconv.Itoa(d.Changes.Deletes), "gnmi": strconv.Itoa(d.Changes.GNMI),
			"replayed": strconv.FormatBool(d.Replayed),
		},
		Message: fmt.Sprintf("repaired %d changes", d.Changes.Total())})
}

func (o *Orchestrator) publish(e events.Event) {
	if _, err := o.bus.Publish(e); err != nil && !errors.Is(err, events.ErrClosed) {
		o.log.Warn("publish event", "kind", e.Kind.String(), "err", err)
	}
}

func (o *Orchestrator) check() error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return ErrClosed
	}
	return nil
}

// Register opens the box spec describes, records it in the inventory
// (allocating its module ID, or keeping the one its serial holds) and keeps
// it open as the chassis' device for that box. A box registered again (a
// new address) replaces its device. The reconciler then brings the box to
// its committed goal.
func (o *Orchestrator) Register(ctx context.Context, spec inventory.BoxSpec) (inventory.Box, error) {
	if err := o.check(); err != nil {
		return inventory.Box{}, err
	}
	if !spec.Insecure && spec.TLS == nil && o.o.creds != nil {
		var err error
		if spec, err = o.withCredentials(inventory.Box{Spec: spec}, spec); err != nil {
			return inventory.Box{}, err
		}
	}
	if err := spec.Validate(); err != nil {
		return inventory.Box{}, err
	}
	op := OpID()
	log := o.log.With(logbook.AttrOp, op)
	// A box registered again at the address it is open at is the same
	// box: close its device first, or the new one could not take the
	// P4Runtime election ID the old one holds.
	// A box the orchestrator renumbered (WithNodeIDs) answers under its
	// module ID, whatever device ID it is registered again with.
	if renumbered, ok := o.renumbered(spec); ok {
		spec = spec.Clone()
		spec.DeviceID = renumbered
	}
	o.mu.Lock()
	var same *conn
	for serial, c := range o.conns {
		if sameTarget(c.box.Spec, spec) {
			same = c
			delete(o.conns, serial)
			break
		}
	}
	o.mu.Unlock()
	if same != nil {
		same.stop()
	}
	dev, err := o.openDevice(ctx, spec)
	if err != nil {
		log.Warn("register: open failed", "name", spec.Name, "err", err)
		return inventory.Box{}, fmt.Errorf("orchestrator: register %q (op %s): %w", spec.Name, op, err)
	}
	b, err := o.inv.RegisterDevice(ctx, spec, dev)
	if err != nil {
		_ = dev.Close()
		log.Warn("register failed", "name", spec.Name, "err", err)
		return inventory.Box{}, fmt.Errorf("orchestrator: register %q (op %s): %w", spec.Name, op, err)
	}
	if b, dev, err = o.setNodeID(ctx, b, dev, log); err != nil {
		return inventory.Box{}, fmt.Errorf("orchestrator: register %q (op %s): %w", spec.Name, op, err)
	}
	log.Info("box registered", logbook.AttrModule, b.Module, "serial", b.Serial, "device_id", b.Spec.DeviceID)
	o.attach(b, dev, log)
	return b, nil
}

// setNodeID makes the box answer P4Runtime under its module ID where its
// driver can set the openconfig-p4rt node ID (WithNodeIDs): it sets it,
// reopens the box under it and records it. A box whose driver cannot is
// returned as it is. On an error dev is closed.
func (o *Orchestrator) setNodeID(ctx context.Context, b inventory.Box, dev driver.Device, log *slog.Logger) (inventory.Box, driver.Device, error) {
	id := uint64(b.Module)
	setter, ok := dev.(driver.NodeIDSetter)
	if o.o.noNodeIDs || !ok || b.Spec.DeviceID == id {
		return b, dev, nil
	}
	if err := setter.SetNodeID(ctx, id); err != nil {
		if errors.Is(err, driver.ErrUnsupported) {
			log.Info("box keeps its device ID: its node ID cannot be set", logbook.AttrModule, b.Module, "device_id", b.Spec.DeviceID, "err", err)
			return b, dev, nil
		}
		_ = dev.Close()
		return b, nil, fmt.Errorf("set the node ID of module %d to %d: %w", b.Module, id, err)
	}
	// The box cut the P4Runtime sessions of the old ID (spec: arbitration
	// is per device_id): reopen under the new one.
	_ = dev.Close()
	spec := b.Spec.Clone()
	spec.TLS, spec.Credentials = nil, nil
	var err error
	if spec, err = o.withCredentials(b, spec); err != nil {
		return b, nil, err
	}
	spec.DeviceID = id
	if dev, err = o.openDevice(ctx, spec); err != nil {
		return b, nil, fmt.Errorf("reopen module %d under device ID %d: %w", b.Module, id, err)
	}
	nb, err := o.inv.RegisterDevice(ctx, spec, dev)
	if err != nil {
		_ = dev.Close()
		return b, nil, fmt.Errorf("record device ID %d of module %d: %w", id, b.Module, err)
	}
	log.Info("box answers P4Runtime under its module ID", logbook.AttrModule, nb.Module, "was", b.Spec.DeviceID)
	return nb, dev, nil
}

// renumbered returns the device ID a box registered at spec's address
// answers under after the orchestrator renumbered it (its module ID),
// when spec asks for another. It looks at the boxes the orchestrator holds
// (open or waiting to be reopened), not the store, so that registering N
// boxes stays O(N) reads.
func (o *Orchestrator) renumbered(spec inventory.BoxSpec) (uint64, bool) {
	if o.o.noNodeIDs {
		return 0, false
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	match := func(b inventory.Box) bool {
		at := b.Spec
		at.DeviceID = spec.DeviceID
		return b.Spec.DeviceID == uint64(b.Module) && spec.DeviceID != b.Spec.DeviceID && sameTarget(at, spec)
	}
	for _, c := range o.conns {
		if match(c.box) {
			return c.box.Spec.DeviceID, true
		}
	}
	for _, b := range o.detached {
		if match(b) {
			return b.Spec.DeviceID, true
		}
	}
	return 0, false
}

// electionWait bounds how long openDevice waits for a box to free the
// election ID of a controller that just went away.
const electionWait = 10 * time.Second

// openDevice opens the box spec describes. A box that still counts a
// controller that just closed (this orchestrator's previous device, or a
// previous orchestrator's) refuses the same election ID with
// INVALID_ARGUMENT until it notices the old stream's end: such an open is
// retried, with backoff, for up to electionWait.
func (o *Orchestrator) openDevice(ctx context.Context, spec inventory.BoxSpec) (driver.Device, error) {
	deadline := time.Now().Add(electionWait)
	wait := 10 * time.Millisecond
	for {
		dev, err := o.drivers.Open(ctx, spec.DriverSpec())
		if err == nil || !electionTaken(err) || time.Now().After(deadline) {
			return dev, err
		}
		o.log.Debug("election ID still taken, retrying", "name", spec.Name, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// electionTaken reports a refusal of an election ID another controller
// holds (P4Runtime spec: INVALID_ARGUMENT).
func electionTaken(err error) bool {
	// status.FromError finds a status wrapped anywhere in err's chain.
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "election_id")
}

// sameTarget reports whether a and b reach the same device.
func sameTarget(a, b inventory.BoxSpec) bool {
	da, db := a.DriverSpec(), b.DriverSpec()
	for _, p := range []driver.Protocol{driver.P4Runtime, driver.GNMI, driver.GNOI} {
		if da.AddressOf(p) != "" && da.AddressOf(p) == db.AddressOf(p) && a.DeviceID == b.DeviceID {
			return true
		}
	}
	return false
}

// Decommission removes the box with serial from the inventory (freeing its
// module ID) and closes its device. It returns the box as it was.
func (o *Orchestrator) Decommission(ctx context.Context, serial string) (inventory.Box, error) {
	if err := o.check(); err != nil {
		return inventory.Box{}, err
	}
	op := OpID()
	b, err := o.inv.Decommission(ctx, serial)
	if err != nil {
		return inventory.Box{}, fmt.Errorf("orchestrator: decommission %s (op %s): %w", serial, op, err)
	}
	o.mu.Lock()
	c := o.conns[serial]
	delete(o.conns, serial)
	delete(o.detached, serial)
	o.mu.Unlock()
	if c != nil {
		c.stop()
	}
	o.log.Info("box decommissioned", logbook.AttrOp, op, logbook.AttrModule, b.Module, "serial", serial)
	o.publish(events.Event{Kind: events.BoxDisconnected, Module: b.Module, Serial: serial, OpID: op,
		Attrs: map[string]string{events.AttrReason: "decommissioned"}, Message: "box decommissioned"})
	return b, nil
}

// Boxes returns the registered boxes, sorted by module ID.
func (o *Orchestrator) Boxes(ctx context.Context) ([]inventory.Box, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	boxes, _, err := o.inv.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: boxes: %w", err)
	}
	return boxes, nil
}

// Inventory returns the orchestrator's inventory (interface names,
// lookups by module).
func (o *Orchestrator) Inventory() *inventory.Inventory { return o.inv }

// Compile compiles cfg against the registered boxes: a goal per box, keyed
// by serial. Nothing is sent.
func (o *Orchestrator) Compile(ctx context.Context, cfg *goal.Config) (map[string]*goal.Goal, error) {
	if cfg == nil {
		return nil, fmt.Errorf("orchestrator: nil config: %w", ErrInvalid)
	}
	boxes, err := o.Boxes(ctx)
	if err != nil {
		return nil, err
	}
	return o.compileFor(cfg, boxes)
}

// compileFor compiles cfg against boxes (sorted by module, as Boxes
// returns them), reading nothing else of the inventory: interface names
// resolve in boxes.
func (o *Orchestrator) compileFor(cfg *goal.Config, boxes []inventory.Box) (map[string]*goal.Goal, error) {
	gb := make([]goal.Box, 0, len(boxes))
	for _, b := range boxes {
		x := goal.Box{Name: b.Serial, Module: int(b.Module), Role: string(b.Spec.Role)}
		if b.Ports != nil {
			pm, err := driver.NewPortMap(b.Ports)
			if err != nil {
				return nil, fmt.Errorf("orchestrator: %v: ports: %w", b, err)
			}
			x.Ports = pm
		}
		gb = append(gb, x)
	}
	cfg, err := o.withPunt(cfg, boxes)
	if err != nil {
		return nil, err
	}
	copts := []goal.Option{goal.WithResolver(snapshot(boxes))}
	if o.o.pipeconfs != nil {
		copts = append(copts, goal.WithPipeconfs(o.o.pipeconfs))
	}
	o.compiles.Add(1)
	goals, err := goal.Compile(cfg, gb, copts...)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: compile: %w", err)
	}
	return goals, nil
}

// Commit compiles cfg against the registered boxes and commits the goals
// to every box as one transaction (txn.Coordinator.Commit): all boxes get
// the new version, or all keep the current one and the error is a
// *txn.AbortError. The result's ID is the operation ID, in every request
// sent and every log line; a Committed or Aborted event reports it. With
// WithReroute, the group members on ports that are down are left out of
// what is committed (the Committed event's reason names the ports), and
// cfg is kept for the reroutes that follow. A caller that validates cfg
// before it commits it should Prepare it and commit the Prepared: it is
// compiled once.
func (o *Orchestrator) Commit(ctx context.Context, cfg *goal.Config, opts ...txn.CommitOption) (*txn.Result, error) {
	if cfg == nil {
		return nil, fmt.Errorf("orchestrator: commit: nil config: %w", ErrInvalid)
	}
	y, err := cfg.Marshal()
	if err != nil {
		return nil, fmt.Errorf("orchestrator: commit: %w: %w", ErrInvalid, err)
	}
	p, err := o.prepare(ctx, cfg, y, false, false)
	if err != nil {
		return nil, err
	}
	return p.Commit(ctx, opts...)
}

// Rollback commits the goals of committed version n as a new transaction
// (and version). opts are as Commit's (txn.WithID, txn.WithProgress).
func (o *Orchestrator) Rollback(ctx context.Context, n int64, opts ...txn.CommitOption) (*txn.Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.rerouting() {
		// The rolled-back version has no config to reroute from: reroutes
		// wait for the next Commit.
		o.svc.mu.Lock()
		defer o.svc.mu.Unlock()
		o.svc.configured, o.svc.applied = nil, nil
	}
	y, err := o.configYAML(ctx, n)
	if err != nil {
		return nil, err
	}
	return o.commit("rollback to version "+strconv.FormatInt(n, 10), "", y, func(more ...txn.CommitOption) (*txn.Result, error) {
		return o.coord.Rollback(ctx, n, append(opts, more...)...)
	})
}

// commit runs f, a commit of the config whose YAML is cfg (nil: not
// known) with the commit options f is given, and reports its outcome in the
// log and on the bus. A committed version's config is journaled with it
// (Config).
func (o *Orchestrator) commit(what, reason string, cfg []byte, f func(...txn.CommitOption) (*txn.Result, error)) (*txn.Result, error) {
	var opts []txn.CommitOption
	if cfg != nil {
		opts = append(opts, txn.WithOutcome(func(v int64) []store.Op { return []store.Op{store.OpPut(configKey(v), cfg)} }))
	}
	res, err := f(opts...)
	var ae *txn.AbortError
	switch {
	case err == nil:
		o.log.Info(what+": committed", logbook.AttrOp, res.ID, "version", res.Version)
		attrs := map[string]string{"version": strconv.FormatInt(res.Version, 10)}
		if reason != "" {
			attrs[events.AttrReason] = reason
		}
		o.publish(events.Event{Kind: events.Committed, OpID: res.ID,
			Attrs:   attrs,
			Message: fmt.Sprintf("%s: version %d committed", what, res.Version)})
		return res, nil
	case errors.As(err, &ae):
		attrs := map[string]string{"restored": strconv.FormatBool(ae.Restored)}
		for box, r := range ae.Reasons {
			attrs["box."+box] = r
		}
		attrs[events.AttrReason] = ae.Error()
		o.log.Warn(what+": aborted", logbook.AttrOp, ae.ID, "err", err)
		o.publish(events.Event{Kind: events.Aborted, OpID: ae.ID, Attrs: attrs, Message: what + ": aborted"})
		return nil, fmt.Errorf("orchestrator: %s: %w", what, err)
	default:
		o.log.Warn(what+": failed", "err", err)
		return nil, fmt.Errorf("orchestrator: %s: %w", what, err)
	}
}

// History returns the committed versions, oldest first, without goals.
func (o *Orchestrator) History(ctx context.Context) ([]txn.Version, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.coord.History(ctx)
}

// Current returns the committed version (nil, nil when none).
func (o *Orchestrator) Current(ctx context.Context) (*txn.Version, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.coord.Current(ctx)
}

// Diff compares committed version v1 with v2 (0 is the empty chassis), per
// box (serial) that differs.
func (o *Orchestrator) Diff(ctx context.Context, v1, v2 int64) (map[string]txn.BoxDiff, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.coord.Diff(ctx, v1, v2)
}

// Reconcile runs one reconcile pass on the box with serial now and returns
// its record (Drift.Op is the operation ID). The error wraps
// inventory.ErrUnknownBox for a box that is not registered and
// ErrNotConnected for one the orchestrator holds no open device for.
func (o *Orchestrator) Reconcile(ctx context.Context, serial string) (reconcile.Drift, error) {
	if err := o.check(); err != nil {
		return reconcile.Drift{}, err
	}
	if _, err := (devices{o}).Device(serial); err != nil {
		// A box the inventory does not know is not merely disconnected.
		if _, ierr := o.inv.Get(ctx, serial); errors.Is(ierr, inventory.ErrUnknownBox) {
			return reconcile.Drift{}, fmt.Errorf("orchestrator: reconcile: %w", ierr)
		}
		return reconcile.Drift{}, err
	}
	return o.rec.Reconcile(ctx, serial)
}

// Events returns the event bus.
func (o *Orchestrator) Events() *events.Bus { return o.bus }

// Log returns the logbook: the orchestrator's logs (with their operation
// IDs) and every event of the bus.
func (o *Orchestrator) Log() *logbook.Log { return o.book }

// Backup writes a snapshot of the store to w (the store engine's format:
// bolt.Restore reads a bolt store's).
func (o *Orchestrator) Backup(ctx context.Context, w io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	op := OpID()
	if err := o.st.Snapshot(ctx, w); err != nil {
		o.log.Warn("backup failed", logbook.AttrOp, op, "err", err)
		return fmt.Errorf("orchestrator: backup (op %s): %w", op, err)
	}
	o.log.Info("backup written", logbook.AttrOp, op)
	return nil
}

// Close stops the reconciler, closes every box's device, the event bus and
// the logbook. It does not close the store. Close is idempotent.
func (o *Orchestrator) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	conns := o.conns
	o.conns = map[string]*conn{}
	o.mu.Unlock()
	o.cancel()
	o.wg.Wait()
	o.svc.close()
	for _, c := range conns {
		c.stop()
	}
	_ = o.bus.Close()
	_ = o.book.Close()
	return nil
}
