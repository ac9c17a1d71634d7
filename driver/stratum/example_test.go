package stratum_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/stratum"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
)

// Open a switch that speaks as Stratum does (here an emulated one) and
// package a pipeconf for it: the bmv2 JSON, byte for byte.
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

	dev, err := stratum.New().Open(ctx, driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	reg, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	pc, err := reg.Get(builtin.FabricV1Model)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := dev.PackagePipeconf(ctx, pc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bytes.Equal(cfg, pc.DeviceConfigs["bmv2"]))
	if err := driver.SetPipeconf(ctx, dev, pc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sw.P4Runtime().Schema() != nil)
	// Output:
	// true
	// true
}
