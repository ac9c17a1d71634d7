package fabric_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// A route to a next hop becomes a next-id chain and a routing_v4 entry.
// The next hop's ID "7" is numeric, so its next_id is 0x20000000 | 7 =
// 536870919 (see NextHopNextID); the number before each entity is its
// rank (write order).
func Example() {
	s, err := schema.New(p4infos.MustInfo("fabric-v1model"))
	if err != nil {
		log.Fatal(err)
	}
	pl, err := fabric.New(s, pipeline.DeviceOptions{CPUPort: 255})
	if err != nil {
		log.Fatal(err)
	}
	route := objective.Route{
		Prefix: netip.MustParsePrefix("10.0.2.0/24"),
		Target: objective.Target{NextHop: &objective.NextHop{ID: "7", Port: 2,
			SrcMAC: objective.MustMAC("00:aa:00:00:00:01"), DstMAC: objective.MustMAC("00:bb:00:00:00:02")}},
	}
	ents, err := pl.Translate(route)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range ents {
		fmt.Println(pl.Rank(e), entity.Format(s, e))
	}
	// Output:
	// 0 action_profile_member FabricIngress.next.hashed_selector member=536870919 action=FabricIngress.next.routing_hashed(port_num=2, smac=00:aa:00:00:00:01, dmac=00:bb:00:00:00:02)
	// 1 action_profile_group FabricIngress.next.hashed_selector group=536870919 members(536870919 weight=1)
	// 2 table_entry FabricIngress.pre_next.next_vlan match(next_id=536870919) action=FabricIngress.pre_next.set_vlan(vlan_id=4094)
	// 2 table_entry FabricIngress.next.hashed match(next_id=536870919) group=536870919
	// 2 table_entry FabricEgress.egress_next.egress_vlan match(vlan_id=4094, eg_port=2) action=FabricEgress.egress_next.pop_vlan()
	// 3 table_entry FabricIngress.forwarding.routing_v4 match(ipv4_dst=10.0.2.0/24) action=FabricIngress.forwarding.set_next_id_routing_v4(next_id=536870919)
}
