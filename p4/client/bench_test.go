package client_test

import (
	"context"
	"testing"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/internal/p4infos"
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

func benchSwitch(b *testing.B) *testbed.Switch {
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

// benchClient connects as primary with election ID 1 and sets the bench
// pipeline.
func benchClient(b *testing.B, sw *testbed.Switch) *client.Client {
	b.Helper()
	ctx := context.Background()
	c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()), client.WithElectionID(client.ElectionID{Low: 1}))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.WaitPrimary(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.SetPipeline(ctx, p4infos.MustInfo("bench"), nil, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
		b.Fatal(err)
	}
	return c
}
