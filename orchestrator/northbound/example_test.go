package northbound_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// An orchestrator served over TLS with an admin token; a client registers
// two emulated leaves, commits a config and watches the commit end.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		log.Fatal(err)
	}
	defer tb.Close()
	dir, err := os.MkdirTemp("", "northbound-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	o, err := orchestrator.New(ctx, st, drivers)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()

	// The server: TLS from a test CA, one admin token.
	ca, err := certs.NewCA()
	if err != nil {
		log.Fatal(err)
	}
	cert, err := ca.Issue("fabricd")
	if err != nil {
		log.Fatal(err)
	}
	const token = "s3cret"
	srv, err := northbound.NewServer(o, northbound.WithTokens(northbound.Tokens{Admin: []string{token}}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	gs := grpc.NewServer(append(srv.ServerOptions(), grpc.Creds(credentials.NewTLS(certs.ServerConfig(cert, nil))))...)
	srv.Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	// The client.
	c, err := northbound.Dial(ctx, lis.Addr().String(),
		northbound.WithTLS(certs.ClientConfig(ca.Pool(), nil)), northbound.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, name := range []string{"leaf1", "leaf2"} {
		sw := tb.Switch(name)
		box, err := c.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: name, Driver: builtin.Emulated,
			Address: sw.Addr(), Role: "forwarder", DeviceId: sw.DeviceID(), Insecure: true})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, "is module", box.Module)
	}
	op, err := c.Commit(ctx, &nbpb.CommitRequest{Comment: "first", Config: []byte(`
version: 1
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
modules:
  "1":
    objectives:
      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
`)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("commit", op.State)
	w, err := c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: op.Id})
	if err != nil {
		log.Fatal(err)
	}
	var last *nbpb.Operation
	for {
		o, err := w.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		last = o
	}
	fmt.Println("commit", last.State, "version", last.Version)
	// Output:
	// leaf1 is module 1
	// leaf2 is module 2
	// commit RUNNING
	// commit COMMITTED version 1
}
