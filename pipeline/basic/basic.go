// Package basic is the pipeliner of ONOS's basic.p4 (pipeconf
// "onos-basic"), a v1model program with one ternary table for everything
// (table0: in-port, Ethernet, IPv4 and L4 fields → set_egress_port,
// send_to_cpu, set_next_hop_id or drop, which is also the const default)
// and a WCMP table behind an action selector (wcmp_table: next_hop_id →
// set_egress_port, through wcmp_selector members and groups).
//
// What basic.p4 can express, and how objectives become its entities:
//
//	next-hop        wcmp_selector member (set_egress_port) + wcmp_table entry next_hop_id → member
//	next-hop-group  a member per next hop + wcmp_selector group (weights) + wcmp_table entry → group
//	route           the target's entities + table0: ether_type 0x0800, ipv4 dst under the prefix mask
//	                → set_next_hop_id; priority PriorityRoute + prefix length (longest prefix wins)
//	bridging        table0: eth dst → set_egress_port(port), or → set_next_hop_id for a next hop
//	acl             table0 at PriorityACL + priority: drop → drop, punt → send_to_cpu,
//	                redirect → set_next_hop_id
//	punt            table0: ether_type → send_to_cpu, at PriorityPunt
//
// and what it cannot, as an *objective.UnsupportedError saying why: L3
// interfaces (no router MAC check: table0 matches every frame), multicast
// (the program never uses the replication engine), next hops that rewrite
// MAC addresses or set a VLAN (no rewrite actions, no VLAN parsing: a
// route through such a next hop would forward with the wrong Ethernet
// header, so it is refused rather than silently changed), routes in a VRF
// or to IPv6 prefixes, bridging in a VLAN, ACL permit (table0 is the only
// table: an entry must decide the packet's fate itself), ACL matches on
// IPv6, and ports that do not fit basic.p4's 9-bit port.
//
// Next hops and groups are numbered without state: the 16-bit
// next_hop_id of a next hop or group is its ID when the ID is a decimal
// number from 1 to 65535, else a hash of it (pipeline.HashID); member and
// group IDs are 32-bit hashes. Two IDs that hash alike give the same
// entity with different contents, which pipeline.State reports as a
// conflict; use numeric IDs to rule that out.
package basic

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Program is the pipeconf ID of ONOS basic.p4.
const Program = "onos-basic"

// Priorities of table0 entries, by objective. Bands keep ACL rules above
// punts above bridging above routes; within the route band a longer
// prefix has a higher priority, which makes ternary matching behave as
// longest-prefix match.
const (
	PriorityRoute    int32 = 1000  // + prefix length (0..32)
	PriorityBridging int32 = 2000  // exact destination MAC
	PriorityPunt     int32 = 30000 // ether type
	PriorityACL      int32 = 40000 // + the ACL's priority
)

// MaxACLPriority is the highest ACL priority that fits table0's int32
// priority above PriorityACL.
const MaxACLPriority = math.MaxInt32 - PriorityACL

// Names of what the pipeliner writes (full names of the P4Info).
const (
	tTable0     = "ingress.table0_control.table0"
	tWCMP       = "ingress.wcmp_control.wcmp_table"
	pSelector   = "ingress.wcmp_control.wcmp_selector"
	aEgress     = "ingress.table0_control.set_egress_port"
	aToCPU      = "ingress.table0_control.send_to_cpu"
	aNextHop    = "ingress.table0_control.set_next_hop_id"
	aDrop       = "ingress.table0_control.drop"
	aWCMPEgress = "ingress.wcmp_control.set_egress_port"

	fInPort    = "standard_metadata.ingress_port"
	fEthSrc    = "hdr.ethernet.src_addr"
	fEthDst    = "hdr.ethernet.dst_addr"
	fEthType   = "hdr.ethernet.ether_type"
	fIPv4Src   = "hdr.ipv4.src_addr"
	fIPv4Dst   = "hdr.ipv4.dst_addr"
	fIPProto   = "hdr.ipv4.protocol"
	fL4Src     = "local_metadata.l4_src_port"
	fL4Dst     = "local_metadata.l4_dst_port"
	fNextHopID = "local_metadata.next_hop_id"

	pPort      = "port"
	pNextHopID = "next_hop_id"
)

const (
	etherIPv4 = 0x0800
	portBits  = 9
	maxPort   = 1<<portBits - 1
)

