package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// deadline bounds every wait for an event in these tests.
const deadline = 10 * time.Second

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newBus(t *testing.T, opts ...Option) *Bus {
	t.Helper()
	b, err := NewBus(opts...)
	if err != nil {
		t.Fatalf("NewBus: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func subscribe(t *testing.T, b *Bus, f Filter, opts ...SubscribeOption) *Subscription {
	t.Helper()
	s, err := b.Subscribe(t.Context(), f, opts...)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(s.Cancel)
	return s
}

func publish(t *testing.T, b *Bus, e Event) Event {
	t.Helper()
	got, err := b.Publish(e)
	if err != nil {
		t.Fatalf("Publish(%v): %v", e, err)
	}
	return got
}

// recv receives n events from s, failing the test after deadline.
func recv(t *testing.T, s *Subscription, n int) []Event {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	var got []Event
	for len(got) < n {
		select {
		case e, ok := <-s.C():
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(got), n)
			}
			got = append(got, e)
		case <-timer.C:
			t.Fatalf("got %d of %d events before the deadline", len(got), n)
		}
	}
	return got
}

// waitClosed waits for s's channel to close, discarding events.
func waitClosed(t *testing.T, s *Subscription) {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("channel not closed before the deadline")
		}
	}
}

func seqs(es []Event) []uint64 {
	var s []uint64
	for _, e := range es {
		s = append(s, e.Seq)
	}
	return s
}

func TestKinds(t *testing.T) {
	for _, k := range Kinds() {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatalf("%d: MarshalText: %v", k, err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%s: round trip = %v, %v", k, back, err)
		}
	}
	if len(Kinds()) != 12 {
		t.Errorf("%d kinds, want 12", len(Kinds()))
	}
	for _, bad := range []Kind{0, numKinds, 255} {
		if bad.Valid() {
			t.Errorf("%d valid", bad)
		}
		if _, err := bad.MarshalText(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%d: MarshalText error %v", bad, err)
		}
		if bad.String() == "" {
			t.Errorf("%d: empty String", bad)
		}
	}
	if _, err := ParseKind("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseKind(nope) error %v", err)
	}
	if k, err := ParseKind("PORT-DOWN"); err != nil || k != PortDown {
		t.Errorf("ParseKind(PORT-DOWN) = %v, %v", k, err)
	}
	var nilKind *Kind
	if err := nilKind.UnmarshalText([]byte("port-up")); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil UnmarshalText error %v", err)
	}
}

