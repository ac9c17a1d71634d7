package events

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p4fabric/fabric/internal/ring"
)

// Bus delivers published events to subscribers. Create one with NewBus; it
// is safe for concurrent use.
type Bus struct {
	cfg     config
	kinds   *[numKinds]kindStats
	dropped atomic.Uint64

	mu      sync.Mutex
	closed  bool
	seq     uint64
	history ring.Ring[Event]
	subs    map[uint64]*Subscription
	nextID  uint64
}

type kindStats struct {
	published atomic.Uint64
	observe   Histogram
	deliver   Histogram
}

// NewBus returns an empty bus. The error wraps ErrInvalid for a negative
// history or a buffer under 1.
func NewBus(opts ...Option) (*Bus, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	b := &Bus{
		cfg:   cfg,
		kinds: new([numKinds]kindStats),
		subs:  make(map[uint64]*Subscription),
	}
	if cfg.history > 0 {
		b.history = ring.New[Event](cfg.history)
	}
	return b, nil
}

// Publish stamps e with the next sequence number (and with the bus clock's
// time as ObservedTime when that is zero), copies its attributes and queues
// it for every subscriber whose filter matches. It never blocks on
// subscribers: a full subscriber buffer drops its oldest event. It returns
// the event as published; the error wraps ErrInvalid for an invalid kind and
// ErrClosed after Close.
func (b *Bus) Publish(e Event) (Event, error) {
	if b == nil {
		return e, fmt.Errorf("events: publish on nil bus: %w", ErrClosed)
	}
	if !e.Kind.Valid() {
		return e, fmt.Errorf("events: publish kind %d: %w", uint8(e.Kind), ErrInvalid)
	}
	now := b.cfg.now()
	if e.ObservedTime.IsZero() {
		e.ObservedTime = now.Round(0)
	}
	if e.Attrs != nil {
		e.Attrs = maps.Clone(e.Attrs)
	}
	e.Seq = 0

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return e, fmt.Errorf("events: publish %s: %w", e.Kind, ErrClosed)
	}
	b.seq++
	e.Seq = b.seq
	if b.cfg.history > 0 {
		b.history.Push(e)
	}
	for _, s := range b.subs {
		if s.filter.Match(e) {
			s.enqueue(item{ev: e, at: now})
		}
	}
	b.mu.Unlock()

	ks := &b.kinds[e.Kind]
	ks.published.Add(1)
	if !e.SourceTime.IsZero() {
		src := e.SourceTime
		if e.Module != 0 && b.cfg.offset != nil {
			src = src.Add(-b.cfg.offset(e.Module))
		}
		ks.observe.Record(e.ObservedTime.Sub(src))
	}
	return e, nil
}

