package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/p4fabric/fabric/orchestrator/store"
)

const (
	// watchBuffer is the capacity of a watch channel.
	watchBuffer = 64
	// watchBatch is about the most events a watch reads from the history
	// at once (it never splits a revision).
	watchBatch = 256
)

// Watch implements store.Store. Every watch reads the history bucket from
// its own next revision, so a slow consumer delays only itself; one that
// falls more than the history bound (WithHistory) behind gets an error
// event wrapping store.ErrCompacted. When the store closes, the channel is
// closed, preceded by an error event wrapping store.ErrClosed if the
// channel has room for it.
func (s *Store) Watch(ctx context.Context, prefix string, opts ...store.WatchOption) (<-chan store.Event, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("bolt: watch %q: %w", prefix, err)
	}
	defer exit()
	c := store.NewWatchConfig(opts...)
	if err := errors.Join(store.ValidPrefix(prefix), c.Validate()); err != nil {
		return nil, fmt.Errorf("bolt: watch %q: %w", prefix, err)
	}
	start := c.StartRevision
	if start == 0 {
		err := s.db.View(func(tx *bbolt.Tx) error {
			rev, err := metaInt(tx, metaRev)
			start = rev + 1
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("bolt: watch %q: %w", prefix, err)
		}
	}
	ch := make(chan store.Event, watchBuffer)
	s.wg.Add(1) // under closeMu: Close has not started waiting
	go s.watchLoop(ctx, prefix, start, ch)
	return ch, nil
}

func (s *Store) watchLoop(ctx context.Context, prefix string, next int64, ch chan<- store.Event) {
	defer s.wg.Done()
	defer close(ch)
	closedEvent := store.Event{Type: store.EventError, Err: fmt.Errorf("bolt: watch %q: %w", prefix, store.ErrClosed)}
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-s.done:
			trySend(ch, closedEvent)
			return
		default:
		}
		evs, upto, more, err := s.readEvents(prefix, next)
		if err != nil {
			ev := store.Event{Type: store.EventError, Err: fmt.Errorf("bolt: watch %q: %w", prefix, err)}
			select {
			case ch <- ev:
			case <-ctx.Done():
			case <-s.done:
			}
			return
		}
		for _, ev := range evs {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			case <-s.done:
				trySend(ch, closedEvent)
				return
			}
		}
		next = max(next, upto+1)
		if more {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-s.done:
			trySend(ch, closedEvent)
			return
		}
	}
}

func trySend(ch chan<- store.Event, ev store.Event) {
	select {
	case ch <- ev:
	default:
	}
}

// readEvents returns the events of keys under prefix with revisions from
// from to upto, the last revision it covered; more reports that it stopped
// early (at a revision boundary) to bound memory.
func (s *Store) readEvents(prefix string, from int64) (evs []store.Event, upto int64, more bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		cur, err := metaInt(tx, metaRev)
		if err != nil {
			return err
		}
		compact, err := metaInt(tx, metaCompact)
		if err != nil {
			return err
		}
		if from <= compact {
			return fmt.Errorf("revision %d is older than the history kept (from %d): %w", from, compact+1, store.ErrCompacted)
		}
		upto = cur
		var last int64
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Seek(historyKey(from, 0)); k != nil; k, v = c.Next() {
			rev, ok := historyRev(k)
			if !ok {
				return fmt.Errorf("history key %x: %w", k, ErrCorrupt)
			}
			if rev > cur {
				break
			}
			if len(evs) >= watchBatch && rev != last {
				upto, more = last, true
				break
			}
			last = rev
			key, err := eventKey(v)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			ev, err := decodeEvent(v)
			if err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		return nil
	})
	return evs, upto, more, err
}
