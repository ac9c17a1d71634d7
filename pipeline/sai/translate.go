package sai

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Translate implements pipeline.Pipeliner. See the package documentation
// for what each objective becomes. Objectives may be given as values or
// pointers. An invalid objective is its Validate error; one the program
// cannot express is an *objective.UnsupportedError; nothing is ever
// dropped silently.
func (p *Pipeliner) Translate(o objective.Objective) ([]*p4v1.Entity, error) {
	switch x := o.(type) {
	case objective.Route:
		return p.route(o, &x)
	case *objective.Route:
		if x != nil {
			return p.route(o, x)
		}
	case objective.NextHop:
		return p.nextHop(o, &x)
	case *objective.NextHop:
		if x != nil {
			return p.nextHop(o, x)
		}
	case objective.NextHopGroup:
		return p.group(o, &x)
	case *objective.NextHopGroup:
		if x != nil {
			return p.group(o, x)
		}
	case objective.L3Interface:
		return p.l3Interface(o, &x)
	case *objective.L3Interface:
		if x != nil {
			return p.l3Interface(o, x)
		}
	case objective.ACL:
		return p.aclObjective(o, &x)
	case *objective.ACL:
		if x != nil {
			return p.aclObjective(o, x)
		}
	case objective.Punt:
		return p.punt(o, &x)
	case *objective.Punt:
		if x != nil {
			return p.punt(o, x)
		}
	case objective.Multicast:
		return p.multicast(o, &x)
	case *objective.Multicast:
		if x != nil {
			return p.multicast(o, x)
		}
	case objective.Bridging:
		return nil, p.bridging(o, &x)
	case *objective.Bridging:
		if x != nil {
			return nil, p.bridging(o, x)
		}
	case nil:
		return nil, errors.New("pipeline/sai: nil objective")
	default:
		return nil, fmt.Errorf("pipeline/sai: unknown objective type %T", o)
	}
	return nil, fmt.Errorf("pipeline/sai: nil %T", o)
}

// unsupported names the objective and the program.
func (p *Pipeliner) unsupported(o objective.Objective, reason string, args ...any) error {
	return objective.Unsupported(o, ProgramID, reason, args...)
}

// buildErr wraps an error of the entity builder, which means the
// objective holds a value the program's field cannot take.
func buildErr(o objective.Objective, err error) error {
	return fmt.Errorf("pipeline/sai: %s %s: %w", o.Kind(), o.Key(), err)
}

func wrap(te *p4v1.TableEntry) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}
}

// entityBlock holds an Entity with its oneof wrapper, so that wrapping a
// table entry costs one allocation, or none from a slab.
type entityBlock struct {
	e p4v1.Entity
	w p4v1.Entity_TableEntry
}

// slab hands out entity blocks from one allocation.
type slab []entityBlock

func newSlab(n int) slab { return make(slab, 0, n) }

// wrap wraps a table entry into an Entity from the slab (from the heap
// once the slab is used up).
func (s *slab) wrap(te *p4v1.TableEntry) *p4v1.Entity {
	if len(*s) == cap(*s) {
		return wrap(te)
	}
	*s = (*s)[:len(*s)+1]
	b := &(*s)[len(*s)-1]
	b.w.TableEntry = te
	b.e.Entity = &b.w
	return &b.e
}

// ---- next hops --------------------------------------------------------

// hopIDs are the derived IDs of one next hop, kept in one buffer.
type hopIDs struct {
	buf  [96]byte
	rif  []byte // router_interface_id
	port []byte // port_id_t of the egress port
	nh   []byte // nexthop_id
	nbr  [16]byte
}

