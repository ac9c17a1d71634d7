package orchestrator_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Two emulated leaves become modules 1 and 2 of one chassis; one config
// is committed to both as a transaction.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		log.Fatal(err)
	}
	defer tb.Close()
	dir, err := os.MkdirTemp("", "orchestrator-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}

	o, err := orchestrator.New(ctx, st, drivers)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	for _, name := range []string{"leaf1", "leaf2"} {
		sw := tb.Switch(name)
		box, err := o.Register(ctx, inventory.BoxSpec{Name: name, Driver: builtin.Emulated, Address: sw.Addr(),
			Role: inventory.RoleForwarder, DeviceID: sw.DeviceID(), Insecure: true})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, "is module", box.Module)
	}
	sub, err := o.Events().Subscribe(ctx, events.Filter{Kinds: []events.Kind{events.Committed}})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Cancel()

	cfg, err := goal.Parse([]byte(`
version: 1
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
interfaces:
  eth-2/0/1: {description: uplink}
modules:
  "1":
    objectives:
      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
`))
	if err != nil {
		log.Fatal(err)
	}
	res, err := o.Commit(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed version", res.Version)
	e := <-sub.C()
	fmt.Println("event:", e.Kind, e.OpID == res.ID)
	// Output:
	// leaf1 is module 1
	// leaf2 is module 2
	// committed version 1
	// event: committed true
}

// A config is validated before anything starts (a daemon answers a bad
// one at once), and what was validated is committed: it is compiled once.
func ExampleOrchestrator_Prepare() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1))
	if err != nil {
		log.Fatal(err)
	}
	defer tb.Close()
	dir, err := os.MkdirTemp("", "orchestrator-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	o, err := orchestrator.New(ctx, st, drivers)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	sw := tb.Switch("leaf1")
	if _, err := o.Register(ctx, inventory.BoxSpec{Name: "leaf1", Driver: builtin.Emulated, Address: sw.Addr(),
		Role: inventory.RoleForwarder, DeviceID: sw.DeviceID(), Insecure: true}); err != nil {
		log.Fatal(err)
	}

	_, err = o.PrepareYAML(ctx, []byte("version: 1\ninterfaces:\n  eth-7/0/1: {description: nowhere}\n"))
	fmt.Println("no module 7:", errors.Is(err, goal.ErrInvalid))
	p, err := o.PrepareYAML(ctx, []byte(`
version: 1
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("boxes with a goal:", len(p.Goals()))
	res, err := p.Commit(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed version", res.Version)
	// Output:
	// no module 7: true
	// boxes with a goal: 1
	// committed version 1
}
