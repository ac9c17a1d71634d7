package topology_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/testbed/topology"
)

func ep(sw string, port uint32) topology.Endpoint { return topology.Endpoint{Switch: sw, Port: port} }

func link(a string, ap uint32, b string, bp uint32) topology.Link {
	return topology.Link{A: ep(a, ap), B: ep(b, bp)}
}

// sw returns a switch with the defaults SetDefaults would give it.
func sw(name string, id uint64, ports uint32) topology.Switch {
	return topology.Switch{
		Name: name, DeviceID: id, Ports: ports,
		Address:  topology.DefaultAddress,
		Identity: topology.Identity{Serial: name},
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *topology.Topology
	}{
		{
			name: "minimal",
			in:   "switches: [{name: s1, ports: 1}]",
			want: &topology.Topology{Switches: []topology.Switch{sw("s1", 1, 1)}},
		},
		{
			name: "device IDs fill gaps in order",
			in: `
switches:
  - {name: a, ports: 1}
  - {name: b, ports: 1, device_id: 2}
  - {name: c, ports: 1}
  - {name: d, ports: 1, device_id: 0}
`,
			want: &topology.Topology{Switches: []topology.Switch{sw("a", 1, 1), sw("b", 2, 1), sw("c", 3, 1), sw("d", 4, 1)}},
		},
		{
			name: "all fields",
			in: `
name: lab-1
switches:
  - name: leaf1
    device_id: 10
    ports: 8
    address: "[::1]:9559"
    identity: {vendor: V, model: M, serial: S-1, software_version: "2.0"}
    tls: {cert: c.pem, key: k.pem, ca: ca.pem}
    clock: {offset: -1m30s, drift_ppm: -3.5}
  - name: leaf2
    ports: 8
    tls: {generate: true}
    clock: {drift_ppm: 7}
links:
  - leaf1:8 <-> leaf2:8
  - "leaf1:1<->leaf1:2"
`,
			want: &topology.Topology{
				Name: "lab-1",
				Switches: []topology.Switch{
					{
						Name: "leaf1", DeviceID: 10, Ports: 8, Address: "[::1]:9559",
						Identity: topology.Identity{Vendor: "V", Model: "M", Serial: "S-1", SoftwareVersion: "2.0"},
						TLS:      &topology.TLS{Cert: "c.pem", Key: "k.pem", CA: "ca.pem"},
						Clock:    &topology.Clock{Offset: -90 * time.Second, DriftPPM: -3.5},
					},
					{
						Name: "leaf2", DeviceID: 1, Ports: 8, Address: topology.DefaultAddress,
						Identity: topology.Identity{Serial: "leaf2"},
						TLS:      &topology.TLS{Generate: true},
						Clock:    &topology.Clock{DriftPPM: 7},
					},
				},
				Links: []topology.Link{link("leaf1", 8, "leaf2", 8), link("leaf1", 1, "leaf1", 2)},
			},
		},
		{
			name: "JSON is YAML",
			in:   `{"switches": [{"name": "s1", "ports": 2}, {"name": "s2", "ports": 2}], "links": ["s1:1 <-> s2:2"]}`,
			want: &topology.Topology{
				Switches: []topology.Switch{sw("s1", 1, 2), sw("s2", 2, 2)},
				Links:    []topology.Link{link("s1", 1, "s2", 2)},
			},
		},
		{
			name: "empty links list",
			in:   "switches: [{name: s1, ports: 1}]\nlinks: []",
			want: &topology.Topology{Switches: []topology.Switch{sw("s1", 1, 1)}},
		},
		{
			name: "same fixed address on different hosts",
			in:   "switches: [{name: a, ports: 1, address: '127.0.0.1:9559'}, {name: b, ports: 1, address: '127.0.0.2:9559'}]",
			want: &topology.Topology{Switches: []topology.Switch{
				{Name: "a", DeviceID: 1, Ports: 1, Address: "127.0.0.1:9559", Identity: topology.Identity{Serial: "a"}},
				{Name: "b", DeviceID: 2, Ports: 1, Address: "127.0.0.2:9559", Identity: topology.Identity{Serial: "b"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := topology.Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse mismatch\ngot:  %+v\nwant: %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const two = "switches: [{name: a, ports: 4}, {name: b, ports: 4}]\n"
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"empty document", "", []string{"switches: at least one switch is required"}},
		{"not YAML", "switches: [", []string{"topology: parse:"}},
		{"unknown field", "switches: [{name: a, ports: 1, device-id: 3}]", []string{"unknown field", "device-id"}},
		{"unknown top-level field", "switches: [{name: a, ports: 1}]\nlinkz: []", []string{"unknown field", "linkz"}},
		{"repeated key", "switches: [{name: a, ports: 1, ports: 2}]", []string{"topology: parse:", "ports"}},
		{"wrong type", "switches: [{name: a, ports: many}]", []string{"topology: parse:", "ports"}},
		{"negative device ID", "switches: [{name: a, ports: 1, device_id: -1}]", []string{"device_id"}},
		{"bad topology name", "name: 'my lab'\nswitches: [{name: a, ports: 1}]", []string{`name: "my lab"`}},
		{"missing name", "switches: [{ports: 1}]", []string{"switches[0]: name: empty"}},
		{"name with blank", "switches: [{name: 'leaf 1', ports: 1}]", []string{`switches[0]: name: "leaf 1"`}},
		{"name starting with dash", "switches: [{name: -x, ports: 1}]", []string{`switches[0]: name: "-x"`}},
		{"name too long", "switches: [{name: " + strings.Repeat("x", 64) + ", ports: 1}]", []string{"longer than 63"}},
		{"duplicate name", "switches: [{name: a, ports: 1}, {name: a, ports: 1}]", []string{`switches[1]: name "a" already used by switches[0]`}},
		{"duplicate device ID", "switches: [{name: a, ports: 1, device_id: 7}, {name: b, ports: 1, device_id: 7}]", []string{`switch "b": device_id 7 already used by switch "a"`}},
		{"no ports", "switches: [{name: a}]", []string{`switch "a": ports 0 out of range 1..4096`}},
		{"too many ports", "switches: [{name: a, ports: 4097}]", []string{`switch "a": ports 4097 out of range 1..4096`}},
		{"address without port", "switches: [{name: a, ports: 1, address: localhost}]", []string{`switch "a": address: "localhost"`}},
		{"address port out of range", "switches: [{name: a, ports: 1, address: '127.0.0.1:65536'}]", []string{`switch "a": address: "127.0.0.1:65536": port "65536"`}},
		{"duplicate fixed address", "switches: [{name: a, ports: 1, address: ':9559'}, {name: b, ports: 1, address: ':9559'}]", []string{`switch "b": address ":9559" already used by switch "a"`}},
		{"control character", "switches: [{name: a, ports: 1, identity: {model: \"x\\ty\"}}]", []string{`switch "a": identity.model: "x\ty" contains an unprintable character`}},
		{"empty tls", "switches: [{name: a, ports: 1, tls: {}}]", []string{`switch "a": tls: set generate: true, or cert and key`}},
		{"tls generate and files", "switches: [{name: a, ports: 1, tls: {generate: true, ca: ca.pem}}]", []string{`switch "a": tls: generate cannot be combined`}},
		{"tls cert without key", "switches: [{name: a, ports: 1, tls: {cert: c.pem}}]", []string{`switch "a": tls: key is required`}},
		{"tls ca only", "switches: [{name: a, ports: 1, tls: {ca: ca.pem}}]", []string{`switch "a": tls: cert is required`, `switch "a": tls: key is required`}},
		{"clock bad offset", "switches: [{name: a, ports: 1, clock: {offset: soon}}]", []string{"clock: offset:", `"soon"`}},
		{"clock numeric offset", "switches: [{name: a, ports: 1, clock: {offset: 5}}]", []string{`clock: offset: want a duration string such as "150ms", got 5`}},
		{"clock offset null", "switches: [{name: a, ports: 1, clock: {offset: null, drift_ppm: 1e9}}]", []string{"drift_ppm 1e+09 out of range"}},
		{"clock unknown field", "switches: [{name: a, ports: 1, clock: {skew: 1s}}]", []string{"clock:", "skew"}},
		{"clock drift too large", "switches: [{name: a, ports: 1, clock: {drift_ppm: -1000000}}]", []string{`switch "a": clock: drift_ppm -1e+06 out of range`}},
		{"link without arrow", two + "links: [a:1 - b:1]", []string{`link "a:1 - b:1": want one "<->"`}},
		{"link with two arrows", two + "links: ['a:1 <-> b:1 <-> b:2']", []string{"found 2"}},
		{"link without port", two + "links: [a <-> b:1]", []string{`endpoint "a": want switch:port`}},
		{"link bad port", two + "links: [a:x <-> b:1]", []string{`endpoint "a:x": port`}},
		{"link empty switch", two + "links: [':1 <-> b:1']", []string{`endpoint ":1": switch name is empty`}},
		{"link as object", two + "links: [{a: {switch: a, port: 1}, b: {switch: b, port: 1}}]", []string{"topology: parse:", `want a string such as "leaf1:1 <-> spine1:1"`}},
		{"link to unknown switch", two + "links: [a:1 <-> c:1]", []string{`links[0] "a:1 <-> c:1": switch "c" does not exist`}},
		{"link port out of range", two + "links: [a:1 <-> b:5]", []string{`links[0] "a:1 <-> b:5": port 5 out of range 1..4 of switch "b"`}},
		{"link port zero", two + "links: [a:0 <-> b:1]", []string{`port 0 out of range 1..4 of switch "a"`}},
		{"port in two links", two + "links: [a:1 <-> b:1, a:2 <-> b:1]", []string{`links[1] "a:2 <-> b:1": port b:1 already used by links[0] "a:1 <-> b:1"`}},
		{"same link twice reversed", two + "links: [a:1 <-> b:1, b:1 <-> a:1]", []string{`port b:1 already used`, `port a:1 already used`}},
		{"self link on one port", two + "links: [a:3 <-> a:3]", []string{`links[0] "a:3 <-> a:3": connects a:3 to itself`}},
		{
			"every problem reported",
			"switches: [{name: a, ports: 0}, {name: a, ports: 1}]\nlinks: [a:1 <-> z:1]",
			[]string{"topology: 3 problems: ", `ports 0 out of range`, `switches[1]: name "a" already used`, `switch "z" does not exist`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := topology.Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", got)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

func TestValidationError(t *testing.T) {
	_, err := topology.Parse([]byte("switches: [{name: a, ports: 0}, {name: b, ports: 0}]"))
	var verr *topology.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if len(verr.Problems) != 2 {
		t.Errorf("Problems = %v, want 2", verr.Problems)
	}
	if len(verr.Unwrap()) != 2 {
		t.Errorf("Unwrap() returned %d errors, want 2", len(verr.Unwrap()))
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans several lines", err)
	}
}

func TestValidateWithoutDefaults(t *testing.T) {
	topo := &topology.Topology{Switches: []topology.Switch{{Name: "a", Ports: 1}}}
	err := topo.Validate()
	for _, want := range []string{`switch "a": device_id is 0 (unset)`, `switch "a": address: ""`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to contain %q", err, want)
		}
	}
	topo.SetDefaults()
	if err := topo.Validate(); err != nil {
		t.Errorf("Validate() after SetDefaults = %v", err)
	}
}

func TestLoad(t *testing.T) {
	got, err := topology.Load(filepath.Join("testdata", "leafspine.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	gen := topology.LeafSpine(2, 2, topology.WithHostPorts(2), topology.WithGeneratedTLS())
	if got.Name != gen.Name {
		t.Errorf("Name = %q, want %q", got.Name, gen.Name)
	}
	if !reflect.DeepEqual(got.Links, gen.Links) {
		t.Errorf("Links = %v\nwant the generated %v", got.Links, gen.Links)
	}
	if len(got.Switches) != len(gen.Switches) {
		t.Fatalf("%d switches, want %d", len(got.Switches), len(gen.Switches))
	}
	for i, s := range got.Switches {
		g := gen.Switches[i]
		if s.Name != g.Name || s.DeviceID != g.DeviceID || s.Ports != g.Ports || s.Address != g.Address {
			t.Errorf("switch %d = %s/%d/%d/%s, want %s/%d/%d/%s", i, s.Name, s.DeviceID, s.Ports, s.Address, g.Name, g.DeviceID, g.Ports, g.Address)
		}
	}

	spine1, ok := got.Switch("spine1")
	if !ok || spine1.Identity != (topology.Identity{Vendor: "Fabric", Model: "emulated-spine", Serial: "SPN-0001", SoftwareVersion: "1.0.0"}) {
		t.Errorf("spine1 identity = %+v", spine1)
	}
	leaf2, ok := got.Switch("leaf2")
	if !ok || leaf2.Identity.Serial != "leaf2" || leaf2.TLS != nil {
		t.Errorf("leaf2 = %+v, want default serial and no TLS", leaf2)
	}
	if want := (topology.Clock{Offset: -2 * time.Second, DriftPPM: -12.5}); leaf2.Clock == nil || *leaf2.Clock != want {
		t.Errorf("leaf2 clock = %+v, want %+v", leaf2.Clock, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("switches: [{name: a}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		want   string
		wantIs error
	}{
		{"missing file", filepath.Join(dir, "missing.yaml"), "missing.yaml", fs.ErrNotExist},
		{"invalid topology", bad, bad + `: topology: switch "a": ports 0`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topology.Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Load error %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestLeafSpine(t *testing.T) {
	tests := []struct {
		spines, leaves int
		hostPorts      uint32
	}{
		{1, 1, 0},
		{2, 4, 0},
		{4, 2, 3},
		{3, 8, 48},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d+%d", tt.spines, tt.leaves, tt.hostPorts), func(t *testing.T) {
			topo := topology.LeafSpine(tt.spines, tt.leaves, topology.WithHostPorts(tt.hostPorts))
			if err := topo.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got, want := len(topo.Switches), tt.spines+tt.leaves; got != want {
				t.Fatalf("%d switches, want %d", got, want)
			}
			if got, want := len(topo.Links), tt.spines*tt.leaves; got != want {
				t.Fatalf("%d links, want %d", got, want)
			}
			for k, s := range topo.Switches {
				if s.DeviceID != uint64(k+1) || s.Identity.Serial != s.Name || s.Address != topology.DefaultAddress {
					t.Errorf("switch %d = %+v, want device ID %d and defaults", k, s, k+1)
				}
			}
			for i := 1; i <= tt.spines; i++ {
				spine := fmt.Sprintf("spine%d", i)
				s, ok := topo.Switch(spine)
				if !ok || s.Ports != uint32(tt.leaves) {
					t.Fatalf("%s = %+v, want %d ports", spine, s, tt.leaves)
				}
				for j := 1; j <= tt.leaves; j++ {
					leaf := fmt.Sprintf("leaf%d", j)
					if got, ok := topo.Peer(leaf, uint32(i)); !ok || got != ep(spine, uint32(j)) {
						t.Errorf("Peer(%s, %d) = %v, %v; want %s:%d", leaf, i, got, ok, spine, j)
					}
					if got, ok := topo.Peer(spine, uint32(j)); !ok || got != ep(leaf, uint32(i)) {
						t.Errorf("Peer(%s, %d) = %v, %v; want %s:%d", spine, j, got, ok, leaf, i)
					}
				}
			}
			for j := 1; j <= tt.leaves; j++ {
				leaf := fmt.Sprintf("leaf%d", j)
				s, _ := topo.Switch(leaf)
				if want := uint32(tt.spines) + tt.hostPorts; s.Ports != want {
					t.Errorf("%s has %d ports, want %d", leaf, s.Ports, want)
				}
				for p := uint32(tt.spines) + 1; p <= s.Ports; p++ {
					if peer, ok := topo.Peer(leaf, p); ok {
						t.Errorf("host port %s:%d is linked to %v", leaf, p, peer)
					}
				}
			}
		})
	}
}

func TestLeafSpineOptions(t *testing.T) {
	topo := topology.LeafSpine(1, 2, topology.WithName("pod-a"), topology.WithGeneratedTLS(), nil)
	if topo.Name != "pod-a" {
		t.Errorf("Name = %q, want pod-a", topo.Name)
	}
	for _, s := range topo.Switches {
		if s.TLS == nil || !s.TLS.Generate {
			t.Errorf("switch %s TLS = %+v, want generate", s.Name, s.TLS)
		}
	}
	if err := topo.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLeafSpineDegenerate(t *testing.T) {
	tests := []struct {
		name           string
		spines, leaves int
		hostPorts      uint32
		switches       int
		wantErr        string // empty: valid
	}{
		{"no switches", 0, 0, 0, 0, "at least one switch"},
		{"negative counts", -1, -5, 0, 0, "at least one switch"},
		{"leaves without spines or hosts", 0, 2, 0, 2, `switch "leaf1": ports 0 out of range`},
		{"leaves without spines with hosts", 0, 2, 4, 2, ""},
		{"spines without leaves", 2, 0, 0, 2, `switch "spine1": ports 0 out of range`},
		{"too many host ports", 1, 1, topology.MaxPorts, 2, `switch "leaf1": ports 4097 out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := topology.LeafSpine(tt.spines, tt.leaves, topology.WithHostPorts(tt.hostPorts))
			if len(topo.Switches) != tt.switches || len(topo.Links) != 0 && tt.spines*tt.leaves == 0 {
				t.Fatalf("got %d switches and %d links", len(topo.Switches), len(topo.Links))
			}
			err := topo.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestPeer(t *testing.T) {
	topo, err := topology.Parse([]byte(`
switches: [{name: a, ports: 3}, {name: b, ports: 3}]
links: [a:1 <-> b:2, a:2 <-> a:3]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sw     string
		port   uint32
		want   topology.Endpoint
		wantOK bool
	}{
		{"a", 1, ep("b", 2), true},
		{"b", 2, ep("a", 1), true},
		{"a", 2, ep("a", 3), true},
		{"a", 3, ep("a", 2), true},
		{"b", 1, topology.Endpoint{}, false},
		{"a", 0, topology.Endpoint{}, false},
		{"c", 1, topology.Endpoint{}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.sw, tt.port), func(t *testing.T) {
			got, ok := topo.Peer(tt.sw, tt.port)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Peer(%s, %d) = %v, %v; want %v, %v", tt.sw, tt.port, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if _, ok := topo.Switch("c"); ok {
		t.Error(`Switch("c") found a switch`)
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		in      string
		want    topology.Link
		wantErr string
	}{
		{"leaf1:1 <-> spine1:3", link("leaf1", 1, "spine1", 3), ""},
		{"leaf1:1<->spine1:3", link("leaf1", 1, "spine1", 3), ""},
		{"  a.b_c-d:4294967295   <->   x:01 ", link("a.b_c-d", 4294967295, "x", 1), ""},
		{"a:4294967296 <-> b:1", topology.Link{}, "out of range"},
		{"a:-1 <-> b:1", topology.Link{}, `endpoint "a:-1": port`},
		{"a:1 <->", topology.Link{}, `endpoint "": want switch:port`},
		{"a:1 -> b:1", topology.Link{}, "found 0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := topology.ParseLink(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLink error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLink = %v, %v; want %v", got, err, tt.want)
			}
			again, err := topology.ParseLink(got.String())
			if err != nil || again != got {
				t.Errorf("ParseLink(String()) = %v, %v; want %v", again, err, got)
			}
			if !got.Has(got.A) || !got.Has(got.B) || got.Has(ep("zz", 9)) {
				t.Errorf("Has is wrong for %v", got)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	inputs := map[string]*topology.Topology{
		"leafspine": topology.LeafSpine(2, 3, topology.WithHostPorts(1), topology.WithGeneratedTLS()),
	}
	loaded, err := topology.Load(filepath.Join("testdata", "leafspine.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inputs["testdata"] = loaded
	for name, topo := range inputs {
		t.Run(name, func(t *testing.T) {
			data, err := topo.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			back, err := topology.Parse(data)
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v\n%s", err, data)
			}
			if !reflect.DeepEqual(back, topo) {
				t.Errorf("round trip mismatch\ngot:  %+v\nwant: %+v\nYAML:\n%s", back, topo, data)
			}
		})
	}

	data, err := loaded.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- leaf1:1 <-> spine1:1\n", "offset: -2s\n", "drift_ppm: -12.5\n", "generate: true\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("marshalled YAML lacks %q:\n%s", want, data)
		}
	}
}
