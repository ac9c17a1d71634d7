package gnmi_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

// Example serves an emulated switch's gNMI on a loopback port (a testbed
// switch does this on its P4Runtime listener) and reads it back the way
// "gnmic -a ADDR --insecure get --path /interfaces/interface[name=eth1]/config"
// would.
func Example() {
	srv, err := gnmisrv.New(gnmisrv.WithName("leaf1"), gnmisrv.WithPorts(4),
		gnmisrv.WithIdentity(gnmisrv.Identity{Vendor: "Fabric", Model: "emulated", Serial: "SN-1"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	g := grpc.NewServer()
	srv.Register(g)
	go g.Serve(lis)
	defer g.Stop()

	// The switch's side: a port is disabled, as SetPortAdmin does.
	if err := srv.SetInterfaceEnabled(1, false); err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gnmiclient.Dial(lis.Addr().String(), gnmiclient.WithInsecure())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	recs, err := c.Get(ctx, []string{"/interfaces/interface[name=eth1]/config", "/components/component[name=chassis]/state/serial-no"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Println(r.Path, r.Value)
	}
	fmt.Println(srv.Config().Interfaces[0].Enabled)
	// Output:
	// /interfaces/interface[name=eth1]/config map[enabled:false mtu:1500 name:eth1]
	// /components/component[name=chassis]/state/serial-no SN-1
	// false
}
