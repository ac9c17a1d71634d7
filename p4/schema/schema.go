// Package schema indexes a P4Info so that every P4 object can be found by
// full name, alias, unique dotted suffix or ID, with the bit widths, match
// kinds and scopes needed to validate and build entities.
//
// A Schema is immutable after New and safe for concurrent use.
//
//	s, err := schema.Load("testdata/onos-basic/basic_p4info.txt")
//	if err != nil { ... }
//	t, err := s.Table("table0")          // unique suffix of ingress.table0_control.table0
//	f, err := t.Field("hdr.ethernet.ether_type")
//	fmt.Println(t.ID, f.Bitwidth, f.Kind) // 33617813 16 TERNARY
//
// Names resolve as p4runtime-shell resolves them: an exact full name or alias
// wins; otherwise a name matches every object whose full name ends with "."
// followed by it, and it must match exactly one. An unknown or ambiguous name
// is a *LookupError that lists the candidates.
package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// MatchKind is the match type of a table key field or value-set field.
type MatchKind = p4configv1.MatchField_MatchType

// Match kinds, re-exported for brevity.
const (
	Exact    = p4configv1.MatchField_EXACT
	LPM      = p4configv1.MatchField_LPM
	Ternary  = p4configv1.MatchField_TERNARY
	Range    = p4configv1.MatchField_RANGE
	Optional = p4configv1.MatchField_OPTIONAL
)

// Kind names a kind of P4 object, as used in lookup errors.
type Kind string

// The kinds of P4 objects a Schema indexes.
const (
	KindTable          Kind = "table"
	KindAction         Kind = "action"
	KindActionProfile  Kind = "action profile"
	KindCounter        Kind = "counter"
	KindDirectCounter  Kind = "direct counter"
	KindMeter          Kind = "meter"
	KindDirectMeter    Kind = "direct meter"
	KindRegister       Kind = "register"
	KindDigest         Kind = "digest"
	KindValueSet       Kind = "value set"
	KindPacketMetadata Kind = "controller packet metadata"
	KindMatchField     Kind = "match field"
	KindParam          Kind = "action parameter"
	KindMetadataField  Kind = "metadata field"
)

// LookupError reports a name or ID that does not resolve to exactly one
// object. Candidates lists the names that were close (for an unknown name)
// or that all matched (for an ambiguous one).
type LookupError struct {
	Kind       Kind
	Name       string // the name looked up, or "" for an ID lookup
	ID         uint32 // the ID looked up, when Name is ""
	Scope      string // the enclosing object (table, action), if any
	Ambiguous  bool
	Candidates []string
}

func (e *LookupError) Error() string {
	var b strings.Builder
	what := fmt.Sprintf("%q", e.Name)
	if e.Name == "" {
		what = fmt.Sprintf("ID %d", e.ID)
	}
	if e.Ambiguous {
		fmt.Fprintf(&b, "%s %s is ambiguous", e.Kind, what)
	} else {
		fmt.Fprintf(&b, "unknown %s %s", e.Kind, what)
	}
	if e.Scope != "" {
		fmt.Fprintf(&b, " in %s", e.Scope)
	}
	if len(e.Candidates) > 0 {
		c := e.Candidates
		more := ""
		if len(c) > 12 {
			c, more = c[:12], fmt.Sprintf(", and %d more", len(e.Candidates)-12)
		}
		if e.Ambiguous {
			fmt.Fprintf(&b, ": matches %s%s", strings.Join(c, ", "), more)
		} else {
			fmt.Fprintf(&b, " (known: %s%s)", strings.Join(c, ", "), more)
		}
	}
	return b.String()
}

// Translation describes a type carried by @p4runtime_translation: the
// controller sees it either as an integer of SDNBitwidth bits or, when
// SDNString is set, as a string (SAI-P4 port and object IDs).
type Translation struct {
	TypeName    string // the P4 type name (e.g. "port_id_t")
	URI         string
	SDNBitwidth int
	SDNString   bool
}

// MatchField is a key field of a table or a field of a value set.
type MatchField struct {
	Name       string
	ID         uint32
	Bitwidth   int       // in the controller's view; 0 for SDN strings
	Kind       MatchKind // EXACT, LPM, TERNARY, RANGE or OPTIONAL; UNSPECIFIED for other_match_type
	OtherKind  string    // set for architecture-specific match kinds
	Translated *Translation
	Proto      *p4configv1.MatchField
}

// Param is an action parameter.
type Param struct {
	Name       string
	ID         uint32
	Bitwidth   int
	Translated *Translation
}

