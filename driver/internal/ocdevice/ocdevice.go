// Package ocdevice is the device of the drivers whose boxes speak
// P4Runtime, gNMI with OpenConfig and gNOI (emulated, stratum): identity
// and ports from OpenConfig, reboot, install and clock over gNOI. Each
// driver supplies its identity defaults and its pipeconf packaging.
package ocdevice

import (
	"context"
	"fmt"
	"io"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/pipeline"
)

// Config is what differs between the drivers.
type Config struct {
	// Driver is the driver's name.
	Driver string
	// DefaultPort is added to addresses without a port.
	DefaultPort int
	// Identity gives the identity fields a device reports nothing for
	// (after the driver options).
	Identity func(spec driver.Spec) driver.Identity
	// Package returns the device config of a pipeconf.
	Package func(spec driver.Spec, pc *pipeline.Pipeconf) ([]byte, error)
}

// Device is a box reached over P4Runtime, gNMI and gNOI.
type Device struct {
	*driver.Connection
	cfg Config
}

// Open validates spec and connects to all three protocols.
func Open(ctx context.Context, cfg Config, spec driver.Spec, opts []driver.Option) (*Device, error) {
	spec = spec.Clone()
	spec.Driver = cfg.Driver
	eps, err := spec.Endpoints(cfg.DefaultPort, driver.P4Runtime, driver.GNMI, driver.GNOI)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Driver, err)
	}
	conn, err := driver.Connect(ctx, spec, eps, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Driver, err)
	}
	return &Device{Connection: conn, cfg: cfg}, nil
}

// Identity reads the CHASSIS component and the software version over
// gNMI, completed by the driver options and the driver's defaults.
func (d *Device) Identity(ctx context.Context) (driver.Identity, error) {
	g, err := d.GNMI()
	if err != nil {
		return driver.Identity{}, err
	}
	id, err := driver.IdentityFromGNMI(ctx, g)
	if err != nil {
		return driver.Identity{}, fmt.Errorf("device %s: identity: %w", d.Spec().Name, err)
	}
	spec := d.Spec()
	return driver.CompleteIdentity(id, spec, d.cfg.Identity(spec)), nil
}

// Ports maps interface names to P4Runtime port IDs from gNMI interface
// state.
func (d *Device) Ports(ctx context.Context) (*driver.PortMap, error) {
	g, err := d.GNMI()
	if err != nil {
		return nil, err
	}
	m, err := driver.PortsFromGNMI(ctx, g)
	if err != nil {
		return nil, fmt.Errorf("device %s: ports: %w", d.Spec().Name, err)
	}
	return m, nil
}

// PackagePipeconf returns the device config the driver packages for pc.
func (d *Device) PackagePipeconf(ctx context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, fmt.Errorf("device %s: package pipeconf: nil pipeconf", d.Spec().Name)
	}
	b, err := d.cfg.Package(d.Spec(), pc)
	if err != nil {
		return nil, fmt.Errorf("device %s: package pipeconf %q: %w", d.Spec().Name, pc.ID, err)
	}
	return b, nil
}

// Reboot cold-reboots the box over gNOI.
func (d *Device) Reboot(ctx context.Context) error {
	n, err := d.GNOI()
	if err != nil {
		return err
	}
	return driver.RebootGNOI(ctx, d.Spec().Name, n)
}

// InstallSoftware installs, activates and waits for version over gNOI os.
func (d *Device) InstallSoftware(ctx context.Context, version string, image io.Reader) error {
	n, err := d.GNOI()
	if err != nil {
		return err
	}
	return driver.InstallGNOI(ctx, d.Spec().Name, n, version, image)
}

// Clock reads the box's clock with gNOI system.Time.
func (d *Device) Clock(ctx context.Context) (driver.ClockReading, error) {
	n, err := d.GNOI()
	if err != nil {
		return driver.ClockReading{}, err
	}
	return driver.ClockFromGNOI(ctx, d.Spec().Name, n)
}

// SetNodeID sets the openconfig-p4rt node ID of the box's chip over gNMI
// and reads it back (driver.NodeIDSetter).
func (d *Device) SetNodeID(ctx context.Context, id uint64) error {
	g, err := d.GNMI()
	if err != nil {
		return err
	}
	return driver.SetNodeIDGNMI(ctx, d.Spec().Name, g, id)
}

var _ driver.NodeIDSetter = (*Device)(nil)
