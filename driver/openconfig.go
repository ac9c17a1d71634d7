package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
)

// The behaviours most white boxes share, over OpenConfig (gNMI) and gNOI.
// Built-in drivers use them; so can out-of-process drivers.

// OpenConfig paths the helpers read.
const (
	// PathInterfaceID holds each interface's P4Runtime port ID
	// (openconfig-p4rt augments interfaces with it).
	PathInterfaceID = "/interfaces/interface[name=*]/state/id"
	// PathInterfaceIfindex is read when no interface reports an id:
	// older Stratum releases use the ifindex as the P4Runtime port.
	PathInterfaceIfindex = "/interfaces/interface[name=*]/state/ifindex"
	// PathSystemSoftwareVersion is the running software version.
	PathSystemSoftwareVersion = "/system/state/software-version"
)

// componentLeaves are the component leaves an identity is read from.
var componentLeaves = []string{"type", "mfg-name", "part-no", "description", "serial-no", "software-version"}

// IdentityFromGNMI reads a device's identity from OpenConfig: the CHASSIS
// component of /components (mfg-name → Vendor, part-no or description →
// Model, serial-no → Serial, software-version → SoftwareVersion) and
// /system/state/software-version. Paths the device does not serve leave
// their fields empty; only a failure to reach the device is an error.
func IdentityFromGNMI(ctx context.Context, g *gnmi.Client) (Identity, error) {
	if g == nil {
		return Identity{}, errors.New("driver: identity from gNMI: nil client")
	}
	paths := make([]string, 0, len(componentLeaves)+1)
	for _, leaf := range componentLeaves {
		paths = append(paths, "/components/component[name=*]/state/"+leaf)
	}
	paths = append(paths, PathSystemSoftwareVersion)
	recs, err := g.Get(ctx, paths)
	if err != nil && !absent(err) && !isValueErr(recs, err) {
		return Identity{}, fmt.Errorf("driver: identity from gNMI: %w", err)
	}
	if err != nil && len(recs) == 0 {
		// Some path is not served, and one Get is all or nothing: read
		// the paths one by one, keeping what is there.
		for _, p := range paths {
			rs, err := g.Get(ctx, []string{p})
			if err != nil && !absent(err) && !isValueErr(rs, err) {
				return Identity{}, fmt.Errorf("driver: identity from gNMI: %w", err)
			}
			recs = append(recs, rs...)
		}
	}
	comps := map[string]map[string]string{}
	var order []string
	var sysVersion string
	for _, r := range recs {
		if r.Deleted {
			continue
		}
		if r.Path == PathSystemSoftwareVersion {
			sysVersion = scalarString(r.Value)
			continue
		}
		p, err := gnmi.ParsePath(r.Path)
		if err != nil || len(p.GetElem()) != 4 || p.GetElem()[0].GetName() != "components" {
			continue
		}
		name, leaf := p.GetElem()[1].GetKey()["name"], p.GetElem()[3].GetName()
		if comps[name] == nil {
			comps[name] = map[string]string{}
			order = append(order, name)
		}
		comps[name][leaf] = scalarString(r.Value)
	}
	var id Identity
	for _, name := range order {
		c := comps[name]
		if !strings.HasSuffix(c["type"], "CHASSIS") {
			continue
		}
		id.Vendor, id.Serial, id.SoftwareVersion = c["mfg-name"], c["serial-no"], c["software-version"]
		id.Model = c["part-no"]
		if id.Model == "" {
			id.Model = c["description"]
		}
		break
	}
	if sysVersion != "" {
		id.SoftwareVersion = sysVersion
	}
	return id, nil
}

// absent reports whether a gNMI error says that a path is not served.
func absent(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.Unimplemented, codes.InvalidArgument:
		return true
	}
	return false
}

