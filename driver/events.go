package driver

import (
	"fmt"
	"time"

	"github.com/p4fabric/fabric/p4/client"
)

// EventKind says what an Event reports.
type EventKind int

// Kinds of events.
const (
	// Connected: the protocol's connection is up (for P4Runtime: the
	// stream channel is open and arbitrated, Mastership says as what).
	Connected EventKind = iota + 1
	// Disconnected: the connection broke, or the device stopped
	// answering health checks; Err says why. The device keeps
	// reconnecting, with backoff, until it is closed.
	Disconnected
	// MastershipChanged: the P4Runtime client went from primary to
	// backup or back while connected.
	MastershipChanged
)

// String returns "connected", "disconnected" or "mastership".
func (k EventKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case MastershipChanged:
		return "mastership"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a change of a device's connection to one protocol.
type Event struct {
	// Device is the device's Spec.Name.
	Device string
	Kind   EventKind
	// Protocol is the protocol whose connection changed (ProtocolDriver
	// for the process of an out-of-process driver).
	Protocol Protocol
	// Time is when the change was seen.
	Time time.Time
	// Err says why a Disconnected event happened.
	Err error
	// Mastership is the P4Runtime client's state after a P4Runtime
	// event (Disconnected for other protocols).
	Mastership client.MastershipState
}

// String renders the event as "leaf1 p4runtime connected (primary)".
func (e Event) String() string {
	s := fmt.Sprintf("%s %s %s", e.Device, e.Protocol, e.Kind)
	if e.Protocol == P4Runtime && e.Kind != Disconnected {
		s += " (" + e.Mastership.String() + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
