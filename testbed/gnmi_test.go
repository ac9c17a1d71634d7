package testbed_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/testbed"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
	"github.com/p4fabric/fabric/testbed/topology"
)

func gnmiDial(t *testing.T, sw *testbed.Switch, opts ...gnmiclient.Option) *gnmiclient.Client {
	t.Helper()
	c, err := gnmiclient.Dial(sw.Addr(), append([]gnmiclient.Option{gnmiclient.WithInsecure(),
		gnmiclient.WithReconnectBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func gnmiSubscribe(t *testing.T, ctx context.Context, c *gnmiclient.Client, req gnmiclient.SubscribeRequest) *gnmiclient.SubscribeStream {
	t.Helper()
	st, err := c.Subscribe(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// until reads events until one update satisfies ok. It also returns
// whether a disconnection was seen on the way.
func until(t *testing.T, st *gnmiclient.SubscribeStream, what string, ok func(gnmiclient.Update) bool) (gnmiclient.Update, bool) {
	t.Helper()
	disconnected := false
	for {
		ev, err := st.Recv(context.Background())
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ev.Disconnected != nil {
			disconnected = true
		}
		for _, u := range ev.Updates {
			if ok(u) {
				return u, disconnected
			}
		}
	}
}

// untilAll reads events until the latest values of the given paths are
// all as wanted (leaves that move together may arrive in any order).
func untilAll(t *testing.T, st *gnmiclient.SubscribeStream, want map[string]any) {
	t.Helper()
	latest := map[string]string{}
	for {
		done := true
		for p, v := range want {
			done = done && latest[p] == fmt.Sprint(v)
		}
		if done {
			return
		}
		ev, err := st.Recv(context.Background())
		if err != nil {
			t.Fatalf("waiting for %v (latest %v): %v", want, latest, err)
		}
		for _, u := range ev.Updates {
			latest[u.Path] = fmt.Sprint(u.Value)
		}
	}
}

func leafIs(path string, value any) func(gnmiclient.Update) bool {
	return func(u gnmiclient.Update) bool { return u.Path == path && fmt.Sprint(u.Value) == fmt.Sprint(value) }
}

const eth1Oper = "/interfaces/interface[name=eth1]/state/oper-status"

func TestGNMIAdminDownTakesBothEndsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// leaf1:1 <-> spine1:1
	tb, err := testbed.Start(topology.LeafSpine(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	var mu sync.Mutex
	var events []testbed.PortEvent
	defer tb.OnPortChange(func(ev testbed.PortEvent) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	})()

	leaf, spine := tb.Switch("leaf1"), tb.Switch("spine1")
	req := gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{{Path: eth1Oper, Mode: gnmiclient.OnChange}}}
	leafSub := gnmiSubscribe(t, ctx, gnmiDial(t, leaf), req)
	spineSub := gnmiSubscribe(t, ctx, gnmiDial(t, spine), req)
	until(t, leafSub, "leaf1 eth1 up", leafIs(eth1Oper, "UP"))
	until(t, spineSub, "spine1 eth1 up", leafIs(eth1Oper, "UP"))

	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"SetPortAdmin down on leaf1", func() error { return tb.SetPortAdmin("leaf1", 1, false) }, "DOWN"},
		{"SetPortAdmin up again", func() error { return leaf.SetPortAdmin(1, true) }, "UP"},
		{"gNMI Set enabled=false on spine1", func() error {
			_, err := gnmiDial(t, spine).Set(ctx, gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/enabled", false))
			return err
		}, "DOWN"},
		{"gNMI delete restores enabled", func() error {
			_, err := gnmiDial(t, spine).Set(ctx, gnmiclient.SetDelete("/interfaces/interface[name=eth1]/config/enabled"))
			return err
		}, "UP"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// Both ends report the change on change.
		until(t, leafSub, st.name+": leaf1 eth1 "+st.want, leafIs(eth1Oper, st.want))
		until(t, spineSub, st.name+": spine1 eth1 "+st.want, leafIs(eth1Oper, st.want))
		for _, sw := range []*testbed.Switch{leaf, spine} {
			if up, _ := sw.PortOper(1); up != (st.want == "UP") {
				t.Fatalf("%s: %s PortOper(1) = %v", st.name, sw.Name(), up)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// Four changes, each of both ends (the listener came after the start).
	var mine []string
	for _, ev := range events {
		mine = append(mine, fmt.Sprintf("%s:%d:%v", ev.Switch, ev.Port, ev.OperUp))
	}
	if len(events) != 8 {
		t.Fatalf("port events = %v, want 8", mine)
	}
}

func TestGNMIPortDownDropsPackets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	leaf, spine := tb.Switch("leaf1"), tb.Switch("spine1")
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	ctl := connect(t, ctx, leaf, creds)
	ctl.setPipeline(ctx, "onos-basic")
	spineCtl := connect(t, ctx, spine, creds)
	spineCtl.setPipeline(ctx, "onos-basic")

	leafCounters := gnmiSubscribe(t, ctx, gnmiDial(t, leaf), gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/interfaces/interface[name=eth1]/state/counters", Mode: gnmiclient.OnChange}}})
	spineCounters := gnmiSubscribe(t, ctx, gnmiDial(t, spine), gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/interfaces/interface[name=eth1]/state/counters", Mode: gnmiclient.OnChange}}})

	send := func(payload string) {
		t.Helper()
		err := ctl.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
			Payload: []byte(payload), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{1}}, {MetadataId: 2, Value: []byte{0}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	const prefix = "/interfaces/interface[name=eth1]/state/counters/"
	// Counters move with the packets the switch handles.
	for _, p := range []string{"one", "three", "seven!!"} {
		send(p)
		spineCtl.packetIn()
	}
	untilAll(t, leafCounters, map[string]any{prefix + "out-pkts": 3, prefix + "out-octets": 15})
	untilAll(t, spineCounters, map[string]any{prefix + "in-pkts": 3, prefix + "in-octets": 15})
	recs, err := gnmiDial(t, spine).Get(ctx, []string{prefix + "in-octets"}, gnmiclient.GetEncoding(gpb.Encoding_PROTO))
	if err != nil || len(recs) != 1 || recs[0].Value != uint64(15) {
		t.Fatalf("spine1 in-octets: %v, %v", recs, err)
	}

	// A port that is down sends nothing: the packet-out is discarded.
	if err := spine.SetPortAdmin(1, false); err != nil {
		t.Fatal(err)
	}
	send("lost")
	until(t, leafCounters, "out-discards 1", leafIs(prefix+"out-discards", 1))
	if st, _ := leaf.PortStats(1); st.TxPackets != 3 || st.OutDiscards != 1 || st.Drops != 1 {
		t.Fatalf("leaf1 port 1 = %+v", st)
	}
	if st, _ := spine.PortStats(1); st.RxPackets != 3 {
		t.Fatalf("spine1 port 1 = %+v", st)
	}
	// Nor does it deliver what a host sends into it.
	if spine.Receive(1, []byte("x")) {
		t.Fatal("a down port delivered a packet")
	}
	until(t, spineCounters, "in-discards 1", leafIs(prefix+"in-discards", 1))
}

func TestGNMIConfigSurvivesRestartAndReboot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	sw := tb.Switch("leaf1")
	c := gnmiDial(t, sw)
	const desc = "/interfaces/interface[name=eth1]/config/description"
	if _, err := c.Set(ctx,
		gnmiclient.SetUpdate(desc, "to spine1"),
		gnmiclient.SetUpdate("/system/ntp", map[string]any{"config": map[string]any{"enabled": true},
			"servers": map[string]any{"server": []any{map[string]any{"address": "127.0.0.1", "config": map[string]any{"port": 10123}}}}}),
	); err != nil {
		t.Fatal(err)
	}
	// One STREAM subscription across everything that follows.
	st := gnmiSubscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: desc, Mode: gnmiclient.OnChange},
		{Path: "/messages", Mode: gnmiclient.OnChange},
		{Path: "/system/state/boot-time", Mode: gnmiclient.OnChange},
	}})
	until(t, st, "the description", leafIs(desc, "to spine1"))

	restarts := []struct {
		name    string
		restart func() error
		boot    string // text of the SYSTEM_BOOT message
	}{
		{"Restart", sw.Restart, "System booted (boot 2)"},
		{"Reboot", func() error {
			if err := sw.Reboot(20*time.Millisecond, "test reboot"); err != nil {
				return err
			}
			if sw.Running() {
				return fmt.Errorf("still running during the downtime")
			}
			return sw.WaitRunning(ctx)
		}, "System booted (boot 3), software version \"\", after a reboot: test reboot"},
	}
	for _, r := range restarts {
		ctl := connect(t, ctx, sw, grpc.WithTransportCredentials(insecure.NewCredentials()))
		ctl.setPipeline(ctx, "onos-basic")
		if err := r.restart(); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		// The subscription comes back by itself: the current values
		// again, with the configuration intact and the boot announced.
		_, disc := until(t, st, r.name+": boot message", func(u gnmiclient.Update) bool {
			return u.Path == "/messages/state/message/msg" && strings.HasPrefix(fmt.Sprint(u.Value), r.boot)
		})
		if !disc {
			t.Fatalf("%s: no disconnection reported", r.name)
		}
		got, err := c.Get(ctx, []string{desc, "/system/ntp/servers/server[address=127.0.0.1]/state/port"}, gnmiclient.GetEncoding(gpb.Encoding_PROTO))
		if err != nil || len(got) != 2 || got[0].Value != "to spine1" || got[1].Value != uint64(10123) {
			t.Fatalf("%s: configuration after: %v, %v", r.name, got, err)
		}
		if cfg := sw.GNMI().Config(); !cfg.NTP.Enabled || len(cfg.NTP.Servers) != 1 {
			t.Fatalf("%s: NTP config lost: %+v", r.name, cfg.NTP)
		}
		// The P4Runtime state did not survive.
		c2 := connect(t, ctx, sw, grpc.WithTransportCredentials(insecure.NewCredentials()))
		resp, err := c2.client.GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{DeviceId: c2.dev})
		if err == nil && resp.GetConfig().GetP4Info() != nil {
			t.Fatalf("%s: the pipeline survived", r.name)
		}
		c2.close()
		// The port came back up at both ends.
		if up, _ := tb.Switch("spine1").PortOper(1); !up {
			t.Fatalf("%s: spine1 port 1 still down", r.name)
		}
	}
	if err := sw.Reboot(0, ""); err != nil {
		t.Fatal(err)
	}
	sw.Stop() // cancels the pending start
	if err := tb.Switch("spine1").WaitRunning(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if err := sw.WaitRunning(short); err == nil {
		t.Fatal("a stopped switch came back from a cancelled reboot")
	}
	if err := sw.Reboot(0, ""); err == nil {
		t.Fatal("Reboot of a stopped switch: want an error")
	}
}

func TestGNMICredentialsFromTopology(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topo, err := topology.Parse([]byte("switches: [{name: s1, ports: 2, credentials: {username: admin, password: pw}}]"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	sw := tb.Switch("s1")
	if _, err := gnmiDial(t, sw).Get(ctx, []string{"/system"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without credentials: %v", err)
	}
	if _, err := gnmiDial(t, sw, gnmiclient.WithCredentials("admin", "pw")).Get(ctx, []string{"/system"}); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	// P4Runtime is not affected.
	connect(t, ctx, sw, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

func TestSwitchServicesAndSetup(t *testing.T) {
	var calls sync.Map
	tb, err := testbed.Start(topology.LeafSpine(1, 1), testbed.WithSetup(func(sw *testbed.Switch) error {
		sw.AddService(func(*grpc.Server) {
			n, _ := calls.LoadOrStore(sw.Name(), new(int))
			*n.(*int)++
		})
		return nil
	}), testbed.WithGNMIOptions(gnmisrv.WithMinSampleInterval(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if err := tb.Switch("leaf1").Restart(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"leaf1": 2, "spine1": 1} {
		n, ok := calls.Load(name)
		if !ok || *n.(*int) != want {
			t.Errorf("%s: service registered %v times, want %d", name, n, want)
		}
	}
	sw := tb.Switch("spine1")
	sw.SetSoftwareVersion("2.0")
	if sw.Identity().SoftwareVersion != "2.0" || sw.GNMI().SoftwareVersion() != "2.0" {
		t.Fatal("software version not updated")
	}
	if _, err := testbed.Start(topology.LeafSpine(1, 1), testbed.WithSetup(func(*testbed.Switch) error { return fmt.Errorf("no") })); err == nil {
		t.Fatal("a failing setup must stop Start")
	}
}
