package plugin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed"
)

// testPlugin is the test plugin executable, built once by TestMain.
var testPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fabric-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPlugin = filepath.Join(dir, plugin.ExecutablePrefix+"test")
	if err := goBuild(testPlugin, "./internal/testplugin"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goBuild(out, pkg string) error {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// capture is a slog handler that keeps records and signals matches.
type capture struct {
	mu      sync.Mutex
	records []slog.Record
	waiters []waiter
	attrs   []slog.Attr
	parent  *capture
}

type waiter struct {
	msg string
	ch  chan slog.Record
}

func (c *capture) root() *capture {
	if c.parent != nil {
		return c.parent.root()
	}
	return c
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }

func (c *capture) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	root := c.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.records = append(root.records, r)
	for i := 0; i < len(root.waiters); i++ {
		if w := root.waiters[i]; strings.Contains(r.Message, w.msg) {
			w.ch <- r
			root.waiters = append(root.waiters[:i], root.waiters[i+1:]...)
			i--
		}
	}
	return nil
}

func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	return &capture{parent: c.root(), attrs: append(append([]slog.Attr(nil), c.attrs...), as...)}
}

func (c *capture) WithGroup(string) slog.Handler { return c }

// wait returns a channel that receives the first record (from now on or
// already logged) whose message contains msg.
func (c *capture) wait(msg string) <-chan slog.Record {
	root := c.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	ch := make(chan slog.Record, 1)
	for _, r := range root.records {
		if strings.Contains(r.Message, msg) {
			ch <- r
			return ch
		}
	}
	root.waiters = append(root.waiters, waiter{msg: msg, ch: ch})
	return ch
}

func (c *capture) count(msg string) int {
	root := c.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	n := 0
	for _, r := range root.records {
		if strings.Contains(r.Message, msg) {
			n++
		}
	}
	return n
}

func attr(r slog.Record, key string) (slog.Value, bool) {
	var v slog.Value
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value, true
			return false
		}
		return true
	})
	return v, found
}

func startSwitch(t testing.TB) *testbed.Switch {
	t.Helper()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	return sw
}