// checkHop says why the program cannot express a next hop, or "".
func (p *Pipeliner) checkHop(nh *objective.NextHop) string {
	switch {
	case len(nh.SrcMAC) == 0:
		return fmt.Sprintf("next hop %q has no src_mac: a SAI-P4 router interface (router_interface_table) rewrites the source MAC and needs one", nh.ID)
	case macUint(nh.SrcMAC) == 0:
		return fmt.Sprintf("next hop %q: src_mac 00:00:00:00:00:00 is not a valid router interface MAC (action restriction src_mac != 0)", nh.ID)
	case len(nh.DstMAC) == 0:
		return fmt.Sprintf("next hop %q has no dst_mac: a SAI-P4 next hop resolves through a neighbor_table entry, which sets the destination MAC", nh.ID)
	case nh.VLAN != 0 && p.rifVLANAction == "":
		return fmt.Sprintf("next hop %q has VLAN %d: the router interface action with a VLAN (unicast_set_port_and_src_mac_and_vlan_id) is @unsupported in middleblock", nh.ID, nh.VLAN)
	}
	return ""
}

func (ids *hopIDs) derive(nh *objective.NextHop) {
	b := ids.buf[:0]
	b = appendRIFID(b, nh.Port, nh.SrcMAC, nh.VLAN)
	ids.rif = b[:len(b):len(b)]
	start := len(b)
	b = strconv.AppendUint(b, uint64(nh.Port), 10)
	ids.port = b[start:len(b):len(b)]
	start = len(b)
	b = append(b, nh.ID...)
	ids.nh = b[start:len(b):len(b)]
	ids.nbr = linkLocal(nh.DstMAC)
}

// rifEntry builds the router interface of a next hop.
func (p *Pipeliner) rifEntry(nh *objective.NextHop, ids *hopIDs) (*p4v1.TableEntry, error) {
	if nh.VLAN != 0 {
		return p.b.TableEntry(p.rif,
			entity.Match(entity.ExactBytes(fRIF, ids.rif)),
			entity.Action(p.rifVLANAction, entity.ParamBytes(fPort, ids.port),
				entity.ParamMAC(fSrcMAC, net.HardwareAddr(nh.SrcMAC)), entity.ParamUint(fVLAN, uint64(nh.VLAN))))
	}
	return p.b.TableEntry(p.rif,
		entity.Match(entity.ExactBytes(fRIF, ids.rif)),
		entity.Action(p.rifAction, entity.ParamBytes(fPort, ids.port), entity.ParamMAC(fSrcMAC, net.HardwareAddr(nh.SrcMAC))))
}

func (p *Pipeliner) neighborEntry(nh *objective.NextHop, ids *hopIDs) (*p4v1.TableEntry, error) {
	return p.b.TableEntry(p.neighbor,
		entity.Match(entity.ExactBytes(fRIF, ids.rif), entity.ExactBytes(fNeighbor, ids.nbr[:])),
		entity.Action(aSetDstMAC, entity.ParamMAC(fDstMAC, net.HardwareAddr(nh.DstMAC))))
}

func (p *Pipeliner) nexthopEntry(ids *hopIDs) (*p4v1.TableEntry, error) {
	return p.b.TableEntry(p.nexthop,
		entity.Match(entity.ExactBytes(fNexthop, ids.nh)),
		entity.Action(aSetIPNH, entity.ParamBytes(fRIF, ids.rif), entity.ParamBytes(fNeighbor, ids.nbr[:])))
}

// appendHop appends the router interface, neighbor and next hop entries
// of one next hop.
func (p *Pipeliner) appendHop(out []*p4v1.Entity, sl *slab, o objective.Objective, nh *objective.NextHop) ([]*p4v1.Entity, error) {
	if why := p.checkHop(nh); why != "" {
		return nil, p.unsupported(o, "%s", why)
	}
	var ids hopIDs
	ids.derive(nh)
	rif, err := p.rifEntry(nh, &ids)
	if err != nil {
		return nil, buildErr(o, err)
	}
	nbr, err := p.neighborEntry(nh, &ids)
	if err != nil {
		return nil, buildErr(o, err)
	}
	hop, err := p.nexthopEntry(&ids)
	if err != nil {
		return nil, buildErr(o, err)
	}
	return append(out, sl.wrap(rif), sl.wrap(nbr), sl.wrap(hop)), nil
}

