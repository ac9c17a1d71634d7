package monitor_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/p4fabric/fabric/orchestrator/events"
)

// BenchmarkP3PortEvent is P3 of issue 8: a port goes down (or up) on a
// box → the orchestrator's event is delivered to a bus subscriber. A
// LeafSpine(1,2) testbed is watched by a monitor (every box, system
// messages to a log); each iteration toggles leaf1's uplink with
// SetPortAdmin, alternately down and up, and measures the time until the
// subscriber receives leaf1's PortDown or PortUp for that port. The
// reference is a plain gRPC unary round trip on loopback (grpc.health.v1
// Check), measured b.N times in the same run. It reports p50 and p99 in ns
// and as multiples of the round trip's p50 (p50-x-rtt, p99-x-rtt; the goal
// is p99-x-rtt ≤ 5), and p99-x-rtt-p99, the p99 over the round trip's own
// p99.
//
//	go test -run='^$' -bench=P3 -benchtime=1000x -count=3 ./orchestrator/monitor/
func BenchmarkP3PortEvent(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The reference: a unary round trip on loopback.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, health.NewServer())
	go func() { _ = g.Serve(lis) }()
	defer g.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil { // connect
		b.Fatal(err)
	}

	bd := startBed(b)
	bd.monitor(b)
	sub, err := bd.bus.Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.PortUp, events.PortDown}, Modules: []uint32{leaf1}})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Cancel()
	sw := bd.tb.Switch("leaf1")

	rtt := make([]time.Duration, 0, b.N)
	lat := make([]time.Duration, 0, b.N)
	timeout := time.NewTimer(testTimeout)
	defer timeout.Stop()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			b.Fatal(err)
		}
		rtt = append(rtt, time.Since(t0))

		up := i%2 == 1
		want := events.PortDown
		if up {
			want = events.PortUp
		}
		timeout.Reset(testTimeout)
		t0 = time.Now()
		if err := sw.SetPortAdmin(1, up); err != nil {
			b.Fatal(err)
		}
	wait:
		for {
			select {
			case e := <-sub.C():
				if e.Kind == want && e.Port == 1 {
					break wait
				}
			case <-timeout.C:
				b.Fatalf("iteration %d: no %s event after %v", i, want, testTimeout)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	if d := sub.Dropped(); d != 0 {
		b.Fatalf("subscriber dropped %d events", d)
	}
	slices.Sort(rtt)
	slices.Sort(lat)
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	base := float64(pct(rtt, 0.5))
	b.ReportMetric(float64(pct(rtt, 0.5)), "rtt-p50-ns")
	b.ReportMetric(float64(pct(rtt, 0.99)), "rtt-p99-ns")
	b.ReportMetric(float64(pct(lat, 0.5)), "p50-ns")
	b.ReportMetric(float64(pct(lat, 0.99)), "p99-ns")
	b.ReportMetric(float64(pct(lat, 0.5))/base, "p50-x-rtt")
	b.ReportMetric(float64(pct(lat, 0.99))/base, "p99-x-rtt")
	b.ReportMetric(float64(pct(lat, 0.99))/float64(pct(rtt, 0.99)), "p99-x-rtt-p99")
}
