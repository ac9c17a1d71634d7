package objective_test

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/pipeline/objective"
)

const sample = `
- l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
- route:
    prefix: 10.0.2.0/24
    next_hop: {id: leaf2, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:02"}
- route:
    vrf: blue
    prefix: 2001:db8::/32
    group:
      id: spines
      members:
        - next_hop: {id: spine1, port: 1}
        - next_hop: {id: spine2, port: 2}
          weight: 2
- next_hop: {id: "7", port: 7, vlan: 10}
- bridging: {vlan: 10, mac: "00:00:00:00:00:0a", port: 3}
- acl:
    name: no-telnet
    priority: 10
    match: {ether_type: 0x0800, src_ip: 10.0.0.0/8, ip_proto: 6, l4_dst: 23, fields: {"hdr.x": {value: 0x10, mask: 0xf0}}}
    action: drop
- acl: {name: steer, priority: 5, match: {in_port: 2}, action: redirect, target: {next_hop: {id: leaf2, port: 1}}}
- multicast: {group_id: 1, ports: [1, 2, 3]}
- punt: {protocol: lldp}
- punt: {ether_type: 0x0806}
`

func sampleList() objective.List {
	mac := objective.MustMAC
	leaf2 := objective.NextHop{ID: "leaf2", Port: 1, SrcMAC: mac("00:aa:00:00:00:01"), DstMAC: mac("00:bb:00:00:00:02")}
	return objective.List{
		objective.L3Interface{Port: 1, RouterMAC: mac("00:aa:00:00:00:01")},
		objective.Route{Prefix: netip.MustParsePrefix("10.0.2.0/24"), Target: objective.Target{NextHop: &leaf2}},
		objective.Route{VRF: "blue", Prefix: netip.MustParsePrefix("2001:db8::/32"), Target: objective.Target{Group: &objective.NextHopGroup{
			ID: "spines", Members: []objective.Weighted{{NextHop: objective.NextHop{ID: "spine1", Port: 1}}, {NextHop: objective.NextHop{ID: "spine2", Port: 2}, Weight: 2}}}}},
		objective.NextHop{ID: "7", Port: 7, VLAN: 10},
		objective.Bridging{VLAN: 10, MAC: mac("00:00:00:00:00:0a"), Port: 3},
		objective.ACL{Name: "no-telnet", Priority: 10, Action: objective.ACLDrop, Match: objective.ACLMatch{
			EtherType: 0x0800, SrcIP: netip.MustParsePrefix("10.0.0.0/8"), IPProto: 6, L4Dst: 23,
			Fields: map[string]objective.Ternary{"hdr.x": {Value: 0x10, Mask: 0xf0}}}},
		objective.ACL{Name: "steer", Priority: 5, Action: objective.ACLRedirect, Match: objective.ACLMatch{InPort: 2},
			Target: &objective.Target{NextHop: &objective.NextHop{ID: "leaf2", Port: 1}}},
		objective.Multicast{GroupID: 1, Ports: []uint32{1, 2, 3}},
		objective.Punt{Protocol: objective.LLDP},
		objective.Punt{EtherType: 0x0806},
	}
}

