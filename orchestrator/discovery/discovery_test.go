package discovery_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
)

func ep(dev string, port uint32) discovery.Endpoint {
	return discovery.Endpoint{Device: dev, Port: port}
}

// TestDiscoverLeafSpine discovers every link of a LeafSpine(2,3) on each
// built-in program: the punt rule is on every box while discovery runs
// and gone after Stop, and only our probes were seen.
func TestDiscoverLeafSpine(t *testing.T) {
	for _, program := range []string{builtin.FabricV1Model, builtin.ONOSBasic, builtin.SAIMiddleblock} {
		t.Run(program, func(t *testing.T) {
			b := startBed(t, 2, 3, program)
			d := b.start(t, discovery.WithInterval(200*time.Millisecond))
			w := watchEvents(d)
			want := b.links()
			if len(want) != 6 {
				t.Fatalf("topology has %d links, want 6", len(want))
			}
			w.links(t, want)
			for _, dev := range b.devices {
				if !b.hasPunt(t, dev) {
					t.Errorf("%s: no punt rule while discovering", dev.ID)
				}
			}
			st := d.Stats()
			if st.ProbesSent == 0 || st.ProbesReceived == 0 || st.Foreign+st.Malformed+st.Other+st.Unknown+st.SendErrors != 0 {
				t.Errorf("stats %+v", st)
			}
			if err := d.Stop(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			for _, dev := range b.devices {
				if b.hasPunt(t, dev) {
					t.Errorf("%s: punt rule left after Stop", dev.ID)
				}
			}
			if _, ok := <-d.Events(); ok {
				t.Error("events not closed after Stop")
			}
			if err := d.Stop(testCtx(t)); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

// TestPortDown loses the links of a port that PortDown names, ignores the
// port until PortUp, and finds the link again after PortUp.
func TestPortDown(t *testing.T) {
	b := startBed(t, 2, 3, builtin.FabricV1Model)
	// No probe rounds: only the first probes and their answers, and the
	// probe PortUp sends.
	d := b.start(t, discovery.WithTicker(make(chan time.Time)))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)

	tests := []struct {
		name string
		down discovery.Endpoint
		link discovery.Link
	}{
		{"leaf end", ep("leaf1", 1), discovery.NewLink(ep("leaf1", 1), ep("spine1", 1))},
		{"spine end", ep("spine2", 3), discovery.NewLink(ep("leaf3", 2), ep("spine2", 3))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.PortDown(tc.down.Device, tc.down.Port); err != nil {
				t.Fatal(err)
			}
			w.event(t, discovery.LinkLost, tc.link, discovery.ReasonPortDown)
			if got, want := d.Links(), without(all, tc.link); !slices.Equal(got, want) {
				t.Fatalf("Links() = %v, want %v", got, want)
			}
			if err := d.PortDown(tc.down.Device, tc.down.Port); err != nil {
				t.Fatalf("second PortDown: %v", err)
			}
			if err := d.PortUp(tc.down.Device, tc.down.Port); err != nil {
				t.Fatal(err)
			}
			w.event(t, discovery.LinkDiscovered, tc.link, "")
			if got := d.Links(); !slices.Equal(got, all) {
				t.Fatalf("Links() = %v, want %v", got, all)
			}
		})
	}
}

// TestAdminDown takes a port down on the switch (gNMI admin state): the
// testbed drops packets on it and reports the operational change, which
// the test hands to PortDown and PortUp as the orchestrator does with gNMI
// on-change notifications.
func TestAdminDown(t *testing.T) {
	b := startBed(t, 2, 3, builtin.FabricV1Model)
	d := b.start(t, discovery.WithInterval(100*time.Millisecond))
	w := watchEvents(d)
	remove := b.tb.OnPortChange(func(ev testbed.PortEvent) {
		if ev.OperUp {
			_ = d.PortUp(ev.Switch, ev.Port)
		} else {
			_ = d.PortDown(ev.Switch, ev.Port)
		}
	})
	defer remove()
	all := b.links()
	w.links(t, all)

	link := discovery.NewLink(ep("leaf2", 2), ep("spine2", 2))
	if err := b.tb.SetPortAdmin("leaf2", 2, false); err != nil {
		t.Fatal(err)
	}
	w.event(t, discovery.LinkLost, link, discovery.ReasonPortDown)
	w.links(t, without(all, link))
	if err := b.tb.SetPortAdmin("leaf2", 2, true); err != nil {
		t.Fatal(err)
	}
	w.event(t, discovery.LinkDiscovered, link, "")
	w.links(t, all)
}

// TestProbeTimeout stops the probes of one link on the switch without
// telling the Discovery: with an injected clock and ticker, the link
// survives missed-probes rounds and is lost by the round after.
func TestProbeTimeout(t *testing.T) {
	b := startBed(t, 2, 3, builtin.FabricV1Model)
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ticks := make(chan time.Time)
	const missed = 2
	d, verdicts := b.startHooked(t, discovery.WithClock(clock), discovery.WithTicker(ticks),
		discovery.WithInterval(time.Second), discovery.WithMissedProbes(missed))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)

	dead := discovery.NewLink(ep("leaf1", 1), ep("spine1", 1))
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	lostAt := 0
	for k := 1; k <= missed+2 && lostAt == 0; k++ {
		mu.Lock()
		now = now.Add(time.Second)
		at := now
		mu.Unlock()
		select {
		case ticks <- at:
		case <-time.After(testTimeout / 2):
			t.Fatal("probe loop does not take ticks")
		}
		// The round's probes arrive on every linked port but the two
		// ends of the dead link.
		for range 2*len(all) - 2 {
			waitVerdict(t, verdicts, func(v verdict) bool { return v.what == "probe" && v.sent.Equal(at) })
		}
		if !slices.Contains(d.Links(), dead) {
			lostAt = k
		}
	}
	// The first probes may still be arriving when the clock first moves,
	// which refreshes one direction by one round.
	if lostAt < missed+1 {
		t.Fatalf("link lost after %d rounds, want %d or %d", lostAt, missed+1, missed+2)
	}
	if lostAt == 0 {
		t.Fatalf("link not lost after %d rounds", missed+2)
	}
	w.event(t, discovery.LinkLost, dead, discovery.ReasonTimeout)
	if got, want := d.Links(), without(all, dead); !slices.Equal(got, want) {
		t.Fatalf("Links() = %v, want %v", got, want)
	}
}

// TestProbeTimeoutRealTime is TestProbeTimeout on the real clock with a
// short interval: the link is lost by timeout, and the others stay (or
// come back, on a machine too loaded to keep up), and it stays lost.
func TestProbeTimeoutRealTime(t *testing.T) {
	b := startBed(t, 1, 2, builtin.ONOSBasic)
	d := b.start(t, discovery.WithInterval(50*time.Millisecond), discovery.WithMissedProbes(4))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)
	dead := discovery.NewLink(ep("leaf2", 1), ep("spine1", 2))
	if err := b.tb.SetPortAdmin("spine1", 2, false); err != nil {
		t.Fatal(err)
	}
	// Other links may flap on a machine too loaded to keep up: skip
	// their events.
	for lost := false; !lost; {
		ev := w.next(t)
		lost = ev.Kind == discovery.LinkLost && ev.Link == dead
		if lost && ev.Reason != discovery.ReasonTimeout {
			t.Fatalf("%v, want reason %s", ev, discovery.ReasonTimeout)
		}
	}
	if slices.Contains(d.Links(), dead) {
		t.Fatalf("Links() = %v, still with %v", d.Links(), dead)
	}
}

// TestIgnored injects frames on a switch port: only this Discovery's
// probes from known, up ports count; the rest is ignored and counted, and
// the links do not change.
func TestIgnored(t *testing.T) {
	b := startBed(t, 1, 2, builtin.FabricV1Model)
	d, verdicts := b.startHooked(t, discovery.WithTicker(make(chan time.Time)))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)
	spine := b.tb.Switch("spine1")
	fp := d.Fingerprint()

	mustProbe := func(p discovery.Probe) []byte {
		b, err := p.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mustLLDP := func(f lldp.Frame) []byte {
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hostLLDP := lldp.Frame{ChassisSubtype: 4, ChassisID: []byte{2, 0, 0, 0, 0, 9}, PortSubtype: 3, PortID: []byte{2, 0, 0, 0, 0, 9}, TTL: 120}
	otherOrg := lldp.Frame{ChassisSubtype: 7, ChassisID: []byte("leaf1"), PortSubtype: 7, PortID: []byte("1"), TTL: 9,
		Org: []lldp.OrgTLV{{OUI: discovery.OUI, Subtype: discovery.SubtypeProbe, Info: []byte("short")}}}
	ipv4 := append(append([]byte{}, lldp.NearestBridge...), 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0)
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"other controller", mustProbe(discovery.Probe{Device: "leaf1", Port: 1, Fingerprint: fp + 1, Sent: time.Now()}), "foreign"},
		{"host LLDP", mustLLDP(hostLLDP), "foreign"},
		{"bad probe TLV", mustLLDP(otherOrg), "foreign"},
		{"truncated LLDP", mustLLDP(hostLLDP)[:20], "malformed"},
		{"non-decimal port", mustLLDP(lldp.Frame{ChassisSubtype: 7, ChassisID: []byte("leaf1"), PortSubtype: 7, PortID: []byte("01"),
			Org: []lldp.OrgTLV{{OUI: discovery.OUI, Subtype: discovery.SubtypeProbe, Info: make([]byte, 16)}}}), "malformed"},
		{"not LLDP", ipv4, "other"},
		{"unknown device", mustProbe(discovery.Probe{Device: "ghost", Port: 1, Fingerprint: fp}), "unknown"},
		{"unknown port", mustProbe(discovery.Probe{Device: "leaf1", Port: 9, Fingerprint: fp}), "unknown"},
		{"from itself", mustProbe(discovery.Probe{Device: "spine1", Port: 1, Fingerprint: fp}), "unknown"},
	}
	var want discovery.Stats
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !spine.Receive(1, tc.frame) {
				t.Fatal("switch did not punt the frame")
			}
			// The first probes may still be arriving: skip them.
			v := waitVerdict(t, verdicts, func(v verdict) bool { return v.device == "spine1" && v.what != "probe" })
			if v.what != tc.want {
				t.Fatalf("verdict %q, want %q", v.what, tc.want)
			}
			switch tc.want {
			case "foreign":
				want.Foreign++
			case "malformed":
				want.Malformed++
			case "other":
				want.Other++
			case "unknown":
				want.Unknown++
			}
		})
	}
	st := d.Stats()
	if st.Foreign != want.Foreign || st.Malformed != want.Malformed || st.Other != want.Other || st.Unknown != want.Unknown {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if got := d.Links(); !slices.Equal(got, all) {
		t.Fatalf("Links() = %v, want %v", got, all)
	}
}

