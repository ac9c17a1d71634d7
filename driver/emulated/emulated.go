// Package emulated is the driver of the testbed's emulated switch
// (package testbed), reached over the network like any white box: the
// driver does not import the testbed, it speaks to the switch's address.
//
// A switch serves P4Runtime, gNMI and (when gNOI is attached, see
// testbed.AttachGNOI) gNOI on one address, so Spec.Address is all a
// device needs; Spec.Addresses may still point each protocol elsewhere.
// A bare host gets DefaultPort.
//
//   - Identity: the CHASSIS component of gNMI /components (mfg-name,
//     part-no, serial-no, software-version) and
//     /system/state/software-version; the driver options "vendor",
//     "model", "serial" and "software_version" fill in what the switch
//     does not report, then "Fabric", "emulated" and the spec name.
//   - Ports: gNMI /interfaces/interface/state/id (eth1..ethN → 1..N).
//   - PackagePipeconf: the pipeconf's "emulated" device config, else its
//     "bmv2" config, else its ID: the emulated switch takes the P4Info and
//     any device config.
//   - Reboot, InstallSoftware, Clock: gNOI system.Reboot, os
//     Install/Activate/Verify, system.Time. A switch without gNOI answers
//     UNIMPLEMENTED, which fails these with driver.ErrUnsupported.
//   - SetNodeID (driver.NodeIDSetter): gNMI
//     /components/component[name=integrated_circuit0]/integrated-circuit/config/node-id,
//     the chip found as the component of type INTEGRATED_CIRCUIT; the
//     switch answers P4Runtime under the new ID at once and keeps it
//     across restarts.
package emulated

import (
	"context"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/internal/ocdevice"
	"github.com/p4fabric/fabric/pipeline"
)

// Name is the driver's registry name.
const Name = "emulated"

// DefaultPort is added to an address without a port: the P4Runtime port
// IANA assigned, as for real switches.
const DefaultPort = 9559

// Driver opens emulated switches.
type Driver struct {
	opts []driver.Option
}

// New returns the driver; opts configure the devices it opens (logger,
// health checks, backoff, ...).
func New(opts ...driver.Option) *Driver { return &Driver{opts: opts} }

// Name returns "emulated".
func (d *Driver) Name() string { return Name }

// Open connects to the switch's P4Runtime, gNMI and gNOI services.
func (d *Driver) Open(ctx context.Context, spec driver.Spec) (driver.Device, error) {
	dev, err := ocdevice.Open(ctx, config, spec, d.opts)
	if err != nil {
		return nil, err
	}
	return dev, nil
}

var config = ocdevice.Config{
	Driver:      Name,
	DefaultPort: DefaultPort,
	Identity: func(spec driver.Spec) driver.Identity {
		return driver.Identity{Vendor: "Fabric", Model: "emulated", Serial: spec.Name}
	},
	Package: Package,
}

// Package returns the device config the emulated switch gets for pc: its
// "emulated" config, else its "bmv2" config, else its ID.
func Package(_ driver.Spec, pc *pipeline.Pipeconf) ([]byte, error) {
	for _, t := range []string{pipeline.TargetEmulated, pipeline.TargetBMv2} {
		if b, ok := pc.DeviceConfigs[t]; ok {
			return b, nil
		}
	}
	return []byte(pc.ID), nil
}
