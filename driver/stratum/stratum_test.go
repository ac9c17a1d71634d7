package stratum_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/stratum"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

// startStratumLike starts an emulated switch presenting Stratum's
// surface: P4Runtime, gNMI and gNOI on one address.
func startStratumLike(t *testing.T, offset time.Duration, id testbed.Identity) *testbed.Switch {
	t.Helper()
	clk, err := clock.New(clock.WithOffset(offset))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "stratum1", DeviceID: 1, Ports: 4, Identity: id, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	g, err := testbed.AttachGNOI(sw, testbed.GNOIConfig{Clock: clk, BootDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.Close()
		sw.Stop()
	})
	return sw
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pipeconf(t *testing.T, id string) *pipeline.Pipeconf {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := reg.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func TestStratumConformance(t *testing.T) {
	ctx := testCtx(t)
	offset := -80 * time.Millisecond
	sw := startStratumLike(t, offset, testbed.Identity{Vendor: "Edgecore", Model: "AS7712-32X", Serial: "EC1234", SoftwareVersion: "stratum-22.03"})
	dev, err := stratum.New(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)).Open(ctx,
		driver.Spec{Name: "stratum1", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	pc := pipeconf(t, builtin.ONOSBasic)
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity:     driver.Identity{Vendor: "Edgecore", Model: "AS7712-32X", Serial: "EC1234", SoftwareVersion: "stratum-22.03"},
		Ports:        []driver.Port{{Name: "eth1", ID: 1}, {Name: "eth2", ID: 2}, {Name: "eth3", ID: 3}, {Name: "eth4", ID: 4}},
		Protocols:    driver.Protocols,
		Pipeconf:     pc,
		DeviceConfig: pc.DeviceConfigs[pipeline.TargetBMv2], // the raw bmv2 JSON
		ClockOffset:  &offset,
		Tolerance:    5 * time.Millisecond,
	})

	// A software upgrade over gNOI os reboots into the new version.
	image, err := tgnoi.NewImage("stratum-23.01", []byte("new release"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.InstallSoftware(ctx, "stratum-23.01", bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	id, err := dev.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.SoftwareVersion != "stratum-23.01" {
		t.Fatalf("identity after upgrade %v", id)
	}
}

func TestStratumPackaging(t *testing.T) {
	ctx := testCtx(t)
	sw := startStratumLike(t, 0, testbed.Identity{})
	dev, err := stratum.New().Open(ctx, driver.Spec{Name: "s", Address: sw.Addr(), DeviceID: 1, Insecure: true,
		Options: map[string]string{"serial": "from-option"}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	// Identity: the switch reports its own serial; options only fill gaps.
	id, err := dev.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.Serial != "stratum1" {
		t.Fatalf("identity %v", id)
	}
	for _, tt := range []struct {
		pipeconf string
		want     []byte
		err      error
	}{
		{pipeconf: builtin.FabricV1Model, want: pipeconf(t, builtin.FabricV1Model).DeviceConfigs[pipeline.TargetBMv2]},
		{pipeconf: builtin.SAIMiddleblock, err: pipeline.ErrNoDeviceConfig},
	} {
		t.Run(tt.pipeconf, func(t *testing.T) {
			b, err := dev.PackagePipeconf(ctx, pipeconf(t, tt.pipeconf))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.want) {
				t.Fatal("device config is not the bmv2 JSON byte for byte")
			}
		})
	}
	// Tofino packaging is not there yet.
	_, err = stratum.New().Open(ctx, driver.Spec{Name: "s", Address: sw.Addr(), DeviceID: 1, Insecure: true,
		Options: map[string]string{"target": "tofino"}})
	if !errors.Is(err, driver.ErrUnsupported) {
		t.Fatalf("target tofino: err = %v, want ErrUnsupported", err)
	}
}

func TestStratumReboot(t *testing.T) {
	ctx := testCtx(t)
	sw := startStratumLike(t, 0, testbed.Identity{})
	dev, err := stratum.New(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)).Open(ctx,
		driver.Spec{Name: "s", Address: sw.Addr(), DeviceID: 1, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if err := dev.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Disconnected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if n := sw.Boots(); n != 2 {
		t.Fatalf("boots %d, want 2", n)
	}
}

// TestStratumSetNodeID: Stratum's chip node ID is set over gNMI
// openconfig-p4rt, like the emulated switch's.
func TestStratumSetNodeID(t *testing.T) {
	ctx := testCtx(t)
	sw := startStratumLike(t, 0, testbed.Identity{Vendor: "Edgecore"})
	openDev := func(ctx context.Context, spec driver.Spec) (driver.Device, error) {
		return stratum.New(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)).Open(ctx, spec)
	}
	drivertest.CheckNodeID(t, ctx, openDev, driver.Spec{Name: "stratum1", Address: sw.Addr(), DeviceID: 1, Insecure: true}, 42)
	if got := sw.DeviceID(); got != 42 {
		t.Fatalf("switch answers to device ID %d, want 42", got)
	}
}
