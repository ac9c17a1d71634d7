// Quickstart: drive an emulated switch through P4Runtime with the SDK.
//
// It starts one emulated switch in this process, connects as the primary
// controller, pushes ONOS's basic program, writes two table entries built by
// name, reads the table back in readable form, and sends a packet out of a
// port. Nothing to install:
//
//	go run ./examples/quickstart
//
// Point it at a real switch instead (bmv2's simple_switch_grpc, Stratum) with
// -addr and -device-id; the program is the same.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/testbed"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

func main() {
	addr := flag.String("addr", "", "P4Runtime address of a running switch (default: start an emulated one)")
	deviceID := flag.Uint64("device-id", 1, "P4Runtime device ID")
	flag.Parse()
	if err := run(*addr, *deviceID); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(addr string, deviceID uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if addr == "" {
		sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: deviceID, Ports: 8})
		if err != nil {
			return err
		}
		if err := sw.Start(); err != nil {
			return err
		}
		defer sw.Stop()
		addr = sw.Addr()
		fmt.Printf("emulated switch %s listening on %s (device ID %d)\n", sw.Name(), addr, deviceID)
	}

	// Connect and become primary: the highest election ID wins.
	c, err := client.Dial(ctx, addr, client.WithInsecure(), client.WithDeviceID(deviceID),
		client.WithElectionID(client.ElectionID{Low: 10}))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.WaitPrimary(ctx); err != nil {
		return err
	}
	fmt.Println("primary:", c.Status().ElectionID)

	// Push the program. The emulated switch needs only the P4Info; a bmv2
	// target also wants the compiled JSON as the device config.
	info, err := p4infos.Info("onos-basic")
	if err != nil {
		return err
	}
	if err := c.SetPipeline(ctx, info, nil, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
		return err
	}

	// Build entries by name with Go values; the schema checks every field.
	b := entity.NewBuilder(c.Schema())
	toHost, err := b.TableEntry("table0",
		entity.Match(
			entity.Ternary("hdr.ethernet.ether_type", 0x0800, 0xffff),
			entity.Ternary("hdr.ipv4.dst_addr", netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("255.255.255.0"))),
		entity.Action("set_egress_port", entity.Param("port", 2)),
		entity.Priority(100))
	if err != nil {
		return err
	}
	punt, err := b.TableEntry("table0",
		entity.Match(entity.Ternary("hdr.ethernet.ether_type", 0x88cc, 0xffff)),
		entity.Action("send_to_cpu"),
		entity.Priority(200))
	if err != nil {
		return err
	}
	if err := c.Insert(ctx, entity.Wrap(toHost), entity.Wrap(punt)); err != nil {
		return err
	}

	// Read the table back, rendered with names and addresses.
	fmt.Println("table0:")
	for e, err := range c.ReadTable(ctx, "table0") {
		if err != nil {
			return err
		}
		fmt.Println(" ", entity.Format(c.Schema(), e))
	}

	// A packet out of port 3, with the program's packet_out metadata by name.
	po, err := b.PacketOut([]byte("hello"), entity.Meta("egress_port", 3))
	if err != nil {
		return err
	}
	if err := c.SendPacketOut(ctx, po); err != nil {
		return err
	}
	fmt.Println("sent a packet out of port 3")
	return nil
}
