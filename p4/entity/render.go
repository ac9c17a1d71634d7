package entity

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/p4fabric/fabric/p4/codec"
)

// unknownWidth is the width of a field the schema does not know: its
// values are rendered as raw hex.
const unknownWidth = -1

// renderValue renders a value of a field by its spec: see fieldFormat for
// the notations. A value that does not fit the field is rendered in hex
// and reported.
func renderValue(b []byte, sp *spec) (string, error) {
	if sp.width == unknownWidth {
		return hexBytes(b), nil
	}
	if sp.str {
		return strconv.Quote(string(b)), nil // "" is a value (SAI-P4's default VRF)
	}
	if len(b) == 0 {
		return `""`, codec.ErrEmpty
	}
	if n := codec.BitLen(b); n > sp.width {
		return hexBytes(trimZeros(b)), &codec.RangeError{Bitwidth: sp.width, Bits: n}
	}
	return renderFit(trimZeros(b), sp.width, sp.f, false), nil
}

// renderFit renders a canonical value known to fit in w bits. With hexNum
// numbers are written in hex padded to the field's width (ternary values
// and masks, LPM values of non-address fields).
func renderFit(b []byte, w int, f format, hexNum bool) string {
	switch f {
	case fmtIPv4:
		if w <= 32 {
			var a [4]byte
			copy(a[4-len(b):], b)
			return netip.AddrFrom4(a).String()
		}
	case fmtIPv6:
		if w <= 128 {
			var a [16]byte
			copy(a[16-len(b):], b)
			if w < 128 {
				hi, lo := shl128(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), uint(128-w))
				binary.BigEndian.PutUint64(a[:8], hi)
				binary.BigEndian.PutUint64(a[8:], lo)
			}
			return netip.AddrFrom16(a).String()
		}
	case fmtMAC:
		if w <= 48 {
			var a [6]byte
			copy(a[6-len(b):], b)
			return net.HardwareAddr(a[:]).String()
		}
	case fmtHex:
		return paddedHex(b, w)
	}
	if hexNum {
		return paddedHex(b, w)
	}
	if len(b) <= 8 {
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return strconv.FormatUint(v, 10)
	}
	return "0x" + new(big.Int).SetBytes(b).Text(16)
}

// paddedHex renders "0x" and as many hex digits as a bit<w> value has.
func paddedHex(b []byte, w int) string {
	digits := (w + 3) / 4
	h := hex.EncodeToString(b)
	h = strings.TrimLeft(h, "0")
	if len(h) < digits {
		h = strings.Repeat("0", digits-len(h)) + h
	}
	if h == "" {
		h = "0"
	}
	return "0x" + h
}

// hexBytes renders raw bytes as 0x hex ("" for none).
func hexBytes(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	return "0x" + hex.EncodeToString(b)
}

// opaque renders opaque bytes (metadata): a quoted string when printable,
// hex otherwise.
func opaque(b []byte) string {
	if !printable(b) {
		return hexBytes(b)
	}
	return strconv.Quote(string(b))
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// describePort renders an SDN port (replica, watch port): a quoted string
// when the P4Info translates ports to strings and the bytes are printable,
// a number otherwise.
func describePort(b []byte, stringPorts bool) string {
	if stringPorts && len(b) > 0 && printable(b) {
		return strconv.Quote(string(b))
	}
	if len(b) == 0 {
		return `""`
	}
	if codec.BitLen(b) > 64 {
		return hexBytes(b)
	}
	v, _ := codec.Uint(b)
	return strconv.FormatUint(v, 10)
}

// renderLPM renders an LPM match: "10.0.0.0/24", "aa:bb:cc:00:00:00/24",
// "0x0a00/8".
func renderLPM(v []byte, plen int32, sp *spec) (string, error) {
	if sp.width == unknownWidth {
		return hexBytes(v) + "/" + strconv.Itoa(int(plen)), nil
	}
	var errs []error
	if plen <= 0 || int(plen) > sp.width {
		errs = append(errs, fmt.Errorf("prefix length %d out of range 1..%d", plen, sp.width))
	}
	s, err := renderPart(v, sp)
	if err != nil {
		errs = append(errs, err)
	} else if plen >= 0 && int(plen) <= sp.width && codec.HasBitsPastPrefix(v, int(plen), sp.width) {
		errs = append(errs, fmt.Errorf("value has bits set past the prefix length %d", plen))
	}
	return s + "/" + strconv.Itoa(int(plen)), joinErrs(errs)
}

// renderTernary renders "value&&&mask".
func renderTernary(v, m []byte, sp *spec) (string, error) {
	if sp.width == unknownWidth {
		return hexBytes(v) + "&&&" + hexBytes(m), nil
	}
	var errs []error
	vs, err := renderPart(v, sp)
	if err != nil {
		errs = append(errs, fmt.Errorf("value: %w", err))
	}
	ms, err := renderPart(m, sp)
	if err != nil {
		errs = append(errs, fmt.Errorf("mask: %w", err))
	}
	if len(errs) == 0 {
		if isZero(m) {
			errs = append(errs, fmt.Errorf("zero mask: a \"don't care\" match must be omitted"))
		} else if codec.AndNot(v, m) {
			errs = append(errs, fmt.Errorf("value has bits set outside the mask"))
		}
	}
	return vs + "&&&" + ms, joinErrs(errs)
}

// renderPart renders a ternary or LPM component: addresses as addresses,
// numbers in hex padded to the field's width.
func renderPart(b []byte, sp *spec) (string, error) {
	if sp.str || len(b) == 0 {
		return renderValue(b, sp)
	}
	if n := codec.BitLen(b); n > sp.width {
		return hexBytes(trimZeros(b)), &codec.RangeError{Bitwidth: sp.width, Bits: n}
	}
	return renderFit(trimZeros(b), sp.width, sp.f, true), nil
}

// renderRange renders "low..high".
func renderRange(lo, hi []byte, sp *spec) (string, error) {
	var errs []error
	ls, err := renderValue(lo, sp)
	if err != nil {
		errs = append(errs, fmt.Errorf("low: %w", err))
	}
	hs, err := renderValue(hi, sp)
	if err != nil {
		errs = append(errs, fmt.Errorf("high: %w", err))
	}
	if len(errs) == 0 && codec.Compare(lo, hi) > 0 {
		errs = append(errs, fmt.Errorf("low bound is greater than the high bound"))
	}
	return ls + ".." + hs, joinErrs(errs)
}

func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
