package gnmi_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/testbed"
)

func benchSwitch(b *testing.B, ports int) *testbed.Switch {
	b.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "bench", DeviceID: 1, Ports: ports})
	if err != nil {
		b.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sw.Stop)
	return sw
}

// BenchmarkSampleCounters1000Ports measures how many notifications per
// second the emulated switch streams to a client that samples the counters
// of its 1,000 ports (6,000 leaves) at the fastest rate it accepts. b.N is
// the number of notifications (one leaf each); the metric to read is
// notifications/s.
//
//	go test -run='^$' -bench=SampleCounters1000Ports -benchtime=200000x -count=3 ./testbed/gnmi/
func BenchmarkSampleCounters1000Ports(b *testing.B) {
	for _, enc := range []gpb.Encoding{gpb.Encoding_PROTO, gpb.Encoding_JSON} {
		b.Run(enc.String(), func(b *testing.B) {
			sw := benchSwitch(b, 1000)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, err := gnmiclient.Dial(sw.Addr(), gnmiclient.WithInsecure())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			st, err := c.Subscribe(ctx, gnmiclient.SubscribeRequest{Encoding: enc, Subscriptions: []gnmiclient.Subscription{
				{Path: "/interfaces/interface/state/counters", Mode: gnmiclient.Sample}, // interval 0: the fastest
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			for { // the initial sample, up to the sync response
				ev, err := st.Recv(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if ev.Sync {
					break
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; {
				ev, err := st.Recv(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if ev.Notification != nil {
					n++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}

// BenchmarkOnChangeLatency measures the time from SetPortAdmin on the
// switch to the client receiving the on-change update of the port's
// oper-status, b.N times (alternately down and up), and reports its p50 and
// p99 as multiples of the median round trip of a plain gRPC unary call
// (grpc.health.v1 Check) on loopback measured in the same run, b.N times
// (p99-x-rtt-p99 divides the p99 by the round trip's own p99).
//
//	go test -run='^$' -bench=OnChangeLatency -benchtime=1000x -count=3 ./testbed/gnmi/
func BenchmarkOnChangeLatency(b *testing.B) {
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

	sw := benchSwitch(b, 2)
	c, err := gnmiclient.Dial(sw.Addr(), gnmiclient.WithInsecure())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const path = "/interfaces/interface[name=eth1]/state/oper-status"
	st, err := c.Subscribe(ctx, gnmiclient.SubscribeRequest{Encoding: gpb.Encoding_PROTO,
		Subscriptions: []gnmiclient.Subscription{{Path: path, Mode: gnmiclient.OnChange}}})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for {
		ev, err := st.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if ev.Sync {
			break
		}
	}

	rtt := make([]time.Duration, 0, b.N)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			b.Fatal(err)
		}
		rtt = append(rtt, time.Since(t0))

		up := i%2 == 1
		want := map[bool]string{true: "UP", false: "DOWN"}[up]
		t0 = time.Now()
		if err := sw.SetPortAdmin(1, up); err != nil {
			b.Fatal(err)
		}
	wait:
		for {
			ev, err := st.Recv(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range ev.Updates {
				if u.Path == path && u.Value == want {
					break wait
				}
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
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
	// On a loaded machine the round trip's own tail is long too: p99 over
	// the round trip's p99 compares like with like.
	b.ReportMetric(float64(pct(lat, 0.99))/float64(pct(rtt, 0.99)), "p99-x-rtt-p99")
}
