// Package monitor watches the boxes of the chassis and turns what they
// report into orchestrator events and log records.
//
// For every watched box (Watch) a Monitor runs three loops:
//
//   - Ports: a gNMI STREAM subscription, ON_CHANGE, to
//     /interfaces/interface/state/oper-status and
//     /interfaces/interface/state/id (the interface's P4Runtime port). Each
//     change of a port's operational status is published on the bus as a
//     PortUp or PortDown event with the box's module and serial, the P4
//     port, SourceTime set to the notification's timestamp (on the box's
//     clock) and the attribute AttrInterface naming the interface. Any
//     oper-status other than "UP" (DOWN, LOWER_LAYER_DOWN, NOT_PRESENT, ...)
//     counts as down.
//   - System messages: a gNMI STREAM subscription, ON_CHANGE, to
//     /messages/state/message (openconfig-messages). Every message goes to
//     the logbook as a logbook.SystemMessage (msg, the severity from the
//     severity leaf or from priority, app-name, procid and msgid, the
//     notification's timestamp).
//   - Connections: the device's connection events (driver.Device.Events)
//     become BoxConnected, BoxDisconnected and MastershipChanged events.
//     The per-protocol events are merged: BoxDisconnected when the first
//     protocol of a connected box goes down (AttrProtocol names it,
//     events.AttrReason says why), BoxConnected when every protocol the
//     device supports is up again; MastershipChanged carries
//     AttrMastership. A device built on driver.Connection (the built-in
//     drivers) is asked at Watch whether it is connected, and a connected
//     box is announced with BoxConnected before Watch returns; for other
//     devices the first events after Open tell. The monitor reads Events:
//     the caller must not. Of such a device, the events queued before
//     Watch (while the box was not watched) are discarded: its state at
//     Watch sums them up.
//
// # Initial state
//
// A subscription first sends the current values, then a sync response.
// That burst is the box's initial state, not a change: by default it is
// recorded (Ports reports it) but not published, and the box's latest
// system message, which the burst repeats, is not added to the log.
// WithInitialState publishes the initial port states as PortUp/PortDown
// events with the attribute AttrInitial = "true", and adds the latest
// message to the log.
//
// # Reboots and reconnections
//
// When a box reboots, its gNMI client re-establishes both subscriptions
// by itself. The burst that follows a reconnection is compared with what
// was last published: every port whose state differs is published with the
// attribute AttrResync = "true" (a port that went down and came back up
// while the box was unreachable is not reported), and the system messages
// of the burst that are newer than the last message seen are added to the
// log. The emulated switch keeps only its latest message, so the log of a
// reboot holds the SYSTEM_REBOOT message when the box sent it before its
// connections closed, and always its SYSTEM_BOOT message.
//
// A box without gNMI (driver.ErrUnsupported) is still watched: only its
// connection events are relayed.
//
// The monitor publishes on the bus only; to have its events in the merged
// log too, run logbook.Log.Consume on the same bus.
package monitor
