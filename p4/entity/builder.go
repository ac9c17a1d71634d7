package entity

import (
	"errors"
	"strconv"
	"strings"

	"github.com/p4fabric/fabric/p4/schema"
)

// Builder turns names and Go values into P4Runtime entities for one P4Info.
// It is immutable after NewBuilder and safe for concurrent use.
type Builder struct {
	s           *schema.Schema
	strict      bool
	pad         bool
	legacyPorts bool
	stringPorts bool
	x           *index
}

// BuilderOption configures a Builder.
type BuilderOption func(*Builder)

// Strict makes the builder reject values that the P4Runtime spec requires
// to be normalised instead of normalising them: an LPM value with bits set
// past its prefix length and a ternary value with bits set outside its
// mask. By default such bits are cleared, as p4runtime-shell does, so that
// "10.0.0.1/24" means 10.0.0.0/24.
func Strict() BuilderOption { return func(b *Builder) { b.strict = true } }

// PadValues makes the builder send every bit<W> value at its full byte
// width (the form some targets older than P4Runtime 1.1 expect) instead of
// the canonical shortest form. SDN strings are never padded.
func PadValues() BuilderOption { return func(b *Builder) { b.pad = true } }

// LegacyReplicaPorts makes PRE replicas with numeric ports use the
// egress_port field deprecated in P4Runtime 1.4 instead of the port
// bytestring, for targets that predate 1.4. String ports always use port.
func LegacyReplicaPorts() BuilderOption { return func(b *Builder) { b.legacyPorts = true } }

// NewBuilder returns a Builder for the P4Info that s indexes.
func NewBuilder(s *schema.Schema, opts ...BuilderOption) *Builder {
	b := &Builder{s: s}
	for _, o := range opts {
		if o != nil {
			o(b)
		}
	}
	b.stringPorts = stringPorts(s)
	b.x = newIndex(s)
	return b
}

// Schema returns the schema the builder resolves names with.
func (b *Builder) Schema() *schema.Schema { return b.s }

// stringPorts reports whether the P4Info translates a port type to an SDN
// string (as SAI-P4 does with port_id_t), in which case PRE and watch
// ports are rendered as strings.
func stringPorts(s *schema.Schema) bool {
	if s == nil {
		return false
	}
	for name, t := range s.P4Info().GetTypeInfo().GetNewTypes() {
		if t.GetTranslatedType().GetSdnString() != nil && strings.Contains(strings.ToLower(name), "port") {
			return true
		}
	}
	return false
}

// Error is the error every builder method returns for a value or name at
// fault. It names the object (table, action profile, counter, ...), and
// where relevant the match field, action and parameter, and wraps the
// cause: a *schema.LookupError for an unknown name, a *codec.RangeError for
// a value too wide for its field, or a plain error.
type Error struct {
	Kind   schema.Kind // kind of the top-level object: table, action profile, counter, ...
	Name   string      // its full name, or the name given when it did not resolve
	Field  string      // match field or packet metadata field, if any
	Action string      // action, if the fault is in an action specification
	Param  string      // action parameter, if any
	Err    error
}

// Error renders the names at fault, outermost first, then the cause:
// `table "t": field "f": value needs 33 bits, does not fit in bit<32>`.
func (e *Error) Error() string {
	type part struct{ kind, name string }
	parts := make([]part, 0, 4)
	if e.Kind != "" {
		parts = append(parts, part{string(e.Kind), e.Name})
	}
	if e.Field != "" {
		parts = append(parts, part{"field", e.Field})
	}
	if e.Action != "" {
		parts = append(parts, part{"action", e.Action})
	}
	if e.Param != "" {
		parts = append(parts, part{"param", e.Param})
	}
	// An unknown or ambiguous name already names itself.
	var le *schema.LookupError
	if len(parts) > 0 && errors.As(e.Err, &le) && le.Name != "" && le.Name == parts[len(parts)-1].name {
		parts = parts[:len(parts)-1]
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.kind)
		if p.name != "" {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(p.name))
		}
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

var errNoSchema = errors.New("entity: builder has no schema (use NewBuilder)")

// errAt builds an *Error. The names are copied so that the caller's option
// values never escape through an error (which keeps the happy path free
// of heap allocations for them).
//
//go:noinline
func errAt(kind schema.Kind, name, field, action, param string, err error) error {
	return &Error{Kind: kind, Name: strings.Clone(name), Field: strings.Clone(field),
		Action: strings.Clone(action), Param: strings.Clone(param), Err: err}
}
