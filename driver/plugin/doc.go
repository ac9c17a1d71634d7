// Package plugin runs drivers out of process: a vendor adds a device to
// Fabric without forking it, by shipping an executable that Fabric loads
// through hashicorp/go-plugin (gRPC protocol).
//
// # Host
//
// The host finds the executables named fabric-driver-<name> in a plugin
// directory and registers each as the driver <name>:
//
//	reg, err := builtin.Registry()
//	drivers, err := plugin.Register(reg, "/usr/lib/fabric/drivers",
//		plugin.WithHostLogger(log), plugin.WithDeviceOptions(driver.WithLogger(log)))
//	defer func() { for _, d := range drivers { d.Close() } }()
//	dev, err := reg.Open(ctx, driver.Spec{Name: "r1", Driver: "acme", Address: "10.0.0.7", ...})
//
// The first Open starts the process and checks the handshake: the magic
// cookie (MagicCookieKey) and ProtocolVersion, the version of
// proto/driver.proto; a process that is not a Fabric driver plugin, or one
// built for another protocol version, fails with ErrHandshake, a file that
// cannot be executed with ErrNotExecutable, each error naming the file.
// go-plugin's automatic mutual TLS protects the connection to the
// process. Everything the plugin writes to its standard error is
// forwarded into the host's slog logger (WithHostLogger): the JSON records
// of NewLogger with their level, message, time and attributes, other
// lines (a panic's trace among them) as text.
//
// Over the boundary a device answers Open with endpoints and credentials
// per protocol, and the host dials them itself (driver.Connect): the
// device's P4Runtime, gNMI and gNOI clients are the host's, with its
// arbitration, reconnection and events. The behaviours that vary per
// device (identity, ports, pipeconf packaging, reboot, software install,
// clock) are RPCs to the plugin, each bounded by the caller's context.
//
// Optional behaviours cross the boundary as capabilities: the plugin
// lists, when it opens a device, the optional interfaces of package driver
// that its device implements, and the host's device implements those and
// only those. Today that is driver.NodeIDSetter: the host's device has
// SetNodeID (an RPC to the plugin) when the plugin's device has it, so an
// orchestrator renumbers the box to its module ID; otherwise the host's
// device does not implement driver.NodeIDSetter and the box keeps its
// device ID:
//
//	if s, ok := dev.(driver.NodeIDSetter); ok {
//		err = s.SetNodeID(ctx, 7) // the plugin's device sets it
//	}
//
// A plugin built before a capability existed lists none, and its devices
// behave as they did: adding a capability does not change
// ProtocolVersion. An error of the plugin's SetNodeID arrives as a
// RemoteError with its gRPC code; driver.ErrUnsupported (a box with no
// chip component, or that does not serve the path) still matches it.
//
// When the plugin process crashes or is killed, the calls in flight fail
// at once with ErrPluginExited, the devices report a Disconnected event
// for driver.ProtocolDriver, and their behaviours keep failing with
// ErrPluginExited — while their protocol connections, which belong to the
// host, keep working. The host keeps running; the next Open starts a new
// process (devices opened on the old one must be opened again). A call the
// plugin never answers ends with the caller's deadline
// (context.DeadlineExceeded), and the plugin keeps serving other calls. A
// panic in the plugin's code fails that call with codes.Internal.
//
// The boundary has a price, which BenchmarkIdentity measures: a call
// through a plugin costs one gRPC round trip over a local socket (tens of
// microseconds to a few hundred on a loaded machine) where an in-process
// call costs nanoseconds. Behaviours are rare control-plane calls; the
// protocol traffic does not cross the boundary.
//
// # Writing a plugin
//
// A vendor implements Device, one interface (the behaviours of
// driver.Device, Endpoints and Close), and serves a function that opens
// devices from main; examples/driverplugin is a complete one in about
// fifty lines:
//
//	func main() {
//		log := plugin.NewLogger(slog.LevelInfo)
//		if err := plugin.Serve(open, plugin.WithLogger(log)); err != nil {
//			log.Error("serve", "err", err)
//			os.Exit(1)
//		}
//	}
//
//	func open(ctx context.Context, spec driver.Spec) (plugin.Device, error) {
//		... reach the box, return a Device whose Endpoints say where its
//		P4Runtime, gNMI and gNOI are (SpecEndpoints: where the spec says)
//	}
//
// Build it as fabric-driver-<name> into the host's plugin directory.
// Return errors matching driver.ErrUnsupported for what the device cannot
// do; the host's callers see driver.ErrUnsupported. Implement an optional
// interface (driver.NodeIDSetter) on the device only when the device's
// boxes can do it: Serve detects it and negotiates the capability, as
// examples/driverplugin does. The helpers of package
// driver (IdentityFromGNMI, PortsFromGNMI, RebootGNOI, ...) do the common
// work over OpenConfig and gNOI, and package driver/drivertest checks the
// plugin's devices from a test of the host side.
package plugin
