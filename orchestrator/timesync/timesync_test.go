package timesync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/orchestrator/timesync"
)

// ppmOf returns the drift accumulated over d at ppm parts per million.
func ppmOf(ppm float64, d time.Duration) time.Duration {
	return time.Duration(float64(d) * ppm / 1e6)
}

// TestEstimateWithinErrorBound follows emulated switches whose clocks have
// injected skew and drift, and checks that every estimate lies within its
// error bound of the injected offset at the estimate's time.
func TestEstimateWithinErrorBound(t *testing.T) {
	ctx := testContext(t)
	tb := startTestbed(t, `
switches:
  - {name: ahead, ports: 1, clock: {offset: 250ms}}
  - {name: behind, ports: 1, clock: {offset: -400ms}}
  - {name: drifting, ports: 1, clock: {offset: 30ms, drift_ppm: 200}}
  - {name: drifting-back, ports: 1, clock: {offset: -5ms, drift_ppm: -500}}
`)
	tests := []struct {
		name  string
		drift float64
	}{
		{"ahead", 0},
		{"behind", 0},
		{"drifting", 200},
		{"drifting-back", -500},
	}
	s := newService(t, timesync.WithInterval(10*time.Millisecond))
	for i, tc := range tests {
		if err := s.Add(dialBox(t, tb, tc.name, uint32(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	// Rounding: nanosecond device time, the local midpoint, the drift
	// applied over the read-out below.
	const slack = 2 * time.Microsecond
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := tb.Clock(tc.name)
			var last time.Time
			for range rounds {
				e, err := s.Wait(ctx, tc.name, func(e timesync.Estimate) bool { return e.Valid() && e.Updated.After(last) })
				if err != nil {
					t.Fatal(err)
				}
				last = e.Updated
				now := time.Now()
				truth := clk.Offset() - ppmOf(tc.drift, now.Sub(e.Updated))
				if d := (e.Offset - truth).Abs(); d > e.ErrorBound+slack {
					t.Fatalf("estimate %v ± %v (%d samples, drift %.1f ppm), injected %v: off by %v",
						e.Offset, e.ErrorBound, e.Samples, e.DriftPPM, truth, d)
				}
				if e.Box != tc.name || e.Err != nil || e.Alarm != true {
					t.Fatalf("estimate %+v: want box %q, no error, alarm raised (offset far past 1ms)", e, tc.name)
				}
			}
		})
	}
}

// TestDriftEstimate fits the drift of clocks with a large injected drift
// over a window of about two seconds: large, so that the loopback noise
// (tens of microseconds of asymmetry per call, drifting with the load) is
// small against the drift accumulated in the window.
func TestDriftEstimate(t *testing.T) {
	ctx := testContext(t)
	tb := startTestbed(t, `
switches:
  - {name: fast, ports: 1, clock: {offset: 2ms, drift_ppm: 1000}}
  - {name: slow, ports: 1, clock: {offset: -1ms, drift_ppm: -500}}
  - {name: steady, ports: 1, clock: {offset: 7ms}}
`)
	tests := []struct {
		name string
		want float64
	}{
		{"fast", 1000},
		{"slow", -500},
		{"steady", 0},
	}
	const window = 200
	s := newService(t, timesync.WithInterval(10*time.Millisecond), timesync.WithWindow(window))
	for _, tc := range tests {
		if err := s.Add(dialBox(t, tb, tc.name, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// 8% of 1000 ppm. The fit of 200 samples over 2 s came within 55 ppm
	// on a loaded machine with the race detector on.
	const tolerance = 80
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.Wait(ctx, tc.name, func(e timesync.Estimate) bool {
				return e.Samples >= window && e.Span >= 1800*time.Millisecond
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := e.DriftPPM - tc.want; d > tolerance || d < -tolerance {
				t.Fatalf("drift %.1f ppm (± %.1f, %d samples over %v), want %v ± %v", e.DriftPPM, e.DriftError, e.Samples, e.Span, tc.want, tolerance)
			}
			if e.DriftError <= 0 {
				t.Fatalf("drift error %v, want positive", e.DriftError)
			}
			t.Logf("%s: drift %.1f ppm ± %.1f over %d samples, %v; offset %v ± %v", tc.name, e.DriftPPM, e.DriftError, e.Samples, e.Span, e.Offset, e.ErrorBound)
		})
	}
}

// TestConfigureNTPConverges skews a box, waits for its alarm, points its
// NTP client at the chassis over gNMI, and waits for the offset to
// converge and the alarm to clear.
func TestConfigureNTPConverges(t *testing.T) {
	tests := []struct {
		name    string
		box     string // clock entry of the topology
		chassis time.Duration
	}{
		{"host clock", "{offset: 50ms, drift_ppm: 100}", 0},
		{"skewed chassis clock", "{offset: 20ms, drift_ppm: -100}", -30 * time.Millisecond},
		{"box behind", "{offset: -80ms}", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			tb := startTestbed(t, "switches:\n  - {name: box, ports: 1, clock: "+tc.box+"}\n")
			al := newAlarms()
			chassis := func() time.Time { return time.Now().Add(tc.chassis) }
			s := newService(t, timesync.WithInterval(20*time.Millisecond), timesync.WithClock(chassis), al.option())
			if err := s.Add(dialBox(t, tb, "box", 7)); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			raised := al.next(ctx, t, "box", true)
			if raised.Module != 7 || raised.Offset.Abs()-raised.ErrorBound <= time.Millisecond || !strings.Contains(raised.Message, `"box"`) {
				t.Fatalf("raised alarm %+v", raised)
			}

			if err := s.ConfigureNTP(ctx, "box"); err != nil {
				t.Fatal(err)
			}
			host, port, err := s.NTPServer()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tb.Clock("box").Status().Server, net.JoinHostPort(host, strconv.Itoa(int(port))); got != want {
				t.Fatalf("box disciplines its clock to %q, want the chassis at %q", got, want)
			}

			cleared := al.next(ctx, t, "box", false)
			if cleared.Offset.Abs()+cleared.ErrorBound > cleared.Threshold-cleared.Hysteresis {
				t.Fatalf("cleared alarm %+v: offset not certainly under the clear level", cleared)
			}
			e, err := s.WaitConverged(ctx, "box")
			if err != nil {
				t.Fatal(err)
			}
			if e.Alarm {
				t.Fatalf("converged estimate %+v still has the alarm", e)
			}
			// The box's clock, against the chassis clock, as the testbed
			// knows it.
			if off := tb.Clock("box").Offset() - tc.chassis; off.Abs() > timesync.DefaultThreshold {
				t.Fatalf("box clock %v from the chassis clock after convergence", off)
			}
			t.Logf("converged: offset %v ± %v after %d steps", e.Offset, e.ErrorBound, e.Steps)
		})
	}
}

// TestFailingBoxReported checks that a box whose gNOI fails is reported
// (error callback, Estimate.Err and Failures) while the others keep being
// sampled.
func TestFailingBoxReported(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, ctx context.Context) timesync.Box
	}{
		{"switch stopped", func(t *testing.T, ctx context.Context) timesync.Box {
			tb := startTestbed(t, "switches:\n  - {name: bad, ports: 1}\n")
			b := dialBox(t, tb, "bad", 2)
			tb.Switch("bad").Stop()
			return b
		}},
		{"gNOI refuses", func(t *testing.T, ctx context.Context) timesync.Box {
			f := &fakeClock{}
			f.fail(errBoxDown)
			return timesync.Box{Name: "bad", Module: 2, Time: f}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			tb := startTestbed(t, "switches:\n  - {name: good, ports: 1, clock: {offset: 3ms}}\n")
			errs := make(chan error, 1024)
			s := newService(t, timesync.WithInterval(10*time.Millisecond), timesync.WithTimeout(500*time.Millisecond),
				timesync.WithErrorHandler(func(box string, err error) {
					if box == "bad" {
						errs <- err
					}
				}))
			if err := s.Add(dialBox(t, tb, "good", 1)); err != nil {
				t.Fatal(err)
			}
			if err := s.Add(tc.setup(t, ctx)); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-errs:
				if !strings.Contains(err.Error(), `box "bad"`) {
					t.Fatalf("error %q does not name the box", err)
				}
			case <-ctx.Done():
				t.Fatal("no error reported for the failing box")
			}
			bad, err := s.Wait(ctx, "bad", func(e timesync.Estimate) bool { return e.Failures >= 3 })
			if err != nil {
				t.Fatal(err)
			}
			if bad.Err == nil || !strings.Contains(bad.Err.Error(), `box "bad"`) || bad.Valid() {
				t.Fatalf("failing box estimate %+v", bad)
			}
			if _, ok := s.Estimate("bad"); ok {
				t.Fatal("Estimate of a box never sampled reports ok")
			}
			// The good box keeps going: more samples after the bad box failed.
			good, _ := s.Estimate("good")
			for range 5 {
				last := good.Updated
				if good, err = s.Wait(ctx, "good", func(e timesync.Estimate) bool { return e.Updated.After(last) }); err != nil {
					t.Fatal(err)
				}
			}
			if good.Err != nil || good.Failures != 0 {
				t.Fatalf("good box %+v", good)
			}
			snap := s.Snapshot()
			if len(snap) != 2 || snap[0].Box != "bad" || snap[1].Box != "good" || snap[0].Err == nil || !snap[1].Valid() {
				t.Fatalf("snapshot %+v", snap)
			}
		})
	}
}

