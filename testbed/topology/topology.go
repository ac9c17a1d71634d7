// Package topology describes a testbed: the switches to emulate and the links
// that wire their ports together. A topology is written in a small YAML file,
// parsed and checked here, and handed to the testbed that starts the switches.
//
// # File format
//
//	name: demo                       # optional, same characters as a switch name
//	switches:
//	  - name: spine1                 # required: letters, digits, '.', '_', '-'
//	    device_id: 1                 # P4Runtime device ID; 0 or absent = next free
//	    ports: 4                     # required: ports 1..4 exist
//	    address: 127.0.0.1:9559      # gRPC listen address; default 127.0.0.1:0
//	    identity:                    # all optional; serial defaults to the name
//	      vendor: Fabric
//	      model: emulated-32x100G
//	      serial: SPN-0001
//	      software_version: 1.0.0
//	    tls:                         # optional; absent = plaintext
//	      generate: true             # certificates from an in-memory CA...
//	  - name: leaf1
//	    ports: 4
//	    tls:                         # ...or PEM files
//	      cert: certs/leaf1.pem
//	      key: certs/leaf1-key.pem
//	      ca: certs/ca.pem           # optional: require client certificates
//	    clock:                       # optional skew of the switch's clock
//	      offset: -150ms             # Go duration: added to the true time
//	      drift_ppm: 20              # parts per million, may be negative
//	    credentials:                 # optional: gNMI/gNOI RPCs must carry them
//	      username: admin            # required when credentials is present
//	      password: secret           # in the RPC metadata, as gnmic -u/-p sends them
//	links:                           # one string per cable
//	  - leaf1:1 <-> spine1:1         # switch:port <-> switch:port
//
// Unknown fields and repeated keys are errors, so that a misspelt field does not
// silently fall back to its default. (Field names are matched without regard to
// case, as encoding/json does: "Address" reads as "address".) A link is written "a:p <-> b:q" and
// connects port p of switch a to port q of switch b; links are undirected.
//
// # Rules
//
// Parse fills defaults (SetDefaults) and then checks the topology (Validate):
// at least one switch; names valid and unique; device IDs non-zero and unique;
// 1 ≤ ports ≤ MaxPorts; addresses of the form host:port, unique unless the
// port is 0; tls either generate or cert and key; clock drift finite and below
// one million ppm; credentials with a non-empty username; links between existing switches, on ports within range, each
// port in at most one link (so no link from a port to itself). A link between
// two different ports of the same switch is allowed. Validate reports every
// problem it finds at once, each naming the offending switch or link.
//
// # Leaf-spine
//
// LeafSpine builds the classic two-tier Clos: every leaf linked to every spine,
// with the port numbering documented there. testdata/leafspine.yaml is a small
// leaf-spine written by hand.
package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"sigs.k8s.io/yaml"
)

// DefaultAddress is the listen address of a switch that does not set one: a
// free port on the IPv4 loopback interface.
const DefaultAddress = "127.0.0.1:0"

// MaxPorts is the largest number of ports a switch may have.
const MaxPorts = 4096

// MaxNameLength is the longest switch or topology name.
const MaxNameLength = 63

// maxDriftPPM bounds the clock drift: at one million ppm a clock stops.
const maxDriftPPM = 1e6

// Topology is a set of switches and the links between their ports.
type Topology struct {
	// Name optionally names the topology.
	Name string `json:"name,omitempty"`
	// Switches lists the switches in order; the order gives default device IDs.
	Switches []Switch `json:"switches"`
	// Links lists the cables between switch ports.
	Links []Link `json:"links,omitempty"`
}

// Switch describes one switch of a topology.
type Switch struct {
	// Name identifies the switch in links and everywhere else.
	Name string `json:"name"`
	// DeviceID is the P4Runtime device ID. Zero means unset: SetDefaults
	// assigns the next free ID.
	DeviceID uint64 `json:"device_id,omitempty"`
	// Ports is the number of ports; the ports are numbered 1..Ports.
	Ports uint32 `json:"ports"`
	// Address is the host:port the switch's gRPC server listens on; port 0
	// picks a free port. Empty means DefaultAddress.
	Address string `json:"address,omitempty"`
	// Identity is what the switch reports about itself.
	Identity Identity `json:"identity,omitzero"`
	// TLS, if not nil, makes the switch serve TLS instead of plaintext.
	TLS *TLS `json:"tls,omitempty"`
	// Clock, if not nil, skews the switch's clock.
	Clock *Clock `json:"clock,omitempty"`
	// Credentials, if not nil, make the switch require this username and
	// password in the metadata of its management (gNMI, gNOI) RPCs.
	Credentials *Credentials `json:"credentials,omitempty"`
}

