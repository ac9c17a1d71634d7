// Driverplugin is a Fabric driver plugin, as a vendor would write one: a
// driver for "Acme" boxes, which speak P4Runtime, gNMI and gNOI like the
// testbed's emulated switch but name their ports the Junos way, xe-0/0/N
// for P4Runtime port N+1. Fabric loads it from a plugin directory:
//
//	go build -o /etc/fabric/drivers/fabric-driver-acme ./examples/driverplugin
//
// and then opens devices with Spec.Driver = "acme" (driver/plugin.Register
// finds it). The host dials the switch's protocols itself (Endpoints);
// this process answers for the behaviours, reaching the switch over gNMI
// and gNOI with the helpers of package driver.
//
// An Acme box serves openconfig-p4rt, so its device also implements the
// optional driver.NodeIDSetter: the host's device then implements it too,
// and an orchestrator renumbers the box to its module ID. A plugin whose
// boxes cannot leaves the method out.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/pipeline"
)

func main() {
	log := plugin.NewLogger(slog.LevelInfo)
	if err := plugin.Serve(open, plugin.WithLogger(log), plugin.WithVersion("0.1.0")); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// acme is an open Acme box.
type acme struct {
	spec driver.Spec
	g    *gnmi.Client
	n    *gnoi.Client
}

func open(_ context.Context, spec driver.Spec) (plugin.Device, error) {
	addr := driver.WithDefaultPort(spec.AddressOf(driver.GNMI), 9559)
	gopts, nopts := []gnmi.Option{gnmi.WithInsecure()}, []gnoi.Option{gnoi.WithInsecure()}
	if spec.TLS != nil {
		gopts, nopts = []gnmi.Option{gnmi.WithTLS(spec.TLS)}, []gnoi.Option{gnoi.WithTLS(spec.TLS)}
	}
	if c := spec.Credentials; c != nil {
		gopts = append(gopts, gnmi.WithCredentials(c.Username, c.Password))
		nopts = append(nopts, gnoi.WithCredentials(c.Username, c.Password))
	}
	g, err := gnmi.Dial(addr, gopts...)
	if err != nil {
		return nil, err
	}
	n, err := gnoi.Dial(addr, nopts...)
	if err != nil {
		g.Close()
		return nil, err
	}
	return &acme{spec: spec, g: g, n: n}, nil
}

func (a *acme) Endpoints() plugin.Endpoints {
	return plugin.SpecEndpoints(a.spec, 9559, driver.P4Runtime, driver.GNMI, driver.GNOI)
}

func (a *acme) Identity(ctx context.Context) (driver.Identity, error) {
	id, err := driver.IdentityFromGNMI(ctx, a.g)
	return driver.CompleteIdentity(id, a.spec, driver.Identity{Vendor: "Acme", Serial: a.spec.Name}), err
}

// Ports renames the interfaces: P4Runtime port N+1 is xe-0/0/N.
func (a *acme) Ports(ctx context.Context) (*driver.PortMap, error) {
	m, err := driver.PortsFromGNMI(ctx, a.g)
	if err != nil {
		return nil, err
	}
	var ports []driver.Port
	for _, p := range m.Ports() {
		if p.ID == 0 {
			return nil, fmt.Errorf("acme: interface %s has P4Runtime port 0, which has no xe- name", p.Name)
		}
		ports = append(ports, driver.Port{Name: fmt.Sprintf("xe-0/0/%d", p.ID-1), ID: p.ID})
	}
	return driver.NewPortMap(ports)
}

func (a *acme) PackagePipeconf(_ context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	if b, ok := pc.DeviceConfigs[pipeline.TargetEmulated]; ok {
		return b, nil
	}
	return pc.DeviceConfig(pipeline.TargetBMv2)
}

func (a *acme) Reboot(ctx context.Context) error { return driver.RebootGNOI(ctx, a.spec.Name, a.n) }

func (a *acme) InstallSoftware(ctx context.Context, version string, image io.Reader) error {
	return driver.InstallGNOI(ctx, a.spec.Name, a.n, version, image)
}

func (a *acme) Clock(ctx context.Context) (driver.ClockReading, error) {
	return driver.ClockFromGNOI(ctx, a.spec.Name, a.n)
}

// SetNodeID sets the node ID of the box's chip over gNMI: the P4Runtime
// device ID it answers under afterwards (driver.NodeIDSetter, optional).
func (a *acme) SetNodeID(ctx context.Context, id uint64) error {
	return driver.SetNodeIDGNMI(ctx, a.spec.Name, a.g, id)
}

func (a *acme) Close() error {
	a.n.Close()
	return a.g.Close()
}
