package gnmi

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of the configuration leaves (the values a delete restores).
const (
	DefaultMTU     = 1500
	DefaultNTPPort = 123
	MinMTU         = 64
	MaxMTU         = 9216
	maxDescription = 1024
)

// Config is the switch's configuration: what gNMI Set changes and what
// survives a reboot (the startup configuration).
type Config struct {
	// Hostname is /system/config/hostname.
	Hostname string `json:"hostname"`
	// Interfaces has one entry per port, in port order.
	Interfaces []InterfaceConfig `json:"interfaces"`
	// NTP is /system/ntp.
	NTP NTPConfig `json:"ntp"`
	// NodeID is the openconfig-p4rt node ID of the switch's chip,
	// /components/component[name=ChipName]/integrated-circuit/config/node-id:
	// the P4Runtime device_id the switch answers to.
	NodeID uint64 `json:"node_id"`
}

// ChipName is the name of the switch's one integrated-circuit component
// (type INTEGRATED_CIRCUIT, parent "chassis"), as PINS switches name
// theirs; its integrated-circuit/config/node-id is the P4Runtime device ID.
const ChipName = "integrated_circuit0"

// InterfaceConfig is /interfaces/interface[name=Name]/config.
type InterfaceConfig struct {
	// Name is the interface name, "eth<port>"; it cannot change.
	Name string `json:"name"`
	// Port is the P4Runtime port number (state/id).
	Port uint32 `json:"port"`
	// Enabled is the administrative state.
	Enabled bool `json:"enabled"`
	// Description is free text; "" means none.
	Description string `json:"description,omitempty"`
	// MTU is the maximum transmission unit, MinMTU..MaxMTU.
	MTU uint16 `json:"mtu"`
}

// NTPConfig is /system/ntp/config and its servers.
type NTPConfig struct {
	// Enabled turns the NTP client on.
	Enabled bool `json:"enabled"`
	// Servers are sorted by address.
	Servers []NTPServer `json:"servers,omitempty"`
}

// NTPServer is /system/ntp/servers/server[address=Address]/config.
type NTPServer struct {
	// Address is an IP address or a host name.
	Address string `json:"address"`
	// Port is the UDP port, DefaultNTPPort unless set.
	Port uint16 `json:"port"`
}

// InterfaceName returns the name of the interface of a port: "eth<port>".
func InterfaceName(port uint32) string { return "eth" + strconv.FormatUint(uint64(port), 10) }

// ComponentName returns the name of the platform component of a port:
// "port<port>".
func ComponentName(port uint32) string { return "port" + strconv.FormatUint(uint64(port), 10) }

// portOf parses an interface name back to its port.
func portOf(name string, ports int) (uint32, bool) {
	rest, ok := strings.CutPrefix(name, "eth")
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 6 {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	if err != nil || n < 1 || n > uint64(ports) {
		return 0, false
	}
	return uint32(n), true
}

func defaultConfig(hostname string, ports int, nodeID uint64) Config {
	c := Config{Hostname: hostname, Interfaces: make([]InterfaceConfig, ports), NodeID: nodeID}
	for i := range c.Interfaces {
		c.Interfaces[i] = defaultInterface(uint32(i + 1))
	}
	return c
}

func defaultInterface(port uint32) InterfaceConfig {
	return InterfaceConfig{Name: InterfaceName(port), Port: port, Enabled: true, MTU: DefaultMTU}
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	c.Interfaces = slices.Clone(c.Interfaces)
	c.NTP.Servers = slices.Clone(c.NTP.Servers)
	return c
}

func (c *NTPConfig) server(addr string) (int, bool) {
	return slices.BinarySearchFunc(c.Servers, addr, func(s NTPServer, a string) int { return strings.Compare(s.Address, a) })
}

// checkHostname accepts RFC 1123 host names: labels of letters, digits and
// '-', separated by dots, 1 to 253 characters.
func checkHostname(s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("hostname %q: want 1 to 253 characters", s)
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("hostname %q: label %q is not valid", s, label)
		}
		for _, r := range label {
			if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-')) {
				return fmt.Errorf("hostname %q: character %q is not a letter, digit or '-'", s, r)
			}
		}
	}
	return nil
}

// checkServerAddress accepts an IP address or a host name.
func checkServerAddress(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	if err := checkHostname(s); err != nil {
		return fmt.Errorf("NTP server address %q is neither an IP address nor a host name", s)
	}
	return nil
}

func checkDescription(s string) error {
	if len(s) > maxDescription || !utf8.ValidString(s) {
		return fmt.Errorf("description: want at most %d bytes of UTF-8", maxDescription)
	}
	return nil
}
