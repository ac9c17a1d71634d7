package monitor_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/monitor"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Watch the boxes of a leaf-spine testbed and see a link go down from both
// ends.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		log.Fatal(err)
	}
	defer tb.Close()
	bus, err := events.NewBus()
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	lg, err := logbook.New()
	if err != nil {
		log.Fatal(err)
	}
	defer lg.Close()

	m, err := monitor.New(bus, lg)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	for i, sw := range tb.Switches() { // spine1, leaf1, leaf2
		dev, err := emulated.New().Open(ctx, driver.Spec{Name: sw.Name(), Address: sw.Addr(), DeviceID: sw.DeviceID(), Insecure: true})
		if err != nil {
			log.Fatal(err)
		}
		defer dev.Close()
		box := monitor.Box{Name: sw.Name(), Serial: sw.Identity().Serial, Module: uint32(i + 1), Device: dev}
		if err := m.Watch(ctx, box); err != nil {
			log.Fatal(err)
		}
	}

	sub, err := bus.Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.PortDown}})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Cancel()
	if err := tb.SetPortAdmin("leaf1", 1, false); err != nil { // leaf1 eth1 ↔ spine1 eth1
		log.Fatal(err)
	}
	var lines []string
	for len(lines) < 2 {
		select {
		case e := <-sub.C():
			lines = append(lines, fmt.Sprintf("%s module=%d serial=%s port=%d (%s)", e.Kind, e.Module, e.Serial, e.Port, e.Attrs[monitor.AttrInterface]))
		case <-ctx.Done():
			log.Fatal(ctx.Err())
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// port-down module=1 serial=spine1 port=1 (eth1)
	// port-down module=2 serial=leaf1 port=1 (eth1)
}
