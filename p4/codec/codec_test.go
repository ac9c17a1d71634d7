package codec_test

import (
	"bytes"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"testing"

	"github.com/p4fabric/fabric/p4/codec"
)

func TestEncode(t *testing.T) {
	mac, _ := net.ParseMAC("00:00:00:00:00:01")
	big129 := new(big.Int).Lsh(big.NewInt(1), 128)
	tests := []struct {
		name     string
		v        any
		bitwidth int
		want     []byte
		wantErr  bool
	}{
		{"zero is one byte", uint64(0), 9, []byte{0}, false},
		{"one in bit<9>", 1, 9, []byte{1}, false},
		{"max of bit<9>", 511, 9, []byte{1, 0xff}, false},
		{"too wide for bit<9>", 512, 9, nil, true},
		{"negative int", -1, 16, nil, true},
		{"bool true", true, 1, []byte{1}, false},
		{"ipv4 addr", netip.MustParseAddr("10.0.0.1"), 32, []byte{10, 0, 0, 1}, false},
		{"ipv4 addr leading zero", netip.MustParseAddr("0.0.0.1"), 32, []byte{1}, false},
		{"ipv4-mapped as v4", netip.MustParseAddr("::ffff:10.0.0.1"), 32, []byte{10, 0, 0, 1}, false},
		{"ipv6 in 32 bits", netip.MustParseAddr("2001:db8::1"), 32, nil, true},
		{"net.IP v4", net.ParseIP("192.168.1.1"), 32, []byte{192, 168, 1, 1}, false},
		{"mac shortest", mac, 48, []byte{1}, false},
		{"bytes padded", []byte{0, 0, 0x08, 0x00}, 16, []byte{0x08, 0x00}, false},
		{"bytes too wide", []byte{0x01, 0x00, 0x00}, 16, nil, true},
		{"empty bytes", []byte{}, 16, nil, true},
		{"big int fits", new(big.Int).Sub(big129, big.NewInt(1)), 128, bytes.Repeat([]byte{0xff}, 16), false},
		{"big int too wide", big129, 128, nil, true},
		{"sdn string", "Ethernet0", 0, []byte("Ethernet0"), false},
		{"string for bit<W>", "10", 16, nil, true},
		{"unsupported type", 1.5, 16, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Encode(tc.v, tc.bitwidth)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Encode(%v, %d) error = %v, wantErr %v", tc.v, tc.bitwidth, err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Encode(%v, %d) = %x, want %x", tc.v, tc.bitwidth, got, tc.want)
			}
		})
	}
}

func TestCanonicalAcceptsPaddedInput(t *testing.T) {
	tests := []struct {
		in       []byte
		bitwidth int
		want     []byte
		err      error
	}{
		{[]byte{0, 0, 1}, 9, []byte{1}, nil},
		{[]byte{0, 0}, 9, []byte{0}, nil},
		{[]byte{0x02, 0x00}, 9, nil, &codec.RangeError{}},
		{nil, 9, nil, codec.ErrEmpty},
		{[]byte{0x01, 0xff}, 9, []byte{0x01, 0xff}, nil},
	}
	for _, tc := range tests {
		got, err := codec.Canonical(tc.in, tc.bitwidth)
		switch want := tc.err.(type) {
		case nil:
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("Canonical(%x, %d) = %x, %v; want %x", tc.in, tc.bitwidth, got, err, tc.want)
			}
		case *codec.RangeError:
			var re *codec.RangeError
			if !errors.As(err, &re) {
				t.Errorf("Canonical(%x, %d) error = %v, want RangeError", tc.in, tc.bitwidth, err)
			}
			_ = want
		default:
			if !errors.Is(err, tc.err) {
				t.Errorf("Canonical(%x, %d) error = %v, want %v", tc.in, tc.bitwidth, err, tc.err)
			}
		}
	}
}

func TestUintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 1<<32 - 1, 1<<64 - 1} {
		b, err := codec.EncodeUint(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := codec.Uint(codec.Pad(b, 64))
		if err != nil || got != v {
			t.Errorf("Uint(Pad(EncodeUint(%d))) = %d, %v", v, got, err)
		}
	}
	if _, err := codec.Uint(bytes.Repeat([]byte{1}, 9)); err == nil {
		t.Error("Uint of 72 significant bits: want error")
	}
}

