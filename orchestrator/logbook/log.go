package logbook

import (
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/p4fabric/fabric/internal/ring"

	"github.com/p4fabric/fabric/orchestrator/events"
)

// Defaults used by New and Follow when no option overrides them.
const (
	// DefaultWindow is the reorder window: how long a record is held for
	// records with earlier corrected times to arrive.
	DefaultWindow = 200 * time.Millisecond
	// DefaultCapacity is how many emitted records the log retains.
	DefaultCapacity = 10000
	// DefaultFollowBuffer is how many records a follower's buffer holds
	// before the oldest are dropped.
	DefaultFollowBuffer = 1024
)

type config struct {
	window   time.Duration
	capacity int
	clock    Clock
}

// Option configures a Log.
type Option func(*config)

// WithWindow sets the reorder window (d ≥ 0). A zero window emits every
// record on arrival: records are then in arrival order, with Late set on
// those whose corrected time is earlier than one already emitted.
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithCapacity sets how many emitted records the log retains (n ≥ 1).
func WithCapacity(n int) Option { return func(c *config) { c.capacity = n } }

// WithClock replaces the system clock (for tests). A nil clock is ignored.
func WithClock(clk Clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// Log is the merged log. Create one with New; it is safe for concurrent use.
type Log struct {
	cfg config

	mu        sync.Mutex
	closed    bool
	seq       uint64
	offsets   map[uint32]offset
	pending   pendingHeap // by (Time, Module, Seq)
	arrivals  []*entry    // pending records in arrival order, from arrHead
	arrHead   int
	last      key // of the last record emitted in order
	emitted   bool
	retained  ring.Ring[Record]
	followers map[uint64]*Follower
	nextID    uint64
	timer     Timer
	timerAt   time.Time
	timerGen  uint64
	st        Stats
}

type offset struct{ offset, bound time.Duration }

// New returns an empty log. The error wraps ErrInvalid for a negative window
// or a capacity under 1.
func New(opts ...Option) (*Log, error) {
	cfg := config{window: DefaultWindow, capacity: DefaultCapacity, clock: SystemClock{}}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.window < 0 || cfg.capacity < 1 {
		return nil, fmt.Errorf("logbook: window %v, capacity %d: %w", cfg.window, cfg.capacity, ErrInvalid)
	}
	return &Log{
		cfg:       cfg,
		offsets:   make(map[uint32]offset),
		retained:  ring.New[Record](cfg.capacity),
		followers: make(map[uint64]*Follower),
	}, nil
}

// SetOffset sets module's clock offset (box clock − orchestrator clock) and
// its error bound, applied to the box timestamps of records that arrive from
// then on. The error wraps ErrInvalid for module 0 (the chassis-wide module,
// on the orchestrator's clock) and a negative error bound.
func (l *Log) SetOffset(module uint32, off, errorBound time.Duration) error {
	if l == nil {
		return fmt.Errorf("logbook: nil log: %w", ErrClosed)
	}
	if module == 0 || errorBound < 0 {
		return fmt.Errorf("logbook: offset for module %d, error bound %v: %w", module, errorBound, ErrInvalid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.offsets[module] = offset{off, errorBound}
	return nil
}

// Offset returns module's clock offset and error bound, and whether one was
// set.
func (l *Log) Offset(module uint32) (off, errorBound time.Duration, ok bool) {
	if l == nil {
		return 0, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.offsets[module]
	return o.offset, o.bound, ok
}

// AddEvent adds an event. Its corrected time is SourceTime less its module's
// offset when SourceTime is known, ObservedTime otherwise (or the arrival
// time when both are zero). The error wraps ErrInvalid for an invalid kind
// and ErrClosed after Close.
func (l *Log) AddEvent(e events.Event) error {
	if !e.Kind.Valid() {
		return fmt.Errorf("logbook: event kind %d: %w", uint8(e.Kind), ErrInvalid)
	}
	r := Record{
		Source:     SourceEvent,
		Kind:       e.Kind.String(),
		Severity:   eventSeverity(e.Kind),
		Module:     e.Module,
		Serial:     e.Serial,
		Port:       e.Port,
		OpID:       e.OpID,
		Message:    e.Message,
		Attrs:      maps.Clone(e.Attrs),
		SourceTime: e.SourceTime,
		EventSeq:   e.Seq,
	}
	if e.SourceTime.IsZero() {
		r.Time = e.ObservedTime
	}
	return l.add(r)
}

// AddMessage adds a box's system message. Its corrected time is m.Time less
// the box's offset (the arrival time when m.Time is zero). The error wraps
// ErrInvalid for an invalid severity and ErrClosed after Close.
func (l *Log) AddMessage(m SystemMessage) error {
	if !m.Severity.Valid() {
		return fmt.Errorf("logbook: message severity %d: %w", int8(m.Severity), ErrInvalid)
	}
	attrs := maps.Clone(m.Attrs)
	for k, v := range map[string]string{"app": m.AppName, "procid": m.ProcID, "msgid": m.MsgID} {
		if v != "" {
			if attrs == nil {
				attrs = make(map[string]string, 3)
			}
			attrs[k] = v
		}
	}
	return l.add(Record{
		Source:     SourceSystem,
		Kind:       KindMessage,
		Severity:   m.Severity,
		Module:     m.Module,
		Serial:     m.Serial,
		Message:    m.Msg,
		Attrs:      attrs,
		SourceTime: m.Time,
	})
}

// Consume subscribes to the bus (with f and opts) and adds every event it
// delivers until ctx ends, which it returns as ctx's error. When the
// subscription ends otherwise (the bus or the log closed) it returns an
// error wrapping events.ErrClosed or ErrClosed.
func (l *Log) Consume(ctx context.Context, b *events.Bus, f events.Filter, opts ...events.SubscribeOption) error {
	if l == nil {
		return fmt.Errorf("logbook: nil log: %w", ErrClosed)
	}
	opts = append([]events.SubscribeOption{events.WithName("logbook")}, opts...)
	sub, err := b.Subscribe(ctx, f, opts...)
	if err != nil {
		return fmt.Errorf("logbook: consume: %w", err)
	}
	defer sub.Cancel()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("logbook: consume: %w", ctx.Err())
		case e, ok := <-sub.C():
			if !ok {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("logbook: consume: %w", err)
				}
				return fmt.Errorf("logbook: consume: subscription ended: %w", events.ErrClosed)
			}
			if err := l.AddEvent(e); err != nil {
				return fmt.Errorf("logbook: consume: %w", err)
			}
		}
	}
}

func eventSeverity(k events.Kind) Severity {
	switch k {
	case events.BoxDisconnected, events.PortDown, events.LinkLost, events.Aborted, events.TimeAlarmRaised:
		return Warning
	}
	return Info
}

// add stamps r (Seq, Received, corrected Time, offset) and queues it.
// r.SourceTime is a box timestamp to correct when set; otherwise r.Time is
// an orchestrator timestamp, or zero for "now".
func (l *Log) add(r Record) error {
	if l == nil {
		return fmt.Errorf("logbook: nil log: %w", ErrClosed)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("logbook: add: %w", ErrClosed)
	}
	now := l.cfg.clock.Now() // under the lock: arrival times follow Seq
	l.seq++
	r.Seq = l.seq
	r.Received = now.Round(0)
	switch {
	case !r.SourceTime.IsZero():
		r.Time = r.SourceTime
		if o, ok := l.offsets[r.Module]; ok && r.Module != 0 {
			r.Time = r.SourceTime.Add(-o.offset)
			r.Offset, r.ErrorBound = o.offset, o.bound
		}
	case r.Time.IsZero():
		r.Time = r.Received
	}
	r.Time = r.Time.Round(0)
	e := &entry{rec: r}
	heap.Push(&l.pending, e)
	l.arrivals = append(l.arrivals, e)
	l.st.Received++
	l.release(now, false)
	return nil
}

// Flush emits every record still inside the reorder window, in order. A
// record that arrives afterwards with an earlier corrected time is Late.
func (l *Log) Flush() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release(l.cfg.clock.Now(), true)
}

