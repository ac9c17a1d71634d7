// Package fabric is the pipeliner of ONOS's fabric.p4, v1model build
// (pipeconf "fabric-v1model": -DTARGET_BMV2 -DCPU_PORT=255
// -DWITH_PORT_COUNTER -DWITH_DEBUG; see its PROVENANCE.md). It translates
// forwarding objectives into fabric.p4 entities with the shapes ONOS's
// FabricPipeliner gives them: filtering objectives into ingress_port_vlan
// and fwd_classifier, next objectives into a next-id chain through the
// hashed selector, forwarding objectives into bridging, routing_v4 and
// acl.
//
//	s, _ := schema.New(p4info)                 // fabric.p4's P4Info
//	pl, err := fabric.New(s, pipeline.DeviceOptions{CPUPort: 255})
//	ents, err := pl.Translate(objective.Route{...})
//
// # Support matrix
//
// Every kind of objective is supported (Supports is true for all). Within
// a kind, Translate refuses with an *objective.UnsupportedError:
//
//	l3-interface    a VRF (fabric.p4 has none)
//	route           a VRF; an IPv6 prefix (this build has no routing_v6 — a P4Info with
//	                FabricIngress.forwarding.routing_v6, i.e. a build WITH_IPV6, gets IPv6 routes)
//	next-hop        only one of src_mac and dst_mac (routing_hashed rewrites both, output_hashed neither)
//	next-hop-group  members in different VLANs (next_vlan is per next id); weights adding up
//	                to more than hashed_selector's max_group_size (16)
//	acl             IPv6 addresses; ip_proto or L4 ports with ether type 0x86dd (the acl looks
//	                them up in IPv4 headers only); a Fields name the acl table lacks, or
//	                one also matched by a named field, or a value wider than the field
//	multicast       a group ID above 65535 (set_mcast_group_id takes 16 bits)
//	any             a port above 511 (ports are bit<9>); the CPU port (DeviceOptions.CPUPort,
//	                255 by default) as a next hop, bridging or L3 interface port; VLAN 4094,
//	                fabric.p4's internal VLAN for untagged traffic (InternalVLAN)
//
// # Translation
//
// Entities come in rank order (Rank): action profile members and PRE
// multicast groups (0), selector groups (1), next-id tables (2),
// forwarding and ACL entries (3), filtering entries (4). Each objective
// gives each entity at most once. "vlan" below is the objective's VLAN,
// or InternalVLAN (4094) when the objective is untagged (VLAN 0); N is
// the objective's next id (see Next IDs).
//
//	L3Interface{Port, VLAN, RouterMAC}
//	  filtering.ingress_port_vlan  ig_port=Port, vlan_is_valid=0 → permit_with_internal_vlan(4094, port_type=EDGE)   (untagged)
//	                               ig_port=Port, vlan_is_valid=1, vlan_id=VLAN → permit(port_type=EDGE)            (tagged)
//	  filtering.fwd_classifier     ig_port=Port, eth_dst=RouterMAC, ip_eth_type=0x0800 → set_forwarding_type(FWD_IPV4_UNICAST)
//	                               (and ip_eth_type=0x86dd → FWD_IPV6_UNICAST, only with routing_v6)
//	NextHop{ID, Port, SrcMAC, DstMAC, VLAN}                            N = NextHopNextID(ID)
//	  hashed_selector member N     routing_hashed(Port, SrcMAC, DstMAC), or output_hashed(Port) without MACs
//	  hashed_selector group N      member N, weight 1
//	  pre_next.next_vlan           next_id=N → set_vlan(vlan)
//	  next.hashed                  next_id=N → group N
//	  egress_next.egress_vlan      vlan_id=vlan, eg_port=Port → push_vlan (tagged) or pop_vlan (untagged)
//	NextHopGroup{ID, Members}                                          N = GroupNextID(ID)
//	  each next hop's member, one group N with a member per next hop (its weight; members in ID order),
//	  next_vlan N → set_vlan(the members' common vlan), hashed N → group N, each next hop's egress_vlan
//	Route{Prefix, Target}
//	  the target's next hop or group entities, then
//	  forwarding.routing_v4        ipv4_dst=Prefix (LPM; /0 is the match-all entry) → set_next_id_routing_v4(N)
//	Bridging{VLAN, MAC, Port | NextHop}                                N = PortNextID(Port, VLAN) or the next hop's
//	  to a port: member N output_hashed(Port), group N, hashed N, egress_vlan (vlan, Port); no next_vlan (the
//	  VLAN is kept from ingress). To a next hop: its entities.
//	  forwarding.bridging          vlan_id=vlan, eth_dst=MAC (ternary, full mask), priority 10 → set_next_id_bridging(N)
//	ACL{Priority, Match, Action, Target}
//	  acl.acl                      ternary ig_port, eth_type, eth_src, eth_dst, ipv4_src, ipv4_dst (prefix
//	                               masks), ip_proto, l4_sport, l4_dport, and Match.Fields by P4 name
//	                               (vlan_id, icmp_type, icmp_code, port_type, ...), priority Priority →
//	                               drop | punt_to_cpu (punt) | nop_acl (permit) | set_next_id_acl(N) (redirect,
//	                               after the target's entities)
//	Multicast{GroupID, Ports}                                          N = MulticastNextID(GroupID)
//	  PRE multicast group GroupID  a replica per port (instance 0, ports in order)
//	  pre_next.next_vlan           next_id=N → set_vlan(4094)
//	  next.multicast               next_id=N → set_mcast_group_id(GroupID)
//	  egress_next.egress_vlan      vlan_id=4094, eg_port=p → pop_vlan, per port: replicas leave untagged
//	Punt{Protocol | EtherType}
//	  acl.acl                      eth_type=type&&&0xffff, priority PuntPriority (40000) → punt_to_cpu
//
// fabric.p4 drops at egress what egress_vlan misses, which is why every
// chain ends in an egress_vlan entry; and untagged next hops set the
// internal VLAN in next_vlan so that routed traffic from any VLAN meets
// their pop_vlan entry. Bridged traffic must be admitted at ingress, which
// only an L3Interface on the ingress port (and VLAN) does in this model.
// Nothing in the objective model sets a multicast next id yet: the
// Multicast objective makes the group ready for it.
//
// Entities shared by several objectives (a next hop's member, group,
// next_vlan, hashed and egress_vlan entries used by two routes, an
// egress_vlan entry used by every untagged next hop on a port) come out
// byte for byte identical from each objective, so that a State keyed by
// entity.Key installs them once. Two different next hops under one ID
// give different entities under one key: the State's conflict.
//
// # Next IDs
//
// The pipeliner keeps no state, so next IDs are a function of what they
// stand for (NextHopNextID, GroupNextID, PortNextID, MulticastNextID).
// The top three bits name a class, so classes never collide; next hops
// and groups with canonical decimal IDs ("1", "42"; below 2^29) keep
// their number, others get a 29-bit hash (64-bit FNV-1a, folded). The
// same value serves as the next hop's action profile member ID and as the
// group ID of its selector group.
//
//	class  bits 31..29  lower 29 bits
//	1      001          next hop with a numeric ID: the number
//	2      010          other next hop: hash of its ID
//	3      011          next-hop group with a numeric ID: the number
//	4      100          other next-hop group: hash of its ID
//	5      101          port next (bridging to a port): vlan<<9 | port
//	6      110          multicast group: its 16-bit ID
//
// Numeric IDs never collide. n hashed IDs of one class collide with a
// probability of about n²/2^30 (1e-3 for 1,024 next hops, the size of the
// hashed table); a collision between members of one group is reported
// by Translate, any other shows as the State's key conflict. Deployments
// that must rule collisions out use numeric IDs.
//
// # Differences from ONOS
//
// ONOS also writes fwd_classifier entries for MPLS (eth_type 0x8847) and
// for IPv6 whatever the build; the objective model has no MPLS, and
// without routing_v6 an IPv6 classifier entry would send IPv6 frames to
// a forwarding type no table serves instead of bridging them, so both are
// left out. ONOS takes the egress VLAN of an untagged next hop from its
// metadata; here it is always InternalVLAN. ONOS numbers next objectives
// itself; here next IDs derive from the objectives (see Next IDs).
//
// # CPU port
//
// fabric.p4 compiles its CPU port in (punt_to_cpu takes no port), so
// DeviceOptions.CPUPort only tells the pipeliner which port not to treat
// as a data-plane port: packets sent to it become packet-ins and skip the
// egress pipeline.
package fabric
