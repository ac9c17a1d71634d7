package entity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
)

// format is how the values of a field are written as text.
type format uint8

const (
	fmtNumber format = iota // decimal (hex past 64 bits)
	fmtHex                  // @format(HEX_STR)
	fmtIPv4
	fmtIPv6 // for narrower fields (SAI-P4's 64-bit IPv6 halves) the upper bits of an address
	fmtMAC
	fmtString // translated to an SDN string
)

// spec says what a value is encoded for.
type spec struct {
	width int    // bits; 0 for SDN strings
	str   bool   // translated to an SDN string
	f     format // text format
	tname string // translated type name, for messages
}

// fieldFormat infers a field's text format from its annotations, width,
// match kind and name:
//
//   - translated to an SDN string: a string;
//   - @format(IPV4_ADDRESS), @format(IPV6_ADDRESS), @format(MAC_ADDRESS),
//     @format(HEX_STR) (SAI-P4): as annotated;
//   - 48 bits: a MAC address;
//   - 32 bits, for an LPM field or a name that mentions ipv4 (such as
//     hdr.ipv4.src_addr) or ends in "ip" or "ip_addr": an IPv4 address;
//   - 128 bits, for an LPM field or a name that mentions ipv6 or ends in
//     "ip" or "ip_addr": an IPv6 address;
//   - otherwise a number.
func fieldFormat(name string, width int, kind schema.MatchKind, tr *schema.Translation, annotations []string) format {
	if tr != nil && tr.SDNString {
		return fmtString
	}
	for _, a := range annotations {
		if !strings.HasPrefix(a, "@format") {
			continue
		}
		switch {
		case strings.Contains(a, "IPV4_ADDRESS"):
			return fmtIPv4
		case strings.Contains(a, "IPV6_ADDRESS"):
			return fmtIPv6
		case strings.Contains(a, "MAC_ADDRESS"):
			return fmtMAC
		case strings.Contains(a, "HEX_STR"):
			return fmtHex
		}
	}
	full := strings.ToLower(name)
	last := full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		last = full[i+1:]
	}
	ipish := strings.HasSuffix(last, "ip") || strings.HasSuffix(last, "ip_addr") || strings.HasSuffix(last, "ipaddr")
	switch width {
	case 48:
		return fmtMAC
	case 32:
		if kind == schema.LPM || strings.Contains(full, "ipv4") || ipish {
			return fmtIPv4
		}
	case 128:
		if kind == schema.LPM || strings.Contains(full, "ipv6") || ipish {
			return fmtIPv6
		}
	}
	return fmtNumber
}

func matchSpec(f *schema.MatchField) spec {
	sp := spec{width: f.Bitwidth}
	var ann []string
	if f.Proto != nil {
		ann = f.Proto.GetAnnotations()
	}
	sp.f = fieldFormat(f.Name, f.Bitwidth, f.Kind, f.Translated, ann)
	if f.Translated != nil && f.Translated.SDNString {
		sp.str, sp.width, sp.tname = true, 0, f.Translated.TypeName
	}
	return sp
}

func paramSpec(a *schema.Action, p *schema.Param) spec {
	sp := spec{width: p.Bitwidth}
	sp.f = fieldFormat(p.Name, p.Bitwidth, 0, p.Translated, paramAnnotations(a, p))
	if p.Translated != nil && p.Translated.SDNString {
		sp.str, sp.width, sp.tname = true, 0, p.Translated.TypeName
	}
	return sp
}

func paramAnnotations(a *schema.Action, p *schema.Param) []string {
	if a == nil || a.Proto == nil {
		return nil
	}
	for _, pp := range a.Proto.GetParams() {
		if pp.GetId() == p.ID {
			return pp.GetAnnotations()
		}
	}
	return nil
}

func metaSpec(m *schema.MetadataField, proto *p4configv1.ControllerPacketMetadata_Metadata) spec {
	sp := spec{width: m.Bitwidth}
	sp.f = fieldFormat(m.Name, m.Bitwidth, 0, m.Translated, proto.GetAnnotations())
	if m.Translated != nil && m.Translated.SDNString {
		sp.str, sp.width, sp.tname = true, 0, m.Translated.TypeName
	}
	return sp
}