// Ranks of basic.p4's entities (package diff's scale).
const (
	RankMember = diff.RankMember     // wcmp_selector members
	RankGroup  = diff.RankGroup      // wcmp_selector groups
	RankWCMP   = diff.RankTableEntry // wcmp_table entries (refer to members and groups)
	RankTable0 = diff.RankTableEntry + 1
)

type pipeliner struct {
	s       *schema.Schema
	b       *entity.Builder
	cpuPort uint32

	table0ID, wcmpID, selectorID uint32
	table0                       *schema.Table
	id                           hotIDs
}

// hotIDs are the IDs of what routes and next hops write, resolved by New:
// those entities are built directly (the rest through the entity
// Builder), which keeps a route's translation within twice the cost of
// building its entities by hand.
type hotIDs struct {
	fEthType, fIPv4Dst, fNextHopID uint32
	aNextHop, aWCMPEgress          uint32
	pNextHopID, pPort              uint32
}

var (
	_ pipeline.Pipeliner = (*pipeliner)(nil)
	_ pipeline.Schemer   = (*pipeliner)(nil)
)

// New returns the pipeliner of basic.p4 for a schema of that program. It
// checks that the schema has every table, field, action and parameter it
// writes, with the kinds and widths basic.p4 gives them. basic.p4
// compiles its CPU port in (send_to_cpu takes no port), so opts.CPUPort
// only keeps next hops and bridging from sending to it.
func New(s *schema.Schema, opts pipeline.DeviceOptions) (pipeline.Pipeliner, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: no schema", Program)
	}
	p := &pipeliner{s: s, b: entity.NewBuilder(s), cpuPort: opts.CPUPort}
	bad := func(err error) (pipeline.Pipeliner, error) {
		return nil, fmt.Errorf("%s: the schema is not basic.p4's: %w", Program, err)
	}
	t0, err := checkTable(s, tTable0, map[string]fieldSpec{
		fInPort: {schema.Ternary, 9}, fEthSrc: {schema.Ternary, 48}, fEthDst: {schema.Ternary, 48},
		fEthType: {schema.Ternary, 16}, fIPv4Src: {schema.Ternary, 32}, fIPv4Dst: {schema.Ternary, 32},
		fIPProto: {schema.Ternary, 8}, fL4Src: {schema.Ternary, 16}, fL4Dst: {schema.Ternary, 16},
	}, map[string]map[string]int{aEgress: {pPort: 9}, aToCPU: nil, aNextHop: {pNextHopID: 16}, aDrop: nil})
	if err != nil {
		return bad(err)
	}
	wcmp, err := checkTable(s, tWCMP, map[string]fieldSpec{fNextHopID: {schema.Exact, 16}},
		map[string]map[string]int{aWCMPEgress: {pPort: 9}})
	if err != nil {
		return bad(err)
	}
	sel, err := s.ActionProfile(pSelector)
	if err != nil {
		return bad(err)
	}
	if !sel.WithSelector || wcmp.ActionProfile == nil || wcmp.ActionProfile.ID != sel.ID {
		return bad(fmt.Errorf("table %s is not implemented by the selector %s", tWCMP, pSelector))
	}
	p.table0, p.table0ID, p.wcmpID, p.selectorID = t0, t0.ID, wcmp.ID, sel.ID
	// checkTable has resolved every name below.
	field := func(t *schema.Table, name string) uint32 { f, _ := t.Field(name); return f.ID }
	action := func(t *schema.Table, name string) *schema.Action { a, _ := t.Action(name); return a.Action }
	param := func(a *schema.Action, name string) uint32 { prm, _ := a.Param(name); return prm.ID }
	setNext, wcmpEgress := action(t0, aNextHop), action(wcmp, aWCMPEgress)
	p.id = hotIDs{
		fEthType: field(t0, fEthType), fIPv4Dst: field(t0, fIPv4Dst), fNextHopID: field(wcmp, fNextHopID),
		aNextHop: setNext.ID, aWCMPEgress: wcmpEgress.ID,
		pNextHopID: param(setNext, pNextHopID), pPort: param(wcmpEgress, pPort),
	}
	return p, nil
}

type fieldSpec struct {
	kind  schema.MatchKind
	width int
}

