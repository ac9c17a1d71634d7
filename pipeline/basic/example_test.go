package basic_test

import (
	"errors"
	"fmt"
	"log"
	"net/netip"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// A route on basic.p4 becomes the next hop's selector member and
// wcmp_table entry, and a table0 entry; a route whose next hop rewrites
// MAC addresses is refused, because basic.p4 cannot rewrite them.
func Example() {
	pc, err := builtin.Get("onos-basic")
	if err != nil {
		log.Fatal(err)
	}
	p, err := pc.Pipeliner()
	if err != nil {
		log.Fatal(err)
	}
	route := objective.Route{
		Prefix: netip.MustParsePrefix("10.0.2.0/24"),
		Target: objective.Target{NextHop: &objective.NextHop{ID: "7", Port: 2}},
	}
	es, err := p.Translate(route)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range es {
		fmt.Println(entity.Format(pc.Schema, e))
	}

	route.NextHop.DstMAC = objective.MustMAC("00:bb:00:00:00:02")
	_, err = p.Translate(route)
	fmt.Println(errors.Is(err, objective.ErrUnsupported))
	// Output:
	// action_profile_member ingress.wcmp_control.wcmp_selector member=4122231954 action=ingress.wcmp_control.set_egress_port(port=2)
	// table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=7) member=4122231954
	// table_entry ingress.table0_control.table0 match(hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.dst_addr=10.0.2.0&&&255.255.255.0) priority=1024 action=ingress.table0_control.set_next_hop_id(next_hop_id=7)
	// true
}
