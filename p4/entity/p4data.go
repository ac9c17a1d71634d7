package entity

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
)

// maxDataDepth bounds the nesting of P4Data rendered, so that hostile
// input cannot make rendering unbounded.
const maxDataDepth = 32

// renderP4Data renders a P4Data without a type spec: a bitstring of the
// given width (0 if unknown) as a number, others structurally.
func renderP4Data(d *p4v1.P4Data, width int, depth int) (string, error) {
	return renderTyped(d, nil, nil, width, "", depth)
}

// renderTyped renders a P4Data, using its type spec and the P4Info's
// type_info when known: struct members by name, bitstrings by width and
// member name (MAC, IPv4 hints).
func renderTyped(d *p4v1.P4Data, ts *p4configv1.P4DataTypeSpec, info *p4configv1.P4Info, width int, name string, depth int) (string, error) {
	if depth > maxDataDepth {
		return "...", errors.New("P4Data nested too deep")
	}
	if d == nil {
		return "<nil>", errors.New("no data")
	}
	if w := int(ts.GetBitstring().GetBit().GetBitwidth()); w > 0 {
		width = w
	}
	switch x := d.GetData().(type) {
	case *p4v1.P4Data_Bitstring:
		if width > 0 {
			sp := spec{width: width, f: fieldFormat(name, width, 0, nil, nil)}
			return renderValue(x.Bitstring, &sp)
		}
		if len(x.Bitstring) == 0 {
			return `""`, codec.ErrEmpty
		}
		return renderFit(trimZeros(x.Bitstring), 8*len(x.Bitstring), fmtNumber, false), nil
	case *p4v1.P4Data_Varbit:
		return fmt.Sprintf("varbit<%d>(%s)", x.Varbit.GetBitwidth(), hexBytes(x.Varbit.GetBitstring())), nil
	case *p4v1.P4Data_Bool:
		return strconv.FormatBool(x.Bool), nil
	case *p4v1.P4Data_Enum:
		return x.Enum, nil
	case *p4v1.P4Data_Error:
		return "error." + x.Error, nil
	case *p4v1.P4Data_EnumValue:
		return hexBytes(x.EnumValue), nil
	case *p4v1.P4Data_Tuple:
		var members []*p4configv1.P4DataTypeSpec
		if t := ts.GetTuple(); t != nil {
			members = t.GetMembers()
		}
		return renderMembers("(", ")", x.Tuple.GetMembers(), func(i int) (*p4configv1.P4DataTypeSpec, string) {
			if i < len(members) {
				return members[i], ""
			}
			return nil, ""
		}, info, depth)
	case *p4v1.P4Data_Struct:
		var members []*p4configv1.P4StructTypeSpec_Member
		if s := ts.GetStruct(); s != nil && info != nil {
			members = info.GetTypeInfo().GetStructs()[s.GetName()].GetMembers()
		}
		if len(members) != len(x.Struct.GetMembers()) {
			members = nil
		}
		return renderMembers("{", "}", x.Struct.GetMembers(), func(i int) (*p4configv1.P4DataTypeSpec, string) {
			if members != nil {
				return members[i].GetTypeSpec(), members[i].GetName()
			}
			return nil, ""
		}, info, depth)
	case *p4v1.P4Data_Header:
		return renderHeader(x.Header), nil
	case *p4v1.P4Data_HeaderUnion:
		return fmt.Sprintf("union(%s: %s)", x.HeaderUnion.GetValidHeaderName(), renderHeader(x.HeaderUnion.GetValidHeader())), nil
	case *p4v1.P4Data_HeaderStack:
		parts := make([]string, len(x.HeaderStack.GetEntries()))
		for i, h := range x.HeaderStack.GetEntries() {
			parts[i] = renderHeader(h)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case *p4v1.P4Data_HeaderUnionStack:
		parts := make([]string, len(x.HeaderUnionStack.GetEntries()))
		for i, u := range x.HeaderUnionStack.GetEntries() {
			parts[i] = fmt.Sprintf("union(%s: %s)", u.GetValidHeaderName(), renderHeader(u.GetValidHeader()))
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "<empty>", errors.New("empty P4Data")
}

func renderMembers(open, close string, ds []*p4v1.P4Data, spec func(int) (*p4configv1.P4DataTypeSpec, string), info *p4configv1.P4Info, depth int) (string, error) {
	var b strings.Builder
	var errs []error
	b.WriteString(open)
	for i, m := range ds {
		if i > 0 {
			b.WriteString(", ")
		}
		ts, name := spec(i)
		if name != "" {
			b.WriteString(name)
			b.WriteByte('=')
		}
		s, err := renderTyped(m, ts, info, 0, name, depth+1)
		if err != nil {
			label := name
			if label == "" {
				label = strconv.Itoa(i)
			}
			errs = append(errs, fmt.Errorf("member %s: %w", label, err))
		}
		b.WriteString(s)
	}
	b.WriteString(close)
	return b.String(), joinErrs(errs)
}

func renderHeader(h *p4v1.P4Header) string {
	if !h.GetIsValid() {
		return "invalid"
	}
	parts := make([]string, len(h.GetBitstrings()))
	for i, bs := range h.GetBitstrings() {
		parts[i] = hexBytes(bs)
	}
	return "valid(" + strings.Join(parts, ", ") + ")"
}

// ReadableDigestList is a digest list decoded by name.
type ReadableDigestList struct {
	Digest    string   `json:"digest" yaml:"digest"`
	ListID    uint64   `json:"list_id" yaml:"list_id"`
	Timestamp string   `json:"timestamp,omitempty" yaml:"timestamp,omitempty"` // RFC 3339, UTC
	Entries   []string `json:"entries" yaml:"entries"`
}

// String renders the digest list on one line.
func (l *ReadableDigestList) String() string {
	if l == nil {
		return "<nil>"
	}
	return fmt.Sprintf("digest_list %s list=%d entries(%s)", l.Digest, l.ListID, strings.Join(l.Entries, ", "))
}

// DescribeDigestList renders the entries of a digest list with the type
// of the digest: struct members by name, values by width and name.
func DescribeDigestList(s *schema.Schema, l *p4v1.DigestList) (*ReadableDigestList, error) {
	r := &ReadableDigestList{Digest: idName(l.GetDigestId()), ListID: l.GetListId(), Entries: []string{}}
	if ts := l.GetTimestamp(); ts != 0 {
		r.Timestamp = time.Unix(0, ts).UTC().Format(time.RFC3339Nano)
	}
	var (
		dg   *schema.Digest
		errs []error
	)
	if s != nil {
		dg = s.DigestByID(l.GetDigestId())
	}
	if dg != nil {
		r.Digest = dg.Name
	} else {
		errs = append(errs, fmt.Errorf("unknown digest ID %d", l.GetDigestId()))
	}
	var (
		ts   *p4configv1.P4DataTypeSpec
		info *p4configv1.P4Info
	)
	if dg != nil {
		ts, info = dg.Proto.GetTypeSpec(), s.P4Info()
	}
	for i, d := range l.GetData() {
		text, err := renderTyped(d, ts, info, 0, "", 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s entry %d: %w", r.Digest, i, err))
		}
		r.Entries = append(r.Entries, text)
	}
	return r, errors.Join(errs...)
}
