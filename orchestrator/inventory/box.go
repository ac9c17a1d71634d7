package inventory

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/p4fabric/fabric/driver"
)

// Role is what a box does in the chassis.
type Role string

// The roles a box may have.
const (
	// RoleController is a box that runs control-plane functions.
	RoleController Role = "controller"
	// RoleForwarder is a line-card box: it forwards traffic of the
	// chassis' front-panel ports.
	RoleForwarder Role = "forwarder"
	// RoleFabric is a box that carries traffic between forwarders.
	RoleFabric Role = "fabric"
)

// Roles lists the roles, in the order controller, forwarder, fabric.
var Roles = []Role{RoleController, RoleForwarder, RoleFabric}

// ParseRole returns the role named s, case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("inventory: unknown role %q (want controller, forwarder or fabric): %w", s, ErrInvalid)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// BoxSpec is how to reach a box and what it is for: what Register is given.
// It converts to the driver.Spec that opens the box (DriverSpec). Everything
// but TLS and Credentials is kept in the store with the box.
type BoxSpec struct {
	// Name names the box in logs and errors (the driver's Spec.Name). It
	// need not be unique and may change: the box is known by its serial.
	Name string `json:"name"`
	// Driver is the registry name of the box's driver.
	Driver string `json:"driver"`
	// Address is the host:port of every protocol, unless Addresses gives
	// one for it.
	Address string `json:"address,omitempty"`
	// Addresses overrides Address per protocol.
	Addresses map[driver.Protocol]string `json:"addresses,omitempty"`
	// Role is what the box does in the chassis.
	Role Role `json:"role"`
	// DeviceID is the P4Runtime device ID the box is configured with.
	DeviceID uint64 `json:"device_id"`
	// Module, when not zero, is the module ID the box asks for: Register
	// fails with ErrModuleTaken if another box holds it, and with
	// ErrModuleMismatch if the box already holds another one. Zero lets
	// the inventory allocate the lowest free ID.
	Module uint32 `json:"module,omitempty"`
	// Insecure connects in plaintext. Exactly one of TLS and Insecure is
	// set for Register to open the box.
	Insecure bool `json:"insecure,omitempty"`
	// TLS is the client TLS configuration. It is not stored.
	TLS *tls.Config `json:"-"`
	// Credentials are sent with every gNMI and gNOI RPC. They are not
	// stored.
	Credentials *driver.Credentials `json:"-"`
	// Options are driver options (driver.Spec.Options).
	Options map[string]string `json:"options,omitempty"`
}

// DriverSpec returns the driver.Spec that opens the box.
func (s BoxSpec) DriverSpec() driver.Spec {
	ds := driver.Spec{
		Name:      s.Name,
		Driver:    s.Driver,
		Address:   s.Address,
		Addresses: maps.Clone(s.Addresses),
		DeviceID:  s.DeviceID,
		TLS:       s.TLS,
		Insecure:  s.Insecure,
		Options:   maps.Clone(s.Options),
	}
	if s.Credentials != nil {
		c := *s.Credentials
		ds.Credentials = &c
	}
	return ds
}

// Clone returns a copy of s whose maps can be changed without changing s.
func (s BoxSpec) Clone() BoxSpec {
	s.Addresses = maps.Clone(s.Addresses)
	s.Options = maps.Clone(s.Options)
	if s.Credentials != nil {
		c := *s.Credentials
		s.Credentials = &c
	}
	return s
}

// Validate checks what the inventory needs of a spec: a name, a driver, a
// valid role, an address. It returns an error wrapping ErrInvalid that
// names the box and every problem.
func (s BoxSpec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if s.Driver == "" {
		errs = append(errs, errors.New("no driver"))
	}
	if !s.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %q is not controller, forwarder or fabric", s.Role))
	}
	if s.Address == "" && len(s.Addresses) == 0 {
		errs = append(errs, errors.New("no address"))
	}
	if s.Module > MaxModule {
		errs = append(errs, fmt.Errorf("module %d above %d", s.Module, MaxModule))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("inventory: box %q: %w: %w", s.Name, ErrInvalid, err)
	}
	return nil
}

// Box is a registered box: the record the inventory keeps in the store.
type Box struct {
	// Serial is the box's serial number, from its identity: the key the
	// box is known by.
	Serial string `json:"serial"`
	// Module is the box's module ID, at least 1: the first number of its
	// chassis-wide interface names.
	Module uint32 `json:"module"`
	// Identity is what the box said about itself at its last
	// registration.
	Identity driver.Identity `json:"identity"`
	// Spec is how the box was last registered (without TLS and
	// credentials).
	Spec BoxSpec `json:"spec"`
	// Ports are the box's ports from its driver's port map at the last
	// registration, sorted by P4Runtime port ID; nil when the driver
	// cannot map ports (then any port ID is accepted).
	Ports []driver.Port `json:"ports,omitempty"`
	// Registered is when the box was first registered.
	Registered time.Time `json:"registered"`
	// Updated is when the box was last registered.
	Updated time.Time `json:"updated"`
	// Revision is the store's mod revision of the record.
	Revision int64 `json:"-"`
}

// Port returns the box's port with P4Runtime port ID id. When the box has
// no port map (Ports is nil), every id is accepted, with an empty name.
func (b Box) Port(id uint32) (driver.Port, bool) {
	if b.Ports == nil {
		return driver.Port{ID: id}, true
	}
	i, ok := slices.BinarySearchFunc(b.Ports, id, func(p driver.Port, id uint32) int {
		switch {
		case p.ID < id:
			return -1
		case p.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return driver.Port{}, false
	}
	return b.Ports[i], true
}

// String renders the box as "module 3 (serial SN-1, leaf1)".
func (b Box) String() string {
	return fmt.Sprintf("module %d (serial %s, %s)", b.Module, b.Serial, b.Spec.Name)
}
