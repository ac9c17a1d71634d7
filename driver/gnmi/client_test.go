package gnmi_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// server serves a gNMI server on addr ("127.0.0.1:0" for any port) until
// the returned stop is called.
func server(t *testing.T, srv *gnmisrv.Server, addr string) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	stop := func() { g.Stop(); lis.Close() }
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

func TestDial(t *testing.T) {
	if _, err := gnmi.Dial("127.0.0.1:1"); err == nil {
		t.Error("Dial without WithTLS or WithInsecure: want an error")
	}
	if _, err := gnmi.Dial("127.0.0.1:1", gnmi.WithInsecure(), gnmi.WithTLS(&tls.Config{})); err == nil {
		t.Error("Dial with both: want an error")
	}
	c, err := gnmi.Dial("127.0.0.1:1", gnmi.WithTLS(&tls.Config{MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := testCtx(t)
	// Nothing listens there: the RPC fails, it does not hang.
	if _, err := c.Capabilities(ctx); err == nil {
		t.Error("Capabilities on a closed client: want an error")
	}
}

func TestSetRequestOrder(t *testing.T) {
	c, err := gnmi.Dial("127.0.0.1:1", gnmi.WithInsecure(), gnmi.WithTarget("leaf1"), gnmi.WithEncoding(gpb.Encoding_PROTO))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, err := c.SetRequest(
		gnmi.SetUpdate("/a", "u1"), gnmi.SetDelete("/d1"), gnmi.SetReplace("/r", true),
		gnmi.SetUpdate("/b", uint32(2)), gnmi.SetDelete("/d2"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if req.GetPrefix().GetTarget() != "leaf1" || len(req.GetDelete()) != 2 || len(req.GetReplace()) != 1 || len(req.GetUpdate()) != 2 {
		t.Fatalf("request = %v", req)
	}
	if req.GetDelete()[1].GetElem()[0].GetName() != "d2" || req.GetUpdate()[1].GetVal().GetUintVal() != 2 {
		t.Fatalf("request = %v", req)
	}
	for _, ops := range [][]gnmi.SetOp{{gnmi.SetUpdate("/a[", 1)}, {gnmi.SetUpdate("/a", map[string]any{})}, {{}}} {
		if _, err := c.SetRequest(ops...); err == nil {
			t.Errorf("SetRequest(%v): want an error", ops)
		}
	}
}

func TestSubscribeRequestProto(t *testing.T) {
	good := gnmi.Subscription{Path: "/system"}
	for name, r := range map[string]gnmi.SubscribeRequest{
		"no paths":          {},
		"bad path":          {Subscriptions: []gnmi.Subscription{{Path: "/a["}}},
		"bad prefix":        {Prefix: "/a[", Subscriptions: []gnmi.Subscription{good}},
		"negative interval": {Subscriptions: []gnmi.Subscription{{Path: "/a", SampleInterval: -1}}},
		"bad list mode":     {Mode: 7, Subscriptions: []gnmi.Subscription{good}},
		"bad stream mode":   {Subscriptions: []gnmi.Subscription{{Path: "/a", Mode: 9}}},
	} {
		if _, err := r.Proto(""); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	p, err := gnmi.SubscribeRequest{Mode: gnmi.Poll, Prefix: "/interfaces", Subscriptions: []gnmi.Subscription{
		{Path: "interface[name=eth1]/state", Mode: gnmi.Sample, SampleInterval: time.Second, Heartbeat: time.Minute, SuppressRedundant: true},
	}}.Proto("t1")
	if err != nil {
		t.Fatal(err)
	}
	l := p.GetSubscribe()
	s := l.GetSubscription()[0]
	if l.GetMode() != gpb.SubscriptionList_POLL || l.GetPrefix().GetTarget() != "t1" || s.GetMode() != gpb.SubscriptionMode_SAMPLE ||
		s.GetSampleInterval() != uint64(time.Second) || s.GetHeartbeatInterval() != uint64(time.Minute) || !s.GetSuppressRedundant() {
		t.Fatalf("request = %v", p)
	}
	for m, want := range map[gnmi.ListMode]string{gnmi.Stream: "stream", gnmi.Once: "once", gnmi.Poll: "poll", 5: "ListMode(5)"} {
		if m.String() != want {
			t.Errorf("%d: %q", int(m), m.String())
		}
	}
	for m, want := range map[gnmi.StreamMode]string{gnmi.TargetDefined: "target-defined", gnmi.OnChange: "on-change", gnmi.Sample: "sample", 5: "StreamMode(5)"} {
		if m.String() != want {
			t.Errorf("%d: %q", int(m), m.String())
		}
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[codes.Code]bool{
		codes.Unavailable: true, codes.Internal: true, codes.ResourceExhausted: true, codes.Unknown: true,
		codes.InvalidArgument: false, codes.NotFound: false, codes.Unimplemented: false,
		codes.PermissionDenied: false, codes.Unauthenticated: false,
	} {
		if got := gnmi.Retryable(status.Error(code, "x")); got != want {
			t.Errorf("%v: %v", code, got)
		}
	}
	if !gnmi.Retryable(io.EOF) {
		t.Error("io.EOF (the target ended the stream) should be retried")
	}
}

func TestSubscribeResumesAfterTargetRestart(t *testing.T) {
	ctx := testCtx(t)
	srv, err := gnmisrv.New(gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := server(t, srv, "127.0.0.1:0")
	c, err := gnmi.Dial(addr, gnmi.WithInsecure(), gnmi.WithReconnectBackoff(5*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Subscribe(ctx, gnmi.SubscribeRequest{Subscriptions: []gnmi.Subscription{
		{Path: "/interfaces/interface[name=eth1]/state/oper-status", Mode: gnmi.OnChange}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	next := func() gnmi.Event {
		t.Helper()
		ev, err := st.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := next(); len(ev.Updates) != 1 || ev.Updates[0].Value != "DOWN" {
		t.Fatalf("first event = %+v", ev)
	}
	if ev := next(); !ev.Sync {
		t.Fatalf("second event = %+v", ev)
	}
	// Recv's own context bounds one wait, not the subscription.
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if ev, err := st.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with nothing to receive: %+v, %v", ev, err)
	}
	for i := range 2 {
		stop()
		if ev := next(); ev.Disconnected == nil || status.Code(ev.Disconnected) != codes.Unavailable {
			t.Fatalf("restart %d: event %+v, want a disconnection", i, ev)
		}
		srv.SetOperStatus(1, i == 0) // changes while nobody listens
		_, stop = server(t, srv, addr)
		// The subscription is established again: current value, sync.
		var ev gnmi.Event
		for ev = next(); ev.Disconnected != nil; ev = next() {
			// more attempts while the server came back
		}
		want := map[int]string{0: "UP", 1: "DOWN"}[i]
		if len(ev.Updates) != 1 || ev.Updates[0].Value != want {
			t.Fatalf("restart %d: event %+v, want %s", i, ev, want)
		}
		if ev := next(); !ev.Sync {
			t.Fatalf("restart %d: event %+v, want the sync response", i, ev)
		}
	}
	st.Close()
	if _, err := st.Recv(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestSubscribeOnceAndPollEnd(t *testing.T) {
	ctx := testCtx(t)
	srv, err := gnmisrv.New(gnmisrv.WithName("s1"), gnmisrv.WithPorts(1))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := server(t, srv, "127.0.0.1:0")
	c, err := gnmi.Dial(addr, gnmi.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Subscribe(ctx, gnmi.SubscribeRequest{Mode: gnmi.Poll, Subscriptions: []gnmi.Subscription{{Path: "/system/config"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		ev, err := st.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Sync {
			break
		}
	}
	// A POLL subscription is not re-established: the target going away
	// ends it.
	stop()
	for {
		ev, err := st.Recv(ctx)
		if err != nil {
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("error = %v, want UNAVAILABLE", err)
			}
			break
		}
		if ev.Disconnected != nil {
			t.Fatal("POLL subscription tried to reconnect")
		}
	}
	if err := st.Poll(ctx); err == nil {
		t.Fatal("Poll on an ended subscription: want an error")
	}
	if _, err := c.SubscribeProto(ctx, &gpb.SubscribeRequest{}); err == nil {
		t.Fatal("SubscribeProto without a list: want an error")
	}
}
