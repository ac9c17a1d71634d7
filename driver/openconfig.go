package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
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

// PathComponentType gives the type of every component; the chip whose
// node ID SetNodeIDGNMI sets is the one of type INTEGRATED_CIRCUIT.
const PathComponentType = "/components/component[name=*]/state/type"

// typeIntegratedCircuit is the openconfig-platform-types identity of a
// chip; devices may prefix it with its module
// ("openconfig-platform-types:INTEGRATED_CIRCUIT").
const typeIntegratedCircuit = "INTEGRATED_CIRCUIT"

// nodeIDSettle bounds how long SetNodeIDGNMI waits for state/node-id to
// follow the configuration: a real box applies config asynchronously, the
// emulated one at once.
const nodeIDSettle = 2 * time.Second

// NodeIDPath returns the path of a chip's openconfig-p4rt node ID, under
// integrated-circuit/config ("config") or integrated-circuit/state
// ("state").
func NodeIDPath(chip, container string) string {
	p := &gpb.Path{Elem: []*gpb.PathElem{
		{Name: "components"}, {Name: "component", Key: map[string]string{"name": chip}},
		{Name: "integrated-circuit"}, {Name: container}, {Name: "node-id"},
	}}
	s, err := gnmi.PathString(p)
	if err != nil {
		// Only a name PathString cannot escape gets here; the Get or Set
		// that uses it then fails naming it.
		return "/components/component[name=" + chip + "]/integrated-circuit/" + container + "/node-id"
	}
	return s
}

// ChipFromGNMI returns the name of the device's chip: the one component
// in /components whose state/type is INTEGRATED_CIRCUIT. A device that
// does not serve component types, has no such component or has several
// (a multi-chip box has a device ID per chip, which one ID cannot set)
// fails with an error matching ErrUnsupported that says which.
func ChipFromGNMI(ctx context.Context, g *gnmi.Client) (string, error) {
	if g == nil {
		return "", errors.New("driver: chip from gNMI: nil client")
	}
	recs, err := g.Get(ctx, []string{PathComponentType})
	if err != nil && !isValueErr(recs, err) {
		if absent(err) {
			return "", fmt.Errorf("driver: chip from gNMI: %s is not served: %w: %w", PathComponentType, ErrUnsupported, err)
		}
		return "", fmt.Errorf("driver: chip from gNMI: %w", err)
	}
	var chips []string
	types := map[string]bool{}
	for _, r := range recs {
		if r.Deleted {
			continue
		}
		p, err := gnmi.ParsePath(r.Path)
		if err != nil || len(p.GetElem()) < 2 || p.GetElem()[1].GetName() != "component" {
			continue
		}
		t := scalarString(r.Value)
		if i := strings.LastIndexByte(t, ':'); i >= 0 {
			t = t[i+1:]
		}
		types[t] = true
		if t == typeIntegratedCircuit {
			chips = append(chips, p.GetElem()[1].GetKey()["name"])
		}
	}
	switch len(chips) {
	case 1:
		return chips[0], nil
	case 0:
		seen := make([]string, 0, len(types))
		for t := range types {
			seen = append(seen, t)
		}
		slices.Sort(seen)
		return "", fmt.Errorf("driver: chip from gNMI: no component of type %s in /components (types found: %v): %w",
			typeIntegratedCircuit, seen, ErrUnsupported)
	}
	slices.Sort(chips)
	return "", fmt.Errorf("driver: chip from gNMI: %d components of type %s (%s), so one node ID is ambiguous: %w",
		len(chips), typeIntegratedCircuit, strings.Join(chips, ", "), ErrUnsupported)
}

// NodeIDFromGNMI reads the openconfig-p4rt node ID of a chip: its
// integrated-circuit/state/node-id, or config/node-id on a device that
// serves no state for it.
func NodeIDFromGNMI(ctx context.Context, g *gnmi.Client, chip string) (uint64, error) {
	if g == nil {
		return 0, errors.New("driver: node ID from gNMI: nil client")
	}
	var last error
	for _, c := range []string{"state", "config"} {
		path := NodeIDPath(chip, c)
		recs, err := g.Get(ctx, []string{path})
		if err != nil {
			if absent(err) {
				last = err
				continue
			}
			return 0, fmt.Errorf("driver: node ID from gNMI %s: %w", path, err)
		}
		for _, r := range recs {
			if r.Deleted {
				continue
			}
			id, err := toUint64(r.Value)
			if err != nil {
				return 0, fmt.Errorf("driver: node ID from gNMI %s: %w", path, err)
			}
			return id, nil
		}
		last = fmt.Errorf("%s: no value", path)
	}
	return 0, fmt.Errorf("driver: node ID from gNMI: chip %q reports no node-id: %w", chip, last)
}

// SetNodeIDGNMI sets the openconfig-p4rt node ID of the device's chip
// (see ChipFromGNMI) to id and waits, for up to two seconds within ctx,
// until the chip reports it (see NodeIDSetter, which built-in drivers
// implement with it). When the chip already has id nothing is sent. A
// device that refuses the path as not served (NOT_FOUND, UNIMPLEMENTED)
// fails with an error matching ErrUnsupported.
func SetNodeIDGNMI(ctx context.Context, device string, g *gnmi.Client, id uint64) error {
	if g == nil {
		return errors.New("driver: set node ID over gNMI: nil client")
	}
	chip, err := ChipFromGNMI(ctx, g)
	if err != nil {
		return fmt.Errorf("device %s: set node ID %d: %w", device, id, err)
	}
	if cur, err := NodeIDFromGNMI(ctx, g, chip); err == nil && cur == id {
		return nil
	}
	path := NodeIDPath(chip, "config")
	// A uint_val is the exact form of a uint64 leaf, whatever JSON
	// flavour the client's encoding would have chosen.
	val := &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: id}}
	if _, err := g.Set(ctx, gnmi.SetUpdate(path, val)); err != nil {
		switch status.Code(err) {
		case codes.NotFound, codes.Unimplemented:
			return fmt.Errorf("device %s: set node ID %d at %s: %w: %w", device, id, path, ErrUnsupported, err)
		}
		return fmt.Errorf("device %s: set node ID %d at %s: %w", device, id, path, err)
	}
	wctx, cancel := context.WithTimeout(ctx, nodeIDSettle)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		cur, err := NodeIDFromGNMI(wctx, g, chip)
		if err == nil && cur == id {
			return nil
		}
		select {
		case <-tick.C:
		case <-wctx.Done():
			if err != nil {
				return fmt.Errorf("device %s: set node ID %d: reading it back: %w", device, id, err)
			}
			return fmt.Errorf("device %s: set node ID %d: chip %q still reports node-id %d after %v",
				device, id, chip, cur, nodeIDSettle)
		}
	}
}

// toUint64 converts a decoded gNMI value to a uint64: a number, or the
// decimal string RFC 7951 (JSON_IETF) makes of 64-bit integers.
func toUint64(v any) (uint64, error) {
	switch x := v.(type) {
	case uint64:
		return x, nil
	case int64:
		if x >= 0 {
			return uint64(x), nil
		}
	case float64:
		// JSON numbers above 2^53 lose digits: refuse rather than guess.
		if x >= 0 && x == math.Trunc(x) && x <= 1<<53 {
			return uint64(x), nil
		}
	case string:
		if u, err := strconv.ParseUint(x, 10, 64); err == nil {
			return u, nil
		}
	}
	return 0, fmt.Errorf("%v (%T) is not an unsigned 64-bit integer", v, v)
}
