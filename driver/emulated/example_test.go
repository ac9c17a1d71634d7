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
