// Package ring is a bounded FIFO that overwrites its oldest element when
// full: the history and per-reader queues of the event bus and the merged
// log, where a slow reader loses the oldest records, never the newest.
//
//	r := ring.New[int](2)
//	r.Push(1)
//	r.Push(2)
//	dropped := r.Push(3) // true: 1 is gone
//	v, _ := r.Pop()      // 2
package ring

// Ring is a bounded FIFO. Its zero value is unusable; create one with New.
// It is not safe for concurrent use.
type Ring[T any] struct {
	buf  []T
	head int // index of the oldest element
	n    int
}

// New returns an empty ring holding at most capacity elements (at least 1).
func New[T any](capacity int) Ring[T] {
	return Ring[T]{buf: make([]T, max(capacity, 1))}
}

// Push appends v, dropping the oldest element when full; it reports
// whether one was dropped.
func (r *Ring[T]) Push(v T) (dropped bool) {
	if r.n == len(r.buf) {
		r.buf[r.head] = v
		r.head = (r.head + 1) % len(r.buf)
		return true
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
	return false
}

// Pop removes and returns the oldest element.
func (r *Ring[T]) Pop() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v, true
}

// At returns the i-th oldest element (0 ≤ i < Len).
func (r *Ring[T]) At(i int) T { return r.buf[(r.head+i)%len(r.buf)] }

// Len returns the number of elements held.
func (r *Ring[T]) Len() int { return r.n }
