// Command testplugin is a driver plugin for the tests of package
// driver/plugin (see package testdevice for its devices). The environment
// variable FABRIC_TESTPLUGIN_MODE makes it a bad plugin:
//
//	wrong-version  serves protocol version 2
//	wrong-cookie   serves with another magic cookie
//	garbage        prints something else than a handshake
//	bad-log        writes JSON lines go-plugin would choke on, then serves
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
	case "bad-log":
		fmt.Fprintln(os.Stderr, `{"@message": 1, "@level": 2, "@timestamp": true}`)
		fmt.Fprintln(os.Stderr, `{"@message": "fine", "@level": "warn", "n": 7}`)
	}
	if err := plugin.Serve(testdevice.Open(log), plugin.WithLogger(log), plugin.WithVersion("test-1")); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serverOnly registers an empty Driver service.
type serverOnly struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (serverOnly) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterDriverServer(s, pluginpb.UnimplementedDriverServer{})
	return nil
}

func (serverOnly) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}
