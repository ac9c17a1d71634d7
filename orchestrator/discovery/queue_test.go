package discovery

import (
	"context"
	"testing"
	"time"
)

// TestEventQueue keeps events in order and drops the oldest past its
// capacity.
func TestEventQueue(t *testing.T) {
	tests := []struct {
		name        string
		max, pushes int
		wantFirst   int // index of the first event delivered
		wantDropped uint64
	}{
		{"fits", 4, 3, 0, 0},
		{"full", 3, 3, 0, 0},
		{"overflows", 2, 5, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newEventQueue(tc.max)
			for i := range tc.pushes {
				q.push(Event{Kind: LinkDiscovered, Link: Link{A: Endpoint{Port: uint32(i)}}})
			}
			if got := q.dropped.Load(); got != tc.wantDropped {
				t.Fatalf("dropped %d, want %d", got, tc.wantDropped)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() { defer close(done); q.run(ctx) }()
			for i := tc.wantFirst; i < tc.pushes; i++ {
				select {
				case e := <-q.out:
					if e.Link.A.Port != uint32(i) {
						t.Fatalf("event %v, want port %d", e, i)
					}
				case <-ctx.Done():
					t.Fatal("event not delivered")
				}
			}
			cancel()
			<-done
		})
	}
}
