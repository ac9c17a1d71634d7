package timesync_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// testTimeout bounds every test.
const testTimeout = 60 * time.Second

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startTestbed starts the topology written in YAML.
func startTestbed(t testing.TB, yaml string) *testbed.Testbed {
	t.Helper()
	topo, err := topology.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

// dialBox returns a Box for a testbed switch, with real gNOI and gNMI
// clients over loopback.
func dialBox(t testing.TB, tb *testbed.Testbed, name string, module uint32) timesync.Box {
	t.Helper()
	sw := tb.Switch(name)
	if sw == nil {
		t.Fatalf("no switch %q", name)
	}
	tc, err := gnoi.Dial(sw.Addr(), gnoi.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	cc, err := gnmi.Dial(sw.Addr(), gnmi.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return timesync.Box{Name: name, Module: module, Time: tc, Config: cc}
}

// newService makes a Service closed at the end of the test.
func newService(t testing.TB, opts ...timesync.Option) *timesync.Service {
	t.Helper()
	s, err := timesync.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// alarms collects the alarms a Service delivers.
type alarms struct{ ch chan timesync.Alarm }

func newAlarms() *alarms { return &alarms{ch: make(chan timesync.Alarm, 1024)} }

func (a *alarms) option() timesync.Option {
	return timesync.WithAlarm(func(al timesync.Alarm) { a.ch <- al })
}

// next waits for the next alarm of box that is raised (or cleared), and
// skips the others.
func (a *alarms) next(ctx context.Context, t testing.TB, box string, raised bool) timesync.Alarm {
	t.Helper()
	for {
		select {
		case al := <-a.ch:
			if al.Box == box && al.Raised == raised {
				return al
			}
		case <-ctx.Done():
			t.Fatalf("box %q: no alarm with raised=%v: %v", box, raised, ctx.Err())
			return timesync.Alarm{}
		}
	}
}

// drain returns the alarms delivered so far (call after Close, which
// delivers everything queued).
func (a *alarms) drain() []timesync.Alarm {
	var out []timesync.Alarm
	for {
		select {
		case al := <-a.ch:
			out = append(out, al)
		default:
			return out
		}
	}
}

// fakeClock is a TimeClient whose box clock is the host clock plus an
// offset the test sets, with a round trip the test sets too, or an error.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
	bound  time.Duration
	err    error
	calls  int
}

func (f *fakeClock) set(offset, bound time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset, f.bound, f.err = offset, bound, nil
}

func (f *fakeClock) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Time implements timesync.TimeClient.
func (f *fakeClock) Time(ctx context.Context) (gnoi.TimeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return gnoi.TimeResult{}, f.err
	}
	if err := ctx.Err(); err != nil {
		return gnoi.TimeResult{}, err
	}
	local := time.Now().Round(0)
	dev := local.Add(f.offset)
	return gnoi.TimeResult{Time: dev, Local: local, Offset: f.offset, RTT: 2 * f.bound, ErrorBound: f.bound}, nil
}

// fakeConfig is a ConfigClient that accepts every Set and answers Get with
// fixed records (or errors).
type fakeConfig struct {
	mu             sync.Mutex
	sets           [][]string
	get            []gnmi.Update
	setErr, getErr error
}

// Set implements timesync.ConfigClient.
func (f *fakeConfig) Set(_ context.Context, ops ...gnmi.SetOp) (*gpb.SetResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, o := range ops {
		s = append(s, o.String())
	}
	f.sets = append(f.sets, s)
	if f.setErr != nil {
		return nil, f.setErr
	}
	return &gpb.SetResponse{}, nil
}

// Get implements timesync.ConfigClient.
func (f *fakeConfig) Get(context.Context, []string, ...gnmi.GetOption) ([]gnmi.Update, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get, f.getErr
}

var errBoxDown = errors.New("box unreachable")
