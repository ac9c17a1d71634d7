package txn_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed"
)

// Commit a chassis config to one emulated box, then commit it again: the
// second commit changes nothing on the box.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		log.Fatal(err)
	}
	defer sw.Stop()
	dev, err := emulated.New().Open(ctx, driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	dir, err := os.MkdirTemp("", "txn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	cfg, err := goal.Parse([]byte(`
version: 1
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
`))
	if err != nil {
		log.Fatal(err)
	}
	ports, err := dev.Ports(ctx)
	if err != nil {
		log.Fatal(err)
	}
	goals, err := goal.Compile(cfg, []goal.Box{{Name: "leaf1", Module: 1, Role: "forwarder", Ports: ports}})
	if err != nil {
		log.Fatal(err)
	}
	c, err := txn.New(st, txn.DeviceMap{"leaf1": dev})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Recover(ctx); err != nil { // resolve what a crash left
		log.Fatal(err)
	}
	for range 2 {
		res, err := c.Commit(ctx, goals)
		if err != nil {
			log.Fatal(err)
		}
		ch := res.Changes["leaf1"]
		fmt.Println("version", res.Version, "pipeline set:", ch.Pipeline, "inserts:", ch.Inserts)
	}
	// Output:
	// version 1 pipeline set: true inserts: 8
	// version 2 pipeline set: false inserts: 0
}
