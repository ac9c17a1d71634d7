package emulated_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/testbed"
)

// Open a testbed switch (started here; in a lab, any switch of `fabricctl
// testbed up`) by its address.
func Example() {
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		log.Fatal(err)
	}
	defer sw.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	dev, err := emulated.New().Open(ctx, driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	id, err := dev.Identity(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Vendor, id.Model, id.Serial)
	ports, err := dev.Ports(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ports.Ports())
	// This switch has no gNOI (testbed.AttachGNOI adds it).
	err = dev.Reboot(ctx)
	fmt.Println(errors.Is(err, driver.ErrUnsupported))
	// Output:
	// Fabric emulated leaf1
	// [{eth1 1} {eth2 2}]
	// true
}

// Give a switch another P4Runtime device ID (the orchestrator gives each
// box its module ID) and open it again under that ID.
func ExampleDriver_setNodeID() {
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		log.Fatal(err)
	}
	defer sw.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	spec := driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true}
	dev, err := emulated.New().Open(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := dev.(driver.NodeIDSetter).SetNodeID(ctx, 3); err != nil {
		log.Fatal(err)
	}
	dev.Close() // its P4Runtime session was for device 1
	spec.DeviceID = 3
	if dev, err = emulated.New().Open(ctx, spec); err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	p4, err := dev.P4Runtime()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p4.WaitPrimary(ctx), sw.DeviceID())
	// Output:
	// <nil> 3
}