func TestParseList(t *testing.T) {
	got, err := objective.ParseList([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleList()
	if len(got) != len(want) {
		t.Fatalf("%d objectives, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("item %d:\n got %#v\nwant %#v", i, got[i], want[i])
		}
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	// YAML and JSON round trips.
	y, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := objective.ParseList(y)
	if err != nil {
		t.Fatalf("parse own YAML: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("YAML round trip differs:\n%s", y)
	}
	if !strings.Contains(string(y), "- next-hop:\n") || !strings.Contains(string(y), "- l3-interface:\n") {
		t.Errorf("YAML does not name kinds by Kind:\n%s", y)
	}
	j, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON objective.List
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, want) {
		t.Errorf("JSON round trip differs:\n%s", j)
	}
}

func TestParseListEmpty(t *testing.T) {
	for _, in := range []string{"", "[]", "null", "# nothing\n"} {
		l, err := objective.ParseList([]byte(in))
		if err != nil || len(l) != 0 {
			t.Errorf("ParseList(%q) = %v, %v; want an empty list", in, l, err)
		}
	}
	b, err := objective.List(nil).MarshalJSON()
	if err != nil || string(b) != "[]" {
		t.Errorf("empty list marshals to %s, %v", b, err)
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not a list", "route: {prefix: 10.0.0.0/8}", "want a list of one-key maps"},
		{"not YAML", "- [", "objectives: "},
		{"unknown kind", "- router: {}", `item 0 (router): unknown kind (want one of l3-interface, bridging, route`},
		{"two kinds in an item", "- punt: {protocol: lldp}\n  route: {}", "item 0: want one key naming the kind, have 2 (punt, route)"},
		{"no kind", "- {}", "item 0: want one key naming the kind, have 0"},
		{"unknown field", "- punt: {protocol: lldp}\n- route: {prefix: 10.0.0.0/8, nexthop: {id: a}}", `item 1 (route): json: unknown field "nexthop"`},
		{"wrong type", "- multicast: {group_id: one}", "item 0 (multicast): json: cannot unmarshal string"},
		{"bad MAC", `- bridging: {mac: "00:11"}`, "item 0 (bridging)"},
		{"bad prefix", "- route: {prefix: 10.0.0.0/33}", "item 0 (route)"},
		{"null objective", "- punt:", "item 0 (punt): empty objective"},
		{"negative port", "- next-hop: {id: a, port: -1}", "item 0 (next-hop)"},
		{"item not a map", "- punt", "want a list of one-key maps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := objective.ParseList([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestListValidate(t *testing.T) {
	tests := []struct {
		name string
		l    objective.List
		want string
	}{
		{"valid", objective.List{objective.Punt{Protocol: objective.LLDP}, objective.Punt{Protocol: objective.ARP}}, ""},
		{"invalid item", objective.List{objective.Punt{Protocol: objective.LLDP}, objective.Punt{}}, "objectives: item 1: punt: protocol or ether_type is required"},
		{"same key twice", objective.List{objective.Punt{Protocol: objective.LLDP}, objective.Punt{EtherType: 0x88cc}}, "items 0 and 1 are the same punt (ether_type=0x88cc)"},
		{"nil item", objective.List{nil}, "item 0 is nil"},
		{"nil pointer item", objective.List{(*objective.Route)(nil)}, "item 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// otherKind is an objective of a kind List does not know.
type otherKind struct{}

func (otherKind) Kind() objective.Kind { return "teleport" }
func (otherKind) Key() string          { return "" }
func (otherKind) Validate() error      { return nil }

func TestMarshalErrors(t *testing.T) {
	if _, err := (objective.List{nil}).Marshal(); err == nil {
		t.Error("nil item: no error")
	}
	if _, err := (objective.List{otherKind{}}).Marshal(); err == nil || !strings.Contains(err.Error(), `unknown kind "teleport"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
	// Pointers marshal as their values.
	b, err := objective.List{&objective.Punt{Protocol: objective.LLDP}}.Marshal()
	if err != nil || string(b) != "- punt:\n    protocol: lldp\n" {
		t.Errorf("pointer item: %q, %v", b, err)
	}
}

func TestValue(t *testing.T) {
	r := objective.Route{VRF: "x"}
	tests := []struct {
		in   objective.Objective
		want objective.Objective
	}{
		{&r, r}, {r, r}, {nil, nil}, {(*objective.Route)(nil), nil}, {(*objective.Punt)(nil), nil},
		{&objective.ACL{Name: "a"}, objective.ACL{Name: "a"}}, {otherKind{}, otherKind{}}, {(*otherKind)(nil), nil},
	}
	for _, tt := range tests {
		if got := objective.Value(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Value(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestMACText(t *testing.T) {
	var m objective.MAC
	if err := m.UnmarshalText(nil); err != nil || m != nil {
		t.Errorf("empty text: %v, %v; want the unset MAC", m, err)
	}
	if err := m.UnmarshalText([]byte("00:11:22:33:44:55:66:77")); err == nil {
		t.Error("64-bit MAC accepted")
	}
	// An unset required MAC survives a round trip (and Validate catches it).
	l, err := objective.ParseList([]byte("- l3-interface: {port: 1}"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objective.ParseList(y); err != nil {
		t.Errorf("re-parse %q: %v", y, err)
	}
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "router_mac is required") {
		t.Errorf("Validate: %v", err)
	}
}

// TestListJSONForm: MarshalJSON writes exactly what encoding/json writes
// for a list of one-key maps (the form journals already hold), pointers
// included, and the HTML escaping json.Marshal applies.
func TestListJSONForm(t *testing.T) {
	l := sampleList()
	l = append(l, &objective.Punt{Protocol: objective.LLDP}, objective.NextHop{ID: "<a&b>", Port: 9})
	items := make([]map[objective.Kind]objective.Objective, len(l))
	for i, o := range l {
		items[i] = map[objective.Kind]objective.Objective{o.Kind(): objective.Value(o)}
	}
	want, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
}

// BenchmarkListMarshalJSON encodes 100 routes (a box's objectives, which
// the orchestrator journals with every commit).
func BenchmarkListMarshalJSON(b *testing.B) {
	nh := objective.NextHop{ID: "nh1", Port: 2, SrcMAC: objective.MustMAC("00:aa:00:00:00:01"), DstMAC: objective.MustMAC("00:bb:00:00:00:01")}
	l := make(objective.List, 100)
	for i := range l {
		l[i] = objective.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 32), Target: objective.Target{NextHop: &nh}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