// maxLen is an upper bound of the encoded length of v for sp, used to size
// one buffer for all values of an entity.
func maxLen(v *value, sp *spec, pad bool) int {
	if sp.str {
		switch v.k {
		case vText:
			return len(v.s)
		case vBytes:
			return len(v.b)
		case vAny:
			switch x := v.a.(type) {
			case string:
				return len(x)
			case []byte:
				return len(x)
			}
		}
		return 0
	}
	return (sp.width + 7) / 8
}

// appendValue appends the encoding of v for sp to buf: the canonical
// bytestring of a bit<W> value (full width when pad is set), or the bytes
// of an SDN string.
func appendValue(buf []byte, v *value, sp *spec, pad bool) ([]byte, error) {
	if sp.str {
		return appendSDNString(buf, v, sp)
	}
	w := sp.width
	switch v.k {
	case vNone:
		return buf, errNoValue
	case vUint:
		return appendUint(buf, v.u, w, pad)
	case vBytes:
		return appendBytes(buf, v.b, w, pad)
	case vAddr:
		return appendAddr(buf, v.p.Addr(), sp, pad)
	case vPrefix:
		return buf, errors.New("a prefix is only for an LPM field")
	case vText:
		return appendText(buf, v.s, sp, pad)
	}
	switch x := v.a.(type) {
	case string:
		return appendText(buf, x, sp, pad)
	case uint64:
		return appendUint(buf, x, w, pad)
	case uint:
		return appendUint(buf, uint64(x), w, pad)
	case uint32:
		return appendUint(buf, uint64(x), w, pad)
	case uint16:
		return appendUint(buf, uint64(x), w, pad)
	case uint8:
		return appendUint(buf, uint64(x), w, pad)
	case int:
		return appendInt(buf, int64(x), w, pad)
	case int64:
		return appendInt(buf, x, w, pad)
	case int32:
		return appendInt(buf, int64(x), w, pad)
	case int16:
		return appendInt(buf, int64(x), w, pad)
	case int8:
		return appendInt(buf, int64(x), w, pad)
	case bool:
		if x {
			return appendUint(buf, 1, w, pad)
		}
		return appendUint(buf, 0, w, pad)
	case []byte:
		return appendBytes(buf, x, w, pad)
	case net.HardwareAddr:
		return appendBytes(buf, x, w, pad)
	case net.IP:
		a, ok := netip.AddrFromSlice(x)
		if !ok {
			return buf, fmt.Errorf("invalid net.IP of %d bytes", len(x))
		}
		return appendAddr(buf, a, sp, pad)
	case netip.Addr:
		return appendAddr(buf, x, sp, pad)
	case netip.Prefix:
		return buf, errors.New("a prefix is only for an LPM field")
	case *big.Int:
		if x == nil {
			return buf, errNoValue
		}
		if x.Sign() < 0 {
			return buf, fmt.Errorf("negative value %s", x.String())
		}
		if n := x.BitLen(); n > w {
			return buf, &codec.RangeError{Bitwidth: w, Bits: n}
		}
		var tmp [32]byte
		return appendBytes(buf, x.FillBytes(tmp[:max((x.BitLen()+7)/8, 1)]), w, pad)
	}
	return buf, typeError(v.a)
}

var errNoValue = errors.New("no value")

// typeError reports a Go value the package cannot encode. It uses
// reflect.TypeOf, which does not make the value escape.
func typeError(v any) error {
	t := reflect.TypeOf(v)
	name := "nil"
	if t != nil {
		name = t.String()
	}
	return fmt.Errorf("cannot use a %s as a P4Runtime value (want an integer, []byte, net.HardwareAddr, netip.Addr, net.IP, *big.Int, bool or string)", name)
}

func appendSDNString(buf []byte, v *value, sp *spec) ([]byte, error) {
	var s string
	switch v.k {
	case vText:
		s = v.s
	case vBytes:
		return append(buf, v.b...), nil
	case vAny:
		switch x := v.a.(type) {
		case string:
			s = x
		case []byte:
			return append(buf, x...), nil
		default:
			return buf, fmt.Errorf("the field's type %s is translated to an SDN string: give a string, not a %s", sp.tname, typeName(v))
		}
	case vNone:
		return buf, errNoValue
	default:
		return buf, fmt.Errorf("the field's type %s is translated to an SDN string: give a string, not a %s", sp.tname, typeName(v))
	}
	// An empty SDN string is a value like any other (spec: "an arbitrary
	// SDN string"); SAI-P4 names its default VRF "".
	return append(buf, s...), nil
}

