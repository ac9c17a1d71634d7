package entity

import (
	"net"
	"net/netip"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/schema"
)

// valueKind says which slot of a value holds the Go value.
type valueKind uint8

const (
	vNone   valueKind = iota
	vAny              // a: any Go value, converted by type
	vUint             // u
	vBytes            // b: big-endian bytes (also MAC addresses)
	vAddr             // p.Addr()
	vPrefix           // p
	vText             // s: text parsed by the field's width and format
)

// value is one Go value for a field, parameter or metadata field, kept
// unboxed when a typed helper made it.
type value struct {
	k valueKind
	u uint64
	b []byte
	a any
	s string
	p netip.Prefix
}

func anyValue(v any) value {
	if v == nil {
		return value{}
	}
	return value{k: vAny, a: v}
}

// Field is one match field of a table entry or value-set member, made by
// Exact, LPM, Ternary, Range, Optional, DontCare or MatchText.
type Field struct {
	name     string
	kind     schema.MatchKind // the kind the helper stands for
	text     bool             // MatchText: parse by the field's own kind
	dontCare bool
	v, m     value // value and mask (ternary), low and high (range)
	plen     int   // LPM prefix length; -1 when it comes with the value or is the full width
}

// Exact matches a field exactly. The value may be any value accepted by
// the package (see the package documentation), including a string parsed
// by the field's width.
func Exact(field string, v any) Field {
	return Field{name: field, kind: schema.Exact, v: anyValue(v), plen: -1}
}

// ExactUint is Exact for an unsigned integer, without boxing.
func ExactUint(field string, v uint64) Field {
	return Field{name: field, kind: schema.Exact, v: value{k: vUint, u: v}, plen: -1}
}

// ExactBytes is Exact for a big-endian byte string (such as a MAC address),
// without boxing.
func ExactBytes(field string, v []byte) Field {
	return Field{name: field, kind: schema.Exact, v: value{k: vBytes, b: v}, plen: -1}
}

// ExactAddr is Exact for an IP address, without boxing.
func ExactAddr(field string, a netip.Addr) Field {
	return Field{name: field, kind: schema.Exact, v: value{k: vAddr, p: netip.PrefixFrom(a, a.BitLen())}, plen: -1}
}

// LPM matches a longest-prefix field. The value is a netip.Prefix, a
// string such as "10.0.0.0/8" (or without "/len" for the full width), or
// any value followed by its prefix length: LPM(f, addr, 24). A prefix
// length of 0 is the "don't care" match, which the entry omits as the spec
// requires. Bits past the prefix length are cleared (see Strict).
func LPM(field string, v any, prefixLen ...int) Field {
	f := Field{name: field, kind: schema.LPM, v: anyValue(v), plen: -1}
	if p, ok := v.(netip.Prefix); ok {
		f.v = value{k: vPrefix, p: p}
	}
	switch len(prefixLen) {
	case 0:
	case 1:
		f.plen = prefixLen[0]
		if f.plen < 0 {
			f.plen = -2 // reported as invalid
		}
	default:
		f.plen = -3 // reported as invalid
	}
	return f
}

// LPMPrefix is LPM for a netip.Prefix, without boxing.
func LPMPrefix(field string, p netip.Prefix) Field {
	return Field{name: field, kind: schema.LPM, v: value{k: vPrefix, p: p}, plen: -1}
}

// LPMUint is LPM for an unsigned integer value and a prefix length,
// without boxing.
func LPMUint(field string, v uint64, prefixLen int) Field {
	if prefixLen < 0 {
		prefixLen = -2
	}
	return Field{name: field, kind: schema.LPM, v: value{k: vUint, u: v}, plen: prefixLen}
}

// Ternary matches a field under a mask. A nil mask is the full mask (every
// bit must match). A zero mask is the "don't care" match, which the entry
// omits. Value bits outside the mask are cleared (see Strict).
func Ternary(field string, v, mask any) Field {
	f := Field{name: field, kind: schema.Ternary, v: anyValue(v), m: anyValue(mask), plen: -1}
	return f
}

// TernaryUint is Ternary for unsigned integers, without boxing.
func TernaryUint(field string, v, mask uint64) Field {
	return Field{name: field, kind: schema.Ternary, v: value{k: vUint, u: v}, m: value{k: vUint, u: mask}, plen: -1}
}

// Range matches low <= field <= high. The full range of the field is the
// "don't care" match, which the entry omits.
func Range(field string, low, high any) Field {
	return Field{name: field, kind: schema.Range, v: anyValue(low), m: anyValue(high), plen: -1}
}

// RangeUint is Range for unsigned integers, without boxing.
func RangeUint(field string, low, high uint64) Field {
	return Field{name: field, kind: schema.Range, v: value{k: vUint, u: low}, m: value{k: vUint, u: high}, plen: -1}
}

// Optional matches an optional field exactly. Use DontCare for the
// wildcard.
func Optional(field string, v any) Field {
	return Field{name: field, kind: schema.Optional, v: anyValue(v), plen: -1}
}

