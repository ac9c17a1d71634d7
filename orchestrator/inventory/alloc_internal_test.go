package inventory

import "testing"

func TestModulesNext(t *testing.T) {
	newSet := func(held ...uint32) *modules {
		m := &modules{loaded: true, held: make([]uint64, MaxModule/64+1), low: 1, changed: map[uint32]int64{}}
		for i, id := range held {
			m.set(id, true, int64(i+1))
		}
		return m
	}
	span := func(from, to uint32) []uint32 {
		var ids []uint32
		for id := from; id <= to; id++ {
			ids = append(ids, id)
		}
		return ids
	}
	for _, c := range []struct {
		name   string
		held   []uint32
		from   uint32
		limit  uint32
		skip   map[uint32]bool
		want   uint32
		ok     bool
		lowNow uint32
	}{
		{"empty", nil, 1, MaxModule, nil, 1, true, 1},
		{"hole", []uint32{1, 2, 4}, 1, MaxModule, nil, 3, true, 3},
		{"word boundary", span(1, 63), 1, MaxModule, nil, 64, true, 64},
		{"several words", span(1, 200), 1, MaxModule, nil, 201, true, 201},
		{"skip keeps low", span(1, 9), 1, MaxModule, map[uint32]bool{10: true}, 11, true, 10},
		{"from above low", []uint32{1}, 5, MaxModule, nil, 5, true, 1},
		{"limit", span(1, 8), 1, 8, nil, 0, false, 1},
		{"last ID", span(1, MaxModule-1), 1, MaxModule, nil, MaxModule, true, MaxModule},
		{"all held", span(1, MaxModule), 1, MaxModule, nil, 0, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newSet(c.held...)
			got, ok := m.next(c.from, c.limit, c.skip)
			if got != c.want || ok != c.ok || m.low != c.lowNow {
				t.Fatalf("next = %d, %v (low %d); want %d, %v (low %d)", got, ok, m.low, c.want, c.ok, c.lowNow)
			}
		})
	}

	// A change older than the last one applied to an ID is ignored: the
	// registration of a box reported after its Decommission.
	m := newSet()
	m.set(5, false, 10)
	m.set(5, true, 7)
	if got, _ := m.next(5, MaxModule, nil); got != 5 {
		t.Fatalf("module 5 held after a stale report: next = %d", got)
	}
	m.set(3, true, 1)
	m.set(3, false, 2)
	if got, _ := m.next(1, MaxModule, nil); got != 1 || m.low != 1 {
		t.Fatalf("next = %d, low %d; want 1, 1", got, m.low)
	}
}