func checkTable(s *schema.Schema, name string, fields map[string]fieldSpec, actions map[string]map[string]int) (*schema.Table, error) {
	t, err := s.Table(name)
	if err != nil {
		return nil, err
	}
	for f, want := range fields {
		mf, err := t.Field(f)
		if err != nil {
			return nil, err
		}
		if mf.Kind != want.kind || mf.Bitwidth != want.width {
			return nil, fmt.Errorf("table %s: field %s is %v bit<%d>, want %v bit<%d>", name, f, mf.Kind, mf.Bitwidth, want.kind, want.width)
		}
	}
	for a, params := range actions {
		ref, err := t.Action(a)
		if err != nil {
			return nil, err
		}
		for pn, w := range params {
			prm, err := ref.Action.Param(pn)
			if err != nil {
				return nil, err
			}
			if prm.Bitwidth != w {
				return nil, fmt.Errorf("action %s: parameter %s is bit<%d>, want bit<%d>", a, pn, prm.Bitwidth, w)
			}
		}
	}
	return t, nil
}

// Program implements pipeline.Pipeliner.
func (p *pipeliner) Program() string { return Program }

// Schema implements pipeline.Schemer.
func (p *pipeliner) Schema() *schema.Schema { return p.s }

// Supports implements pipeline.Pipeliner.
func (p *pipeliner) Supports(k objective.Kind) bool {
	switch k {
	case objective.KindNextHop, objective.KindNextHopGroup, objective.KindRoute,
		objective.KindBridging, objective.KindACL, objective.KindPunt:
		return true
	}
	return false
}

// Rank implements pipeline.Pipeliner.
func (p *pipeliner) Rank(e *p4v1.Entity) int {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_ActionProfileMember:
		return RankMember
	case *p4v1.Entity_ActionProfileGroup:
		return RankGroup
	case *p4v1.Entity_TableEntry:
		if x.TableEntry.GetTableId() == p.wcmpID {
			return RankWCMP
		}
		if x.TableEntry.GetTableId() == p.table0ID {
			return RankTable0
		}
	}
	return diff.DefaultRank(e)
}

// Translate implements pipeline.Pipeliner.
func (p *pipeliner) Translate(o objective.Objective) ([]*p4v1.Entity, error) {
	if o = objective.Value(o); o == nil {
		return nil, errors.New(Program + ": nil objective")
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", Program, err)
	}
	var (
		es  []*p4v1.Entity
		err error
	)
	switch x := o.(type) {
	case objective.NextHop:
		es, err = p.nextHop(o, x, nil)
	case objective.NextHopGroup:
		es, err = p.group(o, x, nil)
	case objective.Route:
		es, err = p.route(o, x)
	case objective.Bridging:
		es, err = p.bridging(o, x)
	case objective.ACL:
		es, err = p.acl(o, x)
	case objective.Punt:
		es, err = p.punt(o, x)
	case objective.L3Interface:
		return nil, objective.Unsupported(o, Program, "basic.p4 has no router MAC or L3 admit table: table0 routes every frame whatever its destination MAC")
	case objective.Multicast:
		return nil, objective.Unsupported(o, Program, "basic.p4 does not use the packet replication engine (no multicast group action)")
	default:
		return nil, objective.Unsupported(o, Program, "unknown kind of objective %T", o)
	}
	if err != nil {
		var ue *objective.UnsupportedError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %s %s: %w", Program, o.Kind(), o.Key(), err)
	}
	return es, nil
}

// checkNextHop says why basic.p4 cannot send to a next hop.
func (p *pipeliner) checkNextHop(o objective.Objective, nh objective.NextHop) error {
	switch {
	case !nh.SrcMAC.IsZero() || !nh.DstMAC.IsZero():
		return objective.Unsupported(o, Program, "next hop %q rewrites MAC addresses and basic.p4 has no MAC rewrite (give the next hop no src_mac/dst_mac to forward frames unchanged)", nh.ID)
	case nh.VLAN != 0:
		return objective.Unsupported(o, Program, "next hop %q sets VLAN %d and basic.p4 does not parse or push VLAN tags", nh.ID, nh.VLAN)
	}
	return p.checkPort(o, "next hop "+strconv.Quote(nh.ID), nh.Port)
}

func (p *pipeliner) checkPort(o objective.Objective, what string, port uint32) error {
	if port > maxPort {
		return objective.Unsupported(o, Program, "%s: port %d does not fit basic.p4's 9-bit port", what, port)
	}
	if p.cpuPort != 0 && port == p.cpuPort {
		return objective.Unsupported(o, Program, "%s: port %d is the CPU port (use a punt)", what, port)
	}
	return nil
}

