package logbook

// ring is a bounded FIFO that overwrites its oldest element when full.
// It is not safe for concurrent use.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest element
	n    int
}

func newRing[T any](capacity int) ring[T] {
	return ring[T]{buf: make([]T, max(capacity, 1))}
}

// push appends v, dropping the oldest element when full; it reports
// whether one was dropped.
func (r *ring[T]) push(v T) (dropped bool) {
	if r.n == len(r.buf) {
		r.buf[r.head] = v
		r.head = (r.head + 1) % len(r.buf)
		return true
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
	return false
}

// pop removes and returns the oldest element.
func (r *ring[T]) pop() (T, bool) {
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

// at returns the i-th oldest element (0 ≤ i < n).
func (r *ring[T]) at(i int) T { return r.buf[(r.head+i)%len(r.buf)] }
