package bmv2_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/bmv2"
	"github.com/p4fabric/fabric/testbed/p4rt"
)

// Open a P4Runtime-only switch as simple_switch_grpc presents itself (here
// the emulated switch's P4Runtime service on its own listener), naming its
// ports as its -i flags do.
func Example() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	g := grpc.NewServer(p4rt.ServerOptions()...)
	p4rt.New(1).Register(g)
	go g.Serve(lis)
	defer g.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	dev, err := bmv2.New().Open(ctx, driver.Spec{Name: "bmv2-1", Address: lis.Addr().String(), DeviceID: 1, Insecure: true,
		Options: map[string]string{"ports": "1@veth0,2@veth2", "serial": "lab-bmv2-1"}})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	id, err := dev.Identity(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
	ports, err := dev.Ports(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ports.Ports())
	_, err = dev.GNMI()
	fmt.Println(errors.Is(err, driver.ErrUnsupported), err)
	// Output:
	// p4lang bmv2 simple_switch_grpc lab-bmv2-1 (P4Runtime 1.5.0)
	// [{veth0 1} {veth2 2}]
	// true device bmv2-1 (bmv2): gNMI: not supported by the device
}
