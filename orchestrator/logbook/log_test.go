package logbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/events"
)

// deadline bounds every wait for a record in these tests.
const deadline = 10 * time.Second

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func newLog(t *testing.T, opts ...Option) *Log {
	t.Helper()
	l, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func query(t *testing.T, l *Log, f Filter) []Record {
	t.Helper()
	rs, err := l.Query(f)
	if err != nil {
		t.Fatalf("Query(%+v): %v", f, err)
	}
	return rs
}

func messages(rs []Record) []string {
	var s []string
	for _, r := range rs {
		m := r.Message
		if r.Late {
			m += "(late)"
		}
		s = append(s, m)
	}
	return s
}

// recvRecords receives n records from f, failing after deadline.
func recvRecords(t *testing.T, f *Follower, n int) []Record {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	var got []Record
	for len(got) < n {
		select {
		case r, ok := <-f.C():
			if !ok {
				t.Fatalf("follower closed after %d of %d records", len(got), n)
			}
			got = append(got, r)
		case <-timer.C:
			t.Fatalf("got %d of %d records before the deadline", len(got), n)
		}
	}
	return got
}

func waitClosed(t *testing.T, f *Follower) []Record {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	var got []Record
	for {
		select {
		case r, ok := <-f.C():
			if !ok {
				return got
			}
			got = append(got, r)
		case <-timer.C:
			t.Fatal("follower not closed before the deadline")
		}
	}
}

// skewMsg is a message of TestSkewedClocks.
type skewMsg struct {
	module uint32
	true   time.Duration // since t0, on the reference clock
	delay  time.Duration // from true time to arrival
}

func (m skewMsg) name() string { return fmt.Sprintf("m%d@%v", m.module, m.true) }

// TestSkewedClocks: box 1's clock runs 50ms ahead, box 2's 30ms behind.
// They log interleaved messages, stamped on their own clocks and arriving
// with various delays (all within the window); the merged log is in true
// time order, with true times, while the raw timestamps would order it
// differently.
func TestSkewedClocks(t *testing.T) {
	offsets := map[uint32]time.Duration{1: ms(50), 2: ms(-30)}
	// Ten messages 10ms apart, alternating boxes.
	interleaved := func(delay func(i int) time.Duration) []skewMsg {
		var ms []skewMsg
		for i := range 10 {
			ms = append(ms, skewMsg{module: uint32(1 + i%2), true: time.Duration(i) * 10 * time.Millisecond, delay: delay(i)})
		}
		return ms
	}
	tests := []struct {
		name string
		msgs []skewMsg
	}{
		{"prompt", interleaved(func(int) time.Duration { return ms(1) })},
		{"box 1 slow", interleaved(func(i int) time.Duration { return ms(1 + 90*(1-i%2)) })},
		{"box 2 slow", interleaved(func(i int) time.Duration { return ms(1 + 150*(i%2)) })},
		{"reversed", interleaved(func(i int) time.Duration { return ms(190 - 20*i) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(t0)
			l := newLog(t, WithClock(clk), WithWindow(ms(200)))
			for m, o := range offsets {
				if err := l.SetOffset(m, o, ms(1)); err != nil {
					t.Fatal(err)
				}
			}
			arrivals := slices.Clone(tc.msgs)
			sort.SliceStable(arrivals, func(i, j int) bool { return arrivals[i].true+arrivals[i].delay < arrivals[j].true+arrivals[j].delay })
			for _, m := range arrivals {
				clk.advanceTo(t0.Add(m.true + m.delay))
				err := l.AddMessage(SystemMessage{
					Module: m.module, Severity: Info,
					Time: t0.Add(m.true + offsets[m.module]), // the box's clock
					Msg:  m.name(),
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			clk.advance(ms(400))

			got := query(t, l, Filter{})
			var want, raw []string
			byTrue := slices.Clone(tc.msgs)
			sort.SliceStable(byTrue, func(i, j int) bool { return byTrue[i].true < byTrue[j].true })
			for _, m := range byTrue {
				want = append(want, m.name())
			}
			if !slices.Equal(messages(got), want) {
				t.Errorf("merged order\n%v\nwant\n%v", messages(got), want)
			}
			sort.SliceStable(byTrue, func(i, j int) bool {
				return byTrue[i].true+offsets[byTrue[i].module] < byTrue[j].true+offsets[byTrue[j].module]
			})
			for _, m := range byTrue {
				raw = append(raw, m.name())
			}
			if slices.Equal(raw, want) {
				t.Error("test is vacuous: raw timestamps give the true order")
			}
			for i, r := range got {
				if !r.Time.Equal(t0.Add(trueTime(tc.msgs, r.Message))) || r.Offset != offsets[r.Module] || r.ErrorBound != ms(1) || r.Late {
					t.Errorf("record %d: %v (time %v, offset %v, bound %v)", i, r, r.Time, r.Offset, r.ErrorBound)
				}
				if !r.SourceTime.Equal(r.Time.Add(r.Offset)) {
					t.Errorf("record %d: source time %v, corrected %v, offset %v", i, r.SourceTime, r.Time, r.Offset)
				}
			}
		})
	}
}

func trueTime(ms []skewMsg, message string) time.Duration {
	for _, m := range ms {
		if m.name() == message {
			return m.true
		}
	}
	return -1
}

// TestLateArrival: record X (true time 100ms) arrives at 150ms; record Y
// (true time 50ms) arrives at various times. Within the window Y is emitted
// before X; once X has been emitted (at 100ms + window) Y is emitted after
// it with Late set.
func TestLateArrival(t *testing.T) {
	tests := []struct {
		name     string
		yArrival time.Duration
		want     []string
		late     uint64
	}{
		{"within window", ms(200), []string{"Y", "X"}, 0},
		{"Y due on arrival, X still held", ms(260), []string{"Y", "X"}, 0},
		{"just before X is emitted", ms(299), []string{"Y", "X"}, 0},
		{"after X was emitted", ms(300), []string{"X", "Y(late)"}, 1},
		{"long after", ms(5000), []string{"X", "Y(late)"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(t0)
			l := newLog(t, WithClock(clk), WithWindow(ms(200)))
			add := func(name string, at time.Duration) {
				if err := l.AddMessage(SystemMessage{Module: 1, Time: t0.Add(at), Msg: name}); err != nil {
					t.Fatal(err)
				}
			}
			clk.advanceTo(t0.Add(ms(150)))
			add("X", ms(100))
			clk.advanceTo(t0.Add(tc.yArrival))
			add("Y", ms(50))
			clk.advance(ms(1000))
			got := query(t, l, Filter{})
			if !slices.Equal(messages(got), tc.want) {
				t.Errorf("log %v, want %v", messages(got), tc.want)
			}
			if st := l.Stats(); st.Late != tc.late || st.Received != 2 || st.Emitted != 2 || st.Pending != 0 {
				t.Errorf("Stats = %+v, want %d late", st, tc.late)
			}
		})
	}
}

// TestEmissionTime: a record is emitted exactly when the clock passes its
// corrected time plus the window, or its arrival plus the window when its
// time is in the future; records are never held longer.
func TestEmissionTime(t *testing.T) {
	tests := []struct {
		name    string
		stamp   time.Duration // corrected time, since t0
		arrival time.Duration
		emitAt  time.Duration
	}{
		{"past", ms(-50), 0, ms(150)},
		{"now", 0, 0, ms(200)},
		{"long past", ms(-900), 0, 0},
		{"slightly ahead", ms(40), 0, ms(200)}, // arrival bound
		{"far future", time.Hour, 0, ms(200)},
		{"late arrival", ms(10), ms(100), ms(210)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(t0)
			l := newLog(t, WithClock(clk), WithWindow(ms(200)))
			clk.advanceTo(t0.Add(tc.arrival))
			if err := l.AddMessage(SystemMessage{Module: 4, Time: t0.Add(tc.stamp), Msg: "r"}); err != nil {
				t.Fatal(err)
			}
			if tc.emitAt > tc.arrival {
				clk.advanceTo(t0.Add(tc.emitAt - time.Nanosecond))
				if n := len(query(t, l, Filter{})); n != 0 {
					t.Fatalf("emitted 1ns before %v", tc.emitAt)
				}
			}
			clk.advanceTo(t0.Add(tc.emitAt))
			if n := len(query(t, l, Filter{})); n != 1 {
				t.Fatalf("not emitted at %v", tc.emitAt)
			}
			if n := clk.pendingTimers(); n != 0 {
				t.Errorf("%d timers left armed", n)
			}
		})
	}
}

// TestFutureRecordBeyondWindow: a box whose clock is ahead by more than the
// window (its offset not yet known) has its record emitted one window after
// arrival; records of other boxes that follow it in arrival but precede it
// in time are then Late. This is the documented cost of not holding records
// indefinitely.
func TestFutureRecordBeyondWindow(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(ms(200)))
	_ = l.AddMessage(SystemMessage{Module: 1, Time: t0.Add(10 * time.Second), Msg: "ahead"})
	clk.advance(ms(300))
	_ = l.AddMessage(SystemMessage{Module: 2, Time: t0.Add(ms(290)), Msg: "normal"})
	clk.advance(ms(300))
	if got := messages(query(t, l, Filter{})); !slices.Equal(got, []string{"ahead", "normal(late)"}) {
		t.Errorf("log %v", got)
	}
}

// TestTieBreak: equal corrected times order by module, then arrival.
func TestTieBreak(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(ms(100)))
	if err := l.SetOffset(2, ms(5), 0); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(-ms(10))
	for _, m := range []SystemMessage{
		{Module: 3, Time: at, Msg: "3a"},
		{Module: 2, Time: at.Add(ms(5)), Msg: "2a"}, // corrected to at
		{Module: 3, Time: at, Msg: "3b"},
		{Module: 1, Time: at, Msg: "1a"},
	} {
		_ = l.AddMessage(m)
	}
	_ = l.AddEvent(events.Event{Kind: events.Committed, ObservedTime: at, Message: "0a"})
	clk.advance(ms(100))
	if got := messages(query(t, l, Filter{})); !slices.Equal(got, []string{"0a", "1a", "2a", "3a", "3b"}) {
		t.Errorf("log %v", got)
	}
}

func TestQueryFilters(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(0))
	at := func(n int) time.Time { return t0.Add(-time.Second + ms(n)) }
	_ = l.AddEvent(events.Event{Seq: 1, Kind: events.PortDown, Module: 1, Port: 7, ObservedTime: at(1), Message: "e1"})
	_ = l.AddEvent(events.Event{Seq: 2, Kind: events.Committed, OpID: "op-1", ObservedTime: at(2), Message: "e2"})
	_ = l.AddMessage(SystemMessage{Module: 2, Time: at(3), Severity: Error, Msg: "s3"})
	_ = l.AddMessage(SystemMessage{Module: 1, Time: at(4), Severity: Debug, Msg: "s4"})
	Handler(l).Handle(context.Background(), newSlogRecord(at(5), "o5", "op", "op-1", "module", 2))
	Handler(l).Handle(context.Background(), newSlogRecord(at(6), "o6", "op", "op-2"))

	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"e1", "e2", "s3", "s4", "o5", "o6"}},
		{"module 1", Filter{Modules: []uint32{1}}, []string{"e1", "s4"}},
		{"chassis-wide", Filter{Modules: []uint32{0}}, []string{"e2", "o6"}},
		{"modules 0 and 2", Filter{Modules: []uint32{0, 2}}, []string{"e2", "s3", "o5", "o6"}},
		{"events", Filter{Sources: []Source{SourceEvent}}, []string{"e1", "e2"}},
		{"system and operation", Filter{Sources: []Source{SourceSystem, SourceOperation}}, []string{"s3", "s4", "o5", "o6"}},
		{"kind", Filter{Kinds: []string{"port-down", KindLog}}, []string{"e1", "o5", "o6"}},
		{"kind message", Filter{Kinds: []string{KindMessage}}, []string{"s3", "s4"}},
		{"op", Filter{OpID: "op-1"}, []string{"e2", "o5"}},
		{"since", Filter{Since: at(4)}, []string{"s4", "o5", "o6"}},
		{"until", Filter{Until: at(3)}, []string{"e1", "e2"}},
		{"range", Filter{Since: at(2), Until: at(5)}, []string{"e2", "s3", "s4"}},
		{"empty range", Filter{Since: at(5), Until: at(2)}, nil},
		{"warning and worse", Filter{MinSeverity: Warning}, []string{"e1", "s3"}},
		{"info and worse", Filter{MinSeverity: Info}, []string{"e1", "e2", "s3", "o5", "o6"}},
		{"limit", Filter{Limit: 2}, []string{"o5", "o6"}},
		{"limit with filter", Filter{Modules: []uint32{1, 2}, Limit: 2}, []string{"s4", "o5"}},
		{"limit above count", Filter{OpID: "op-1", Limit: 10}, []string{"e2", "o5"}},
		{"combined", Filter{Modules: []uint32{2}, Sources: []Source{SourceOperation}, OpID: "op-1"}, []string{"o5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := messages(query(t, l, tc.f)); !slices.Equal(got, tc.want) {
				t.Errorf("Query = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(0), WithCapacity(3))
	for i := range 5 {
		_ = l.AddMessage(SystemMessage{Module: 1, Time: t0.Add(ms(i - 10)), Msg: fmt.Sprint(i)})
	}
	if got := messages(query(t, l, Filter{})); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Errorf("retained %v", got)
	}
	if st := l.Stats(); st.Evicted != 2 || st.Retained != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestFollow(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(ms(200)))
	add := func(module uint32, at time.Duration, msg string) {
		t.Helper()
		if err := l.AddMessage(SystemMessage{Module: module, Time: t0.Add(at), Msg: msg, Severity: Notice}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, ms(-500), "old1")
	add(2, ms(-400), "old2")
	add(1, ms(-300), "old3")

	all, err := l.Follow(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Cancel()
	box1, err := l.Follow(t.Context(), Filter{Modules: []uint32{1}}, WithBacklog(1))
	if err != nil {
		t.Fatal(err)
	}
	defer box1.Cancel()

	// Arrive out of order; followers see corrected-time order.
	add(2, ms(20), "b")
	add(1, ms(30), "c")
	add(1, ms(10), "a")
	clk.advance(ms(300))

	if got := messages(recvRecords(t, all, 3)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("follow all: %v", got)
	}
	if got := messages(recvRecords(t, box1, 3)); !slices.Equal(got, []string{"old3", "a", "c"}) {
		t.Errorf("follow box 1 with backlog: %v", got)
	}

	// Close emits the held records to followers, then ends them.
	add(2, ms(400), "held")
	_ = l.Close()
	if got := messages(waitClosed(t, all)); !slices.Equal(got, []string{"held"}) {
		t.Errorf("after Close: %v", got)
	}
	if got := waitClosed(t, box1); len(got) != 0 {
		t.Errorf("box 1 after Close: %v", messages(got))
	}
	if _, err := l.Follow(t.Context(), Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Follow after Close: %v", err)
	}
}

func TestFollowEnd(t *testing.T) {
	tests := []struct {
		name string
		end  func(f *Follower, cancel context.CancelFunc)
	}{
		{"cancel", func(f *Follower, _ context.CancelFunc) { f.Cancel() }},
		{"context", func(_ *Follower, cancel context.CancelFunc) { cancel() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLog(t, WithWindow(0))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			f, err := l.Follow(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			_ = l.AddMessage(SystemMessage{Module: 1, Msg: "x"})
			tc.end(f, cancel)
			waitClosed(t, f)
			f.Cancel()
			f.Cancel()
			if st := l.Stats(); st.Followers != 0 {
				t.Errorf("%d followers after end", st.Followers)
			}
		})
	}
}

func TestSlowFollower(t *testing.T) {
	const n, buffer = 500, 3
	l := newLog(t, WithWindow(0))
	f, err := l.Follow(t.Context(), Filter{}, WithFollowBuffer(buffer))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			_ = l.AddMessage(SystemMessage{Module: 1, Msg: fmt.Sprint(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatal("adding records blocked on a slow follower")
	}
	d := f.Dropped()
	if d < n-buffer-1 || d > n-buffer {
		t.Errorf("dropped %d, want %d or %d", d, n-buffer-1, n-buffer)
	}
	got := recvRecords(t, f, n-int(d))
	if tail := messages(got[len(got)-buffer:]); !slices.Equal(tail, []string{"497", "498", "499"}) {
		t.Errorf("last records %v, want the newest", tail)
	}
	if st := l.Stats(); st.Dropped != d {
		t.Errorf("Stats.Dropped %d, want %d", st.Dropped, d)
	}
}

func TestConsume(t *testing.T) {
	bus, err := events.NewBus()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	l := newLog(t, WithWindow(0))
	if err := l.SetOffset(3, ms(50), ms(2)); err != nil {
		t.Fatal(err)
	}
	f, err := l.Follow(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Cancel()

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		// Replay covers events published before the subscription.
		close(started)
		errc <- l.Consume(ctx, bus, events.Filter{Modules: []uint32{3}}, events.WithReplay(10))
	}()
	<-started
	src := time.Now().Add(-time.Second)
	_, _ = bus.Publish(events.Event{Kind: events.PortDown, Module: 3, Port: 12, SourceTime: src, OpID: "op-3", Message: "down"})
	_, _ = bus.Publish(events.Event{Kind: events.PortUp, Module: 4})
	_, _ = bus.Publish(events.Event{Kind: events.LinkLost, Module: 3, Attrs: map[string]string{events.AttrPeerModule: "4"}})
	got := recvRecords(t, f, 2)
	if got[0].Kind != "port-down" || got[0].Severity != Warning || got[0].Port != 12 || got[0].OpID != "op-3" ||
		!got[0].Time.Equal(src.Add(-ms(50))) || got[0].Offset != ms(50) || got[0].ErrorBound != ms(2) || got[0].EventSeq != 1 {
		t.Errorf("record %+v", got[0])
	}
	if got[1].Kind != "link-lost" || got[1].Attrs[events.AttrPeerModule] != "4" || got[1].EventSeq != 3 {
		t.Errorf("record %+v", got[1])
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Consume returned %v", err)
		}
	case <-time.After(deadline):
		t.Fatal("Consume did not return")
	}

	// The bus closing ends Consume.
	go func() { errc <- l.Consume(t.Context(), bus, events.Filter{}) }()
	_ = bus.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, events.ErrClosed) {
			t.Errorf("Consume returned %v", err)
		}
	case <-time.After(deadline):
		t.Fatal("Consume did not return")
	}
}

// TestConcurrent adds from many goroutines with the system clock while
// querying and following; every record is emitted once, and the records
// not flagged Late are in order.
func TestConcurrent(t *testing.T) {
	const writers, each = 4, 200
	l := newLog(t, WithWindow(ms(5)))
	for m := uint32(1); m <= writers; m++ {
		_ = l.SetOffset(m, time.Duration(m)*time.Millisecond, 0)
	}
	f, err := l.Follow(t.Context(), Filter{}, WithFollowBuffer(writers*each*2))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Cancel()
	logger := slogLogger(l)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			m := uint32(w + 1)
			for i := range each {
				switch i % 3 {
				case 0:
					_ = l.AddMessage(SystemMessage{Module: m, Time: time.Now().Add(time.Duration(m) * time.Millisecond), Msg: "m"})
				case 1:
					_ = l.AddEvent(events.Event{Kind: events.PortUp, Module: m, SourceTime: time.Now()})
				default:
					logger.Info("op", "op", fmt.Sprint(w), "module", m)
				}
				if i%50 == 0 {
					_, _ = l.Query(Filter{Modules: []uint32{m}})
					_ = l.Stats()
				}
			}
		})
	}
	wg.Wait()
	l.Flush()
	got := recvRecords(t, f, writers*each)
	var last key
	seen := map[uint64]bool{}
	for i, r := range got {
		if seen[r.Seq] {
			t.Fatalf("record %d emitted twice", r.Seq)
		}
		seen[r.Seq] = true
		if r.Late {
			continue
		}
		if i > 0 && keyOf(r).less(last) {
			t.Fatalf("record %d out of order and not late", i)
		}
		last = keyOf(r)
	}
	if st := l.Stats(); st.Emitted != writers*each || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestRecordJSON(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{
			name: "event",
			r: Record{
				Seq: 12, Time: t0, Source: SourceEvent, Kind: "port-down", Severity: Warning,
				Module: 3, Serial: "SN3", Port: 12, OpID: "op-1", Message: "down",
				Attrs:      map[string]string{"reason": "los"},
				SourceTime: t0.Add(ms(50)), Offset: ms(50), ErrorBound: 200 * time.Microsecond,
				Received: t0.Add(ms(1)), EventSeq: 7, Late: true,
			},
			want: `{"seq":12,"time":"2025-03-01T12:00:00Z","source":"event","kind":"port-down","severity":"warning",` +
				`"module":3,"serial":"SN3","port":12,"op":"op-1","message":"down","attrs":{"reason":"los"},` +
				`"source_time":"2025-03-01T12:00:00.05Z","offset_ns":50000000,"error_bound_ns":200000,` +
				`"received":"2025-03-01T12:00:00.001Z","event_seq":7,"late":true}`,
		},
		{
			name: "operation",
			r:    Record{Seq: 1, Time: t0, Source: SourceOperation, Kind: KindLog, Severity: Info, Received: t0},
			want: `{"seq":1,"time":"2025-03-01T12:00:00Z","source":"operation","kind":"log","severity":"info",` +
				`"module":0,"received":"2025-03-01T12:00:00Z"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("JSON =\n%s\nwant\n%s", b, tc.want)
			}
			var back Record
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.String() != tc.r.String() {
				t.Errorf("round trip %v, want %v", back, tc.r)
			}
		})
	}
	if _, err := json.Marshal(Record{}); err == nil {
		t.Error("a record without a source encodes")
	}
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in   string
		want Severity
		err  bool
	}{
		{"debug", Debug, false},
		{"INFORMATIONAL", Info, false},
		{"openconfig-system-logging:WARNING", Warning, false},
		{"oc-log:ERROR", Error, false},
		{"crit", Critical, false},
		{" Emergency ", Emergency, false},
		{"notice", Notice, false},
		{"0", Emergency, false},
		{"3", Error, false},
		{"7", Debug, false},
		{"8", 0, true},
		{"-1", 0, true},
		{"", 0, true},
		{"loud", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSeverity(tc.in)
			if tc.err != (err != nil) || got != tc.want {
				t.Errorf("ParseSeverity(%q) = %v, %v", tc.in, got, err)
			}
			if tc.err && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
	for s := Debug; s <= Emergency; s++ {
		if back, err := ParseSeverity(s.String()); err != nil || back != s {
			t.Errorf("%v: round trip %v, %v", s, back, err)
		}
	}
	for _, src := range []Source{SourceEvent, SourceSystem, SourceOperation} {
		if back, err := ParseSource(src.String()); err != nil || back != src {
			t.Errorf("%v: round trip %v, %v", src, back, err)
		}
	}
	if Severity(9).String() == "" || Source(9).String() == "" {
		t.Error("empty String for an invalid value")
	}
}

func TestErrors(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk))
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"window", func() error { _, err := New(WithWindow(-1)); return err }(), ErrInvalid},
		{"capacity", func() error { _, err := New(WithCapacity(0)); return err }(), ErrInvalid},
		{"offset module 0", l.SetOffset(0, ms(1), 0), ErrInvalid},
		{"offset negative bound", l.SetOffset(1, ms(1), -1), ErrInvalid},
		{"event kind", l.AddEvent(events.Event{}), ErrInvalid},
		{"message severity", l.AddMessage(SystemMessage{Severity: 42}), ErrInvalid},
		{"query source", func() error { _, err := l.Query(Filter{Sources: []Source{0}}); return err }(), ErrInvalid},
		{"query severity", func() error { _, err := l.Query(Filter{MinSeverity: -1}); return err }(), ErrInvalid},
		{"query limit", func() error { _, err := l.Query(Filter{Limit: -1}); return err }(), ErrInvalid},
		//lint:ignore SA1012 a nil context must be refused, not panic
		{"follow nil ctx", func() error { _, err := l.Follow(nil, Filter{}); return err }(), ErrInvalid}, //nolint:staticcheck
		{"follow backlog", func() error { _, err := l.Follow(t.Context(), Filter{}, WithBacklog(-1)); return err }(), ErrInvalid},
		{"follow buffer", func() error { _, err := l.Follow(t.Context(), Filter{}, WithFollowBuffer(0)); return err }(), ErrInvalid},
		{"follow filter", func() error { _, err := l.Follow(t.Context(), Filter{Limit: -2}); return err }(), ErrInvalid},
		{"follow done ctx", func() error {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := l.Follow(ctx, Filter{})
			return err
		}(), context.Canceled},
		{"consume nil bus", l.Consume(t.Context(), nil, events.Filter{}), events.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error %v, want %v", tc.err, tc.want)
			}
		})
	}
	if _, err := New(nil, WithClock(nil)); err != nil {
		t.Errorf("New(nil options): %v", err)
	}

	_ = l.Close()
	_ = l.Close()
	for name, err := range map[string]error{
		"AddEvent":   l.AddEvent(events.Event{Kind: events.PortUp}),
		"AddMessage": l.AddMessage(SystemMessage{}),
		"Handle":     Handler(l).Handle(context.Background(), newSlogRecord(t0, "x")),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	if _, err := l.Query(Filter{}); err != nil {
		t.Errorf("Query after Close: %v", err)
	}

	var nl *Log
	for name, err := range map[string]error{
		"AddEvent":   nl.AddEvent(events.Event{Kind: events.PortUp}),
		"AddMessage": nl.AddMessage(SystemMessage{}),
		"SetOffset":  nl.SetOffset(1, 0, 0),
		"Consume":    nl.Consume(t.Context(), nil, events.Filter{}),
		"Follow":     func() error { _, err := nl.Follow(t.Context(), Filter{}); return err }(),
		"Handle":     Handler(nil).Handle(context.Background(), newSlogRecord(t0, "x")),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("nil log %s: %v", name, err)
		}
	}
	nl.Flush()
	_ = nl.Close()
	_ = nl.Stats()
	if _, _, ok := nl.Offset(1); ok {
		t.Error("nil log has an offset")
	}
	if rs, err := nl.Query(Filter{}); rs != nil || err != nil {
		t.Errorf("nil log Query = %v, %v", rs, err)
	}
	var nf *Follower
	nf.Cancel()
	if nf.C() != nil || nf.Dropped() != 0 {
		t.Error("nil follower not empty")
	}
	if Handler(nil).Enabled(context.Background(), slog.LevelError) {
		t.Error("nil log handler enabled")
	}
}