// TestSecret signs probes: links are found, and probes without the right
// signature, or too old, are foreign.
func TestSecret(t *testing.T) {
	secret := []byte("chassis secret")
	b := startBed(t, 1, 2, builtin.FabricV1Model)
	d, verdicts := b.startHooked(t, discovery.WithSecret(secret), discovery.WithTicker(make(chan time.Time)),
		discovery.WithInterval(time.Second), discovery.WithMissedProbes(3))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)
	spine := b.tb.Switch("spine1")
	// leaf2:1 is cabled to spine1:2: a valid probe from it on spine1:2
	// refreshes the link.
	from := discovery.Probe{Device: "leaf2", Port: 1, Fingerprint: d.Fingerprint()}
	tests := []struct {
		name   string
		secret []byte
		sent   time.Duration // before now
		want   string
	}{
		{"unsigned", nil, 0, "foreign"},
		{"other secret", []byte("guess"), 0, "foreign"},
		{"replayed", secret, time.Hour, "foreign"},
		{"signed", secret, 0, "probe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := from
			p.Sent = time.Now().Add(-tc.sent)
			frame, err := p.Marshal(tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			if !spine.Receive(2, frame) {
				t.Fatal("switch did not punt the frame")
			}
			// Skip the first probes, which may still be arriving.
			v := waitVerdict(t, verdicts, func(v verdict) bool {
				return v.device == "spine1" && (v.what != "probe" || v.sent.Equal(p.Sent))
			})
			if v.what != tc.want {
				t.Fatalf("verdict %q, want %q", v.what, tc.want)
			}
		})
	}
	if got := d.Links(); !slices.Equal(got, all) {
		t.Fatalf("Links() = %v, want %v", got, all)
	}
}

