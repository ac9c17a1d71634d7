package sai_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/pipeline/sai"
)

// A route on SAI-P4 becomes a router interface, a neighbor, a next hop and
// a route entry, written in rank order.
func Example() {
	s, err := schema.New(p4infos.MustInfo("sai-middleblock"))
	if err != nil {
		log.Fatal(err)
	}
	p, err := sai.New(s, pipeline.DeviceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	route := objective.Route{
		VRF:    "blue",
		Prefix: netip.MustParsePrefix("10.0.2.0/24"),
		Target: objective.Target{NextHop: &objective.NextHop{ID: "leaf2", Port: 1,
			SrcMAC: objective.MustMAC("00:aa:00:00:00:01"), DstMAC: objective.MustMAC("00:bb:00:00:00:02")}},
	}
	es, err := p.Translate(route)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range es {
		fmt.Println(p.Rank(e), entity.Format(s, e))
	}

	_, err = p.Translate(objective.Bridging{MAC: objective.MustMAC("00:bb:00:00:00:02"), Port: 1})
	fmt.Println(err)
	// Output:
	// 0 table_entry ingress.routing_lookup.vrf_table match(vrf_id="blue") action=no_action()
	// 1 table_entry ingress.routing_resolution.router_interface_table match(router_interface_id="1/00:aa:00:00:00:01") action=ingress.routing_resolution.unicast_set_port_and_src_mac(port="1", src_mac=00:aa:00:00:00:01)
	// 2 table_entry ingress.routing_resolution.neighbor_table match(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2) action=ingress.routing_resolution.set_dst_mac(dst_mac=00:bb:00:00:00:02)
	// 4 table_entry ingress.routing_resolution.nexthop_table match(nexthop_id="leaf2") action=ingress.routing_resolution.set_ip_nexthop(router_interface_id="1/00:aa:00:00:00:01", neighbor_id=fe80::2bb:ff:fe00:2)
	// 6 table_entry ingress.routing_lookup.ipv4_table match(vrf_id="blue", ipv4_dst=10.0.2.0/24) action=set_nexthop_id(nexthop_id="leaf2")
	// bridging vlan=0,mac=00:bb:00:00:00:02: program sai-middleblock cannot express it: SAI-P4 middleblock has no L2 forwarding table (no MAC/FDB table): it only routes (l3_admit, ipv4_table, ipv6_table) and redirects by ACL, so frames cannot be switched by VLAN and destination MAC
}