// appendHops appends the entries of several next hops: router interfaces,
// then neighbors, then next hops, each once.
func (p *Pipeliner) appendHops(out []*p4v1.Entity, sl *slab, o objective.Objective, members []objective.Weighted) ([]*p4v1.Entity, error) {
	for i := range members {
		if why := p.checkHop(&members[i].NextHop); why != "" {
			return nil, p.unsupported(o, "%s", why)
		}
	}
	var rifs, nbrs, hops []*p4v1.Entity
	seenRIF := make(map[string]bool, len(members))
	seenNbr := make(map[string]bool, len(members))
	for i := range members {
		nh := &members[i].NextHop
		var ids hopIDs
		ids.derive(nh)
		if !seenRIF[string(ids.rif)] {
			seenRIF[string(ids.rif)] = true
			te, err := p.rifEntry(nh, &ids)
			if err != nil {
				return nil, buildErr(o, err)
			}
			rifs = append(rifs, sl.wrap(te))
		}
		if k := string(ids.rif) + "\x00" + string(ids.nbr[:]); !seenNbr[k] {
			seenNbr[k] = true
			te, err := p.neighborEntry(nh, &ids)
			if err != nil {
				return nil, buildErr(o, err)
			}
			nbrs = append(nbrs, sl.wrap(te))
		}
		te, err := p.nexthopEntry(&ids)
		if err != nil {
			return nil, buildErr(o, err)
		}
		hops = append(hops, sl.wrap(te))
	}
	out = append(out, rifs...)
	out = append(out, nbrs...)
	return append(out, hops...), nil
}

func (p *Pipeliner) nextHop(o objective.Objective, nh *objective.NextHop) ([]*p4v1.Entity, error) {
	if err := nh.Validate(); err != nil {
		return nil, err
	}
	sl := newSlab(3)
	return p.appendHop(make([]*p4v1.Entity, 0, 3), &sl, o, nh)
}

// ---- WCMP groups ------------------------------------------------------

// groupEntry builds the one-shot wcmp_group_table entry of a group, after
// checking its weights against the selector.
func (p *Pipeliner) groupEntry(sl *slab, o objective.Objective, g *objective.NextHopGroup) (*p4v1.Entity, error) {
	var total int64
	set := make([]entity.WeightedAction, len(g.Members))
	for i := range g.Members {
		m := &g.Members[i]
		w := int64(m.Weight)
		if w == 0 {
			w = 1
		}
		if w > math.MaxInt32 {
			return nil, p.unsupported(o, "group %q: weight %d of next hop %q does not fit a P4Runtime weight (int32)", g.ID, w, m.NextHop.ID)
		}
		total += w
		set[i] = entity.Weighted(int32(w), portID(m.NextHop.Port),
			entity.Action(aSetNH, entity.ParamBytes(fNexthop, []byte(m.NextHop.ID))))
	}
	if p.maxGroup > 0 && total > p.maxGroup {
		return nil, p.unsupported(o, "group %q: the sum of weights %d exceeds the WCMP selector's max_group_size %d", g.ID, total, p.maxGroup)
	}
	te, err := p.b.TableEntry(p.wcmp,
		entity.Match(entity.MatchText(fWCMP, g.ID)),
		entity.ActionSet(set...))
	if err != nil {
		return nil, buildErr(o, err)
	}
	return sl.wrap(te), nil
}

// appendGroup appends the entries of a group: its next hops, then its
// wcmp_group_table entry.
func (p *Pipeliner) appendGroup(out []*p4v1.Entity, sl *slab, o objective.Objective, g *objective.NextHopGroup) ([]*p4v1.Entity, error) {
	out, err := p.appendHops(out, sl, o, g.Members)
	if err != nil {
		return nil, err
	}
	e, err := p.groupEntry(sl, o, g)
	if err != nil {
		return nil, err
	}
	return append(out, e), nil
}

func (p *Pipeliner) group(o objective.Objective, g *objective.NextHopGroup) ([]*p4v1.Entity, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	n := 3*len(g.Members) + 1
	sl := newSlab(n)
	return p.appendGroup(make([]*p4v1.Entity, 0, n), &sl, o, g)
}

// ---- routes -----------------------------------------------------------

func (p *Pipeliner) vrfEntry(sl *slab, o objective.Objective, vrf string) (*p4v1.Entity, error) {
	te, err := p.b.TableEntry(p.vrf, entity.Match(entity.MatchText(fVRF, vrf)), entity.Action(aNoAction))
	if err != nil {
		return nil, buildErr(o, err)
	}
	return sl.wrap(te), nil
}

