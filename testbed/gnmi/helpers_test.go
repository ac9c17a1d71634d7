package gnmi_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

// TestMain points glog (linked in through openconfig/gnmi's cache) at an
// empty folder and fails the run if anything was written there: the
// server must never reach a glog call.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gnmi-glog-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := flag.Set("log_dir", dir); err != nil {
		fmt.Fprintln(os.Stderr, "glog flag log_dir:", err)
		os.Exit(2)
	}
	code := m.Run()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		fmt.Fprintf(os.Stderr, "glog wrote into %s: %v (%v)\n", dir, names, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// testCtx is the bound of one test.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serve runs a gNMI server on loopback TCP.
func serve(t testing.TB, opts ...gnmisrv.Option) (*gnmisrv.Server, string) {
	t.Helper()
	srv, err := gnmisrv.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return srv, lis.Addr().String()
}

func dial(t testing.TB, addr string, opts ...gnmiclient.Option) *gnmiclient.Client {
	t.Helper()
	c, err := gnmiclient.Dial(addr, append([]gnmiclient.Option{gnmiclient.WithInsecure()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// subscribe starts a subscription bounded by the test.
func subscribe(t testing.TB, ctx context.Context, c *gnmiclient.Client, req gnmiclient.SubscribeRequest) *gnmiclient.SubscribeStream {
	t.Helper()
	st, err := c.Subscribe(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func recv(t testing.TB, st *gnmiclient.SubscribeStream) gnmiclient.Event {
	t.Helper()
	ev, err := st.Recv(recvCtx(t))
	if err != nil {
		t.Fatalf("subscription ended: %v", err)
	}
	if ev.DecodeErr != nil {
		t.Fatalf("undecodable notification: %v", ev.DecodeErr)
	}
	return ev
}

// untilSync collects the updates up to the next sync response.
func untilSync(t testing.TB, st *gnmiclient.SubscribeStream) []gnmiclient.Update {
	t.Helper()
	var out []gnmiclient.Update
	for {
		ev := recv(t, st)
		if ev.Sync {
			return out
		}
		if ev.Disconnected != nil {
			t.Fatalf("disconnected before the sync response: %v", ev.Disconnected)
		}
		out = append(out, ev.Updates...)
	}
}

// waitUpdate reads until an update satisfies ok, and returns it.
func waitUpdate(t testing.TB, st *gnmiclient.SubscribeStream, what string, ok func(gnmiclient.Update) bool) gnmiclient.Update {
	t.Helper()
	for {
		ev, err := st.Recv(recvCtx(t))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		for _, u := range ev.Updates {
			if ok(u) {
				return u
			}
		}
	}
}

func is(path string, value any) func(gnmiclient.Update) bool {
	return func(u gnmiclient.Update) bool { return u.Path == path && fmt.Sprint(u.Value) == fmt.Sprint(value) }
}

// byPath indexes records by path.
func byPath(us []gnmiclient.Update) map[string]any {
	m := map[string]any{}
	for _, u := range us {
		m[u.Path] = u.Value
	}
	return m
}

func get(t testing.TB, ctx context.Context, c *gnmiclient.Client, enc gpb.Encoding, paths ...string) map[string]any {
	t.Helper()
	us, err := c.Get(ctx, paths, gnmiclient.GetEncoding(enc))
	if err != nil {
		t.Fatalf("get %v: %v", paths, err)
	}
	return byPath(us)
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// recvCtx bounds one wait for an event: the test's own bound applies to the
// subscription, this one to a single Recv.
func recvCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
