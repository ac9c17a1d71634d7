// Package objective holds forwarding objectives: what a network engineer
// wants a switch to do, independent of the P4 program that does it. A
// pipeliner (package pipeline) translates each objective into the entities
// of one program, or says that the program cannot express it.
//
//	objs := []objective.Objective{
//		objective.L3Interface{Port: 1, RouterMAC: mac("00:aa:00:00:00:01")},
//		objective.Route{Prefix: netip.MustParsePrefix("10.0.2.0/24"),
//			NextHop: objective.NextHop{ID: "leaf2", Port: 1,
//				SrcMAC: mac("00:aa:00:00:00:01"), DstMAC: mac("00:bb:00:00:00:02")}},
//		objective.Punt{Protocol: objective.LLDP},
//	}
//
// Objectives are plain values: comparable by Key, serialisable as JSON and
// YAML (the json tags), and validated by Validate before translation.
// Shared parts (a next hop used by several routes) are written inline in
// each objective that uses them, with the same ID; a pipeliner turns them
// into the same entities, which are installed once and removed with their
// last user.
package objective

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Kind names a kind of objective.
type Kind string

// The kinds of objectives.
const (
	KindL3Interface  Kind = "l3-interface"
	KindBridging     Kind = "bridging"
	KindRoute        Kind = "route"
	KindNextHop      Kind = "next-hop"
	KindNextHopGroup Kind = "next-hop-group"
	KindACL          Kind = "acl"
	KindMulticast    Kind = "multicast"
	KindPunt         Kind = "punt"
)

// Kinds lists every kind, in the order a support matrix shows them.
func Kinds() []Kind {
	return []Kind{KindL3Interface, KindBridging, KindRoute, KindNextHop, KindNextHopGroup, KindACL, KindMulticast, KindPunt}
}

// Objective is one forwarding objective.
type Objective interface {
	// Kind names the kind of objective.
	Kind() Kind
	// Key identifies the objective among others of its kind on one
	// switch: adding a second objective with the same key replaces the
	// first. It is derived from the match, not the action (a route's key
	// is its VRF and prefix).
	Key() string
	// Validate checks the objective on its own, before any program is
	// involved, and names the field at fault.
	Validate() error
}

// MAC is a hardware address that marshals as "aa:bb:cc:dd:ee:ff".
type MAC net.HardwareAddr

// ParseMAC parses a 48-bit MAC address.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return nil, err
	}
	if len(hw) != 6 {
		return nil, fmt.Errorf("MAC %q is not 48 bits", s)
	}
	return MAC(hw), nil
}

// MustMAC is ParseMAC for constants in tests and examples; it panics on a
// malformed address.
func MustMAC(s string) MAC {
	m, err := ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String returns the address as "aa:bb:cc:dd:ee:ff" ("" when unset).
func (m MAC) String() string { return net.HardwareAddr(m).String() }

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. The empty text is
// the unset address (what MarshalText gives for it).
func (m *MAC) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = nil
		return nil
	}
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// IsZero reports whether the address is unset.
func (m MAC) IsZero() bool { return len(m) == 0 }

// L3Interface makes a port (and VLAN) a routed interface: frames to the
// router MAC are routed (fabric.p4's forwarding classifier, SAI-P4's
// l3_admit and router interface).
type L3Interface struct {
	Port      uint32 `json:"port"`
	VLAN      uint16 `json:"vlan,omitempty"` // 0: untagged
	RouterMAC MAC    `json:"router_mac"`
	VRF       string `json:"vrf,omitempty"` // "" is the default VRF
}

// Kind implements Objective.
func (L3Interface) Kind() Kind { return KindL3Interface }

// Key implements Objective.
func (o L3Interface) Key() string { return fmt.Sprintf("port=%d,vlan=%d", o.Port, o.VLAN) }

// Validate implements Objective.
func (o L3Interface) Validate() error {
	switch {
	case o.Port == 0:
		return errors.New("l3-interface: port is required")
	case o.VLAN >= 4095:
		return fmt.Errorf("l3-interface: vlan %d out of range 0..4094", o.VLAN)
	case len(o.RouterMAC) != 6:
		return errors.New("l3-interface: router_mac is required (48 bits)")
	}
	return nil
}