// NextHopID returns the next_hop_id basic.p4 gets for a next hop or group
// ID: the ID itself when it is a decimal number from 1 to 65535, else a
// hash of it.
func NextHopID(id string) uint16 {
	if n, ok := decimal16(id); ok {
		return n
	}
	return uint16(pipeline.HashID("onos-basic/next_hop_id", id, 16))
}

// decimal16 parses a canonical decimal number from 1 to 65535 (no sign,
// no leading zero) without allocating.
func decimal16(s string) (uint16, bool) {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	if n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// MemberID returns the wcmp_selector member ID of a next hop.
func MemberID(nextHop string) uint32 { return pipeline.HashID("onos-basic/member", nextHop, 32) }

// GroupID returns the wcmp_selector group ID of a next-hop group.
func GroupID(group string) uint32 { return pipeline.HashID("onos-basic/group", group, 32) }

// nextHop appends the entities of a next hop: its member and its
// wcmp_table entry.
func (p *pipeliner) nextHop(o objective.Objective, nh objective.NextHop, es []*p4v1.Entity) ([]*p4v1.Entity, error) {
	if err := p.checkNextHop(o, nh); err != nil {
		return nil, err
	}
	mid := MemberID(nh.ID)
	te := &p4v1.TableEntry{TableId: p.wcmpID,
		Match: []*p4v1.FieldMatch{{FieldId: p.id.fNextHopID, FieldMatchType: &p4v1.FieldMatch_Exact_{
			Exact: &p4v1.FieldMatch_Exact{Value: canonUint(nil, uint64(NextHopID(nh.ID)))}}}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: mid}}}
	return append(es, p.member(mid, nh), entity.Wrap(te)), nil
}

// member returns a next hop's wcmp_selector member (the port is checked).
func (p *pipeliner) member(id uint32, nh objective.NextHop) *p4v1.Entity {
	return entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: p.selectorID, MemberId: id,
		Action: &p4v1.Action{ActionId: p.id.aWCMPEgress, Params: []*p4v1.Action_Param{{ParamId: p.id.pPort, Value: canonUint(nil, uint64(nh.Port))}}}})
}

// canonUint appends v to buf as a canonical bytestring (the shortest
// big-endian form; zero is one zero byte) and returns it alone, capped so
// that appending to it cannot overwrite what follows in buf.
func canonUint(buf []byte, v uint64) []byte {
	n := max(1, (bits.Len64(v)+7)/8)
	start := len(buf)
	for i := n - 1; i >= 0; i-- {
		buf = append(buf, byte(v>>(8*i)))
	}
	return buf[start:len(buf):len(buf)]
}

// group appends the entities of a next-hop group: a member per next hop,
// the group and its wcmp_table entry.
func (p *pipeliner) group(o objective.Objective, g objective.NextHopGroup, es []*p4v1.Entity) ([]*p4v1.Entity, error) {
	members := make([]entity.GroupMember, 0, len(g.Members))
	for _, w := range g.Members {
		if err := p.checkNextHop(o, w.NextHop); err != nil {
			return nil, err
		}
		mid := MemberID(w.NextHop.ID)
		es = append(es, p.member(mid, w.NextHop))
		weight := w.Weight
		if weight == 0 {
			weight = 1
		}
		if weight > math.MaxInt32 {
			return nil, objective.Unsupported(o, Program, "next hop %q: weight %d does not fit P4Runtime's int32", w.NextHop.ID, w.Weight)
		}
		members = append(members, entity.WeightedMember(mid, int32(weight)))
	}
	gid := GroupID(g.ID)
	grp, err := p.b.Group(pSelector, gid, 0, members...)
	if err != nil {
		return nil, err
	}
	te, err := p.b.TableEntry(tWCMP,
		entity.Match(entity.ExactUint(fNextHopID, uint64(NextHopID(g.ID)))),
		entity.Group(gid))
	if err != nil {
		return nil, err
	}
	return append(es, entity.Wrap(grp), entity.Wrap(te)), nil
}

// target appends the entities of a route, bridging or ACL target and
// returns the next_hop_id table0 sets.
func (p *pipeliner) target(o objective.Objective, t objective.Target, es []*p4v1.Entity) ([]*p4v1.Entity, uint16, error) {
	var err error
	switch {
	case t.NextHop != nil:
		es, err = p.nextHop(o, *t.NextHop, es)
		return es, NextHopID(t.NextHop.ID), err
	case t.Group != nil:
		es, err = p.group(o, *t.Group, es)
		return es, NextHopID(t.Group.ID), err
	}
	return nil, 0, errors.New("no next_hop or group")
}

