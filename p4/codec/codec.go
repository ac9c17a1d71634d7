// Package codec converts Go values to and from the canonical bytestrings of
// P4Runtime (spec section 8.4 "Bytestrings").
//
// A P4 bit<W> value travels as a big-endian byte string. The canonical form is
// the shortest string that holds the value (zero is one zero byte); a receiver
// accepts longer, zero-padded strings as long as the value fits in W bits.
// Encoders here always produce the canonical form; Decode accepts padded input
// from older targets and returns it canonical; Pad produces the full-width
// form for targets that still want it.
//
//	b, err := codec.Encode(netip.MustParseAddr("10.0.0.1"), 32) // 0x0a000001
//	b, err = codec.EncodeUint(1, 9)                             // 0x01
//	_, err = codec.EncodeUint(512, 9)                           // *RangeError
//
// Values of types carried by @p4runtime_translation with an SDN string (such
// as SAI-P4's port IDs) are not integers: pass them as a string with a
// bitwidth of 0 and they travel as the raw string bytes.
package codec

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
)

// ErrEmpty is returned for an empty bytestring where an integer value is
// required: the spec never allows an empty string for a bit<W> value.
var ErrEmpty = errors.New("empty bytestring")

// RangeError reports a value that does not fit in the bit width it is
// encoded for.
type RangeError struct {
	Bitwidth int // the width the value was checked against
	Bits     int // the number of significant bits the value has
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("value needs %d bits, does not fit in bit<%d>", e.Bits, e.Bitwidth)
}

// TypeError reports a Go value that has no bytestring form.
type TypeError struct {
	Value any
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("cannot encode %T as a P4Runtime bytestring", e.Value)
}

// BitLen returns the number of significant bits of a big-endian byte string.
func BitLen(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return (len(b)-i-1)*8 + bits.Len8(c)
		}
	}
	return 0
}

// trim returns b without leading zero bytes, keeping one byte for zero.
func trim(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// Fits reports whether the big-endian value b fits in bitwidth bits.
func Fits(b []byte, bitwidth int) bool {
	return BitLen(b) <= bitwidth
}

// Canonical checks that b holds a value that fits in bitwidth bits and returns
// its canonical (shortest) form. It accepts zero-padded input. The result
// shares b's backing array.
func Canonical(b []byte, bitwidth int) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrEmpty
	}
	if n := BitLen(b); n > bitwidth {
		return nil, &RangeError{Bitwidth: bitwidth, Bits: n}
	}
	return trim(b), nil
}

// IsCanonical reports whether b is already in canonical form (non-empty, no
// leading zero byte unless it is the single byte of zero).
func IsCanonical(b []byte) bool {
	return len(b) == 1 || (len(b) > 1 && b[0] != 0)
}

// Decode is Canonical under the name a reader looks for: it accepts padded
// input from older targets and returns the canonical form.
func Decode(b []byte, bitwidth int) ([]byte, error) { return Canonical(b, bitwidth) }

// EncodeUint encodes v for a bit<bitwidth> field.
func EncodeUint(v uint64, bitwidth int) ([]byte, error) {
	n := bits.Len64(v)
	if n > bitwidth {
		return nil, &RangeError{Bitwidth: bitwidth, Bits: n}
	}
	size := (n + 7) / 8
	if size == 0 {
		return []byte{0}, nil
	}
	out := make([]byte, size)
	for i := size - 1; i >= 0; i-- {
		out[i] = byte(v)
		v >>= 8
	}
	return out, nil
}

// EncodeBig encodes a non-negative big integer for a bit<bitwidth> field.
func EncodeBig(v *big.Int, bitwidth int) ([]byte, error) {
	if v == nil {
		return nil, &TypeError{Value: v}
	}
	if v.Sign() < 0 {
		return nil, fmt.Errorf("negative value %s for bit<%d>", v, bitwidth)
	}
	if n := v.BitLen(); n > bitwidth {
		return nil, &RangeError{Bitwidth: bitwidth, Bits: n}
	}
	if v.Sign() == 0 {
		return []byte{0}, nil
	}
	return v.Bytes(), nil
}

// EncodeBytes copies b into canonical form for a bit<bitwidth> field.
func EncodeBytes(b []byte, bitwidth int) ([]byte, error) {
	c, err := Canonical(b, bitwidth)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), c...), nil
}

// EncodeAddr encodes an IPv4 or IPv6 address. An IPv4-mapped IPv6 address is
// encoded as IPv4 when bitwidth is 32.
func EncodeAddr(a netip.Addr, bitwidth int) ([]byte, error) {
	if !a.IsValid() {
		return nil, fmt.Errorf("invalid IP address for bit<%d>", bitwidth)
	}
	if bitwidth <= 32 {
		a = a.Unmap()
	}
	if a.Is4() {
		b := a.As4()
		return EncodeBytes(b[:], bitwidth)
	}
	b := a.As16()
	return EncodeBytes(b[:], bitwidth)
}