// NextHop is where a packet goes: out of a port with its Ethernet header
// rewritten (source MAC, destination MAC, VLAN). ID names it so that routes
// can share it.
type NextHop struct {
	ID     string `json:"id"`
	Port   uint32 `json:"port"`
	SrcMAC MAC    `json:"src_mac,omitempty"`
	DstMAC MAC    `json:"dst_mac,omitempty"`
	VLAN   uint16 `json:"vlan,omitempty"`
}

// Kind implements Objective.
func (NextHop) Kind() Kind { return KindNextHop }

// Key implements Objective.
func (o NextHop) Key() string { return "id=" + o.ID }

// Validate implements Objective.
func (o NextHop) Validate() error {
	// Plain ifs, not a table of checks: Validate runs on every translation
	// and must not allocate when the objective is valid.
	switch {
	case o.ID == "":
		return errors.New("next-hop: id is required")
	case o.Port == 0:
		return fmt.Errorf("next-hop %q: port is required", o.ID)
	case !o.SrcMAC.IsZero() && len(o.SrcMAC) != 6:
		return fmt.Errorf("next-hop %q: src_mac is not 48 bits", o.ID)
	case !o.DstMAC.IsZero() && len(o.DstMAC) != 6:
		return fmt.Errorf("next-hop %q: dst_mac is not 48 bits", o.ID)
	case o.VLAN >= 4095:
		return fmt.Errorf("next-hop %q: vlan %d out of range 0..4094", o.ID, o.VLAN)
	}
	return nil
}

// Weighted is a member of a next-hop group.
type Weighted struct {
	NextHop NextHop `json:"next_hop"`
	Weight  int     `json:"weight,omitempty"` // 0 means 1
}

// NextHopGroup spreads traffic over next hops by a hash (ECMP when the
// weights are equal, WCMP otherwise).
type NextHopGroup struct {
	ID      string     `json:"id"`
	Members []Weighted `json:"members"`
}

// Kind implements Objective.
func (NextHopGroup) Kind() Kind { return KindNextHopGroup }

// Key implements Objective.
func (o NextHopGroup) Key() string { return "id=" + o.ID }

// Validate implements Objective.
func (o NextHopGroup) Validate() error {
	if o.ID == "" {
		return errors.New("next-hop-group: id is required")
	}
	if len(o.Members) == 0 {
		return fmt.Errorf("next-hop-group %q: no members", o.ID)
	}
	seen := map[string]bool{}
	for i, m := range o.Members {
		if err := m.NextHop.Validate(); err != nil {
			return fmt.Errorf("next-hop-group %q member %d: %w", o.ID, i, err)
		}
		if m.Weight < 0 {
			return fmt.Errorf("next-hop-group %q member %d: negative weight", o.ID, i)
		}
		if seen[m.NextHop.ID] {
			return fmt.Errorf("next-hop-group %q: next hop %q listed twice", o.ID, m.NextHop.ID)
		}
		seen[m.NextHop.ID] = true
	}
	return nil
}

// Target is where a route, bridging entry or ACL redirect sends packets:
// exactly one of NextHop and Group.
type Target struct {
	NextHop *NextHop      `json:"next_hop,omitempty"`
	Group   *NextHopGroup `json:"group,omitempty"`
}

// Validate checks that exactly one target is set and valid.
func (t Target) Validate() error {
	switch {
	case t.NextHop != nil && t.Group != nil:
		return errors.New("both next_hop and group are set")
	case t.NextHop != nil:
		return t.NextHop.Validate()
	case t.Group != nil:
		return t.Group.Validate()
	}
	return errors.New("no next_hop or group")
}

// Route sends packets to a prefix (IPv4 or IPv6) in a VRF to a next hop or
// group.
type Route struct {
	VRF    string       `json:"vrf,omitempty"`
	Prefix netip.Prefix `json:"prefix"`
	Target
}

// Kind implements Objective.
func (Route) Kind() Kind { return KindRoute }

// Key implements Objective.
func (o Route) Key() string { return fmt.Sprintf("vrf=%s,prefix=%s", o.VRF, o.Prefix.Masked()) }

