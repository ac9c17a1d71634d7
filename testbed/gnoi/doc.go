// Package gnoi is the gNOI side of the testbed's emulated switch: the
// system, os, healthz and file services, served on the switch's gRPC
// listener next to P4Runtime and gNMI.
//
// A Server depends on two small interfaces, so that it can be tested with a
// fake box and wired into testbed.Switch: Box (reboot, software version)
// and Clock (the box's time; *clock.Clock from testbed/clock implements
// it). Create one Server per box and Register it on every grpc.Server the
// box starts: the Server keeps what a box keeps on flash across reboots
// (installed OS packages, the activated version, files, the reboot
// history), while a reboot drops everything the gRPC server held.
//
// # System
//
// Time returns the box clock's time. Reboot accepts COLD, WARM and
// POWERDOWN for the whole box, with a delay; the reboot happens at the end
// of the delay, or after WithRebootGrace (default 100 ms) when the delay is
// shorter, so that the RPC is answered before the box goes down. Box.Reboot
// then takes the box down (listener closed, P4 state and unsaved
// configuration lost) and, except after POWERDOWN, brings it back after the
// box's boot delay. POWERUP is accepted as a no-op (the box is on); UNKNOWN,
// HALT and NSF are INVALID_ARGUMENT, as are sub-components. While a reboot
// is pending, another Reboot is FAILED_PRECONDITION until CancelReboot or
// the reboot itself. RebootStatus reports the pending reboot (wait, when on
// the box clock, reason, method) or the outcome of the last one; its count
// is the number of reboots the Server has performed.
//
// # OS
//
// Install, Activate and Verify behave as a single-supervisor target of the
// gNOI os proto. An OS package for the emulated box is a FABRIC-OS/1 image
// (NewImage): a header line naming the version and the SHA-256 of the
// payload, then the payload; only the version is kept once the package is
// validated. Activate marks an installed version for the next boot and,
// unless no_reboot is set, reboots the box (COLD); the version becomes the
// running one (Box.SetSoftwareVersion) when that reboot — or any later one
// through this Server — happens. Verify reports the running version.
//
// # Healthz
//
// Components come from WithHealth (default: one component "chassis",
// always healthy); a component's subcomponents are those naming it as
// Parent. The wiring into testbed.Switch reports the chassis healthy while
// the box runs and each port unhealthy while it is down. The box keeps the
// latest event per component, created when its health changes; List returns
// it unless acknowledged, Acknowledge acknowledges it, Check re-evaluates,
// Artifact is UNIMPLEMENTED.
//
// # File
//
// Get, Put, Stat and Remove work on an in-memory file system with absolute
// paths and implied directories; Put checks the final hash (MD5, SHA256 or
// SHA512) and writes nothing without it. TransferToRemote is UNIMPLEMENTED.
//
// # A box of its own
//
// StartLoopbackBox runs a Server on a loopback listener of its own, with a
// Box that really goes down and comes back on the same address: enough to
// exercise gNOI clients (driver/gnoi, fabricctl gnoi) without a whole
// emulated switch. testbed.AttachGNOI wires a Server into testbed.Switch.
//
// # Credentials
//
// WithCredentials makes every RPC check "username" and "password" request
// metadata (UNAUTHENTICATED otherwise); WithAuth hands the check to a
// function, such as the testbed switch's Authenticate, which gNMI shares.
package gnoi