func typeName(v *value) string {
	switch v.k {
	case vUint:
		return "uint64"
	case vBytes:
		return "[]byte"
	case vAddr:
		return "netip.Addr"
	case vPrefix:
		return "netip.Prefix"
	case vText:
		return "string"
	case vAny:
		if t := reflect.TypeOf(v.a); t != nil {
			return t.String()
		}
	}
	return "nil"
}

func appendInt(buf []byte, v int64, w int, pad bool) ([]byte, error) {
	if v < 0 {
		return buf, fmt.Errorf("negative value %d", v)
	}
	return appendUint(buf, uint64(v), w, pad)
}

func appendUint(buf []byte, v uint64, w int, pad bool) ([]byte, error) {
	n := bits.Len64(v)
	if n > w {
		return buf, &codec.RangeError{Bitwidth: w, Bits: n}
	}
	size := max((n+7)/8, 1)
	if pad {
		for full := (w + 7) / 8; full > size; full-- {
			buf = append(buf, 0)
		}
	}
	for i := size - 1; i >= 0; i-- {
		buf = append(buf, byte(v>>(8*i)))
	}
	return buf, nil
}

func appendBytes(buf []byte, b []byte, w int, pad bool) ([]byte, error) {
	if len(b) == 0 {
		return buf, codec.ErrEmpty
	}
	i := 0
	for i < len(b)-1 && b[i] == 0 {
		i++
	}
	b = b[i:]
	if n := codec.BitLen(b); n > w {
		return buf, &codec.RangeError{Bitwidth: w, Bits: n}
	}
	if pad {
		for full := (w + 7) / 8; full > len(b); full-- {
			buf = append(buf, 0)
		}
	}
	return append(buf, b...), nil
}

// appendAddr encodes an IP address. For an IPv6-formatted field narrower
// than 128 bits (SAI-P4 matches the upper 64 bits of IPv6 addresses this
// way) the value is the upper bits of the address and the lower bits must
// be zero.
func appendAddr(buf []byte, a netip.Addr, sp *spec, pad bool) ([]byte, error) {
	if !a.IsValid() {
		return buf, errors.New("invalid IP address")
	}
	if sp.width <= 32 || sp.f == fmtIPv4 {
		a = a.Unmap()
	}
	if a.Is4() {
		if sp.f == fmtIPv6 && sp.width < 128 {
			return buf, fmt.Errorf("IPv4 address %s for an IPv6 field", a.String())
		}
		b := a.As4()
		return appendBytes(buf, b[:], sp.width, pad)
	}
	b := a.As16()
	if sp.f == fmtIPv6 && sp.width < 128 {
		hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
		shift := uint(128 - sp.width)
		if lowBitsSet(hi, lo, shift) {
			return buf, fmt.Errorf("IPv6 address %s has bits set past the upper %d bits that the field holds", a.String(), sp.width)
		}
		hi, lo = shr128(hi, lo, shift)
		binary.BigEndian.PutUint64(b[:8], hi)
		binary.BigEndian.PutUint64(b[8:], lo)
	}
	return appendBytes(buf, b[:], sp.width, pad)
}

func lowBitsSet(hi, lo uint64, n uint) bool {
	switch {
	case n == 0:
		return false
	case n < 64:
		return lo<<(64-n) != 0
	case n == 64:
		return lo != 0
	case n < 128:
		return lo != 0 || hi<<(128-n) != 0
	}
	return hi != 0 || lo != 0
}

func shr128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		return hi >> n, lo>>n | hi<<(64-n)
	case n < 128:
		return 0, hi >> (n - 64)
	}
	return 0, 0
}

func shl128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		return hi<<n | lo>>(64-n), lo << n
	case n < 128:
		return lo << (n - 64), 0
	}
	return 0, 0
}

// ParseValue parses text as the value of a bit<bitwidth> field and
// returns its canonical bytestring. The accepted notations are:
//
//   - decimal ("1024"), hexadecimal ("0x0800"), binary ("0b101") or octal
//     ("0o17") unsigned integers of any size;
//   - an IPv4 address ("10.0.0.1") when bitwidth is 32;
//   - an IPv6 address ("2001:db8::1") when bitwidth is 128;
//   - a MAC address ("aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff") when
//     bitwidth is 48.
//
// Surrounding spaces are ignored. A value that needs more bits than the
// field has is a *codec.RangeError. With bitwidth 0 (a type translated to
// an SDN string) the text is the value, byte for byte.
//
// Builders parse the strings they are given with the same rules, widened
// by the field's annotations: a field with @format(IPV4_ADDRESS),
// @format(IPV6_ADDRESS) or @format(MAC_ADDRESS) takes that notation
// whatever its width.
func ParseValue(text string, bitwidth int) ([]byte, error) {
	if bitwidth < 0 {
		return nil, fmt.Errorf("negative bit width %d", bitwidth)
	}
	sp := spec{width: bitwidth, str: bitwidth == 0}
	if sp.str {
		if text == "" {
			return nil, codec.ErrEmpty
		}
		return []byte(text), nil
	}
	return appendText(nil, text, &sp, false)
}

