package lldp_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
)

var oui = [3]byte{0x02, 0x66, 0x62}

func valid() lldp.Frame {
	return lldp.Frame{
		Dst:            lldp.NearestBridge,
		Src:            net.HardwareAddr{0x02, 1, 2, 3, 4, 5},
		ChassisSubtype: lldp.ChassisIDLocal, ChassisID: []byte("spine1"),
		PortSubtype: lldp.PortIDLocal, PortID: []byte("12"),
		TTL:   9,
		Org:   []lldp.OrgTLV{{OUI: oui, Subtype: 1, Info: []byte{1, 2, 3, 4, 5, 6, 7, 8}}},
		Other: []lldp.TLV{{Type: lldp.TypeSystemName, Value: []byte("spine1.pod")}},
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, lldp.MaxID)
	tests := []struct {
		name string
		f    lldp.Frame
	}{
		{"probe", valid()},
		{"minimal", lldp.Frame{Dst: lldp.NearestBridge, Src: make(net.HardwareAddr, 6), ChassisSubtype: 4, ChassisID: []byte{0xaa}, PortSubtype: 3, PortID: []byte{1}}},
		{"longest IDs", lldp.Frame{Dst: lldp.NearestBridge, Src: make(net.HardwareAddr, 6), ChassisSubtype: 7, ChassisID: long, PortSubtype: 7, PortID: long, TTL: 65535}},
		{"org with empty info", lldp.Frame{Dst: lldp.NearestBridge, Src: make(net.HardwareAddr, 6), ChassisID: []byte("a"), PortID: []byte("b"),
			Org: []lldp.OrgTLV{{OUI: oui, Subtype: 9, Info: []byte{}}, {OUI: [3]byte{0, 0x12, 0x0f}, Subtype: 1, Info: bytes.Repeat([]byte{7}, lldp.MaxOrgInfo)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.f.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 60 {
				t.Fatalf("frame of %d bytes, want at least 60", len(b))
			}
			got, err := lldp.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.f) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", *got, tc.f)
			}
		})
	}
}

func TestMarshalDefaults(t *testing.T) {
	b, err := (&lldp.Frame{ChassisID: []byte("a"), PortID: []byte("1")}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f, err := lldp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Dst, lldp.NearestBridge) || !bytes.Equal(f.Src, make([]byte, 6)) {
		t.Fatalf("addresses %s → %s, want zero → %s", f.Src, f.Dst, lldp.NearestBridge)
	}
}

func TestMarshalRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*lldp.Frame)
		want string
	}{
		{"empty chassis ID", func(f *lldp.Frame) { f.ChassisID = nil }, "chassis ID of 0 bytes"},
		{"long port ID", func(f *lldp.Frame) { f.PortID = make([]byte, 256) }, "port ID of 256 bytes"},
		{"short address", func(f *lldp.Frame) { f.Src = f.Src[:5] }, "6 bytes"},
		{"reserved type", func(f *lldp.Frame) { f.Other = []lldp.TLV{{Type: lldp.TypeTTL}} }, "type 3"},
		{"org type as other", func(f *lldp.Frame) { f.Other = []lldp.TLV{{Type: 127}} }, "type 127"},
		{"long value", func(f *lldp.Frame) { f.Other = []lldp.TLV{{Type: 5, Value: make([]byte, 512)}} }, "512 bytes"},
		{"long org info", func(f *lldp.Frame) { f.Org[0].Info = make([]byte, lldp.MaxOrgInfo+1) }, "information string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := valid()
			tc.edit(&f)
			_, err := f.Marshal()
			if !errors.Is(err, lldp.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Marshal = %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
	var nilFrame *lldp.Frame
	if _, err := nilFrame.Marshal(); !errors.Is(err, lldp.ErrMalformed) {
		t.Fatalf("nil Marshal = %v", err)
	}
}

// frame builds an Ethernet frame from hex, spaces ignored.
func frame(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshal(t *testing.T) {
	const eth = "0180c200000e 020000000001 88cc "
	const mand = "0202 0761 0402 0731 0602 0005 "
	tests := []struct {
		name    string
		in      string
		wantErr error
		check   func(*lldp.Frame) bool
	}{
		{"minimal with end", eth + mand + "0000", nil, func(f *lldp.Frame) bool { return string(f.ChassisID) == "a" && string(f.PortID) == "1" && f.TTL == 5 }},
		{"no end TLV", eth + mand, nil, func(f *lldp.Frame) bool { return f.TTL == 5 }},
		{"padding after end", eth + mand + "0000 ffffffff", nil, func(f *lldp.Frame) bool { return len(f.Org) == 0 }},
		{"vlan tagged", "0180c200000e 020000000001 8100 0064 88cc " + mand, nil, func(f *lldp.Frame) bool { return f.TTL == 5 }},
		{"org and other", eth + mand + "fe05 026662 01 ab 0a03 787878 0000", nil, func(f *lldp.Frame) bool {
			return len(f.Org) == 1 && f.Org[0].Subtype == 1 && bytes.Equal(f.Org[0].Info, []byte{0xab}) && len(f.Other) == 1 && f.Other[0].Type == 5
		}},
		{"too short", "0180c2", lldp.ErrNotLLDP, nil},
		{"ipv4", "0180c200000e 020000000001 0800 4500", lldp.ErrNotLLDP, nil},
		{"vlan cut", "0180c200000e 020000000001 8100 00", lldp.ErrNotLLDP, nil},
		{"vlan other type", "0180c200000e 020000000001 8100 0064 0806", lldp.ErrNotLLDP, nil},
		{"empty LLDPDU", eth, lldp.ErrTruncated, nil},
		{"no TTL", eth + "0202 0761 0402 0731", lldp.ErrTruncated, nil},
		{"half header", eth + "02", lldp.ErrTruncated, nil},
		{"value cut", eth + "0205 0761", lldp.ErrTruncated, nil},
		{"port first", eth + "0402 0731 0202 0761 0602 0005", lldp.ErrMalformed, nil},
		{"end first", eth + "0000", lldp.ErrMalformed, nil},
		{"empty chassis", eth + "0201 07 0402 0731 0602 0005", lldp.ErrMalformed, nil},
		{"ttl of 3 bytes", eth + "0202 0761 0402 0731 0603 000500", lldp.ErrMalformed, nil},
		{"second chassis", eth + mand + "0202 0762", lldp.ErrMalformed, nil},
		{"second port", eth + mand + "0402 0732", lldp.ErrMalformed, nil},
		{"second ttl", eth + mand + "0602 0005", lldp.ErrMalformed, nil},
		{"short org", eth + mand + "fe03 026662", lldp.ErrMalformed, nil},
		{"end with length", eth + mand + "0001 00", lldp.ErrMalformed, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := lldp.Unmarshal(frame(t, tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || f != nil {
					t.Fatalf("Unmarshal = %v, %v; want nil, %v", f, err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(f) {
				t.Fatalf("Unmarshal = %+v, %v", f, err)
			}
		})
	}
}

func TestFindOrg(t *testing.T) {
	f := valid()
	if info, ok := f.FindOrg(oui, 1); !ok || len(info) != 8 {
		t.Fatalf("FindOrg = %x, %v", info, ok)
	}
	if _, ok := f.FindOrg(oui, 2); ok {
		t.Fatal("FindOrg found a subtype that is not there")
	}
	var nilFrame *lldp.Frame
	if _, ok := nilFrame.FindOrg(oui, 1); ok {
		t.Fatal("FindOrg on nil")
	}
}