func load(t testing.TB, log *slog.Logger, opts ...plugin.LoadOption) *plugin.Driver {
	t.Helper()
	d, err := plugin.Load(testPlugin, append([]plugin.LoadOption{plugin.WithHostLogger(log),
		plugin.WithDeviceOptions(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func spec(sw *testbed.Switch, name string, opts map[string]string) driver.Spec {
	return driver.Spec{Name: name, Driver: "test", Address: sw.Addr(), DeviceID: sw.DeviceID(), Insecure: true, Options: opts}
}

func basic(t testing.TB) *pipeline.Pipeconf {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := reg.Get(builtin.ONOSBasic)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// TestPluginLifecycle: discover, handshake, open, every call, logs.
func TestPluginLifecycle(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	dir := t.TempDir()
	if err := os.Symlink(testPlugin, filepath.Join(dir, plugin.ExecutablePrefix+"test")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, plugin.ExecutablePrefix+"noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, plugin.ExecutablePrefix+"dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a plugin"), 0o755); err != nil {
		t.Fatal(err)
	}

	found, err := plugin.Discover(dir)
	if len(found) != 1 || found[0].Name != "test" {
		t.Fatalf("found %v", found)
	}
	if !errors.Is(err, plugin.ErrNotExecutable) || !strings.Contains(err.Error(), "fabric-driver-noexec") ||
		!strings.Contains(err.Error(), "fabric-driver-dir") || strings.Contains(err.Error(), "README") {
		t.Fatalf("discover problems: %v", err)
	}

	logs := &capture{}
	reg := &driver.Registry{}
	drivers, err := plugin.Register(reg, dir, plugin.WithHostLogger(slog.New(logs)),
		plugin.WithDeviceOptions(driver.WithBackoff(10*time.Millisecond, 100*time.Millisecond)))
	if len(drivers) != 1 || !errors.Is(err, plugin.ErrNotExecutable) {
		t.Fatalf("register: %v, %v", drivers, err)
	}
	defer drivers[0].Close()
	if got := reg.Names(); len(got) != 1 || got[0] != "test" {
		t.Fatalf("registry %v", got)
	}
	if drivers[0].PID() != 0 {
		t.Fatal("plugin started before the first Open")
	}

	dev, err := reg.Open(ctx, spec(sw, "leaf1", map[string]string{"identity": "log"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if drivers[0].PID() == 0 {
		t.Fatal("no plugin process after Open")
	}
	if err := drivertest.WaitAll(ctx, dev.Events(), driver.Connected,
		driver.P4Runtime, driver.GNMI, driver.GNOI, driver.ProtocolDriver); err != nil {
		t.Fatal(err)
	}
	// The host started the plugin and logged it.
	if r := <-logs.wait("driver plugin started"); true {
		if v, _ := attr(r, "plugin_version"); v.String() != "test-1" {
			t.Fatalf("start record %v", r)
		}
	}

	pc := basic(t)
	second := 1 * time.Second
	drivertest.Check(t, ctx, dev, drivertest.Want{
		Identity:     driver.Identity{Vendor: "Test Vendor", Model: "T-1", Serial: "T-leaf1", SoftwareVersion: "1.0"},
		Ports:        []driver.Port{{Name: "tp0", ID: 1}, {Name: "tp1", ID: 2}, {Name: "tp2", ID: 3}},
		Protocols:    driver.Protocols,
		Pipeconf:     pc,
		DeviceConfig: pc.DeviceConfigs[pipeline.TargetBMv2],
		ClockOffset:  &second,
		Tolerance:    time.Millisecond,
		Unsupported:  []drivertest.Behaviour{drivertest.Reboot},
	})

	// The plugin's log record reached the host's log, once, with its
	// attributes.
	r := <-logs.wait("identity called")
	if n := logs.count("identity called"); n != 1 {
		t.Errorf("%d records of the plugin's one", n)
	}
	if r.Level != slog.LevelWarn {
		t.Errorf("level %v", r.Level)
	}
	if v, ok := attr(r, "answer"); !ok || v.String() != "42" {
		t.Errorf("answer attribute %v %v", v, ok)
	}
	if v, _ := attr(r, "driver"); v.String() != "test" {
		t.Errorf("driver attribute %v", v)
	}

	// Install streams the image in chunks; a refusal carries the
	// plugin's reason.
	image := append([]byte("2.0"), bytes.Repeat([]byte{7}, 300<<10)...)
	if err := dev.InstallSoftware(ctx, "2.0", bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if r := <-logs.wait("installed"); true {
		if v, _ := attr(r, "bytes"); v.String() != fmt.Sprint(len(image)) {
			t.Fatalf("plugin received %v bytes, sent %d", v, len(image))
		}
	}
	err = dev.InstallSoftware(ctx, "3.0", bytes.NewReader(image))
	var remote *plugin.RemoteError
	if !errors.As(err, &remote) || !strings.Contains(err.Error(), `is not version "3.0"`) {
		t.Fatalf("install of a wrong image: %v", err)
	}

	// Several devices share the plugin process.
	dev2, err := reg.Open(ctx, spec(sw, "leaf1-again", map[string]string{"protocols": "gnmi"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev2.P4Runtime(); !errors.Is(err, driver.ErrUnsupported) {
		t.Fatalf("P4Runtime of a gNMI-only device: %v", err)
	}
	id, err := dev2.Identity(ctx)
	if err != nil || id.Serial != "T-leaf1-again" {
		t.Fatalf("identity %v, %v", id, err)
	}
	if err := dev2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := dev2.Identity(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Identity after Close: %v", err)
	}

	// A device the plugin refuses to open.
	_, err = reg.Open(ctx, spec(sw, "x", map[string]string{"open": "fail"}))
	if err == nil || !strings.Contains(err.Error(), "refuses to open") {
		t.Fatalf("open refused: %v", err)
	}
}

// TestPluginKilledMidCall: the process dies while a call is in flight;
// the call fails at once with ErrPluginExited, the device's protocol
// connections (the host's own clients) keep working, and a new Open
// restarts the plugin.
func TestPluginKilledMidCall(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	logs := &capture{}
	d := load(t, slog.New(logs))
	dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"identity": "hang"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	pid := d.PID()

	errc := make(chan error, 1)
	hanging := logs.wait("identity called, hanging")
	start := time.Now()
	go func() {
		_, err := dev.Identity(ctx)
		errc <- err
	}()
	<-hanging // the call is in the plugin
	proc, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	err = <-errc
	if !errors.Is(err, plugin.ErrPluginExited) || !strings.Contains(err.Error(), "identity") {
		t.Fatalf("in-flight call: %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("the in-flight call took %v", time.Since(start))
	}
	ev, err := drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.Disconnected, driver.ProtocolDriver))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(ev.Err, plugin.ErrPluginExited) {
		t.Fatalf("event %v", ev)
	}
	if _, err := dev.Ports(ctx); !errors.Is(err, plugin.ErrPluginExited) {
		t.Fatalf("call after the exit: %v", err)
	}
	// The host and the device's protocol clients are fine.
	c, err := dev.P4Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Capabilities(ctx); err != nil {
		t.Fatalf("P4Runtime after the plugin died: %v", err)
	}
	g, err := dev.GNMI()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Capabilities(ctx); err != nil {
		t.Fatalf("gNMI after the plugin died: %v", err)
	}

	// A new Open starts a new process.
	dev2, err := d.Open(ctx, spec(sw, "leaf1-reopened", map[string]string{"protocols": "gnmi"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev2.Close()
	if p := d.PID(); p == 0 || p == pid {
		t.Fatalf("pid %d after reopen (was %d)", p, pid)
	}
	if id, err := dev2.Identity(ctx); err != nil || id.Serial != "T-leaf1-reopened" {
		t.Fatalf("identity %v, %v", id, err)
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("closing the orphaned device: %v", err)
	}
}

// TestPluginCrashesItself: the plugin exits in the middle of a call.
func TestPluginCrashesItself(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	d := load(t, slog.New(slog.DiscardHandler))
	dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"identity": "crash", "protocols": "gnmi"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := dev.Identity(ctx); !errors.Is(err, plugin.ErrPluginExited) {
		t.Fatalf("crash: %v", err)
	}
	if _, err := drivertest.WaitEvent(ctx, dev.Events(), drivertest.Is(driver.Disconnected, driver.ProtocolDriver)); err != nil {
		t.Fatal(err)
	}
}

// TestPluginHangs: a call the plugin never answers ends with the caller's
// deadline; the plugin keeps serving other calls.
func TestPluginHangs(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	d := load(t, slog.New(slog.DiscardHandler))
	dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"identity": "hang", "protocols": "gnmi"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = dev.Identity(short)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("hung call: %v", err)
	}
	if _, err := dev.Ports(ctx); err != nil {
		t.Fatalf("after a hung call: %v", err)
	}
}

// TestPluginErrors: errors of the driver's code cross the boundary with
// their code and text; none of them is taken for the plugin's death, and
// the plugin keeps serving.
func TestPluginErrors(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	d := load(t, slog.New(slog.DiscardHandler))
	tests := []struct {
		identity string
		code     codes.Code
		want     string
	}{
		{"panic", codes.Internal, "driver panicked"},
		{"unavailable", codes.Unavailable, "switch unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.identity, func(t *testing.T) {
			dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"identity": tt.identity, "protocols": "gnmi"}))
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			_, err = dev.Identity(ctx)
			var remote *plugin.RemoteError
			if status.Code(err) != tt.code || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &remote) ||
				errors.Is(err, plugin.ErrPluginExited) {
				t.Fatalf("err = %v, want a %s RemoteError %q", err, tt.code, tt.want)
			}
			if _, err := dev.Ports(ctx); err != nil {
				t.Fatalf("after the error: %v", err)
			}
		})
	}
}

// TestBadPlugins: executables that are not (good) driver plugins fail
// with clear errors, and the host survives them.
func TestBadPlugins(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	script := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, plugin.ExecutablePrefix+name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		env     string
		loadErr error
		err     error
		want    string
	}{
		{name: "not executable", path: script("noexec", "#!/bin/sh\nexit 0\n", 0o644), loadErr: plugin.ErrNotExecutable, want: "no execute bit"},
		{name: "bad file name", path: filepath.Join(dir, "driver-x"), want: "file name must be fabric-driver-<name>"},
		{name: "missing", path: filepath.Join(dir, plugin.ExecutablePrefix+"missing"), want: "no such file"},
		{name: "wrong protocol version", path: testPlugin, env: "wrong-version", err: plugin.ErrHandshake, want: "another version of the plugin protocol"},
		{name: "wrong magic cookie", path: testPlugin, env: "wrong-cookie", err: plugin.ErrHandshake, want: "not a Fabric driver plugin"},
		{name: "prints garbage", path: testPlugin, env: "garbage", err: plugin.ErrHandshake, want: "not a Fabric driver plugin"},
		{name: "exits at once", path: script("exits", "#!/bin/sh\necho oops >&2\nexit 3\n", 0o755), err: plugin.ErrHandshake, want: "not a Fabric driver plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []plugin.LoadOption
			if tt.env != "" {
				opts = append(opts, plugin.WithEnv("FABRIC_TESTPLUGIN_MODE="+tt.env))
			}
			d, err := plugin.Load(tt.path, opts...)
			if tt.err == nil {
				if err == nil || (tt.loadErr != nil && !errors.Is(err, tt.loadErr)) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Load: %v, want %v %q", err, tt.loadErr, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			err = d.Start(ctx)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("Start: %v, want %v %q naming the path", err, tt.err, tt.want)
			}
			_, err = d.Open(ctx, driver.Spec{Name: "x", Address: "127.0.0.1:1", Insecure: true})
			if !errors.Is(err, tt.err) {
				t.Fatalf("Open: %v, want %v", err, tt.err)
			}
		})
	}
}

// TestPluginMalformedLog: log lines go-plugin itself would panic on are
// forwarded safely.
func TestPluginMalformedLog(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	logs := &capture{}
	d := load(t, slog.New(logs), plugin.WithEnv("FABRIC_TESTPLUGIN_MODE=bad-log"))
	dev, err := d.Open(ctx, spec(sw, "leaf1", map[string]string{"protocols": "gnmi"}))
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	r := <-logs.wait("fine")
	if v, _ := attr(r, "n"); r.Level != slog.LevelWarn || v.String() != "7" {
		t.Fatalf("record %v", r)
	}
	<-logs.wait("1") // the malformed one, message rendered as text
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	sw := startSwitch(t)
	d := load(t, slog.New(slog.DiscardHandler))
	tests := []struct {
		name string
		spec driver.Spec
		want string
		is   error
	}{
		{"no transport security", driver.Spec{Name: "x", Address: sw.Addr()}, "", driver.ErrTransportSecurity},
		{"no name", driver.Spec{Address: sw.Addr(), Insecure: true}, "no name", nil},
		{"bad protocol option", spec(sw, "x", map[string]string{"protocols": "netconf"}), "unknown protocol", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, err := d.Open(ctx, tt.spec)
			if err == nil {
				dev.Close()
				t.Fatal("Open succeeded")
			}
			if (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "test: ") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
