package objective_test

import (
	"fmt"
	"log"

	"github.com/p4fabric/fabric/pipeline/objective"
)

func ExampleParseList() {
	l, err := objective.ParseList([]byte(`
- route:
    prefix: 10.0.2.0/24
    next_hop: {id: leaf2, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:02"}
- punt: {protocol: lldp}
`))
	if err != nil {
		log.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		log.Fatal(err)
	}
	for _, o := range l {
		fmt.Println(o.Kind(), o.Key())
	}
	y, err := l.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(y))
	// Output:
	// route vrf=,prefix=10.0.2.0/24
	// punt ether_type=0x88cc
	// - route:
	//     next_hop:
	//       dst_mac: 00:bb:00:00:00:02
	//       id: leaf2
	//       port: 1
	//       src_mac: 00:aa:00:00:00:01
	//     prefix: 10.0.2.0/24
	// - punt:
	//     protocol: lldp
}
