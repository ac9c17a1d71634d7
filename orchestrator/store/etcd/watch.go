package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// watchBuffer is the capacity of a watch channel.
const watchBuffer = 64

// Watch implements store.Store with an etcd watch. Without a start
// revision it first reads the current revision, so that no change made
// after Watch returns is missed. A watch whose start revision etcd has
// compacted away yields an error event wrapping store.ErrCompacted. etcd
// buffers for a slow consumer on the client side. When the store closes,
// the channel is closed, preceded by an error event wrapping
// store.ErrClosed if the channel has room for it.
func (s *Store) Watch(ctx context.Context, prefix string, opts ...store.WatchOption) (<-chan store.Event, error) {
	if err := store.ValidContext(ctx); err != nil {
		return nil, fmt.Errorf("etcd: watch %q: %w", prefix, err)
	}
	c := store.NewWatchConfig(opts...)
	if err := errors.Join(store.ValidPrefix(prefix), c.Validate()); err != nil {
		return nil, fmt.Errorf("etcd: watch %q: %w", prefix, err)
	}
	start := c.StartRevision
	if start == 0 {
		rev, err := s.Revision(ctx)
		if err != nil {
			return nil, fmt.Errorf("etcd: watch %q: %w", prefix, err)
		}
		start = rev + 1
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("etcd: watch %q: %w", prefix, store.ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	stop := context.AfterFunc(s.base, cancel)
	key, ropts := rangeOf(prefix, "")
	wch := s.watcher.Watch(wctx, key, append(ropts, clientv3.WithRev(start))...)
	ch := make(chan store.Event, watchBuffer)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer func() { stop(); cancel() }()
		s.watchLoop(wctx, ctx, prefix, wch, ch)
	}()
	return ch, nil
}

// watchLoop turns etcd watch responses into events until the watch ends.
// wctx ends with ctx or when the store closes.
func (s *Store) watchLoop(wctx, ctx context.Context, prefix string, wch clientv3.WatchChan, ch chan<- store.Event) {
	fail := func(err error) {
		ev := store.Event{Type: store.EventError, Err: fmt.Errorf("etcd: watch %q: %w", prefix, err)}
		if s.base.Err() != nil {
			select { // closing: never block Close on the consumer
			case ch <- ev:
			default:
			}
			return
		}
		select {
		case ch <- ev:
		case <-wctx.Done():
		}
	}
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case <-wctx.Done():
			if ctx.Err() == nil {
				fail(store.ErrClosed)
			}
			return
		}
		switch {
		case !ok:
			// etcd closes the channel when wctx ends or the client closes.
			if ctx.Err() == nil {
				fail(store.ErrClosed)
			}
			return
		case resp.CompactRevision != 0:
			fail(fmt.Errorf("revision compacted up to %d: %w", resp.CompactRevision, store.ErrCompacted))
			return
		case resp.Err() != nil:
			if ctx.Err() == nil {
				fail(s.mapErr(resp.Err()))
			}
			return
		}
		for _, e := range resp.Events {
			if e == nil || e.Kv == nil {
				continue
			}
			ev := store.Event{Type: store.EventPut, KV: fromKV(e.Kv), Revision: e.Kv.ModRevision}
			if e.Type == mvccpb.DELETE {
				ev.Type = store.EventDelete
				ev.KV = store.KeyValue{Key: string(e.Kv.Key), ModRevision: e.Kv.ModRevision}
			}
			select {
			case ch <- ev:
			case <-wctx.Done():
				if ctx.Err() == nil {
					fail(store.ErrClosed)
				}
				return
			}
		}
	}
}
