package plugin_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/testbed"
)

// Load a driver plugin (the test plugin of this package, built by
// TestMain) and open a device through it: the behaviours are answered by
// the plugin process, the P4Runtime client is the host's own.
func Example() {
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		log.Fatal(err)
	}
	defer sw.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	d, err := plugin.Load(testPlugin, plugin.WithHostLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	dev, err := d.Open(ctx, driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	id, err := dev.Identity(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name(), id)
	ports, err := dev.Ports(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ports.Ports())
	p4, err := dev.P4Runtime()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p4.IsPrimary())
	// Output:
	// test Test Vendor T-1 T-leaf1 (1.0)
	// [{tp0 1} {tp1 2} {tp2 3}]
	// true
}