func (p *pipeliner) route(o objective.Objective, r objective.Route) ([]*p4v1.Entity, error) {
	switch {
	case r.VRF != "":
		return nil, objective.Unsupported(o, Program, "basic.p4 has no VRFs (route in VRF %q)", r.VRF)
	case !r.Prefix.Addr().Is4():
		return nil, objective.Unsupported(o, Program, "basic.p4 parses IPv4 only")
	}
	es, nhid, err := p.target(o, r.Target, make([]*p4v1.Entity, 0, 6))
	if err != nil {
		return nil, err
	}
	// table0: ether_type 0x0800, ipv4 dst under the prefix mask (left
	// out for /0, as "don't care"), built directly; the values share one
	// buffer.
	pfx := r.Prefix.Masked()
	buf := make([]byte, 0, 16)
	ethValue := canonUint(buf, etherIPv4)
	ethMask := canonUint(ethValue, 0xffff)
	match := make([]*p4v1.FieldMatch, 1, 2)
	match[0] = &p4v1.FieldMatch{FieldId: p.id.fEthType, FieldMatchType: &p4v1.FieldMatch_Ternary_{
		Ternary: &p4v1.FieldMatch_Ternary{Value: ethValue, Mask: ethMask}}}
	last := ethMask
	if pfx.Bits() > 0 {
		dstValue := canonUint(last, addrUint(pfx.Addr()))
		dstMask := canonUint(dstValue, prefixMask(pfx.Bits(), 32))
		last = dstMask
		match = append(match, &p4v1.FieldMatch{FieldId: p.id.fIPv4Dst, FieldMatchType: &p4v1.FieldMatch_Ternary_{
			Ternary: &p4v1.FieldMatch_Ternary{Value: dstValue, Mask: dstMask}}})
	}
	te := &p4v1.TableEntry{TableId: p.table0ID, Match: match, Priority: PriorityRoute + int32(pfx.Bits()),
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: p.id.aNextHop,
			Params: []*p4v1.Action_Param{{ParamId: p.id.pNextHopID, Value: canonUint(last, uint64(nhid))}}}}}}
	return append(es, entity.Wrap(te)), nil
}

func (p *pipeliner) bridging(o objective.Objective, br objective.Bridging) ([]*p4v1.Entity, error) {
	if br.VLAN != 0 {
		return nil, objective.Unsupported(o, Program, "basic.p4 does not parse VLAN tags (bridging in VLAN %d)", br.VLAN)
	}
	match := entity.Match(entity.TernaryUint(fEthDst, macUint(br.MAC), 1<<48-1))
	var es []*p4v1.Entity
	var action entity.Option
	if br.NextHop != nil {
		var (
			nhid uint16
			err  error
		)
		es, nhid, err = p.target(o, objective.Target{NextHop: br.NextHop}, make([]*p4v1.Entity, 0, 3))
		if err != nil {
			return nil, err
		}
		action = entity.Action(aNextHop, entity.ParamUint(pNextHopID, uint64(nhid)))
	} else {
		if err := p.checkPort(o, "bridging", br.Port); err != nil {
			return nil, err
		}
		action = entity.Action(aEgress, entity.ParamUint(pPort, uint64(br.Port)))
	}
	te, err := p.b.TableEntry(tTable0, match, action, entity.Priority(PriorityBridging))
	if err != nil {
		return nil, err
	}
	return append(es, entity.Wrap(te)), nil
}

func (p *pipeliner) punt(o objective.Objective, pu objective.Punt) ([]*p4v1.Entity, error) {
	te, err := p.b.TableEntry(tTable0,
		entity.Match(entity.TernaryUint(fEthType, uint64(pu.Type()), 0xffff)),
		entity.Action(aToCPU),
		entity.Priority(PriorityPunt))
	if err != nil {
		return nil, err
	}
	return []*p4v1.Entity{entity.Wrap(te)}, nil
}

