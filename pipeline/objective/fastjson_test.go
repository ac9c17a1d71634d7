package objective

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
)

// TestFastJSON: appendFast writes what encoding/json writes, for every
// field set, unset and with characters JSON escapes; and the types it
// writes by hand have the fields it knows (a field added to them must be
// added to appendFast, or it would be dropped from journals).
func TestFastJSON(t *testing.T) {
	fields := map[reflect.Type][]string{
		reflect.TypeFor[Route]():       {"VRF", "Prefix", "Target"},
		reflect.TypeFor[Target]():      {"NextHop", "Group"},
		reflect.TypeFor[NextHop]():     {"ID", "Port", "SrcMAC", "DstMAC", "VLAN"},
		reflect.TypeFor[L3Interface](): {"Port", "VLAN", "RouterMAC", "VRF"},
	}
	for typ, want := range fields {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s has fields %v; appendFast writes %v: update it", typ, got, want)
		}
	}
	mac := MustMAC("00:aa:0b:cc:d0:ff")
	nh := NextHop{ID: "nh1", Port: 2, SrcMAC: mac, DstMAC: MAC{1, 2, 3, 4, 5, 6, 7, 8}, VLAN: 10}
	odd := NextHop{ID: "<a&b> \"é\"\n\u2028", Port: 4294967295, DstMAC: MAC{0xab}}
	tests := []struct {
		name string
		o    Objective
		fast bool // written by hand, not by encoding/json
	}{
		{"route", Route{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Target: Target{NextHop: &nh}}, true},
		{"route-vrf-v6", Route{VRF: "blue", Prefix: netip.MustParsePrefix("2001:db8::/32"), Target: Target{NextHop: &odd}}, true},
		{"route-v4-in-v6", Route{VRF: "r&d", Prefix: netip.MustParsePrefix("::ffff:10.0.0.1/128"), Target: Target{NextHop: &NextHop{}}}, true},
		{"route-zero-prefix", Route{Target: Target{NextHop: &nh}}, true},
		{"route-group", Route{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Target: Target{Group: &NextHopGroup{ID: "g", Members: []Weighted{{NextHop: nh}}}}}, false},
		{"route-no-target", Route{Prefix: netip.MustParsePrefix("10.0.0.0/8")}, false},
		{"next-hop", nh, true},
		{"next-hop-odd", odd, true},
		{"next-hop-zero", NextHop{}, true},
		{"l3-interface", L3Interface{Port: 1, RouterMAC: mac}, true},
		{"l3-interface-all", L3Interface{Port: 7, VLAN: 4094, RouterMAC: MAC{}, VRF: "<v>"}, true},
		{"l3-interface-zero", L3Interface{}, true},
		{"punt", Punt{Protocol: LLDP}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendFast([]byte("x"), tt.o)
			if ok != tt.fast {
				t.Fatalf("appendFast ok = %v, want %v", ok, tt.fast)
			}
			if ok && string(got) != "x"+string(want) {
				t.Errorf("appendFast =\n%s\nwant\nx%s", got, want)
			}
		})
	}
}
