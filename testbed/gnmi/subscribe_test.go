package gnmi_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

const (
	hostnamePath = "/system/config/hostname"
	datetimePath = "/system/state/current-datetime"
	eth1Oper     = "/interfaces/interface[name=eth1]/state/oper-status"
)

func TestSubscribeOnce(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(2))
	c := dial(t, addr)
	tests := []struct {
		name        string
		updatesOnly bool
		enc         gpb.Encoding
		want        map[string]any
	}{
		{"values then sync", false, gpb.Encoding_JSON, map[string]any{
			"/interfaces/interface[name=eth1]/config/mtu": int64(1500), "/interfaces/interface[name=eth2]/config/mtu": int64(1500),
		}},
		{"proto", false, gpb.Encoding_PROTO, map[string]any{
			"/interfaces/interface[name=eth1]/config/mtu": uint64(1500), "/interfaces/interface[name=eth2]/config/mtu": uint64(1500),
		}},
		{"json_ietf quotes nothing below 64 bits", false, gpb.Encoding_JSON_IETF, map[string]any{
			"/interfaces/interface[name=eth1]/config/mtu": int64(1500), "/interfaces/interface[name=eth2]/config/mtu": int64(1500),
		}},
		{"updates only: just the sync", true, gpb.Encoding_JSON, map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{
				Mode: gnmiclient.Once, UpdatesOnly: tc.updatesOnly, Encoding: tc.enc,
				Subscriptions: []gnmiclient.Subscription{{Path: "/interfaces/interface/config/mtu"}},
			})
			got := byPath(untilSync(t, st))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for p, v := range tc.want {
				if got[p] != v {
					t.Errorf("%s = %#v, want %#v", p, got[p], v)
				}
			}
			if _, err := st.Recv(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after the sync response: %v, want io.EOF", err)
			}
		})
	}
}

func TestSubscribePoll(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(2))
	c := dial(t, addr)
	st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Mode: gnmiclient.Poll, Subscriptions: []gnmiclient.Subscription{{Path: hostnamePath}}})
	if got := byPath(untilSync(t, st)); got[hostnamePath] != "s1" || len(got) != 1 {
		t.Fatalf("initial poll = %v", got)
	}
	for _, name := range []string{"h1", "h2"} {
		if _, err := c.Set(ctx, gnmiclient.SetUpdate(hostnamePath, name)); err != nil {
			t.Fatal(err)
		}
		if err := st.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if got := byPath(untilSync(t, st)); got[hostnamePath] != name {
			t.Fatalf("poll after setting %s = %v", name, got)
		}
	}
	// Poll is for POLL subscriptions only.
	once := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Mode: gnmiclient.Once, Subscriptions: []gnmiclient.Subscription{{Path: hostnamePath}}})
	if err := once.Poll(ctx); err == nil {
		t.Fatal("Poll on a ONCE subscription: want an error")
	}
}

func TestSubscribeOnChange(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(2))
	c := dial(t, addr)
	st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/interfaces/interface[name=eth1]/state/oper-status", Mode: gnmiclient.OnChange},
		{Path: "/messages", Mode: gnmiclient.OnChange},
	}})
	initial := byPath(untilSync(t, st))
	if initial[eth1Oper] != "DOWN" {
		t.Fatalf("initial = %v", initial)
	}
	srv.SetOperStatus(1, true)
	u := waitUpdate(t, st, "oper-status UP", is(eth1Oper, "UP"))
	if u.Timestamp.IsZero() {
		t.Error("no timestamp")
	}
	waitUpdate(t, st, "LINK_UP message", is("/messages/state/message/msgid", gnmisrv.MsgLinkUp))
	srv.SetOperStatus(1, false)
	waitUpdate(t, st, "oper-status DOWN", is(eth1Oper, "DOWN"))
	// Port 2 is not subscribed to: its change arrives only as a message.
	srv.SetOperStatus(2, true)
	ev := recv(t, st)
	for _, u := range ev.Updates {
		if u.Path == "/interfaces/interface[name=eth2]/state/oper-status" {
			t.Fatalf("update for an unsubscribed path: %v", u)
		}
	}
}