// TestNeighborChanged: a probe from another port arriving at a port (the
// cable moved) loses the port's link.
func TestNeighborChanged(t *testing.T) {
	b := startBed(t, 1, 2, builtin.FabricV1Model)
	d := b.start(t, discovery.WithTicker(make(chan time.Time)))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)
	frame, err := discovery.Probe{Device: "leaf2", Port: 1, Fingerprint: d.Fingerprint(), Sent: time.Now()}.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.tb.Switch("spine1").Receive(1, frame) {
		t.Fatal("switch did not punt the frame")
	}
	w.event(t, discovery.LinkLost, discovery.NewLink(ep("leaf1", 1), ep("spine1", 1)), discovery.ReasonNeighborChanged)
}

// TestRemove loses a removed device's links and deletes its punt rule.
func TestRemove(t *testing.T) {
	b := startBed(t, 1, 2, builtin.FabricV1Model)
	d := b.start(t, discovery.WithTicker(make(chan time.Time)))
	w := watchEvents(d)
	all := b.links()
	w.links(t, all)
	if err := d.Remove(testCtx(t), "leaf1"); err != nil {
		t.Fatal(err)
	}
	lost := discovery.NewLink(ep("leaf1", 1), ep("spine1", 1))
	w.event(t, discovery.LinkLost, lost, discovery.ReasonDeviceRemoved)
	if got, want := d.Links(), without(all, lost); !slices.Equal(got, want) {
		t.Fatalf("Links() = %v, want %v", got, want)
	}
	if b.hasPunt(t, b.devices[1]) {
		t.Fatal("punt rule left on the removed device")
	}
	if err := d.Remove(testCtx(t), "leaf1"); !errors.Is(err, discovery.ErrUnknownDevice) {
		t.Fatalf("second Remove = %v, want ErrUnknownDevice", err)
	}
	// Back again: the link comes back with the first probes.
	if err := d.Add(testCtx(t), b.devices[1]); err != nil {
		t.Fatal(err)
	}
	w.event(t, discovery.LinkDiscovered, lost, "")
}

