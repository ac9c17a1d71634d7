package fabric

import (
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Program is the pipeconf ID the pipeliner writes for.
const Program = "fabric-v1model"

// Constants of fabric.p4 (include/define.p4) and of the translation.
const (
	// InternalVLAN is fabric.p4's DEFAULT_VLAN_ID: the VLAN untagged
	// traffic is classified into, and the egress VLAN of untagged next
	// hops (egress_vlan pops it). Objectives may not use it as a VLAN.
	InternalVLAN uint16 = 4094
	// DefaultCPUPort is the CPU port fabric.p4 is compiled with for bmv2
	// (-DCPU_PORT=255, cpu_port.txt).
	DefaultCPUPort uint32 = 255
	// PortTypeEdge is the port_type every permit of ingress_port_vlan
	// sets (PORT_TYPE_EDGE); acl entries may match port_type through
	// ACLMatch.Fields.
	PortTypeEdge = 1
	// FwdIPv4Unicast and FwdIPv6Unicast are fabric.p4's forwarding types
	// set by fwd_classifier for frames to the router MAC.
	FwdIPv4Unicast = 2
	FwdIPv6Unicast = 4

	// FilteringPriority is the priority of ingress_port_vlan and
	// fwd_classifier entries (their entries never overlap).
	FilteringPriority int32 = 10
	// BridgingPriority is the priority of bridging entries (exact MAC,
	// never overlapping).
	BridgingPriority int32 = 10
	// PuntPriority is the priority of the acl entry of a Punt objective;
	// ACL objectives with a higher priority take precedence over it.
	PuntPriority int32 = 40000
)

// Ranks of the entities of fabric.p4, in write order: an entity refers
// only to entities of a lower rank.
const (
	RankMember     = 0 // action profile members of hashed_selector, PRE multicast groups
	RankGroup      = 1 // selector groups (refer to members)
	RankNext       = 2 // next_vlan, hashed, multicast, egress_vlan, xconnect, next_mpls (match next_id; hashed refers to groups)
	RankForwarding = 3 // bridging, routing_v4/v6, mpls, acl (set next_id)
	RankFiltering  = 4 // ingress_port_vlan, fwd_classifier: admit traffic last, stop it first
)

// Names of the tables, actions and the selector the pipeliner writes.
const (
	tIngressPortVLAN = "FabricIngress.filtering.ingress_port_vlan"
	tFwdClassifier   = "FabricIngress.filtering.fwd_classifier"
	tBridging        = "FabricIngress.forwarding.bridging"
	tMPLS            = "FabricIngress.forwarding.mpls"
	tRoutingV4       = "FabricIngress.forwarding.routing_v4"
	tRoutingV6       = "FabricIngress.forwarding.routing_v6" // only in builds WITH_IPV6
	tNextMPLS        = "FabricIngress.pre_next.next_mpls"
	tNextVLAN        = "FabricIngress.pre_next.next_vlan"
	tACL             = "FabricIngress.acl.acl"
	tXconnect        = "FabricIngress.next.xconnect"
	tHashed          = "FabricIngress.next.hashed"
	tMulticast       = "FabricIngress.next.multicast"
	tEgressVLAN      = "FabricEgress.egress_next.egress_vlan"

	pHashedSelector = "FabricIngress.next.hashed_selector"

	aPermit            = "FabricIngress.filtering.permit"
	aPermitInternal    = "FabricIngress.filtering.permit_with_internal_vlan"
	aSetForwardingType = "FabricIngress.filtering.set_forwarding_type"
	aSetNextBridging   = "FabricIngress.forwarding.set_next_id_bridging"
	aSetNextRoutingV4  = "FabricIngress.forwarding.set_next_id_routing_v4"
	aSetNextRoutingV6  = "FabricIngress.forwarding.set_next_id_routing_v6"
	aSetVLAN           = "FabricIngress.pre_next.set_vlan"
	aSetNextACL        = "FabricIngress.acl.set_next_id_acl"
	aPuntToCPU         = "FabricIngress.acl.punt_to_cpu"
	aACLDrop           = "FabricIngress.acl.drop"
	aNopACL            = "FabricIngress.acl.nop_acl"
	aOutputHashed      = "FabricIngress.next.output_hashed"
	aRoutingHashed     = "FabricIngress.next.routing_hashed"
	aSetMcastGroup     = "FabricIngress.next.set_mcast_group_id"
	aPushVLAN          = "FabricEgress.egress_next.push_vlan"
	aPopVLAN           = "FabricEgress.egress_next.pop_vlan"
)

// field is a match field or action parameter the pipeliner relies on.
type field struct {
	name  string
	kind  schema.MatchKind // for match fields
	width int
}

// tableReq is what the pipeliner needs of a table.
type tableReq struct {
	name    string
	fields  []field
	actions map[string][]field // action → parameters
}

var required = []tableReq{
	{tIngressPortVLAN, []field{{"ig_port", schema.Exact, 9}, {"vlan_is_valid", schema.Exact, 1}, {"vlan_id", schema.Ternary, 12}},
		map[string][]field{aPermit: {{"port_type", 0, 2}}, aPermitInternal: {{"vlan_id", 0, 12}, {"port_type", 0, 2}}}},
	{tFwdClassifier, []field{{"ig_port", schema.Exact, 9}, {"eth_dst", schema.Ternary, 48}, {"ip_eth_type", schema.Exact, 16}},
		map[string][]field{aSetForwardingType: {{"fwd_type", 0, 3}}}},
	{tBridging, []field{{"vlan_id", schema.Exact, 12}, {"eth_dst", schema.Ternary, 48}},
		map[string][]field{aSetNextBridging: {{"next_id", 0, 32}}}},
	{tRoutingV4, []field{{"ipv4_dst", schema.LPM, 32}},
		map[string][]field{aSetNextRoutingV4: {{"next_id", 0, 32}}}},
	{tNextVLAN, []field{{"next_id", schema.Exact, 32}},
		map[string][]field{aSetVLAN: {{"vlan_id", 0, 12}}}},
	{tACL, []field{{"ig_port", schema.Ternary, 9}, {"eth_dst", schema.Ternary, 48}, {"eth_src", schema.Ternary, 48},
		{"eth_type", schema.Ternary, 16}, {"ipv4_src", schema.Ternary, 32}, {"ipv4_dst", schema.Ternary, 32},
		{"ip_proto", schema.Ternary, 8}, {"l4_sport", schema.Ternary, 16}, {"l4_dport", schema.Ternary, 16}},
		map[string][]field{aSetNextACL: {{"next_id", 0, 32}}, aPuntToCPU: nil, aACLDrop: nil, aNopACL: nil}},
	{tHashed, []field{{"next_id", schema.Exact, 32}},
		map[string][]field{aOutputHashed: {{"port_num", 0, 9}}, aRoutingHashed: {{"port_num", 0, 9}, {"smac", 0, 48}, {"dmac", 0, 48}}}},
	{tMulticast, []field{{"next_id", schema.Exact, 32}},
		map[string][]field{aSetMcastGroup: {{"group_id", 0, 16}}}},
	{tEgressVLAN, []field{{"vlan_id", schema.Exact, 12}, {"eg_port", schema.Exact, 9}},
		map[string][]field{aPushVLAN: nil, aPopVLAN: nil}},
}

var routingV6 = tableReq{tRoutingV6, []field{{"ipv6_dst", schema.LPM, 128}},
	map[string][]field{aSetNextRoutingV6: {{"next_id", 0, 32}}}}

// pipeliner translates objectives into fabric.p4 entities.
type pipeliner struct {
	s       *schema.Schema
	b       *entity.Builder
	cpuPort uint32
	ipv6    bool // the schema has routing_v6 (fabric.p4 built WITH_IPV6)
	acl     *schema.Table
	// the hashed selector's size semantics
	maxGroupSize int32
	sumOfMembers bool
	ranks        map[uint32]int // table ID → rank
	profileID    uint32
}

var _ pipeline.Pipeliner = (*pipeliner)(nil)

// New returns the pipeliner of fabric.p4 (v1model build) for a schema of
// that program. It resolves every table, match field, action and
// parameter it writes once, checking kinds and widths, and fails if the
// schema is not fabric.p4's. opts.CPUPort (0 means DefaultCPUPort) is the
// port packets to the controller leave by: fabric.p4 compiles it in
// (punt_to_cpu takes no port), so the pipeliner uses it only to refuse
// next hops, bridging and L3 interfaces on it.
func New(s *schema.Schema, opts pipeline.DeviceOptions) (pipeline.Pipeliner, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: no schema", Program)
	}
	p := &pipeliner{s: s, b: entity.NewBuilder(s), cpuPort: opts.CPUPort, ranks: map[uint32]int{}}
	if p.cpuPort == 0 {
		p.cpuPort = DefaultCPUPort
	}
	for _, r := range required {
		if err := checkTable(s, r); err != nil {
			return nil, fmt.Errorf("%s: the schema is not fabric.p4's: %w", Program, err)
		}
	}
	if _, err := s.Table(tRoutingV6); err == nil {
		if err := checkTable(s, routingV6); err != nil {
			return nil, fmt.Errorf("%s: the schema is not fabric.p4's: %w", Program, err)
		}
		p.ipv6 = true
	}
	p.acl, _ = s.Table(tACL)
	prof, err := s.ActionProfile(pHashedSelector)
	if err != nil {
		return nil, fmt.Errorf("%s: the schema is not fabric.p4's: %w", Program, err)
	}
	hashed, _ := s.Table(tHashed)
	if !prof.WithSelector || hashed.ActionProfile == nil || hashed.ActionProfile.ID != prof.ID {
		return nil, fmt.Errorf("%s: the schema is not fabric.p4's: table %s is not implemented by the selector %s", Program, tHashed, pHashedSelector)
	}
	p.profileID = prof.ID
	p.maxGroupSize = prof.MaxGroupSize
	p.sumOfMembers = prof.Proto.GetSumOfMembers() != nil
	for name, rank := range map[string]int{
		tIngressPortVLAN: RankFiltering, tFwdClassifier: RankFiltering,
		tBridging: RankForwarding, tMPLS: RankForwarding, tRoutingV4: RankForwarding, tRoutingV6: RankForwarding, tACL: RankForwarding,
		tNextMPLS: RankNext, tNextVLAN: RankNext, tXconnect: RankNext, tHashed: RankNext, tMulticast: RankNext, tEgressVLAN: RankNext,
	} {
		if t, err := s.Table(name); err == nil {
			p.ranks[t.ID] = rank
		}
	}
	return p, nil
}

