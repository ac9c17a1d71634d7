package ring_test

import (
	"testing"

	"github.com/p4fabric/fabric/internal/ring"
)

func TestRing(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		push     []int
		dropped  int
		want     []int
	}{
		{"empty", 3, nil, 0, nil},
		{"under capacity", 3, []int{1, 2}, 0, []int{1, 2}},
		{"full", 3, []int{1, 2, 3}, 0, []int{1, 2, 3}},
		{"overwrites oldest", 3, []int{1, 2, 3, 4, 5}, 2, []int{3, 4, 5}},
		{"capacity floor is one", 0, []int{1, 2}, 1, []int{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ring.New[int](tc.capacity)
			dropped := 0
			for _, v := range tc.push {
				if r.Push(v) {
					dropped++
				}
			}
			if dropped != tc.dropped || r.Len() != len(tc.want) {
				t.Fatalf("dropped %d, len %d; want %d, %d", dropped, r.Len(), tc.dropped, len(tc.want))
			}
			for i, w := range tc.want {
				if got := r.At(i); got != w {
					t.Fatalf("At(%d) = %d, want %d", i, got, w)
				}
			}
			for _, w := range tc.want {
				if v, ok := r.Pop(); !ok || v != w {
					t.Fatalf("Pop = %d, %v; want %d", v, ok, w)
				}
			}
			if _, ok := r.Pop(); ok {
				t.Fatal("Pop of an empty ring succeeded")
			}
		})
	}
}
