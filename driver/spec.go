package driver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/p4fabric/fabric/p4/client"
)

// Protocol names a management protocol of a device.
type Protocol string

// The protocols a device may speak.
const (
	P4Runtime Protocol = "p4runtime"
	GNMI      Protocol = "gnmi"
	GNOI      Protocol = "gnoi"
	// ProtocolDriver is the link to an out-of-process driver (package
	// driver/plugin): its events report the driver's process going away.
	ProtocolDriver Protocol = "driver"
)

// Protocols lists P4Runtime, GNMI and GNOI, in that order.
var Protocols = []Protocol{P4Runtime, GNMI, GNOI}

// ParseProtocol returns the protocol named s ("p4runtime", "gnmi", "gnoi"),
// case-insensitively.
func ParseProtocol(s string) (Protocol, error) {
	p := Protocol(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Protocols, p) {
		return p, nil
	}
	return "", fmt.Errorf("driver: unknown protocol %q (want p4runtime, gnmi or gnoi)", s)
}

// Credentials are a username and password sent in the metadata of every
// gNMI and gNOI RPC.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Spec describes one device for Driver.Open.
type Spec struct {
	// Name names the device in events, logs and errors.
	Name string
	// Driver is the registry name of the driver (Registry.Open).
	Driver string
	// Address is the host:port of every protocol, unless Addresses gives
	// one for it. A driver may add its default port to a bare host.
	Address string
	// Addresses overrides Address per protocol.
	Addresses map[Protocol]string
	// DeviceID is the P4Runtime device ID.
	DeviceID uint64
	// ElectionID is the P4Runtime election ID; zero means 1.
	ElectionID client.ElectionID
	// Role and RoleConfig are the P4Runtime role (empty: the default role,
	// full access).
	Role       string
	RoleConfig *anypb.Any
	// TLS is the client TLS configuration for every protocol (RootCAs to
	// trust the device, Certificates for mutual TLS). Exactly one of TLS
	// and Insecure must be set.
	TLS *tls.Config
	// Insecure connects in plaintext.
	Insecure bool
	// Credentials, when set, are sent with every gNMI and gNOI RPC.
	Credentials *Credentials
	// Options are driver options; each driver documents the ones it
	// reads. Common ones: "vendor", "model", "serial" and
	// "software_version" complete an identity the device does not report.
	Options map[string]string
}

// AddressOf returns the address of protocol p: Addresses[p], or Address.
func (s Spec) AddressOf(p Protocol) string {
	if a := s.Addresses[p]; a != "" {
		return a
	}
	return s.Address
}

// Option returns the driver option key, or def when it is absent.
func (s Spec) Option(key, def string) string {
	if v, ok := s.Options[key]; ok {
		return v
	}
	return def
}

// Validate checks what every driver needs: a name, an address for each
// protocol in protocols, a choice of transport security.
func (s Spec) Validate(protocols ...Protocol) error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if (s.TLS != nil) == s.Insecure {
		errs = append(errs, ErrTransportSecurity)
	}
	for _, p := range protocols {
		if s.AddressOf(p) == "" {
			errs = append(errs, fmt.Errorf("no address for %s (set Address or Addresses[%q])", p, p))
		}
	}
	for p := range s.Addresses {
		if !slices.Contains(Protocols, p) {
			errs = append(errs, fmt.Errorf("address for unknown protocol %q", p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("driver: spec %q: %w", s.Name, err)
	}
	return nil
}

// Clone returns a copy of s whose maps can be changed without changing s.
func (s Spec) Clone() Spec {
	s.Addresses = maps.Clone(s.Addresses)
	s.Options = maps.Clone(s.Options)
	if s.Credentials != nil {
		c := *s.Credentials
		s.Credentials = &c
	}
	return s
}

// Endpoint is where and how to reach one protocol of a device.
type Endpoint struct {
	// Address is host:port.
	Address string
	// TLS is the client TLS configuration; nil with Insecure for
	// plaintext.
	TLS      *tls.Config
	Insecure bool
	// Credentials are sent with every gNMI and gNOI RPC.
	Credentials *Credentials
}

// Endpoints are the protocols of a device and how to reach each; a
// protocol that is absent is one the device does not have.
type Endpoints map[Protocol]Endpoint

// Endpoints returns the endpoints of protocols as spec describes them,
// adding defaultPort to an address without a port (no port is added when
// defaultPort is 0).
func (s Spec) Endpoints(defaultPort int, protocols ...Protocol) (Endpoints, error) {
	if err := s.Validate(protocols...); err != nil {
		return nil, err
	}
	eps := make(Endpoints, len(protocols))
	for _, p := range protocols {
		addr := s.AddressOf(p)
		if defaultPort > 0 {
			addr = WithDefaultPort(addr, defaultPort)
		}
		eps[p] = Endpoint{Address: addr, TLS: s.TLS, Insecure: s.Insecure, Credentials: s.Credentials}
	}
	return eps, nil
}

// WithDefaultPort returns addr with port added when addr has none
// ("10.0.0.1" → "10.0.0.1:9559", "::1" → "[::1]:9559"); an address with a
// port is returned unchanged.
func WithDefaultPort(addr string, port int) string {
	if _, _, err := net.SplitHostPort(addr); err == nil || addr == "" {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(port))
}
