package events

import (
	"log/slog"
	"testing"
	"time"
)

// BenchmarkDelivery measures publish → delivery latency with four
// subscribers: each iteration publishes one event and waits until all four
// have received it. It reports the bus's own p50/p99/max of the
// publish → delivery histogram (one value per delivery).
//
//	go test -run '^$' -bench Delivery -benchtime 5000x ./orchestrator/events/
func BenchmarkDelivery(b *testing.B) {
	const subscribers = 4
	bus, err := NewBus()
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	acks := make(chan struct{}, subscribers)
	for range subscribers {
		s, err := bus.Subscribe(b.Context(), Filter{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Cancel()
		go func() {
			for range s.C() {
				acks <- struct{}{}
			}
		}()
	}
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bus.Publish(Event{Kind: PortDown, Module: 1, Port: 1}); err != nil {
			b.Fatal(err)
		}
		for range subscribers {
			select {
			case <-acks:
			case <-timer.C:
				b.Fatal("delivery timed out")
			}
		}
	}
	b.StopTimer()
	st := bus.Stats()
	for _, k := range st.Kinds {
		d := k.PublishToDelivery
		b.ReportMetric(float64(d.P50.Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(d.P99.Nanoseconds()), "p99-ns")
		b.ReportMetric(float64(d.Max.Nanoseconds()), "max-ns")
	}
	if st.Dropped != 0 {
		b.Errorf("%d dropped", st.Dropped)
	}
}

// BenchmarkPublish measures the publisher's cost with four subscribers
// draining as fast as they can; drops are reported per publish.
//
//	go test -run '^$' -bench Publish -benchtime 20000x ./orchestrator/events/
func BenchmarkPublish(b *testing.B) {
	const subscribers = 4
	bus, err := NewBus(WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	for range subscribers {
		s, err := bus.Subscribe(b.Context(), Filter{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Cancel()
		go func() {
			for range s.C() {
			}
		}()
	}
	e := Event{Kind: PortDown, Module: 1, Port: 1, Attrs: map[string]string{AttrReason: "bench"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bus.Publish(e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(bus.Stats().Dropped)/float64(b.N), "drops/op")
}
