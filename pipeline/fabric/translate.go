package fabric

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/objective"
)

const (
	fullMAC   = 1<<48 - 1
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
)

// Translate implements pipeline.Pipeliner. The entities come in rank
// order (members, groups, next-id tables, forwarding and ACL entries,
// filtering entries), each at most once. An objective the program cannot
// express is an *objective.UnsupportedError; an invalid objective gives
// its Validate error (Translate validates first); nothing is ever
// returned partially.
func (p *pipeliner) Translate(o objective.Objective) ([]*p4v1.Entity, error) {
	o = objective.Value(o) // *Route → Route, ...
	if o == nil {
		return nil, fmt.Errorf("%s: nil objective", Program)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	t := tx{p: p, o: o}
	var err error
	switch x := o.(type) {
	case objective.L3Interface:
		err = t.l3Interface(&x)
	case objective.NextHop:
		t.out = make([]*p4v1.Entity, 0, 5)
		_, err = t.nextHop(&x)
	case objective.NextHopGroup:
		_, err = t.group(&x)
	case objective.Route:
		err = t.route(&x)
	case objective.Bridging:
		err = t.bridging(&x)
	case objective.ACL:
		err = t.acl(&x)
	case objective.Multicast:
		err = t.multicast(&x)
	case objective.Punt:
		err = t.punt(&x)
	default:
		return nil, objective.Unsupported(o, Program, "unknown objective type %T", o)
	}
	if err != nil {
		var ue *objective.UnsupportedError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("%s %s: %s: %w", o.Kind(), o.Key(), Program, err)
	}
	return t.out, nil
}

// tx is one translation: the objective and the entities so far.
type tx struct {
	p   *pipeliner
	o   objective.Objective
	out []*p4v1.Entity
}

func (t *tx) unsupported(reason string, args ...any) error {
	return objective.Unsupported(t.o, Program, reason, args...)
}

func (t *tx) addEntry(te *p4v1.TableEntry, err error) error {
	if err != nil {
		return err
	}
	t.out = append(t.out, entity.Wrap(te))
	return nil
}

// port checks a data-plane port: it fits fabric.p4's 9-bit ports and is
// not the CPU port (packets to it become packet-ins and skip the egress
// pipeline, so neither VLAN handling nor the objective's intent applies).
func (t *tx) port(what string, port uint32) error {
	switch {
	case port == 0:
		return fmt.Errorf("%s: port is required", what)
	case port >= 1<<9:
		return t.unsupported("%s: port %d does not fit fabric.p4's 9-bit ports", what, port)
	case port == t.p.cpuPort:
		return t.unsupported("%s: port %d is the CPU port: packets to it become packet-ins (use a punt objective or an ACL punt)", what, port)
	}
	return nil
}

// vlan checks a VLAN of an objective (0: untagged).
func (t *tx) vlan(what string, vlan uint16) error {
	switch {
	case vlan == InternalVLAN:
		return t.unsupported("%s: VLAN %d is fabric.p4's internal VLAN for untagged traffic", what, vlan)
	case vlan > InternalVLAN:
		return fmt.Errorf("%s: VLAN %d out of range 0..4094", what, vlan)
	}
	return nil
}

// egress returns the VLAN traffic leaves a port in, as fabric.p4 sees it
// (untagged traffic is in the internal VLAN), and whether egress_vlan
// pushes (tagged) or pops (untagged) it.
func egress(vlan uint16) (uint16, string) {
	if vlan == 0 {
		return InternalVLAN, aPopVLAN
	}
	return vlan, aPushVLAN
}

func macUint(m objective.MAC) uint64 {
	var v uint64
	for _, b := range m {
		v = v<<8 | uint64(b)
	}
	return v
}

// ---- next-id chains ----

// target translates a route's, bridging entry's or ACL's target and
// returns its next_id.
func (t *tx) target(tg *objective.Target) (uint32, error) {
	switch {
	case tg.NextHop != nil && tg.Group == nil:
		return t.nextHop(tg.NextHop)
	case tg.Group != nil && tg.NextHop == nil:
		return t.group(tg.Group)
	}
	return 0, errors.New("target: exactly one of next_hop and group is required")
}

// checkNextHop checks what fabric.p4 needs of a next hop.
func (t *tx) checkNextHop(nh *objective.NextHop) error {
	what := "next hop " + nh.ID
	if nh.ID == "" {
		return errors.New("next hop: id is required")
	}
	if err := t.port(what, nh.Port); err != nil {
		return err
	}
	if err := t.vlan(what, nh.VLAN); err != nil {
		return err
	}
	if nh.SrcMAC.IsZero() != nh.DstMAC.IsZero() {
		return t.unsupported("%s: fabric.p4 rewrites both MACs (routing_hashed) or neither (output_hashed), not one", what)
	}
	if (!nh.SrcMAC.IsZero() && len(nh.SrcMAC) != 6) || (!nh.DstMAC.IsZero() && len(nh.DstMAC) != 6) {
		return fmt.Errorf("%s: MACs must be 48 bits", what)
	}
	return nil
}

// member builds the action profile member of a next hop: routing_hashed
// with the MAC rewrite, or output_hashed without one.
func (t *tx) member(id uint32, nh *objective.NextHop) error {
	var (
		m   *p4v1.ActionProfileMember
		err error
	)
	if nh.SrcMAC.IsZero() {
		m, err = t.p.b.Member(pHashedSelector, id, entity.Action(aOutputHashed, entity.ParamUint("port_num", uint64(nh.Port))))
	} else {
		m, err = t.p.b.Member(pHashedSelector, id, entity.Action(aRoutingHashed,
			entity.ParamUint("port_num", uint64(nh.Port)),
			entity.ParamMAC("smac", net.HardwareAddr(nh.SrcMAC)),
			entity.ParamMAC("dmac", net.HardwareAddr(nh.DstMAC))))
	}
	if err != nil {
		return err
	}
	t.out = append(t.out, entity.Wrap(m))
	return nil
}

// chain writes the rest of a next-id chain after its members: the
// selector group, next_vlan (the egress VLAN, when vlan is not 0) and
// the hashed entry.
func (t *tx) chain(id uint32, vlan uint16, members ...entity.GroupMember) error {
	g, err := t.p.b.Group(pHashedSelector, id, 0, members...)
	if err != nil {
		return err
	}
	t.out = append(t.out, entity.Wrap(g))
	if vlan != 0 {
		if err := t.addEntry(t.p.b.TableEntry(tNextVLAN,
			entity.Match(entity.ExactUint("next_id", uint64(id))),
			entity.Action(aSetVLAN, entity.ParamUint("vlan_id", uint64(vlan))))); err != nil {
			return err
		}
	}
	return t.addEntry(t.p.b.TableEntry(tHashed,
		entity.Match(entity.ExactUint("next_id", uint64(id))),
		entity.Group(id)))
}

// egressVLAN writes the egress_vlan entry that lets traffic of an
// objective VLAN (0: untagged) out of a port: push for tagged, pop for
// untagged. fabric.p4 drops what egress_vlan misses.
func (t *tx) egressVLAN(vlan uint16, port uint32) error {
	v, action := egress(vlan)
	return t.addEntry(t.p.b.TableEntry(tEgressVLAN,
		entity.Match(entity.ExactUint("vlan_id", uint64(v)), entity.ExactUint("eg_port", uint64(port))),
		entity.Action(action)))
}

// nextHop writes a next hop's chain: member, a group of that one member,
// next_vlan (the egress VLAN: its VLAN, or the internal VLAN when
// untagged, so that routed traffic from any VLAN leaves right), hashed and
// egress_vlan.
func (t *tx) nextHop(nh *objective.NextHop) (uint32, error) {
	if err := t.checkNextHop(nh); err != nil {
		return 0, err
	}
	id := NextHopNextID(nh.ID)
	if err := t.member(id, nh); err != nil {
		return 0, err
	}
	v, _ := egress(nh.VLAN)
	if err := t.chain(id, v, entity.WeightedMember(id, 1)); err != nil {
		return 0, err
	}
	return id, t.egressVLAN(nh.VLAN, nh.Port)
}

// group writes a next-hop group's chain: every next hop's member, one
// selector group with a member per next hop and its weight (the selector
// takes weights: sum_of_weights semantics, at most max_group_size in
// all), next_vlan, hashed, and each next hop's egress_vlan.
func (t *tx) group(g *objective.NextHopGroup) (uint32, error) {
	if g.ID == "" {
		return 0, errors.New("next-hop group: id is required")
	}
	if len(g.Members) == 0 {
		return 0, fmt.Errorf("next-hop group %s: no members", g.ID)
	}
	gid := GroupNextID(g.ID)
	vlan := g.Members[0].NextHop.VLAN
	type weighted struct {
		id uint32
		w  int32
	}
	ws := make([]weighted, 0, len(g.Members))
	ids := make([]uint32, len(g.Members))
	var total int64
	for i := range g.Members {
		m := &g.Members[i]
		if err := t.checkNextHop(&m.NextHop); err != nil {
			return 0, err
		}
		if m.NextHop.VLAN != vlan {
			return 0, t.unsupported("next-hop group %s: next hops %s and %s differ in VLAN (%d, %d): fabric.p4 sets one egress VLAN per next id (pre_next.next_vlan)",
				g.ID, g.Members[0].NextHop.ID, m.NextHop.ID, vlan, m.NextHop.VLAN)
		}
		w := m.Weight
		if w == 0 {
			w = 1
		}
		if w < 0 || w > math.MaxInt32 {
			return 0, fmt.Errorf("next-hop group %s: next hop %s: weight %d out of range", g.ID, m.NextHop.ID, m.Weight)
		}
		ids[i] = NextHopNextID(m.NextHop.ID)
		for j := range i {
			if ids[j] == ids[i] && g.Members[j].NextHop.ID != m.NextHop.ID {
				return 0, fmt.Errorf("next-hop group %s: next hops %q and %q have the same next id %#x (hash collision: give one a numeric ID)",
					g.ID, g.Members[j].NextHop.ID, m.NextHop.ID, ids[i])
			}
		}
		if t.p.sumOfMembers {
			total++
		} else {
			total += int64(w)
		}
		ws = append(ws, weighted{ids[i], int32(w)})
	}
	if t.p.maxGroupSize > 0 && total > int64(t.p.maxGroupSize) {
		unit := "weights add up to"
		if t.p.sumOfMembers {
			unit = "members number"
		}
		return 0, t.unsupported("next-hop group %s: its %s %d, over the max_group_size %d of %s", g.ID, unit, total, t.p.maxGroupSize, pHashedSelector)
	}
	for i := range g.Members {
		if err := t.member(ids[i], &g.Members[i].NextHop); err != nil {
			return 0, err
		}
	}
	// Members in ID order: the same group whatever the order of the
	// objective, and the order a target reads back.
	slices.SortFunc(ws, func(a, b weighted) int { return cmp.Compare(a.id, b.id) })
	members := make([]entity.GroupMember, len(ws))
	for i, m := range ws {
		members[i] = entity.WeightedMember(m.id, m.w)
	}
	v, _ := egress(vlan)
	if err := t.chain(gid, v, members...); err != nil {
		return 0, err
	}
	type portVLAN struct {
		port uint32
		vlan uint16
	}
	seen := make([]portVLAN, 0, len(g.Members))
	for i := range g.Members {
		nh := &g.Members[i].NextHop
		k := portVLAN{nh.Port, nh.VLAN}
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		if err := t.egressVLAN(nh.VLAN, nh.Port); err != nil {
			return 0, err
		}
	}
	return gid, nil
}

// portNext writes the chain of a next that outputs to a port in a VLAN
// (bridging to a port): member output_hashed, group, hashed, egress_vlan.
// The VLAN is kept from ingress (bridging matched it), so there is no
// next_vlan entry.
func (t *tx) portNext(port uint32, vlan uint16) (uint32, error) {
	id := PortNextID(port, vlan)
	m, err := t.p.b.Member(pHashedSelector, id, entity.Action(aOutputHashed, entity.ParamUint("port_num", uint64(port))))
	if err != nil {
		return 0, err
	}
	t.out = append(t.out, entity.Wrap(m))
	if err := t.chain(id, 0, entity.WeightedMember(id, 1)); err != nil {
		return 0, err
	}
	return id, t.egressVLAN(vlan, port)
}

// ---- objectives ----

// l3Interface: ingress_port_vlan admits the port (untagged: with the
// internal VLAN; tagged: its VLAN), fwd_classifier classifies IPv4 frames
// to the router MAC as FWD_IPV4_UNICAST (and IPv6 ones as
// FWD_IPV6_UNICAST when the build has routing_v6).
func (t *tx) l3Interface(o *objective.L3Interface) error {
	if o.VRF != "" {
		return t.unsupported("fabric.p4 has no VRFs")
	}
	if err := t.port("l3 interface", o.Port); err != nil {
		return err
	}
	if err := t.vlan("l3 interface", o.VLAN); err != nil {
		return err
	}
	if len(o.RouterMAC) != 6 {
		return errors.New("l3 interface: router_mac is required (48 bits)")
	}
	t.out = make([]*p4v1.Entity, 0, 3)
	port := entity.ExactUint("ig_port", uint64(o.Port))
	var err error
	if o.VLAN == 0 {
		err = t.addEntry(t.p.b.TableEntry(tIngressPortVLAN,
			entity.Match(port, entity.ExactUint("vlan_is_valid", 0)),
			entity.Priority(FilteringPriority),
			entity.Action(aPermitInternal, entity.ParamUint("vlan_id", uint64(InternalVLAN)), entity.ParamUint("port_type", PortTypeEdge))))
	} else {
		err = t.addEntry(t.p.b.TableEntry(tIngressPortVLAN,
			entity.Match(port, entity.ExactUint("vlan_is_valid", 1), entity.TernaryUint("vlan_id", uint64(o.VLAN), 0xfff)),
			entity.Priority(FilteringPriority),
			entity.Action(aPermit, entity.ParamUint("port_type", PortTypeEdge))))
	}
	if err != nil {
		return err
	}
	mac := entity.TernaryUint("eth_dst", macUint(o.RouterMAC), fullMAC)
	if err := t.addEntry(t.p.b.TableEntry(tFwdClassifier,
		entity.Match(port, mac, entity.ExactUint("ip_eth_type", etherIPv4)),
		entity.Priority(FilteringPriority),
		entity.Action(aSetForwardingType, entity.ParamUint("fwd_type", FwdIPv4Unicast)))); err != nil {
		return err
	}
	if t.p.ipv6 {
		return t.addEntry(t.p.b.TableEntry(tFwdClassifier,
			entity.Match(port, mac, entity.ExactUint("ip_eth_type", etherIPv6)),
			entity.Priority(FilteringPriority),
			entity.Action(aSetForwardingType, entity.ParamUint("fwd_type", FwdIPv6Unicast))))
	}
	return nil
}

// route: the target's chain, then routing_v4 (or routing_v6) setting its
// next id.
func (t *tx) route(o *objective.Route) error {
	if o.VRF != "" {
		return t.unsupported("fabric.p4 has no VRFs")
	}
	if !o.Prefix.IsValid() {
		return errors.New("route: prefix is required")
	}
	v4 := o.Prefix.Addr().Is4()
	if !v4 && !t.p.ipv6 {
		return t.unsupported("IPv6 route: this build of fabric.p4 has no routing_v6 table (it needs WITH_IPV6)")
	}
	t.out = make([]*p4v1.Entity, 0, 6)
	id, err := t.target(&o.Target)
	if err != nil {
		return err
	}
	if v4 {
		return t.addEntry(t.p.b.TableEntry(tRoutingV4,
			entity.Match(entity.LPMPrefix("ipv4_dst", o.Prefix)),
			entity.Action(aSetNextRoutingV4, entity.ParamUint("next_id", uint64(id)))))
	}
	return t.addEntry(t.p.b.TableEntry(tRoutingV6,
		entity.Match(entity.LPMPrefix("ipv6_dst", o.Prefix)),
		entity.Action(aSetNextRoutingV6, entity.ParamUint("next_id", uint64(id)))))
}

// bridging: the chain of the next hop or of the port next, then bridging
// (VLAN, MAC) setting its next id. Untagged (VLAN 0) is the internal VLAN.
func (t *tx) bridging(o *objective.Bridging) error {
	if err := t.vlan("bridging", o.VLAN); err != nil {
		return err
	}
	if len(o.MAC) != 6 {
		return errors.New("bridging: mac is required (48 bits)")
	}
	var (
		id  uint32
		err error
	)
	switch {
	case o.NextHop != nil && o.Port == 0:
		id, err = t.nextHop(o.NextHop)
	case o.NextHop == nil && o.Port != 0:
		if err := t.port("bridging", o.Port); err != nil {
			return err
		}
		id, err = t.portNext(o.Port, o.VLAN)
	default:
		err = errors.New("bridging: exactly one of port and next_hop")
	}
	if err != nil {
		return err
	}
	v, _ := egress(o.VLAN)
	return t.addEntry(t.p.b.TableEntry(tBridging,
		entity.Match(entity.ExactUint("vlan_id", uint64(v)), entity.TernaryUint("eth_dst", macUint(o.MAC), fullMAC)),
		entity.Priority(BridgingPriority),
		entity.Action(aSetNextBridging, entity.ParamUint("next_id", uint64(id)))))
}

// acl: one acl.acl entry; redirect adds its target's chain first.
func (t *tx) acl(o *objective.ACL) error {
	m := &o.Match
	fields := make([]entity.Field, 0, 9+len(m.Fields))
	used := make([]string, 0, 9+len(m.Fields))
	add := func(name string, v, mask uint64) {
		fields = append(fields, entity.TernaryUint(name, v, mask))
		used = append(used, name)
	}
	if m.InPort != 0 {
		if m.InPort >= 1<<9 {
			return t.unsupported("in_port %d does not fit fabric.p4's 9-bit ports", m.InPort)
		}
		add("ig_port", uint64(m.InPort), 1<<9-1)
	}
	if m.EtherType != 0 {
		add("eth_type", uint64(m.EtherType), 0xffff)
	}
	if len(m.SrcMAC) == 6 {
		add("eth_src", macUint(m.SrcMAC), fullMAC)
	}
	if len(m.DstMAC) == 6 {
		add("eth_dst", macUint(m.DstMAC), fullMAC)
	}
	for _, ip := range []struct {
		name string
		p    netip.Prefix
	}{{"ipv4_src", m.SrcIP}, {"ipv4_dst", m.DstIP}} {
		if !ip.p.IsValid() {
			continue
		}
		if !ip.p.Addr().Is4() {
			return t.unsupported("IPv6 address match: fabric.p4's acl matches IPv4 addresses only")
		}
		a := ip.p.Addr().As4()
		v := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
		add(ip.name, v, (1<<32-1)&^(1<<(32-ip.p.Bits())-1))
	}
	if m.EtherType == etherIPv6 && (m.IPProto != 0 || m.L4Src != 0 || m.L4Dst != 0) {
		return t.unsupported("IPv6 ip_proto/L4 match: fabric.p4's acl looks these up in IPv4 headers only")
	}
	if m.IPProto != 0 {
		add("ip_proto", uint64(m.IPProto), 0xff)
	}
	if m.L4Src != 0 {
		add("l4_sport", uint64(m.L4Src), 0xffff)
	}
	if m.L4Dst != 0 {
		add("l4_dport", uint64(m.L4Dst), 0xffff)
	}
	if len(m.Fields) > 0 {
		names := make([]string, 0, len(m.Fields))
		for name := range m.Fields {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			f, err := t.p.acl.Field(name)
			if err != nil {
				return t.unsupported("acl field %q: %v", name, err)
			}
			if slices.Contains(used, f.Name) {
				return t.unsupported("acl field %q is matched twice (by a named field and by fields)", f.Name)
			}
			tv := m.Fields[name]
			if f.Bitwidth < 64 && (tv.Value>>f.Bitwidth != 0 || tv.Mask>>f.Bitwidth != 0) {
				return t.unsupported("acl field %q: value %#x or mask %#x does not fit bit<%d>", f.Name, tv.Value, tv.Mask, f.Bitwidth)
			}
			add(f.Name, tv.Value, tv.Mask)
		}
	}
	var action entity.Option
	switch o.Action {
	case objective.ACLDrop:
		action = entity.Action(aACLDrop)
	case objective.ACLPunt:
		action = entity.Action(aPuntToCPU)
	case objective.ACLPermit:
		action = entity.Action(aNopACL)
	case objective.ACLRedirect:
		if o.Target == nil {
			return errors.New("acl redirect: no target")
		}
		id, err := t.target(o.Target)
		if err != nil {
			return err
		}
		action = entity.Action(aSetNextACL, entity.ParamUint("next_id", uint64(id)))
	default:
		return fmt.Errorf("acl: unknown action %q", o.Action)
	}
	return t.addEntry(t.p.b.TableEntry(tACL, entity.Match(fields...), entity.Priority(o.Priority), action))
}

// multicast: the PRE multicast group (replicas in port order, instance
// 0), next.multicast mapping MulticastNextID(group) to it, next_vlan
// setting the internal VLAN and an egress_vlan pop per port: replicas
// leave untagged.
func (t *tx) multicast(o *objective.Multicast) error {
	if o.GroupID == 0 {
		return errors.New("multicast: group_id must be > 0")
	}
	if o.GroupID > 0xffff {
		return t.unsupported("group %d does not fit fabric.p4's 16-bit multicast group IDs (set_mcast_group_id)", o.GroupID)
	}
	if len(o.Ports) == 0 {
		return errors.New("multicast: no ports")
	}
	ports := slices.Clone(o.Ports)
	slices.Sort(ports)
	replicas := make([]entity.Replica, len(ports))
	for i, port := range ports {
		if port == 0 || port >= 1<<9 {
			if port == 0 {
				return errors.New("multicast: port 0")
			}
			return t.unsupported("port %d does not fit fabric.p4's 9-bit ports", port)
		}
		if i > 0 && ports[i-1] == port {
			return fmt.Errorf("multicast: port %d repeated", port)
		}
		replicas[i] = entity.NewReplica(port, 0)
	}
	t.out = make([]*p4v1.Entity, 0, 3+len(ports))
	pre, err := t.p.b.MulticastGroup(o.GroupID, replicas...)
	if err != nil {
		return err
	}
	t.out = append(t.out, entity.Wrap(pre))
	id := MulticastNextID(o.GroupID)
	if err := t.addEntry(t.p.b.TableEntry(tNextVLAN,
		entity.Match(entity.ExactUint("next_id", uint64(id))),
		entity.Action(aSetVLAN, entity.ParamUint("vlan_id", uint64(InternalVLAN))))); err != nil {
		return err
	}
	if err := t.addEntry(t.p.b.TableEntry(tMulticast,
		entity.Match(entity.ExactUint("next_id", uint64(id))),
		entity.Action(aSetMcastGroup, entity.ParamUint("group_id", uint64(o.GroupID))))); err != nil {
		return err
	}
	for _, port := range ports {
		if err := t.egressVLAN(0, port); err != nil {
			return err
		}
	}
	return nil
}

// punt: an acl entry matching the ether type (after any VLAN tags) with
// punt_to_cpu, at PuntPriority.
func (t *tx) punt(o *objective.Punt) error {
	et := o.Type()
	if et == 0 || (o.Protocol != "" && o.Protocol.EtherType() == 0) {
		return errors.New("punt: unknown protocol")
	}
	t.out = make([]*p4v1.Entity, 0, 1)
	return t.addEntry(t.p.b.TableEntry(tACL,
		entity.Match(entity.TernaryUint("eth_type", uint64(et), 0xffff)),
		entity.Priority(PuntPriority),
		entity.Action(aPuntToCPU)))
}
