package objective

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// List is a list of objectives of any kinds, as written in YAML or JSON
// files (fabricctl pipeline translate, the orchestrator's chassis
// config): each item is a map with one key, the kind of the objective,
// whose value is the objective with its json field names:
//
//   - l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}
//   - route:
//     prefix: 10.0.2.0/24
//     next_hop: {id: leaf2, port: 1, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:02"}
//   - next-hop-group:
//     id: spines
//     members:
//   - next_hop: {id: spine1, port: 1}
//   - next_hop: {id: spine2, port: 2}
//     weight: 2
//   - acl: {name: no-telnet, priority: 10, match: {ether_type: 0x0800, ip_proto: 6, l4_dst: 23}, action: drop}
//   - punt: {protocol: lldp}
//
// Kinds are written as Kind names ("next-hop-group"); the underscore
// spelling ("next_hop_group") is accepted too. Unknown kinds and unknown
// fields are errors naming the item, so that a typo never drops part of an
// objective. A List marshals to JSON (MarshalJSON) and, through
// sigs.k8s.io/yaml, to YAML in the same form.
type List []Objective

// ParseList decodes a list of objectives from YAML or JSON (JSON is YAML).
// It does not validate the objectives: see List.Validate.
func ParseList(data []byte) (List, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("objectives: %w", err)
	}
	var l List
	if err := json.Unmarshal(js, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// Marshal encodes the list as YAML.
func (l List) Marshal() ([]byte, error) {
	return yaml.Marshal(l)
}

// MarshalJSON implements json.Marshaler: a list of one-key maps.
func (l List) MarshalJSON() ([]byte, error) {
	items := make([]map[Kind]Objective, len(l))
	for i, o := range l {
		if o = Value(o); o == nil {
			return nil, fmt.Errorf("objectives: item %d is nil", i)
		}
		if _, ok := newOfKind(o.Kind()); !ok {
			return nil, fmt.Errorf("objectives: item %d: unknown kind %q", i, o.Kind())
		}
		items[i] = map[Kind]Objective{o.Kind(): o}
	}
	return json.Marshal(items)
}

// UnmarshalJSON implements json.Unmarshaler. null is an empty list.
func (l *List) UnmarshalJSON(data []byte) error {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("objectives: want a list of one-key maps (kind: objective): %w", err)
	}
	out := make(List, 0, len(items))
	for i, item := range items {
		if len(item) != 1 {
			keys := make([]string, 0, len(item))
			for k := range item {
				keys = append(keys, k)
			}
			return fmt.Errorf("objectives: item %d: want one key naming the kind, have %d (%s)", i, len(item), strings.Join(sortStrings(keys), ", "))
		}
		for k, raw := range item {
			o, err := decodeOne(k, raw)
			if err != nil {
				return fmt.Errorf("objectives: item %d (%s): %w", i, k, err)
			}
			out = append(out, o)
		}
	}
	*l = out
	return nil
}

// Validate validates every objective and checks that no two objectives
// of one kind have the same key; the error names the item.
func (l List) Validate() error {
	seen := make(map[string]int, len(l))
	for i, o := range l {
		if o = Value(o); o == nil {
			return fmt.Errorf("objectives: item %d is nil", i)
		}
		if err := o.Validate(); err != nil {
			return fmt.Errorf("objectives: item %d: %w", i, err)
		}
		id := string(o.Kind()) + " " + o.Key()
		if j, dup := seen[id]; dup {
			return fmt.Errorf("objectives: items %d and %d are the same %s (%s)", j, i, o.Kind(), o.Key())
		}
		seen[id] = i
	}
	return nil
}

// decodeOne decodes one objective of the kind named k, rejecting unknown
// fields.
func decodeOne(k string, raw json.RawMessage) (Objective, error) {
	kind := Kind(strings.ReplaceAll(strings.ToLower(k), "_", "-"))
	ptr, ok := newOfKind(kind)
	if !ok {
		names := make([]string, 0, len(Kinds()))
		for _, k := range Kinds() {
			names = append(names, string(k))
		}
		return nil, fmt.Errorf("unknown kind (want one of %s)", strings.Join(names, ", "))
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, errors.New("empty objective")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ptr); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return deref(ptr), nil
}

// newOfKind returns a pointer to a zero objective of a kind.
func newOfKind(k Kind) (any, bool) {
	switch k {
	case KindL3Interface:
		return &L3Interface{}, true
	case KindBridging:
		return &Bridging{}, true
	case KindRoute:
		return &Route{}, true
	case KindNextHop:
		return &NextHop{}, true
	case KindNextHopGroup:
		return &NextHopGroup{}, true
	case KindACL:
		return &ACL{}, true
	case KindMulticast:
		return &Multicast{}, true
	case KindPunt:
		return &Punt{}, true
	}
	return nil, false
}

// deref returns the objective a pointer from newOfKind points to.
func deref(p any) Objective {
	if o, ok := p.(Objective); ok {
		return Value(o)
	}
	return nil
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
