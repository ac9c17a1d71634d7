package logbook

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/p4fabric/fabric/internal/ring"
)

type followConfig struct {
	backlog int
	buffer  int
}

// FollowOption configures a Follow.
type FollowOption func(*followConfig)

// WithBacklog first delivers the last n retained records that match the
// filter (like tail -n), then the new ones. n must be at least 0. The
// follower's buffer grows by the backlog.
func WithBacklog(n int) FollowOption { return func(c *followConfig) { c.backlog = n } }

// WithFollowBuffer sets the follower's buffer to n records (n ≥ 1; default
// DefaultFollowBuffer). When it is full the oldest queued record is dropped.
func WithFollowBuffer(n int) FollowOption { return func(c *followConfig) { c.buffer = n } }

// Follow streams the records that match f (Limit aside) as they are
// emitted, in emission order, until ctx ends, Cancel is called or the log is
// closed; then the follower's channel is closed. Emitting never waits for a
// follower: a full buffer drops its oldest record and counts it (Dropped).
// The error wraps ErrInvalid for a nil ctx, an invalid filter or option, and
// ErrClosed after Close; it is ctx's error when ctx has already ended.
func (l *Log) Follow(ctx context.Context, f Filter, opts ...FollowOption) (*Follower, error) {
	if l == nil {
		return nil, fmt.Errorf("logbook: nil log: %w", ErrClosed)
	}
	if ctx == nil {
		return nil, fmt.Errorf("logbook: follow with nil context: %w", ErrInvalid)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	fc := followConfig{buffer: DefaultFollowBuffer}
	for _, o := range opts {
		if o != nil {
			o(&fc)
		}
	}
	if fc.backlog < 0 || fc.buffer < 1 {
		return nil, fmt.Errorf("logbook: follow backlog %d, buffer %d: %w", fc.backlog, fc.buffer, ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("logbook: follow: %w", err)
	}
	f = f.clone()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("logbook: follow: %w", ErrClosed)
	}
	var backlog []Record
	if fc.backlog > 0 {
		backlog = l.matching(f, fc.backlog)
	}
	l.nextID++
	fl := &Follower{
		log:    l,
		id:     l.nextID,
		filter: f,
		ch:     make(chan Record),
		q:      ring.New[Record](fc.buffer + len(backlog)),
		signal: make(chan struct{}, 1),
		done:   make(chan struct{}),
		ending: make(chan struct{}),
		exited: make(chan struct{}),
	}
	for _, r := range backlog {
		fl.q.Push(r)
	}
	l.followers[fl.id] = fl
	go fl.pump(ctx)
	return fl, nil
}

// Follower is one Follow stream. Receive from C; call Cancel when done.
type Follower struct {
	log    *Log
	id     uint64
	filter Filter
	ch     chan Record

	mu     sync.Mutex
	q      ring.Ring[Record]
	signal chan struct{} // capacity 1: "the queue may be non-empty"

	doneOnce, endOnce sync.Once
	done              chan struct{} // closed by Cancel
	ending            chan struct{} // closed by Log.Close: drain, then stop
	exited            chan struct{} // closed when the pump has returned

	dropped atomic.Uint64
}

// C returns the channel on which records are delivered. It is closed when
// the follower ends.
func (f *Follower) C() <-chan Record {
	if f == nil {
		return nil
	}
	return f.ch
}

// Dropped returns how many records this follower dropped because its
// buffer was full.
func (f *Follower) Dropped() uint64 {
	if f == nil {
		return 0
	}
	return f.dropped.Load()
}

// Cancel ends the follower and returns once its channel is closed. Queued
// records are discarded. Cancel is idempotent.
func (f *Follower) Cancel() {
	if f == nil {
		return
	}
	f.doneOnce.Do(func() { close(f.done) })
	<-f.exited
}

func (f *Follower) end() { f.endOnce.Do(func() { close(f.ending) }) }

// enqueue is called with the log's lock held; it never blocks.
func (f *Follower) enqueue(r Record) {
	f.mu.Lock()
	dropped := f.q.Push(r)
	f.mu.Unlock()
	if dropped {
		f.dropped.Add(1)
		f.log.st.Dropped++
	}
	select {
	case f.signal <- struct{}{}:
	default:
	}
}

func (f *Follower) pump(ctx context.Context) {
	defer func() {
		close(f.ch)
		f.log.mu.Lock()
		delete(f.log.followers, f.id)
		f.log.mu.Unlock()
		close(f.exited)
	}()
	for {
		f.mu.Lock()
		r, ok := f.q.Pop()
		f.mu.Unlock()
		if !ok {
			select {
			case <-f.signal:
				continue
			case <-ctx.Done():
				return
			case <-f.done:
				return
			case <-f.ending:
				f.mu.Lock()
				empty := f.q.Len() == 0
				f.mu.Unlock()
				if empty {
					return
				}
				continue
			}
		}
		select {
		case f.ch <- r:
		case <-ctx.Done():
			return
		case <-f.done:
			return
		}
	}
}
