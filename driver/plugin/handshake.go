package plugin

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginpb "github.com/p4fabric/fabric/driver/plugin/proto"
)

// The handshake between the host and a driver plugin. A plugin and a host
// agree when both use the same ProtocolVersion (the version of
// driver/plugin/proto/driver.proto) and magic cookie.
const (
	// ProtocolVersion is the version of the plugin protocol.
	ProtocolVersion = 1
	// MagicCookieKey and MagicCookieValue mark a process started by a
	// Fabric host: a plugin run by hand says that it is a plugin and
	// exits. They are not a security measure.
	MagicCookieKey   = "FABRIC_DRIVER_PLUGIN"
	MagicCookieValue = "fabric-driver-plugin-9f6d2a41"
	// ExecutablePrefix starts the name of every driver plugin executable:
	// fabric-driver-<name>.
	ExecutablePrefix = "fabric-driver-"
	// pluginName is the name of the one plugin a driver plugin serves.
	pluginName = "driver"
	// maxMessageSize bounds messages both ways (device configs can be
	// large).
	maxMessageSize = 256 << 20
)

// Errors of loading and calling plugins. Test for them with errors.Is;
// the errors name the plugin's path and what failed.
var (
	// ErrNotExecutable: the plugin file is not an executable file.
	ErrNotExecutable = errors.New("plugin: not an executable file")
	// ErrHandshake: the process did not complete the handshake: it is
	// not a Fabric driver plugin, or one built for another protocol
	// version or magic cookie.
	ErrHandshake = errors.New("plugin: handshake failed")
	// ErrPluginExited: the plugin's process exited or crashed. Calls in
	// flight and later calls of its devices fail with it; a new Open
	// starts the plugin again.
	ErrPluginExited = errors.New("plugin: driver process exited")
)

func handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// grpcPlugin binds the Driver service into go-plugin, on both sides.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	srv pluginpb.DriverServer // plugin side
}

// GRPCServer registers the Driver service (plugin side).
func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.srv == nil {
		return errors.New("plugin: no driver to serve")
	}
	pluginpb.RegisterDriverServer(s, p.srv)
	return nil
}

// GRPCClient returns the connection and the context go-plugin cancels
// when the plugin's process exits (host side).
func (p *grpcPlugin) GRPCClient(ctx context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &dispensed{ctx: ctx, rpc: pluginpb.NewDriverClient(c)}, nil
}

type dispensed struct {
	ctx context.Context
	rpc pluginpb.DriverClient
}
