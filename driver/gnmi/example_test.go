package gnmi_test

import (
	"context"
	"fmt"
	"net"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"

	"github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

// Example reads, changes and streams the state of an emulated switch.
func Example() {
	// An emulated switch's gNMI service on a loopback port.
	srv, _ := gnmisrv.New(gnmisrv.WithName("leaf1"), gnmisrv.WithPorts(2))
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	g := grpc.NewServer()
	srv.Register(g)
	go g.Serve(lis)
	defer g.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gnmi.Dial(lis.Addr().String(), gnmi.WithInsecure())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// One transaction: both changes or neither.
	_, err = c.Set(ctx,
		gnmi.SetUpdate("/interfaces/interface[name=eth1]/config", map[string]any{"mtu": 9000, "description": "uplink"}),
		gnmi.SetUpdate("/system/config/hostname", "leaf-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	recs, err := c.Get(ctx, []string{"/interfaces/interface[name=eth1]/state/mtu", "/system/state/hostname"},
		gnmi.GetEncoding(gpb.Encoding_PROTO))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Println(r.Path, r.Value)
	}

	// Stream the operational state of eth2 on change.
	st, err := c.Subscribe(ctx, gnmi.SubscribeRequest{Subscriptions: []gnmi.Subscription{
		{Path: "/interfaces/interface[name=eth2]/state/oper-status", Mode: gnmi.OnChange},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	for {
		ev, err := st.Recv(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, u := range ev.Updates {
			fmt.Println(u.Path, u.Value)
		}
		if ev.Sync {
			srv.SetOperStatus(2, true) // the link comes up
		}
		if len(ev.Updates) > 0 && ev.Updates[0].Value == "UP" {
			return
		}
	}
	// Output:
	// /interfaces/interface[name=eth1]/state/mtu 9000
	// /system/state/hostname leaf-1
	// /interfaces/interface[name=eth2]/state/oper-status DOWN
	// /interfaces/interface[name=eth2]/state/oper-status UP
}
