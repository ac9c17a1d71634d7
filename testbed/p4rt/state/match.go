package state

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// keySpec describes the key of a table or the fields of a value set.
type keySpec struct {
	fields []*schema.MatchField
	byID   map[uint32]int // position of a field by ID; nil for few fields (linear scan)
}

func newKeySpec(fields []*schema.MatchField) *keySpec {
	k := &keySpec{fields: fields}
	if len(fields) > 8 {
		k.byID = make(map[uint32]int, len(fields))
		for i, f := range fields {
			k.byID[f.ID] = i
		}
	}
	return k
}

func (k *keySpec) pos(id uint32) int {
	if k.byID != nil {
		if p, ok := k.byID[id]; ok {
			return p
		}
		return -1
	}
	for i, f := range k.fields {
		if f.ID == id {
			return i
		}
	}
	return -1
}

// isString reports whether values of a field or parameter are SDN strings
// (@p4runtime_translation to string): raw bytes, no width, not trimmed.
func isString(tr *schema.Translation) bool { return tr != nil && tr.SDNString }

// canonical checks one bytestring for a bit<bitwidth> value and returns its
// canonical form (spec "Bytestrings": an empty string or a value that does
// not fit is OUT_OF_RANGE). An SDN string is taken as it is, empty
// included: the spec allows "an arbitrary SDN string", and SAI-P4 names its
// default VRF "" (@p4runtime_translation_mappings {"", 0}), which PINS
// switches accept in route entries. On failure it returns the code and a
// reason.
func canonical(b []byte, bitwidth int, str bool) ([]byte, codes.Code, string) {
	if str {
		return b, codes.OK, ""
	}
	c, err := codec.Canonical(b, bitwidth)
	if err != nil {
		var re *codec.RangeError
		switch {
		case errors.Is(err, codec.ErrEmpty):
			return nil, codes.OutOfRange, "empty bytestring"
		case errors.As(err, &re):
			return nil, codes.OutOfRange, re.Error()
		}
		return nil, codes.OutOfRange, err.Error()
	}
	return c, codes.OK, ""
}