func TestEventJSON(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "full",
			ev: Event{
				Seq: 7, Kind: PortDown, Module: 3, Serial: "SN3", Port: 12, OpID: "op-1",
				SourceTime:   t0,
				ObservedTime: t0.Add(1500 * time.Microsecond),
				Attrs:        map[string]string{AttrReason: "carrier lost"},
				Message:      "eth-3/0/12 down",
			},
			want: `{"seq":7,"kind":"port-down","module":3,"serial":"SN3","port":12,"op":"op-1",` +
				`"source_time":"2025-03-01T12:00:00Z","observed_time":"2025-03-01T12:00:00.0015Z",` +
				`"attrs":{"reason":"carrier lost"},"message":"eth-3/0/12 down"}`,
		},
		{
			name: "minimal",
			ev:   Event{Seq: 1, Kind: Committed, ObservedTime: t0},
			want: `{"seq":1,"kind":"committed","module":0,"observed_time":"2025-03-01T12:00:00Z"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("JSON =\n%s\nwant\n%s", b, tc.want)
			}
			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.String() != tc.ev.String() || !back.SourceTime.Equal(tc.ev.SourceTime) || !back.ObservedTime.Equal(tc.ev.ObservedTime) {
				t.Errorf("round trip = %v, want %v", back, tc.ev)
			}
		})
	}
	if _, err := json.Marshal(Event{}); err == nil {
		t.Error("an event without a kind encodes")
	}
	if err := json.Unmarshal([]byte(`{"kind":"bogus"}`), new(Event)); !errors.Is(err, ErrInvalid) {
		t.Errorf("decoding a bogus kind: %v", err)
	}
}

func TestFilterMatch(t *testing.T) {
	ev := Event{Kind: PortDown, Module: 3, OpID: "op-1"}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero", Filter{}, true},
		{"kind", Filter{Kinds: []Kind{PortUp, PortDown}}, true},
		{"other kind", Filter{Kinds: []Kind{PortUp}}, false},
		{"module", Filter{Modules: []uint32{1, 3}}, true},
		{"other module", Filter{Modules: []uint32{0}}, false},
		{"op", Filter{OpID: "op-1"}, true},
		{"other op", Filter{OpID: "op-2"}, false},
		{"all", Filter{Kinds: []Kind{PortDown}, Modules: []uint32{3}, OpID: "op-1"}, true},
		{"all but one", Filter{Kinds: []Kind{PortDown}, Modules: []uint32{4}, OpID: "op-1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Match(ev); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSubscribeFilters(t *testing.T) {
	b := newBus(t)
	filters := []Filter{
		{},
		{Kinds: []Kind{PortUp, PortDown}},
		{Modules: []uint32{2}},
		{OpID: "op-9"},
		{Kinds: []Kind{Committed}, OpID: "op-9"},
	}
	subs := make([]*Subscription, len(filters))
	for i, f := range filters {
		subs[i] = subscribe(t, b, f)
	}
	in := []Event{
		{Kind: BoxConnected, Module: 1},
		{Kind: PortUp, Module: 2, Port: 1},
		{Kind: PortDown, Module: 1, Port: 4},
		{Kind: Committed, OpID: "op-9"},
		{Kind: DriftRepaired, Module: 2, OpID: "op-9"},
		{Kind: LinkDiscovered, Module: 2, Port: 3, Attrs: map[string]string{AttrPeerModule: "1"}},
	}
	var published []Event
	for _, e := range in {
		published = append(published, publish(t, b, e))
	}
	for i, f := range filters {
		var want []uint64
		for _, e := range published {
			if f.Match(e) {
				want = append(want, e.Seq)
			}
		}
		got := recv(t, subs[i], len(want))
		if !slices.Equal(seqs(got), want) {
			t.Errorf("filter %+v: seqs %v, want %v", f, seqs(got), want)
		}
	}
	if got := seqs(published); !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("published seqs %v", got)
	}
}

func TestPublishStamps(t *testing.T) {
	clk := newFakeClock(t0)
	b := newBus(t, WithClock(clk.now))
	attrs := map[string]string{"k": "v"}
	e := publish(t, b, Event{Kind: PortUp, Seq: 99, Attrs: attrs})
	if e.Seq != 1 || !e.ObservedTime.Equal(t0) {
		t.Errorf("published %+v, want seq 1 observed %v", e, t0)
	}
	attrs["k"] = "changed"
	if e.Attrs["k"] != "v" {
		t.Error("Publish did not copy the attributes")
	}
	given := t0.Add(-time.Second)
	if e := publish(t, b, Event{Kind: PortUp, ObservedTime: given}); !e.ObservedTime.Equal(given) {
		t.Errorf("observed time %v, want the given %v", e.ObservedTime, given)
	}
}

func TestConcurrentPublish(t *testing.T) {
	const publishers, each = 4, 250
	b := newBus(t, WithBuffer(publishers*each))
	all := subscribe(t, b, Filter{})
	odd := subscribe(t, b, Filter{Modules: []uint32{1, 3}})
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for range each {
				if _, err := b.Publish(Event{Kind: PortUp, Module: uint32(p)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	go func() { _ = b.Stats() }()
	got := recv(t, all, publishers*each)
	wg.Wait()
	if !slices.IsSorted(seqs(got)) || got[len(got)-1].Seq != publishers*each {
		t.Errorf("seqs not in order 1..%d", publishers*each)
	}
	gotOdd := recv(t, odd, 2*each)
	if !slices.IsSorted(seqs(gotOdd)) {
		t.Error("filtered seqs not in order")
	}
	if d := all.Dropped() + odd.Dropped(); d != 0 {
		t.Errorf("%d dropped", d)
	}
}

// logSink is a slog.Handler that sends every record to a channel.
type logSink struct{ ch chan slog.Record }

func (h logSink) Enabled(context.Context, slog.Level) bool { return true }
func (h logSink) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.ch <- r:
	default:
	}
	return nil
}
func (h logSink) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logSink) WithGroup(string) slog.Handler      { return h }

func TestSlowSubscriberDrops(t *testing.T) {
	const n, buffer = 1000, 4
	logs := logSink{make(chan slog.Record, 16)}
	b := newBus(t, WithLogger(slog.New(logs)))
	slow := subscribe(t, b, Filter{}, WithSubscriptionBuffer(buffer), WithName("slow"))
	fast := subscribe(t, b, Filter{}, WithSubscriptionBuffer(n))

	// Publish must finish although slow never reads.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			if _, err := b.Publish(Event{Kind: PortDown, Module: 1}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	got := recv(t, fast, n)
	if got[n-1].Seq != n {
		t.Errorf("fast subscriber's last seq %d", got[n-1].Seq)
	}

	// The pump holds at most one event besides the buffer; the buffer
	// keeps the newest.
	dropped := slow.Dropped()
	if dropped < n-buffer-1 || dropped > n-buffer {
		t.Errorf("dropped %d, want %d or %d", dropped, n-buffer-1, n-buffer)
	}
	rest := recv(t, slow, n-int(dropped))
	if tail := seqs(rest[len(rest)-buffer:]); !slices.Equal(tail, []uint64{n - 3, n - 2, n - 1, n}) {
		t.Errorf("slow subscriber's last events %v, want the newest", tail)
	}
	st := b.Stats()
	if st.Dropped != dropped || len(st.Subscribers) != 2 || st.Subscribers[0].Name != "slow" || st.Subscribers[0].Dropped != dropped || st.Subscribers[1].Dropped != 0 {
		t.Errorf("Stats = %+v", st)
	}

	// Once caught up, the slow subscriber's drops are logged.
	select {
	case r := <-logs.ch:
		var reported uint64
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "dropped" {
				reported = a.Value.Uint64()
			}
			return true
		})
		if r.Level != slog.LevelWarn || reported != dropped {
			t.Errorf("log %q level %v dropped %d, want warning of %d", r.Message, r.Level, reported, dropped)
		}
	case <-time.After(deadline):
		t.Fatal("drops not logged")
	}
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name    string
		history int
		filter  Filter
		replay  int
		buffer  int
		want    []uint64
	}{
		{"none", 8, Filter{}, 0, 4, nil},
		{"last three", 8, Filter{}, 3, 4, []uint64{8, 9, 10}},
		{"more than retained", 8, Filter{}, 100, 4, []uint64{3, 4, 5, 6, 7, 8, 9, 10}},
		{"filtered", 8, Filter{Modules: []uint32{1}}, 2, 1, []uint64{8, 10}},
		{"history off", 0, Filter{}, 5, 4, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBus(t, WithHistory(tc.history))
			for i := range 10 {
				publish(t, b, Event{Kind: PortUp, Module: uint32(i % 2)})
			}
			s := subscribe(t, b, tc.filter, WithReplay(tc.replay), WithSubscriptionBuffer(tc.buffer))
			live := publish(t, b, Event{Kind: PortUp, Module: 1})
			got := recv(t, s, len(tc.want)+1)
			if want := append(slices.Clone(tc.want), live.Seq); !slices.Equal(seqs(got), want) {
				t.Errorf("seqs %v, want %v", seqs(got), want)
			}
			if s.Dropped() != 0 {
				t.Errorf("dropped %d", s.Dropped())
			}
			// Recent answers what the replay held, without subscribing.
			recent, err := b.Recent(tc.filter, tc.replay)
			if err != nil {
				t.Fatal(err)
			}
			wantRecent := tc.want
			if tc.replay > 0 && tc.history > 0 && tc.filter.Match(live) {
				// The live event is retained now: the window moved by one.
				wantRecent = append(slices.Clone(tc.want), live.Seq)
				if len(wantRecent) > tc.replay || len(wantRecent) > tc.history {
					wantRecent = wantRecent[1:]
				}
			}
			if !slices.Equal(seqs(recent), wantRecent) {
				t.Errorf("Recent seqs %v, want %v", seqs(recent), wantRecent)
			}
		})
	}
	if _, err := newBus(t).Recent(Filter{}, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Recent(-1): err = %v, want ErrInvalid", err)
	}
}

func TestSubscriptionEnd(t *testing.T) {
	tests := []struct {
		name string
		end  func(b *Bus, s *Subscription, cancel context.CancelFunc)
	}{
		{"cancel", func(_ *Bus, s *Subscription, _ context.CancelFunc) { s.Cancel() }},
		{"context", func(_ *Bus, _ *Subscription, cancel context.CancelFunc) { cancel() }},
		{"bus closed", func(b *Bus, _ *Subscription, _ context.CancelFunc) { _ = b.Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBus(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, err := b.Subscribe(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			publish(t, b, Event{Kind: PortUp})
			tc.end(b, s, cancel)
			waitClosed(t, s)
			s.Cancel() // idempotent
			if st := b.Stats(); len(st.Subscribers) != 0 {
				t.Errorf("subscribers after end: %+v", st.Subscribers)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	b := newBus(t)
	if _, err := b.Publish(Event{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Publish(kind 0): %v", err)
	}
	if _, err := b.Publish(Event{Kind: numKinds}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Publish(kind %d): %v", numKinds, err)
	}
	//lint:ignore SA1012 a nil context must be refused, not panic
	if _, err := b.Subscribe(nil, Filter{}); !errors.Is(err, ErrInvalid) { //nolint:staticcheck
		t.Errorf("Subscribe(nil ctx): %v", err)
	}
	if _, err := b.Subscribe(t.Context(), Filter{Kinds: []Kind{0}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Subscribe(kind 0): %v", err)
	}
	for _, o := range []SubscribeOption{WithReplay(-1), WithSubscriptionBuffer(0)} {
		if _, err := b.Subscribe(t.Context(), Filter{}, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("Subscribe(bad option): %v", err)
		}
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Subscribe(done, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe(done ctx): %v", err)
	}
	for _, o := range []Option{WithHistory(-1), WithBuffer(0)} {
		if _, err := NewBus(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewBus(bad option): %v", err)
		}
	}
	if _, err := NewBus(nil, WithClock(nil), WithLogger(nil)); err != nil {
		t.Errorf("NewBus(nil options): %v", err)
	}

	_ = b.Close()
	_ = b.Close()
	if _, err := b.Publish(Event{Kind: PortUp}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := b.Subscribe(t.Context(), Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}

	var nb *Bus
	if _, err := nb.Publish(Event{Kind: PortUp}); !errors.Is(err, ErrClosed) {
		t.Errorf("nil bus Publish: %v", err)
	}
	if _, err := nb.Subscribe(t.Context(), Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("nil bus Subscribe: %v", err)
	}
	_ = nb.Close()
	_ = nb.Stats()
	var ns *Subscription
	ns.Cancel()
	if ns.C() != nil || ns.Dropped() != 0 || ns.Delivered() != 0 || ns.ID() != 0 {
		t.Error("nil subscription not empty")
	}
}

func TestStatsLatency(t *testing.T) {
	clk := newFakeClock(t0)
	offsets := map[uint32]time.Duration{2: 50 * time.Millisecond}
	b := newBus(t, WithClock(clk.now), WithSourceOffset(func(m uint32) time.Duration { return offsets[m] }))
	s := subscribe(t, b, Filter{})

	// Box 1's clock is right: 5ms from source to observation. Box 2's runs
	// 50ms ahead: its timestamp says 45ms in the future, corrected to 5ms
	// in the past.
	publish(t, b, Event{Kind: PortDown, Module: 1, SourceTime: t0.Add(-5 * time.Millisecond)})
	publish(t, b, Event{Kind: PortDown, Module: 2, SourceTime: t0.Add(45 * time.Millisecond)})
	publish(t, b, Event{Kind: Committed}) // no source time
	clk.advance(3 * time.Millisecond)
	recv(t, s, 3)
	s.Cancel() // the pump has recorded every delivery once it has exited

	st := b.Stats()
	if st.Published != 3 || len(st.Kinds) != 2 {
		t.Fatalf("Stats = %+v", st)
	}
	want := []KindStats{
		{Kind: PortDown, Published: 2,
			SourceToObserved:  Summary{Count: 2, P50: 5 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond},
			PublishToDelivery: Summary{Count: 2, P50: 3 * time.Millisecond, P99: 3 * time.Millisecond, Max: 3 * time.Millisecond}},
		{Kind: Committed, Published: 1,
			PublishToDelivery: Summary{Count: 1, P50: 3 * time.Millisecond, P99: 3 * time.Millisecond, Max: 3 * time.Millisecond}},
	}
	if !slices.Equal(st.Kinds, want) {
		t.Errorf("Kinds =\n%+v\nwant\n%+v", st.Kinds, want)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("Stats JSON: %v", err)
	}
}