// Action is a P4 action.
type Action struct {
	Name   string
	Alias  string
	ID     uint32
	Params []*Param
	Proto  *p4configv1.Action

	paramByName map[string]*Param
	paramByID   map[uint32]*Param
}

// Param returns the parameter of that name.
func (a *Action) Param(name string) (*Param, error) {
	if p, ok := a.paramByName[name]; ok {
		return p, nil
	}
	names := make([]string, len(a.Params))
	for i, p := range a.Params {
		names[i] = p.Name
	}
	return nil, &LookupError{Kind: KindParam, Name: name, Scope: "action " + a.Name, Candidates: names}
}

// ParamByID returns the parameter with that ID, or nil.
func (a *Action) ParamByID(id uint32) *Param { return a.paramByID[id] }

// ActionRef is an action a table may use, with its scope.
type ActionRef struct {
	Action *Action
	Scope  p4configv1.ActionRef_Scope // TABLE_AND_DEFAULT, TABLE_ONLY or DEFAULT_ONLY
}

// TableOnly reports whether the action may not be a default action.
func (r *ActionRef) TableOnly() bool { return r.Scope == p4configv1.ActionRef_TABLE_ONLY }

// DefaultOnly reports whether the action may only be a default action.
func (r *ActionRef) DefaultOnly() bool { return r.Scope == p4configv1.ActionRef_DEFAULT_ONLY }

// Table is a match-action table.
type Table struct {
	Name                 string
	Alias                string
	ID                   uint32
	Size                 int64
	Fields               []*MatchField // in P4Info order
	Actions              []*ActionRef
	ConstDefaultActionID uint32 // non-zero when the default action cannot change
	IsConst              bool   // const entries: no writes at all
	HasInitialEntries    bool
	ActionProfile        *ActionProfile // non-nil for indirect tables
	DirectCounter        *DirectCounter
	DirectMeter          *DirectMeter
	IdleTimeout          bool // idle_timeout_behavior is NOTIFY_CONTROL
	// NeedsPriority is set when the table has a TERNARY, RANGE or OPTIONAL
	// field: its entries need a priority > 0, and others must not have one
	// (spec section 9.1 "TableEntry").
	NeedsPriority bool
	Proto         *p4configv1.Table

	fieldByName  map[string]*MatchField
	fieldByID    map[uint32]*MatchField
	actionByID   map[uint32]*ActionRef
	actionByName map[string]*ActionRef
}

// Field returns the match field of that name.
func (t *Table) Field(name string) (*MatchField, error) {
	if f, ok := t.fieldByName[name]; ok {
		return f, nil
	}
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return nil, &LookupError{Kind: KindMatchField, Name: name, Scope: "table " + t.Name, Candidates: names}
}

// FieldByID returns the match field with that ID, or nil.
func (t *Table) FieldByID(id uint32) *MatchField { return t.fieldByID[id] }

// ActionRef returns the table's reference to the action with that ID, or nil
// when the table cannot use it.
func (t *Table) ActionRef(id uint32) *ActionRef { return t.actionByID[id] }