func (p *pipeliner) acl(o objective.Objective, a objective.ACL) ([]*p4v1.Entity, error) {
	if a.Priority > MaxACLPriority {
		return nil, objective.Unsupported(o, Program, "priority %d above %d does not fit table0's priorities", a.Priority, MaxACLPriority)
	}
	fields, err := p.aclMatch(o, a.Match)
	if err != nil {
		return nil, err
	}
	var es []*p4v1.Entity
	var action entity.Option
	switch a.Action {
	case objective.ACLDrop:
		action = entity.Action(aDrop)
	case objective.ACLPunt:
		action = entity.Action(aToCPU)
	case objective.ACLPermit:
		return nil, objective.Unsupported(o, Program, "basic.p4 has no permit: table0 is its only table, so an entry must forward, punt or drop the packet itself (use redirect)")
	case objective.ACLRedirect:
		if a.Target == nil {
			return nil, errors.New("redirect needs a target")
		}
		var nhid uint16
		es, nhid, err = p.target(o, *a.Target, make([]*p4v1.Entity, 0, 6))
		if err != nil {
			return nil, err
		}
		action = entity.Action(aNextHop, entity.ParamUint(pNextHopID, uint64(nhid)))
	default:
		return nil, fmt.Errorf("unknown action %q", a.Action)
	}
	te, err := p.b.TableEntry(tTable0, entity.Match(fields...), action, entity.Priority(PriorityACL+a.Priority))
	if err != nil {
		return nil, err
	}
	return append(es, entity.Wrap(te)), nil
}

// aclMatch returns table0's match fields for an ACL match.
func (p *pipeliner) aclMatch(o objective.Objective, m objective.ACLMatch) ([]entity.Field, error) {
	var fields []entity.Field
	set := map[string]bool{}
	add := func(name string, v, mask uint64) {
		fields = append(fields, entity.TernaryUint(name, v, mask))
		set[name] = true
	}
	if m.InPort != 0 {
		if m.InPort > maxPort {
			return nil, objective.Unsupported(o, Program, "in_port %d does not fit basic.p4's 9-bit port", m.InPort)
		}
		add(fInPort, uint64(m.InPort), maxPort)
	}
	if len(m.SrcMAC) > 0 {
		add(fEthSrc, macUint(m.SrcMAC), 1<<48-1)
	}
	if len(m.DstMAC) > 0 {
		add(fEthDst, macUint(m.DstMAC), 1<<48-1)
	}
	if m.EtherType != 0 {
		add(fEthType, uint64(m.EtherType), 0xffff)
	}
	ipFields := m.SrcIP.IsValid() || m.DstIP.IsValid() || m.IPProto != 0
	if ipFields && m.EtherType != etherIPv4 {
		return nil, objective.Unsupported(o, Program, "basic.p4 parses IPv4 only: IP fields need ether_type 0x0800, not 0x%04x", m.EtherType)
	}
	for _, f := range []struct {
		name string
		pfx  netip.Prefix
	}{{fIPv4Src, m.SrcIP}, {fIPv4Dst, m.DstIP}} {
		if !f.pfx.IsValid() {
			continue
		}
		if !f.pfx.Addr().Is4() {
			return nil, objective.Unsupported(o, Program, "basic.p4 parses IPv4 only (%s)", f.pfx)
		}
		pfx := f.pfx.Masked()
		add(f.name, addrUint(pfx.Addr()), prefixMask(pfx.Bits(), 32))
	}
	if m.IPProto != 0 {
		add(fIPProto, uint64(m.IPProto), 0xff)
	}
	if m.L4Src != 0 {
		add(fL4Src, uint64(m.L4Src), 0xffff)
	}
	if m.L4Dst != 0 {
		add(fL4Dst, uint64(m.L4Dst), 0xffff)
	}
	names := make([]string, 0, len(m.Fields))
	for name := range m.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, err := p.table0.Field(name)
		if err != nil {
			return nil, objective.Unsupported(o, Program, "table0 has no field %q", name)
		}
		if set[f.Name] {
			return nil, fmt.Errorf("field %s is matched twice (by a named match and by fields)", f.Name)
		}
		t := m.Fields[name]
		add(f.Name, t.Value, t.Mask)
	}
	return fields, nil
}

func addrUint(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func macUint(m objective.MAC) uint64 {
	var v uint64
	for _, c := range m {
		v = v<<8 | uint64(c)
	}
	return v
}

// prefixMask returns the mask of a prefix length in a width of bits.
func prefixMask(plen, width int) uint64 {
	if plen <= 0 {
		return 0
	}
	full := uint64(1)<<width - 1
	return full &^ (uint64(1)<<(width-plen) - 1)
}