// Validate implements Objective.
func (o Route) Validate() error {
	if !o.Prefix.IsValid() {
		return errors.New("route: prefix is required")
	}
	if err := o.Target.Validate(); err != nil {
		return fmt.Errorf("route %s: %w", o.Prefix, err)
	}
	return nil
}

// Bridging forwards frames to a MAC address in a VLAN out of a port, or to
// a next hop.
type Bridging struct {
	VLAN uint16 `json:"vlan,omitempty"`
	MAC  MAC    `json:"mac"`
	Port uint32 `json:"port,omitempty"` // exactly one of Port and NextHop
	// NextHop, when set, forwards through a next hop instead of a port.
	NextHop *NextHop `json:"next_hop,omitempty"`
}

// Kind implements Objective.
func (Bridging) Kind() Kind { return KindBridging }

// Key implements Objective.
func (o Bridging) Key() string { return fmt.Sprintf("vlan=%d,mac=%s", o.VLAN, o.MAC) }

// Validate implements Objective.
func (o Bridging) Validate() error {
	switch {
	case o.VLAN >= 4095:
		return fmt.Errorf("bridging: vlan %d out of range 0..4094", o.VLAN)
	case len(o.MAC) != 6:
		return errors.New("bridging: mac is required (48 bits)")
	case (o.Port != 0) == (o.NextHop != nil):
		return fmt.Errorf("bridging %s: exactly one of port and next_hop", o.MAC)
	case o.NextHop != nil:
		return o.NextHop.Validate()
	}
	return nil
}

// ACLAction is what an ACL rule does with a matching packet.
type ACLAction string

// ACL actions.
const (
	ACLDrop     ACLAction = "drop"
	ACLPunt     ACLAction = "punt"     // copy to the controller and drop
	ACLPermit   ACLAction = "permit"   // let it through, skipping later ACL rules
	ACLRedirect ACLAction = "redirect" // send it to Target instead
)

// Ternary is a value and mask for a field an ACL matches.
type Ternary struct {
	Value uint64 `json:"value"`
	Mask  uint64 `json:"mask"`
}

// ACLMatch is what an ACL rule matches; unset fields match anything.
type ACLMatch struct {
	InPort    uint32       `json:"in_port,omitempty"`
	EtherType uint16       `json:"ether_type,omitempty"`
	SrcMAC    MAC          `json:"src_mac,omitempty"`
	DstMAC    MAC          `json:"dst_mac,omitempty"`
	SrcIP     netip.Prefix `json:"src_ip,omitzero"`
	DstIP     netip.Prefix `json:"dst_ip,omitzero"`
	IPProto   uint8        `json:"ip_proto,omitempty"`
	L4Src     uint16       `json:"l4_src,omitempty"`
	L4Dst     uint16       `json:"l4_dst,omitempty"`
	// Fields matches program-specific fields by their P4 match-field name
	// (ternary), for what the named fields above do not cover.
	Fields map[string]Ternary `json:"fields,omitempty"`
}

// ACL is one access-control rule.
type ACL struct {
	Name     string    `json:"name"`
	Priority int32     `json:"priority"` // higher wins
	Match    ACLMatch  `json:"match"`
	Action   ACLAction `json:"action"`
	Target   *Target   `json:"target,omitempty"` // for redirect
}

// Kind implements Objective.
func (ACL) Kind() Kind { return KindACL }

// Key implements Objective.
func (o ACL) Key() string { return "name=" + o.Name }

// Validate implements Objective.
func (o ACL) Validate() error {
	if o.Name == "" {
		return errors.New("acl: name is required")
	}
	if o.Priority <= 0 {
		return fmt.Errorf("acl %q: priority must be > 0", o.Name)
	}
	switch o.Action {
	case ACLDrop, ACLPunt, ACLPermit:
		if o.Target != nil {
			return fmt.Errorf("acl %q: target is only for redirect", o.Name)
		}
	case ACLRedirect:
		if o.Target == nil {
			return fmt.Errorf("acl %q: redirect needs a target", o.Name)
		}
		if err := o.Target.Validate(); err != nil {
			return fmt.Errorf("acl %q: %w", o.Name, err)
		}
	default:
		return fmt.Errorf("acl %q: unknown action %q (want drop, punt, permit or redirect)", o.Name, o.Action)
	}
	m := o.Match
	if (m.SrcIP.IsValid() || m.DstIP.IsValid() || m.IPProto != 0) && m.EtherType == 0 {
		return fmt.Errorf("acl %q: IP fields need ether_type (0x0800 or 0x86dd)", o.Name)
	}
	return nil
}

