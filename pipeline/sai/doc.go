// Package sai is the pipeliner of the SAI-P4 middleblock program
// ("sai-middleblock"): the P4 model of fixed-function merchant silicon that
// SONiC PINS programs over P4Runtime. It turns forwarding objectives into
// the table entries SAI creates its objects from — VRFs, router interfaces,
// neighbors, next hops, WCMP groups, routes, L3 admission and ACLs — in
// the shapes sonic-pins' own tools write them.
//
//	p, err := sai.New(s, pipeline.DeviceOptions{}) // s: the middleblock P4Info's schema
//	es, err := p.Translate(objective.Route{Prefix: netip.MustParsePrefix("10.0.2.0/24"),
//		Target: objective.Target{NextHop: &objective.NextHop{ID: "leaf2", Port: 1,
//			SrcMAC: objective.MustMAC("00:aa:00:00:00:01"), DstMAC: objective.MustMAC("00:bb:00:00:00:02")}}})
//	// es: router interface, neighbor, next hop, route — in that order
//
// # What each objective becomes
//
// Entities come out in dependency order (lower Rank first). Tables are
// named by their P4Info aliases.
//
//	objective      entities
//	-------------  ------------------------------------------------------------------
//	L3Interface    l3_admit_table {dst_mac: router MAC (ternary, full mask), in_port}
//	                 → admit_to_l3, priority L3AdmitPriority;
//	               with a VRF also vrf_table {vrf_id} → no_action and
//	                 acl_pre_ingress_table {in_port} → set_vrf(vrf_id), priority PreIngressPriority.
//	               VLAN ≠ 0: unsupported (l3_admit_table matches no VLAN; sub-port
//	                 router interfaces are @unsupported in middleblock).
//	NextHop        router_interface_table {router_interface_id} → unicast_set_port_and_src_mac(port, src_mac)
//	                 (set_port_and_src_mac where the program lacks it),
//	               neighbor_table {router_interface_id, neighbor_id} → set_dst_mac(dst_mac),
//	               nexthop_table {nexthop_id: the next hop's ID} → set_ip_nexthop(router_interface_id, neighbor_id).
//	               Needs src_mac (≠ 0) and dst_mac. VLAN ≠ 0 needs
//	                 unicast_set_port_and_src_mac_and_vlan_id, which middleblock marks @unsupported.
//	NextHopGroup   the entries of each member next hop (each router interface and neighbor once), then
//	               wcmp_group_table {wcmp_group_id} → one-shot action set of set_nexthop_id(nexthop_id)
//	                 with the member's weight (0 counts as 1) and watch_port = its egress port.
//	               The sum of weights is bounded by the selector's max_group_size (512).
//	Route          vrf_table {vrf_id} → no_action for a named VRF (never for the default VRF ""),
//	               the next hop's or group's entries, then
//	               ipv4_table or ipv6_table {vrf_id, ipv4_dst/ipv6_dst: prefix}
//	                 → set_nexthop_id(nexthop_id) or set_wcmp_group_id(wcmp_group_id).
//	ACL            acl_ingress_table, priority = the ACL's:
//	                 ether_type 0x0800 → is_ipv4 = 1, 0x86dd → is_ipv6 = 1, others → ether_type;
//	                 src_ip/dst_ip → src_ip/dst_ip (IPv4) or src_ipv6/dst_ipv6 (upper 64 bits of IPv6);
//	                 dst_mac, ip_proto → ip_protocol, l4_src/l4_dst → l4_src_port/l4_dst_port;
//	                 Fields → any ternary or optional field of the table by name (arp_tpa, ttl, dscp, ...);
//	               drop → acl_drop, punt → acl_trap(qos_queue), permit → acl_forward,
//	               redirect to a next hop → its entries, then redirect_to_nexthop(nexthop_id).
//	               Unsupported: in_port and src_mac (middleblock's acl_ingress_table has neither),
//	                 IPv6 prefixes longer than /64, IP fields without an IP ether type, L4 ports
//	                 without ip_proto 6 or 17, redirect to a group.
//	Punt           acl_ingress_table {ether_type (is_ipv4/is_ipv6 for IP)} → acl_trap(qos_queue),
//	                 priority Config.PuntPriority.
//	Multicast      multicast_router_interface_table {multicast_replica_port, multicast_replica_instance: 0}
//	                 → l2_multicast_passthrough for each port, then the packet replication engine's
//	                 multicast group with one replica (port, instance 0) per port. Group IDs are bit<16>.
//	Bridging       unsupported: middleblock has no L2 forwarding (MAC/FDB) table.
//
// # IDs
//
// SAI-P4 names its objects with strings (@p4runtime_translation(..., string)
// on port_id_t, vrf_id_t, nexthop_id_t, router_interface_id_t,
// wcmp_group_id_t, cpu_queue_t). The pipeliner derives them from the
// objective alone, so that a next hop shared by two routes gives identical
// entities from both, written once and removed with its last user:
// ports are decimal ("1"), router interfaces "<port>/<src MAC>"
// (RouterInterfaceID), neighbors the IPv6 link-local address of the
// destination MAC (NeighborID), next hops, groups and VRFs their own IDs.
//
// The default VRF is vrf_id "" (the P4Info maps "" to VRF 0 with
// @p4runtime_translation_mappings): routes in it match vrf_id "" and no
// vrf_table entry is written for it, since it always exists.
//
// # Ranks
//
// Rank layers the tables by the @refers_to and @referenced_by annotations
// of the P4Info, keeping the order SAI creates objects in: vrf_table (0) <
// router_interface_table (1) < neighbor_table (2) < nexthop_table (4, above
// tunnel_table) < wcmp_group_table (5) < ipv4_table, ipv6_table (6);
// l3_admit_table 0, acl_pre_ingress_table 1, acl_ingress_table 5,
// multicast_router_interface_table 0 and multicast groups 1. References
// lists the relations; the emulated switch does not enforce them, a PINS
// switch does.
package sai
