package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
)

// Errors a caller may branch on. Test for them with errors.Is.
var (
	// ErrUnsupported: the device does not have the protocol, or cannot do
	// what was asked (a bmv2 switch has no gNMI and cannot reboot itself).
	// The error names the device and what is missing. An UNIMPLEMENTED
	// answer of the device to the RPC behind a behaviour matches it too.
	ErrUnsupported = errors.New("not supported by the device")
	// ErrClosed is returned by the calls of a closed device.
	ErrClosed = errors.New("driver: device closed")
	// ErrUnknownDriver is wrapped by Registry.Get and Registry.Open for a
	// driver name the registry does not hold.
	ErrUnknownDriver = errors.New("unknown driver")
	// ErrTransportSecurity: a Spec gives neither TLS nor Insecure, or both.
	// A driver never falls back to plaintext by itself.
	ErrTransportSecurity = errors.New("driver: choose exactly one of TLS or Insecure")
)

// Driver opens devices of one kind: the emulated switch, bmv2, Stratum, or
// a vendor's (package driver/plugin loads drivers that run in their own
// process). A Driver is safe for concurrent use.
type Driver interface {
	// Name is the name the registry knows the driver by ("emulated",
	// "bmv2", "stratum", a plugin's name).
	Name() string
	// Open connects to the device spec describes and returns once it
	// answers on each protocol the driver uses for it, or ctx is done.
	// Afterwards the device reconnects by itself: see Device.Events.
	Open(ctx context.Context, spec Spec) (Device, error)
}

// Behaviours are what differs from device to device beyond the protocols:
// how it names its ports, how a pipeline is packaged for it, how it
// reboots, upgrades and tells the time. Every call honours its context;
// what the device cannot do fails with an error matching ErrUnsupported.
type Behaviours interface {
	// Identity reports what the device says about itself, completed by
	// the driver options (see Spec.Options) where it says nothing.
	Identity(ctx context.Context) (Identity, error)
	// Ports maps the device's port names to P4Runtime port IDs.
	Ports(ctx context.Context) (*PortMap, error)
	// PackagePipeconf returns the p4_device_config of
	// SetForwardingPipelineConfig for pc on this device (the bmv2 JSON
	// for bmv2 and Stratum-bmv2, ...). It fails when pc has no config the
	// device can use.
	PackagePipeconf(ctx context.Context, pc *pipeline.Pipeconf) ([]byte, error)
	// Reboot restarts the device (a cold reboot). It returns once the
	// device accepted the request; Events reports it going down and
	// coming back.
	Reboot(ctx context.Context) error
	// InstallSoftware transfers image, a software package of version, to
	// the device, activates it (the device reboots) and returns once the
	// device runs version, or ctx is done.
	InstallSoftware(ctx context.Context, version string, image io.Reader) error
	// Clock reads the device's clock and places it against the local one.
	Clock(ctx context.Context) (ClockReading, error)
}

// Device is one open device: its behaviours and the protocol clients it
// supports. Its methods are safe for concurrent use.
type Device interface {
	Behaviours
	// P4Runtime returns the device's P4Runtime client, arbitrated with
	// the Spec's device ID, role and election ID, or an error matching
	// ErrUnsupported. The device reads the client's Mastership channel
	// to produce its Events: read mastership changes there, or poll
	// client.Status, but do not read Mastership.
	P4Runtime() (*client.Client, error)
	// GNMI returns the device's gNMI client, or an error matching
	// ErrUnsupported.
	GNMI() (*gnmi.Client, error)
	// GNOI returns the device's gNOI client, or an error matching
	// ErrUnsupported.
	GNOI() (*gnoi.Client, error)
	// Events reports the device's connections going up and down and
	// P4Runtime mastership changes. The first events after Open are one
	// Connected per protocol. The channel is buffered; when the reader
	// falls behind the oldest events are dropped (and logged), never the
	// latest. Close closes it.
	Events() <-chan Event
	// Close closes the device's connections and ends its events. It is
	// idempotent.
	Close() error
}

