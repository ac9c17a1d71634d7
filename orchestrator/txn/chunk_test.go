package txn

import (
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// TestChunkOps: runs keep the order, hold at most maxOps operations and
// maxBytes of keys and values, and a single larger operation goes alone.
func TestChunkOps(t *testing.T) {
	op := func(n int) store.Op { return store.OpPut("k", []byte(strings.Repeat("v", n-1))) }
	for _, tt := range []struct {
		name            string
		sizes           []int
		maxOps, maxSize int
		want            []int // lengths of the chunks
	}{
		{"none", nil, 3, 100, nil},
		{"one chunk", []int{10, 10}, 3, 100, []int{2}},
		{"by count", []int{1, 1, 1, 1, 1, 1, 1}, 3, 100, []int{3, 3, 1}},
		{"by size", []int{40, 40, 40, 40}, 10, 100, []int{2, 2}},
		{"oversize alone", []int{10, 500, 10}, 10, 100, []int{1, 1, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ops []store.Op
			for _, n := range tt.sizes {
				ops = append(ops, op(n))
			}
			got := chunkOps(ops, tt.maxOps, tt.maxSize)
			var lens []int
			total := 0
			for _, c := range got {
				lens = append(lens, len(c))
				total += len(c)
				if len(c) > 1 && (len(c) > tt.maxOps || opsSize(c) > tt.maxSize) {
					t.Errorf("chunk of %d ops, %d bytes: over the bounds", len(c), opsSize(c))
				}
			}
			if total != len(ops) || len(lens) != len(tt.want) {
				t.Fatalf("chunks %v, want %v", lens, tt.want)
			}
			for i := range lens {
				if lens[i] != tt.want[i] {
					t.Fatalf("chunks %v, want %v", lens, tt.want)
				}
			}
		})
	}
}