func TestSubscribeUpdatesOnlyStream(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	st := subscribe(t, ctx, dial(t, addr), gnmiclient.SubscribeRequest{UpdatesOnly: true,
		Subscriptions: []gnmiclient.Subscription{{Path: eth1Oper, Mode: gnmiclient.OnChange}}})
	if ev := recv(t, st); !ev.Sync {
		t.Fatalf("first event = %+v, want the sync response", ev)
	}
	srv.SetOperStatus(1, true)
	if ev := recv(t, st); len(ev.Updates) != 1 || ev.Updates[0].Value != "UP" {
		t.Fatalf("event = %+v, want the change only", ev)
	}
}

// timestamps collects the timestamps of n updates of path.
func timestamps(t *testing.T, st *gnmiclient.SubscribeStream, path string, n int) []time.Time {
	t.Helper()
	var ts []time.Time
	for len(ts) < n {
		for _, u := range recv(t, st).Updates {
			if u.Path == path {
				ts = append(ts, u.Timestamp)
			}
		}
	}
	return ts
}

// checkRate checks that timestamps come about once per interval, in a way
// a loaded machine does not break: the median gap is within [0.5, 2]
// intervals (the target keeps the rate), and no window of n intervals
// starting at a sample holds more than n+2 of them (it never samples
// faster than asked; a late sample may be followed by an on-time one).
func checkRate(t *testing.T, ts []time.Time, interval time.Duration, n int) {
	t.Helper()
	gaps := make([]time.Duration, 0, len(ts))
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]))
	}
	slices.Sort(gaps)
	if med := gaps[len(gaps)/2]; med < interval/2 || med > 2*interval {
		t.Errorf("median gap %v at interval %v; gaps %v", med, interval, gaps)
	}
	for j := range ts {
		end := ts[j].Add(time.Duration(n) * interval)
		count := 0
		for _, x := range ts[j:] {
			if x.Before(end) {
				count++
			}
		}
		if count > n+2 {
			t.Fatalf("%d samples within %v from sample %d at interval %v: %v", count, time.Duration(n)*interval, j, interval, ts)
		}
	}
}

func TestSubscribeSampleInterval(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	const interval, n = 40 * time.Millisecond, 10
	st := subscribe(t, ctx, dial(t, addr), gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/interfaces/interface[name=eth1]/config/mtu", Mode: gnmiclient.Sample, SampleInterval: interval},
	}})
	untilSync(t, st)
	ts := timestamps(t, st, "/interfaces/interface[name=eth1]/config/mtu", 2*n)
	checkRate(t, ts, interval, n)
}

func TestSubscribeHeartbeat(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	const heartbeat, n = 40 * time.Millisecond, 8
	st := subscribe(t, ctx, dial(t, addr), gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: hostnamePath, Mode: gnmiclient.OnChange, Heartbeat: heartbeat},
	}})
	untilSync(t, st)
	// The hostname never changes, yet it comes once per heartbeat.
	ts := timestamps(t, st, hostnamePath, 2*n)
	checkRate(t, ts, heartbeat, n)
}