// Encode encodes a Go value for a field of the given bit width. It accepts
// unsigned and non-negative signed integers, *big.Int, net.HardwareAddr,
// net.IP, netip.Addr, []byte and bool. A string is encoded as its raw bytes,
// which is right only for @p4runtime_translation types with an SDN string;
// for those, pass bitwidth 0 and no width check is made.
func Encode(v any, bitwidth int) ([]byte, error) {
	switch x := v.(type) {
	case uint64:
		return EncodeUint(x, bitwidth)
	case uint:
		return EncodeUint(uint64(x), bitwidth)
	case uint32:
		return EncodeUint(uint64(x), bitwidth)
	case uint16:
		return EncodeUint(uint64(x), bitwidth)
	case uint8:
		return EncodeUint(uint64(x), bitwidth)
	case int:
		return encodeInt(int64(x), bitwidth)
	case int64:
		return encodeInt(x, bitwidth)
	case int32:
		return encodeInt(int64(x), bitwidth)
	case int16:
		return encodeInt(int64(x), bitwidth)
	case int8:
		return encodeInt(int64(x), bitwidth)
	case bool:
		if x {
			return EncodeUint(1, bitwidth)
		}
		return EncodeUint(0, bitwidth)
	case *big.Int:
		return EncodeBig(x, bitwidth)
	case net.HardwareAddr:
		return EncodeBytes(x, bitwidth)
	case net.IP:
		a, ok := netip.AddrFromSlice(x)
		if !ok {
			return nil, fmt.Errorf("invalid IP address %v for bit<%d>", x, bitwidth)
		}
		return EncodeAddr(a, bitwidth)
	case netip.Addr:
		return EncodeAddr(x, bitwidth)
	case []byte:
		return EncodeBytes(x, bitwidth)
	case string:
		if bitwidth != 0 {
			return nil, fmt.Errorf("string %q for bit<%d>: strings are only for translated types: %w", x, bitwidth, &TypeError{Value: v})
		}
		if x == "" {
			return nil, ErrEmpty
		}
		return []byte(x), nil
	}
	return nil, &TypeError{Value: v}
}

func encodeInt(v int64, bitwidth int) ([]byte, error) {
	if v < 0 {
		return nil, fmt.Errorf("negative value %d for bit<%d>", v, bitwidth)
	}
	return EncodeUint(uint64(v), bitwidth)
}

// Uint decodes a bytestring of at most 64 significant bits.
func Uint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, ErrEmpty
	}
	if n := BitLen(b); n > 64 {
		return 0, &RangeError{Bitwidth: 64, Bits: n}
	}
	var v uint64
	for _, c := range trim(b) {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// Pad returns b left-padded with zeros to the full byte width of bitwidth,
// the form some older targets expect. A value already as wide or wider is
// returned unchanged.
func Pad(b []byte, bitwidth int) []byte {
	size := (bitwidth + 7) / 8
	b = trim(b)
	if len(b) >= size {
		return b
	}
	out := make([]byte, size)
	copy(out[size-len(b):], b)
	return out
}

// PrefixMask returns the mask of a prefix of prefixLen bits in a field of
// bitwidth bits, in canonical form.
func PrefixMask(prefixLen, bitwidth int) ([]byte, error) {
	if prefixLen < 0 || prefixLen > bitwidth {
		return nil, fmt.Errorf("prefix length %d out of range for bit<%d>", prefixLen, bitwidth)
	}
	full := make([]byte, (bitwidth+7)/8)
	for i := 0; i < prefixLen; i++ {
		bit := bitwidth - 1 - i // bit index from the least significant end
		full[len(full)-1-bit/8] |= 1 << (bit % 8)
	}
	return trim(full), nil
}

// MaskPrefix zeroes the bits of value beyond prefixLen for a bit<bitwidth>
// field and returns the canonical result, as an LPM value must be sent
// (spec section 9.1.1: no bits set past the prefix).
func MaskPrefix(value []byte, prefixLen, bitwidth int) ([]byte, error) {
	v, err := Canonical(value, bitwidth)
	if err != nil {
		return nil, err
	}
	full := Pad(v, bitwidth)
	out := make([]byte, len(full))
	copy(out, full)
	for bit := 0; bit < bitwidth-prefixLen; bit++ {
		out[len(out)-1-bit/8] &^= 1 << (bit % 8)
	}
	return trim(out), nil
}

// HasBitsPastPrefix reports whether value has any bit set beyond the first
// prefixLen bits of a bit<bitwidth> field.
func HasBitsPastPrefix(value []byte, prefixLen, bitwidth int) bool {
	low := bitwidth - prefixLen // bits that must be zero, from the least significant end
	for i := 0; i < len(value); i++ {
		byteFromEnd := len(value) - 1 - i
		c := value[i]
		if c == 0 {
			continue
		}
		for b := 0; b < 8; b++ {
			if c&(1<<b) != 0 && byteFromEnd*8+b < low {
				return true
			}
		}
	}
	return false
}

// AndNot reports whether value has bits set outside mask (value &^ mask != 0),
// aligning both strings at their least significant byte.
func AndNot(value, mask []byte) bool {
	for i := 0; i < len(value); i++ {
		v := value[len(value)-1-i]
		var m byte
		if i < len(mask) {
			m = mask[len(mask)-1-i]
		}
		if v&^m != 0 {
			return true
		}
	}
	return false
}

// Compare compares two big-endian unsigned values of any length.
func Compare(a, b []byte) int {
	for len(a) > 0 && a[0] == 0 {
		a = a[1:]
	}
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