// Close emits the records inside the reorder window, ends every follower
// once it has received them (its channel is then closed) and makes later
// calls that add records fail with ErrClosed. Query keeps working. Close is
// idempotent and returns nil.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.release(l.cfg.clock.Now(), true)
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	fs := slices.Collect(maps.Values(l.followers))
	l.mu.Unlock()
	for _, f := range fs {
		f.end()
	}
	return nil
}

// release emits, in order, the pending records whose time has come (all of
// them when all is set) and arms the timer for the next. l.mu is held.
func (l *Log) release(now time.Time, all bool) {
	cut := now.Add(-l.cfg.window)
	for len(l.pending) > 0 {
		top := l.pending[0]
		if !all && top.rec.Time.After(cut) {
			// Not due by its time; due anyway if some record has
			// waited a whole window since its arrival.
			front := l.oldestArrival()
			if front == nil || front.rec.Received.After(cut) {
				break
			}
		}
		heap.Pop(&l.pending)
		top.done = true
		l.emit(top.rec)
	}
	l.oldestArrival()
	if l.arrHead > 64 && l.arrHead*2 > len(l.arrivals) {
		l.arrivals = slices.Delete(l.arrivals, 0, l.arrHead)
		l.arrHead = 0
	}
	l.schedule(now)
}

