// Package bmv2 is the driver of the P4.org behavioral model's
// simple_switch_grpc: a software switch that speaks P4Runtime only (no
// gNMI, no gNOI), whose P4Runtime port IDs are its port numbers and whose
// device config is the bmv2 JSON p4c produces.
//
//   - P4Runtime at Spec.Address (DefaultPort, 9559, when the address has
//     no port). GNMI and GNOI fail with driver.ErrUnsupported.
//   - Identity: the switch reports nothing but its P4Runtime API version
//     (Capabilities), so the driver options "vendor", "model", "serial"
//     and "software_version" give it; the defaults are "p4lang",
//     "bmv2 simple_switch_grpc", the spec name, and "P4Runtime <API
//     version>". Set "serial" when the orchestrator's inventory matters.
//   - Ports: bmv2 cannot list its ports, so the driver option "ports"
//     does: a comma-separated list of port numbers ("1,2,3"), ranges
//     ("1-8") and number@name pairs as simple_switch_grpc's -i flags take
//     them ("1@veth0,2@veth2"). Plain numbers are named by their decimal
//     form. Without the option Ports fails with driver.ErrUnsupported.
//   - PackagePipeconf: the pipeconf's "bmv2" device config (the JSON),
//     unchanged.
//   - Reboot, InstallSoftware, Clock: driver.ErrUnsupported.
//
// # Running simple_switch_grpc
//
// Start the switch with the device ID of the Spec, one -i per port and
// the P4Runtime server address after "--"; --no-p4 starts it without a
// program, which SetForwardingPipelineConfig then pushes:
//
//	sudo simple_switch_grpc --device-id 1 --no-p4 \
//	    -i 1@veth0 -i 2@veth2 --log-console \
//	    -- --grpc-server-addr 0.0.0.0:9559 --cpu-port 255
//
// and open it with
//
//	dev, err := bmv2.New().Open(ctx, driver.Spec{
//		Name: "bmv2-1", Address: "127.0.0.1:9559", DeviceID: 1, Insecure: true,
//		Options: map[string]string{"ports": "1@veth0,2@veth2", "serial": "bmv2-lab-1"},
//	})
//	err = driver.SetPipeconf(ctx, dev, pc) // pc has a "bmv2" config
//
// (--cpu-port names the port that carries packet-in and packet-out; the
// built-in pipeconfs use 255.) simple_switch_grpc serves plaintext unless
// started with its --grpc-server-ssl options.
package bmv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/pipeline"
)

// Name is the driver's registry name.
const Name = "bmv2"

// DefaultPort is simple_switch_grpc's P4Runtime port.
const DefaultPort = 9559

// Driver opens simple_switch_grpc switches.
type Driver struct {
	opts []driver.Option
}

// New returns the driver; opts configure the devices it opens.
func New(opts ...driver.Option) *Driver { return &Driver{opts: opts} }

// Name returns "bmv2".
func (d *Driver) Name() string { return Name }

// Open checks the spec's driver options and connects to the switch's
// P4Runtime service.
func (d *Driver) Open(ctx context.Context, spec driver.Spec) (driver.Device, error) {
	spec = spec.Clone()
	spec.Driver = Name
	var ports *driver.PortMap
	if s, ok := spec.Options["ports"]; ok {
		var err error
		if ports, err = ParsePorts(s); err != nil {
			return nil, fmt.Errorf("bmv2: spec %q: option ports: %w", spec.Name, err)
		}
	}
	eps, err := spec.Endpoints(DefaultPort, driver.P4Runtime)
	if err != nil {
		return nil, fmt.Errorf("bmv2: %w", err)
	}
	conn, err := driver.Connect(ctx, spec, eps, d.opts...)
	if err != nil {
		return nil, fmt.Errorf("bmv2: %w", err)
	}
	return &Device{Connection: conn, ports: ports}, nil
}

// Device is an open simple_switch_grpc switch.
type Device struct {
	*driver.Connection
	ports *driver.PortMap
}

