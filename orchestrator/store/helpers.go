package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CompareAndSwap sets key to value if the key's mod revision is still
// modRevision, or, with modRevision 0, if the key does not exist yet. It
// returns the new revision, or an error wrapping ErrCompareFailed if the key
// had changed.
func CompareAndSwap(ctx context.Context, s Store, key string, modRevision int64, value []byte, opts ...PutOption) (int64, error) {
	if s == nil {
		return 0, fmt.Errorf("store: compare-and-swap %q: nil store: %w", key, ErrInvalid)
	}
	c := CompareModRevision(key, Equal, modRevision)
	if modRevision == 0 {
		c = Missing(key)
	}
	res, err := s.Txn(ctx, Txn{If: []Compare{c}, Then: []Op{OpPut(key, value, opts...)}})
	if err != nil {
		return 0, err
	}
	if !res.Succeeded {
		return 0, fmt.Errorf("store: compare-and-swap %q at mod revision %d: %w", key, modRevision, ErrCompareFailed)
	}
	return res.Revision, nil
}

// UpdateFunc computes a key's new value from its current state; found is
// false if the key does not exist. An error aborts the update and is
// returned by Update as is.
type UpdateFunc func(cur KeyValue, found bool) ([]byte, error)

// Update is a read-modify-write loop: it reads key, calls fn, and writes
// the value fn returns if the key has not changed meanwhile; if it has, it
// calls fn again on the new state. It returns the key as written, and gives
// up only when ctx ends or the store fails. fn may run several times.
func Update(ctx context.Context, s Store, key string, fn UpdateFunc, opts ...PutOption) (KeyValue, error) {
	if s == nil || fn == nil {
		return KeyValue{}, fmt.Errorf("store: update %q: nil store or function: %w", key, ErrInvalid)
	}
	cur, err := s.Get(ctx, key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return KeyValue{}, err
	}
	for {
		val, err := fn(cur, found)
		if err != nil {
			return KeyValue{}, err
		}
		c := Missing(key)
		if found {
			c = CompareModRevision(key, Equal, cur.ModRevision)
		}
		put := OpPut(key, val, opts...)
		res, err := s.Txn(ctx, Txn{If: []Compare{c}, Then: []Op{put}, Else: []Op{OpGet(key)}})
		if err != nil {
			return KeyValue{}, err
		}
		if res.Succeeded {
			kv := KeyValue{Key: key, Value: val, ModRevision: res.Revision, Lease: put.Lease,
				CreateRevision: res.Revision, Version: 1}
			if found {
				kv.CreateRevision, kv.Version = cur.CreateRevision, cur.Version+1
			}
			return kv, nil
		}
		if err := ctx.Err(); err != nil {
			return KeyValue{}, fmt.Errorf("store: update %q: %w (%w)", key, ErrCompareFailed, err)
		}
		if len(res.Results) != 1 {
			return KeyValue{}, fmt.Errorf("store: update %q: engine returned %d results for one get", key, len(res.Results))
		}
		cur, found = res.Results[0].KV, res.Results[0].Found
	}
}

// KeepAliveLoop keeps lease l alive until ctx ends, refreshing it every
// third of its TTL. It returns ctx's error when ctx ends, or the error that
// lost the lease: one wrapping ErrLeaseNotFound or ErrClosed at once, any
// other once it has failed for a whole TTL. Run it in its own goroutine.
func KeepAliveLoop(ctx context.Context, s Store, l Lease) error {
	if err := ValidContext(ctx); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("store: keep-alive lease %d: nil store: %w", l.ID, ErrInvalid)
	}
	if err := ValidTTL(l.TTL); err != nil {
		return fmt.Errorf("store: keep-alive lease %d: %w", l.ID, err)
	}
	tick := time.NewTicker(max(l.TTL/3, time.Millisecond))
	defer tick.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		_, err := s.KeepAlive(ctx, l.ID)
		switch {
		case err == nil:
			lastOK = time.Now()
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrLeaseNotFound), errors.Is(err, ErrClosed), errors.Is(err, ErrInvalid):
			return err
		case time.Since(lastOK) >= l.TTL:
			return fmt.Errorf("store: keep-alive lease %d failed for %v: %w", l.ID, l.TTL, err)
		}
	}
}
