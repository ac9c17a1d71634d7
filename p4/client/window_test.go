package client_test

import (
	"context"
	"testing"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/internal/window"
	"github.com/p4fabric/fabric/p4/client"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// TestWindow: with each flow-control window (gRPC's estimated one, the
// smallest, the default), a read back of more than the window crosses the
// wire whole, against a switch whose own windows are fixed.
func TestWindow(t *testing.T) {
	const n = 3000 // ~170 KB read back: several 64 KiB windows
	tests := []struct {
		name   string
		window int32
	}{
		{"estimated", 0},
		{"smallest", 64 << 10},
		{"default", window.Stream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			c := benchClient(t, benchSwitch(t), client.WithWindow(tt.window))
			if err := c.Write(ctx, p4bench.Inserts(n)); err != nil {
				t.Fatal(err)
			}
			readEntries(t, ctx, c, n)
		})
	}
}

// readEntries reads back every table entry of c's switch, and fails
// unless there are n.
func readEntries(t *testing.T, ctx context.Context, c *client.Client, n int) []*p4v1.Entity {
	t.Helper()
	got, err := c.ReadAll(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read back %d entries, want %d", len(got), n)
	}
	return got
}
