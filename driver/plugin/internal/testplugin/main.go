// Command testplugin is a driver plugin for the tests of package
// driver/plugin (see package testdevice for its devices). The environment
// variable FABRIC_TESTPLUGIN_MODE makes it a bad plugin:
//
//	wrong-version  serves protocol version 2
//	wrong-cookie   serves with another magic cookie
//	garbage        prints something else than a handshake
//	bad-log        writes JSON lines go-plugin would choke on, then serves
//	legacy         serves the protocol as a plugin built before optional
//	               capabilities existed: Open lists none, and only Info,
//	               Open, Close and Identity are implemented
//	future         as legacy, but Open lists a capability this host does
//	               not know
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/driver/plugin/internal/testdevice"
	pluginpb "github.com/p4fabric/fabric/driver/plugin/proto"
)

func main() {
	log := plugin.NewLogger(slog.LevelDebug)
	switch os.Getenv("FABRIC_TESTPLUGIN_MODE") {
	case "wrong-version", "wrong-cookie":
		hs := goplugin.HandshakeConfig{ProtocolVersion: plugin.ProtocolVersion + 1,
			MagicCookieKey: plugin.MagicCookieKey, MagicCookieValue: plugin.MagicCookieValue}
		if os.Getenv("FABRIC_TESTPLUGIN_MODE") == "wrong-cookie" {
			hs = goplugin.HandshakeConfig{ProtocolVersion: plugin.ProtocolVersion,
				MagicCookieKey: "SOME_OTHER_APP_PLUGIN", MagicCookieValue: "42"}
		}
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: hs,
			Plugins:         goplugin.PluginSet{"driver": &serverOnly{}},
			GRPCServer:      goplugin.DefaultGRPCServer,
		})
		return
	case "garbage":
		fmt.Println("hello, I am not a plugin")
		time.Sleep(time.Minute)
		return
	case "legacy", "future":
		srv := &legacyServer{future: os.Getenv("FABRIC_TESTPLUGIN_MODE") == "future"}
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: goplugin.HandshakeConfig{ProtocolVersion: plugin.ProtocolVersion,
				MagicCookieKey: plugin.MagicCookieKey, MagicCookieValue: plugin.MagicCookieValue},
			Plugins:    goplugin.PluginSet{"driver": &serverOnly{srv: srv}},
			GRPCServer: goplugin.DefaultGRPCServer,
		})
		return
	case "bad-log":
		fmt.Fprintln(os.Stderr, `{"@message": 1, "@level": 2, "@timestamp": true}`)
		fmt.Fprintln(os.Stderr, `{"@message": "fine", "@level": "warn", "n": 7}`)
	}
	if err := plugin.Serve(testdevice.Open(log), plugin.WithLogger(log), plugin.WithVersion("test-1")); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serverOnly registers srv, or an empty Driver service.
type serverOnly struct {
	goplugin.NetRPCUnsupportedPlugin
	srv pluginpb.DriverServer
}

func (p serverOnly) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.srv == nil {
		p.srv = pluginpb.UnimplementedDriverServer{}
	}
	pluginpb.RegisterDriverServer(s, p.srv)
	return nil
}

func (serverOnly) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

// legacyServer answers as a plugin built before capabilities: its devices
// are reached at the spec's address, whatever their options ask.
type legacyServer struct {
	pluginpb.UnimplementedDriverServer
	future bool
}

func (*legacyServer) Info(context.Context, *pluginpb.InfoRequest) (*pluginpb.InfoResponse, error) {
	return &pluginpb.InfoResponse{Name: "test", Version: "legacy"}, nil
}

func (l *legacyServer) Open(_ context.Context, req *pluginpb.OpenRequest) (*pluginpb.OpenResponse, error) {
	resp := &pluginpb.OpenResponse{Device: "legacy-" + req.GetSpec().GetName(),
		Endpoints: []*pluginpb.Endpoint{{Protocol: "gnmi", Address: req.GetSpec().GetAddress()}}}
	if l.future {
		resp.Capabilities = []pluginpb.Capability{pluginpb.Capability(99)}
	}
	return resp, nil
}

func (*legacyServer) Close(context.Context, *pluginpb.DeviceRequest) (*pluginpb.CloseResponse, error) {
	return &pluginpb.CloseResponse{}, nil
}

func (*legacyServer) Identity(_ context.Context, req *pluginpb.DeviceRequest) (*pluginpb.IdentityResponse, error) {
	return &pluginpb.IdentityResponse{Vendor: "Legacy", Serial: req.GetDevice()}, nil
}