// Credentials are the username and password a switch requires.
type Credentials struct {
	// Username is required.
	Username string `json:"username"`
	// Password may be empty.
	Password string `json:"password,omitempty"`
}

// Identity is the hardware and software description a switch reports.
type Identity struct {
	// Vendor is the manufacturer.
	Vendor string `json:"vendor,omitempty"`
	// Model is the product name.
	Model string `json:"model,omitempty"`
	// Serial is the serial number; SetDefaults sets it to the switch name.
	Serial string `json:"serial,omitempty"`
	// SoftwareVersion is the version of the switch's operating system.
	SoftwareVersion string `json:"software_version,omitempty"`
}

// TLS says where a switch gets its server certificate: generated from an
// in-memory CA (Generate), or read from PEM files (Cert, Key and optionally CA).
type TLS struct {
	// Generate asks the testbed to issue the certificate from its own CA.
	Generate bool `json:"generate,omitempty"`
	// Cert is the path of the PEM certificate chain.
	Cert string `json:"cert,omitempty"`
	// Key is the path of the PEM private key.
	Key string `json:"key,omitempty"`
	// CA, if set, is the path of the PEM bundle client certificates must
	// chain to; the switch then requires client certificates.
	CA string `json:"ca,omitempty"`
}

// Clock skews a switch's clock: at true time t (since the testbed started)
// the switch reads t + Offset + t*DriftPPM/1e6.
type Clock struct {
	// Offset is added to the true time. In YAML it is a Go duration string
	// such as "150ms" or "-2s".
	Offset time.Duration
	// DriftPPM is how fast the clock runs, in parts per million; negative
	// values make it slow.
	DriftPPM float64
}

// clockJSON is the serialised form of Clock.
type clockJSON struct {
	Offset   json.RawMessage `json:"offset,omitempty"`
	DriftPPM float64         `json:"drift_ppm,omitempty"`
}

// MarshalJSON writes the clock with its offset as a duration string.
func (c Clock) MarshalJSON() ([]byte, error) {
	aux := clockJSON{DriftPPM: c.DriftPPM}
	if c.Offset != 0 {
		aux.Offset = json.RawMessage(strconv.Quote(c.Offset.String()))
	}
	return json.Marshal(aux)
}

// UnmarshalJSON reads a clock whose offset is a duration string. Unknown
// fields are errors.
func (c *Clock) UnmarshalJSON(data []byte) error {
	var aux clockJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	var offset time.Duration
	if len(aux.Offset) > 0 && string(aux.Offset) != "null" {
		var str string
		if err := json.Unmarshal(aux.Offset, &str); err != nil {
			return fmt.Errorf("clock: offset: want a duration string such as \"150ms\", got %s", aux.Offset)
		}
		if str != "" {
			var err error
			if offset, err = time.ParseDuration(str); err != nil {
				return fmt.Errorf("clock: offset: %w", err)
			}
		}
	}
	*c = Clock{Offset: offset, DriftPPM: aux.DriftPPM}
	return nil
}

// Endpoint is one end of a link: a port of a switch.
type Endpoint struct {
	// Switch is the name of the switch.
	Switch string `json:"switch"`
	// Port is the port number, from 1.
	Port uint32 `json:"port"`
}

// String returns the endpoint as "switch:port".
func (e Endpoint) String() string { return e.Switch + ":" + strconv.FormatUint(uint64(e.Port), 10) }

// ParseEndpoint parses "switch:port". It checks the syntax only; Validate
// checks that the switch and port exist.
func ParseEndpoint(s string) (Endpoint, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Endpoint{}, fmt.Errorf("endpoint %q: want switch:port", s)
	}
	name, portStr := s[:i], s[i+1:]
	if name == "" {
		return Endpoint{}, fmt.Errorf("endpoint %q: switch name is empty", s)
	}
	port, err := strconv.ParseUint(portStr, 10, 32)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: port: %w", s, err)
	}
	return Endpoint{Switch: name, Port: uint32(port)}, nil
}

// linkArrow separates the two endpoints of a link in its text form.
const linkArrow = "<->"

// Link is a cable between two switch ports. It is undirected: A and B play
// the same role.
type Link struct {
	// A is the end written first.
	A Endpoint
	// B is the end written second.
	B Endpoint
}

// String returns the link as "a:p <-> b:q".
func (l Link) String() string { return l.A.String() + " " + linkArrow + " " + l.B.String() }

