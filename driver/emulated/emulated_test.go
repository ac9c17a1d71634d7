package emulated_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type switchOpts struct {
	gnoi   bool
	offset time.Duration
}

// startSwitch starts an emulated switch, with gNOI when asked.
func startSwitch(t *testing.T, cfg testbed.SwitchConfig, o switchOpts) (*testbed.Switch, *testbed.SwitchGNOI) {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "leaf1"
	}
	if cfg.DeviceID == 0 {
		cfg.DeviceID = 1
	}
	var g *testbed.SwitchGNOI
	var clk *clock.Clock
	if o.gnoi {
		var err error
		if clk, err = clock.New(clock.WithOffset(o.offset)); err != nil {
			t.Fatal(err)
		}
		cfg.Clock = clk.Now
	}
	sw, err := testbed.NewSwitch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.gnoi {
		if g, err = testbed.AttachGNOI(sw, testbed.GNOIConfig{Clock: clk, BootDelay: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if g != nil {
			g.Close()
		}
		sw.Stop()
	})
	return sw, g
}

func open(t *testing.T, ctx context.Context, spec driver.Spec, opts ...driver.Option) driver.Device {
	t.Helper()
	opts = append([]driver.Option{driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	dev, err := emulated.New(opts...).Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func specOf(sw *testbed.Switch) driver.Spec {
	return driver.Spec{Name: sw.Name(), Address: sw.Addr(), DeviceID: sw.DeviceID(), Insecure: true}
}

func TestEmulatedConformance(t *testing.T) {
	ctx := testCtx(t)
	offset := 150 * time.Millisecond
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 3, Identity: testbed.Identity{
		Vendor: "Acme", Model: "AS-7712", Serial: "SN-0001", SoftwareVersion: "1.2.3",
	}}, switchOpts{gnoi: true, offset: offset})
	dev := open(t, ctx, specOf(sw))
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	basic, err := reg.Get(builtin.ONOSBasic)
	if err != nil {
		t.Fatal(err)
	}
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity:     driver.Identity{Vendor: "Acme", Model: "AS-7712", Serial: "SN-0001", SoftwareVersion: "1.2.3"},
		Ports:        []driver.Port{{Name: "eth1", ID: 1}, {Name: "eth2", ID: 2}, {Name: "eth3", ID: 3}},
		Protocols:    driver.Protocols,
		Pipeconf:     basic,
		DeviceConfig: basic.DeviceConfigs["emulated"],
		ClockOffset:  &offset,
		Tolerance:    5 * time.Millisecond,
	})
	// The pipeline the driver pushed is the one the switch runs.
	if s := sw.P4Runtime().Schema(); s == nil || len(s.P4Info().GetTables()) != len(basic.Schema.P4Info().GetTables()) {
		t.Fatalf("switch runs %v", s)
	}
	// gNMI works through the device's client.
	g, err := dev.GNMI()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Get(ctx, []string{"/system/state/hostname"}); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatedEventsAtOpen(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1}, switchOpts{gnoi: true})
	dev := open(t, ctx, specOf(sw))
	for _, p := range driver.Protocols {
		ev, err := drivertest.WaitEvent(ctx, dev.Events(), func(driver.Event) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != driver.Connected || ev.Protocol != p || ev.Device != "leaf1" {
			t.Fatalf("event %v, want %s connected", ev, p)
		}
		if p == driver.P4Runtime && ev.Mastership != client.Primary {
			t.Fatalf("mastership %v, want primary", ev.Mastership)
		}
	}
}

// TestEmulatedReboot: a gNOI reboot takes every connection down and the
// device reconnects by itself: Disconnected then Connected per protocol,
// and the P4Runtime client is primary again on the rebooted switch.
func TestEmulatedReboot(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 2}, switchOpts{gnoi: true})
	dev := open(t, ctx, specOf(sw), driver.WithHealthCheck(-1, 0))
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	boots := sw.Boots()
	if err := dev.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Disconnected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if err := sw.WaitRunning(ctx); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if sw.Boots() != boots+1 {
		t.Fatalf("boots %d, want %d", sw.Boots(), boots+1)
	}
	c, _ := dev.P4Runtime()
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Identity(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatedInstallSoftware(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1, Identity: testbed.Identity{SoftwareVersion: "1.0.0"}}, switchOpts{gnoi: true})
	dev := open(t, ctx, specOf(sw))
	image, err := tgnoi.NewImage("2.0.0", bytes.Repeat([]byte("x"), 200<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.InstallSoftware(ctx, "2.0.0", bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if v := sw.Identity().SoftwareVersion; v != "2.0.0" {
		t.Fatalf("switch runs %q", v)
	}
	id, err := dev.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.SoftwareVersion != "2.0.0" {
		t.Fatalf("identity %v", id)
	}
	// A broken image is refused with the device's reason.
	err = dev.InstallSoftware(ctx, "3.0.0", strings.NewReader("not an image"))
	if err == nil || !strings.Contains(err.Error(), "PARSE_FAIL") {
		t.Fatalf("err = %v, want PARSE_FAIL", err)
	}
}

// TestEmulatedWithoutGNOI: a switch without gNOI opens (the gNOI service
// answers UNIMPLEMENTED, it is reachable), and what needs gNOI is
// ErrUnsupported.
func TestEmulatedWithoutGNOI(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1}, switchOpts{})
	dev := open(t, ctx, specOf(sw))
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity:    driver.Identity{Vendor: "Fabric", Model: "emulated", Serial: "leaf1"},
		Ports:       []driver.Port{{Name: "eth1", ID: 1}},
		Protocols:   driver.Protocols,
		Unsupported: []drivertest.Behaviour{drivertest.Clock, drivertest.Reboot, drivertest.Install},
	})
}

