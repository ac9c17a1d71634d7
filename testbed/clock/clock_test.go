package clock

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/testbed/topology"
)

// fakeServer answers polls as an SNTP server at true time + ahead would,
// over a network without delay, or fails while fail is set. It runs inside
// a synctest bubble, so true time is the bubble's fake time.
type fakeServer struct {
	ahead   time.Duration
	fail    atomic.Bool
	queries atomic.Int64
}

func (f *fakeServer) query(_ context.Context, server string, now func() time.Time) (sntp.Response, error) {
	f.queries.Add(1)
	if f.fail.Load() {
		return sntp.Response{}, errors.New("fake: unreachable " + server)
	}
	local := now()
	serverTime := time.Now().Add(f.ahead)
	return sntp.Response{Time: serverTime, Offset: serverTime.Sub(local), Stratum: 1}, nil
}

func newFake(t *testing.T, srv *fakeServer, opts ...Option) *Clock {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	c.query = srv.query
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOffsetAndDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(t, &fakeServer{}, WithOffset(10*time.Millisecond), WithDrift(100))
		steps := []struct {
			name  string
			do    func()
			after time.Duration
			want  time.Duration
		}{
			{"initial offset", func() {}, 0, 10 * time.Millisecond},
			{"100 ppm for 10 s", func() {}, 10 * time.Second, 11 * time.Millisecond},
			{"drift -50 ppm for 10 s", func() {
				if err := c.SetDrift(-50); err != nil {
					t.Fatal(err)
				}
			}, 10 * time.Second, 10500 * time.Microsecond},
			{"step", func() { c.SetOffset(-5 * time.Millisecond) }, 0, -5 * time.Millisecond},
			{"drift after step", func() {}, 20 * time.Second, -6 * time.Millisecond},
		}
		for _, s := range steps {
			s.do()
			time.Sleep(s.after)
			if got := c.Offset(); got != s.want {
				t.Errorf("%s: Offset = %v, want %v", s.name, got, s.want)
			}
			if got, want := c.Now(), time.Now().Add(s.want); !got.Equal(want) {
				t.Errorf("%s: Now = %v, want %v", s.name, got, want)
			}
		}
		if c.Drift() != -50 {
			t.Errorf("Drift = %v", c.Drift())
		}
		if c.Status().State != StateDisabled {
			t.Errorf("state %v without NTP", c.Status().State)
		}
	})
}

func TestTopologyClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The topology package's example: offset -150ms, drift 20 ppm.
		c := newFake(t, &fakeServer{}, WithTopology(&topology.Clock{Offset: -150 * time.Millisecond, DriftPPM: 20}), WithTopology(nil))
		time.Sleep(100 * time.Second)
		if got, want := c.Offset(), -148*time.Millisecond; got != want {
			t.Fatalf("Offset after 100 s = %v, want %v", got, want)
		}
	})
}

// TestSlewConverges follows a 50 ms skew being slewed away at the default
// 500 ms/s, poll by poll, in fake time.
func TestSlewConverges(t *testing.T) {
	tests := []struct {
		name  string
		skew  time.Duration
		ahead time.Duration // the server's offset from true time
	}{
		{"clock ahead", 50 * time.Millisecond, 0},
		{"clock behind", -50 * time.Millisecond, 0},
		{"server ahead", 0, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &fakeServer{ahead: tt.ahead}
				c := newFake(t, srv, WithOffset(tt.skew))
				if err := c.EnableNTP("ntp.test:123"); err != nil {
					t.Fatal(err)
				}
				synctest.Wait() // the first poll, at once
				st := c.Status()
				if st.State != StateSlewing || st.Offset != tt.ahead-tt.skew || st.Polls != 1 || st.Server != "ntp.test:123" {
					t.Fatalf("after the first poll: %+v", st)
				}
				// Part-way through the slew (50 ms takes 100 ms at 500 ms/s).
				time.Sleep(40 * time.Millisecond)
				d := tt.ahead - tt.skew
				slewed := max(min(d, 20*time.Millisecond), -20*time.Millisecond) // 40ms at 500ms/s
				if got, want := c.Offset(), tt.skew+slewed; got != want {
					t.Errorf("Offset after 40ms = %v, want %v", got, want)
				}
				if got, want := c.Slewing(), d-slewed; got != want {
					t.Errorf("Slewing after 40ms = %v, want %v", got, want)
				}
				time.Sleep(60 * time.Millisecond)
				if got := c.Offset(); got != tt.ahead {
					t.Errorf("Offset after 100ms = %v, want %v", got, tt.ahead)
				}
				time.Sleep(100 * time.Millisecond) // the second poll
				synctest.Wait()
				st = c.Status()
				if st.State != StateSynchronized || st.Offset != 0 || st.Polls != 2 || st.LastSample.IsZero() {
					t.Fatalf("after the second poll: %+v", st)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if _, err := c.WaitSynchronized(ctx); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestSlewIsMonotonic reads the clock through a slew backwards: it never
// goes back in time, it only runs slower.
func TestSlewIsMonotonic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(t, &fakeServer{}, WithOffset(300*time.Millisecond))
		if err := c.EnableNTP("ntp.test"); err != nil {
			t.Fatal(err)
		}
		prev := c.Now()
		for range 100 {
			time.Sleep(7 * time.Millisecond)
			now := c.Now()
			if !now.After(prev) {
				t.Fatalf("clock went from %v to %v", prev, now)
			}
			prev = now
		}
		if off := c.Offset(); off != 0 {
			t.Fatalf("Offset after 700ms = %v, want 0", off)
		}
	})
}

func TestStepThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(t, &fakeServer{}, WithOffset(time.Second), WithStepThreshold(128*time.Millisecond))
		if err := c.EnableNTP("ntp.test"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if off := c.Offset(); off != 0 {
			t.Fatalf("Offset after a step = %v, want 0", off)
		}
		// Below the threshold the clock slews.
		c.SetOffset(100 * time.Millisecond)
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if off, slew := c.Offset(), c.Slewing(); off != 100*time.Millisecond || slew != -100*time.Millisecond {
			t.Fatalf("Offset = %v, Slewing = %v right after the poll, want 100ms and -100ms", off, slew)
		}
	})
}

