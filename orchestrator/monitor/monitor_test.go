package monitor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/monitor"
	"github.com/p4fabric/fabric/p4/client"
)

// Modules of the bed's boxes.
const (
	spine1 = 1
	leaf1  = 2
	leaf2  = 3
)

// TestPortEvents: an admin change on one end of a link is reported for both
// ends, with the box's timestamp, and the boxes' LINK_* messages reach the
// log.
func TestPortEvents(t *testing.T) {
	b := startBed(t)
	b.monitor(t)
	sub := b.subscribe(t, events.Filter{Kinds: []events.Kind{events.PortUp, events.PortDown}})
	tests := []struct {
		name   string
		sw     string
		port   uint32
		up     bool
		want   []key
		msgMod uint32 // a box that logs the LINK_* message
	}{
		{"leaf1 uplink down", "leaf1", 1, false, []key{{events.PortDown, leaf1, 1}, {events.PortDown, spine1, 1}}, leaf1},
		{"leaf1 uplink up", "leaf1", 1, true, []key{{events.PortUp, leaf1, 1}, {events.PortUp, spine1, 1}}, spine1},
		{"spine1 port 2 down", "spine1", 2, false, []key{{events.PortDown, spine1, 2}, {events.PortDown, leaf2, 1}}, leaf2},
		{"spine1 port 2 up", "spine1", 2, true, []key{{events.PortUp, spine1, 2}, {events.PortUp, leaf2, 1}}, leaf2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			before := time.Now()
			if err := b.tb.SetPortAdmin(tt.sw, tt.port, tt.up); err != nil {
				t.Fatal(err)
			}
			seen := waitFor(t, ctx, sub, tt.want...)
			if len(seen) != len(tt.want) {
				t.Fatalf("events %v, want exactly %v", seen, tt.want)
			}
			for _, e := range seen {
				if e.Serial == "" || e.Attrs[monitor.AttrInterface] == "" || e.SourceTime.IsZero() {
					t.Errorf("event %v: missing serial, interface or source time", e)
				}
				if e.Attrs[monitor.AttrInitial] != "" || e.Attrs[monitor.AttrResync] != "" {
					t.Errorf("event %v: a change marked initial or resync", e)
				}
				// The testbed's clocks are not skewed: the box's
				// timestamp is close to the orchestrator's.
				if d := e.SourceTime.Sub(before); d < -time.Second || d > testTimeout {
					t.Errorf("event %v: source time %v, %v after the change", e, e.SourceTime, d)
				}
			}
			msgID := "LINK_DOWN"
			if tt.up {
				msgID = "LINK_UP"
			}
			waitRecord(t, ctx, b.log, logbook.Filter{Modules: []uint32{tt.msgMod}, Sources: []logbook.Source{logbook.SourceSystem}},
				func(r logbook.Record) bool {
					return r.Attrs["msgid"] == msgID && !r.SourceTime.Before(before.Add(-time.Second))
				})
		})
	}
}

// TestInitialState: the initial state is published (marked initial) only
// with WithInitialState, and recorded either way.
func TestInitialState(t *testing.T) {
	tests := []struct {
		name    string
		opts    []monitor.Option
		publish bool
	}{
		{"default", nil, false},
		{"WithInitialState", []monitor.Option{monitor.WithInitialState()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBed(t)
			ctx := testCtx(t)
			if err := b.tb.SetPortAdmin("leaf2", 1, false); err != nil {
				t.Fatal(err)
			}
			sub := b.subscribe(t, events.Filter{})
			m := b.monitor(t, tt.opts...)
			ports, err := m.Ports("spine1")
			if err != nil {
				t.Fatal(err)
			}
			want := []monitor.PortState{{Port: 1, Interface: "eth1", Up: true}, {Port: 2, Interface: "eth2", Up: false}}
			if len(ports) != len(want) || ports[0] != want[0] || ports[1] != want[1] {
				t.Fatalf("spine1 ports %v, want %v", ports, want)
			}
			// A barrier: a change after Watch; whatever the initial
			// state published came before it.
			if err := b.tb.SetPortAdmin("leaf2", 1, true); err != nil {
				t.Fatal(err)
			}
			seen := waitFor(t, ctx, sub, key{events.PortUp, spine1, 2}, key{events.PortUp, leaf2, 1})
			initial := 0
			for _, e := range seen {
				if e.Attrs[monitor.AttrInitial] == "true" {
					initial++
					if e.Kind == events.PortUp && e.Module == spine1 && e.Port == 2 {
						t.Errorf("initial %v: spine1 port 2 was down", e)
					}
				}
			}
			// Every port of the three boxes: 2 + 1 + 1 (host ports included).
			nports := 0
			for _, name := range []string{"spine1", "leaf1", "leaf2"} {
				nports += b.tb.Switch(name).Ports()
			}
			if tt.publish && initial < nports || !tt.publish && initial != 0 {
				t.Fatalf("%d initial port events of %d ports, publish %v: %v", initial, nports, tt.publish, seen)
			}
		})
	}
}

