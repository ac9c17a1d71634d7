package discovery_test

import (
	"context"
	"fmt"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Discover the links of an emulated leaf-spine running fabric.p4: connect
// to every switch as primary, push the program, add every switch with its
// ports and pipeliner, and read events until every cable is known.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(2, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tb.Close()
	pc, err := builtin.Get(builtin.FabricV1Model)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := pc.DeviceConfig(pipeline.TargetEmulated)
	if err != nil {
		fmt.Println(err)
		return
	}

	var devices []discovery.Device
	for _, sw := range tb.Switches() {
		c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		if err := c.WaitPrimary(ctx); err != nil {
			fmt.Println(err)
			return
		}
		if err := c.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
			fmt.Println(err)
			return
		}
		pl, err := pc.Pipeliner()
		if err != nil {
			fmt.Println(err)
			return
		}
		var ports []uint32
		for p := 1; p <= sw.Ports(); p++ {
			ports = append(ports, uint32(p))
		}
		devices = append(devices, discovery.Device{ID: sw.Name(), Client: c, Ports: ports, Pipeliner: pl})
	}

	d, err := discovery.Start(ctx, devices, discovery.WithInterval(time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Stop(ctx)
	for len(d.Links()) < len(tb.Topology().Links) {
		select {
		case <-d.Events():
		case <-ctx.Done():
			fmt.Println(ctx.Err())
			return
		}
	}
	for _, l := range d.Links() {
		fmt.Println(l)
	}
	// Output:
	// leaf1:1 <-> spine1:1
	// leaf1:2 <-> spine2:1
	// leaf2:1 <-> spine1:2
	// leaf2:2 <-> spine2:2
}
