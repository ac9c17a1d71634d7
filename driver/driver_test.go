package driver_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/testbed"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPortMap(t *testing.T) {
	tests := []struct {
		name  string
		ports []driver.Port
		err   string
	}{
		{name: "sorted by ID", ports: []driver.Port{{"b", 2}, {"a", 1}, {"c", 0}}},
		{name: "empty", ports: nil},
		{name: "no name", ports: []driver.Port{{"", 1}}, err: "port 1 has no name"},
		{name: "name twice", ports: []driver.Port{{"a", 1}, {"a", 2}}, err: `name "a" given twice`},
		{name: "ID twice", ports: []driver.Port{{"a", 1}, {"b", 1}}, err: "port ID 1 given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := driver.NewPortMap(tt.ports)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Len() != len(tt.ports) {
				t.Fatalf("Len %d", m.Len())
			}
			got := m.Ports()
			if !slices.IsSortedFunc(got, func(a, b driver.Port) int { return int(a.ID) - int(b.ID) }) {
				t.Fatalf("not sorted: %v", got)
			}
			for _, p := range tt.ports {
				if id, ok := m.ID(p.Name); !ok || id != p.ID {
					t.Errorf("ID(%q) = %d %v", p.Name, id, ok)
				}
				if n, ok := m.Name(p.ID); !ok || n != p.Name {
					t.Errorf("Name(%d) = %q %v", p.ID, n, ok)
				}
			}
			if _, ok := m.ID("nope"); ok {
				t.Error("ID of an unknown name")
			}
		})
	}
	var nilMap *driver.PortMap
	if nilMap.Len() != 0 || nilMap.Ports() != nil {
		t.Fatal("nil map not empty")
	}
	if _, ok := nilMap.Name(1); ok {
		t.Fatal("nil map has a port")
	}
}

func TestWithDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":      "10.0.0.1:9559",
		"10.0.0.1:1234": "10.0.0.1:1234",
		"::1":           "[::1]:9559",
		"[::1]":         "[::1]:9559",
		"[::1]:50051":   "[::1]:50051",
		"switch1":       "switch1:9559",
		"":              "",
	} {
		if got := driver.WithDefaultPort(in, 9559); got != want {
			t.Errorf("WithDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpec(t *testing.T) {
	spec := driver.Spec{Name: "s", Address: "10.0.0.1", Insecure: true,
		Addresses: map[driver.Protocol]string{driver.GNMI: "10.0.0.2:9339"}, Options: map[string]string{"a": "b"}}
	eps, err := spec.Endpoints(9559, driver.P4Runtime, driver.GNMI)
	if err != nil {
		t.Fatal(err)
	}
	if eps[driver.P4Runtime].Address != "10.0.0.1:9559" || eps[driver.GNMI].Address != "10.0.0.2:9339" || !eps[driver.GNMI].Insecure {
		t.Fatalf("endpoints %+v", eps)
	}
	if _, ok := eps[driver.GNOI]; ok {
		t.Fatal("gNOI endpoint not asked for")
	}
	c := spec.Clone()
	c.Options["a"] = "changed"
	c.Addresses[driver.GNMI] = "x"
	if spec.Options["a"] != "b" || spec.Addresses[driver.GNMI] != "10.0.0.2:9339" {
		t.Fatal("Clone shares maps")
	}
	if spec.Option("a", "z") != "b" || spec.Option("missing", "z") != "z" {
		t.Fatal("Option")
	}
	for _, tt := range []struct {
		spec driver.Spec
		want string
	}{
		{driver.Spec{Address: "a", Insecure: true}, "no name"},
		{driver.Spec{Name: "s", Address: "a"}, "TLS or Insecure"},
		{driver.Spec{Name: "s", Insecure: true}, "no address for p4runtime"},
		{driver.Spec{Name: "s", Address: "a", Insecure: true, Addresses: map[driver.Protocol]string{"snmp": "x"}}, `unknown protocol "snmp"`},
	} {
		err := tt.spec.Validate(driver.P4Runtime)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
	for in, want := range map[string]driver.Protocol{"P4Runtime": driver.P4Runtime, " gnmi ": driver.GNMI, "gNOI": driver.GNOI} {
		if p, err := driver.ParseProtocol(in); err != nil || p != want {
			t.Errorf("ParseProtocol(%q) = %v, %v", in, p, err)
		}
	}
	if _, err := driver.ParseProtocol("driver"); err == nil {
		t.Error("ParseProtocol accepted the driver link")
	}
}

type fakeDriver struct{ name string }

func (f fakeDriver) Name() string { return f.name }
func (f fakeDriver) Open(context.Context, driver.Spec) (driver.Device, error) {
	return nil, errors.New("fake")
}

func TestRegistry(t *testing.T) {
	r, err := driver.NewRegistry(fakeDriver{"b"}, fakeDriver{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Register(fakeDriver{"a"}); err == nil || !strings.Contains(err.Error(), `"a" is already registered`) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := r.Register(fakeDriver{""}); err == nil {
		t.Fatal("registered a driver without a name")
	}
	if err := r.Register(nil); err == nil {
		t.Fatal("registered nil")
	}
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("names %v", got)
	}
	_, err = r.Open(context.Background(), driver.Spec{Name: "x", Driver: "zz"})
	if !errors.Is(err, driver.ErrUnknownDriver) || !strings.Contains(err.Error(), "have a, b") {
		t.Fatalf("unknown driver: %v", err)
	}
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); !slices.Equal(got, []string{"bmv2", "emulated", "stratum"}) {
		t.Fatalf("built-ins %v", got)
	}
	if err := builtin.Register(reg); err == nil {
		t.Fatal("registered the built-ins twice")
	}
}

func startSwitch(t *testing.T) *testbed.Switch {
	t.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	return sw
}

// TestMastershipEvents: another controller outranks the device's client
// and gives way again.
func TestMastershipEvents(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	reg, err := builtin.Registry(driver.WithHealthCheck(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := reg.Open(ctx, driver.Spec{Name: "leaf1", Driver: "emulated", Address: sw.Addr(), DeviceID: 1, Insecure: true,
		ElectionID: client.ElectionID{Low: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ev, err := drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.Connected, driver.P4Runtime))
	if err != nil || ev.Mastership != client.Primary {
		t.Fatalf("%v %v", ev, err)
	}
	other, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(1), client.WithElectionID(client.ElectionID{Low: 20}))
	if err != nil {
		t.Fatal(err)
	}
	ev, err = drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.MastershipChanged, driver.P4Runtime))
	if err != nil || ev.Mastership != client.Backup {
		t.Fatalf("%v %v", ev, err)
	}
	if !strings.Contains(ev.String(), "leaf1 p4runtime mastership (backup)") {
		t.Fatalf("String %q", ev.String())
	}
	other.Close()
	c, _ := dev.P4Runtime()
	if err := c.TakeOver(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err = drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.MastershipChanged, driver.P4Runtime))
	if err != nil || ev.Mastership != client.Primary {
		t.Fatalf("%v %v", ev, err)
	}
}

// TestEventsBufferKeepsLatest: a reader that falls behind loses the
// oldest events, never the latest.
func TestEventsBufferKeepsLatest(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	dev, err := driver.Connect(ctx, driver.Spec{Name: "leaf1", DeviceID: 1},
		driver.Endpoints{driver.GNMI: {Address: sw.Addr(), Insecure: true}},
		driver.WithEventBuffer(1), driver.WithHealthCheck(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	// The buffer holds the initial Connected event; two more arrive.
	dev.Publish(driver.Event{Kind: driver.Disconnected, Protocol: driver.ProtocolDriver, Err: errors.New("first")})
	dev.Publish(driver.Event{Kind: driver.Connected, Protocol: driver.ProtocolDriver})
	ev := <-dev.Events()
	if ev.Kind != driver.Connected || ev.Protocol != driver.ProtocolDriver || ev.Device != "leaf1" || ev.Time.IsZero() {
		t.Fatalf("kept %v, want the latest", ev)
	}
	select {
	case ev := <-dev.Events():
		t.Fatalf("more than the buffer: %v", ev)
	default:
	}
	if !dev.Up(driver.GNMI) || dev.Up(driver.P4Runtime) {
		t.Fatal("Up")
	}
	if _, err := dev.P4Runtime(); !errors.Is(err, driver.ErrUnsupported) || !strings.Contains(err.Error(), "P4Runtime") {
		t.Fatalf("P4Runtime of a gNMI-only connection: %v", err)
	}
	dev.Close()
	dev.Publish(driver.Event{Kind: driver.Connected}) // after Close: dropped, no panic
	if _, ok := <-dev.Events(); ok {
		t.Fatal("events open after Close")
	}
}

func TestConnectErrors(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name string
		spec driver.Spec
		eps  driver.Endpoints
		want string
	}{
		{"no name", driver.Spec{}, driver.Endpoints{driver.GNMI: {Address: "x", Insecure: true}}, "without a name"},
		{"no endpoints", driver.Spec{Name: "s"}, nil, "no endpoints"},
		{"unknown protocol", driver.Spec{Name: "s"}, driver.Endpoints{"snmp": {Address: "x", Insecure: true}}, `unknown protocol "snmp"`},
		{"no address", driver.Spec{Name: "s"}, driver.Endpoints{driver.GNMI: {Insecure: true}}, "without an address"},
		{"no security", driver.Spec{Name: "s"}, driver.Endpoints{driver.GNMI: {Address: "x"}}, "TLS or Insecure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := driver.Connect(ctx, tt.spec, tt.eps)
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// fakeGNMI answers Get from a table of leaves, NOT_FOUND for a path it
// does not serve (and for the whole request, as Stratum does).
type fakeGNMI struct {
	gpb.UnimplementedGNMIServer
	leaves map[string]*gpb.TypedValue // full path (with keys) → value
	mu     sync.Mutex
	gets   int
}

func (f *fakeGNMI) Capabilities(context.Context, *gpb.CapabilityRequest) (*gpb.CapabilityResponse, error) {
	return &gpb.CapabilityResponse{}, nil
}

func (f *fakeGNMI) Get(_ context.Context, req *gpb.GetRequest) (*gpb.GetResponse, error) {
	f.mu.Lock()
	f.gets++
	f.mu.Unlock()
	resp := &gpb.GetResponse{}
	for _, p := range req.GetPath() {
		want, err := gnmi.PathString(p)
		if err != nil {
			return nil, err
		}
		n := &gpb.Notification{Timestamp: 1}
		for path, v := range f.leaves {
			if match(want, path) {
				pp, err := gnmi.ParsePath(path)
				if err != nil {
					return nil, err
				}
				n.Update = append(n.Update, &gpb.Update{Path: pp, Val: v})
			}
		}
		if len(n.Update) == 0 {
			return nil, status.Errorf(codes.NotFound, "path %s not found", want)
		}
		resp.Notification = append(resp.Notification, n)
	}
	return resp, nil
}

// match compares a path with [name=*] wildcards to a concrete one.
func match(pattern, path string) bool {
	pp, err1 := gnmi.ParsePath(pattern)
	pa, err2 := gnmi.ParsePath(path)
	if err1 != nil || err2 != nil || len(pp.GetElem()) != len(pa.GetElem()) {
		return false
	}
	for i, e := range pp.GetElem() {
		a := pa.GetElem()[i]
		if e.GetName() != a.GetName() {
			return false
		}
		for k, v := range e.GetKey() {
			if v != "*" && a.GetKey()[k] != v {
				return false
			}
		}
	}
	return true
}

func serveGNMI(t *testing.T, f *fakeGNMI) *gnmi.Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	gpb.RegisterGNMIServer(g, f)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	c, err := gnmi.Dial(lis.Addr().String(), gnmi.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func str(s string) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: s}}
}
func u64(v uint64) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: v}}
}

// TestOpenConfigHelpers: identity and ports from what different targets
// serve: everything, no components (Stratum's documented paths), ifindex
// only, nothing.
func TestOpenConfigHelpers(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name     string
		leaves   map[string]*gpb.TypedValue
		identity driver.Identity
		ports    []driver.Port
		portsErr string
	}{
		{
			name: "full",
			leaves: map[string]*gpb.TypedValue{
				"/components/component[name=chassis]/state/type":             str("openconfig-platform-types:CHASSIS"),
				"/components/component[name=chassis]/state/mfg-name":         str("Edgecore"),
				"/components/component[name=chassis]/state/part-no":          str("AS7712"),
				"/components/component[name=chassis]/state/description":      str("32x100G"),
				"/components/component[name=chassis]/state/serial-no":        str("EC1"),
				"/components/component[name=chassis]/state/software-version": str("old"),
				"/components/component[name=port1]/state/type":               str("PORT"),
				"/components/component[name=port1]/state/serial-no":          str("not me"),
				"/system/state/software-version":                             str("2.0"),
				"/interfaces/interface[name=1/1/1]/state/id":                 u64(260),
				"/interfaces/interface[name=1/1/2]/state/id":                 u64(261),
				"/interfaces/interface[name=1/1/1]/state/ifindex":            u64(1),
			},
			identity: driver.Identity{Vendor: "Edgecore", Model: "AS7712", Serial: "EC1", SoftwareVersion: "2.0"},
			ports:    []driver.Port{{Name: "1/1/1", ID: 260}, {Name: "1/1/2", ID: 261}},
		},
		{
			name: "stratum paths only",
			leaves: map[string]*gpb.TypedValue{
				"/interfaces/interface[name=1/1/1]/state/ifindex": u64(1),
				"/interfaces/interface[name=1/1/2]/state/ifindex": u64(2),
			},
			ports: []driver.Port{{Name: "1/1/1", ID: 1}, {Name: "1/1/2", ID: 2}},
		},
		{
			name: "JSON numbers",
			leaves: map[string]*gpb.TypedValue{
				"/interfaces/interface[name=eth1]/state/id": {Value: &gpb.TypedValue_JsonVal{JsonVal: []byte("7")}},
			},
			ports: []driver.Port{{Name: "eth1", ID: 7}},
		},
		{
			name:     "nothing",
			leaves:   map[string]*gpb.TypedValue{},
			portsErr: "no interface reports a port ID",
		},
		{
			name: "bad id",
			leaves: map[string]*gpb.TypedValue{
				"/interfaces/interface[name=eth1]/state/id": str("seven"),
			},
			portsErr: `port ID "seven" is not a number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveGNMI(t, &fakeGNMI{leaves: tt.leaves})
			id, err := driver.IdentityFromGNMI(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.identity {
				t.Errorf("identity %+v, want %+v", id, tt.identity)
			}
			m, err := driver.PortsFromGNMI(ctx, c)
			if tt.portsErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.portsErr) {
					t.Fatalf("ports err = %v, want %q", err, tt.portsErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Ports(); !slices.Equal(got, tt.ports) {
				t.Fatalf("ports %v, want %v", got, tt.ports)
			}
		})
	}
	// An unreachable target is an error, not an empty identity.
	dead := &fakeGNMI{}
	c := serveGNMI(t, dead)
	short, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	if _, err := driver.IdentityFromGNMI(short, c); err == nil {
		t.Fatal("identity with an expired context")
	}
	got := driver.CompleteIdentity(driver.Identity{Vendor: "V"}, driver.Spec{Options: map[string]string{"vendor": "ignored", "serial": "S"}},
		driver.Identity{Model: "M", Serial: "ignored", SoftwareVersion: "1"})
	if got != (driver.Identity{Vendor: "V", Model: "M", Serial: "S", SoftwareVersion: "1"}) {
		t.Fatalf("CompleteIdentity %+v", got)
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[driver.EventKind]string{driver.Connected: "connected", driver.Disconnected: "disconnected",
		driver.MastershipChanged: "mastership", driver.EventKind(9): "EventKind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
	ev := driver.Event{Device: "d", Kind: driver.Disconnected, Protocol: driver.GNMI, Err: errors.New("gone")}
	if ev.String() != "d gnmi disconnected: gone" {
		t.Errorf("%q", ev.String())
	}
}

// TestNodeIDHelpers: finding the chip and its node ID in what different
// targets serve, and the errors that name what is missing. (The Set
// itself is tested against emulated switches in driver/emulated and
// driver/stratum.)
func TestNodeIDHelpers(t *testing.T) {
	ctx := testCtx(t)
	const chassis, port = "/components/component[name=chassis]/state/type", "/components/component[name=port1]/state/type"
	tests := []struct {
		name    string
		leaves  map[string]*gpb.TypedValue
		chip    string
		chipErr string // also ErrUnsupported
		nodeID  uint64
	}{
		{
			name: "PINS style",
			leaves: map[string]*gpb.TypedValue{
				chassis: str("openconfig-platform-types:CHASSIS"),
				"/components/component[name=integrated_circuit0]/state/type":                       str("openconfig-platform-types:INTEGRATED_CIRCUIT"),
				"/components/component[name=integrated_circuit0]/integrated-circuit/state/node-id": {Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`"183930889"`)}},
			},
			chip: "integrated_circuit0", nodeID: 183930889,
		},
		{
			name: "config only, chip name with a slash",
			leaves: map[string]*gpb.TypedValue{
				"/components/component[name=chip/0]/state/type":                        str("INTEGRATED_CIRCUIT"),
				"/components/component[name=chip/0]/integrated-circuit/config/node-id": u64(9),
			},
			chip: "chip/0", nodeID: 9,
		},
		{
			name:    "no chip",
			leaves:  map[string]*gpb.TypedValue{chassis: str("CHASSIS"), port: str("PORT")},
			chipErr: "no component of type INTEGRATED_CIRCUIT in /components (types found: [CHASSIS PORT])",
		},
		{
			name: "two chips",
			leaves: map[string]*gpb.TypedValue{
				"/components/component[name=ic1]/state/type": str("INTEGRATED_CIRCUIT"),
				"/components/component[name=ic0]/state/type": str("INTEGRATED_CIRCUIT"),
			},
			chipErr: "2 components of type INTEGRATED_CIRCUIT (ic0, ic1)",
		},
		{
			name:    "no components",
			leaves:  map[string]*gpb.TypedValue{},
			chipErr: driver.PathComponentType + " is not served",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveGNMI(t, &fakeGNMI{leaves: tt.leaves})
			chip, err := driver.ChipFromGNMI(ctx, c)
			if tt.chipErr != "" {
				if !errors.Is(err, driver.ErrUnsupported) || !strings.Contains(err.Error(), tt.chipErr) {
					t.Fatalf("chip err = %v, want ErrUnsupported saying %q", err, tt.chipErr)
				}
				if err := driver.SetNodeIDGNMI(ctx, "leaf1", c, 7); !errors.Is(err, driver.ErrUnsupported) || !strings.Contains(err.Error(), "device leaf1: set node ID 7") {
					t.Fatalf("SetNodeIDGNMI err = %v, want ErrUnsupported naming the device", err)
				}
				return
			}
			if err != nil || chip != tt.chip {
				t.Fatalf("chip %q, %v; want %q", chip, err, tt.chip)
			}
			id, err := driver.NodeIDFromGNMI(ctx, c, chip)
			if err != nil || id != tt.nodeID {
				t.Fatalf("node ID %d, %v; want %d", id, err, tt.nodeID)
			}
			// The chip has the ID already: nothing is sent (this target
			// has no Set at all).
			if err := driver.SetNodeIDGNMI(ctx, "leaf1", c, tt.nodeID); err != nil {
				t.Fatalf("setting the current node ID: %v", err)
			}
			// Another ID needs a Set, which this target does not
			// implement.
			if err := driver.SetNodeIDGNMI(ctx, "leaf1", c, tt.nodeID+1); !errors.Is(err, driver.ErrUnsupported) || !strings.Contains(err.Error(), "integrated-circuit/config/node-id") {
				t.Fatalf("SetNodeIDGNMI on a target without Set: %v", err)
			}
		})
	}
}