// TestReboot: a reboot is seen as the box disconnecting and reconnecting;
// its messages reach the log; its link's far end goes down and up; and the
// monitor keeps reporting its ports afterwards.
func TestReboot(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	sub := b.subscribe(t, events.Filter{Modules: []uint32{leaf1, spine1}})
	b.monitor(t)
	// The devices' first events: every protocol connected.
	for _, e := range waitFor(t, ctx, sub, key{events.BoxConnected, leaf1, 0}, key{events.BoxConnected, spine1, 0}) {
		if e.Kind == events.BoxConnected && !strings.Contains(e.Message, "gnmi, gnoi, p4runtime") {
			t.Errorf("%v: not every protocol", e)
		}
	}
	sw := b.tb.Switch("leaf1")
	const reason = "monitor test"
	if err := sw.Reboot(50*time.Millisecond, reason); err != nil {
		t.Fatal(err)
	}
	seen := waitFor(t, ctx, sub,
		key{events.BoxDisconnected, leaf1, 0}, key{events.BoxConnected, leaf1, 0},
		key{events.PortDown, spine1, 1}, key{events.PortUp, spine1, 1})
	var disc, conn int
	for i, e := range seen {
		switch {
		case e.Kind == events.BoxDisconnected && e.Module == leaf1:
			disc = i
			if e.Attrs[events.AttrReason] == "" {
				t.Errorf("%v: no reason", e)
			}
		case e.Kind == events.BoxConnected && e.Module == leaf1:
			conn = i
		}
	}
	if conn < disc {
		t.Fatalf("connected before disconnected: %v", seen)
	}
	boot := waitRecord(t, ctx, b.log, logbook.Filter{Modules: []uint32{leaf1}, Sources: []logbook.Source{logbook.SourceSystem}},
		func(r logbook.Record) bool {
			return r.Attrs["msgid"] == "SYSTEM_BOOT" && strings.Contains(r.Message, reason)
		})
	if boot.Serial != "leaf1" || boot.Severity != logbook.Notice || boot.SourceTime.IsZero() {
		t.Fatalf("boot record %+v", boot)
	}
	recs, err := b.log.Query(logbook.Filter{Modules: []uint32{leaf1}, Kinds: []string{logbook.KindMessage}})
	if err != nil {
		t.Fatal(err)
	}
	var reboot bool
	for _, r := range recs {
		reboot = reboot || r.Attrs["msgid"] == "SYSTEM_REBOOT"
	}
	// The SYSTEM_REBOOT message races with the connections closing.
	t.Logf("SYSTEM_REBOOT message logged: %v (%d messages of leaf1)", reboot, len(recs))

	// The re-established subscription reports changes again.
	if err := sw.WaitRunning(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.tb.SetPortAdmin("spine1", 1, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, sub, key{events.PortDown, leaf1, 1}, key{events.PortDown, spine1, 1})
}

// TestUnwatch: an unwatched box publishes nothing; watched again, it does.
func TestUnwatch(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	m := b.monitor(t)
	sub := b.subscribe(t, events.Filter{Kinds: []events.Kind{events.PortUp, events.PortDown, events.BoxConnected}})
	if err := m.Unwatch("leaf1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Unwatch("leaf1"); !errors.Is(err, monitor.ErrNotWatched) {
		t.Fatalf("second Unwatch: %v, want ErrNotWatched", err)
	}
	if got := m.Watched(); len(got) != 2 || got[0] != "leaf2" || got[1] != "spine1" {
		t.Fatalf("watched %v", got)
	}
	if _, err := m.Ports("leaf1"); !errors.Is(err, monitor.ErrNotWatched) {
		t.Fatalf("Ports of an unwatched box: %v", err)
	}
	for _, up := range []bool{false, true} {
		if err := b.tb.SetPortAdmin("leaf1", 1, up); err != nil {
			t.Fatal(err)
		}
		kind := events.PortDown
		if up {
			kind = events.PortUp
		}
		// Unwatch returned once leaf1's loops had ended: nothing of
		// leaf1 can come, whatever the order.
		for _, e := range waitFor(t, ctx, sub, key{kind, spine1, 1}) {
			if e.Module == leaf1 {
				t.Fatalf("event %v of an unwatched box", e)
			}
		}
	}
	if err := m.Watch(ctx, b.boxes["leaf1"]); err != nil {
		t.Fatal(err)
	}
	// Watched again, the box is announced as connected (its device says
	// so) before Watch returns.
	waitFor(t, ctx, sub, key{events.BoxConnected, leaf1, 0})
	if err := b.tb.SetPortAdmin("leaf1", 1, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, sub, key{events.PortDown, leaf1, 1}, key{events.PortDown, spine1, 1})
}

func TestWatchErrors(t *testing.T) {
	b := startBed(t)
	if _, err := monitor.New(nil, b.log); !errors.Is(err, monitor.ErrInvalid) {
		t.Fatalf("New(nil bus): %v", err)
	}
	m, err := monitor.New(b.bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf := b.boxes["leaf1"]
	if err := m.Watch(testCtx(t), leaf); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		box  monitor.Box
		want error
	}{
		{"nil context", nil, b.boxes["leaf2"], monitor.ErrInvalid},
		{"no serial", testCtx(t), monitor.Box{Name: "x", Module: 9, Device: leaf.Device}, monitor.ErrInvalid},
		{"module 0", testCtx(t), monitor.Box{Serial: "x", Device: leaf.Device}, monitor.ErrInvalid},
		{"nil device", testCtx(t), monitor.Box{Serial: "x", Module: 9}, monitor.ErrInvalid},
		{"already watched", testCtx(t), leaf, monitor.ErrWatched},
		{"context ended", ended, b.boxes["leaf2"], context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Watch(tt.ctx, tt.box)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Watch: %v, want %v", err, tt.want)
			}
			if tt.box.Name != "" && !strings.Contains(err.Error(), tt.box.Name) {
				t.Fatalf("error %q does not name the box", err)
			}
		})
	}
	if got := m.Watched(); len(got) != 1 || got[0] != "leaf1" {
		t.Fatalf("watched %v, want [leaf1]", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Watch(testCtx(t), b.boxes["leaf2"]); !errors.Is(err, monitor.ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestResync: a port that changed while the box was unreachable is
// published, marked resync, once the subscription is re-established.
func TestResync(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	sub := b.subscribe(t, events.Filter{Modules: []uint32{leaf1, spine1}})
	b.monitor(t)
	waitFor(t, ctx, sub, key{events.BoxConnected, leaf1, 0})
	sw := b.tb.Switch("leaf1")
	sw.Stop()
	waitFor(t, ctx, sub, key{events.BoxDisconnected, leaf1, 0}, key{events.PortDown, spine1, 1})
	// Configured while the box is down: it boots with the port disabled.
	if err := sw.SetPortAdmin(1, false); err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	seen := waitFor(t, ctx, sub, key{events.PortDown, leaf1, 1}, key{events.BoxConnected, leaf1, 0})
	for _, e := range seen {
		if e.Kind == events.PortDown && e.Module == leaf1 && e.Attrs[monitor.AttrResync] != "true" {
			t.Fatalf("%v: not marked resync", e)
		}
		if e.Kind == events.PortUp {
			t.Fatalf("%v: the link stayed down", e)
		}
	}
	if err := sw.SetPortAdmin(1, true); err != nil {
		t.Fatal(err)
	}
	for _, e := range waitFor(t, ctx, sub, key{events.PortUp, leaf1, 1}, key{events.PortUp, spine1, 1}) {
		if e.Kind == events.PortUp && e.Attrs[monitor.AttrResync] != "" {
			t.Fatalf("%v: a live change marked resync", e)
		}
	}
}

// TestMastership: another controller with a higher election ID takes the
// box over; the monitor's device becomes backup and says so.
func TestMastership(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	sub := b.subscribe(t, events.Filter{Kinds: []events.Kind{events.MastershipChanged}})
	b.monitor(t)
	sw := b.tb.Switch("leaf1")
	other, err := emulated.New().Open(ctx, driver.Spec{Name: "other", Address: sw.Addr(), DeviceID: sw.DeviceID(),
		Insecure: true, ElectionID: client.ElectionID{Low: 100}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, e := range waitFor(t, ctx, sub, key{events.MastershipChanged, leaf1, 0}) {
		if e.Module == leaf1 && (e.Attrs[monitor.AttrMastership] != "backup" || e.Attrs[monitor.AttrProtocol] != "p4runtime") {
			t.Fatalf("%v, want backup over p4runtime", e)
		}
	}
}

// TestWatchUnreachable: with WithoutInitialWait a box that is down is
// watched at once, announced when it comes up, its initial state taken
// when it arrives and its changes reported.
func TestWatchUnreachable(t *testing.T) {
	b := startBed(t)
	ctx := testCtx(t)
	sub := b.subscribe(t, events.Filter{Modules: []uint32{leaf1}})
	sw := b.tb.Switch("leaf1")
	sw.Stop()
	m, err := monitor.New(b.bus, b.log, monitor.WithoutInitialWait(), monitor.WithInitialState())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.Watch(short, b.boxes["leaf1"]); err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	// The box is announced; its initial state arrives (the uplink up, or
	// down and then up, depending on when the subscription came back
	// during the boot).
	var connected, initial, up bool
	for !connected || !initial || !up {
		select {
		case e := <-sub.C():
			switch {
			case e.Kind == events.BoxConnected:
				connected = true
			case e.Port == 1 && (e.Kind == events.PortUp || e.Kind == events.PortDown):
				initial = initial || e.Attrs[monitor.AttrInitial] == "true"
				up = e.Kind == events.PortUp
			}
		case <-ctx.Done():
			t.Fatalf("after %v: connected %v, initial state %v, uplink up %v", testTimeout, connected, initial, up)
		}
	}
	if err := b.tb.SetPortAdmin("spine1", 1, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, sub, key{events.PortDown, leaf1, 1})
}
