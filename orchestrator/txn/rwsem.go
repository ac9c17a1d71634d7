package txn

import (
	"context"
	"sync"
)

// rwsem is a readers-writer lock whose waits end with a context: commits
// and recovery take it exclusively, reconcile passes (Hold) shared.
type rwsem struct {
	mu      sync.Mutex
	readers int
	writer  bool
	changed chan struct{} // closed and replaced on every release
}

func newRWSem() *rwsem { return &rwsem{changed: make(chan struct{})} }

func (s *rwsem) acquire(ctx context.Context, exclusive bool) error {
	for {
		s.mu.Lock()
		if !s.writer && (!exclusive || s.readers == 0) {
			if exclusive {
				s.writer = true
			} else {
				s.readers++
			}
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (s *rwsem) release(exclusive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exclusive {
		s.writer = false
	} else {
		s.readers--
	}
	close(s.changed)
	s.changed = make(chan struct{})
}
