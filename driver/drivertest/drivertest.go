// Package drivertest checks that a driver.Device behaves as a driver
// promises, for the tests of built-in drivers and of vendors' drivers
// alike: point Check at a device opened against a real or emulated switch
// and say what the device should be.
//
//	dev, err := mydriver.New().Open(ctx, spec)
//	...
//	drivertest.Check(t, ctx, dev, drivertest.Want{
//		Identity:  driver.Identity{Vendor: "Acme"},
//		Ports:     []driver.Port{{Name: "xe-0/0/0", ID: 1}},
//		Protocols: []driver.Protocol{driver.P4Runtime, driver.GNMI, driver.GNOI},
//	})
//
// Check pushes a pipeconf (ONOS basic.p4 by default) over P4Runtime and
// writes one entry: run it against a switch nobody else programs.
package drivertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
)

// Behaviour names a device behaviour for Want.Unsupported.
type Behaviour string

// Behaviours Check can expect to be unsupported.
const (
	Ports   Behaviour = "ports"
	Reboot  Behaviour = "reboot"
	Install Behaviour = "install"
	Clock   Behaviour = "clock"
)

// Want is what a device should be.
type Want struct {
	// Identity: each non-empty field must match.
	Identity driver.Identity
	// Ports must be the device's ports exactly (unless Ports is
	// unsupported).
	Ports []driver.Port
	// Protocols are the protocols the device has; the others must fail
	// with driver.ErrUnsupported.
	Protocols []driver.Protocol
	// Pipeconf is pushed when the device has P4Runtime; nil means the
	// built-in "onos-basic".
	Pipeconf *pipeline.Pipeconf
	// Entities builds the entities written (and read back) after the
	// push; nil writes one table0 entry of onos-basic.
	Entities func(*schema.Schema) ([]*p4v1.Entity, error)
	// DeviceConfig, when set, is what PackagePipeconf must return for
	// Pipeconf.
	DeviceConfig []byte
	// ClockOffset, when set, is the offset the device's clock has; the
	// reading must be within its error bound (plus Tolerance).
	ClockOffset *time.Duration
	Tolerance   time.Duration
	// Unsupported behaviours must fail with driver.ErrUnsupported.
	// Reboot and Install are only called when listed here.
	Unsupported []Behaviour
}

