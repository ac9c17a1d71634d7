package events

import (
	"fmt"
	"strings"
)

// Kind says what an Event reports.
type Kind uint8

// Kinds of events. The zero Kind is invalid.
const (
	// BoxConnected: the orchestrator reached a box (its management
	// connections are up).
	BoxConnected Kind = iota + 1
	// BoxDisconnected: the orchestrator lost a box.
	BoxDisconnected
	// PortUp: a port's operational status went up (Port is set).
	PortUp
	// PortDown: a port's operational status went down (Port is set).
	PortDown
	// LinkDiscovered: a link between two boxes was learned. Module, Serial
	// and Port name one end, the AttrPeer* attributes the other.
	LinkDiscovered
	// LinkLost: a link was dropped (port down or probes stopped).
	LinkLost
	// Committed: a chassis configuration transaction was committed (OpID
	// is its operation ID; Module is 0).
	Committed
	// Aborted: a transaction failed and was rolled back.
	Aborted
	// DriftRepaired: the reconciler corrected a box that drifted from its
	// goal state.
	DriftRepaired
	// TimeAlarmRaised: a box's clock offset passed the alarm threshold.
	TimeAlarmRaised
	// TimeAlarmCleared: a box's clock offset came back under the threshold.
	TimeAlarmCleared
	// MastershipChanged: the orchestrator became master or backup of a box.
	MastershipChanged

	numKinds = iota + 1 // one past the last kind
)

var kindNames = [numKinds]string{
	BoxConnected:      "box-connected",
	BoxDisconnected:   "box-disconnected",
	PortUp:            "port-up",
	PortDown:          "port-down",
	LinkDiscovered:    "link-discovered",
	LinkLost:          "link-lost",
	Committed:         "committed",
	Aborted:           "aborted",
	DriftRepaired:     "drift-repaired",
	TimeAlarmRaised:   "time-alarm-raised",
	TimeAlarmCleared:  "time-alarm-cleared",
	MastershipChanged: "mastership-changed",
}

// Kinds returns every valid Kind in order.
func Kinds() []Kind {
	ks := make([]Kind, 0, numKinds-1)
	for k := Kind(1); k < numKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k > 0 && k < numKinds }

// String returns the kind's name, such as "port-down", or "Kind(n)" for an
// invalid kind.
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind returns the kind named s (as String returns it, case-insensitive).
// The error wraps ErrInvalid.
func ParseKind(s string) (Kind, error) {
	for k := Kind(1); k < numKinds; k++ {
		if strings.EqualFold(s, kindNames[k]) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("events: unknown kind %q: %w", s, ErrInvalid)
}

// MarshalText encodes the kind as its name; an invalid kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("events: kind %d: %w", uint8(k), ErrInvalid)
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	if k == nil {
		return fmt.Errorf("events: unmarshal into nil *Kind: %w", ErrInvalid)
	}
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