// isValueErr reports whether err only concerns values that did not decode
// (Get returns the records then).
func isValueErr(recs []gnmi.Update, err error) bool {
	return len(recs) > 0 && errors.Is(err, gnmi.ErrValue)
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// CompleteIdentity fills the fields id leaves empty from the driver
// options "vendor", "model", "serial" and "software_version", then from
// def.
func CompleteIdentity(id Identity, spec Spec, def Identity) Identity {
	fill := func(v *string, key, d string) {
		if *v == "" {
			*v = spec.Option(key, "")
		}
		if *v == "" {
			*v = d
		}
	}
	fill(&id.Vendor, "vendor", def.Vendor)
	fill(&id.Model, "model", def.Model)
	fill(&id.Serial, "serial", def.Serial)
	fill(&id.SoftwareVersion, "software_version", def.SoftwareVersion)
	return id
}

// PortsFromGNMI maps interface names to P4Runtime port IDs from
// OpenConfig interface state: /interfaces/interface/state/id, or the
// ifindex when no interface has an id. Interfaces without either are left
// out.
func PortsFromGNMI(ctx context.Context, g *gnmi.Client) (*PortMap, error) {
	if g == nil {
		return nil, errors.New("driver: ports from gNMI: nil client")
	}
	var last error
	for _, path := range []string{PathInterfaceID, PathInterfaceIfindex} {
		recs, err := g.Get(ctx, []string{path})
		if err != nil && !isValueErr(recs, err) {
			if !absent(err) {
				return nil, fmt.Errorf("driver: ports from gNMI: %w", err)
			}
			last = err
			continue
		}
		ports, err := portsOf(recs)
		if err != nil {
			return nil, fmt.Errorf("driver: ports from gNMI %s: %w", path, err)
		}
		if len(ports) == 0 {
			continue
		}
		return NewPortMap(ports)
	}
	if last != nil {
		return nil, fmt.Errorf("driver: ports from gNMI: no interface reports a port ID: %w", last)
	}
	return nil, errors.New("driver: ports from gNMI: no interface reports a port ID")
}

func portsOf(recs []gnmi.Update) ([]Port, error) {
	var ports []Port
	for _, r := range recs {
		if r.Deleted {
			continue
		}
		p, err := gnmi.ParsePath(r.Path)
		if err != nil {
			return nil, err
		}
		elems := p.GetElem()
		if len(elems) < 2 || elems[1].GetName() != "interface" {
			return nil, fmt.Errorf("unexpected path %s", r.Path)
		}
		name := elems[1].GetKey()["name"]
		id, err := toUint32(r.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Path, err)
		}
		ports = append(ports, Port{Name: name, ID: id})
	}
	return ports, nil
}

func toUint32(v any) (uint32, error) {
	var u uint64
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, fmt.Errorf("port ID %d is negative", x)
		}
		u = uint64(x)
	case uint64:
		u = x
	case int:
		if x < 0 {
			return 0, fmt.Errorf("port ID %d is negative", x)
		}
		u = uint64(x)
	case uint32:
		u = uint64(x)
	case float64:
		if x < 0 || x != math.Trunc(x) {
			return 0, fmt.Errorf("port ID %v is not a natural number", x)
		}
		u = uint64(x)
	case string:
		var err error
		if u, err = strconv.ParseUint(x, 10, 64); err != nil {
			return 0, fmt.Errorf("port ID %q is not a number", x)
		}
	default:
		return 0, fmt.Errorf("port ID of type %T", v)
	}
	if u > math.MaxUint32 {
		return 0, fmt.Errorf("port ID %d does not fit 32 bits", u)
	}
	return uint32(u), nil
}

// gnoiErr makes an UNIMPLEMENTED answer match ErrUnsupported.
func gnoiErr(device, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gnoi.ErrUnsupported) {
		return fmt.Errorf("device %s: %s: %w: %w", device, what, ErrUnsupported, err)
	}
	return fmt.Errorf("device %s: %s: %w", device, what, err)
}

// ClockFromGNOI reads the device's clock with gNOI system.Time.
func ClockFromGNOI(ctx context.Context, device string, n *gnoi.Client) (ClockReading, error) {
	if n == nil {
		return ClockReading{}, errors.New("driver: clock from gNOI: nil client")
	}
	t, err := n.Time(ctx)
	if err != nil {
		return ClockReading{}, gnoiErr(device, "clock", err)
	}
	return ClockReading{Time: t.Time, Local: t.Local, Offset: t.Offset, RTT: t.RTT, ErrorBound: t.ErrorBound}, nil
}

// RebootGNOI cold-reboots the device with gNOI system.Reboot.
func RebootGNOI(ctx context.Context, device string, n *gnoi.Client) error {
	if n == nil {
		return errors.New("driver: reboot over gNOI: nil client")
	}
	return gnoiErr(device, "reboot", n.Reboot(ctx, gnoi.Cold, 0, "fabric: reboot requested"))
}

// InstallGNOI installs image as version with gNOI os: Install (transfer
// and validation), Activate (the device reboots) and Verify until the
// device runs version.
func InstallGNOI(ctx context.Context, device string, n *gnoi.Client, version string, image io.Reader) error {
	if n == nil {
		return errors.New("driver: install over gNOI: nil client")
	}
	if version == "" {
		return fmt.Errorf("device %s: install software: empty version", device)
	}
	if _, err := n.Install(ctx, version, image); err != nil {
		return gnoiErr(device, "install software "+version, err)
	}
	if err := n.Activate(ctx, version, false); err != nil {
		return gnoiErr(device, "activate software "+version, err)
	}
	if _, err := n.WaitVersion(ctx, version); err != nil {
		return gnoiErr(device, "wait for software "+version, err)
	}
	return nil
}
