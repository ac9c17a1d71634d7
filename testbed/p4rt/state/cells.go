package state

import (
	"maps"
	"slices"
)

// maxDense is the largest counter, meter or register array kept as a
// slice. Larger arrays (which no real program declares) keep only the
// cells written; their wildcard reads return only those cells and their
// wildcard writes can only reset.
const maxDense = 1 << 20

// cells is the storage of an indexed array, allocated on first write.
type cells[T comparable] struct {
	size   int64
	dense  []T
	sparse map[int64]T
}

func newCells[T comparable](size int64) cells[T] { return cells[T]{size: max(size, 0)} }

func (c *cells[T]) isSparse() bool { return c.size > maxDense }

func (c *cells[T]) get(i int64) T {
	if c.isSparse() {
		return c.sparse[i]
	}
	if c.dense == nil {
		var zero T
		return zero
	}
	return c.dense[i]
}

func (c *cells[T]) set(i int64, v T) {
	if c.isSparse() {
		var zero T
		if v == zero {
			delete(c.sparse, i)
			return
		}
		if c.sparse == nil {
			c.sparse = map[int64]T{}
		}
		c.sparse[i] = v
		return
	}
	if c.dense == nil {
		c.dense = make([]T, c.size)
	}
	c.dense[i] = v
}

// canSetRange reports whether every cell of [lo, hi) can be set to v.
func (c *cells[T]) canSetRange(lo, hi int64, v T) bool {
	var zero T
	return !c.isSparse() || hi-lo <= maxDense || v == zero
}

// setRange sets the cells [lo, hi) to v (see canSetRange).
func (c *cells[T]) setRange(lo, hi int64, v T) {
	if c.isSparse() && hi-lo > maxDense {
		for i := range c.sparse {
			if i >= lo && i < hi {
				delete(c.sparse, i)
			}
		}
		return
	}
	for i := lo; i < hi; i++ {
		c.set(i, v)
	}
}

// save returns a function that restores the cells [lo, hi) as they are
// now.
func (c *cells[T]) save(lo, hi int64) func() {
	if c.isSparse() {
		old := maps.Clone(c.sparse)
		return func() { c.sparse = old }
	}
	if c.dense == nil {
		return func() { c.dense = nil }
	}
	old := slices.Clone(c.dense[lo:hi])
	return func() { copy(c.dense[lo:hi], old) }
}

// each calls f for the cells [lo, hi) in index order; for a sparse array
// and a range larger than maxDense, only for the cells written.
func (c *cells[T]) each(lo, hi int64, f func(int64, T)) {
	if c.isSparse() && hi-lo > maxDense {
		ks := slices.Sorted(maps.Keys(c.sparse))
		for _, i := range ks {
			if i >= lo && i < hi {
				f(i, c.sparse[i])
			}
		}
		return
	}
	for i := lo; i < hi; i++ {
		f(i, c.get(i))
	}
}

// written calls f for every cell that differs from the zero value, in
// index order.
func (c *cells[T]) written(f func(int64, T)) {
	var zero T
	if c.isSparse() {
		for _, i := range slices.Sorted(maps.Keys(c.sparse)) {
			f(i, c.sparse[i])
		}
		return
	}
	for i, v := range c.dense {
		if v != zero {
			f(int64(i), v)
		}
	}
}

// update sets each cell of [lo, hi) to f(cell). For a sparse array and a
// range larger than maxDense it visits only the cells written, which is
// right only when f maps the zero value to itself.
func (c *cells[T]) update(lo, hi int64, f func(T) T) {
	if c.isSparse() && hi-lo > maxDense {
		for _, i := range slices.Sorted(maps.Keys(c.sparse)) {
			if i >= lo && i < hi {
				c.set(i, f(c.sparse[i]))
			}
		}
		return
	}
	for i := lo; i < hi; i++ {
		c.set(i, f(c.get(i)))
	}
}