// Action resolves an action the table may use by full name, alias or unique
// suffix among the table's actions.
func (t *Table) Action(name string) (*ActionRef, error) {
	if r, ok := t.actionByName[name]; ok {
		return r, nil
	}
	var matches []*ActionRef
	for _, r := range t.Actions {
		if strings.HasSuffix(r.Action.Name, "."+name) || r.Action.Alias == name {
			matches = append(matches, r)
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	names := make([]string, 0, len(t.Actions))
	if len(matches) > 1 {
		for _, r := range matches {
			names = append(names, r.Action.Name)
		}
	} else {
		for _, r := range t.Actions {
			names = append(names, r.Action.Name)
		}
	}
	return nil, &LookupError{Kind: KindAction, Name: name, Scope: "table " + t.Name, Ambiguous: len(matches) > 1, Candidates: names}
}

// ActionProfile is an action profile or, with WithSelector, an action
// selector.
type ActionProfile struct {
	Name         string
	Alias        string
	ID           uint32
	TableIDs     []uint32
	WithSelector bool
	Size         int64
	MaxGroupSize int32
	Proto        *p4configv1.ActionProfile
}

// Counter is an indirect counter array.
type Counter struct {
	Name  string
	Alias string
	ID    uint32
	Unit  p4configv1.CounterSpec_Unit
	Size  int64
	Proto *p4configv1.Counter
}

// DirectCounter is a counter attached to a table's entries.
type DirectCounter struct {
	Name    string
	Alias   string
	ID      uint32
	Unit    p4configv1.CounterSpec_Unit
	TableID uint32
	Proto   *p4configv1.DirectCounter
}

// Meter is an indirect meter array.
type Meter struct {
	Name  string
	Alias string
	ID    uint32
	Unit  p4configv1.MeterSpec_Unit
	Type  p4configv1.MeterSpec_Type
	Size  int64
	Proto *p4configv1.Meter
}

// DirectMeter is a meter attached to a table's entries.
type DirectMeter struct {
	Name    string
	Alias   string
	ID      uint32
	Unit    p4configv1.MeterSpec_Unit
	Type    p4configv1.MeterSpec_Type
	TableID uint32
	Proto   *p4configv1.DirectMeter
}

// Register is a register array. Bitwidth is the width of a bitstring
// element, or 0 when the element type is not a plain bit<W>.
type Register struct {
	Name     string
	Alias    string
	ID       uint32
	Size     int32
	Bitwidth int
	Proto    *p4configv1.Register
}

// Digest is a digest the data plane sends to the controller.
type Digest struct {
	Name  string
	Alias string
	ID    uint32
	Proto *p4configv1.Digest
}

// ValueSet is a parser value set.
type ValueSet struct {
	Name   string
	Alias  string
	ID     uint32
	Size   int32
	Fields []*MatchField
	Proto  *p4configv1.ValueSet
}

// MetadataField is a field of a packet-in or packet-out header.
type MetadataField struct {
	Name       string
	ID         uint32
	Bitwidth   int
	Translated *Translation
	// Padding is set for fields annotated @padding (SAI-P4) or named with
	// a leading "_" (the p4c convention of fabric.p4 and ONOS basic): they
	// carry no information and are sent as zero.
	Padding bool
}

// PacketMetadata is a controller packet-metadata header ("packet_in" or
// "packet_out").
type PacketMetadata struct {
	Name   string
	Alias  string
	ID     uint32
	Fields []*MetadataField
	Proto  *p4configv1.ControllerPacketMetadata

	fieldByName map[string]*MetadataField
	fieldByID   map[uint32]*MetadataField
}

// Field returns the metadata field of that name.
func (m *PacketMetadata) Field(name string) (*MetadataField, error) {
	if f, ok := m.fieldByName[name]; ok {
		return f, nil
	}
	names := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		names[i] = f.Name
	}
	return nil, &LookupError{Kind: KindMetadataField, Name: name, Scope: "controller packet metadata " + m.Name, Candidates: names}
}

// FieldByID returns the metadata field with that ID, or nil.
func (m *PacketMetadata) FieldByID(id uint32) *MetadataField { return m.fieldByID[id] }

// Format is the encoding of a P4Info file.
type Format int

// P4Info encodings.
const (
	FormatText   Format = iota // protobuf text format (p4c's .p4info.txt)
	FormatBinary               // protobuf wire format
	FormatJSON                 // protobuf JSON mapping
)

// FormatOf guesses the format from a file name: .json is JSON, .pb and .bin
// are binary, anything else (.txt, .pbtxt, .pb.txt) is text.
func FormatOf(path string) Format {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".json"):
		return FormatJSON
	case strings.HasSuffix(name, ".pb.txt"), strings.HasSuffix(name, ".txt"), strings.HasSuffix(name, ".pbtxt"):
		return FormatText
	case strings.HasSuffix(name, ".pb"), strings.HasSuffix(name, ".bin"):
		return FormatBinary
	}
	return FormatText
}

