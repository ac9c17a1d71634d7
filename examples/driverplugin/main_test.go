package main_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

// build builds this example as a plugin named fabric-driver-acme in dir.
func build(tb testing.TB, dir string) string {
	tb.Helper()
	out := filepath.Join(dir, plugin.ExecutablePrefix+"acme")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	if b, err := exec.Command(gobin, "build", "-o", out, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func startSwitch(tb testing.TB, offset time.Duration) *testbed.Switch {
	tb.Helper()
	clk, err := clock.New(clock.WithOffset(offset))
	if err != nil {
		tb.Fatal(err)
	}
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "acme1", DeviceID: 1, Ports: 4, Clock: clk.Now,
		Identity: testbed.Identity{Vendor: "Acme", Model: "ACX-48", Serial: "ACX0042", SoftwareVersion: "21.4R1"}})
	if err != nil {
		tb.Fatal(err)
	}
	g, err := testbed.AttachGNOI(sw, testbed.GNOIConfig{Clock: clk, BootDelay: 20 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		g.Close()
		sw.Stop()
	})
	return sw
}

func TestAcmePlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	build(t, dir)
	offset := 40 * time.Millisecond
	sw := startSwitch(t, offset)

	reg := &driver.Registry{}
	drivers, err := plugin.Register(reg, dir,
		plugin.WithDeviceOptions(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer drivers[0].Close()
	dev, err := reg.Open(ctx, driver.Spec{Name: "acme1", Driver: "acme", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity: driver.Identity{Vendor: "Acme", Model: "ACX-48", Serial: "ACX0042", SoftwareVersion: "21.4R1"},
		Ports: []driver.Port{{Name: "xe-0/0/0", ID: 1}, {Name: "xe-0/0/1", ID: 2},
			{Name: "xe-0/0/2", ID: 3}, {Name: "xe-0/0/3", ID: 4}},
		Protocols:   driver.Protocols,
		ClockOffset: &offset,
		Tolerance:   5 * time.Millisecond,
	})

	// An upgrade through the plugin: the image streams through the
	// plugin to the switch's gNOI os service, which reboots.
	image, err := tgnoi.NewImage("22.1R1", bytes.Repeat([]byte{1}, 100<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.InstallSoftware(ctx, "22.1R1", bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if v := sw.Identity().SoftwareVersion; v != "22.1R1" {
		t.Fatalf("switch runs %q", v)
	}
	// The host's own P4Runtime client went down with the reboot and came
	// back by itself.
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Disconnected, driver.P4Runtime); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.P4Runtime); err != nil {
		t.Fatal(err)
	}
}

// TestAcmeSetNodeID: the Acme device implements driver.NodeIDSetter, so
// the host's device does, and setting the node ID through the plugin
// renumbers the switch.
func TestAcmeSetNodeID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sw := startSwitch(t, 0)
	d, err := plugin.Load(build(t, t.TempDir()), plugin.WithHostLogger(slog.New(slog.DiscardHandler)),
		plugin.WithDeviceOptions(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	drivertest.CheckNodeID(t, ctx, d.Open, driver.Spec{Name: "acme1", Address: sw.Addr(), DeviceID: 1, Insecure: true}, 9)
	if got := sw.DeviceID(); got != 9 {
		t.Fatalf("the switch answers P4Runtime under device ID %d, want 9", got)
	}
}

// BenchmarkPorts compares Ports through the plugin (plugin RPC, then the
// plugin's gNMI Get to the switch) with the emulated driver's, in process
// (the same gNMI Get).
func BenchmarkPorts(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sw := startSwitch(b, 0)
	spec := driver.Spec{Name: "acme1", Address: sw.Addr(), DeviceID: 1, Insecure: true}
	dir := b.TempDir()
	d, err := plugin.Load(build(b, dir), plugin.WithHostLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct {
		name string
		drv  driver.Driver
	}{
		{"in-process", emulated.New()},
		{"plugin", d},
	} {
		b.Run(tc.name, func(b *testing.B) {
			spec := spec
			spec.ElectionID.Low = uint64(time.Now().UnixNano()) // a fresh primary each run
			dev, err := tc.drv.Open(ctx, spec)
			if err != nil {
				b.Fatal(err)
			}
			defer dev.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dev.Ports(ctx); err != nil {
					b.Fatal(fmt.Errorf("ports: %w", err))
				}
			}
		})
	}
}