// DontCare states that a ternary, LPM, range or optional field matches
// anything: the field is omitted from the entry. An exact field has no
// "don't care" value.
func DontCare(field string) Field {
	return Field{name: field, dontCare: true, plen: -1}
}

// MatchText matches a field with a value written as text and parsed
// according to the field's own match kind, as a command line would:
//
//	exact, optional  "10.0.0.1", "0x0800", "aa:bb:cc:dd:ee:ff", "7"
//	lpm              "10.0.0.0/8" (or a value alone for the full width)
//	ternary          "0x0800&&&0xffff", "10.0.0.0/8" (prefix mask), or a value alone (full mask)
//	range            "10..20", or a value alone (low = high)
//	any kind but exact  "*" for "don't care"
//
// For a field translated to an SDN string the text is the value as is,
// except "*" ("don't care" for an optional field).
func MatchText(field, text string) Field {
	return Field{name: field, text: true, v: value{k: vText, s: text}, plen: -1}
}

// ParamValue is the value of one action parameter, made by Param or a
// typed variant.
type ParamValue struct {
	name string
	v    value
}

// Param gives an action parameter a value (any value accepted by the
// package, including a string parsed by the parameter's width).
func Param(name string, v any) ParamValue { return ParamValue{name: name, v: anyValue(v)} }

// ParamUint is Param for an unsigned integer, without boxing.
func ParamUint(name string, v uint64) ParamValue {
	return ParamValue{name: name, v: value{k: vUint, u: v}}
}

// ParamBytes is Param for a big-endian byte string, without boxing.
func ParamBytes(name string, v []byte) ParamValue {
	return ParamValue{name: name, v: value{k: vBytes, b: v}}
}

// ParamMAC is Param for a MAC address, without boxing.
func ParamMAC(name string, mac net.HardwareAddr) ParamValue {
	return ParamValue{name: name, v: value{k: vBytes, b: mac}}
}

// ParamAddr is Param for an IP address, without boxing.
func ParamAddr(name string, a netip.Addr) ParamValue {
	return ParamValue{name: name, v: value{k: vAddr, p: netip.PrefixFrom(a, a.BitLen())}}
}

// optKind says what an Option sets.
type optKind uint8

const (
	optNone optKind = iota
	optMatch
	optAction
	optMember
	optGroup
	optActionSet
	optPriority
	optIdleTimeout
	optMetadata
	optCounterData
	optMeterConfig
	optMeterCounterData
)

var optNames = [...]string{
	optNone: "empty option", optMatch: "entity.Match", optAction: "entity.Action", optMember: "entity.Member",
	optGroup: "entity.Group", optActionSet: "entity.ActionSet", optPriority: "entity.Priority",
	optIdleTimeout: "entity.IdleTimeout", optMetadata: "entity.Metadata", optCounterData: "entity.CounterData",
	optMeterConfig: "entity.MeterConfig", optMeterCounterData: "entity.MeterCounterData",
}

// String names the option function that makes this kind of option.
func (k optKind) String() string {
	if int(k) < len(optNames) {
		return optNames[k]
	}
	return "unknown option"
}

// Option is one part of an entity: its match, action, priority, direct
// resources and so on. Options are plain values (no closures, no boxing),
// so building an entry allocates little more than the protobuf messages.
type Option struct {
	kind   optKind
	name   string
	fields []Field
	params []ParamValue
	set    []WeightedAction
	n      int64
	bytes  []byte
	c      [6]int64
}

// Match gives the match fields of a table entry. Fields not given are
// "don't care" (allowed for every kind but exact). Several Match options
// add up.
func Match(fields ...Field) Option { return Option{kind: optMatch, fields: fields} }

// Action gives the direct action of an entry, or the action of an action
// profile member or of one-shot action set member, by name (full name,
// alias or unique suffix among the table's actions), with every
// parameter's value.
func Action(name string, params ...ParamValue) Option {
	return Option{kind: optAction, name: name, params: params}
}

// Member makes an indirect table entry refer to an action profile member.
func Member(id uint32) Option { return Option{kind: optMember, n: int64(id)} }

// Group makes an indirect table entry refer to an action selector group.
func Group(id uint32) Option { return Option{kind: optGroup, n: int64(id)} }

// WeightedAction is one action of a one-shot action set, made by Weighted.
type WeightedAction struct {
	weight int32
	watch  any
	action Option
}

// Weighted is an action of a one-shot action set with its weight (> 0)
// and watch port: nil for none, an integer SDN port, or a string for
// targets whose port type is translated to a string (SAI-P4).
func Weighted(weight int32, watchPort any, action Option) WeightedAction {
	return WeightedAction{weight: weight, watch: watchPort, action: action}
}

// ActionSet programs an entry of a table implemented with an action
// selector in one shot (spec section "One Shot Action Selector
// Programming"): the target creates the group and members itself.
func ActionSet(actions ...WeightedAction) Option { return Option{kind: optActionSet, set: actions} }

