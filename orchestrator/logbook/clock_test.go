package logbook

import (
	"slices"
	"sync"
	"time"
)

// fakeClock is a manual Clock: time moves only by advance, which runs the
// timers that fall due synchronously, in due order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Time
	f     func()
	ended bool // fired or stopped
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.ended
	t.ended = true
	return was
}

// advanceTo moves the clock to at (never backwards), firing due timers.
func (c *fakeClock) advanceTo(at time.Time) {
	c.mu.Lock()
	if at.After(c.now) {
		c.now = at
	}
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var due []*fakeTimer
		live := c.timers[:0]
		for _, t := range c.timers {
			switch {
			case t.ended:
			case !t.at.After(c.now):
				t.ended = true
				due = append(due, t)
			default:
				live = append(live, t)
			}
		}
		c.timers = live
		c.mu.Unlock()
		if len(due) == 0 {
			return
		}
		slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
		for _, t := range due {
			t.f()
		}
	}
}

func (c *fakeClock) advance(d time.Duration) { c.advanceTo(c.Now().Add(d)) }

// pendingTimers counts the timers not yet fired or stopped.
func (c *fakeClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.ended {
			n++
		}
	}
	return n
}
