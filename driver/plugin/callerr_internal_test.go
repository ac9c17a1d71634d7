package plugin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// timerLate is a context whose deadline has passed but whose timer has not
// fired yet: the window in which the plugin's side of the call may end the
// stream first.
type timerLate struct {
	context.Context
	deadline time.Time
}

func (c timerLate) Deadline() (time.Time, bool) { return c.deadline, true }

// TestCallErrTimeout: the plugin ending a call at the deadline the caller
// sent it is a timeout, even if it is seen before the caller's own timer;
// a cancellation before the deadline is not.
func TestCallErrTimeout(t *testing.T) {
	p := &process{exited: make(chan struct{}), pid: 42}
	d := &Driver{name: "test"}
	rst := status.Error(codes.Canceled, "stream terminated by RST_STREAM with error code: CANCEL")
	tests := []struct {
		name        string
		ctx         context.Context
		err         error
		wantTimeout bool
	}{
		{"reset after the deadline", timerLate{context.Background(), time.Now().Add(-time.Millisecond)}, rst, true},
		{"deadline exceeded after the deadline", timerLate{context.Background(), time.Now().Add(-time.Millisecond)}, status.Error(codes.DeadlineExceeded, "deadline"), true},
		{"reset before the deadline", timerLate{context.Background(), time.Now().Add(time.Hour)}, rst, false},
		{"reset without a deadline", context.Background(), rst, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.callErr(tt.ctx, p, "leaf1", "identity", tt.err)
			gotTimeout := errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "did not answer in time")
			if gotTimeout != tt.wantTimeout {
				t.Fatalf("callErr = %v; timeout %v, want %v", err, gotTimeout, tt.wantTimeout)
			}
			if !tt.wantTimeout && status.Code(err) != codes.Canceled {
				t.Fatalf("callErr = %v; code %v, want Canceled", err, status.Code(err))
			}
		})
	}
}
