// Package driver is Fabric's device abstraction: a Driver opens a Device,
// which reports its identity, hands out the protocol clients it supports
// (P4Runtime, gNMI, gNOI) and does what differs from box to box — naming
// ports, packaging a pipeline, rebooting, upgrading, telling the time — so
// that the orchestrator does not care which box it drives.
//
// # Drivers and devices
//
// A Spec describes a device: name, addresses (one for every protocol, or
// one per protocol), P4Runtime device ID, role and election ID, TLS or an
// explicit Insecure, gNMI/gNOI credentials, and driver options. A
// Registry maps driver names to drivers; nothing registers itself:
//
//	reg, err := builtin.Registry(driver.WithLogger(log)) // emulated, bmv2, stratum
//	drivers, err := plugin.Register(reg, "/usr/lib/fabric/drivers")
//	dev, err := reg.Open(ctx, driver.Spec{Name: "leaf1", Driver: "stratum",
//		Address: "10.0.0.11:9559", DeviceID: 1, TLS: tlsConf})
//	defer dev.Close()
//	id, err := dev.Identity(ctx)   // vendor, model, serial, software version
//	ports, err := dev.Ports(ctx)   // "1/1/1" ↔ P4Runtime port 260
//	err = driver.SetPipeconf(ctx, dev, pc) // packaged for the target, pushed
//	p4, err := dev.P4Runtime()     // arbitrated p4/client.Client
//	g, err := dev.GNMI()           // driver/gnmi client
//
// What a device lacks — a protocol, a behaviour — fails with an error
// matching ErrUnsupported that names the device and what is missing. The
// built-in drivers are in packages driver/emulated (the testbed's switch),
// driver/bmv2 (simple_switch_grpc) and driver/stratum; package
// driver/plugin loads drivers that run in their own process, written by
// vendors against its SDK.
//
// # Device ID
//
// A device is opened with the P4Runtime device ID in its Spec. Devices
// that implement NodeIDSetter (emulated, stratum: boxes serving
// openconfig-p4rt over gNMI) can be given another one: SetNodeID sets the
// node ID of the box's chip, after which the box answers P4Runtime only
// under the new ID, so the caller re-opens the device with it:
//
//	if s, ok := dev.(driver.NodeIDSetter); ok {
//		err = s.SetNodeID(ctx, 3) // e.g. the box's module ID
//		dev.Close()
//		spec.DeviceID = 3
//		dev, err = reg.Open(ctx, spec)
//	}
//
// # Connections and events
//
// Open returns once the device answers on each protocol. From then on
// every connection is watched: a broken TCP connection or P4Runtime
// stream, or a device that stops answering the periodic health check
// (WithHealthCheck: P4Runtime and gNMI Capabilities, gNOI system.Time),
// is reported on Events as Disconnected with the reason, and the device
// reconnects with exponential backoff (WithBackoff) — the P4Runtime client
// re-opens and re-arbitrates its stream, the gNMI/gNOI connection is
// re-dialled — until it answers again, reported as Connected. P4Runtime
// mastership changes are reported too. The orchestrator consumes these
// events; the first ones after Open are one Connected per protocol.
//
// # Building a driver
//
// Connect builds the protocol side of a device from Endpoints (that is
// how the built-in drivers and the plugin host build theirs); the helpers
// IdentityFromGNMI, PortsFromGNMI, SetNodeIDGNMI, ClockFromGNOI,
// RebootGNOI and InstallGNOI implement the behaviours most white boxes share over
// OpenConfig and gNOI; package driver/drivertest checks a device against
// what it should be.
package driver