// oldestArrival returns the earliest-arrived pending record, dropping the
// emitted ones before it.
func (l *Log) oldestArrival() *entry {
	for l.arrHead < len(l.arrivals) {
		if e := l.arrivals[l.arrHead]; !e.done {
			return e
		}
		l.arrivals[l.arrHead] = nil
		l.arrHead++
	}
	return nil
}

// schedule arms the timer for the next pending record's due time.
func (l *Log) schedule(now time.Time) {
	if l.closed || len(l.pending) == 0 {
		return
	}
	at := l.pending[0].rec.Time.Add(l.cfg.window)
	if front := l.oldestArrival(); front != nil {
		if t := front.rec.Received.Add(l.cfg.window); t.Before(at) {
			at = t
		}
	}
	if l.timer != nil {
		if !l.timerAt.After(at) {
			return // an earlier (or equal) wake-up is already armed
		}
		l.timer.Stop()
	}
	l.timerGen++
	gen := l.timerGen
	l.timerAt = at
	l.timer = l.cfg.clock.AfterFunc(max(at.Sub(now), 0), func() { l.onTimer(gen) })
}

func (l *Log) onTimer(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || gen != l.timerGen {
		return
	}
	l.timer = nil
	l.release(l.cfg.clock.Now(), false)
}

// emit appends r to the retained ring and hands it to the followers. l.mu
// is held.
func (l *Log) emit(r Record) {
	k := keyOf(r)
	if l.emitted && k.less(l.last) {
		r.Late = true
		l.st.Late++
	} else {
		l.last, l.emitted = k, true
	}
	if l.retained.Push(r) {
		l.st.Evicted++
	}
	l.st.Emitted++
	for _, f := range l.followers {
		if f.filter.Match(r) {
			f.enqueue(r)
		}
	}
}

// Query returns the retained records that match f, in emission order (see
// the package doc), the last f.Limit of them when f.Limit > 0. The error
// wraps ErrInvalid for an invalid filter.
func (l *Log) Query(f Filter) ([]Record, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if l == nil {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.matching(f, f.Limit), nil
}

// matching returns the last limit (all when 0) retained records matching f.
// l.mu is held.
func (l *Log) matching(f Filter, limit int) []Record {
	var out []Record
	for i := l.retained.Len() - 1; i >= 0; i-- {
		if r := l.retained.At(i); f.Match(r) {
			out = append(out, r)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	slices.Reverse(out)
	return out
}

// Stats are a log's counters.
type Stats struct {
	// Received counts the records added.
	Received uint64 `json:"received"`
	// Emitted counts the records emitted (received less pending).
	Emitted uint64 `json:"emitted"`
	// Late counts the records emitted with Late set.
	Late uint64 `json:"late"`
	// Pending is how many records wait in the reorder window.
	Pending int `json:"pending"`
	// Retained is how many records the ring holds.
	Retained int `json:"retained"`
	// Evicted counts the records pushed out of the ring.
	Evicted uint64 `json:"evicted"`
	// Dropped counts the records dropped by slow followers, past and
	// present.
	Dropped uint64 `json:"dropped"`
	// Followers is the number of live followers.
	Followers int `json:"followers"`
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	st.Pending = len(l.pending)
	st.Retained = l.retained.Len()
	st.Followers = len(l.followers)
	return st
}

// key orders records: corrected time, then module, then arrival.
type key struct {
	t      time.Time
	module uint32
	seq    uint64
}

func keyOf(r Record) key { return key{r.Time, r.Module, r.Seq} }

func (a key) less(b key) bool {
	if c := a.t.Compare(b.t); c != 0 {
		return c < 0
	}
	if a.module != b.module {
		return a.module < b.module
	}
	return a.seq < b.seq
}

type entry struct {
	rec  Record
	done bool // emitted
}

type pendingHeap []*entry

func (h pendingHeap) Len() int           { return len(h) }
func (h pendingHeap) Less(i, j int) bool { return keyOf(h[i].rec).less(keyOf(h[j].rec)) }
func (h pendingHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)        { *h = append(*h, x.(*entry)) }
func (h *pendingHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
