package bolt

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// retryExpiry is how long the expiry loop waits before retrying a lease it
// failed to revoke (a disk error).
const retryExpiry = time.Second

// Grant implements store.Store. The lease is kept exactly for ttl (no
// rounding) after its grant or last keep-alive, by the store's clock.
func (s *Store) Grant(ctx context.Context, ttl time.Duration) (store.Lease, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return store.Lease{}, fmt.Errorf("bolt: grant: %w", err)
	}
	defer exit()
	if err := store.ValidTTL(ttl); err != nil {
		return store.Lease{}, fmt.Errorf("bolt: grant: %w", err)
	}
	var id store.LeaseID
	_, err = s.update(func(w *wtx) error {
		last, ok := readU64(w.meta.Get(metaLease))
		if !ok {
			return fmt.Errorf("meta lease: %w", ErrCorrupt)
		}
		id = store.LeaseID(last + 1)
		if err := w.meta.Put(metaLease, u64(int64(id))); err != nil {
			return err
		}
		return w.leases.Put(u64(int64(id)), u64(int64(ttl)))
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("bolt: grant: %w", err)
	}
	s.mu.Lock()
	s.deadlines[id] = leaseTTL{ttl: ttl, deadline: s.clock.Now().Add(ttl)}
	s.mu.Unlock()
	s.wake()
	return store.Lease{ID: id, TTL: ttl}, nil
}

// KeepAlive implements store.Store.
func (s *Store) KeepAlive(ctx context.Context, id store.LeaseID) (time.Duration, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("bolt: keep-alive lease %d: %w", id, err)
	}
	defer exit()
	s.mu.Lock()
	l, ok := s.deadlines[id]
	now := s.clock.Now()
	expired := ok && !now.Before(l.deadline)
	if ok && !expired {
		l.deadline = now.Add(l.ttl)
		s.deadlines[id] = l
	}
	s.mu.Unlock()
	if expired {
		s.wake() // the loop has not seen it yet
	}
	if !ok || expired {
		return 0, fmt.Errorf("bolt: keep-alive lease %d: %w", id, store.ErrLeaseNotFound)
	}
	return l.ttl, nil
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, id store.LeaseID) error {
	exit, err := s.enter(ctx)
	if err != nil {
		return fmt.Errorf("bolt: revoke lease %d: %w", id, err)
	}
	defer exit()
	found, err := s.revoke(id, false)
	if err == nil && !found {
		err = store.ErrLeaseNotFound
	}
	if err != nil {
		return fmt.Errorf("bolt: revoke lease %d: %w", id, err)
	}
	return nil
}

// revoke deletes lease id and its keys in one transaction; with onlyIfDue,
// only if the lease is still past its deadline (a keep-alive may have come
// in since the expiry loop looked). It reports whether it revoked.
func (s *Store) revoke(id store.LeaseID, onlyIfDue bool) (bool, error) {
	var found bool
	_, err := s.update(func(w *wtx) error {
		lk := u64(int64(id))
		if w.leases.Get(lk) == nil {
			return nil
		}
		if onlyIfDue {
			s.mu.Lock()
			l, ok := s.deadlines[id]
			s.mu.Unlock()
			if ok && s.clock.Now().Before(l.deadline) {
				return nil
			}
		}
		found = true
		var keys [][]byte
		c := w.leaseKeys.Cursor()
		for k, _ := c.Seek(lk); k != nil && bytes.HasPrefix(k, lk); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			key := string(k[len(lk):])
			kv, ok, err := getKey(w.kv, key)
			if err != nil {
				return err
			}
			if ok && kv.Lease == id {
				if _, err := w.del(key); err != nil {
					return err
				}
			}
			if err := w.leaseKeys.Delete(k); err != nil {
				return err
			}
		}
		return w.leases.Delete(lk)
	})
	if err != nil {
		return false, err
	}
	if found {
		s.mu.Lock()
		delete(s.deadlines, id)
		s.mu.Unlock()
	}
	return found, nil
}

// wake makes the expiry loop look at the deadlines again.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// expireLoop revokes leases past their deadline, in deadline order, until
// the store closes.
func (s *Store) expireLoop() {
	defer s.wg.Done()
	type due struct {
		id       store.LeaseID
		deadline time.Time
	}
	for {
		now := s.clock.Now()
		var expired []due
		var next time.Time
		s.mu.Lock()
		for id, l := range s.deadlines {
			switch {
			case !now.Before(l.deadline):
				expired = append(expired, due{id, l.deadline})
			case next.IsZero() || l.deadline.Before(next):
				next = l.deadline
			}
		}
		s.mu.Unlock()
		slices.SortFunc(expired, func(a, b due) int {
			if c := a.deadline.Compare(b.deadline); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, d := range expired {
			select {
			case <-s.done:
				return
			default:
			}
			if _, err := s.revoke(d.id, true); err != nil {
				s.log.Error("bolt: lease expiry failed; retrying", "lease", int64(d.id), "path", s.path, "err", err)
				if retry := now.Add(retryExpiry); next.IsZero() || retry.Before(next) {
					next = retry
				}
			}
		}
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = s.clock.After(next.Sub(now))
		}
		select {
		case <-s.done:
			return
		case <-s.kick:
		case <-timer:
		}
	}
}
