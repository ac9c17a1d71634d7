package driver_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/testbed"
)

// Open an emulated switch through the registry of built-in drivers, read
// its identity and ports, and the first events.
func Example() {
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2,
		Identity: testbed.Identity{Vendor: "Acme", Model: "AS-1", Serial: "SN1", SoftwareVersion: "1.0.0"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		log.Fatal(err)
	}
	defer sw.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	dev, err := reg.Open(ctx, driver.Spec{Name: "leaf1", Driver: "emulated", Address: sw.Addr(), DeviceID: 1, Insecure: true})
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
	for _, p := range ports.Ports() {
		fmt.Println(p.Name, "=", p.ID)
	}
	for range driver.Protocols {
		fmt.Println(<-dev.Events())
	}
	// Output:
	// Acme AS-1 SN1 (1.0.0)
	// eth1 = 1
	// eth2 = 2
	// leaf1 p4runtime connected (primary)
	// leaf1 gnmi connected
	// leaf1 gnoi connected
}
