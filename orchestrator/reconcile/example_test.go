package reconcile_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/reconcile"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/testbed"
)

// A box restarts and loses everything; one pass replays it.
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
	dir, err := os.MkdirTemp("", "reconcile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	coord, err := txn.New(st, txn.DeviceMap{"leaf1": dev})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := goal.Parse([]byte(`
version: 1
modules:
  "1":
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
`))
	if err != nil {
		log.Fatal(err)
	}
	goals, err := goal.Compile(cfg, []goal.Box{{Name: "leaf1", Module: 1}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := coord.Commit(ctx, goals); err != nil {
		log.Fatal(err)
	}

	r, err := reconcile.New(coord, txn.DeviceMap{"leaf1": dev}, []string{"leaf1"}, reconcile.WithGate(coord))
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.Restart(); err != nil {
		log.Fatal(err)
	}
	d, err := r.Reconcile(ctx, "leaf1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replayed:", d.Replayed, "entities:", d.Changes.Inserts)
	d, err = r.Reconcile(ctx, "leaf1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("drift:", d.Changes.Total())
	// Output:
	// replayed: true entities: 2
	// drift: 0
}