// ParseLink parses "a:p <-> b:q"; blanks around the arrow are optional. It
// checks the syntax only; Validate checks the endpoints.
func ParseLink(s string) (Link, error) {
	if n := strings.Count(s, linkArrow); n != 1 {
		return Link{}, fmt.Errorf("link %q: want one %q between two switch:port endpoints, found %d", s, linkArrow, n)
	}
	left, right, _ := strings.Cut(s, linkArrow)
	a, err := ParseEndpoint(left)
	if err != nil {
		return Link{}, fmt.Errorf("link %q: %w", s, err)
	}
	b, err := ParseEndpoint(right)
	if err != nil {
		return Link{}, fmt.Errorf("link %q: %w", s, err)
	}
	return Link{A: a, B: b}, nil
}

// MarshalText returns the text form of the link, so that links are strings
// in YAML and JSON.
func (l Link) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalJSON reads a link from a JSON string in the text form (see
// ParseLink), and says what is expected when given anything else.
func (l *Link) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("link %s: want a string such as \"leaf1:1 <-> spine1:1\"", data)
	}
	return l.UnmarshalText([]byte(s))
}

// UnmarshalText parses the text form of a link (see ParseLink).
func (l *Link) UnmarshalText(text []byte) error {
	parsed, err := ParseLink(string(text))
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}

// Has reports whether e is one of the link's ends.
func (l Link) Has(e Endpoint) bool { return l.A == e || l.B == e }

// Parse reads a topology from YAML (or JSON), fills its defaults and validates
// it. Unknown fields and repeated keys are errors.
func Parse(data []byte) (*Topology, error) {
	var t Topology
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		return nil, fmt.Errorf("topology: parse: %w", err)
	}
	t.SetDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Load reads the file at path and parses it with Parse.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Marshal returns the topology as YAML (keys in alphabetical order, links as
// strings). For a topology that passes Validate after SetDefaults, Parse reads
// the result back to an equal topology.
func (t *Topology) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("topology: marshal: %w", err)
	}
	return b, nil
}

// SetDefaults fills what the file may leave out: an empty address becomes
// DefaultAddress, an empty serial the switch name, and a zero device ID the
// smallest ID from 1 up that no switch uses yet, in list order — so a file that
// sets no device IDs gets 1..N in order. An empty links list becomes nil.
func (t *Topology) SetDefaults() {
	used := make(map[uint64]bool, len(t.Switches))
	for _, s := range t.Switches {
		if s.DeviceID != 0 {
			used[s.DeviceID] = true
		}
	}
	next := uint64(1)
	for i := range t.Switches {
		s := &t.Switches[i]
		if s.DeviceID == 0 {
			for used[next] {
				next++
			}
			s.DeviceID = next
			used[next] = true
		}
		if s.Address == "" {
			s.Address = DefaultAddress
		}
		if s.Identity.Serial == "" {
			s.Identity.Serial = s.Name
		}
	}
	if len(t.Links) == 0 {
		t.Links = nil
	}
}

// ValidationError is returned by Validate and Parse. It lists every problem
// found, each naming the offending switch or link.
type ValidationError struct {
	// Problems holds one error per problem, in the order found.
	Problems []error
}