// Load reads a P4Info file, choosing the format from its name (FormatOf).
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read P4Info: %w", err)
	}
	s, err := Parse(data, FormatOf(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Unmarshal decodes a P4Info in the given format without indexing it.
func Unmarshal(data []byte, f Format) (*p4configv1.P4Info, error) {
	info := &p4configv1.P4Info{}
	var err error
	switch f {
	case FormatText:
		err = prototext.Unmarshal(data, info)
	case FormatBinary:
		err = proto.Unmarshal(data, info)
	case FormatJSON:
		err = protojson.Unmarshal(data, info)
	default:
		return nil, fmt.Errorf("unknown P4Info format %d", f)
	}
	if err != nil {
		return nil, fmt.Errorf("decode P4Info: %w", err)
	}
	return info, nil
}

// Parse decodes and indexes a P4Info.
func Parse(data []byte, f Format) (*Schema, error) {
	info, err := Unmarshal(data, f)
	if err != nil {
		return nil, err
	}
	return New(info)
}

// names indexes one kind of object by full name, alias and ID.
type names[T any] struct {
	kind     Kind
	list     []T
	byName   map[string]T
	byID     map[uint32]T
	full     []string // full names in P4Info order, for suffix search and errors
	nameByID map[uint32]string
}

func newNames[T any](kind Kind) names[T] {
	return names[T]{kind: kind, byName: map[string]T{}, byID: map[uint32]T{}, nameByID: map[uint32]string{}}
}

func (n *names[T]) add(v T, pre *p4configv1.Preamble, ids map[uint32]string) error {
	if pre == nil {
		return fmt.Errorf("%s without preamble", n.kind)
	}
	if pre.GetId() == 0 {
		return fmt.Errorf("%s %q has ID 0", n.kind, pre.GetName())
	}
	if pre.GetName() == "" {
		return fmt.Errorf("%s with ID %d has no name", n.kind, pre.GetId())
	}
	if other, dup := ids[pre.GetId()]; dup {
		return fmt.Errorf("%s %q reuses ID %d of %s", n.kind, pre.GetName(), pre.GetId(), other)
	}
	if _, dup := n.byName[pre.GetName()]; dup {
		return fmt.Errorf("duplicate %s name %q", n.kind, pre.GetName())
	}
	ids[pre.GetId()] = fmt.Sprintf("%s %q", n.kind, pre.GetName())
	n.list = append(n.list, v)
	n.byID[pre.GetId()] = v
	n.byName[pre.GetName()] = v
	n.full = append(n.full, pre.GetName())
	n.nameByID[pre.GetId()] = pre.GetName()
	if a := pre.GetAlias(); a != "" && a != pre.GetName() {
		if _, taken := n.byName[a]; !taken {
			n.byName[a] = v
		}
	}
	return nil
}

func (n *names[T]) lookup(name string) (T, error) {
	if v, ok := n.byName[name]; ok {
		return v, nil
	}
	var zero T
	var matches []string
	suffix := "." + name
	for _, full := range n.full {
		if strings.HasSuffix(full, suffix) {
			matches = append(matches, full)
		}
	}
	if len(matches) == 1 {
		return n.byName[matches[0]], nil
	}
	if len(matches) > 1 {
		return zero, &LookupError{Kind: n.kind, Name: name, Ambiguous: true, Candidates: matches}
	}
	return zero, &LookupError{Kind: n.kind, Name: name, Candidates: n.full}
}

func (n *names[T]) id(id uint32) (T, error) {
	if v, ok := n.byID[id]; ok {
		return v, nil
	}
	var zero T
	return zero, &LookupError{Kind: n.kind, ID: id}
}

// Schema is an index over one P4Info.
type Schema struct {
	info           *p4configv1.P4Info
	tables         names[*Table]
	actions        names[*Action]
	profiles       names[*ActionProfile]
	counters       names[*Counter]
	directCounters names[*DirectCounter]
	meters         names[*Meter]
	directMeters   names[*DirectMeter]
	registers      names[*Register]
	digests        names[*Digest]
	valueSets      names[*ValueSet]
	packetMeta     names[*PacketMetadata]
	translations   map[string]*Translation
}

// P4Info returns the P4Info the schema indexes. Do not modify it.
func (s *Schema) P4Info() *p4configv1.P4Info { return s.info }

// Arch returns the architecture named in the P4Info's pkg_info (e.g. "v1model").
func (s *Schema) Arch() string { return s.info.GetPkgInfo().GetArch() }

// Tables returns every table in P4Info order.
func (s *Schema) Tables() []*Table { return s.tables.list }

// Table resolves a table by full name, alias or unique suffix.
func (s *Schema) Table(name string) (*Table, error) { return s.tables.lookup(name) }

// TableByID returns the table with that ID, or nil.
func (s *Schema) TableByID(id uint32) *Table { return s.tables.byID[id] }

// Actions returns every action in P4Info order.
func (s *Schema) Actions() []*Action { return s.actions.list }

// Action resolves an action by full name, alias or unique suffix.
func (s *Schema) Action(name string) (*Action, error) { return s.actions.lookup(name) }

// ActionByID returns the action with that ID, or nil.
func (s *Schema) ActionByID(id uint32) *Action { return s.actions.byID[id] }

// ActionProfiles returns every action profile in P4Info order.
func (s *Schema) ActionProfiles() []*ActionProfile { return s.profiles.list }

// ActionProfile resolves an action profile by full name, alias or unique suffix.
func (s *Schema) ActionProfile(name string) (*ActionProfile, error) { return s.profiles.lookup(name) }

// ActionProfileByID returns the action profile with that ID, or nil.
func (s *Schema) ActionProfileByID(id uint32) *ActionProfile { return s.profiles.byID[id] }

// Counters returns every indirect counter in P4Info order.
func (s *Schema) Counters() []*Counter { return s.counters.list }

// Counter resolves an indirect counter by full name, alias or unique suffix.
func (s *Schema) Counter(name string) (*Counter, error) { return s.counters.lookup(name) }

// CounterByID returns the counter with that ID, or nil.
func (s *Schema) CounterByID(id uint32) *Counter { return s.counters.byID[id] }

// DirectCounters returns every direct counter in P4Info order.
func (s *Schema) DirectCounters() []*DirectCounter { return s.directCounters.list }

// DirectCounter resolves a direct counter by full name, alias or unique suffix.
func (s *Schema) DirectCounter(name string) (*DirectCounter, error) {
	return s.directCounters.lookup(name)
}

// DirectCounterByID returns the direct counter with that ID, or nil.
func (s *Schema) DirectCounterByID(id uint32) *DirectCounter { return s.directCounters.byID[id] }

// Meters returns every indirect meter in P4Info order.
func (s *Schema) Meters() []*Meter { return s.meters.list }

// Meter resolves an indirect meter by full name, alias or unique suffix.
func (s *Schema) Meter(name string) (*Meter, error) { return s.meters.lookup(name) }

// MeterByID returns the meter with that ID, or nil.
func (s *Schema) MeterByID(id uint32) *Meter { return s.meters.byID[id] }

// DirectMeters returns every direct meter in P4Info order.
func (s *Schema) DirectMeters() []*DirectMeter { return s.directMeters.list }

// DirectMeter resolves a direct meter by full name, alias or unique suffix.
func (s *Schema) DirectMeter(name string) (*DirectMeter, error) { return s.directMeters.lookup(name) }

// DirectMeterByID returns the direct meter with that ID, or nil.
func (s *Schema) DirectMeterByID(id uint32) *DirectMeter { return s.directMeters.byID[id] }

// Registers returns every register in P4Info order.
func (s *Schema) Registers() []*Register { return s.registers.list }

// Register resolves a register by full name, alias or unique suffix.
func (s *Schema) Register(name string) (*Register, error) { return s.registers.lookup(name) }

// RegisterByID returns the register with that ID, or nil.
func (s *Schema) RegisterByID(id uint32) *Register { return s.registers.byID[id] }

// Digests returns every digest in P4Info order.
func (s *Schema) Digests() []*Digest { return s.digests.list }

// Digest resolves a digest by full name, alias or unique suffix.
func (s *Schema) Digest(name string) (*Digest, error) { return s.digests.lookup(name) }

// DigestByID returns the digest with that ID, or nil.
func (s *Schema) DigestByID(id uint32) *Digest { return s.digests.byID[id] }

// ValueSets returns every value set in P4Info order.
func (s *Schema) ValueSets() []*ValueSet { return s.valueSets.list }

// ValueSet resolves a value set by full name, alias or unique suffix.
func (s *Schema) ValueSet(name string) (*ValueSet, error) { return s.valueSets.lookup(name) }

// ValueSetByID returns the value set with that ID, or nil.
func (s *Schema) ValueSetByID(id uint32) *ValueSet { return s.valueSets.byID[id] }

// PacketMetadataList returns every controller packet-metadata header.
func (s *Schema) PacketMetadataList() []*PacketMetadata { return s.packetMeta.list }

// PacketMetadata resolves a controller packet-metadata header by name
// ("packet_in", "packet_out"), alias or unique suffix.
func (s *Schema) PacketMetadata(name string) (*PacketMetadata, error) {
	return s.packetMeta.lookup(name)
}

// PacketMetadataByID returns the packet-metadata header with that ID, or nil.
func (s *Schema) PacketMetadataByID(id uint32) *PacketMetadata { return s.packetMeta.byID[id] }

// Translation returns the translation of a named type from the P4Info's
// type_info, or nil when the type is not translated.
func (s *Schema) Translation(typeName string) *Translation { return s.translations[typeName] }

// ObjectName returns the full name of any object by ID, for messages; ""
// when the ID is unknown.
func (s *Schema) ObjectName(id uint32) string {
	for _, n := range []interface{ nameOf(uint32) string }{&s.tables, &s.actions, &s.profiles, &s.counters, &s.directCounters, &s.meters, &s.directMeters, &s.registers, &s.digests, &s.valueSets, &s.packetMeta} {
		if name := n.nameOf(id); name != "" {
			return name
		}
	}
	return ""
}

func (n *names[T]) nameOf(id uint32) string { return n.nameByID[id] }
