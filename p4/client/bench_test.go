package client_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/internal/window"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/testbed"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	p2Batch    = 500
	p2InFlight = 4
)

// BenchmarkP2Write is P2: writing b.N route entries to the emulated switch
// over loopback TCP, through the SDK and through a raw gRPC client sending
// pre-built requests, with the same batch size and writes in flight, in one
// run. Each sub-benchmark gets a fresh switch. Read entries/s.
//
//	go test -run='^$' -bench=P2 -benchtime=1000000x -count=3 ./p4/client/
//
// raw:        p4bench.Send of requests built before the timer starts.
// sdk:        client.Write of the same pre-built updates (the SDK's write path:
//
//	batching by count and size, in-flight window, error decoding).
//
// sdk+build:  entries built by name with p4/entity inside the timed region,
//
//	then client.Write.
func BenchmarkP2Write(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		sw := benchSwitch(b)
		conn, err := grpc.NewClient(sw.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		// Arbitrate and set the pipeline with the SDK, then write raw.
		c := benchClient(b, sw)
		reqs := p4bench.Requests(sw.DeviceID(), client.ElectionID{Low: 1}.Proto(), p4bench.Inserts(b.N), p2Batch)
		raw := p4v1.NewP4RuntimeClient(conn)
		b.ReportAllocs()
		b.ResetTimer()
		if err := p4bench.Send(context.Background(), raw, reqs, p2InFlight); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		_ = c.Close()
	})
	b.Run("sdk", func(b *testing.B) {
		sw := benchSwitch(b)
		c := benchClient(b, sw)
		ups := p4bench.Inserts(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		if err := c.Write(context.Background(), ups, client.WithBatchSize(p2Batch), client.WithInFlight(p2InFlight)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		_ = c.Close()
	})
	b.Run("sdk+build", func(b *testing.B) {
		sw := benchSwitch(b)
		c := benchClient(b, sw)
		eb := entity.NewBuilder(c.Schema())
		b.ReportAllocs()
		b.ResetTimer()
		ups := make([]*p4v1.Update, b.N)
		for i := range ups {
			addr := p4bench.RouteAddr(i)
			te, err := eb.TableEntry(p4bench.RouteTableName,
				entity.Match(entity.LPM("hdr.ipv4.dst_addr", addr[:], p4bench.RoutePrefixLen)),
				entity.Action(p4bench.RouteActionName, entity.ParamUint("port", uint64(1+i%8)), entity.ParamUint("dmac", 1)))
			if err != nil {
				b.Fatal(err)
			}
			ups[i] = entity.Insert(te)
		}
		if err := c.Write(context.Background(), ups, client.WithBatchSize(p2Batch), client.WithInFlight(p2InFlight)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		_ = c.Close()
	})
}

// benchSwitch starts an emulated switch (device 1, 8 ports), stopped when
// tb ends.
func benchSwitch(b testing.TB) *testbed.Switch {
	b.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "bench", DeviceID: 1, Ports: 8})
	if err != nil {
		b.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sw.Stop)
	return sw
}

// benchClient connects as primary with election ID 1 (and opts) and sets
// the bench pipeline; the client is closed when tb ends.
func benchClient(b testing.TB, sw *testbed.Switch, opts ...client.Option) *client.Client {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts = append([]client.Option{client.WithInsecure(), client.WithDeviceID(sw.DeviceID()), client.WithElectionID(client.ElectionID{Low: 1})}, opts...)
	c, err := client.Dial(ctx, sw.Addr(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.WaitPrimary(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if err := c.SetPipeline(ctx, p4infos.MustInfo("bench"), nil, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkSmallWrite times the round trip of a one-update Write (an insert,
// then its delete) to the emulated switch over loopback, the kind of call a
// commit makes per box and rank, with the client's flow-control windows
// fixed (the default) and left to gRPC's estimate, beside a raw gRPC client
// with gRPC's defaults, in one run. cpu-µs/op is the process's CPU time
// (client and switch) per call.
//
//	go test -run='^$' -bench=SmallWrite -benchtime=5000x -count=3 ./p4/client/
func BenchmarkSmallWrite(b *testing.B) {
	ins := p4bench.Inserts(1)
	del := []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: ins[0].Entity}}
	sdk := func(window int32) func(b *testing.B) {
		return func(b *testing.B) {
			sw := benchSwitch(b)
			c := benchClient(b, sw, client.WithWindow(window))
			ctx := context.Background()
			b.ReportAllocs()
			t0 := processCPU()
			for i := 0; b.Loop(); i++ {
				u := ins
				if i%2 == 1 {
					u = del
				}
				if err := c.Write(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-t0).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	}
	b.Run("sdk-fixed-window", sdk(window.Stream))
	b.Run("sdk-estimated-window", sdk(0))
	b.Run("raw", func(b *testing.B) {
		sw := benchSwitch(b)
		c := benchClient(b, sw)
		conn, err := grpc.NewClient(sw.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		raw := p4v1.NewP4RuntimeClient(conn)
		reqs := []*p4v1.WriteRequest{
			{DeviceId: sw.DeviceID(), ElectionId: client.ElectionID{Low: 1}.Proto(), Updates: ins},
			{DeviceId: sw.DeviceID(), ElectionId: client.ElectionID{Low: 1}.Proto(), Updates: del},
		}
		ctx := context.Background()
		b.ReportAllocs()
		t0 := processCPU()
		for i := 0; b.Loop(); i++ {
			if _, err := raw.Write(ctx, reqs[i%2]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((processCPU()-t0).Microseconds())/float64(b.N), "cpu-µs/op")
		_ = c.Close()
	})
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