func TestPrefixHelpers(t *testing.T) {
	tests := []struct {
		prefixLen, bitwidth int
		mask                []byte
	}{
		{0, 32, []byte{0}},
		{8, 32, []byte{0xff, 0, 0, 0}},
		{24, 32, []byte{0xff, 0xff, 0xff, 0}},
		{32, 32, []byte{0xff, 0xff, 0xff, 0xff}},
		{1, 9, []byte{0x01, 0x00}},
		{9, 9, []byte{0x01, 0xff}},
	}
	for _, tc := range tests {
		got, err := codec.PrefixMask(tc.prefixLen, tc.bitwidth)
		if err != nil || !bytes.Equal(got, tc.mask) {
			t.Errorf("PrefixMask(%d, %d) = %x, %v; want %x", tc.prefixLen, tc.bitwidth, got, err, tc.mask)
		}
	}
	if _, err := codec.PrefixMask(33, 32); err == nil {
		t.Error("PrefixMask(33, 32): want error")
	}
	v := []byte{10, 1, 2, 3}
	if !codec.HasBitsPastPrefix(v, 24, 32) {
		t.Error("10.1.2.3/24 has bits past the prefix")
	}
	if codec.HasBitsPastPrefix([]byte{10, 1, 2, 0}, 24, 32) {
		t.Error("10.1.2.0/24 has no bits past the prefix")
	}
	m, err := codec.MaskPrefix(v, 24, 32)
	if err != nil || !bytes.Equal(m, []byte{10, 1, 2, 0}) {
		t.Errorf("MaskPrefix = %x, %v", m, err)
	}
	if !codec.AndNot([]byte{0x08, 0x01}, []byte{0xff, 0x00}) || codec.AndNot([]byte{0x08, 0x00}, []byte{0xff, 0x00}) {
		t.Error("AndNot")
	}
	if codec.Compare([]byte{0, 1}, []byte{1}) != 0 || codec.Compare([]byte{2}, []byte{1, 0}) != -1 || codec.Compare(nil, []byte{0}) != 0 {
		t.Error("Compare")
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add([]byte{0, 0, 1}, 9)
	f.Add([]byte{0xff, 0xff}, 16)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, b []byte, bitwidth int) {
		if bitwidth < 0 || bitwidth > 4096 {
			return
		}
		c, err := codec.Canonical(b, bitwidth)
		if err != nil {
			return
		}
		if !codec.IsCanonical(c) {
			t.Fatalf("Canonical(%x) = %x is not canonical", b, c)
		}
		if codec.Compare(b, c) != 0 {
			t.Fatalf("Canonical(%x) = %x changed the value", b, c)
		}
		if p := codec.Pad(c, bitwidth); codec.Compare(p, c) != 0 || len(p) < (bitwidth+7)/8 {
			t.Fatalf("Pad(%x, %d) = %x", c, bitwidth, p)
		}
		if bitwidth > 0 {
			for pl := 0; pl <= bitwidth && pl < 130; pl += 7 {
				m, err := codec.MaskPrefix(c, pl, bitwidth)
				if err != nil || codec.HasBitsPastPrefix(m, pl, bitwidth) {
					t.Fatalf("MaskPrefix(%x, %d, %d) = %x, %v", c, pl, bitwidth, m, err)
				}
			}
		}
	})
}

func FuzzEncodeUint(f *testing.F) {
	f.Add(uint64(0), 1)
	f.Add(uint64(511), 9)
	f.Fuzz(func(t *testing.T, v uint64, bitwidth int) {
		b, err := codec.EncodeUint(v, bitwidth)
		if err != nil {
			return
		}
		got, err := codec.Uint(b)
		if err != nil || got != v || !codec.IsCanonical(b) {
			t.Fatalf("EncodeUint(%d, %d) = %x; Uint = %d, %v", v, bitwidth, b, got, err)
		}
	})
}