// NodeIDSetter is implemented by devices whose P4Runtime device ID can be
// set from outside: boxes that serve openconfig-p4rt over gNMI (emulated,
// stratum). A bmv2 switch has no gNMI and does not implement it; its
// device ID is the one it was started with.
type NodeIDSetter interface {
	// SetNodeID sets the openconfig-p4rt node ID of the device's chip
	// (/components/component[name=<chip>]/integrated-circuit/config/node-id,
	// the chip being the one component of type INTEGRATED_CIRCUIT) over
	// gNMI, and reads integrated-circuit/state/node-id back until it
	// reports id. Afterwards the device answers P4Runtime under id only:
	// the device's P4Runtime client, arbitrated for the old ID, is
	// refused (its stream ends with NOT_FOUND), so the caller closes the
	// device and opens it again with Spec.DeviceID = id. Setting the ID
	// the chip already has changes nothing on the device and does not
	// disturb its P4Runtime sessions.
	//
	// A device that has no chip component, or refuses the path as not
	// served, fails with an error matching ErrUnsupported that names what
	// was missing.
	SetNodeID(ctx context.Context, id uint64) error
}

// Identity is what a device says about itself. The orchestrator keys its
// inventory on Serial.
type Identity struct {
	Vendor          string `json:"vendor"`
	Model           string `json:"model"`
	Serial          string `json:"serial"`
	SoftwareVersion string `json:"software_version"`
}

// String renders the identity as "vendor model serial (software version)".
func (id Identity) String() string {
	return fmt.Sprintf("%s %s %s (%s)", id.Vendor, id.Model, id.Serial, id.SoftwareVersion)
}

// Port is one port of a device: its name on the device and its P4Runtime
// port ID (the value of the program's ingress and egress port fields).
type Port struct {
	Name string `json:"name"`
	ID   uint32 `json:"id"`
}

// PortMap maps port names to P4Runtime port IDs and back. The zero value
// and nil are empty maps. A PortMap is immutable.
type PortMap struct {
	ports  []Port // sorted by ID
	byName map[string]uint32
	byID   map[uint32]string
}

// NewPortMap checks ports (non-empty names, no name or ID twice) and
// returns their map.
func NewPortMap(ports []Port) (*PortMap, error) {
	m := &PortMap{
		ports:  slices.Clone(ports),
		byName: make(map[string]uint32, len(ports)),
		byID:   make(map[uint32]string, len(ports)),
	}
	for _, p := range ports {
		if p.Name == "" {
			return nil, fmt.Errorf("driver: port %d has no name", p.ID)
		}
		if id, dup := m.byName[p.Name]; dup {
			return nil, fmt.Errorf("driver: port name %q given twice (ports %d and %d)", p.Name, id, p.ID)
		}
		if n, dup := m.byID[p.ID]; dup {
			return nil, fmt.Errorf("driver: port ID %d given twice (ports %q and %q)", p.ID, n, p.Name)
		}
		m.byName[p.Name] = p.ID
		m.byID[p.ID] = p.Name
	}
	slices.SortFunc(m.ports, func(a, b Port) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return m, nil
}

// ID returns the P4Runtime port ID of the port named name.
func (m *PortMap) ID(name string) (uint32, bool) {
	if m == nil {
		return 0, false
	}
	id, ok := m.byName[name]
	return id, ok
}

// Name returns the name of the port with P4Runtime port ID id.
func (m *PortMap) Name(id uint32) (string, bool) {
	if m == nil {
		return "", false
	}
	n, ok := m.byID[id]
	return n, ok
}

// Ports returns the ports sorted by ID.
func (m *PortMap) Ports() []Port {
	if m == nil {
		return nil
	}
	return slices.Clone(m.ports)
}

// Len returns the number of ports.
func (m *PortMap) Len() int {
	if m == nil {
		return 0
	}
	return len(m.ports)
}

// ClockReading is a device's time placed against the local clock.
type ClockReading struct {
	// Time is the device's time.
	Time time.Time
	// Local is the local time half-way through the call: the best local
	// estimate of when the device read its clock.
	Local time.Time
	// Offset is Time - Local: how far the device's clock is ahead.
	Offset time.Duration
	// RTT is the round-trip time of the call to the device.
	RTT time.Duration
	// ErrorBound is RTT/2: the true offset lies within Offset ±
	// ErrorBound.
	ErrorBound time.Duration
}

// Unsupported returns an error matching ErrUnsupported that names the
// device, its driver (when not empty) and what it cannot do: "device
// leaf1 (bmv2): reboot: not supported by the device".
func Unsupported(device, driver, what string) error {
	if driver == "" {
		return fmt.Errorf("device %s: %s: %w", device, what, ErrUnsupported)
	}
	return fmt.Errorf("device %s (%s): %s: %w", device, driver, what, ErrUnsupported)
}