func TestSubscribeSuppressRedundant(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	c := dial(t, addr)
	const interval = 5 * time.Millisecond
	tests := []struct {
		name      string
		heartbeat time.Duration
	}{
		{"no heartbeat", 0},
		{"heartbeat every 10 intervals", 10 * interval},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{{
				Path: "/system/state", Mode: gnmiclient.Sample, SampleInterval: interval,
				SuppressRedundant: true, Heartbeat: tc.heartbeat,
			}}})
			if got := byPath(untilSync(t, st)); got["/system/state/hostname"] != "s1" {
				t.Fatalf("initial sample = %v", got)
			}
			// current-datetime changes at every sample and marks them;
			// the hostname does not change.
			var stamps []time.Time
			hostnames := 0
			for len(stamps) < 40 {
				for _, u := range recv(t, st).Updates {
					switch u.Path {
					case datetimePath:
						stamps = append(stamps, u.Timestamp)
					case "/system/state/hostname":
						hostnames++
					}
				}
			}
			if tc.heartbeat == 0 {
				if hostnames != 0 {
					t.Fatalf("unchanged hostname sent %d times in 40 samples", hostnames)
				}
			} else {
				// One send at the first sample after each heartbeat
				// interval, whatever the machine's load did to the samples.
				beats, last := 0, stamps[0]
				for _, x := range stamps[1:] {
					if x.Sub(last) >= tc.heartbeat {
						beats++
						last = x
					}
				}
				if hostnames < beats-2 || hostnames > beats+2 || hostnames == 0 {
					t.Fatalf("unchanged hostname sent %d times in 40 samples over %v, want about %d (heartbeat %v)",
						hostnames, stamps[39].Sub(stamps[0]), beats, tc.heartbeat)
				}
			}
			// A change is sent at the next sample.
			if _, err := c.Set(ctx, gnmiclient.SetUpdate(hostnamePath, "renamed")); err != nil {
				t.Fatal(err)
			}
			waitUpdate(t, st, "the new hostname", is("/system/state/hostname", "renamed"))
			if _, err := c.Set(ctx, gnmiclient.SetDelete(hostnamePath)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSubscribeSampleSendsDeletes(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	c := dial(t, addr)
	if _, err := c.Set(ctx, gnmiclient.SetUpdate("/system/ntp/servers/server[address=192.0.2.1]/config/port", 123)); err != nil {
		t.Fatal(err)
	}
	st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/system/ntp/servers", Mode: gnmiclient.Sample, SampleInterval: 10 * time.Millisecond},
	}})
	if got := byPath(untilSync(t, st)); got["/system/ntp/servers/server[address=192.0.2.1]/config/port"] != int64(123) {
		t.Fatalf("initial = %v", got)
	}
	if _, err := c.Set(ctx, gnmiclient.SetDelete("/system/ntp/servers")); err != nil {
		t.Fatal(err)
	}
	waitUpdate(t, st, "a delete", func(u gnmiclient.Update) bool {
		return u.Deleted && u.Path == "/system/ntp/servers/server[address=192.0.2.1]/config/port"
	})
}

func TestSubscribeTargetDefined(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1),
		gnmisrv.WithCounters(func(uint32) gnmisrv.Counters { return gnmisrv.Counters{} }))
	const interval = 20 * time.Millisecond
	st := subscribe(t, ctx, dial(t, addr), gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/interfaces/interface[name=eth1]/state", Mode: gnmiclient.TargetDefined, SampleInterval: interval},
	}})
	initial := byPath(untilSync(t, st))
	if initial[eth1Oper] != "DOWN" || initial["/interfaces/interface[name=eth1]/state/counters/in-pkts"] != int64(0) {
		t.Fatalf("initial = %v", initial)
	}
	// Counters are sampled...
	ts := timestamps(t, st, "/interfaces/interface[name=eth1]/state/counters/in-pkts", 8)
	checkRate(t, ts, interval, 4)
	// ...the rest streams on change.
	srv.SetOperStatus(1, true)
	waitUpdate(t, st, "oper-status on change", is(eth1Oper, "UP"))
}

