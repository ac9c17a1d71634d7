package bmv2_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/bmv2"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed/p4rt"
)

// serveP4Runtime starts the emulated switch's P4Runtime service alone on
// its own listener: the surface simple_switch_grpc presents (no gNMI, no
// gNOI).
func serveP4Runtime(t *testing.T, deviceID uint64) (*p4rt.Server, string) {
	t.Helper()
	srv := p4rt.New(deviceID)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(p4rt.ServerOptions()...)
	srv.Register(g)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return srv, lis.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func basic(t *testing.T) *pipeline.Pipeconf {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := reg.Get(builtin.ONOSBasic)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func TestBMv2Conformance(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serveP4Runtime(t, 1)
	spec := driver.Spec{Name: "bmv2-1", Address: addr, DeviceID: 1, Insecure: true,
		Options: map[string]string{"ports": "1@veth0, 2@veth2, 255@cpu", "serial": "SN-BMV2"}}
	dev, err := bmv2.New().Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	pc := basic(t)
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity: driver.Identity{Vendor: "p4lang", Model: "bmv2 simple_switch_grpc", Serial: "SN-BMV2",
			SoftwareVersion: "P4Runtime " + p4rt.APIVersion},
		Ports:        []driver.Port{{Name: "veth0", ID: 1}, {Name: "veth2", ID: 2}, {Name: "cpu", ID: 255}},
		Protocols:    []driver.Protocol{driver.P4Runtime},
		Pipeconf:     pc,
		DeviceConfig: pc.DeviceConfigs[pipeline.TargetBMv2],
		Unsupported:  []drivertest.Behaviour{drivertest.Clock, drivertest.Reboot, drivertest.Install},
	})
	if s := srv.Schema(); s == nil {
		t.Fatal("no pipeline committed on the switch")
	}
}

func TestBMv2DefaultsAndNoPorts(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serveP4Runtime(t, 3)
	dev, err := bmv2.New().Open(ctx, driver.Spec{Name: "sw3", Address: addr, DeviceID: 3, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity:    driver.Identity{Vendor: "p4lang", Serial: "sw3"},
		Protocols:   []driver.Protocol{driver.P4Runtime},
		Unsupported: []drivertest.Behaviour{drivertest.Ports, drivertest.Clock, drivertest.Reboot, drivertest.Install},
	})
	_, err = dev.Ports(ctx)
	if !strings.Contains(err.Error(), `driver option "ports"`) {
		t.Fatalf("Ports error %q does not say what to do", err)
	}
	// No gNMI, so no openconfig-p4rt node ID to set: the device ID is
	// the one simple_switch_grpc was started with.
	if _, ok := dev.(driver.NodeIDSetter); ok {
		t.Fatal("a bmv2 device implements driver.NodeIDSetter")
	}
}

func TestBMv2PackageWithoutJSON(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serveP4Runtime(t, 1)
	dev, err := bmv2.New().Open(ctx, driver.Spec{Name: "sw", Address: addr, DeviceID: 1, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	sai, err := reg.Get(builtin.SAIMiddleblock) // P4Info only, no bmv2 JSON
	if err != nil {
		t.Fatal(err)
	}
	_, err = dev.PackagePipeconf(ctx, sai)
	if !errors.Is(err, pipeline.ErrNoDeviceConfig) || !strings.Contains(err.Error(), "sai-middleblock") {
		t.Fatalf("err = %v, want ErrNoDeviceConfig naming the pipeconf", err)
	}
	broken := *basic(t)
	broken.DeviceConfigs = map[string][]byte{pipeline.TargetBMv2: []byte("{not json")}
	if _, err := dev.PackagePipeconf(ctx, &broken); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("err = %v, want not JSON", err)
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []driver.Port
		err  string
	}{
		{in: "1,2,3", want: []driver.Port{{Name: "1", ID: 1}, {Name: "2", ID: 2}, {Name: "3", ID: 3}}},
		{in: "0-2", want: []driver.Port{{Name: "0", ID: 0}, {Name: "1", ID: 1}, {Name: "2", ID: 2}}},
		{in: "2@veth2, 1@veth0", want: []driver.Port{{Name: "veth0", ID: 1}, {Name: "veth2", ID: 2}}},
		{in: "1-2,255@cpu", want: []driver.Port{{Name: "1", ID: 1}, {Name: "2", ID: 2}, {Name: "cpu", ID: 255}}},
		{in: "4294967295", want: []driver.Port{{Name: "4294967295", ID: 4294967295}}},
		{in: "", err: "no ports"},
		{in: "x", err: `"x" is not a 32-bit`},
		{in: "1@", err: "no interface name"},
		{in: "3-1", err: "range"},
		{in: "0-4294967295", err: "range"},
		{in: "1,1", err: "given twice"},
		{in: "1@a,2@a", err: "given twice"},
		{in: "4294967296", err: "not a 32-bit"},
		{in: "-1", err: "not a 32-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := bmv2.ParsePorts(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := m.Ports()
			if len(got) != len(tt.want) {
				t.Fatalf("ports %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ports %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestBMv2OpenErrors(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serveP4Runtime(t, 1)
	tests := []struct {
		name string
		spec driver.Spec
		want string
	}{
		{"bad ports option", driver.Spec{Name: "s", Address: addr, Insecure: true, Options: map[string]string{"ports": "1,x"}}, "option ports"},
		{"no address", driver.Spec{Name: "s", Insecure: true}, "no address for p4runtime"},
		{"wrong device", driver.Spec{Name: "s", Address: addr, DeviceID: 9, Insecure: true}, "device 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, err := bmv2.New().Open(ctx, tt.spec)
			if err == nil {
				dev.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bmv2: ") {
				t.Fatalf("err = %v, want bmv2: ... %q", err, tt.want)
			}
		})
	}
}
