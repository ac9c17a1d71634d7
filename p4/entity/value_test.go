package entity_test

import (
	"bytes"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/entity"
)

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		text  string
		width int
		want  []byte
		err   string // substring of the error; "" for success
	}{
		{"0", 1, []byte{0}, ""},
		{"1", 1, []byte{1}, ""},
		{"2", 1, nil, "value needs 2 bits, does not fit in bit<1>"},
		{"1024", 16, []byte{4, 0}, ""},
		{"0x0800", 16, []byte{8, 0}, ""},
		{"0X1ff", 9, []byte{1, 0xff}, ""},
		{"0x200", 9, nil, "value needs 10 bits, does not fit in bit<9>"},
		{"0b101", 3, []byte{5}, ""},
		{"0o17", 4, []byte{15}, ""},
		{"010", 8, []byte{10}, ""}, // decimal, not octal
		{"  42 ", 8, []byte{42}, ""},
		{"18446744073709551615", 64, bytes.Repeat([]byte{0xff}, 8), ""},
		{"18446744073709551616", 65, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"18446744073709551616", 64, nil, "value needs 65 bits, does not fit in bit<64>"},
		{"0xffffffffffffffffffffffffffffffff", 128, bytes.Repeat([]byte{0xff}, 16), ""},
		{"10.0.0.1", 32, []byte{10, 0, 0, 1}, ""},
		{"0.0.0.0", 32, []byte{0}, ""},
		{"10.0.0.1", 16, nil, "an IPv4 address is for 32-bit fields, not bit<16>"},
		{"10.0.0.256", 32, nil, "is not an IPv4 address"},
		{"aa:bb:cc:dd:ee:ff", 48, []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, ""},
		{"00-11-22-33-44-55", 48, []byte{0x11, 0x22, 0x33, 0x44, 0x55}, ""},
		{"aa:bb:cc:dd:ee", 48, nil, "is not a MAC address"},
		{"aa:bb:cc:dd:ee:ff:00:11", 48, nil, "is not a MAC address"},
		{"2001:db8::1", 128, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, ""},
		{"::", 128, []byte{0}, ""},
		{"fe80::1%eth0", 128, nil, "is not an IPv6 address"},
		{"2001:db8::1", 64, nil, "a MAC address is for 48-bit fields and an IPv6 address for 128-bit fields, not bit<64>"},
		{"-1", 8, nil, "negative value"},
		{"+1", 8, nil, "cannot parse"},
		{"0x", 8, nil, "cannot parse"},
		{"1_000", 16, nil, "cannot parse"},
		{"0x_1", 16, nil, "cannot parse"},
		{"abc", 8, nil, "cannot parse \"abc\" as a bit<8> value"},
		{"", 8, nil, "empty value"},
		{"Ethernet1", 0, []byte("Ethernet1"), ""},
		{" spaced ", 0, []byte(" spaced "), ""},
		{"", 0, nil, "empty bytestring"},
		{"1", -1, nil, "negative bit width"},
	} {
		got, err := entity.ParseValue(tc.text, tc.width)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseValue(%q, %d): %v", tc.text, tc.width, err)
		case tc.err != "" && err == nil:
			t.Errorf("ParseValue(%q, %d) = %x, want error %q", tc.text, tc.width, got, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ParseValue(%q, %d): error %q, want %q", tc.text, tc.width, err, tc.err)
		case tc.err == "" && !bytes.Equal(got, tc.want):
			t.Errorf("ParseValue(%q, %d) = %x, want %x", tc.text, tc.width, got, tc.want)
		}
	}
	_, err := entity.ParseValue("256", 8)
	var re *codec.RangeError
	if !errors.As(err, &re) || re.Bits != 9 || re.Bitwidth != 8 {
		t.Errorf("ParseValue range error = %v, want a *codec.RangeError", err)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v     []byte
		width int
		want  string
	}{
		{[]byte{0}, 9, "0"},
		{[]byte{1, 0xff}, 9, "511"},
		{[]byte{0, 0, 1, 0xff}, 9, "511"}, // padded input
		{[]byte{0x11, 0x22, 0x33, 0x44, 0x55}, 48, "00:11:22:33:44:55"},
		{[]byte{10, 0, 0, 1}, 32, "167772161"},
		{bytes.Repeat([]byte{0xff}, 9), 72, "0xffffffffffffffffff"},
		{[]byte("Ethernet1"), 0, `"Ethernet1"`},
		{[]byte{0x02, 0}, 9, "0x0200"}, // does not fit: raw hex
	} {
		if got := entity.FormatValue(tc.v, tc.width); got != tc.want {
			t.Errorf("FormatValue(%x, %d) = %s, want %s", tc.v, tc.width, got, tc.want)
		}
	}
}