// Recent returns up to n of the most recent retained events that match f,
// oldest first: what a subscription WithReplay(n) would replay, without
// subscribing (a one-shot "show me the last events"). It works on a closed
// bus too; the error wraps ErrInvalid for an invalid filter or a negative n.
func (b *Bus) Recent(f Filter, n int) ([]Event, error) {
	if b == nil {
		return nil, nil
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("events: recent %d: %w", n, ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Event
	for i := b.history.Len() - 1; i >= 0 && len(out) < n; i-- {
		if e := b.history.At(i); f.Match(e) {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// Subscribe registers a subscriber for the events that match f. Events are
// delivered on the subscription's channel, in sequence order, until Cancel
// is called, ctx ends or the bus is closed; then the channel is closed. The
// error wraps ErrInvalid for a nil ctx, an invalid filter or option, and
// ErrClosed after Close; it is ctx's error when ctx has already ended.
func (b *Bus) Subscribe(ctx context.Context, f Filter, opts ...SubscribeOption) (*Subscription, error) {
	if b == nil {
		return nil, fmt.Errorf("events: subscribe on nil bus: %w", ErrClosed)
	}
	if ctx == nil {
		return nil, fmt.Errorf("events: subscribe with nil context: %w", ErrInvalid)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	sc := subConfig{buffer: b.cfg.buffer}
	for _, o := range opts {
		if o != nil {
			o(&sc)
		}
	}
	if sc.buffer < 1 || sc.replay < 0 {
		return nil, fmt.Errorf("events: subscription buffer %d, replay %d: %w", sc.buffer, sc.replay, ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("events: subscribe: %w", err)
	}
	f.Kinds = slices.Clone(f.Kinds)
	f.Modules = slices.Clone(f.Modules)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("events: subscribe: %w", ErrClosed)
	}
	var replay []Event
	for i := b.history.Len() - 1; i >= 0 && len(replay) < sc.replay; i-- {
		if e := b.history.At(i); f.Match(e) {
			replay = append(replay, e)
		}
	}
	slices.Reverse(replay)
	b.nextID++
	s := &Subscription{
		bus:    b,
		id:     b.nextID,
		name:   sc.name,
		filter: f,
		ch:     make(chan Event),
		q:      ring.New[item](sc.buffer + len(replay)),
		signal: make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for _, e := range replay {
		s.q.Push(item{ev: e, replay: true})
	}
	b.subs[s.id] = s
	go s.pump(ctx)
	return s, nil
}

// Close ends every subscription (closing their channels) and makes later
// Publish and Subscribe calls fail with ErrClosed. It returns once every
// subscription's channel is closed. Close is idempotent and returns nil.
func (b *Bus) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	b.closed = true
	subs := slices.Collect(maps.Values(b.subs))
	b.mu.Unlock()
	for _, s := range subs {
		s.Cancel()
	}
	return nil
}

// Stats is a snapshot of a bus's counters and latency histograms.
type Stats struct {
	// Published is the number of events published.
	Published uint64 `json:"published"`
	// Dropped is the number of events dropped, summed over all
	// subscriptions, past and present.
	Dropped uint64 `json:"dropped"`
	// Kinds has one entry per kind published at least once, in kind order.
	Kinds []KindStats `json:"kinds"`
	// Subscribers has one entry per live subscription, in subscription
	// order.
	Subscribers []SubscriberStats `json:"subscribers"`
}

// KindStats are the counters and latencies of one kind of event.
type KindStats struct {
	// Kind is the kind of event.
	Kind Kind `json:"kind"`
	// Published is how many events of this kind were published.
	Published uint64 `json:"published"`
	// SourceToObserved is ObservedTime − SourceTime (less the box's clock
	// offset), over the events whose SourceTime is known.
	SourceToObserved Summary `json:"source_to_observed"`
	// PublishToDelivery is the time from Publish to a subscriber's
	// receiving the event, one value per delivery (replays excluded).
	PublishToDelivery Summary `json:"publish_to_delivery"`
}

// SubscriberStats are one subscription's counters.
type SubscriberStats struct {
	// ID identifies the subscription on this bus (Subscription.ID).
	ID uint64 `json:"id"`
	// Name is the name given with WithName.
	Name string `json:"name,omitempty"`
	// Filter is the subscription's filter.
	Filter Filter `json:"filter"`
	// Delivered counts events received from the channel.
	Delivered uint64 `json:"delivered"`
	// Dropped counts events dropped because the buffer was full.
	Dropped uint64 `json:"dropped"`
	// Queued is how many events wait in the buffer.
	Queued int `json:"queued"`
}

// Stats returns a snapshot of the bus's counters and latency summaries.
func (b *Bus) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	b.mu.Lock()
	st := Stats{Published: b.seq}
	subs := slices.SortedFunc(maps.Values(b.subs), func(x, y *Subscription) int { return cmp.Compare(x.id, y.id) })
	b.mu.Unlock()
	st.Dropped = b.dropped.Load()
	for k := Kind(1); k < numKinds; k++ {
		ks := &b.kinds[k]
		n := ks.published.Load()
		if n == 0 {
			continue
		}
		st.Kinds = append(st.Kinds, KindStats{
			Kind:              k,
			Published:         n,
			SourceToObserved:  ks.observe.Summary(),
			PublishToDelivery: ks.deliver.Summary(),
		})
	}
	for _, s := range subs {
		s.mu.Lock()
		queued := s.q.Len()
		s.mu.Unlock()
		st.Subscribers = append(st.Subscribers, SubscriberStats{
			ID:        s.id,
			Name:      s.name,
			Filter:    s.filter,
			Delivered: s.delivered.Load(),
			Dropped:   s.dropped.Load(),
			Queued:    queued,
		})
	}
	return st
}

// Subscription is one subscriber's view of a bus. Receive from C; call
// Cancel when done.
type Subscription struct {
	bus    *Bus
	id     uint64
	name   string
	filter Filter
	ch     chan Event

	mu     sync.Mutex
	q      ring.Ring[item]
	signal chan struct{} // capacity 1: "the queue may be non-empty"

	once   sync.Once
	done   chan struct{} // closed by Cancel
	exited chan struct{} // closed when the pump has returned

	delivered atomic.Uint64
	dropped   atomic.Uint64
	reported  uint64 // drops already logged; pump only
}

type item struct {
	ev     Event
	at     time.Time // when published, on the bus clock
	replay bool
}

// C returns the channel on which events are delivered. It is closed when
// the subscription ends.
func (s *Subscription) C() <-chan Event {
	if s == nil {
		return nil
	}
	return s.ch
}

// ID returns the subscription's ID, unique on its bus.
func (s *Subscription) ID() uint64 {
	if s == nil {
		return 0
	}
	return s.id
}

// Dropped returns how many events this subscription dropped because its
// buffer was full.
func (s *Subscription) Dropped() uint64 {
	if s == nil {
		return 0
	}
	return s.dropped.Load()
}

// Delivered returns how many events were received from C.
func (s *Subscription) Delivered() uint64 {
	if s == nil {
		return 0
	}
	return s.delivered.Load()
}

// Cancel ends the subscription and returns once its channel is closed.
// Queued events are discarded. Cancel is idempotent.
func (s *Subscription) Cancel() {
	if s == nil {
		return
	}
	s.once.Do(func() { close(s.done) })
	<-s.exited
}

// enqueue is called with the bus lock held; it never blocks.
func (s *Subscription) enqueue(it item) {
	s.mu.Lock()
	dropped := s.q.Push(it)
	s.mu.Unlock()
	if dropped {
		s.dropped.Add(1)
		s.bus.dropped.Add(1)
	}
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// pump moves events from the queue to the unbuffered channel, so that a
// completed send is a delivery.
func (s *Subscription) pump(ctx context.Context) {
	defer func() {
		close(s.ch)
		s.bus.mu.Lock()
		delete(s.bus.subs, s.id)
		s.bus.mu.Unlock()
		close(s.exited)
	}()
	for {
		s.mu.Lock()
		it, ok := s.q.Pop()
		s.mu.Unlock()
		if !ok {
			s.reportDrops()
			select {
			case <-s.signal:
				continue
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
		select {
		case s.ch <- it.ev:
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
		s.delivered.Add(1)
		if !it.replay {
			s.bus.kinds[it.ev.Kind].deliver.Record(s.bus.cfg.now().Sub(it.at))
		}
	}
}

// reportDrops logs the drops since the last report, once the subscriber
// has caught up with its queue.
func (s *Subscription) reportDrops() {
	d := s.dropped.Load()
	if d == s.reported {
		return
	}
	s.bus.cfg.logger.Warn("events: slow subscriber dropped events",
		"subscription", s.id, "name", s.name, "dropped", d-s.reported, "dropped_total", d)
	s.reported = d
}
