package northbound

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// TestToStatus: library errors, wrapped as the library wraps them, map to
// the status codes the API documents; a status of ours passes through.
func TestToStatus(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("etcd: snapshot: %w (etcdserver: permission denied)", store.ErrPermission), codes.PermissionDenied},
		{fmt.Errorf("txn x: %w", txn.ErrConflict), codes.Aborted},
		{fmt.Errorf("box SN1: %w", inventory.ErrUnknownBox), codes.NotFound},
		{fmt.Errorf("commit: %w", orchestrator.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("store: %w", store.ErrClosed), codes.Unavailable},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{errors.New("something else"), codes.Internal},
		{status.Error(codes.ResourceExhausted, "ours"), codes.ResourceExhausted},
	} {
		if got := status.Code(toStatus("x", tt.err)); got != tt.want {
			t.Errorf("toStatus(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