// Multicast replicates packets to a group of ports.
type Multicast struct {
	GroupID uint32   `json:"group_id"`
	Ports   []uint32 `json:"ports"`
}

// Kind implements Objective.
func (Multicast) Kind() Kind { return KindMulticast }

// Key implements Objective.
func (o Multicast) Key() string { return fmt.Sprintf("group=%d", o.GroupID) }

// Validate implements Objective.
func (o Multicast) Validate() error {
	if o.GroupID == 0 {
		return errors.New("multicast: group_id must be > 0")
	}
	if len(o.Ports) == 0 {
		return fmt.Errorf("multicast group %d: no ports", o.GroupID)
	}
	seen := map[uint32]bool{}
	for _, p := range o.Ports {
		if p == 0 || seen[p] {
			return fmt.Errorf("multicast group %d: port %d is zero or repeated", o.GroupID, p)
		}
		seen[p] = true
	}
	return nil
}

// Protocol is a protocol punted to the controller, by ether type.
type Protocol string

// Protocols a Punt objective names.
const (
	LLDP Protocol = "lldp" // ether type 0x88cc (link discovery)
	ARP  Protocol = "arp"  // ether type 0x0806
	BDDP Protocol = "bddp" // ether type 0x8942 (ONOS broadcast discovery)
)

// EtherType returns the ether type of a protocol, or 0 if unknown.
func (p Protocol) EtherType() uint16 {
	switch Protocol(strings.ToLower(string(p))) {
	case LLDP:
		return 0x88cc
	case ARP:
		return 0x0806
	case BDDP:
		return 0x8942
	}
	return 0
}

// Punt sends every packet of a protocol to the controller (as packet-in),
// from any port. Either Protocol or EtherType is set.
type Punt struct {
	Protocol  Protocol `json:"protocol,omitempty"`
	EtherType uint16   `json:"ether_type,omitempty"`
}

// Kind implements Objective.
func (Punt) Kind() Kind { return KindPunt }

// Key implements Objective.
func (o Punt) Key() string { return fmt.Sprintf("ether_type=0x%04x", o.Type()) }

// Type returns the ether type punted.
func (o Punt) Type() uint16 {
	if o.EtherType != 0 {
		return o.EtherType
	}
	return o.Protocol.EtherType()
}

// Validate implements Objective.
func (o Punt) Validate() error {
	if o.Protocol != "" && o.Protocol.EtherType() == 0 {
		return fmt.Errorf("punt: unknown protocol %q (want lldp, arp or bddp, or give ether_type)", o.Protocol)
	}
	if o.Protocol != "" && o.EtherType != 0 && o.Protocol.EtherType() != o.EtherType {
		return fmt.Errorf("punt: protocol %s is ether type 0x%04x, not 0x%04x", o.Protocol, o.Protocol.EtherType(), o.EtherType)
	}
	if o.Type() == 0 {
		return errors.New("punt: protocol or ether_type is required")
	}
	return nil
}

// UnsupportedError says that a program cannot express an objective. A
// pipeliner returns it instead of dropping the objective.
type UnsupportedError struct {
	Kind    Kind
	Key     string
	Program string
	Reason  string
}

// Error names the objective, the program and the reason.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s %s: program %s cannot express it: %s", e.Kind, e.Key, e.Program, e.Reason)
}

// Unsupported returns an *UnsupportedError for o on program.
func Unsupported(o Objective, program, reason string, args ...any) error {
	return &UnsupportedError{Kind: o.Kind(), Key: o.Key(), Program: program, Reason: fmt.Sprintf(reason, args...)}
}

// ErrUnsupported matches every *UnsupportedError with errors.Is.
var ErrUnsupported = errors.New("objective not supported by the program")

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }
