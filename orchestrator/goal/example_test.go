package goal_test

import (
	"fmt"
	"log"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/goal"
)

func Example() {
	cfg, err := goal.Parse([]byte(`
version: 1
interfaces:
  eth-1/0/2: {description: to-spine, mtu: 9000}
roles:
  forwarder:
    pipeconf: fabric-v1model
    objectives:
      - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
modules:
  "1":
    objectives:
      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}
`))
	if err != nil {
		log.Fatal(err)
	}
	ports, err := driver.NewPortMap([]driver.Port{{Name: "eth1", ID: 1}, {Name: "eth2", ID: 2}})
	if err != nil {
		log.Fatal(err)
	}
	goals, err := goal.Compile(cfg, []goal.Box{
		{Name: "leaf1", Module: 1, Role: "forwarder", Ports: ports},
		{Name: "leaf2", Module: 2, Role: "forwarder", Ports: ports},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, box := range []string{"leaf1", "leaf2"} {
		g := goals[box]
		fmt.Println(box, g.Pipeconf, len(g.Objectives), "objectives", len(g.Entities) > 0, g.Config)
	}
	// Output:
	// leaf1 fabric-v1model 2 objectives true [{/interfaces/interface[name=eth2]/config/description to-spine} {/interfaces/interface[name=eth2]/config/mtu 9000}]
	// leaf2 fabric-v1model 1 objectives true []
}
