package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

const (
	testAdminToken = chassistest.AdminToken
	testReadToken  = chassistest.ReadToken
)

// fabricd is what the daemon would be in these tests: the chassis fixture
// (a LeafSpine(2,2) testbed, an orchestrator on a bolt store in a temporary
// directory) with time sync and fast discovery, and its northbound API
// over TLS on a loopback port with an admin and a read-only token.
type fabricd struct {
	*chassistest.Chassis
	api *chassistest.API
}

func startFabricd(t *testing.T) *fabricd {
	t.Helper()
	c := chassistest.Start(t)
	o := c.Open(t, orchestrator.WithTimeSync(timesync.WithThreshold(time.Second)),
		orchestrator.WithDiscovery(discovery.WithInterval(200*time.Millisecond)))
	return &fabricd{Chassis: c, api: c.Serve(t, o)}
}

// conn returns the connection flags for token ("" for none).
func (f *fabricd) conn(token string) []string {
	args := []string{"--server", f.api.Addr, "--tls-ca", f.api.CAFile}
	if token != "" {
		args = append(args, "--token", token)
	}
	return args
}

// ctl runs fabricctl with args and the connection flags of token, bounded
// in time.
func (f *fabricd) ctl(t *testing.T, token string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(append(args, f.conn(token)...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// admin runs fabricctl with the admin token and fails the test on error.
func (f *fabricd) admin(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := f.ctl(t, testAdminToken, args...)
	if err != nil {
		t.Fatalf("fabricctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// adminJSON runs fabricctl -o json with the admin token and decodes its
// output into v.
func (f *fabricd) adminJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := f.admin(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("fabricctl %s -o json: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// registerAll registers the testbed's switches through fabricctl, with
// the fixture's roles: modules 1 to 4 in testbed order.
func (f *fabricd) registerAll(t *testing.T) {
	t.Helper()
	for i, sw := range f.Switches() {
		var box boxView
		f.adminJSON(t, &box, "device", "register", "--name", sw.Name(), "--driver", builtin.Emulated,
			"--address", sw.Addr(), "--role", string(chassistest.Role(sw)), "--device-id", fmt.Sprint(sw.DeviceID()), "--box-insecure")
		if box.Module != uint32(i+1) || box.Serial != sw.Identity().Serial || box.Name != sw.Name() || !box.Connected {
			t.Fatalf("register %s = %+v, want module %d, serial %s, connected", sw.Name(), box, i+1, sw.Identity().Serial)
		}
	}
}

// writeConfig writes version v of the chassis config to a temporary file.
func writeConfig(t *testing.T, v int) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), fmt.Sprintf("chassis-v%d.yaml", v))
	if err := os.WriteFile(name, chassistest.ConfigYAML(v, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// follow starts a following fabricctl command; cancel interrupts it as
// Ctrl-C would, and the returned channel yields its error.
func (f *fabricd) follow(t *testing.T, ctx context.Context, token string, args ...string) (*lineWriter, context.CancelFunc, <-chan error) {
	t.Helper()
	runCtx, interrupt := context.WithCancel(ctx)
	out := newLineWriter()
	root := newRootCmd()
	root.SetArgs(append(args, f.conn(token)...))
	root.SetOut(out)
	root.SetErr(&bytes.Buffer{})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()
	return out, interrupt, done
}

// wait receives a command's result, failing at ctx's end.
func wait(t *testing.T, ctx context.Context, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		t.Fatal("command did not end")
		return nil
	}
}

func mustContain(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

// TestChassisCommands drives one fabricd through the whole command tree, in
// the order an operator would: register the boxes, look at the chassis,
// commit, compare, roll back, read events and logs, back up.
func TestChassisCommands(t *testing.T) {
	d := startFabricd(t)
	ctx := chassistest.Context(t, 50*time.Second)

	d.registerAll(t)
	serials := make([]string, 0, 4)
	for _, sw := range d.Switches() {
		serials = append(serials, sw.Identity().Serial)
	}

	t.Run("device list", func(t *testing.T) {
		out := d.admin(t, "device", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "SERIAL") {
			t.Fatalf("want header and 4 rows:\n%s", out)
		}
		for i, s := range serials {
			f := strings.Fields(lines[i+1])
			if f[0] != s || f[1] != fmt.Sprint(i+1) || f[len(f)-1] != "yes" {
				t.Errorf("row %d = %q, want serial %s, module %d, connected", i+1, lines[i+1], s, i+1)
			}
		}
		var boxes []boxView
		d.adminJSON(t, &boxes, "device", "list")
		if len(boxes) != 4 || boxes[2].Role != "forwarder" || boxes[0].Role != "fabric" || len(boxes[0].Ports) == 0 {
			t.Fatalf("JSON boxes = %+v", boxes)
		}
	})

	t.Run("module list and show", func(t *testing.T) {
		out := d.admin(t, "module", "list")
		mustContain(t, "module list", out, "MODULE", "PORTS", serials[3])
		out = d.admin(t, "module", "show", "3")
		mustContain(t, "module show 3", out, "INTERFACE", "eth-3/0/1", serials[2])
		var show boxView
		d.adminJSON(t, &show, "module", "show", "2")
		if show.Module != 2 || len(show.Ports) == 0 || show.Ports[0].Interface != fmt.Sprintf("eth-2/0/%d", show.Ports[0].ID) {
			t.Fatalf("module show 2 = %+v", show)
		}
		if _, _, err := d.ctl(t, testReadToken, "module", "show", "9"); err == nil || !strings.Contains(err.Error(), "module 9") {
			t.Fatalf("module show 9: error = %v, want one naming module 9", err)
		}
	})

	cfg1, cfg2 := writeConfig(t, 1), writeConfig(t, 2)

	t.Run("read-only token cannot commit", func(t *testing.T) {
		_, _, err := d.ctl(t, testReadToken, "config", "apply", cfg1)
		if err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
			t.Fatalf("config apply with the read-only token: error = %v, want PERMISSION_DENIED", err)
		}
		// It may read, though.
		if _, _, err := d.ctl(t, testReadToken, "device", "list"); err != nil {
			t.Fatalf("device list with the read-only token: %v", err)
		}
		_, _, err = d.ctl(t, "", "device", "list")
		if err == nil || !strings.Contains(err.Error(), "UNAUTHENTICATED") || !strings.Contains(err.Error(), "--token") {
			t.Fatalf("device list without a token: error = %v, want UNAUTHENTICATED with a hint", err)
		}
	})

	t.Run("diff candidate from stdin", func(t *testing.T) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetArgs(append([]string{"config", "diff", "-f", "-"}, d.conn(testReadToken)...))
		root.SetIn(bytes.NewReader(chassistest.ConfigYAML(1, 0)))
		root.SetOut(&out)
		root.SetErr(io.Discard)
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatal(err)
		}
		mustContain(t, "config diff -f -", out.String(), "- -> onos-basic", "- -> fabric-v1model")
	})

	t.Run("diff candidate before commit", func(t *testing.T) {
		var diff diffView
		d.adminJSON(t, &diff, "config", "diff", "-f", cfg1)
		if len(diff.Boxes) != 4 {
			t.Fatalf("diff -f: %+v, want 4 boxes", diff)
		}
		for _, b := range diff.Boxes {
			if b.Inserts == 0 || b.PipeconfTo == "" {
				t.Errorf("diff -f box %+v: want inserts and a pipeconf", b)
			}
		}
	})

	var op1 opView
	t.Run("apply", func(t *testing.T) {
		out, stderr, err := d.ctl(t, testAdminToken, "config", "apply", cfg1, "--comment", "first", "--progress")
		if err != nil {
			t.Fatalf("config apply: %v\n%s\n%s", err, out, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "OP ") {
			t.Fatalf("config apply: want header and one row per box:\n%s", out)
		}
		f := strings.Fields(lines[1])
		op1.ID = f[0]
		if f[1] != "commit" || f[2] != "COMMITTED" || f[3] != "1" {
			t.Fatalf("config apply row %q: want commit COMMITTED 1", lines[1])
		}
		mustContain(t, "config apply progress (stderr)", stderr, "apply", "4/4")

		out = d.admin(t, "config", "history")
		mustContain(t, "config history", out, "VERSION", op1.ID, "first")
		var hist []versionView
		d.adminJSON(t, &hist, "config", "history")
		if len(hist) != 1 || hist[0].Number != 1 || hist[0].Txn != op1.ID || hist[0].Comment != "first" {
			t.Fatalf("config history = %+v, want version 1 by %s", hist, op1.ID)
		}
		d.adminJSON(t, &op1, "operation", "get", op1.ID)
		if op1.State != "COMMITTED" || op1.Version != 1 || len(op1.Changes) != 4 {
			t.Fatalf("operation get = %+v", op1)
		}
	})

	t.Run("apply no-wait, watch, diff", func(t *testing.T) {
		var op opView
		d.adminJSON(t, &op, "config", "apply", cfg2, "-m", "second", "--no-wait")
		if op.ID == "" || op.Kind != "commit" {
			t.Fatalf("apply --no-wait = %+v", op)
		}
		d.adminJSON(t, &op, "operation", "watch", op.ID)
		if op.State != "COMMITTED" || op.Version != 2 {
			t.Fatalf("operation watch = %+v, want COMMITTED version 2", op)
		}
		out := d.admin(t, "config", "diff", "1", "2")
		mustContain(t, "config diff 1 2", out, "MODULE", "INSERTS", serials[0], serials[3])
		var diff diffView
		d.adminJSON(t, &diff, "config", "diff", "1", "2")
		if diff.From != 1 || diff.To != 2 || len(diff.Boxes) != 4 || diff.Boxes[3].Deletes == 0 {
			t.Fatalf("config diff 1 2 = %+v", diff)
		}
		var ops []opView
		d.adminJSON(t, &ops, "operation", "list")
		if len(ops) != 2 || ops[0].ID != op1.ID || ops[1].ID != op.ID {
			t.Fatalf("operation list = %+v", ops)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		out := d.admin(t, "config", "rollback", "1")
		mustContain(t, "config rollback 1", out, "rollback", "COMMITTED")
		var hist []versionView
		d.adminJSON(t, &hist, "config", "history")
		if len(hist) != 3 {
			t.Fatalf("history after rollback = %+v, want 3 versions", hist)
		}
		var diff diffView
		d.adminJSON(t, &diff, "config", "diff", "1", "3")
		for _, b := range diff.Boxes {
			if b.Inserts+b.Modifies+b.Deletes+b.GNMI != 0 {
				t.Errorf("version 3 differs from version 1 on %s: %+v", b.Serial, b)
			}
		}
	})

	t.Run("abort", func(t *testing.T) {
		cfg3 := writeConfig(t, 3)
		d.Testbed.Switch("leaf2").P4Runtime().RejectWrites(1, codes.ResourceExhausted)
		out, stderr, err := d.ctl(t, testAdminToken, "config", "apply", cfg3, "--progress")
		if err == nil || !errors.Is(err, errOperationFailed) {
			t.Fatalf("config apply with a failing box: error = %v, want errOperationFailed\n%s", err, out)
		}
		mustContain(t, "abort error", err.Error(), "ABORTED", "box "+serials[3]+":", "ResourceExhausted", "restored")
		mustContain(t, "abort table", out, "ABORTED", serials[3])
		mustContain(t, "abort progress", stderr, "restore")
		var hist []versionView
		d.adminJSON(t, &hist, "config", "history")
		if len(hist) != 3 {
			t.Fatalf("an aborted commit made a version: %+v", hist)
		}
	})

	t.Run("interrupted watch", func(t *testing.T) {
		p4 := d.Testbed.Switch("leaf1").P4Runtime()
		p4.SetDelay(300 * time.Millisecond) // a commit that takes a while
		defer p4.SetDelay(0)
		var op opView
		d.adminJSON(t, &op, "config", "apply", writeConfig(t, 4), "--no-wait")

		runCtx, interrupt := context.WithCancel(ctx)
		defer interrupt()
		stderr := &notifyBuffer{ready: make(chan struct{})}
		root := newRootCmd()
		root.SetArgs(append([]string{"operation", "watch", op.ID, "--progress"}, d.conn(testReadToken)...))
		root.SetOut(io.Discard)
		root.SetErr(stderr)
		done := make(chan error, 1)
		go func() { done <- root.ExecuteContext(runCtx) }()
		select {
		case <-stderr.ready: // a progress report of the running commit arrived
		case err := <-done:
			t.Fatalf("operation watch ended before any progress: %v", err)
		case <-ctx.Done():
			t.Fatal("no progress drawn")
		}
		interrupt()
		err := wait(t, ctx, done)
		if err == nil || !strings.Contains(err.Error(), "stopped waiting for operation "+op.ID+", which goes on in fabricd") {
			t.Fatalf("interrupted watch: error = %v", err)
		}
		// The commit went on without the watch.
		d.adminJSON(t, &op, "operation", "watch", op.ID)
		if op.State != "COMMITTED" {
			t.Fatalf("operation after the interrupted watch = %+v", op)
		}
	})

	t.Run("config get", func(t *testing.T) {
		out := d.admin(t, "config", "get")
		mustContain(t, "config get", out, "# chassis config, version", "pipeconf: onos-basic")
		var cv struct {
			Version int64          `json:"version"`
			Config  map[string]any `json:"config"`
		}
		d.adminJSON(t, &cv, "config", "get")
		if cv.Version == 0 || cv.Config["roles"] == nil {
			t.Fatalf("config get -o json = %+v", cv)
		}
	})

	t.Run("events and log of the commit", func(t *testing.T) {
		out := d.admin(t, "events", "--replay", "100", "--kind", "committed")
		mustContain(t, "events", out, "SEQ", "committed", op1.ID)
		var evs []eventView
		d.adminJSON(t, &evs, "events", "--kind", "committed", "--op", op1.ID)
		if len(evs) != 1 || evs[0].Op != op1.ID || evs[0].Kind != "committed" {
			t.Fatalf("events --op = %+v, want the one committed event", evs)
		}
		out = d.admin(t, "log", "--op", op1.ID, "-n", "0")
		mustContain(t, "log --op", out, "SEVERITY", op1.ID, "committed")
		var recs []logView
		d.adminJSON(t, &recs, "log", "--op", op1.ID)
		if len(recs) == 0 {
			t.Fatal("log --op -o json: no records")
		}
		for _, r := range recs {
			if r.Op != op1.ID {
				t.Errorf("log --op %s returned a record of %q: %+v", op1.ID, r.Op, r)
			}
		}
		if _, _, err := d.ctl(t, testReadToken, "events", "--kind", "nonsense"); err == nil || !strings.Contains(err.Error(), "--kind") {
			t.Errorf("events --kind nonsense: error = %v", err)
		}
	})

	t.Run("log follow", func(t *testing.T) {
		out, interrupt, done := d.follow(t, ctx, testReadToken, "log", "-f", "--kind", "committed", "-n", "5")
		defer interrupt()
		// The backlog shows first, under the header, as a table row.
		if header := out.waitLine(t, ctx, "TIME"); !strings.Contains(header, "SEVERITY") {
			t.Fatalf("log -f header = %q", header)
		}
		out.waitLine(t, ctx, op1.ID, "committed")
		var op opView
		d.adminJSON(t, &op, "config", "rollback", "1", "--no-wait")
		out.waitLine(t, ctx, op.ID, "committed")
		interrupt()
		if err := wait(t, ctx, done); err != nil {
			t.Fatalf("log -f after interrupt: %v", err)
		}
	})

	t.Run("events follow", func(t *testing.T) {
		out, interrupt, done := d.follow(t, ctx, testReadToken, "events", "-f", "--kind", "committed", "--replay", "100", "-o", "json")
		defer interrupt()
		// A replayed event shows the server holds the subscription (replay
		// and live delivery are atomic), so the rollback started after it
		// must be seen live.
		out.waitLine(t, ctx, op1.ID)
		var op opView
		d.adminJSON(t, &op, "config", "rollback", "2", "--no-wait")
		line := out.waitLine(t, ctx, op.ID)
		var ev eventView
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Op != op.ID || ev.Kind != "committed" {
			t.Fatalf("follow line %q: %v, want the committed event of %s", line, err, op.ID)
		}
		interrupt()
		if err := wait(t, ctx, done); err != nil {
			t.Fatalf("events -f after interrupt: %v", err)
		}
	})

	t.Run("links", func(t *testing.T) {
		out, interrupt, done := d.follow(t, ctx, testReadToken, "events", "-f", "--kind", "link-discovered", "--replay", "100")
		out.waitLine(t, ctx, "link-discovered")
		interrupt()
		if err := wait(t, ctx, done); err != nil {
			t.Fatal(err)
		}
		var links []linkView
		d.adminJSON(t, &links, "link", "list")
		if len(links) == 0 || !strings.HasPrefix(links[0].A.Interface, "eth-") {
			t.Fatalf("link list = %+v", links)
		}
		mustContain(t, "link list", d.admin(t, "link", "list"), "A INTERFACE", links[0].A.Interface)
	})

	t.Run("time", func(t *testing.T) {
		var tv timeView
		d.adminJSON(t, &tv, "time")
		if tv.NTPServer == "" || len(tv.Boxes) != 4 || tv.Boxes[0].Module != 1 || tv.Boxes[3].Box != "leaf2" {
			t.Fatalf("time = %+v", tv)
		}
		mustContain(t, "time", d.admin(t, "time"), "DRIFT PPM", tv.NTPServer)
	})

	t.Run("reconcile", func(t *testing.T) {
		var r reconcileView
		d.adminJSON(t, &r, "device", "reconcile", serials[2])
		if r.Op == "" || r.Error != "" {
			t.Fatalf("device reconcile = %+v", r)
		}
	})

	t.Run("backup", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "fabric.db")
		var b backupView
		d.adminJSON(t, &b, "backup", name)
		st, err := os.Stat(name)
		if err != nil || st.Size() != b.Bytes || b.Bytes == 0 {
			t.Fatalf("backup wrote %v (%v), reported %+v", st, err, b)
		}
		if _, _, err := d.ctl(t, testReadToken, "backup", filepath.Join(dir, "ro.db")); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
			t.Fatalf("backup with the read-only token: error = %v", err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("backup left files behind: %v", entries)
		}
		restored := t.TempDir()
		if err := bolt.Restore(ctx, mustOpen(t, name), filepath.Join(restored, "store")); err != nil {
			t.Fatalf("the backup does not restore: %v", err)
		}
	})

	t.Run("completion", func(t *testing.T) {
		// The word to complete comes last, after the connection flags.
		complete := func(path []string, rest ...string) string {
			t.Helper()
			args := append(append(append(append([]string{"__complete"}, path...), d.conn(testReadToken)...), rest...), "")
			stdout, _, err := run(t, args...)
			if err != nil {
				t.Fatalf("%s: %v", strings.Join(args, " "), err)
			}
			return stdout
		}
		mustContain(t, "module show completion", complete([]string{"module", "show"}), "1\tspine1", "4\tleaf2")
		mustContain(t, "decommission completion", complete([]string{"device", "decommission"}), serials[0]+"\t")
		mustContain(t, "events --module completion", complete([]string{"events"}, "--module"), "3\tleaf1")
		if out := complete([]string{"module", "show"}, "1"); strings.Contains(out, "\t") {
			t.Errorf("module show completes a second argument: %q", out)
		}
		// Unreachable server: nothing offered, no error.
		stdout, _, err := run(t, "__complete", "module", "show", "--server", "127.0.0.1:1", "--insecure", "")
		if err != nil || strings.Contains(stdout, "\t") {
			t.Fatalf("completion with no server: %q, %v", stdout, err)
		}
	})

	t.Run("mutual TLS", func(t *testing.T) {
		addr := d.api.Listen(t, d.api.CA.Pool())
		dir := t.TempDir()
		cert, err := d.api.CA.Issue("operator")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.api.CA.WriteKeyPair(dir, "operator", cert); err != nil {
			t.Fatal(err)
		}
		base := []string{"module", "list", "--server", addr, "--tls-ca", d.api.CAFile, "--token", testReadToken}
		stdout, _, err := run(t, append(base, "--tls-cert", filepath.Join(dir, "operator"+certs.CertSuffix),
			"--tls-key", filepath.Join(dir, "operator"+certs.KeySuffix))...)
		if err != nil || !strings.Contains(stdout, serials[0]) {
			t.Fatalf("module list with a client certificate: %v\n%s", err, stdout)
		}
		if _, _, err := run(t, base...); err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
			t.Fatalf("module list without a client certificate: error = %v, want UNAVAILABLE", err)
		}
	})

	t.Run("decommission", func(t *testing.T) {
		var box boxView
		d.adminJSON(t, &box, "device", "decommission", serials[3])
		if box.Serial != serials[3] {
			t.Fatalf("decommission = %+v", box)
		}
		var boxes []boxView
		d.adminJSON(t, &boxes, "device", "list")
		if len(boxes) != 3 {
			t.Fatalf("device list after decommission = %+v", boxes)
		}
		_, _, err := d.ctl(t, testAdminToken, "device", "decommission", serials[3])
		if err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
			t.Fatalf("second decommission: error = %v, want NOT_FOUND", err)
		}
	})
}

func mustOpen(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
