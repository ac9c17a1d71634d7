// Chassis: the orchestrator as a library. Four emulated switches become one
// chassis: each is registered and gets a module ID, one routed config is
// committed to all of them as a transaction, and when a leaf's uplink goes
// down the orchestrator reroutes around it by itself. Every event on the
// chassis' event bus is printed as it comes. Nothing to install:
//
//	go run ./examples/chassis
//
// The same calls drive real switches: register them with their driver
// ("bmv2", "stratum") and address instead of the testbed's.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chassis:", err)
		os.Exit(1)
	}
}

// chassisConfig is the routed config of the chassis, as an operator writes
// it: interfaces are named chassis-wide (eth-<module>/0/<port>), and each
// module (by its ID) gets objectives that its pipeliner translates for the
// program it runs. The module IDs are those run checks the boxes get:
// spine1 and spine2 are modules 1 and 2, leaf1 and leaf2 modules 3 and 4.
//
// Leaf j serves the hosts of 10.0.j.0/24 on port 3 and reaches the other
// leaf through an ECMP group over its uplinks (port 1 to spine1, port 2 to
// spine2); spine i sends each leaf's subnet out of the port to that leaf.
const chassisConfig = `
version: 1
roles:
  fabric: {pipeconf: fabric-v1model}
  forwarder: {pipeconf: fabric-v1model}
interfaces:
  eth-3/0/1: {description: "leaf1 uplink to spine1"}
  eth-3/0/2: {description: "leaf1 uplink to spine2"}
modules:
  "1": # spine1
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
      - l3-interface: {port: 2, router_mac: "00:aa:00:00:00:01"}
      - route: {prefix: 10.0.1.0/24, next_hop: {id: leaf1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:aa:00:00:00:03"}}
      - route: {prefix: 10.0.2.0/24, next_hop: {id: leaf2, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:aa:00:00:00:04"}}
  "2": # spine2
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:02"}
      - l3-interface: {port: 2, router_mac: "00:aa:00:00:00:02"}
      - route: {prefix: 10.0.1.0/24, next_hop: {id: leaf1, port: 1, src_mac: "00:aa:00:00:00:02", dst_mac: "00:aa:00:00:00:03"}}
      - route: {prefix: 10.0.2.0/24, next_hop: {id: leaf2, port: 2, src_mac: "00:aa:00:00:00:02", dst_mac: "00:aa:00:00:00:04"}}
  "3": # leaf1
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:03"}
      - l3-interface: {port: 2, router_mac: "00:aa:00:00:00:03"}
      - l3-interface: {port: 3, router_mac: "00:aa:00:00:00:03"}
      - route: {prefix: 10.0.1.0/24, next_hop: {id: hosts, port: 3, src_mac: "00:aa:00:00:00:03", dst_mac: "00:cc:00:00:00:03"}}
      - route:
          prefix: 10.0.2.0/24
          group:
            id: spines
            members:
              - next_hop: {id: spine1, port: 1, src_mac: "00:aa:00:00:00:03", dst_mac: "00:aa:00:00:00:01"}
              - next_hop: {id: spine2, port: 2, src_mac: "00:aa:00:00:00:03", dst_mac: "00:aa:00:00:00:02"}
  "4": # leaf2
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:04"}
      - l3-interface: {port: 2, router_mac: "00:aa:00:00:00:04"}
      - l3-interface: {port: 3, router_mac: "00:aa:00:00:00:04"}
      - route: {prefix: 10.0.2.0/24, next_hop: {id: hosts, port: 3, src_mac: "00:aa:00:00:00:04", dst_mac: "00:cc:00:00:00:04"}}
      - route:
          prefix: 10.0.1.0/24
          group:
            id: spines
            members:
              - next_hop: {id: spine1, port: 1, src_mac: "00:aa:00:00:00:04", dst_mac: "00:aa:00:00:00:01"}
              - next_hop: {id: spine2, port: 2, src_mac: "00:aa:00:00:00:04", dst_mac: "00:aa:00:00:00:02"}
`