func (p *Pipeliner) route(o objective.Objective, r *objective.Route) ([]*p4v1.Entity, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	prefix := r.Prefix.Masked()
	table, dst := p.ipv6, fIPv6Dst
	if prefix.Addr().Is4() {
		table, dst = p.ipv4, fIPv4Dst
	}
	n := 4
	if r.Group != nil {
		n = 3*len(r.Group.Members) + 2
	}
	out := make([]*p4v1.Entity, 0, n+1)
	sl := newSlab(n + 1)
	var err error
	if r.VRF != "" {
		e, err := p.vrfEntry(&sl, o, r.VRF)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	var action entity.Option
	var idBuf [64]byte
	if r.NextHop != nil {
		if out, err = p.appendHop(out, &sl, o, r.NextHop); err != nil {
			return nil, err
		}
		action = entity.Action(aSetNH, entity.ParamBytes(fNexthop, append(idBuf[:0], r.NextHop.ID...)))
	} else {
		if out, err = p.appendGroup(out, &sl, o, r.Group); err != nil {
			return nil, err
		}
		action = entity.Action(aSetWCMP, entity.ParamBytes(fWCMP, append(idBuf[:0], r.Group.ID...)))
	}
	// The default VRF is vrf_id "" (SAI-P4 maps it to VRF 0 with
	// @p4runtime_translation_mappings({{"", 0}}) on vrf_id_t).
	var vrfBuf [32]byte
	vrf := append(vrfBuf[:0], r.VRF...)
	te, err := p.b.TableEntry(table,
		entity.Match(entity.ExactBytes(fVRF, vrf), entity.LPMPrefix(dst, prefix)),
		action)
	if err != nil {
		return nil, buildErr(o, err)
	}
	return append(out, sl.wrap(te)), nil
}

// ---- L3 interfaces ----------------------------------------------------

func (p *Pipeliner) l3Interface(o objective.Objective, l *objective.L3Interface) ([]*p4v1.Entity, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	switch {
	case l.VLAN != 0:
		return nil, p.unsupported(o, "VLAN %d: middleblock's l3_admit_table does not match VLANs, and sub-port router interfaces (unicast_set_port_and_src_mac_and_vlan_id) are @unsupported", l.VLAN)
	case !p.l3InPort:
		return nil, p.unsupported(o, "l3_admit_table has no in_port field: the program cannot admit a router MAC on one port only")
	case l.VRF != "" && p.preACL == "":
		return nil, p.unsupported(o, "VRF %q: the program has no acl_pre_ingress_table with in_port and set_vrf to bind a port to a VRF", l.VRF)
	}
	port := portID(l.Port)
	te, err := p.b.TableEntry(p.l3admit,
		entity.Match(entity.TernaryUint(fDstMAC, macUint(l.RouterMAC), 1<<48-1), entity.MatchText(fInPort, port)),
		entity.Action(aAdmit),
		entity.Priority(L3AdmitPriority))
	if err != nil {
		return nil, buildErr(o, err)
	}
	out := []*p4v1.Entity{wrap(te)}
	if l.VRF == "" {
		return out, nil
	}
	var sl slab
	e, err := p.vrfEntry(&sl, o, l.VRF)
	if err != nil {
		return nil, err
	}
	pre, err := p.b.TableEntry(p.preACL,
		entity.Match(entity.MatchText(fInPort, port)),
		entity.Action(aSetVRF, entity.ParamBytes(fVRF, []byte(l.VRF))),
		entity.Priority(PreIngressPriority))
	if err != nil {
		return nil, buildErr(o, err)
	}
	return append(out, e, wrap(pre)), nil
}

// ---- ACLs and punts ---------------------------------------------------

// aclMatch collects the acl_ingress_table fields of an ACL match.
type aclMatch struct {
	p      *Pipeliner
	fields []entity.Field
	used   map[string]string // field → what set it
	ipVer  int               // 4 or 6 when the match says IPv4 or IPv6
}

// add matches a field, checking that the table has it with that kind.
// It returns why the program cannot, or "".
func (m *aclMatch) add(name, by string, kind fieldKind, f entity.Field) string {
	af, ok := m.p.aclFields[name]
	if !ok {
		return fmt.Sprintf("acl_ingress_table has no %s field (for %s)", name, by)
	}
	if !kind.ok(af) {
		return fmt.Sprintf("acl_ingress_table's %s field is %s, cannot match %s on it", name, strings.ToLower(af.kind.String()), by)
	}
	if prev, dup := m.used[name]; dup {
		return fmt.Sprintf("acl_ingress_table's %s field is set twice, by %s and by %s", name, prev, by)
	}
	m.used[name] = by
	m.fields = append(m.fields, f)
	return ""
}

// fieldKind is the kind of field a match needs.
type fieldKind uint8

const (
	kTernary        fieldKind = iota // ternary bit<W>
	kOptional                        // optional bit<W>
	kOptionalString                  // optional SDN string
)

const (
	ternaryKind  = schema.Ternary
	optionalKind = schema.Optional
)

func (k fieldKind) ok(af aclField) bool {
	switch k {
	case kTernary:
		return af.kind == ternaryKind && af.width > 0
	case kOptional:
		return af.kind == optionalKind && af.width > 0
	case kOptionalString:
		return af.kind == optionalKind && af.width == 0
	}
	return false
}

// etherType matches an ether type the way SAI-P4 wants it: IPv4 and IPv6
// by is_ipv4 and is_ipv6 (its ACLs forbid ether_type 0x0800 and 0x86dd).
func (m *aclMatch) etherType(t uint16) string {
	switch t {
	case 0:
		return ""
	case 0x0800:
		m.ipVer = 4
		return m.add("is_ipv4", "ether_type 0x0800", kOptional, entity.Optional("is_ipv4", uint64(1)))
	case 0x86dd:
		m.ipVer = 6
		return m.add("is_ipv6", "ether_type 0x86dd", kOptional, entity.Optional("is_ipv6", uint64(1)))
	}
	return m.add("ether_type", "ether_type", kTernary, entity.TernaryUint("ether_type", uint64(t), 0xffff))
}

// ipPrefix matches a source or destination prefix: IPv4 on the 32-bit
// field, IPv6 on the 64-bit one (SAI-P4 ACLs match the upper 64 bits of
// IPv6 addresses).
func (m *aclMatch) ipPrefix(what, f4, f6 string, pfx netip.Prefix) string {
	if !pfx.IsValid() || pfx.Bits() == 0 {
		return ""
	}
	pfx = pfx.Masked()
	if pfx.Addr().Is4() {
		if m.ipVer != 4 {
			return fmt.Sprintf("%s %s needs ether_type 0x0800 (SAI-P4 matches IPv4 addresses on IPv4 packets only)", what, pfx)
		}
		v := uint64(binary.BigEndian.Uint32(pfx.Addr().AsSlice()))
		mask := uint64(math.MaxUint32) &^ (1<<(32-pfx.Bits()) - 1)
		return m.add(f4, what, kTernary, entity.TernaryUint(f4, v, mask))
	}
	if m.ipVer != 6 {
		return fmt.Sprintf("%s %s needs ether_type 0x86dd (SAI-P4 matches IPv6 addresses on IPv6 packets only)", what, pfx)
	}
	if pfx.Bits() > 64 {
		return fmt.Sprintf("%s %s: SAI-P4 ACLs match only the upper 64 bits of IPv6 addresses", what, pfx)
	}
	a := pfx.Addr().As16()
	v := binary.BigEndian.Uint64(a[:8])
	mask := ^uint64(0) << (64 - pfx.Bits())
	return m.add(f6, what, kTernary, entity.TernaryUint(f6, v, mask))
}

// aclFieldsOf turns an objective's ACL match into fields, or says why the
// program cannot express it.
func (p *Pipeliner) aclFieldsOf(am *objective.ACLMatch) ([]entity.Field, string) {
	m := aclMatch{p: p, used: map[string]string{}}
	if why := m.etherType(am.EtherType); why != "" {
		return nil, why
	}
	if am.InPort != 0 {
		if why := m.add(fInPort, "in_port", kOptionalString, entity.MatchText(fInPort, portID(am.InPort))); why != "" {
			return nil, why
		}
	}
	if len(am.SrcMAC) != 0 {
		if why := m.add(fSrcMAC, "src_mac", kTernary, entity.TernaryUint(fSrcMAC, macUint(am.SrcMAC), 1<<48-1)); why != "" {
			return nil, why
		}
	}
	if len(am.DstMAC) != 0 {
		if why := m.add(fDstMAC, "dst_mac", kTernary, entity.TernaryUint(fDstMAC, macUint(am.DstMAC), 1<<48-1)); why != "" {
			return nil, why
		}
	}
	if why := m.ipPrefix("src_ip", "src_ip", "src_ipv6", am.SrcIP); why != "" {
		return nil, why
	}
	if why := m.ipPrefix("dst_ip", "dst_ip", "dst_ipv6", am.DstIP); why != "" {
		return nil, why
	}
	if am.IPProto != 0 {
		if m.ipVer == 0 {
			return nil, fmt.Sprintf("ip_proto %d needs ether_type 0x0800 or 0x86dd (SAI-P4 matches ip_protocol on IP packets only)", am.IPProto)
		}
		if why := m.add("ip_protocol", "ip_proto", kTernary, entity.TernaryUint("ip_protocol", uint64(am.IPProto), 0xff)); why != "" {
			return nil, why
		}
	}
	for _, l4 := range []struct {
		field, what string
		port        uint16
	}{{"l4_src_port", "l4_src", am.L4Src}, {"l4_dst_port", "l4_dst", am.L4Dst}} {
		if l4.port == 0 {
			continue
		}
		if am.IPProto != 6 && am.IPProto != 17 {
			return nil, fmt.Sprintf("%s %d needs ip_proto 6 (TCP) or 17 (UDP) (restriction of acl_ingress_table)", l4.what, l4.port)
		}
		if why := m.add(l4.field, l4.what, kTernary, entity.TernaryUint(l4.field, uint64(l4.port), 0xffff)); why != "" {
			return nil, why
		}
	}
	names := make([]string, 0, len(am.Fields))
	for name := range am.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := am.Fields[name]
		af, ok := p.aclFields[name]
		if !ok {
			known := make([]string, 0, len(p.aclFields))
			for k := range p.aclFields {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, fmt.Sprintf("acl_ingress_table has no field %q (it has %s)", name, strings.Join(known, ", "))
		}
		by := "fields[" + name + "]"
		switch {
		case af.width == 0:
			return nil, fmt.Sprintf("acl_ingress_table's %s field is an SDN string, not a number to match with value and mask", name)
		case t.Mask == 0:
			continue // don't care
		case af.width < 64 && (t.Value>>af.width != 0 || t.Mask>>af.width != 0):
			return nil, fmt.Sprintf("%s: value %#x or mask %#x does not fit bit<%d>", by, t.Value, t.Mask, af.width)
		case af.kind == ternaryKind:
			if why := m.add(name, by, kTernary, entity.TernaryUint(name, t.Value, t.Mask)); why != "" {
				return nil, why
			}
		case af.kind == optionalKind:
			if af.width < 64 && t.Mask != 1<<af.width-1 || af.width == 64 && t.Mask != math.MaxUint64 {
				return nil, fmt.Sprintf("%s: %s is an optional field (exact or don't care), not a mask of %#x", by, name, t.Mask)
			}
			if why := m.add(name, by, kOptional, entity.Optional(name, t.Value)); why != "" {
				return nil, why
			}
		default:
			return nil, fmt.Sprintf("%s: acl_ingress_table's %s field is %s, not ternary or optional", by, name, strings.ToLower(af.kind.String()))
		}
	}
	return m.fields, ""
}

func (p *Pipeliner) aclObjective(o objective.Objective, a *objective.ACL) ([]*p4v1.Entity, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	fields, why := p.aclFieldsOf(&a.Match)
	if why != "" {
		return nil, p.unsupported(o, "%s", why)
	}
	var out []*p4v1.Entity
	var action entity.Option
	switch a.Action {
	case objective.ACLDrop:
		action = entity.Action(aDrop)
	case objective.ACLPunt:
		action = entity.Action(aTrap, entity.ParamBytes(fQueue, []byte(p.cfg.CPUQueue)))
	case objective.ACLPermit:
		action = entity.Action(aForward)
	case objective.ACLRedirect:
		switch {
		case a.Target.Group != nil:
			return nil, p.unsupported(o, "redirect to group %q: middleblock's ACLs redirect to a next hop (redirect_to_nexthop) or multicast group, not to a WCMP group", a.Target.Group.ID)
		case p.redirect == "":
			return nil, p.unsupported(o, "acl_ingress_table has no redirect_to_nexthop action")
		}
		var err error
		sl := newSlab(3)
		if out, err = p.appendHop(make([]*p4v1.Entity, 0, 4), &sl, o, a.Target.NextHop); err != nil {
			return nil, err
		}
		action = entity.Action(p.redirect, entity.ParamBytes(fNexthop, []byte(a.Target.NextHop.ID)))
	}
	te, err := p.b.TableEntry(p.acl, entity.Match(fields...), action, entity.Priority(a.Priority))
	if err != nil {
		return nil, buildErr(o, err)
	}
	return append(out, wrap(te)), nil
}

func (p *Pipeliner) punt(o objective.Objective, pu *objective.Punt) ([]*p4v1.Entity, error) {
	if err := pu.Validate(); err != nil {
		return nil, err
	}
	m := aclMatch{p: p, used: map[string]string{}}
	if why := m.etherType(pu.Type()); why != "" {
		return nil, p.unsupported(o, "%s", why)
	}
	te, err := p.b.TableEntry(p.acl, entity.Match(m.fields...),
		entity.Action(aTrap, entity.ParamBytes(fQueue, []byte(p.cfg.CPUQueue))),
		entity.Priority(p.cfg.PuntPriority))
	if err != nil {
		return nil, buildErr(o, err)
	}
	return []*p4v1.Entity{wrap(te)}, nil
}

// ---- multicast and bridging -------------------------------------------

func (p *Pipeliner) multicast(o objective.Objective, mc *objective.Multicast) ([]*p4v1.Entity, error) {
	if err := mc.Validate(); err != nil {
		return nil, err
	}
	switch {
	case p.mcastRIF == "":
		return nil, p.unsupported(o, "the program has no multicast_router_interface_table with l2_multicast_passthrough for the replicas")
	case mc.GroupID > math.MaxUint16:
		return nil, p.unsupported(o, "group ID %d: SAI-P4 multicast group IDs are bit<16> (multicast_group_id_t)", mc.GroupID)
	case p.maxMembers > 0 && len(mc.Ports) > p.maxMembers:
		return nil, p.unsupported(o, "%d ports: the platform allows %d replicas per multicast group", len(mc.Ports), p.maxMembers)
	}
	out := make([]*p4v1.Entity, 0, len(mc.Ports)+1)
	replicas := make([]entity.Replica, len(mc.Ports))
	for i, port := range mc.Ports {
		id := portID(port)
		te, err := p.b.TableEntry(p.mcastRIF,
			entity.Match(entity.MatchText(fMcPort, id), entity.ExactUint(fMcInst, 0)),
			entity.Action(aMcPass))
		if err != nil {
			return nil, buildErr(o, err)
		}
		out = append(out, wrap(te))
		replicas[i] = entity.NewReplica(id, 0)
	}
	g, err := p.b.MulticastGroup(mc.GroupID, replicas...)
	if err != nil {
		return nil, buildErr(o, err)
	}
	return append(out, entity.Wrap(g)), nil
}

func (p *Pipeliner) bridging(o objective.Objective, br *objective.Bridging) error {
	if err := br.Validate(); err != nil {
		return err
	}
	return p.unsupported(o, "SAI-P4 middleblock has no L2 forwarding table (no MAC/FDB table): it only routes (l3_admit, ipv4_table, ipv6_table) and redirects by ACL, so frames cannot be switched by VLAN and destination MAC")
}
