package testbed_test

import (
	"context"
	"net"
	"testing"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/testbed"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	benchBatch    = 500
	benchInFlight = 4
)

// BenchmarkServerInsert compares, in one run, the emulated switch's fully
// validated inserts with a bare server that only decodes each write and
// stores the entries in a map, both over loopback TCP from the same raw gRPC
// client with pre-built requests. b.N is the number of entries; the metric
// to read is entries/s.
//
//	go test -run='^$' -bench=ServerInsert -benchtime=200000x -count=5 ./testbed/
func BenchmarkServerInsert(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := p4bench.NewBareServer()
		addr := serve(b, srv.Register)
		runInserts(b, addr, 1)
		if srv.Len() != b.N {
			b.Fatalf("bare server holds %d entries, want %d", srv.Len(), b.N)
		}
	})
	b.Run("validated", func(b *testing.B) {
		sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "bench", DeviceID: 1, Ports: 8})
		if err != nil {
			b.Fatal(err)
		}
		if err := sw.Start(); err != nil {
			b.Fatal(err)
		}
		defer sw.Stop()
		runInserts(b, sw.Addr(), 1)
	})
}

func serve(b *testing.B, register func(*grpc.Server)) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	g := grpc.NewServer()
	register(g)
	go func() { _ = g.Serve(lis) }()
	b.Cleanup(g.Stop)
	return lis.Addr().String()
}

// runInserts arbitrates as primary, sets the bench pipeline (the bare server
// ignores it), and times writing b.N route entries.
func runInserts(b *testing.B, addr string, deviceID uint64) {
	ctx := context.Background()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	c := p4v1.NewP4RuntimeClient(conn)
	stream, err := c.StreamChannel(ctx)
	if err != nil {
		b.Fatal(err)
	}
	election := &p4v1.Uint128{Low: 1}
	if err := stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: deviceID, ElectionId: election}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		b.Fatal(err)
	}
	_, _ = c.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: deviceID, ElectionId: election, Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: p4infos.MustInfo("bench")},
	})
	reqs := p4bench.Requests(deviceID, election, p4bench.Inserts(b.N), benchBatch)
	b.ReportAllocs()
	b.ResetTimer()
	if err := p4bench.Send(ctx, c, reqs, benchInFlight); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	_ = stream.CloseSend()
}
