package objective

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// MarshalJSON implements json.Marshaler: a list of one-key maps. It
// writes each item's one-key map itself, rather than building a map per
// item for encoding/json to sort and encode: the orchestrator encodes
// every box's objectives with every commit. The output is the same bytes.
func (l List) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(64 + 160*len(l))
	// One encoder for all items: json.Marshal would copy each item out of
	// its pooled buffer. Encode escapes HTML as json.Marshal does.
	enc := json.NewEncoder(&buf)
	buf.WriteByte('[')
	for i, o := range l {
		if o = Value(o); o == nil {
			return nil, fmt.Errorf("objectives: item %d is nil", i)
		}
		if !slices.Contains(kinds, o.Kind()) {
			return nil, fmt.Errorf("objectives: item %d: unknown kind %q", i, o.Kind())
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		// Known kinds are lower-case letters and hyphens: nothing to
		// escape in the key.
		buf.WriteString(`{"`)
		buf.WriteString(string(o.Kind()))
		buf.WriteString(`":`)
		if b, ok := appendFast(buf.AvailableBuffer(), o); ok {
			buf.Write(b)
		} else {
			if err := enc.Encode(o); err != nil {
				return nil, fmt.Errorf("objectives: item %d (%s): %w", i, o.Kind(), err)
			}
			buf.Truncate(buf.Len() - 1) // Encode ends the value with a newline
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// kinds are the kinds a List encodes (newOfKind's, without allocating).
var kinds = Kinds()

// appendFast appends the JSON of the kinds a chassis has by the hundred
// (routes to a next hop, next hops, L3 interfaces) without reflection,
// byte for byte what encoding/json writes for them (TestListJSONForm and
// TestFastJSON check it, and that no field was added to these types
// since). It reports false for anything else, which encoding/json writes.
func appendFast(b []byte, o Objective) ([]byte, bool) {
	switch x := o.(type) {
	case Route:
		if x.Group != nil || x.NextHop == nil {
			return b, false
		}
		b = append(b, '{')
		if x.VRF != "" {
			b = append(b, `"vrf":`...)
			b = appendString(b, x.VRF)
			b = append(b, ',')
		}
		// A prefix's text needs no escaping (digits, hex, '.', ':', '/').
		b = append(b, `"prefix":"`...)
		var err error
		if b, err = x.Prefix.AppendText(b); err != nil {
			return b, false
		}
		b = append(b, '"')
		b = append(b, `,"next_hop":`...)
		b = appendNextHop(b, x.NextHop)
		return append(b, '}'), true
	case NextHop:
		return appendNextHop(b, &x), true
	case L3Interface:
		b = append(b, `{"port":`...)
		b = strconv.AppendUint(b, uint64(x.Port), 10)
		if x.VLAN != 0 {
			b = append(b, `,"vlan":`...)
			b = strconv.AppendUint(b, uint64(x.VLAN), 10)
		}
		b = append(b, `,"router_mac":`...)
		b = appendMAC(b, x.RouterMAC)
		if x.VRF != "" {
			b = append(b, `,"vrf":`...)
			b = appendString(b, x.VRF)
		}
		return append(b, '}'), true
	}
	return b, false
}

func appendNextHop(b []byte, n *NextHop) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, n.ID)
	b = append(b, `,"port":`...)
	b = strconv.AppendUint(b, uint64(n.Port), 10)
	if len(n.SrcMAC) > 0 {
		b = append(b, `,"src_mac":`...)
		b = appendMAC(b, n.SrcMAC)
	}
	if len(n.DstMAC) > 0 {
		b = append(b, `,"dst_mac":`...)
		b = appendMAC(b, n.DstMAC)
	}
	if n.VLAN != 0 {
		b = append(b, `,"vlan":`...)
		b = strconv.AppendUint(b, uint64(n.VLAN), 10)
	}
	return append(b, '}')
}

// appendMAC appends m as MarshalText writes it, as a JSON string.
func appendMAC(b []byte, m MAC) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return append(b, '"')
}

// appendString appends s as a JSON string, as json.Marshal writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// Anything json.Marshal escapes (controls, quote, backslash,
		// HTML) or may (non-ASCII): let it.
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