// Priority sets the priority of an entry of a table with a ternary, range
// or optional field; it must be > 0 there and absent elsewhere.
func Priority(p int32) Option { return Option{kind: optPriority, n: int64(p)} }

// IdleTimeout sets the entry's time to live, for tables that support idle
// timeout; 0 means the entry never expires.
func IdleTimeout(d time.Duration) Option { return Option{kind: optIdleTimeout, n: int64(d)} }

// Metadata sets the opaque controller metadata stored with the entry.
func Metadata(b []byte) Option { return Option{kind: optMetadata, bytes: b} }

// CounterData sets counter values: the direct counter of a table entry or
// a cell of an indirect counter.
func CounterData(bytes, packets int64) Option {
	return Option{kind: optCounterData, c: [6]int64{bytes, packets}}
}

// MeterConfig sets a two-rate three-color meter (RFC 2698): committed and
// peak information rates and burst sizes, in the meter's units. It
// configures the direct meter of a table entry or a cell of an indirect
// meter.
func MeterConfig(cir, cburst, pir, pburst int64) Option {
	return Option{kind: optMeterConfig, c: [6]int64{cir, cburst, pir, pburst}}
}

// MeterConfigSrTCM sets a single-rate three-color meter (RFC 2697):
// committed rate and burst and excess burst size (pir = cir and
// pburst = cburst, as the spec requires).
func MeterConfigSrTCM(cir, cburst, eburst int64) Option {
	return Option{kind: optMeterConfig, c: [6]int64{cir, cburst, cir, cburst, eburst}}
}

// MeterCounterData sets the per-color counters of a meter, each as
// {bytes, packets} for green, yellow and red. Writes accept only zeros (a
// reset).
func MeterCounterData(green, yellow, red [2]int64) Option {
	return Option{kind: optMeterCounterData, c: [6]int64{green[0], green[1], yellow[0], yellow[1], red[0], red[1]}}
}

// GroupMember is one member of an action selector group, made by
// WeightedMember.
type GroupMember struct {
	id     uint32
	weight int32
	watch  any
}

// WeightedMember is a group member with its weight (> 0).
func WeightedMember(memberID uint32, weight int32) GroupMember {
	return GroupMember{id: memberID, weight: weight}
}

// Watch returns the member with a watch port: an integer SDN port, or a
// string for targets whose ports are translated to strings.
func (m GroupMember) Watch(port any) GroupMember { m.watch = port; return m }

// Replica is one copy made by a multicast group or clone session, made by
// NewReplica.
type Replica struct {
	port     any
	instance uint32
	backups  []Replica
}

// NewReplica is a replica to an egress port (an integer SDN port, or a
// string for targets whose ports are translated to strings) with its
// instance number.
func NewReplica(port any, instance uint32) Replica {
	return Replica{port: port, instance: instance}
}

// Backup returns the replica with one more backup replica (P4Runtime 1.5),
// used in order when the ports before it are down.
func (r Replica) Backup(port any, instance uint32) Replica {
	r.backups = append(r.backups[:len(r.backups):len(r.backups)], Replica{port: port, instance: instance})
	return r
}

// ValueSetMember is one member of a parser value set, made by Values.
type ValueSetMember struct {
	fields []Field
}

// Values is a value set member: a value for each field of the set.
func Values(fields ...Field) ValueSetMember { return ValueSetMember{fields: fields} }

// PacketMeta is the value of one packet-out metadata field, made by Meta.
type PacketMeta struct {
	name string
	v    value
}

// Meta gives a controller packet metadata field a value by name (any
// value accepted by the package, including text).
func Meta(name string, v any) PacketMeta { return PacketMeta{name: name, v: anyValue(v)} }

// MetaUint is Meta for an unsigned integer, without boxing.
func MetaUint(name string, v uint64) PacketMeta {
	return PacketMeta{name: name, v: value{k: vUint, u: v}}
}

// DigestConfig is the configuration of a digest (spec "DigestEntry").
type DigestConfig struct {
	MaxTimeout  time.Duration // how long the oldest digest may wait
	MaxListSize int32         // digests per list; 0 for the target's choice
	AckTimeout  time.Duration // how long the target waits for an ack
}

// counterData returns the CounterData message of an option.
func (o *Option) counterData() *p4v1.CounterData {
	return &p4v1.CounterData{ByteCount: o.c[0], PacketCount: o.c[1]}
}

func (o *Option) meterConfig() *p4v1.MeterConfig {
	return &p4v1.MeterConfig{Cir: o.c[0], Cburst: o.c[1], Pir: o.c[2], Pburst: o.c[3], Eburst: o.c[4]}
}

func (o *Option) meterCounterData() *p4v1.MeterCounterData {
	return &p4v1.MeterCounterData{
		Green:  &p4v1.CounterData{ByteCount: o.c[0], PacketCount: o.c[1]},
		Yellow: &p4v1.CounterData{ByteCount: o.c[2], PacketCount: o.c[3]},
		Red:    &p4v1.CounterData{ByteCount: o.c[4], PacketCount: o.c[5]},
	}
}