// run builds the chassis, commits the config, takes leaf1's first uplink
// down and prints what happens to w.
func run(ctx context.Context, w io.Writer) error {
	// An emulated leaf-spine: spine1, spine2, leaf1, leaf2, every leaf
	// cabled to every spine (leaf j port i <-> spine i port j), and one
	// host port per leaf (port 3). Each switch serves P4Runtime, gNMI and
	// gNOI on its own loopback address.
	tb, err := testbed.Start(topology.LeafSpine(2, 2, topology.WithHostPorts(1)))
	if err != nil {
		return err
	}
	defer tb.Close()

	// The orchestrator keeps its state (inventory, journal, versions) in a
	// store: bbolt in a folder here, etcd for several orchestrators.
	dir, err := os.MkdirTemp("", "chassis-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()

	// The drivers say how to reach each kind of box; the emulated driver
	// reaches the testbed's switches. WithReroute watches every port and
	// reroutes ECMP groups around the ones that go down.
	drivers, err := builtin.Registry()
	if err != nil {
		return err
	}
	o, err := orchestrator.New(ctx, st, drivers, orchestrator.WithReroute())
	if err != nil {
		return err
	}
	defer o.Close()

	// Everything that happens to the chassis is an event on its bus.
	// Subscribe first, so that nothing is missed.
	sub, err := o.Events().Subscribe(ctx, events.Filter{})
	if err != nil {
		return err
	}
	defer sub.Cancel()

	// Register the boxes. A box is known by its serial number and gets the
	// lowest free module ID: in this order, spines get 1 and 2, leaves 3
	// and 4 (the config above counts on it).
	boxes := map[string]inventory.Box{} // by switch name
	for i, sw := range tb.Switches() {
		role := inventory.RoleForwarder
		if strings.HasPrefix(sw.Name(), "spine") {
			role = inventory.RoleFabric
		}
		box, err := o.Register(ctx, inventory.BoxSpec{Name: sw.Name(), Driver: builtin.Emulated,
			Address: sw.Addr(), DeviceID: sw.DeviceID(), Role: role, Insecure: true})
		if err != nil {
			return err
		}
		if box.Module != uint32(i+1) {
			return fmt.Errorf("%s registered as module %d, the config expects %d", sw.Name(), box.Module, i+1)
		}
		boxes[sw.Name()] = box
		fmt.Fprintf(w, "registered %s (serial %s, role %s) as module %d\n", sw.Name(), box.Serial, role, box.Module)
	}

	// Commit the config: it is compiled for every box (a mistake anywhere
	// fails here, naming the box and objective, before anything is sent),
	// then applied to all boxes as one transaction.
	cfg, err := goal.Parse([]byte(chassisConfig))
	if err != nil {
		return err
	}
	res, err := o.Commit(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := printUntil(ctx, w, sub, func(e events.Event) bool { return e.Kind == events.Committed && e.OpID == res.ID }); err != nil {
		return err
	}
	fmt.Fprintf(w, "committed version %d (operation %s)\n", res.Version, res.ID)

	// Pull leaf1's uplink to spine1. The monitor sees both ends of the
	// cable go down (gNMI on-change), and the orchestrator commits a new
	// version whose ECMP group on leaf1 leaves that port out.
	leaf1 := boxes["leaf1"]
	uplink := inventory.FormatInterface(leaf1.Module, 1)
	fmt.Fprintf(w, "taking %s (leaf1 port 1) down\n", uplink)
	if err := tb.SetPortAdmin("leaf1", 1, false); err != nil {
		return err
	}
	// Wait for both ends' port-down and the reroute (in whatever order
	// they come).
	var reroute events.Event
	downs := 0
	_, err = printUntil(ctx, w, sub, func(e events.Event) bool {
		switch {
		case e.Kind == events.PortDown:
			downs++
		case e.Kind == events.Committed && strings.Contains(e.Attrs[events.AttrReason], "port-down "+uplink):
			reroute = e
		}
		return downs == 2 && reroute.Seq != 0
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "rerouted: version %s because %s\n", reroute.Attrs["version"], reroute.Attrs[events.AttrReason])

	// The committed version holds every box's goal: leaf1's group now has
	// one member.
	cur, err := o.Current(ctx)
	if err != nil {
		return err
	}
	for _, ob := range cur.Goals[leaf1.Serial].Objectives {
		if r, ok := objective.Value(ob).(objective.Route); ok && r.Group != nil {
			var members []string
			for _, m := range r.Group.Members {
				members = append(members, fmt.Sprintf("%s via %s", m.NextHop.ID, inventory.FormatInterface(leaf1.Module, m.NextHop.Port)))
			}
			fmt.Fprintf(w, "leaf1 now routes %s over group %q: %s\n", r.Prefix, r.Group.ID, strings.Join(members, ", "))
		}
	}
	return nil
}

// printUntil prints the events of sub until one matches, and returns it.
func printUntil(ctx context.Context, w io.Writer, sub *events.Subscription, match func(events.Event) bool) (events.Event, error) {
	for {
		select {
		case <-ctx.Done():
			return events.Event{}, ctx.Err()
		case e, ok := <-sub.C():
			if !ok {
				return events.Event{}, fmt.Errorf("event subscription ended: %w", context.Cause(ctx))
			}
			fmt.Fprintf(w, "  event %s\n", e)
			if match(e) {
				return e, nil
			}
		}
	}
}
