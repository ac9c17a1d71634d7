package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

func startGnoiBox(t *testing.T, cfg tgnoi.LoopbackConfig) *tgnoi.LoopbackBox {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "1.0.0"
	}
	cfg.BootDelay = 20 * time.Millisecond
	box, err := tgnoi.StartLoopbackBox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	return box
}

func TestGnoiTime(t *testing.T) {
	clk, err := clock.New(clock.WithOffset(-400 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	box := startGnoiBox(t, tgnoi.LoopbackConfig{Clock: clk})
	stdout, _, err := run(t, "gnoi", "time", "--target", box.Addr(), "--insecure", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got gnoiTime
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	offset := time.Duration(got.OffsetNS)
	if d := offset + 400*time.Millisecond; d.Abs() > time.Duration(got.ErrorBoundNS)+time.Microsecond || got.Target != box.Addr() {
		t.Fatalf("result %+v: offset %v, want -400ms ± %v", got, offset, time.Duration(got.ErrorBoundNS))
	}
	if _, err := time.Parse(time.RFC3339Nano, got.Time); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = run(t, "gnoi", "time", "--target", box.Addr(), "--insecure")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TARGET", "OFFSET", "ERROR BOUND", box.Addr(), "ms", "±"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestGnoiRebootAndStatus(t *testing.T) {
	box := startGnoiBox(t, tgnoi.LoopbackConfig{})
	addr := box.Addr()
	stdout, _, err := run(t, "gnoi", "reboot", "--target", addr, "--insecure", "--method", "warm", "--delay", "1h", "--message", "later", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "method: warm") || !strings.Contains(stdout, "message: later") {
		t.Fatalf("reboot output:\n%s", stdout)
	}
	stdout, _, err = run(t, "gnoi", "reboot-status", "--target", addr, "--insecure", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var st gnoiRebootStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Active || st.Reason != "later" || st.Method != "warm" || time.Duration(st.WaitNS) < 59*time.Minute || st.When == "" {
		t.Fatalf("status %+v", st)
	}
	// A second reboot is refused while one is pending.
	_, _, err = run(t, "gnoi", "reboot", "--target", addr, "--insecure")
	if err == nil || !strings.Contains(err.Error(), "FailedPrecondition") {
		t.Fatalf("second reboot: %v", err)
	}
	stdout, _, err = run(t, "gnoi", "reboot-status", "--target", addr, "--insecure")
	if err != nil || !strings.Contains(stdout, "ACTIVE") || !strings.Contains(stdout, "later") {
		t.Fatalf("table %q, %v", stdout, err)
	}
}

func TestGnoiInstall(t *testing.T) {
	box := startGnoiBox(t, tgnoi.LoopbackConfig{})
	img, err := tgnoi.NewImage("2.0.0", []byte(strings.Repeat("new os ", 20000)))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "os-2.0.0.img")
	if err := os.WriteFile(file, img, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, "gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2.0.0", "--file", file, "--activate", "--wait", "--progress", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "transfer") || !strings.Contains(stderr, "100%") {
		t.Errorf("--progress: no finished transfer bar on stderr:\n%q", stderr)
	}
	var got gnoiInstall
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := gnoiInstall{Target: box.Addr(), Version: "2.0.0", Transferred: true, Bytes: uint64(len(img)), Activated: true, Rebooted: true, Running: "2.0.0"}
	if got != want {
		t.Fatalf("install = %+v, want %+v", got, want)
	}
	if box.Boots() != 2 || box.SoftwareVersion() != "2.0.0" {
		t.Fatalf("box: boots %d, version %s", box.Boots(), box.SoftwareVersion())
	}
	// Already installed: nothing to send, no file needed.
	stdout, _, err = run(t, "gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2.0.0")
	if err != nil || !strings.Contains(stdout, "TRANSFERRED") || !strings.Contains(stdout, "false") {
		t.Fatalf("second install: %q, %v", stdout, err)
	}
	// A corrupt image is refused with the device's reason.
	img[len(img)-1] ^= 1
	if err := os.WriteFile(file, img, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "3.0.0", "--file", file)
	if err == nil || !strings.Contains(err.Error(), "INTEGRITY_FAIL") {
		t.Fatalf("corrupt image: %v", err)
	}
}

func TestGnoiTLSAndCredentials(t *testing.T) {
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("box")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	box := startGnoiBox(t, tgnoi.LoopbackConfig{
		TLS:     certs.ServerConfig(cert, nil),
		Options: []tgnoi.Option{tgnoi.WithCredentials("admin", "pw")},
	})
	caFile := filepath.Join(dir, "ca.pem")
	base := []string{"gnoi", "time", "--target", box.Addr(), "--tls-ca", caFile}
	if _, _, err := run(t, append(base, "--username", "admin", "--password", "pw")...); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, append(base, "--username", "admin", "--password", "wrong")...)
	if err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("wrong password: %v", err)
	}
	_, _, err = run(t, "gnoi", "time", "--target", box.Addr(), "--timeout", "2s", "--username", "admin", "--password", "pw")
	if err == nil {
		t.Fatal("system roots trusted the test CA")
	}
}

func TestGnoiErrors(t *testing.T) {
	box := startGnoiBox(t, tgnoi.LoopbackConfig{})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"gnoi", "time", "--insecure"}, "--target is required"},
		{"insecure and tls", []string{"gnoi", "time", "--target", box.Addr(), "--insecure", "--tls-ca", "ca.pem"}, "exclusive"},
		{"missing ca file", []string{"gnoi", "time", "--target", box.Addr(), "--tls-ca", "/nonexistent/ca.pem"}, "TLS"},
		{"bad method", []string{"gnoi", "reboot", "--target", box.Addr(), "--insecure", "--method", "reset"}, "--method"},
		{"unsupported method", []string{"gnoi", "reboot", "--target", box.Addr(), "--insecure", "--method", "halt"}, "InvalidArgument"},
		{"negative delay", []string{"gnoi", "reboot", "--target", box.Addr(), "--insecure", "--delay", "-1s"}, "negative"},
		{"no version", []string{"gnoi", "install", "--target", box.Addr(), "--insecure"}, "--version is required"},
		{"wait without activate", []string{"gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2", "--wait"}, "apply to --activate"},
		{"wait and no-reboot", []string{"gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2", "--activate", "--wait", "--no-reboot"}, "prevents"},
		{"missing file", []string{"gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2", "--file", "/nonexistent"}, "--file"},
		{"no file for a new version", []string{"gnoi", "install", "--target", box.Addr(), "--insecure", "--version", "2"}, "no image was given"},
		{"bad samples", []string{"gnoi", "time", "--target", box.Addr(), "--insecure", "--samples", "0"}, "--samples"},
		{"extra argument", []string{"gnoi", "time", "--target", box.Addr(), "--insecure", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGnoiHelp(t *testing.T) {
	stdout, _, err := run(t, "gnoi", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"time", "reboot", "reboot-status", "install", "--target", "--insecure", "--tls-ca", "--username"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