// TestAlarmHysteresis drives a fake box through offsets and checks the
// raises and clears: the error bound and the hysteresis both apply.
func TestAlarmHysteresis(t *testing.T) {
	const us = time.Microsecond
	type step struct{ offset, bound time.Duration }
	tests := []struct {
		name  string
		steps []step
		want  []bool // raised (true) or cleared (false), in order
	}{
		{"raise and clear", []step{{500 * us, 100 * us}, {1500 * us, 100 * us}, {1050 * us, 100 * us}, {750 * us, 100 * us}, {500 * us, 100 * us}}, []bool{true, false}},
		{"uncertain offset does not raise", []step{{1500 * us, 600 * us}, {-1500 * us, 600 * us}}, nil},
		{"negative offset", []step{{-2000 * us, 100 * us}, {-100 * us, 100 * us}}, []bool{true, false}},
		{"no flapping inside the hysteresis", []step{{1200 * us, 100 * us}, {950 * us, 50 * us}, {1200 * us, 100 * us}, {850 * us, 10 * us}}, []bool{true}},
		{"uncertain offset does not clear", []step{{3000 * us, 100 * us}, {100 * us, 900 * us}}, []bool{true}},
		{"raise again", []step{{2000 * us, 10 * us}, {0, 10 * us}, {-2000 * us, 10 * us}}, []bool{true, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			al := newAlarms()
			s := newService(t, al.option())
			f := &fakeClock{}
			if err := s.Add(timesync.Box{Name: "box", Module: 4, Time: f}); err != nil {
				t.Fatal(err)
			}
			for _, st := range tc.steps {
				f.set(st.offset, st.bound)
				e, err := s.Sample(ctx, "box")
				if err != nil {
					t.Fatal(err)
				}
				// Each step differs from the last by more than their
				// bounds: the estimate is the new sample.
				if e.Offset != st.offset || e.ErrorBound != st.bound {
					t.Fatalf("estimate %v ± %v, want %v ± %v", e.Offset, e.ErrorBound, st.offset, st.bound)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			got := al.drain()
			if len(got) != len(tc.want) {
				t.Fatalf("alarms %v, want raised=%v", got, tc.want)
			}
			for i, a := range got {
				if a.Raised != tc.want[i] || a.Box != "box" || a.Module != 4 || a.Threshold != timesync.DefaultThreshold {
					t.Fatalf("alarm %d: %+v, want raised=%v", i, a, tc.want[i])
				}
			}
		})
	}
}

// TestStepAndNormalize checks that a stepped clock is followed at once and
// that Normalize removes the offset.
func TestStepAndNormalize(t *testing.T) {
	tests := []struct {
		name         string
		before, step time.Duration
	}{
		{"forward", 10 * time.Millisecond, 25 * time.Millisecond},
		{"backward", 10 * time.Millisecond, -3 * time.Second},
		{"small", -2 * time.Millisecond, -2500 * time.Microsecond},
	}
	const bound = 50 * time.Microsecond
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newService(t)
			f := &fakeClock{}
			f.set(tc.before, bound)
			if err := s.Add(timesync.Box{Name: "box", Time: f}); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := s.Sample(ctx, "box"); err != nil {
					t.Fatal(err)
				}
			}
			dev := time.Now().Add(tc.before)
			if got, want := s.Normalize("box", dev), dev.Add(-tc.before); (got.Sub(want)).Abs() > bound {
				t.Fatalf("Normalize(%v) = %v, want %v", dev, got, want)
			}
			f.set(tc.step, bound)
			e, err := s.Sample(ctx, "box")
			if err != nil {
				t.Fatal(err)
			}
			if e.Steps != 1 || e.Samples != 1 || e.Offset != tc.step {
				t.Fatalf("after the step: %+v, want the new offset %v at once", e, tc.step)
			}
			dev = time.Now().Add(tc.step)
			if got, want := s.Normalize("box", dev), dev.Add(-tc.step); got.Sub(want).Abs() > bound {
				t.Fatalf("Normalize after the step = %v, want %v", got, want)
			}
		})
	}
	s := newService(t)
	now := time.Now()
	if got := s.Normalize("nobody", now); !got.Equal(now) {
		t.Fatalf("Normalize of an unknown box changed the time: %v", got)
	}
	if err := s.Add(timesync.Box{Name: "unsampled", Time: &fakeClock{}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Normalize("unsampled", now); !got.Equal(now) {
		t.Fatalf("Normalize of an unsampled box changed the time: %v", got)
	}
	if got := s.Normalize("unsampled", time.Time{}); !got.IsZero() {
		t.Fatalf("Normalize of the zero time: %v", got)
	}
}

// TestRemove checks that removing a box clears its alarm, ends its waiters
// and forgets it.
func TestRemove(t *testing.T) {
	ctx := testContext(t)
	al := newAlarms()
	s := newService(t, al.option(), timesync.WithInterval(5*time.Millisecond))
	f := &fakeClock{}
	f.set(5*time.Millisecond, 10*time.Microsecond)
	if err := s.Add(timesync.Box{Name: "box", Module: 9, Time: f}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	al.next(ctx, t, "box", true)
	waited := make(chan error, 1)
	go func() {
		_, err := s.Wait(ctx, "box", func(timesync.Estimate) bool { return false })
		waited <- err
	}()
	if err := s.Remove("box"); err != nil {
		t.Fatal(err)
	}
	cleared := al.next(ctx, t, "box", false)
	if !strings.Contains(cleared.Message, "removed") || cleared.Module != 9 {
		t.Fatalf("clear on removal %+v", cleared)
	}
	select {
	case err := <-waited:
		if !errors.Is(err, timesync.ErrUnknownBox) {
			t.Fatalf("Wait on a removed box: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Wait did not end when the box was removed")
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"remove again", func() error { return s.Remove("box") }},
		{"sample", func() error { _, err := s.Sample(ctx, "box"); return err }},
		{"wait", func() error { _, err := s.Wait(ctx, "box", nil); return err }},
		{"configure", func() error { return s.ConfigureNTP(ctx, "box") }},
	}
	for _, tc := range tests {
		if err := tc.call(); !errors.Is(err, timesync.ErrUnknownBox) {
			t.Errorf("%s: %v, want ErrUnknownBox", tc.name, err)
		}
	}
	if _, ok := s.Estimate("box"); ok || len(s.Snapshot()) != 0 {
		t.Fatal("removed box still has an estimate")
	}
	// The name can be used again.
	if err := s.Add(timesync.Box{Name: "box", Time: f}); err != nil {
		t.Fatal(err)
	}
}

// TestConfigureNTPErrors covers the failures of ConfigureNTP and its
// read-back against a fake gNMI client.
func TestConfigureNTPErrors(t *testing.T) {
	good := func(host string, port uint16) []gnmi.Update {
		return []gnmi.Update{
			{Path: "/system/ntp/config/enabled", Value: true},
			{Path: fmt.Sprintf("/system/ntp/servers/server[address=%s]/config/port", host), Value: int64(port)},
		}
	}
	tests := []struct {
		name    string
		opts    []timesync.Option
		noStart bool
		box     func(*fakeConfig) timesync.Box
		get     func(host string, port uint16) []gnmi.Update
		setErr  error
		want    error  // errors.Is, when set
		text    string // in the message, when set
	}{
		{name: "ok", get: good},
		{name: "advertised host and port", opts: []timesync.Option{timesync.WithAdvertiseAddr("ntp.chassis:4123")},
			get: func(string, uint16) []gnmi.Update { return good("ntp.chassis", 4123) }},
		{name: "advertised host", opts: []timesync.Option{timesync.WithAdvertiseAddr("10.0.0.1")},
			get: func(_ string, p uint16) []gnmi.Update { return good("10.0.0.1", p) }},
		{name: "scalar uint port", get: func(h string, p uint16) []gnmi.Update {
			u := good(h, p)
			u[1].Value = uint64(p)
			return u
		}},
		{name: "not started", noStart: true, get: good, want: timesync.ErrNotStarted},
		{name: "listening on all addresses", opts: []timesync.Option{timesync.WithListenAddr("0.0.0.0:0")}, get: good, text: "WithAdvertiseAddr"},
		{name: "unknown box", box: func(*fakeConfig) timesync.Box { return timesync.Box{} }, want: timesync.ErrUnknownBox},
		{name: "no gNMI client", box: func(*fakeConfig) timesync.Box { return timesync.Box{Name: "box", Time: &fakeClock{}} }, text: "no gNMI client"},
		{name: "set refused", get: good, setErr: errBoxDown, want: errBoxDown},
		{name: "read back: NTP disabled", get: func(h string, p uint16) []gnmi.Update {
			u := good(h, p)
			u[0].Value = false
			return u
		}, want: timesync.ErrReadBack, text: "not enabled"},
		{name: "read back: other port", get: func(h string, _ uint16) []gnmi.Update { return good(h, 999) }, want: timesync.ErrReadBack, text: "port 999"},
		{name: "read back: other server", get: func(_ string, p uint16) []gnmi.Update { return good("192.0.2.1", p) }, want: timesync.ErrReadBack, text: "not configured"},
		{name: "read back: extra server", get: func(h string, p uint16) []gnmi.Update {
			return append(good(h, p), gnmi.Update{Path: "/system/ntp/servers/server[address=192.0.2.1]/config/port", Value: int64(123)})
		}, want: timesync.ErrReadBack, text: "192.0.2.1:123"},
		{name: "read back: nothing", get: func(string, uint16) []gnmi.Update { return nil }, want: timesync.ErrReadBack},
		{name: "read back: bad value", get: func(h string, p uint16) []gnmi.Update {
			u := good(h, p)
			u[1].Value = map[string]any{"x": 1}
			return u
		}, want: timesync.ErrReadBack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newService(t, tc.opts...)
			fc := &fakeConfig{setErr: tc.setErr}
			box := timesync.Box{Name: "box", Time: &fakeClock{}, Config: fc}
			if tc.box != nil {
				box = tc.box(fc)
			}
			if box.Name != "" {
				if err := s.Add(box); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.noStart {
				if err := s.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if host, port, err := s.NTPServer(); err == nil && tc.get != nil {
				fc.get = tc.get(host, port)
			}
			err := s.ConfigureNTP(ctx, "box")
			if tc.want == nil && tc.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				host, port, _ := s.NTPServer()
				wantOps := []string{
					"DELETE /system/ntp/servers",
					fmt.Sprintf("UPDATE /system/ntp/servers/server[address=%s]", host),
					"UPDATE /system/ntp/config/enabled",
				}
				if len(fc.sets) != 1 || strings.Join(fc.sets[0], ", ") != strings.Join(wantOps, ", ") {
					t.Fatalf("sets %v, want one with %v (port %d)", fc.sets, wantOps, port)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.text != "" && !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
			if tc.box == nil && !strings.Contains(err.Error(), `box "box"`) && !errors.Is(err, timesync.ErrNotStarted) {
				t.Fatalf("error %q does not name the box", err)
			}
		})
	}
}

// TestConfigureAll configures every switch of a testbed and reads the
// configuration back with a separate gNMI client.
func TestConfigureAll(t *testing.T) {
	ctx := testContext(t)
	tb := startTestbed(t, `
switches:
  - {name: leaf1, ports: 1}
  - {name: leaf2, ports: 1}
`)
	s := newService(t, timesync.WithInterval(time.Hour))
	for i, name := range []string{"leaf1", "leaf2"} {
		if err := s.Add(dialBox(t, tb, name, uint32(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// A box that cannot be configured is reported, the others are done.
	if err := s.Add(timesync.Box{Name: "no-gnmi", Time: &fakeClock{}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.ConfigureAll(ctx)
	if err == nil || !strings.Contains(err.Error(), `box "no-gnmi"`) || strings.Contains(err.Error(), "leaf") {
		t.Fatalf("ConfigureAll: %v, want only no-gnmi's error", err)
	}
	host, port, err := s.NTPServer()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"leaf1", "leaf2"} {
		t.Run(name, func(t *testing.T) {
			c, err := gnmi.Dial(tb.Switch(name).Addr(), gnmi.WithInsecure())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			recs, err := c.Get(ctx, []string{"/system/ntp"})
			if err != nil {
				t.Fatal(err)
			}
			text := fmt.Sprint(recs)
			for _, want := range []string{"enabled:true", host, "port:" + strconv.Itoa(int(port))} {
				if !strings.Contains(text, want) {
					t.Fatalf("/system/ntp = %s: no %q", text, want)
				}
			}
			if got := tb.Clock(name).Status().Server; got != net.JoinHostPort(host, strconv.Itoa(int(port))) {
				t.Fatalf("clock disciplined to %q", got)
			}
		})
	}
}

// TestSNTPServesChassisClock queries the SNTP server with a real client.
func TestSNTPServesChassisClock(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
	}{
		{"host clock", 0},
		{"ahead", 5 * time.Second},
		{"behind", -300 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newService(t, timesync.WithClock(func() time.Time { return time.Now().Add(tc.offset) }))
			if s.Addr() != nil {
				t.Fatal("address before Start")
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ctx); err == nil {
				t.Fatal("second Start succeeded")
			}
			resp, err := sntp.Query(ctx, s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			// 2^-32 s timestamps: allow a microsecond of rounding.
			if d := (resp.Offset - tc.offset).Abs(); d > resp.ErrorBound()+time.Microsecond {
				t.Fatalf("SNTP offset %v ± %v, want %v", resp.Offset, resp.ErrorBound(), tc.offset)
			}
			if resp.Stratum != 1 {
				t.Fatalf("stratum %d", resp.Stratum)
			}
			if d := s.Now().Sub(time.Now()) - tc.offset; d.Abs() > time.Millisecond {
				t.Fatalf("Now is %v off the chassis clock", d)
			}
		})
	}
}

// TestStartContextEnds checks that the service stops serving when Start's
// context ends.
func TestStartContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	s := newService(t)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := sntp.Query(qctx, addr)
	qcancel()
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	qctx, qcancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer qcancel()
	if _, err := sntp.Query(qctx, addr); err == nil {
		t.Fatal("SNTP server still answers after Start's context ended")
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []timesync.Option
		ok   bool
	}{
		{"defaults", nil, true},
		{"nil option", []timesync.Option{nil}, true},
		{"all set", []timesync.Option{timesync.WithListenAddr("127.0.0.1:0"), timesync.WithAdvertiseAddr("10.0.0.1:123"),
			timesync.WithInterval(time.Second), timesync.WithTimeout(time.Second), timesync.WithWindow(3), timesync.WithFilter(10),
			timesync.WithThreshold(5 * time.Millisecond), timesync.WithHysteresis(0), timesync.WithClock(nil),
			timesync.WithAlarm(nil), timesync.WithErrorHandler(nil), timesync.WithLogger(nil)}, true},
		{"bad listen address", []timesync.Option{timesync.WithListenAddr("localhost")}, false},
		{"empty advertise address", []timesync.Option{timesync.WithAdvertiseAddr("")}, false},
		{"advertise port 0", []timesync.Option{timesync.WithAdvertiseAddr("10.0.0.1:0")}, false},
		{"advertise port out of range", []timesync.Option{timesync.WithAdvertiseAddr("10.0.0.1:70000")}, false},
		{"zero interval", []timesync.Option{timesync.WithInterval(0)}, false},
		{"negative timeout", []timesync.Option{timesync.WithTimeout(-time.Second)}, false},
		{"window of 2", []timesync.Option{timesync.WithWindow(2)}, false},
		{"filter of 0", []timesync.Option{timesync.WithFilter(0)}, false},
		{"zero threshold", []timesync.Option{timesync.WithThreshold(0)}, false},
		{"negative hysteresis", []timesync.Option{timesync.WithHysteresis(-1)}, false},
		{"hysteresis at the threshold", []timesync.Option{timesync.WithThreshold(time.Millisecond), timesync.WithHysteresis(time.Millisecond)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := timesync.New(tc.opts...)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				th, hy := s.Threshold()
				switch tc.name {
				case "defaults":
					if th != timesync.DefaultThreshold || hy != time.Duration(float64(th)*timesync.DefaultHysteresisFraction) {
						t.Errorf("Threshold() = %v, %v; want the defaults", th, hy)
					}
				case "all set":
					if th != 5*time.Millisecond || hy != 0 {
						t.Errorf("Threshold() = %v, %v; want 5ms, 0", th, hy)
					}
				}
				s.Close()
			} else if !strings.HasPrefix(err.Error(), "timesync: ") {
				t.Fatalf("error %q not prefixed", err)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	s := newService(t)
	if err := s.Add(timesync.Box{Name: "box", Time: &fakeClock{}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		box  timesync.Box
	}{
		{"empty name", timesync.Box{Time: &fakeClock{}}},
		{"no time client", timesync.Box{Name: "other"}},
		{"duplicate", timesync.Box{Name: "box", Time: &fakeClock{}}},
	}
	for _, tc := range tests {
		if err := s.Add(tc.box); !errors.Is(err, timesync.ErrInvalidBox) {
			t.Errorf("%s: %v, want ErrInvalidBox", tc.name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(timesync.Box{Name: "late", Time: &fakeClock{}}); !errors.Is(err, timesync.ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, timesync.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

// TestCallbackPanic checks that a panicking callback does not take the
// process down or stop later deliveries.
func TestCallbackPanic(t *testing.T) {
	ctx := testContext(t)
	got := make(chan bool, 16)
	s := newService(t, timesync.WithAlarm(func(a timesync.Alarm) {
		got <- a.Raised
		if a.Raised {
			panic("callback bug")
		}
	}))
	f := &fakeClock{}
	if err := s.Add(timesync.Box{Name: "box", Time: f}); err != nil {
		t.Fatal(err)
	}
	for _, off := range []time.Duration{5 * time.Millisecond, 0} {
		f.set(off, time.Microsecond)
		if _, err := s.Sample(ctx, "box"); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []bool{true, false} {
		select {
		case r := <-got:
			if r != want {
				t.Fatalf("alarm raised=%v, want %v", r, want)
			}
		case <-ctx.Done():
			t.Fatal("alarm not delivered after a panicking callback")
		}
	}
}