// TestParseFormatRoundTrip checks that FormatValue renders what ParseValue
// reads back.
func TestParseFormatRoundTrip(t *testing.T) {
	for _, w := range []int{1, 7, 8, 9, 12, 16, 32, 48, 64, 65, 128} {
		for _, text := range []string{"0", "1", "5", "0x7f", "511", "0xffff", "4294967295", "0xffffffffffff", "0x1ffffffffffffffff"} {
			v, err := entity.ParseValue(text, w)
			if err != nil {
				continue
			}
			s := entity.FormatValue(v, w)
			back, err := entity.ParseValue(s, w)
			if err != nil || !bytes.Equal(back, v) {
				t.Errorf("bit<%d> %s: formatted %s, parsed back %x (%v), want %x", w, text, s, back, err, v)
			}
		}
	}
}

// TestGoValues encodes every Go type the package accepts.
func TestGoValues(t *testing.T) {
	b := mustBuilder(t, testFeatures)
	enc16 := func(v any) ([]byte, error) {
		vs, err := b.ValueSetEntry("trill_types", entity.Values(entity.Exact("ether_type", v)))
		if err != nil {
			return nil, err
		}
		return vs.GetMembers()[0].GetMatch()[0].GetExact().GetValue(), nil
	}
	big16 := new(big.Int).SetUint64(0x1234)
	for _, tc := range []struct {
		v    any
		want []byte
	}{
		{uint8(7), []byte{7}}, {uint16(0x1234), []byte{0x12, 0x34}}, {uint32(1), []byte{1}}, {uint64(0), []byte{0}}, {uint(300), []byte{1, 44}},
		{int8(1), []byte{1}}, {int16(2), []byte{2}}, {int32(3), []byte{3}}, {int64(4), []byte{4}}, {5, []byte{5}},
		{true, []byte{1}}, {false, []byte{0}}, {big16, []byte{0x12, 0x34}}, {new(big.Int), []byte{0}},
		{[]byte{0, 0, 0x12}, []byte{0x12}}, {net.HardwareAddr{0, 1}, []byte{1}}, {"0x1234", []byte{0x12, 0x34}},
	} {
		got, err := enc16(tc.v)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%T %v: %x, %v; want %x", tc.v, tc.v, got, err, tc.want)
		}
	}
	for _, v := range []any{int8(-1), int16(-1), int32(-1), int64(-1), uint32(1 << 16), (*big.Int)(nil), net.IP{1, 2, 3}, 1.0, struct{}{}} {
		if got, err := enc16(v); err == nil {
			t.Errorf("%T %v: %x, want an error", v, v, got)
		}
	}

	// Addresses: netip.Addr, net.IP (4 and 16 bytes), ParamAddr.
	ip := func(v entity.ParamValue) ([]byte, error) {
		te, err := b.TableEntry("strings", entity.Priority(1), entity.Match(entity.Exact("meta.vrf", "v")),
			entity.Action("redirect", entity.Param("port", "p"), v))
		if err != nil {
			return nil, err
		}
		return te.GetAction().GetAction().GetParams()[1].GetValue(), nil
	}
	want := []byte{10, 0, 0, 1}
	for _, v := range []entity.ParamValue{
		entity.Param("ip", netip.MustParseAddr("10.0.0.1")), entity.Param("ip", net.IPv4(10, 0, 0, 1)), entity.Param("ip", net.IP{10, 0, 0, 1}),
		entity.ParamAddr("ip", netip.MustParseAddr("10.0.0.1")), entity.ParamAddr("ip", netip.MustParseAddr("::ffff:10.0.0.1")),
	} {
		if got, err := ip(v); err != nil || !bytes.Equal(got, want) {
			t.Errorf("address param: %x, %v", got, err)
		}
	}
	if _, err := ip(entity.ParamAddr("ip", netip.MustParseAddr("2001:db8::1"))); err == nil {
		t.Error("IPv6 address for a 32-bit param: no error")
	}
	if _, err := ip(entity.ParamAddr("ip", netip.Addr{})); err == nil {
		t.Error("invalid address: no error")
	}
	te, err := b.TableEntry("acl", entity.Priority(1), entity.Match(entity.ExactUint("standard_metadata.ingress_port", 1),
		entity.Ternary("hdr.ipv6.dst_addr", net.ParseIP("2001:db8::1"), netip.MustParseAddr("ffff::"))))
	if err != nil {
		t.Fatal(err)
	}
	if v := te.GetMatch()[1].GetTernary().GetValue(); !bytes.Equal(v, []byte{0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("IPv6 ternary value %x", v)
	}
}
