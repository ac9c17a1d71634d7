package plugin_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/plugin"
)

// TestPluginSetNodeID: a plugin device that implements
// driver.NodeIDSetter makes the host's device implement it; SetNodeID
// through the host sets the node ID of the switch the plugin drives, with
// the effects the interface promises (drivertest.CheckNodeID).
func TestPluginSetNodeID(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	logs := &capture{}
	d := load(t, slog.New(logs))
	set := logs.wait("node ID set")
	drivertest.CheckNodeID(t, ctx, d.Open, spec(sw, "leaf1", map[string]string{"nodeid": "gnmi"}), 7)
	// The plugin's device did the work.
	r := <-set
	if v, _ := attr(r, "node_id"); v.String() != "7" {
		t.Fatalf("plugin record %v", r)
	}
	if got := sw.DeviceID(); got != 7 {
		t.Fatalf("the switch answers P4Runtime under device ID %d, want 7", got)
	}
}

// TestPluginNodeIDCapability: the host's device implements
// driver.NodeIDSetter exactly when the plugin's device does. A plugin
// built before the capability existed, or one listing a capability this
// host does not know, gives devices without it that work as before.
func TestPluginNodeIDCapability(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	tests := []struct {
		name   string
		mode   string // FABRIC_TESTPLUGIN_MODE
		opts   map[string]string
		setter bool
		vendor string
	}{
		{name: "device with SetNodeID", opts: map[string]string{"nodeid": "gnmi"}, setter: true, vendor: "Test Vendor"},
		{name: "device without SetNodeID", opts: nil, vendor: "Test Vendor"},
		{name: "plugin before capabilities", mode: "legacy", opts: map[string]string{"nodeid": "gnmi"}, vendor: "Legacy"},
		{name: "unknown capability", mode: "future", opts: map[string]string{"nodeid": "gnmi"}, vendor: "Legacy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []plugin.LoadOption
			if tt.mode != "" {
				opts = append(opts, plugin.WithEnv("FABRIC_TESTPLUGIN_MODE="+tt.mode))
			}
			d := load(t, slog.New(slog.DiscardHandler), opts...)
			opts2 := map[string]string{"protocols": "gnmi"}
			for k, v := range tt.opts {
				opts2[k] = v
			}
			dev, err := d.Open(ctx, spec(sw, "leaf1", opts2))
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			if _, ok := dev.(driver.NodeIDSetter); ok != tt.setter {
				t.Fatalf("device %T implements driver.NodeIDSetter: %v, want %v", dev, ok, tt.setter)
			}
			id, err := dev.Identity(ctx)
			if err != nil || id.Vendor != tt.vendor {
				t.Fatalf("identity %+v, %v; want vendor %q", id, err, tt.vendor)
			}
		})
	}
	if got := sw.DeviceID(); got != 1 {
		t.Fatalf("the switch's device ID changed to %d", got)
	}
}

// TestPluginSetNodeIDErrors: an error of the plugin's SetNodeID reaches
// the host with its gRPC code and text; a device that cannot set its node
// ID matches driver.ErrUnsupported (the orchestrator then keeps the box's
// device ID). None is taken for the plugin's death.
func TestPluginSetNodeIDErrors(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	d := load(t, slog.New(slog.DiscardHandler))
	tests := []struct {
		mode        string
		code        codes.Code
		unsupported bool
		want        string
	}{
		{"unsupported", codes.Unimplemented, true, "set node ID: not supported"},
		{"unavailable", codes.Unavailable, false, "switch unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"nodeid": tt.mode, "protocols": "gnmi"}))
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			setter, ok := dev.(driver.NodeIDSetter)
			if !ok {
				t.Fatalf("device %T does not implement driver.NodeIDSetter", dev)
			}
			err = setter.SetNodeID(ctx, 7)
			var remote *plugin.RemoteError
			if status.Code(err) != tt.code || !errors.As(err, &remote) || errors.Is(err, driver.ErrUnsupported) != tt.unsupported ||
				errors.Is(err, plugin.ErrPluginExited) {
				t.Fatalf("err = %v (code %s), want a %s RemoteError, unsupported %v", err, status.Code(err), tt.code, tt.unsupported)
			}
			for _, s := range []string{tt.want, "leaf1", "set node ID 7"} {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("err = %v, want it to say %q", err, s)
				}
			}
			if _, err := dev.Ports(ctx); err != nil {
				t.Fatalf("after the error: %v", err)
			}
			if err := dev.Close(); err != nil {
				t.Fatal(err)
			}
			if err := setter.SetNodeID(ctx, 7); !errors.Is(err, driver.ErrClosed) {
				t.Fatalf("SetNodeID after Close: %v", err)
			}
		})
	}
	if got := sw.DeviceID(); got != 1 {
		t.Fatalf("the switch's device ID changed to %d", got)
	}
}