// Error returns the problems on one line.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "topology: " + e.Problems[0].Error()
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("topology: %d problems: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error { return e.Problems }

// Validate checks the topology against the rules in the package
// documentation. It does not fill defaults: call SetDefaults first for a
// topology built by hand. The error, if any, is a *ValidationError.
func (t *Topology) Validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if t.Name != "" {
		if err := checkName(t.Name); err != nil {
			add("name: %w", err)
		}
	}
	if len(t.Switches) == 0 {
		add("switches: at least one switch is required")
	}

	byName := make(map[string]int, len(t.Switches))
	byID := make(map[uint64]string, len(t.Switches))
	byAddr := make(map[string]string, len(t.Switches))
	for i, s := range t.Switches {
		label := fmt.Sprintf("switch %q", s.Name)
		if err := checkName(s.Name); err != nil {
			label = fmt.Sprintf("switches[%d]", i)
			add("%s: name: %w", label, err)
		} else if j, dup := byName[s.Name]; dup {
			label = fmt.Sprintf("switches[%d]", i)
			add("%s: name %q already used by switches[%d]", label, s.Name, j)
		} else {
			byName[s.Name] = i
		}

		if s.DeviceID == 0 {
			add("%s: device_id is 0 (unset)", label)
		} else if other, dup := byID[s.DeviceID]; dup {
			add("%s: device_id %d already used by switch %q", label, s.DeviceID, other)
		} else {
			byID[s.DeviceID] = s.Name
		}

		if s.Ports < 1 || s.Ports > MaxPorts {
			add("%s: ports %d out of range 1..%d", label, s.Ports, MaxPorts)
		}

		if err := checkAddress(s.Address); err != nil {
			add("%s: address: %w", label, err)
		} else if _, port, _ := net.SplitHostPort(s.Address); port != "0" {
			if other, dup := byAddr[s.Address]; dup {
				add("%s: address %q already used by switch %q", label, s.Address, other)
			} else {
				byAddr[s.Address] = s.Name
			}
		}

		for _, f := range []field{
			{"identity.vendor", s.Identity.Vendor}, {"identity.model", s.Identity.Model},
			{"identity.serial", s.Identity.Serial}, {"identity.software_version", s.Identity.SoftwareVersion},
		} {
			if err := checkText(f.value); err != nil {
				add("%s: %s: %w", label, f.name, err)
			}
		}

		if s.TLS != nil {
			for _, err := range s.TLS.check() {
				add("%s: tls: %w", label, err)
			}
		}
		if c := s.Credentials; c != nil {
			if c.Username == "" {
				add("%s: credentials: username is empty", label)
			}
			if err := checkText(c.Username); err != nil {
				add("%s: credentials: username: %w", label, err)
			}
			if err := checkText(c.Password); err != nil {
				add("%s: credentials: password: unprintable character", label)
			}
		}
		if c := s.Clock; c != nil {
			if math.IsNaN(c.DriftPPM) || math.IsInf(c.DriftPPM, 0) || math.Abs(c.DriftPPM) >= maxDriftPPM {
				add("%s: clock: drift_ppm %v out of range (-%g, %g)", label, c.DriftPPM, float64(maxDriftPPM), float64(maxDriftPPM))
			}
		}
	}

	usedBy := make(map[Endpoint]int, 2*len(t.Links))
	for i, l := range t.Links {
		label := fmt.Sprintf("links[%d] %q", i, l.String())
		if l.A == l.B {
			add("%s: connects %s to itself", label, l.A)
			continue
		}
		for _, e := range []Endpoint{l.A, l.B} {
			j, ok := byName[e.Switch]
			if !ok {
				add("%s: switch %q does not exist", label, e.Switch)
				continue
			}
			// A switch without ports is reported above; every port of it
			// would be out of range too.
			if n := t.Switches[j].Ports; n > 0 && (e.Port < 1 || e.Port > n) {
				add("%s: port %d out of range 1..%d of switch %q", label, e.Port, n, e.Switch)
				continue
			}
			if k, dup := usedBy[e]; dup {
				add("%s: port %s already used by links[%d] %q", label, e, k, t.Links[k].String())
				continue
			}
			usedBy[e] = i
		}
	}

	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// field is a named string field, for checks that loop over several.
type field struct{ name, value string }

// check returns the problems of a TLS block.
func (c *TLS) check() []error {
	var errs []error
	files := c.Cert != "" || c.Key != "" || c.CA != ""
	switch {
	case c.Generate && files:
		errs = append(errs, errors.New("generate cannot be combined with cert, key or ca"))
	case !c.Generate && !files:
		errs = append(errs, errors.New("set generate: true, or cert and key"))
	case !c.Generate:
		if c.Cert == "" {
			errs = append(errs, errors.New("cert is required with key or ca"))
		}
		if c.Key == "" {
			errs = append(errs, errors.New("key is required with cert or ca"))
		}
	}
	for _, f := range []field{{"cert", c.Cert}, {"key", c.Key}, {"ca", c.CA}} {
		if err := checkText(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	return errs
}

// checkName checks a switch or topology name: 1 to MaxNameLength letters,
// digits, '.', '_' or '-', starting with a letter or a digit.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("%q longer than %d characters", name, MaxNameLength)
	}
	for i, r := range name {
		alnum := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if alnum || (i > 0 && (r == '.' || r == '_' || r == '-')) {
			continue
		}
		return fmt.Errorf("%q: want letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// checkAddress checks a host:port listen address.
func checkAddress(addr string) error {
	if err := checkText(addr); err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	return nil
}

// checkText rejects strings that cannot be shown on one line.
func checkText(s string) error {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%q contains an unprintable character", s)
		}
	}
	return nil
}

// Switch returns the switch named name.
func (t *Topology) Switch(name string) (*Switch, bool) {
	for i := range t.Switches {
		if t.Switches[i].Name == name {
			return &t.Switches[i], true
		}
	}
	return nil, false
}

// Peer returns the endpoint linked to port of switch sw, and false if that
// port is not linked.
func (t *Topology) Peer(sw string, port uint32) (Endpoint, bool) {
	e := Endpoint{Switch: sw, Port: port}
	for _, l := range t.Links {
		switch e {
		case l.A:
			return l.B, true
		case l.B:
			return l.A, true
		}
	}
	return Endpoint{}, false
}