// Check runs one subtest per aspect of dev against want.
func Check(t *testing.T, ctx context.Context, dev driver.Device, want Want) {
	t.Helper()
	t.Run("identity", func(t *testing.T) {
		id, err := dev.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct{ name, got, want string }{
			{"vendor", id.Vendor, want.Identity.Vendor},
			{"model", id.Model, want.Identity.Model},
			{"serial", id.Serial, want.Identity.Serial},
			{"software version", id.SoftwareVersion, want.Identity.SoftwareVersion},
		} {
			if f.want != "" && f.got != f.want {
				t.Errorf("%s = %q, want %q (identity %v)", f.name, f.got, f.want, id)
			}
		}
		if id.Serial == "" {
			t.Errorf("identity %v has no serial", id)
		}
	})
	t.Run("ports", func(t *testing.T) {
		m, err := dev.Ports(ctx)
		if slices.Contains(want.Unsupported, Ports) {
			if !errors.Is(err, driver.ErrUnsupported) {
				t.Fatalf("Ports: err = %v, want ErrUnsupported", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Ports(); !slices.Equal(got, want.Ports) {
			t.Fatalf("ports = %v, want %v", got, want.Ports)
		}
		for _, p := range want.Ports {
			if id, ok := m.ID(p.Name); !ok || id != p.ID {
				t.Errorf("ID(%q) = %d, %v", p.Name, id, ok)
			}
			if n, ok := m.Name(p.ID); !ok || n != p.Name {
				t.Errorf("Name(%d) = %q, %v", p.ID, n, ok)
			}
		}
	})
	t.Run("protocols", func(t *testing.T) {
		for _, p := range driver.Protocols {
			var err error
			switch p {
			case driver.P4Runtime:
				_, err = dev.P4Runtime()
			case driver.GNMI:
				_, err = dev.GNMI()
			case driver.GNOI:
				_, err = dev.GNOI()
			}
			has := slices.Contains(want.Protocols, p)
			switch {
			case has && err != nil:
				t.Errorf("%s: %v", p, err)
			case !has && !errors.Is(err, driver.ErrUnsupported):
				t.Errorf("%s: err = %v, want ErrUnsupported", p, err)
			case !has && !strings.Contains(strings.ToLower(err.Error()), string(p)):
				t.Errorf("%s: error %q does not name the protocol", p, err)
			}
		}
	})
	pc := want.Pipeconf
	if pc == nil {
		reg, err := builtin.Registry()
		if err != nil {
			t.Fatal(err)
		}
		if pc, err = reg.Get(builtin.ONOSBasic); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("package", func(t *testing.T) {
		b, err := dev.PackagePipeconf(ctx, pc)
		if err != nil {
			t.Fatal(err)
		}
		if want.DeviceConfig != nil && !bytes.Equal(b, want.DeviceConfig) {
			t.Fatalf("device config: %d bytes, want %d bytes", len(b), len(want.DeviceConfig))
		}
	})
	if slices.Contains(want.Protocols, driver.P4Runtime) {
		t.Run("p4runtime", func(t *testing.T) { checkP4Runtime(t, ctx, dev, pc, want.Entities) })
	}
	t.Run("clock", func(t *testing.T) {
		r, err := dev.Clock(ctx)
		if slices.Contains(want.Unsupported, Clock) {
			if !errors.Is(err, driver.ErrUnsupported) {
				t.Fatalf("Clock: err = %v, want ErrUnsupported", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Time.IsZero() || r.RTT <= 0 || r.ErrorBound != r.RTT/2 {
			t.Fatalf("reading %+v", r)
		}
		if want.ClockOffset != nil {
			if d := (r.Offset - *want.ClockOffset).Abs(); d > r.ErrorBound+want.Tolerance {
				t.Fatalf("offset %v, want %v ± %v", r.Offset, *want.ClockOffset, r.ErrorBound+want.Tolerance)
			}
		}
	})
	for _, b := range want.Unsupported {
		var err error
		switch b {
		case Reboot:
			err = dev.Reboot(ctx)
		case Install:
			err = dev.InstallSoftware(ctx, "1.0.0", strings.NewReader("image"))
		default:
			continue
		}
		if !errors.Is(err, driver.ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", b, err)
		}
	}
}

func checkP4Runtime(t *testing.T, ctx context.Context, dev driver.Device, pc *pipeline.Pipeconf,
	entities func(*schema.Schema) ([]*p4v1.Entity, error)) {
	c, err := dev.P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatalf("not primary: %v", err)
	}
	if err := driver.SetPipeconf(ctx, dev, pc); err != nil {
		t.Fatal(err)
	}
	if entities == nil {
		entities = basicEntry
	}
	es, err := entities(pc.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, es...); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadAll(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(es) {
		t.Fatalf("read %d table entries back, wrote %d", len(got), len(es))
	}
}

// basicEntry is one entry of onos-basic's table0.
func basicEntry(s *schema.Schema) ([]*p4v1.Entity, error) {
	te, err := entity.NewBuilder(s).TableEntry("table0",
		entity.Match(entity.Ternary("hdr.ethernet.ether_type", 0x88cc, 0xffff)),
		entity.Priority(100),
		entity.Action("send_to_cpu"))
	if err != nil {
		return nil, fmt.Errorf("drivertest: %w (Want.Entities must be set for pipeconfs other than onos-basic)", err)
	}
	return []*p4v1.Entity{entity.Wrap(te)}, nil
}

// WaitEvent reads events until one matches, ctx is done (an error naming
// the events seen) or the channel is closed.
func WaitEvent(ctx context.Context, events <-chan driver.Event, match func(driver.Event) bool) (driver.Event, error) {
	var seen []string
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return driver.Event{}, fmt.Errorf("events closed; seen: %s", strings.Join(seen, "; "))
			}
			if match(ev) {
				return ev, nil
			}
			seen = append(seen, ev.String())
		case <-ctx.Done():
			return driver.Event{}, fmt.Errorf("%w; seen: %s", ctx.Err(), strings.Join(seen, "; "))
		}
	}
}

// Is returns a matcher of events of kind for protocol p.
func Is(kind driver.EventKind, p driver.Protocol) func(driver.Event) bool {
	return func(ev driver.Event) bool { return ev.Kind == kind && ev.Protocol == p }
}

// WaitAll reads events until each protocol of ps has had an event of
// kind, in any order (the protocols of a device are watched
// independently), or ctx is done.
func WaitAll(ctx context.Context, events <-chan driver.Event, kind driver.EventKind, ps ...driver.Protocol) error {
	left := slices.Clone(ps)
	for len(left) > 0 {
		ev, err := WaitEvent(ctx, events, func(ev driver.Event) bool {
			return ev.Kind == kind && slices.Contains(left, ev.Protocol)
		})
		if err != nil {
			return fmt.Errorf("waiting for %s of %v: %w", kind, left, err)
		}
		left = slices.DeleteFunc(left, func(p driver.Protocol) bool { return p == ev.Protocol })
	}
	return nil
}

// CheckNodeID checks driver.NodeIDSetter on a device of a switch that
// nobody else programs: open(spec) must return a device implementing it,
// primary under spec.DeviceID; after SetNodeID(id) the chip reports id
// over gNMI, the first device's P4Runtime session is refused, and a device
// opened with Spec.DeviceID = id becomes primary, takes the onos-basic
// pipeconf and writes; setting id again leaves that session primary (a
// write after it succeeds). id must differ from spec.DeviceID. The switch
// is left answering to id; the devices CheckNodeID opens are closed when
// it returns.
func CheckNodeID(t *testing.T, ctx context.Context, open func(context.Context, driver.Spec) (driver.Device, error),
	spec driver.Spec, id uint64) {
	t.Helper()
	if id == spec.DeviceID {
		t.Fatalf("CheckNodeID: id %d is already the spec's device ID", id)
	}
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := reg.Get(builtin.ONOSBasic)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	setter, ok := dev.(driver.NodeIDSetter)
	if !ok {
		t.Fatalf("device %T does not implement driver.NodeIDSetter", dev)
	}
	old, err := dev.P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if err := old.WaitPrimary(ctx); err != nil {
		t.Fatalf("not primary under device ID %d: %v", spec.DeviceID, err)
	}
	if err := setter.SetNodeID(ctx, id); err != nil {
		t.Fatalf("SetNodeID(%d): %v", id, err)
	}
	g, err := dev.GNMI()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := driver.ChipFromGNMI(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := driver.NodeIDFromGNMI(ctx, g, chip); err != nil || got != id {
		t.Fatalf("node-id of chip %q: %d, %v; want %d", chip, got, err, id)
	}
	// The session of the old ID is gone: a push under it fails.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = driver.SetPipeconf(short, dev, pc)
	cancel()
	if err == nil {
		t.Fatalf("pipeconf push under the old device ID %d succeeded after SetNodeID(%d)", spec.DeviceID, id)
	}

	spec = spec.Clone()
	spec.DeviceID = id
	dev2, err := open(ctx, spec)
	if err != nil {
		t.Fatalf("open with device ID %d: %v", id, err)
	}
	defer dev2.Close()
	checkP4Runtime(t, ctx, dev2, pc, nil)
	if err := dev2.(driver.NodeIDSetter).SetNodeID(ctx, id); err != nil {
		t.Fatalf("SetNodeID(%d) again: %v", id, err)
	}
	c, err := dev2.P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	es, err := basicEntry(pc.Schema)
	if err != nil {
		t.Fatal(err)
	}
	// The switch checks the primary itself: a write fails if setting the
	// same ID had ended the session.
	if err := c.Delete(ctx, es...); err != nil {
		t.Fatalf("write after setting the same node ID again: %v", err)
	}
}