// trimZ returns the canonical form of a validated bytestring.
func trimZ(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// isMax reports whether the canonical value c is 2^bitwidth-1.
func isMax(c []byte, bitwidth int) bool {
	if codec.BitLen(c) != bitwidth {
		return false
	}
	n := 0
	for _, x := range c {
		n += bits.OnesCount8(x)
	}
	return n == bitwidth
}

func isZero(c []byte) bool { return codec.BitLen(c) == 0 }

// matchError names the field at fault.
func matchError(code codes.Code, f *schema.MatchField, format string, args ...any) *opError {
	e := errf(code, format, args...)
	e.msg = "match field " + quote(f.Name) + ": " + e.msg
	return e
}

// checkField validates one FieldMatch against its field (spec "Match
// Format"). dirty is set when a value is valid but not canonical.
func checkField(f *schema.MatchField, fm *p4v1.FieldMatch) (dirty bool, oe *opError) {
	str := isString(f.Translated)
	val := func(b []byte, what string) []byte {
		if oe != nil {
			return nil
		}
		c, code, why := canonical(b, f.Bitwidth, str)
		if code != codes.OK {
			oe = matchError(code, f, "%s: %s", what, why)
			return nil
		}
		if len(c) != len(b) {
			dirty = true
		}
		return c
	}
	kindErr := func() *opError {
		return matchError(codes.InvalidArgument, f, "is %s, got a %s match", kindName(f), fieldMatchKind(fm))
	}
	switch f.Kind {
	case schema.Exact:
		m := fm.GetExact()
		if m == nil {
			return false, kindErr()
		}
		val(m.GetValue(), "value")
	case schema.Optional:
		m := fm.GetOptional()
		if m == nil {
			return false, kindErr()
		}
		val(m.GetValue(), "value")
	case schema.LPM:
		m := fm.GetLpm()
		if m == nil {
			return false, kindErr()
		}
		if str {
			return false, matchError(codes.InvalidArgument, f, "LPM on a string-translated field")
		}
		c := val(m.GetValue(), "value")
		if oe != nil {
			return false, oe
		}
		pl := int(m.GetPrefixLen())
		switch {
		case pl < 0 || pl > f.Bitwidth:
			return false, matchError(codes.InvalidArgument, f, "prefix length %d out of range for bit<%d>", m.GetPrefixLen(), f.Bitwidth)
		case pl == 0:
			return false, matchError(codes.InvalidArgument, f, "LPM with prefix length 0 is a don't-care match and must be omitted")
		case codec.HasBitsPastPrefix(c, pl, f.Bitwidth):
			return false, matchError(codes.InvalidArgument, f, "value 0x%x has bits set past the /%d prefix", c, pl)
		}
	case schema.Ternary:
		m := fm.GetTernary()
		if m == nil {
			return false, kindErr()
		}
		if str {
			return false, matchError(codes.InvalidArgument, f, "TERNARY on a string-translated field")
		}
		v := val(m.GetValue(), "value")
		mk := val(m.GetMask(), "mask")
		if oe != nil {
			return false, oe
		}
		if isZero(mk) {
			return false, matchError(codes.InvalidArgument, f, "ternary mask 0 is a don't-care match and must be omitted")
		}
		if codec.AndNot(v, mk) {
			return false, matchError(codes.InvalidArgument, f, "value 0x%x has bits set outside mask 0x%x", v, mk)
		}
	case schema.Range:
		m := fm.GetRange()
		if m == nil {
			return false, kindErr()
		}
		if str {
			return false, matchError(codes.InvalidArgument, f, "RANGE on a string-translated field")
		}
		lo := val(m.GetLow(), "low")
		hi := val(m.GetHigh(), "high")
		if oe != nil {
			return false, oe
		}
		if codec.Compare(lo, hi) > 0 {
			return false, matchError(codes.InvalidArgument, f, "range low 0x%x > high 0x%x", lo, hi)
		}
		if isZero(lo) && isMax(hi, f.Bitwidth) {
			return false, matchError(codes.InvalidArgument, f, "range covering every value is a don't-care match and must be omitted")
		}
	default:
		return false, matchError(codes.Unimplemented, f, "architecture-specific match kind %q is not supported", f.OtherKind)
	}
	return dirty, oe
}

func kindName(f *schema.MatchField) string {
	if f.OtherKind != "" && f.Kind == 0 {
		return f.OtherKind
	}
	return f.Kind.String()
}

func fieldMatchKind(fm *p4v1.FieldMatch) string {
	switch fm.GetFieldMatchType().(type) {
	case *p4v1.FieldMatch_Exact_:
		return "EXACT"
	case *p4v1.FieldMatch_Ternary_:
		return "TERNARY"
	case *p4v1.FieldMatch_Lpm:
		return "LPM"
	case *p4v1.FieldMatch_Range_:
		return "RANGE"
	case *p4v1.FieldMatch_Optional_:
		return "OPTIONAL"
	case *p4v1.FieldMatch_Other:
		return "other"
	}
	return "empty"
}

// check validates a match (spec "Match Format": every field ID known and
// given once, EXACT fields present, don't-care matches omitted, bytestrings
// valid) and appends to key a canonical encoding of it that does not depend
// on the order of the FieldMatch messages. dirty is set when some value is
// valid but not in canonical form.
func (k *keySpec) check(what string, matches []*p4v1.FieldMatch, key []byte) (out []byte, dirty bool, oe *opError) {
	n := len(k.fields)
	var idxArr [24]int32
	var idx []int32
	if n <= len(idxArr) {
		idx = idxArr[:n]
	} else {
		idx = make([]int32, n)
	}
	for i := range idx {
		idx[i] = -1
	}
	for i, fm := range matches {
		p := k.pos(fm.GetFieldId())
		if p < 0 {
			return key, false, errf(codes.InvalidArgument, "%s has no match field with ID %d", what, fm.GetFieldId())
		}
		if idx[p] >= 0 {
			return key, false, errf(codes.InvalidArgument, "%s: match field %s given twice", what, quote(k.fields[p].Name))
		}
		idx[p] = int32(i)
		dm, err := checkField(k.fields[p], fm)
		if err != nil {
			err.msg = what + ": " + err.msg
			return key, false, err
		}
		dirty = dirty || dm
	}
	for p, f := range k.fields {
		if idx[p] < 0 && f.Kind == schema.Exact {
			return key, false, errf(codes.InvalidArgument, "%s: EXACT match field %s is missing", what, quote(f.Name))
		}
	}
	for p, f := range k.fields {
		if idx[p] < 0 {
			key = append(key, 0)
			continue
		}
		str := isString(f.Translated)
		c := func(b []byte) []byte {
			if str {
				return b
			}
			return trimZ(b)
		}
		switch m := matches[idx[p]].GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			key = append(key, 1)
			key = appendBytes(key, c(m.Exact.GetValue()))
		case *p4v1.FieldMatch_Optional_:
			key = append(key, 2)
			key = appendBytes(key, c(m.Optional.GetValue()))
		case *p4v1.FieldMatch_Lpm:
			key = append(key, 3)
			key = appendBytes(key, c(m.Lpm.GetValue()))
			key = binary.AppendUvarint(key, uint64(m.Lpm.GetPrefixLen()))
		case *p4v1.FieldMatch_Ternary_:
			key = append(key, 4)
			key = appendBytes(key, c(m.Ternary.GetValue()))
			key = appendBytes(key, c(m.Ternary.GetMask()))
		case *p4v1.FieldMatch_Range_:
			key = append(key, 5)
			key = appendBytes(key, c(m.Range.GetLow()))
			key = appendBytes(key, c(m.Range.GetHigh()))
		}
	}
	return key, dirty, nil
}

func appendBytes(key, b []byte) []byte {
	key = binary.AppendUvarint(key, uint64(len(b)))
	return append(key, b...)
}

// canonMatches returns copies of matches with every bytestring in
// canonical form. The matches have been validated by check.
func (k *keySpec) canonMatches(matches []*p4v1.FieldMatch) []*p4v1.FieldMatch {
	out := make([]*p4v1.FieldMatch, len(matches))
	for i, fm := range matches {
		p := k.pos(fm.GetFieldId())
		c := proto.Clone(fm).(*p4v1.FieldMatch)
		out[i] = c
		if p < 0 || isString(k.fields[p].Translated) {
			continue
		}
		switch m := c.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			m.Exact.Value = trimZ(m.Exact.Value)
		case *p4v1.FieldMatch_Optional_:
			m.Optional.Value = trimZ(m.Optional.Value)
		case *p4v1.FieldMatch_Lpm:
			m.Lpm.Value = trimZ(m.Lpm.Value)
		case *p4v1.FieldMatch_Ternary_:
			m.Ternary.Value = trimZ(m.Ternary.Value)
			m.Ternary.Mask = trimZ(m.Ternary.Mask)
		case *p4v1.FieldMatch_Range_:
			m.Range.Low = trimZ(m.Range.Low)
			m.Range.High = trimZ(m.Range.High)
		}
	}
	return out
}
