// Package stratum is the driver of Stratum (github.com/stratum/stratum),
// the open-source switch OS that serves P4Runtime, gNMI and gNOI, here in
// its bmv2 flavour (stratum_bmv2) and on boxes whose pipeline takes the
// bmv2 JSON.
//
//   - P4Runtime, gNMI and gNOI at Spec.Address: Stratum serves every
//     service on each of its -external_stratum_urls, whose default is
//     "0.0.0.0:28000,0.0.0.0:9339,0.0.0.0:9559" (kExternalStratumUrls in
//     stratum/lib/constants.h), so one address does; a bare host gets
//     DefaultPort, 9559. Spec.Addresses may still split them.
//   - Ports: gNMI /interfaces/interface[name=*]/state/id, the P4Runtime
//     (SDN) port ID of each singleton port named in the chassis config;
//     when no interface reports an id, the ifindex, which older Stratum
//     releases use as the P4Runtime port ("To get port index (which is
//     used when referring to a port in P4Runtime)": stratum/tools/gnmi/
//     README.md).
//   - Identity: the CHASSIS component of gNMI /components and
//     /system/state/software-version when the build serves them (Stratum's
//     list of supported paths, stratum/docs/gnmi/supported-paths.md, does
//     not promise them), else the driver options "vendor", "model",
//     "serial" and "software_version", else "Stratum", "stratum_<target>"
//     and the spec name.
//   - PackagePipeconf: the pipeconf's bmv2 JSON, byte for byte, as the
//     p4_device_config. Stratum-bmv2 hands the ForwardingPipelineConfig to
//     PI's DeviceMgr unchanged (PINode::PushForwardingPipelineConfig in
//     stratum/hal/lib/pi/pi_node.cc), and its README pushes a pipeline with
//     `p4_pipeline_pusher --p4_info_file=<prog>.proto.txt
//     --p4_pipeline_config_file=<prog>.json`, whose flag puts the file's
//     content into p4_device_config (stratum/hal/bin/bmv2/README.md). The
//     driver option "target" selects the packaging: "bmv2" (the default) is
//     the only one; Tofino targets (Stratum-bf/bfrt take a BfPipelineConfig
//     built by bf_pipeline_builder, stratum/hal/bin/barefoot/
//     README.pipeline.md) fail with driver.ErrUnsupported until there is an
//     artifact to test them with.
//   - Reboot, InstallSoftware, Clock: gNOI system.Reboot, os
//     Install/Activate/Verify and system.Time; a Stratum build without one
//     of them answers UNIMPLEMENTED, which fails with driver.ErrUnsupported.
//   - SetNodeID (driver.NodeIDSetter): the openconfig-p4rt node ID,
//     /components/component[name=<chip>]/integrated-circuit/config/node-id
//     over gNMI, the chip being the component of type INTEGRATED_CIRCUIT;
//     the chassis config's node id is where a box starts. A build that
//     serves no such component or refuses the path fails with
//     driver.ErrUnsupported naming what was missing. Only tested against
//     the emulated switch presenting Stratum's surface.
//
// # Running stratum_bmv2
//
// With the Debian package of a Stratum release installed (or the
// stratumproject/stratum-bmv2 image), give it the chassis config that
// names its ports and the address to serve on:
//
//	sudo stratum_bmv2 \
//	    -external_stratum_urls=0.0.0.0:9559 \
//	    -chassis_config_file=/etc/stratum/chassis_config.pb.txt \
//	    -persistent_config_dir=/tmp/stratum \
//	    -forwarding_pipeline_configs_file=/tmp/stratum/pipeline_cfg.pb.txt \
//	    -bmv2_log_level=warn
//
// The chassis config names the node (its id is the P4Runtime device ID)
// and one singleton port per interface; the sample of
// stratum/hal/bin/bmv2/chassis_config.pb.txt has this shape:
//
//	chassis { platform: PLT_P4_SOFT_SWITCH name: "bmv2-1" }
//	nodes { id: 1 slot: 1 index: 1 }
//	singleton_ports {
//	  id: 1 name: "veth0" slot: 1 port: 1 channel: 1 speed_bps: 100000000000
//	  config_params { admin_state: ADMIN_STATE_ENABLED } node: 1
//	}
//
// Its singleton ports (name = a Linux interface, id = the port's ID) are
// what Ports reports; stratum_bmv2 needs CAP_NET_RAW to bind them. Then
//
//	dev, err := stratum.New().Open(ctx, driver.Spec{
//		Name: "leaf1", Address: "127.0.0.1:9559", DeviceID: 1, Insecure: true,
//	})
//	err = driver.SetPipeconf(ctx, dev, pc) // pc has a "bmv2" config
//
// Stratum serves plaintext unless started with -ca_cert_file,
// -server_cert_file and -server_key_file; set Spec.TLS then.
package stratum

import (
	"context"
	"fmt"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/bmv2"
	"github.com/p4fabric/fabric/driver/internal/ocdevice"
	"github.com/p4fabric/fabric/pipeline"
)

// Name is the driver's registry name.
const Name = "stratum"

// DefaultPort is added to an address without a port: 9559, one of
// Stratum's default URLs and the P4Runtime port IANA assigned.
const DefaultPort = 9559

// Driver opens Stratum switches.
type Driver struct {
	opts []driver.Option
}

// New returns the driver; opts configure the devices it opens.
func New(opts ...driver.Option) *Driver { return &Driver{opts: opts} }

// Name returns "stratum".
func (d *Driver) Name() string { return Name }

// Open connects to the switch's P4Runtime, gNMI and gNOI services.
func (d *Driver) Open(ctx context.Context, spec driver.Spec) (driver.Device, error) {
	if t := target(spec); t != pipeline.TargetBMv2 {
		return nil, fmt.Errorf("stratum: spec %q: option target %q: %w (only %q is packaged)",
			spec.Name, t, driver.ErrUnsupported, pipeline.TargetBMv2)
	}
	dev, err := ocdevice.Open(ctx, config, spec, d.opts)
	if err != nil {
		return nil, err
	}
	return dev, nil
}

func target(spec driver.Spec) string { return spec.Option("target", pipeline.TargetBMv2) }

var config = ocdevice.Config{
	Driver:      Name,
	DefaultPort: DefaultPort,
	Identity: func(spec driver.Spec) driver.Identity {
		return driver.Identity{Vendor: "Stratum", Model: "stratum_" + target(spec), Serial: spec.Name}
	},
	Package: Package,
}

// Package returns the p4_device_config Stratum expects for pc on the
// spec's target: the bmv2 JSON, unchanged, for "bmv2".
func Package(spec driver.Spec, pc *pipeline.Pipeconf) ([]byte, error) {
	if t := target(spec); t != pipeline.TargetBMv2 {
		return nil, fmt.Errorf("target %q: %w", t, driver.ErrUnsupported)
	}
	return bmv2.PackageJSON(pc)
}
