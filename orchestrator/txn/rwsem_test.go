package txn

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRWSem(t *testing.T) {
	tests := []struct {
		name           string
		held, want     bool // exclusive?
		heldN          int
		expectAcquired bool
	}{
		{"shared-with-shared", false, false, 2, true},
		{"exclusive-with-shared", false, true, 1, false},
		{"shared-with-exclusive", true, false, 1, false},
		{"exclusive-with-exclusive", true, true, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRWSem()
			for range tt.heldN {
				if err := s.acquire(context.Background(), tt.held); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := s.acquire(ctx, tt.want)
			if (err == nil) != tt.expectAcquired || (err != nil && !errors.Is(err, context.DeadlineExceeded)) {
				t.Fatalf("acquire = %v, want acquired %v", err, tt.expectAcquired)
			}
			if err != nil {
				// Released, the waiter gets it.
				done := make(chan error, 1)
				go func() { done <- s.acquire(context.Background(), tt.want) }()
				for range tt.heldN {
					s.release(tt.held)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