func appendText(buf []byte, text string, sp *spec, pad bool) ([]byte, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return buf, errors.New("empty value")
	}
	w := sp.width
	macish := w == 48 || sp.f == fmtMAC
	if strings.IndexByte(s, ':') >= 0 || (macish && strings.IndexByte(s, '-') > 0) {
		if macish {
			mac, err := net.ParseMAC(strings.Clone(s)) // do not let s escape
			if err != nil || len(mac) != 6 {
				return buf, fmt.Errorf("%s is not a MAC address", strconv.Quote(s))
			}
			return appendBytes(buf, mac, w, pad)
		}
		if w == 128 || sp.f == fmtIPv6 {
			a, err := netip.ParseAddr(strings.Clone(s)) // ParseAddr keeps zones: do not let s escape
			if err != nil || !a.Is6() || a.Zone() != "" {
				return buf, fmt.Errorf("%s is not an IPv6 address", strconv.Quote(s))
			}
			return appendAddr(buf, a, sp, pad)
		}
		return buf, fmt.Errorf("%s: a MAC address is for 48-bit fields and an IPv6 address for 128-bit fields, not bit<%d>", strconv.Quote(s), w)
	}
	if strings.IndexByte(s, '.') >= 0 {
		if w == 32 || sp.f == fmtIPv4 {
			a, err := netip.ParseAddr(strings.Clone(s))
			if err != nil || !a.Is4() {
				return buf, fmt.Errorf("%s is not an IPv4 address", strconv.Quote(s))
			}
			return appendAddr(buf, a, sp, pad)
		}
		return buf, fmt.Errorf("%s: an IPv4 address is for 32-bit fields, not bit<%d>", strconv.Quote(s), w)
	}
	return appendNumber(buf, s, w, pad)
}

func appendNumber(buf []byte, s string, w int, pad bool) ([]byte, error) {
	base, digits := 10, s
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base, digits = 16, s[2:]
		case 'b', 'B':
			base, digits = 2, s[2:]
		case 'o', 'O':
			base, digits = 8, s[2:]
		}
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' || digits[0] == '_' {
		if strings.HasPrefix(s, "-") {
			return buf, fmt.Errorf("negative value %s", strconv.Quote(s))
		}
		return buf, badNumber(s, w)
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err == nil {
		return appendUint(buf, u, w, pad)
	}
	if !errors.Is(err, strconv.ErrRange) {
		return buf, badNumber(s, w)
	}
	var x big.Int
	if _, ok := x.SetString(strings.Clone(digits), base); !ok || x.Sign() < 0 {
		return buf, badNumber(s, w)
	}
	if n := x.BitLen(); n > w {
		return buf, &codec.RangeError{Bitwidth: w, Bits: n}
	}
	return appendBytes(buf, x.Bytes(), w, pad)
}

func badNumber(s string, w int) error {
	var alt string
	switch w {
	case 32:
		alt = " or an IPv4 address"
	case 48:
		alt = " or a MAC address"
	case 128:
		alt = " or an IPv6 address"
	}
	return fmt.Errorf("cannot parse %s as a bit<%d> value: want an unsigned number (decimal, 0x hex, 0b binary, 0o octal)%s", strconv.Quote(s), w, alt)
}

// FormatValue renders a bytestring of a bit<bitwidth> value the way
// ParseValue reads it: a MAC address for 48 bits, decimal up to 64 bits
// and hexadecimal beyond; a quoted string for bitwidth 0 (SDN strings).
// Describe renders with more hints (match kind, names, annotations).
func FormatValue(value []byte, bitwidth int) string {
	if bitwidth == 0 {
		return strconv.Quote(string(value))
	}
	f := fmtNumber
	if bitwidth == 48 {
		f = fmtMAC
	}
	s, _ := renderValue(value, &spec{width: bitwidth, f: f})
	return s
}