// TestDriftUnderNTP: with 100 ppm drift the discipline keeps the clock
// within drift × poll interval of the server.
func TestDriftUnderNTP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(t, &fakeServer{}, WithDrift(100))
		if err := c.EnableNTP("ntp.test"); err != nil {
			t.Fatal(err)
		}
		limit := time.Duration(100e-6 * float64(DefaultPollInterval))
		for i := range 200 {
			time.Sleep(50 * time.Millisecond)
			if off := c.Offset(); off.Abs() > limit {
				t.Fatalf("after %v: Offset = %v, beyond %v", time.Duration(i+1)*50*time.Millisecond, off, limit)
			}
		}
		if st := c.Status(); st.State != StateSynchronized {
			t.Fatalf("state %v", st.State)
		}
	})
}

func TestPollFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeServer{}
		srv.fail.Store(true)
		c := newFake(t, srv, WithOffset(time.Millisecond/2))
		if err := c.EnableNTP("ntp.test"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := c.Status(); st.State != StateUnsynchronized || st.Failures != 1 || st.Err == nil {
			t.Fatalf("after a failed first poll: %+v", st)
		}
		srv.fail.Store(false)
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		if st := c.Status(); st.State != StateSynchronized || st.Failures != 0 || st.Err != nil {
			t.Fatalf("after a good poll: %+v", st)
		}
		srv.fail.Store(true)
		for i := uint64(1); i <= unreachableAfter; i++ {
			time.Sleep(DefaultPollInterval)
			synctest.Wait()
			st := c.Status()
			want := StateSynchronized
			if i >= unreachableAfter {
				want = StateUnsynchronized
			}
			if st.State != want || st.Failures != i {
				t.Fatalf("after %d failed polls: %+v, want %v", i, st, want)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := c.WaitSynchronized(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitSynchronized = %v, want DeadlineExceeded", err)
		}
	})
}

func TestEnableDisable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeServer{}
		c := newFake(t, srv, WithOffset(200*time.Millisecond))
		if err := c.EnableNTP(""); err == nil {
			t.Fatal("empty server accepted")
		}
		if err := c.EnableNTP("a:123"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ch := c.Changes()
		if err := c.EnableNTP("a:123"); err != nil { // same server: nothing happens
			t.Fatal(err)
		}
		select {
		case <-ch:
			t.Fatal("enabling the same server changed the status")
		default:
		}
		if err := c.EnableNTP("b:123"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := c.Status(); st.Server != "b:123" || st.Polls != 1 {
			t.Fatalf("after switching servers: %+v", st)
		}
		<-ch // closed by the switch
		// Disabling keeps the slew in progress going.
		time.Sleep(100 * time.Millisecond)
		c.DisableNTP()
		c.DisableNTP()
		if st := c.Status(); st.State != StateDisabled || st.Server != "" {
			t.Fatalf("after DisableNTP: %+v", st)
		}
		polls := srv.queries.Load()
		time.Sleep(time.Second)
		if off := c.Offset(); off != 0 {
			t.Fatalf("slew not completed after DisableNTP: Offset %v", off)
		}
		if n := srv.queries.Load(); n != polls {
			t.Fatalf("%d polls after DisableNTP", n-polls)
		}
		if _, err := c.WaitSynchronized(t.Context()); err == nil {
			t.Fatal("WaitSynchronized succeeded with NTP disabled")
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.EnableNTP("a:123"); !errors.Is(err, ErrClosed) {
			t.Fatalf("EnableNTP after Close = %v, want ErrClosed", err)
		}
	})
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		ok   bool
	}{
		{"drift", WithDrift(-999999), true},
		{"drift too large", WithDrift(1e6), false},
		{"drift NaN", WithDrift(math.NaN()), false},
		{"drift Inf", WithDrift(math.Inf(-1)), false},
		{"topology drift out of range", WithTopology(&topology.Clock{DriftPPM: -2e6}), false},
		{"poll", WithPollInterval(time.Second), true},
		{"poll zero", WithPollInterval(0), false},
		{"slew", WithSlewRate(999 * time.Millisecond), true},
		{"slew zero", WithSlewRate(0), false},
		{"slew one second", WithSlewRate(time.Second), false},
		{"sync threshold", WithSyncThreshold(0), true},
		{"sync threshold negative", WithSyncThreshold(-1), false},
		{"step threshold negative", WithStepThreshold(-1), false},
		{"logger nil", WithLogger(nil), true},
		{"nil option", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opt)
			if (err == nil) != tt.ok {
				t.Fatalf("New error = %v, want ok=%v", err, tt.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetDrift(math.NaN()); err == nil {
		t.Error("SetDrift(NaN) accepted")
	}
	for s, want := range map[SyncState]string{StateDisabled: "disabled", StateUnsynchronized: "unsynchronized", StateSlewing: "slewing", StateSynchronized: "synchronized", 9: "SyncState(9)"} {
		if b, _ := s.MarshalText(); string(b) != want {
			t.Errorf("%d: %s, want %s", int(s), b, want)
		}
	}
}
