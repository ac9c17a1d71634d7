package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// lineWriter hands every complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.Reset()
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimSuffix(line, "\n"):
		default:
		}
	}
}

// waitLine reads lines until one contains all of subs.
func (w *lineWriter) waitLine(t *testing.T, ctx context.Context, subs ...string) string {
	t.Helper()
	for {
		select {
		case line := <-w.lines:
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(line, s)
			}
			if ok {
				return line
			}
		case <-ctx.Done():
			t.Fatalf("no output line with %q", subs)
		}
	}
}

func gnmiTestbed(t *testing.T) (*testbed.Testbed, string) {
	t.Helper()
	tb, err := testbed.Start(topology.LeafSpine(1, 1, topology.WithHostPorts(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb, tb.Switch("leaf1").Addr()
}

func TestGnmiGetAndSet(t *testing.T) {
	_, addr := gnmiTestbed(t)
	conn := []string{"--target", addr, "--insecure"}
	args := func(a ...string) []string { return append(append([]string{"gnmi"}, a...), conn...) }

	stdout, _, err := run(t, args("set",
		"--update", "/interfaces/interface[name=eth1]/config/description=to spine1",
		"--update", "/interfaces/interface[name=eth1]/config/mtu=9000",
		"--replace", `/system/ntp/config={"enabled":true}`,
		"--delete", "/system/ntp/servers")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OP", "PATH", "delete    /system/ntp/servers", "replace   /system/ntp/config", "update    /interfaces/interface[name=eth1]/config/description"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("set output lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, err = run(t, args("get", "--encoding", "proto", "/interfaces/interface[name=eth1]/config")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TIMESTAMP", "PATH", "VALUE", "/interfaces/interface[name=eth1]/config/description   to spine1", "/interfaces/interface[name=eth1]/config/mtu           9000"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("get output lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, err = run(t, args("get", "-o", "json", "/system/ntp/config", "/interfaces/interface[name=eth2]/state/oper-status")...)
	if err != nil {
		t.Fatal(err)
	}
	var recs []gnmiRecord
	if err := json.Unmarshal([]byte(stdout), &recs); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	// eth2 faces a host outside the testbed: up as long as it is enabled.
	if len(recs) != 2 || recs[0].Path != "/system/ntp/config" || recs[1].Value != "UP" {
		t.Fatalf("records = %+v", recs)
	}
	if v, ok := recs[0].Value.(map[string]any); !ok || v["enabled"] != true {
		t.Fatalf("ntp config = %#v", recs[0].Value)
	}

	errs := []struct {
		args []string
		want string
	}{
		{[]string{"gnmi", "get", "/system"}, "--target is required"},
		{args("get", "--type", "bogus", "/system"), "--type"},
		{args("get", "/acme"), "InvalidArgument"},
		{args("set"), "nothing to do"},
		{args("set", "--update", "novalue"), "want PATH=VALUE"},
		{args("set", "--update", "/interfaces/interface[name=eth9]/config/mtu=1500"), "NotFound"},
		{args("set", "--update", "/interfaces/interface[name=eth1]/config/enabled=maybe"), "InvalidArgument"},
		{args("get", "--tls-ca", "ca.pem", "/system"), "exclusive"},
		{args("get", "--encoding", "xml", "/system"), "--encoding"},
		{args("subscribe", "--mode", "sometimes", "/system"), "--mode"},
		{args("subscribe", "--stream-mode", "often", "/system"), "--stream-mode"},
	}
	for _, tc := range errs {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestGnmiSubscribeOnceAndPoll(t *testing.T) {
	_, addr := gnmiTestbed(t)
	stdout, stderr, err := run(t, "gnmi", "subscribe", "--target", addr, "--insecure", "--mode", "once", "-o", "json", "/interfaces/interface/config/mtu")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.Contains(stderr, "sync") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
	for _, l := range lines {
		var r gnmiRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Value != float64(1500) || r.Timestamp.IsZero() {
			t.Fatalf("line %q: %+v, %v", l, r, err)
		}
	}

	stdout, _, err = run(t, "gnmi", "subscribe", "--target", addr, "--insecure", "--mode", "once", "-o", "yaml", "/system/config/hostname")
	if err != nil || !strings.HasPrefix(stdout, "---\npath: /system/config/hostname\n") || !strings.Contains(stdout, "value: leaf1\n") {
		t.Fatalf("yaml: %v\n%s", err, stdout)
	}

	// Poll: the initial values, then once per input line, until the input
	// ends.
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs([]string{"gnmi", "subscribe", "--target", addr, "--insecure", "--mode", "poll", "--encoding", "proto", "/system/config/hostname"})
	root.SetIn(strings.NewReader("\n\n"))
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "/system/config/hostname"); n != 3 {
		t.Fatalf("%d rows:\n%s", n, out.String())
	}
	if !strings.HasPrefix(out.String(), "TIMESTAMP") {
		t.Fatalf("no header:\n%s", out.String())
	}
}

func TestGnmiSubscribeStreamUntilInterrupted(t *testing.T) {
	tb, addr := gnmiTestbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	out, errOut := newLineWriter(), newLineWriter()
	root := newRootCmd()
	root.SetArgs([]string{"gnmi", "subscribe", "--target", addr, "--insecure", "--stream-mode", "on-change",
		"--heartbeat", "1h", "/interfaces/interface[name=eth1]/state/oper-status"})
	root.SetOut(out)
	root.SetErr(errOut)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()

	out.waitLine(t, ctx, "TIMESTAMP", "PATH", "VALUE")
	out.waitLine(t, ctx, "/interfaces/interface[name=eth1]/state/oper-status", "UP")
	errOut.waitLine(t, ctx, "sync")
	if err := tb.SetPortAdmin("spine1", 1, false); err != nil {
		t.Fatal(err)
	}
	out.waitLine(t, ctx, "/interfaces/interface[name=eth1]/state/oper-status", "DOWN")
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("subscribe after interrupt: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("subscribe did not stop when interrupted")
	}
}