func checkTable(s *schema.Schema, r tableReq) error {
	t, err := s.Table(r.name)
	if err != nil {
		return err
	}
	if t.Name != r.name {
		return fmt.Errorf("table %s resolves to %s", r.name, t.Name)
	}
	for _, f := range r.fields {
		mf, err := t.Field(f.name)
		if err != nil {
			return err
		}
		if mf.Kind != f.kind || mf.Bitwidth != f.width {
			return fmt.Errorf("table %s: field %s is %s bit<%d>, want %s bit<%d>", t.Name, f.name, mf.Kind, mf.Bitwidth, f.kind, f.width)
		}
	}
	for name, params := range r.actions {
		ref, err := t.Action(name)
		if err != nil {
			return err
		}
		if ref.Action.Name != name {
			return fmt.Errorf("table %s: action %s resolves to %s", t.Name, name, ref.Action.Name)
		}
		if ref.DefaultOnly() {
			return fmt.Errorf("table %s: action %s is default-only", t.Name, name)
		}
		if len(ref.Action.Params) != len(params) {
			return fmt.Errorf("action %s has %d parameters, want %d", name, len(ref.Action.Params), len(params))
		}
		for _, want := range params {
			pa, err := ref.Action.Param(want.name)
			if err != nil {
				return err
			}
			if pa.Bitwidth != want.width {
				return fmt.Errorf("action %s: parameter %s is bit<%d>, want bit<%d>", name, want.name, pa.Bitwidth, want.width)
			}
		}
	}
	return nil
}

// Program implements pipeline.Pipeliner.
func (p *pipeliner) Program() string { return Program }

// Supports implements pipeline.Pipeliner: fabric.p4 expresses every kind
// of objective; Translate refuses single objectives it cannot express
// (IPv6 routes without routing_v6, VRFs, ...).
func (p *pipeliner) Supports(k objective.Kind) bool {
	switch k {
	case objective.KindL3Interface, objective.KindBridging, objective.KindRoute, objective.KindNextHop,
		objective.KindNextHopGroup, objective.KindACL, objective.KindMulticast, objective.KindPunt:
		return true
	}
	return false
}

// Rank implements pipeline.Pipeliner (see RankMember and the other
// ranks). Entities the pipeliner does not write rank by what they are:
// unknown tables and other entities as forwarding entries.
func (p *pipeliner) Rank(e *p4v1.Entity) int {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_ActionProfileMember:
		return RankMember
	case *p4v1.Entity_ActionProfileGroup:
		return RankGroup
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return RankMember
	case *p4v1.Entity_TableEntry:
		if r, ok := p.ranks[x.TableEntry.GetTableId()]; ok {
			return r
		}
	}
	return RankForwarding
}
