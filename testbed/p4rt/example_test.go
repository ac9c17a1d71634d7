package p4rt_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/p4fabric/fabric/testbed/p4rt"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Example starts an emulated switch's P4Runtime service on a loopback port
// and arbitrates for the default role with the raw P4Runtime protos.
func Example() {
	srv := p4rt.New(1)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	g := grpc.NewServer(p4rt.ServerOptions()...)
	srv.Register(g)
	go g.Serve(lis)
	defer g.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := p4v1.NewP4RuntimeClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.StreamChannel(ctx)
	if err != nil {
		log.Fatal(err)
	}
	err = stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		log.Fatal(err)
	}
	arb := resp.GetArbitration()
	fmt.Println("status:", codes.Code(arb.GetStatus().GetCode()))
	fmt.Println("election_id:", arb.GetElectionId().GetLow())

	// Only the primary may write, and only once a pipeline is set.
	_, err = client.Write(ctx, &p4v1.WriteRequest{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1}})
	fmt.Println("write before a pipeline:", status.Code(err))
	// Output:
	// status: OK
	// election_id: 1
	// write before a pipeline: FailedPrecondition
}
