package events

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Errors that callers branch on; the bus wraps them.
var (
	// ErrClosed is returned by Publish and Subscribe after Close.
	ErrClosed = errors.New("events: bus closed")
	// ErrInvalid is returned for an event of an invalid kind, a filter
	// naming an invalid kind, and out-of-range options.
	ErrInvalid = errors.New("events: invalid argument")
)

// Conventional attribute keys. Publishers may add any others.
const (
	// AttrPeerModule is the module ID of a link's other end (decimal).
	AttrPeerModule = "peer.module"
	// AttrPeerSerial is the serial of a link's other end.
	AttrPeerSerial = "peer.serial"
	// AttrPeerPort is the port of a link's other end (decimal).
	AttrPeerPort = "peer.port"
	// AttrReason says why something happened (an error, "probe timeout").
	AttrReason = "reason"
)

// Event is one fact about the chassis.
//
// Its JSON form, used by the CLI, has these stable field names:
//
//	{"seq":7,"kind":"port-down","module":3,"serial":"SN3","port":12,
//	 "op":"op-1","source_time":"…","observed_time":"…",
//	 "attrs":{"reason":"…"},"message":"…"}
//
// Times are RFC 3339 with nanoseconds; serial, port, op, source_time, attrs
// and message are left out when empty.
type Event struct {
	// Seq is assigned by Bus.Publish: strictly increasing in publish
	// order, starting at 1. Publishers leave it zero.
	Seq uint64 `json:"seq"`
	// Kind says what happened.
	Kind Kind `json:"kind"`
	// Module is the module ID of the box concerned; 0 means chassis-wide.
	Module uint32 `json:"module"`
	// Serial is the box's serial number, when a box is concerned.
	Serial string `json:"serial,omitempty"`
	// Port is the box's port number (P4Runtime SDN port) for port and
	// link events; 0 when no port is concerned.
	Port uint32 `json:"port,omitempty"`
	// OpID is the operation (trace) ID the event belongs to, if any.
	OpID string `json:"op,omitempty"`
	// SourceTime is when the fact happened according to its source (a
	// device timestamp, on the device's clock); zero when unknown.
	SourceTime time.Time `json:"source_time,omitzero"`
	// ObservedTime is when the orchestrator observed the fact. Publish
	// sets it to the bus clock's time when it is zero.
	ObservedTime time.Time `json:"observed_time"`
	// Attrs are free-form attributes (see the Attr* keys). Publish copies
	// the map; subscribers share the copy and must not modify it.
	Attrs map[string]string `json:"attrs,omitempty"`
	// Message is a human-readable description.
	Message string `json:"message,omitempty"`
}

// String renders the event on one line, such as
// "#7 port-down module=3 serial=SN3 port=12 op=op-1: carrier lost".
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s module=%d", e.Seq, e.Kind, e.Module)
	if e.Serial != "" {
		fmt.Fprintf(&b, " serial=%s", e.Serial)
	}
	if e.Port != 0 {
		fmt.Fprintf(&b, " port=%d", e.Port)
	}
	if e.OpID != "" {
		fmt.Fprintf(&b, " op=%s", e.OpID)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
		fmt.Fprintf(&b, " %s=%s", k, e.Attrs[k])
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Filter selects events. Each non-empty field narrows the selection; the
// zero Filter matches every event.
type Filter struct {
	// Kinds: the event's kind is one of these.
	Kinds []Kind `json:"kinds,omitempty"`
	// Modules: the event's module is one of these (0 selects chassis-wide
	// events).
	Modules []uint32 `json:"modules,omitempty"`
	// OpID: the event belongs to this operation.
	OpID string `json:"op,omitempty"`
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Event) bool {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind) {
		return false
	}
	if len(f.Modules) > 0 && !slices.Contains(f.Modules, e.Module) {
		return false
	}
	return f.OpID == "" || f.OpID == e.OpID
}

// Validate returns an error wrapping ErrInvalid when the filter names an
// invalid kind.
func (f Filter) Validate() error {
	for _, k := range f.Kinds {
		if !k.Valid() {
			return fmt.Errorf("events: filter kind %d: %w", uint8(k), ErrInvalid)
		}
	}
	return nil
}