// TestPuntRuleKept: a punt rule that was on the device before Add stays
// after Stop; the device without a pipeliner gets none.
func TestPuntRuleKept(t *testing.T) {
	b := startBed(t, 1, 2, builtin.FabricV1Model)
	spine, leaf1 := b.devices[0], b.devices[1]
	ups, err := pipeline.NewState(spine.Pipeliner).Add(discovery.PuntObjective())
	if err != nil {
		t.Fatal(err)
	}
	if err := spine.Client.Write(testCtx(t), ups); err != nil {
		t.Fatal(err)
	}
	leaf1.Pipeliner = nil
	b.devices[1] = leaf1
	d := b.start(t)
	w := watchEvents(d)
	w.links(t, b.links())
	if err := d.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !b.hasPunt(t, spine) {
		t.Error("Stop deleted a punt rule Add did not write")
	}
	leaf1.Pipeliner = spine.Pipeliner
	if b.hasPunt(t, leaf1) {
		t.Error("punt rule written on a device without a pipeliner")
	}
}

// TestErrors checks the refusals of New, Add, Remove, PortDown and PortUp.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  discovery.Option
	}{
		{"zero interval", discovery.WithInterval(0)},
		{"zero missed", discovery.WithMissedProbes(0)},
		{"nil clock", discovery.WithClock(nil)},
		{"nil ticker", discovery.WithTicker(nil)},
		{"zero event buffer", discovery.WithEventBuffer(0)},
	} {
		if d, err := discovery.New(tc.opt); err == nil || d != nil {
			t.Errorf("New(%s) = %v, %v; want an error", tc.name, d, err)
		}
	}

	b := startBed(t, 1, 1, builtin.FabricV1Model)
	d := b.start(t, discovery.WithTicker(make(chan time.Time)))
	ctx := testCtx(t)
	// A backup client that never set the pipeline has no schema.
	leaf := b.tb.Switch("leaf1")
	noPipeline, err := client.Dial(ctx, leaf.Addr(), client.WithInsecure(), client.WithDeviceID(leaf.DeviceID()),
		client.WithElectionID(client.ElectionID{Low: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer noPipeline.Close()
	long := string(make([]byte, lldp.MaxID+1))
	for _, tc := range []struct {
		name string
		dev  discovery.Device
		want error
	}{
		{"no ID", discovery.Device{Client: b.devices[0].Client}, nil},
		{"long ID", discovery.Device{ID: long, Client: b.devices[0].Client}, nil},
		{"no client", discovery.Device{ID: "x"}, nil},
		{"no pipeline", discovery.Device{ID: "x", Client: noPipeline}, nil},
		{"duplicate", b.devices[0], discovery.ErrDuplicateDevice},
		{"duplicate port names", discovery.Device{ID: "x", Client: b.devices[0].Client, Ports: []uint32{1, 2},
			PortName: func(uint32) string { return "eth" }}, nil},
	} {
		err := d.Add(ctx, tc.dev)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Add(%s) = %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := d.PortDown("ghost", 1); !errors.Is(err, discovery.ErrUnknownDevice) {
		t.Errorf("PortDown(ghost) = %v", err)
	}
	if err := d.PortUp("leaf1", 7); !errors.Is(err, discovery.ErrUnknownPort) {
		t.Errorf("PortUp(leaf1:7) = %v", err)
	}
	if err := d.Remove(ctx, "ghost"); !errors.Is(err, discovery.ErrUnknownDevice) {
		t.Errorf("Remove(ghost) = %v", err)
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Add":      d.Add(ctx, b.devices[0]),
		"Remove":   d.Remove(ctx, "leaf1"),
		"PortDown": d.PortDown("leaf1", 1),
		"PortUp":   d.PortUp("leaf1", 1),
	} {
		if !errors.Is(err, discovery.ErrStopped) {
			t.Errorf("%s after Stop = %v, want ErrStopped", name, err)
		}
	}
	if _, err := discovery.Start(context.Background(), []discovery.Device{{ID: "x"}}); err == nil {
		t.Error("Start with a bad device succeeded")
	}
}
