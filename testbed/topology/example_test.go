package topology_test

import (
	"fmt"

	"github.com/p4fabric/fabric/testbed/topology"
)

func ExampleParse() {
	topo, err := topology.Parse([]byte(`
switches:
  - name: spine1
    ports: 2
  - name: leaf1
    ports: 3
    clock: {offset: 150ms, drift_ppm: 20}
links:
  - leaf1:1 <-> spine1:1
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range topo.Switches {
		fmt.Printf("%s: device %d, %d ports, listens on %s, serial %s\n", s.Name, s.DeviceID, s.Ports, s.Address, s.Identity.Serial)
	}
	peer, _ := topo.Peer("spine1", 1)
	fmt.Println("spine1:1 is cabled to", peer)
	// Output:
	// spine1: device 1, 2 ports, listens on 127.0.0.1:0, serial spine1
	// leaf1: device 2, 3 ports, listens on 127.0.0.1:0, serial leaf1
	// spine1:1 is cabled to leaf1:1
}

func ExampleParse_invalid() {
	_, err := topology.Parse([]byte(`
switches:
  - {name: spine1, ports: 2}
  - {name: leaf1, ports: 2}
links:
  - leaf1:1 <-> spine1:3
  - leaf1:1 <-> spine2:1
`))
	fmt.Println(err)
	// Output:
	// topology: 3 problems: links[0] "leaf1:1 <-> spine1:3": port 3 out of range 1..2 of switch "spine1"; links[1] "leaf1:1 <-> spine2:1": port leaf1:1 already used by links[0] "leaf1:1 <-> spine1:3"; links[1] "leaf1:1 <-> spine2:1": switch "spine2" does not exist
}

func ExampleLeafSpine() {
	topo := topology.LeafSpine(2, 3, topology.WithHostPorts(4))
	for _, s := range topo.Switches {
		fmt.Printf("%d %s ports=%d\n", s.DeviceID, s.Name, s.Ports)
	}
	for _, l := range topo.Links {
		fmt.Println(l)
	}
	// Output:
	// 1 spine1 ports=3
	// 2 spine2 ports=3
	// 3 leaf1 ports=6
	// 4 leaf2 ports=6
	// 5 leaf3 ports=6
	// leaf1:1 <-> spine1:1
	// leaf1:2 <-> spine2:1
	// leaf2:1 <-> spine1:2
	// leaf2:2 <-> spine2:2
	// leaf3:1 <-> spine1:3
	// leaf3:2 <-> spine2:3
}

func ExampleTopology_Peer() {
	topo := topology.LeafSpine(2, 2)
	for _, port := range []uint32{1, 2, 3} {
		if peer, ok := topo.Peer("leaf2", port); ok {
			fmt.Printf("leaf2:%d -> %s\n", port, peer)
		} else {
			fmt.Printf("leaf2:%d -> not linked\n", port)
		}
	}
	// Output:
	// leaf2:1 -> spine1:2
	// leaf2:2 -> spine2:2
	// leaf2:3 -> not linked
}
