package testbed_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	hpb "github.com/openconfig/gnoi/healthz"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

// gnoiSwitch starts a switch with gNOI attached and a clock skewed by
// offset, and a gNOI client for it.
func gnoiSwitch(t *testing.T, cfg testbed.SwitchConfig, offset time.Duration) (*testbed.Switch, *testbed.SwitchGNOI, *gnoi.Client) {
	t.Helper()
	clk, err := clock.New(clock.WithOffset(offset))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "leaf1"
	}
	cfg.DeviceID, cfg.Clock = 1, clk.Now
	sw, err := testbed.NewSwitch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := testbed.AttachGNOI(sw, testbed.GNOIConfig{Clock: clk, BootDelay: 50 * time.Millisecond})
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
	opts := []gnoi.Option{gnoi.WithInsecure()}
	if c := cfg.Credentials; c != nil {
		opts = append(opts, gnoi.WithCredentials(c.Username, c.Password))
	}
	c, err := gnoi.Dial(sw.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return sw, g, c
}

// TestGNOIRebootLosesState: a gNOI reboot takes the switch down (the
// P4Runtime stream breaks, the pipeline is lost) and brings it back on the
// same address; the skewed clock shows through system.Time before and
// after.
func TestGNOIRebootLosesState(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sw, g, c := gnoiSwitch(t, testbed.SwitchConfig{Ports: 2, Identity: testbed.Identity{SoftwareVersion: "1.0.0"}}, 250*time.Millisecond)
	checkTime := func() {
		t.Helper()
		res, err := c.Time(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := res.Offset - g.Clock.Offset(); d.Abs() > res.ErrorBound+time.Microsecond {
			t.Fatalf("Time offset %v, clock offset %v, bound %v", res.Offset, g.Clock.Offset(), res.ErrorBound)
		}
	}
	checkTime()

	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	p4 := connect(t, ctx, sw, creds)
	p4.setPipeline(ctx, "onos-basic")
	addr := sw.Addr()

	if err := c.Reboot(ctx, gnoi.Cold, 0, "test reboot"); err != nil {
		t.Fatal(err)
	}
	if _, err := p4.stream.Recv(); err == nil { // waits for the switch to go down
		t.Fatal("P4Runtime stream survived a reboot")
	}
	if err := sw.WaitRunning(ctx); err != nil {
		t.Fatal(err)
	}
	if sw.Addr() != addr || sw.Boots() != 2 {
		t.Fatalf("after the reboot: addr %s (was %s), boots %d", sw.Addr(), addr, sw.Boots())
	}
	p4b := connect(t, ctx, sw, creds)
	resp, err := p4b.client.GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{DeviceId: p4b.dev})
	if err == nil && resp.GetConfig().GetP4Info() != nil {
		t.Fatal("pipeline survived a gNOI reboot")
	}
	st, err := c.RebootStatus(ctx)
	if err != nil || st.Active || st.Count != 1 || st.Reason != "test reboot" {
		t.Fatalf("reboot status %+v, %v", st, err)
	}
	checkTime()
}

// TestGNOIInstallActivateOnSwitch upgrades a testbed switch: after the
// activation's reboot it reports the new version through gNOI and its
// identity.
func TestGNOIInstallActivateOnSwitch(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sw, _, c := gnoiSwitch(t, testbed.SwitchConfig{Ports: 1, Identity: testbed.Identity{SoftwareVersion: "1.0.0"}}, 0)
	img, err := tgnoi.NewImage("2.0.0", bytes.Repeat([]byte("sonic"), 50000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Install(ctx, "2.0.0", bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	if err := c.Activate(ctx, "2.0.0", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitVersion(ctx, "2.0.0"); err != nil {
		t.Fatal(err)
	}
	if v := sw.Identity().SoftwareVersion; v != "2.0.0" || sw.Boots() != 2 {
		t.Fatalf("switch reports version %s after %d boots", v, sw.Boots())
	}
}

// TestGNOIHealthAndCredentials: healthz follows the ports' oper-status, and
// gNOI checks the switch's credentials as gNMI does.
func TestGNOIHealthAndCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sw, _, c := gnoiSwitch(t, testbed.SwitchConfig{Ports: 3, Credentials: &testbed.Credentials{Username: "admin", Password: "pw"}}, 0)
	if err := sw.SetPortAdmin(2, false); err != nil {
		t.Fatal(err)
	}
	chassis, err := c.HealthGet(ctx, gnoi.ComponentPath("chassis"))
	if err != nil {
		t.Fatal(err)
	}
	if !chassis.Healthy || len(chassis.Subcomponents) != 3 {
		t.Fatalf("chassis %+v", chassis)
	}
	for i, sub := range chassis.Subcomponents {
		if want := i != 1; sub.Healthy != want {
			t.Errorf("%s healthy = %v, want %v", sub.Path, sub.Healthy, want)
		}
	}
	port2, err := c.HealthGet(ctx, gnoi.ComponentPath("port2"))
	if err != nil || port2.Status != hpb.Status_STATUS_UNHEALTHY {
		t.Fatalf("port2 %+v, %v", port2, err)
	}
	anon, err := gnoi.Dial(sw.Addr(), gnoi.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Time(ctx); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Time without credentials: %v", err)
	}
}

// TestGNOINTPFromGNMIConfig: configuring NTP over gNMI makes the switch's
// clock converge to an SNTP server on 127.0.0.1; disabling it stops the
// discipline.
func TestGNOINTPFromGNMIConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	go sntp.Serve(srvCtx, conn, time.Now)
	port := conn.LocalAddr().(*net.UDPAddr).Port

	sw, g, _ := gnoiSwitch(t, testbed.SwitchConfig{Ports: 1}, 50*time.Millisecond)
	nc, err := gnmiclient.Dial(sw.Addr(), gnmiclient.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, err = nc.Set(ctx,
		gnmiclient.SetUpdate("/system/ntp/config/enabled", true),
		gnmiclient.SetUpdate("/system/ntp/servers/server[address=127.0.0.1]/config/port", port))
	if err != nil {
		t.Fatal(err)
	}
	st, err := g.Clock.WaitSynchronized(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if off := g.Clock.Offset(); off.Abs() > clock.DefaultSyncThreshold+st.RTT+time.Millisecond || st.Server != conn.LocalAddr().String() {
		t.Fatalf("clock offset %v after synchronizing with %s", off, st.Server)
	}
	if _, err := nc.Set(ctx, gnmiclient.SetUpdate("/system/ntp/config/enabled", false)); err != nil {
		t.Fatal(err)
	}
	for {
		ch := g.Clock.Changes()
		if s := g.Clock.Status(); s.State == clock.StateDisabled {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("clock state %v after disabling NTP over gNMI", g.Clock.Status().State)
		}
	}
}
