// Package testdevice is the device of the test plugin
// (driver/plugin/internal/testplugin), also used in process by the
// plugin benchmarks. Its behaviours are static, or misbehave on demand
// through the spec's driver options:
//
//	identity=hang   Identity never returns
//	identity=crash  Identity exits the process (status 3)
//	identity=panic  Identity panics
//	identity=log    Identity logs "identity called" at Warn first
//	identity=unavailable  Identity fails as a device that cannot be reached
//	protocols=p4runtime,gnmi   the endpoints (default: all three)
//
// The option nodeid makes the device implement driver.NodeIDSetter (a
// NodeIDDevice; without it the device does not):
//
//	nodeid=gnmi         SetNodeID sets the node ID of the switch at the
//	                    spec's gNMI address, over gNMI
//	nodeid=unsupported  SetNodeID fails with driver.ErrUnsupported
//	nodeid=unavailable  SetNodeID fails as a switch that cannot be reached
package testdevice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/pipeline"
)

// Open opens a test device.
func Open(log *slog.Logger) plugin.OpenFunc {
	return func(ctx context.Context, spec driver.Spec) (plugin.Device, error) {
		if spec.Option("open", "") == "fail" {
			return nil, errors.New("test device refuses to open")
		}
		protocols := driver.Protocols
		if s := spec.Option("protocols", ""); s != "" {
			protocols = nil
			for _, p := range strings.Split(s, ",") {
				pr, err := driver.ParseProtocol(p)
				if err != nil {
					return nil, err
				}
				protocols = append(protocols, pr)
			}
		}
		d := &Device{spec: spec, log: log, eps: plugin.SpecEndpoints(spec, 9559, protocols...)}
		switch mode := spec.Option("nodeid", ""); mode {
		case "":
			return d, nil
		case "gnmi", "unsupported", "unavailable":
			return &NodeIDDevice{Device: d, mode: mode}, nil
		default:
			return nil, fmt.Errorf("option nodeid: unknown mode %q", mode)
		}
	}
}

// Device is a test device.
type Device struct {
	spec driver.Spec
	log  *slog.Logger
	eps  plugin.Endpoints
}

// Endpoints are the spec's address for the protocols asked for.
func (d *Device) Endpoints() plugin.Endpoints { return d.eps }

// Identity is static, or misbehaves.
func (d *Device) Identity(ctx context.Context) (driver.Identity, error) {
	switch d.spec.Option("identity", "") {
	case "hang":
		d.log.Warn("identity called, hanging", "device", d.spec.Name)
		select {}
	case "crash":
		d.log.Warn("identity called, crashing", "device", d.spec.Name)
		os.Exit(3)
	case "panic":
		panic("test device panics in Identity")
	case "unavailable":
		return driver.Identity{}, fmt.Errorf("gnmi get: %w", status.Error(codes.Unavailable, "switch unreachable"))
	case "log":
		d.log.Warn("identity called", "device", d.spec.Name, "answer", 42)
	}
	return driver.Identity{Vendor: "Test Vendor", Model: "T-1", Serial: "T-" + d.spec.Name, SoftwareVersion: "1.0"}, nil
}

// Ports are tp0..tp2 = 1..3.
func (d *Device) Ports(context.Context) (*driver.PortMap, error) {
	return driver.NewPortMap([]driver.Port{{Name: "tp0", ID: 1}, {Name: "tp1", ID: 2}, {Name: "tp2", ID: 3}})
}

// PackagePipeconf returns the bmv2 JSON after checking the P4Info came
// through.
func (d *Device) PackagePipeconf(_ context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	if pc.Schema == nil || len(pc.Schema.P4Info().GetTables()) == 0 {
		return nil, fmt.Errorf("pipeconf %q arrived without tables", pc.ID)
	}
	return pc.DeviceConfig(pipeline.TargetBMv2)
}

// Reboot is unsupported.
func (d *Device) Reboot(context.Context) error {
	return driver.Unsupported(d.spec.Name, "test", "reboot")
}

// InstallSoftware reads the image, which must start with the version.
func (d *Device) InstallSoftware(_ context.Context, version string, image io.Reader) error {
	b, err := io.ReadAll(image)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(b), version) {
		return fmt.Errorf("image of %d bytes is not version %q", len(b), version)
	}
	d.log.Info("installed", "version", version, "bytes", len(b))
	return nil
}

// Clock is one second ahead.
func (d *Device) Clock(context.Context) (driver.ClockReading, error) {
	now := time.Now()
	return driver.ClockReading{Time: now.Add(time.Second), Local: now, Offset: time.Second, RTT: time.Microsecond, ErrorBound: time.Microsecond / 2}, nil
}

// Close does nothing.
func (d *Device) Close() error { return nil }

// NodeIDDevice is a test device that implements driver.NodeIDSetter.
type NodeIDDevice struct {
	*Device
	mode string
}

var _ driver.NodeIDSetter = (*NodeIDDevice)(nil)

// SetNodeID sets the switch's node ID over gNMI, or fails as the nodeid
// option says.
func (d *NodeIDDevice) SetNodeID(ctx context.Context, id uint64) error {
	switch d.mode {
	case "unsupported":
		return driver.Unsupported(d.spec.Name, "test", "set node ID")
	case "unavailable":
		return fmt.Errorf("gnmi set: %w", status.Error(codes.Unavailable, "switch unreachable"))
	}
	g, err := gnmi.Dial(driver.WithDefaultPort(d.spec.AddressOf(driver.GNMI), 9559), gnmi.WithInsecure())
	if err != nil {
		return err
	}
	defer g.Close()
	if err := driver.SetNodeIDGNMI(ctx, d.spec.Name, g, id); err != nil {
		return err
	}
	d.log.Info("node ID set", "device", d.spec.Name, "node_id", id)
	return nil
}