// Identity completes the driver options with the P4Runtime API version
// the switch reports.
func (d *Device) Identity(ctx context.Context) (driver.Identity, error) {
	spec := d.Spec()
	c, err := d.P4Runtime()
	if err != nil {
		return driver.Identity{}, err
	}
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return driver.Identity{}, fmt.Errorf("device %s: identity: %w", spec.Name, err)
	}
	def := driver.Identity{
		Vendor: "p4lang", Model: "bmv2 simple_switch_grpc", Serial: spec.Name,
		SoftwareVersion: "P4Runtime " + caps.GetP4RuntimeApiVersion(),
	}
	return driver.CompleteIdentity(driver.Identity{}, spec, def), nil
}

// Ports returns the ports of the driver option "ports".
func (d *Device) Ports(ctx context.Context) (*driver.PortMap, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.ports == nil {
		return nil, driver.Unsupported(d.Spec().Name, Name,
			`ports: bmv2 cannot list its ports; set the driver option "ports" (e.g. "1-4" or "1@veth0,2@veth2")`)
	}
	return d.ports, nil
}

// PackagePipeconf returns the pipeconf's bmv2 JSON.
func (d *Device) PackagePipeconf(ctx context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := PackageJSON(pc)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", d.Spec().Name, err)
	}
	return b, nil
}

// PackageJSON returns the "bmv2" device config of pc after checking that
// it is JSON.
func PackageJSON(pc *pipeline.Pipeconf) ([]byte, error) {
	if pc == nil {
		return nil, errors.New("package pipeconf: nil pipeconf")
	}
	b, err := pc.DeviceConfig(pipeline.TargetBMv2)
	if err != nil {
		return nil, fmt.Errorf("package pipeconf: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("package pipeconf %q: the %q device config is not JSON", pc.ID, pipeline.TargetBMv2)
	}
	return b, nil
}

// Reboot is not supported: simple_switch_grpc has no management service.
func (d *Device) Reboot(context.Context) error {
	return driver.Unsupported(d.Spec().Name, Name, "reboot")
}

// InstallSoftware is not supported.
func (d *Device) InstallSoftware(context.Context, string, io.Reader) error {
	return driver.Unsupported(d.Spec().Name, Name, "install software")
}

// Clock is not supported: P4Runtime carries no time.
func (d *Device) Clock(context.Context) (driver.ClockReading, error) {
	return driver.ClockReading{}, driver.Unsupported(d.Spec().Name, Name, "clock")
}

// ParsePorts reads a port list: comma-separated port numbers ("3"),
// ranges ("1-8") and number@name pairs ("1@veth0"), as simple_switch_grpc's
// -i flags name them.
func ParsePorts(s string) (*driver.PortMap, error) {
	var ports []driver.Port
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if num, name, ok := strings.Cut(item, "@"); ok {
			id, err := portNumber(num)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			if name = strings.TrimSpace(name); name == "" {
				return nil, fmt.Errorf("%q: no interface name after @", item)
			}
			ports = append(ports, driver.Port{Name: name, ID: id})
			continue
		}
		if lo, hi, ok := strings.Cut(item, "-"); ok {
			a, err := portNumber(lo)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			b, err := portNumber(hi)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			if b < a || b-a >= 1<<16 {
				return nil, fmt.Errorf("%q: want a range low-high of at most 65536 ports", item)
			}
			for id := a; ; id++ {
				ports = append(ports, driver.Port{Name: strconv.FormatUint(uint64(id), 10), ID: id})
				if id == b {
					break
				}
			}
			continue
		}
		id, err := portNumber(item)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		ports = append(ports, driver.Port{Name: strconv.FormatUint(uint64(id), 10), ID: id})
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("no ports in %q", s)
	}
	return driver.NewPortMap(ports)
}

func portNumber(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("port number %q is not a 32-bit unsigned integer", strings.TrimSpace(s))
	}
	return uint32(v), nil
}