func TestEmulatedHealthCheck(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1}, switchOpts{gnoi: true})
	dev := open(t, ctx, specOf(sw), driver.WithHealthCheck(20*time.Millisecond, 50*time.Millisecond))
	// The switch's P4Runtime service hangs: its TCP connection and stream
	// stay up, but it stops answering.
	sw.P4Runtime().SetDelay(time.Hour)
	ev, err := drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.Disconnected, driver.P4Runtime))
	if err != nil {
		t.Fatal(err)
	}
	if status.Code(ev.Err) != codes.DeadlineExceeded || !strings.Contains(ev.Err.Error(), "health check") {
		t.Fatalf("event error %v", ev.Err)
	}
	sw.P4Runtime().SetDelay(0)
	if _, err := drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.Connected, driver.P4Runtime)); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatedStopAndStart(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1}, switchOpts{gnoi: true})
	dev := open(t, ctx, specOf(sw), driver.WithHealthCheck(-1, 0))
	sw.Stop()
	left := map[driver.Protocol]bool{driver.P4Runtime: true, driver.GNMI: true, driver.GNOI: true}
	for len(left) > 0 {
		ev, err := drivertest.WaitEvent(ctx, dev.Events(), func(ev driver.Event) bool { return ev.Kind == driver.Disconnected })
		if err != nil {
			t.Fatal(err)
		}
		if ev.Err == nil {
			t.Fatalf("%v without a reason", ev)
		}
		delete(left, ev.Protocol)
	}
	if _, err := dev.Identity(ctx); err == nil {
		t.Fatal("Identity of a stopped switch succeeded")
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected, driver.Protocols...); err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	for range dev.Events() { // buffered events, then closed
	}
	if _, err := dev.P4Runtime(); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("P4Runtime after Close: %v", err)
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestEmulatedTLSAndCredentials(t *testing.T) {
	ctx := testCtx(t)
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("leaf1")
	if err != nil {
		t.Fatal(err)
	}
	creds := &testbed.Credentials{Username: "admin", Password: "s3cret"}
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 2, TLS: certs.ServerConfig(cert, nil), Credentials: creds},
		switchOpts{gnoi: true})
	spec := driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, TLS: certs.ClientConfig(ca.Pool(), nil),
		Credentials: &driver.Credentials{Username: "admin", Password: "s3cret"}}
	dev := open(t, ctx, spec)
	if _, err := dev.Ports(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Clock(ctx); err != nil {
		t.Fatal(err)
	}
	// Wrong credentials: Open fails and says why.
	spec.Credentials = &driver.Credentials{Username: "admin", Password: "wrong"}
	spec.ElectionID = client.ElectionID{Low: 5}
	_, err = emulated.New().Open(ctx, spec)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "gnmi+gnoi at "+sw.Addr()) {
		t.Fatalf("err = %v, want Unauthenticated naming gnmi+gnoi", err)
	}
}

func TestEmulatedOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 1}, switchOpts{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	lis.Close()
	tests := []struct {
		name    string
		spec    driver.Spec
		timeout time.Duration
		want    string
		is      error
	}{
		{name: "no name", spec: driver.Spec{Address: sw.Addr(), Insecure: true}, want: "no name"},
		{name: "no address", spec: driver.Spec{Name: "x", Insecure: true}, want: "no address for p4runtime"},
		{name: "no transport security", spec: driver.Spec{Name: "x", Address: sw.Addr()}, is: driver.ErrTransportSecurity},
		{name: "unknown protocol", spec: driver.Spec{Name: "x", Address: sw.Addr(), Insecure: true,
			Addresses: map[driver.Protocol]string{"netconf": "1.2.3.4:830"}}, want: `unknown protocol "netconf"`},
		{name: "wrong device ID", spec: driver.Spec{Name: "x", Address: sw.Addr(), DeviceID: 7, Insecure: true},
			want: "p4runtime at " + sw.Addr()},
		{name: "nobody listening", spec: driver.Spec{Name: "x", Address: dead, DeviceID: 1, Insecure: true},
			timeout: 300 * time.Millisecond, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctx
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			dev, err := emulated.New().Open(ctx, tt.spec)
			if err == nil {
				dev.Close()
				t.Fatal("Open succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "emulated: ") {
				t.Fatalf("err = %v, want it to name the driver", err)
			}
		})
	}
}

// TestEmulatedSetNodeID: the emulated driver sets the switch's P4Runtime
// device ID through the chip's openconfig-p4rt node ID, and the switch
// keeps it across a restart.
func TestEmulatedSetNodeID(t *testing.T) {
	ctx := testCtx(t)
	sw, _ := startSwitch(t, testbed.SwitchConfig{Ports: 2}, switchOpts{})
	openDev := func(ctx context.Context, spec driver.Spec) (driver.Device, error) {
		return emulated.New(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)).Open(ctx, spec)
	}
	drivertest.CheckNodeID(t, ctx, openDev, specOf(sw), 7)
	if got := sw.DeviceID(); got != 7 {
		t.Fatalf("switch answers to device ID %d, want 7", got)
	}
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := sw.DeviceID(); got != 7 {
		t.Fatalf("switch answers to device ID %d after a restart, want 7", got)
	}
	dev := open(t, ctx, specOf(sw))
	c, err := dev.P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitPrimary(ctx); err != nil {
		t.Fatalf("device ID 7 after a restart: %v", err)
	}
}