func TestSubscribeErrors(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1), gnmisrv.WithMinSampleInterval(10*time.Millisecond))
	c := dial(t, addr)
	sub := func(p string, m gnmiclient.StreamMode, interval time.Duration) *gpb.SubscribeRequest {
		r, err := gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{{Path: p, Mode: m, SampleInterval: interval}}}.Proto("")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	poll := &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}}
	tests := []struct {
		name string
		reqs []*gpb.SubscribeRequest
		code codes.Code
	}{
		{"poll first", []*gpb.SubscribeRequest{poll}, codes.InvalidArgument},
		{"no subscriptions", []*gpb.SubscribeRequest{{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: &gpb.SubscriptionList{}}}}, codes.InvalidArgument},
		{"unknown path", []*gpb.SubscribeRequest{sub("/acme/widgets", gnmiclient.OnChange, 0)}, codes.InvalidArgument},
		{"interval below the minimum", []*gpb.SubscribeRequest{sub(hostnamePath, gnmiclient.Sample, time.Millisecond)}, codes.InvalidArgument},
		{"poll on a stream", []*gpb.SubscribeRequest{sub(hostnamePath, gnmiclient.OnChange, 0), poll}, codes.InvalidArgument},
		{"second subscription list", []*gpb.SubscribeRequest{sub(hostnamePath, gnmiclient.OnChange, 0), sub(hostnamePath, gnmiclient.OnChange, 0)}, codes.InvalidArgument},
		{"ascii", []*gpb.SubscribeRequest{{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: &gpb.SubscriptionList{
			Encoding: gpb.Encoding_ASCII, Subscription: []*gpb.Subscription{{Path: &gpb.Path{}}}}}}}, codes.Unimplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := c.Raw().Subscribe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.reqs {
				if err := stream.Send(r); err != nil {
					break // the server ended the RPC; Recv says why
				}
			}
			for {
				_, err := stream.Recv()
				if err == nil {
					continue // initial updates of a valid first request
				}
				if status.Code(err) != tc.code {
					t.Fatalf("error = %v, want %v", err, tc.code)
				}
				return
			}
		})
	}
	t.Run("refused stream is not retried", func(t *testing.T) {
		st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{{Path: "/acme", Mode: gnmiclient.OnChange}}})
		ev, err := st.Recv(ctx)
		if status.Code(err) != codes.InvalidArgument || ev.Disconnected != nil {
			t.Fatalf("event %+v, error %v", ev, err)
		}
	})
}

func TestSubscribeMessagesKeepEveryEvent(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	st := subscribe(t, ctx, dial(t, addr), gnmiclient.SubscribeRequest{UpdatesOnly: true,
		Subscriptions: []gnmiclient.Subscription{{Path: "/messages/state/message", Mode: gnmiclient.OnChange}}})
	recv(t, st) // sync
	// Identical messages in a burst: each one arrives, as one atomic
	// notification.
	for range 5 {
		srv.Publish(gnmisrv.Message{Severity: gnmisrv.SeverityWarning, App: "test", ID: "SAME", Text: "same text"})
	}
	for i := range 5 {
		ev := recv(t, st)
		if !ev.Notification.GetAtomic() || len(ev.Updates) != 4 {
			t.Fatalf("message %d = %v", i, ev.Notification)
		}
		got := byPath(ev.Updates)
		if got["/messages/state/message/msg"] != "same text" || got["/messages/state/message/priority"] != int64(4) {
			t.Fatalf("message %d = %v", i, got)
		}
	}
}

func TestSlowSubscriberIsDisconnected(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1), gnmisrv.WithMaxQueue(5))
	c := dial(t, addr)
	req, err := gnmiclient.SubscribeRequest{UpdatesOnly: true, Subscriptions: []gnmiclient.Subscription{{Path: "/messages", Mode: gnmiclient.OnChange}}}.Proto("")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.Raw().Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	if resp, err := stream.Recv(); err != nil || !resp.GetSyncResponse() {
		t.Fatalf("first response %v, %v", resp, err)
	}
	// The client reads nothing while the switch publishes far more than
	// the transport buffers: the queue overflows and the switch drops the
	// subscriber instead of slowing down.
	for i := range 20000 {
		srv.Publish(gnmisrv.Message{Severity: gnmisrv.SeverityInfo, App: "test", ID: "FLOOD", Text: "message " + strconv.Itoa(i)})
	}
	for {
		_, err := stream.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("error = %v, want RESOURCE_EXHAUSTED", err)
		}
		return
	}
}
