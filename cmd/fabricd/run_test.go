package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

// daemon is a fabricd running in process.
type daemon struct {
	api, metrics string
	stop         func() error
}

// start runs fabricd with args until the test ends (or stop), and waits
// for it to print its addresses.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, &stderr)
		_ = pw.CloseWithError(errors.New("fabricd ended"))
		done <- err
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	d := &daemon{}
	var stopped bool
	var runErr error
	d.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("fabricd did not stop within 30s")
			}
			for range lines { // drain
			}
		}
		return runErr
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("fabricd: %v\n%s", err, stderr.String())
		}
	})
	want := 1
	if strings.Contains(strings.Join(args, " "), "--metrics-listen") {
		want = 2
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for got := 0; got < want; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("fabricd ended before serving: %v\n%s", d.stop(), stderr.String())
			}
			if a, ok := strings.CutPrefix(l, "fabricd: api "); ok {
				d.api = a
				got++
			}
			if a, ok := strings.CutPrefix(l, "fabricd: metrics "); ok {
				d.metrics = a
				got++
			}
		case <-deadline.C:
			t.Fatalf("fabricd printed no address in 30s\n%s", stderr.String())
		}
	}
	return d
}

// pki writes a CA, a server key pair and token files into dir.
func pki(t *testing.T, dir string) *certs.CA {
	t.Helper()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("fabricd")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKeyPair(dir, "server", cert); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "admin.tokens"), "# operators\n\nadmin-1\n  admin-2  \n")
	write(t, filepath.Join(dir, "read.tokens"), "reader\n")
	return ca
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tlsArgs(dir string) []string {
	return []string{"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem"),
		"--admin-token-file", filepath.Join(dir, "admin.tokens"), "--read-token-file", filepath.Join(dir, "read.tokens"),
		"--listen", "127.0.0.1:0", "--reconcile-interval", "1h", "--box-timeout", "10s", "--shutdown-timeout", "5s"}
}

// TestDaemon runs fabricd over TLS with tokens against a LeafSpine(2,2)
// testbed: register, commit, metrics, backup; then restores the backup
// and serves it from a second daemon.
func TestDaemon(t *testing.T) {
	ctx := chassistest.Context(t, 90*time.Second)
	c := chassistest.Start(t) // only its testbed: the daemon has its own store
	dir := t.TempDir()
	ca := pki(t, dir)
	data := filepath.Join(dir, "data")
	d := start(t, append(tlsArgs(dir), "--data-dir", data, "--metrics-listen", "127.0.0.1:0")...)

	admin := chassistest.DialAPI(t, d.api, ca.Pool(), "admin-2")
	c.RegisterAllAPI(t, admin)
	config := chassistest.ConfigYAML(1, 0)
	op, err := admin.Commit(ctx, &nbpb.CommitRequest{Config: config, Comment: "fabricd test"})
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := chassistest.Watch(t, ctx, admin, op.Id); last.GetState() != nbpb.Operation_COMMITTED || last.Version != 1 {
		t.Fatalf("commit ended %v", last)
	}
	// The read-only token reads, and cannot commit.
	reader := chassistest.DialAPI(t, d.api, ca.Pool(), "reader")
	if h, err := reader.History(ctx, &nbpb.HistoryRequest{}); err != nil || len(h.Versions) != 1 {
		t.Fatalf("history: %v, %v", h, err)
	}
	if _, err := reader.Commit(ctx, &nbpb.CommitRequest{Config: config}); err == nil {
		t.Fatal("the read-only token committed")
	}

	resp, err := http.Get(d.metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`fabric_commits_total{outcome="committed"} 1`, "fabric_boxes_registered 4", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}

	snap := chassistest.Backup(t, ctx, admin)
	backup := filepath.Join(dir, "fabric.backup")
	write(t, backup, string(snap))
	if err := d.stop(); err != nil {
		t.Fatalf("fabricd stopped with %v", err)
	}

	// Restore into a new directory, refuse to restore over a store.
	restored := filepath.Join(dir, "restored")
	var out bytes.Buffer
	if err := run(ctx, []string{"restore", "--data-dir", restored, "--from", backup}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"restore", "--data-dir", data, "--from", backup}, io.Discard, io.Discard); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("restore over a store: %v, want fs.ErrExist", err)
	}
	if err := run(ctx, []string{"restore", "--data-dir", restored}, io.Discard, io.Discard); err == nil {
		t.Fatal("restore without --from succeeded")
	}
	d2 := start(t, append(tlsArgs(dir), "--data-dir", restored)...)
	c2 := chassistest.DialAPI(t, d2.api, ca.Pool(), "admin-1")
	h, err := c2.History(ctx, &nbpb.HistoryRequest{})
	if err != nil || len(h.Versions) != 1 || h.Versions[0].Txn != op.Id {
		t.Fatalf("history of the restored store: %v, %v; want version 1 of %s", h, err, op.Id)
	}
	got, err := c2.GetOperation(ctx, &nbpb.GetOperationRequest{Id: op.Id})
	if err != nil || got.State != nbpb.Operation_COMMITTED {
		t.Fatalf("operation %s from the restored journal: %v, %v", op.Id, got, err)
	}
}

// TestRefuses: fabricd does not start open by mistake.
func TestRefuses(t *testing.T) {
	dir := t.TempDir()
	pki(t, dir)
	write(t, filepath.Join(dir, "empty.tokens"), "# nobody\n\n")
	data := filepath.Join(dir, "data")
	tokens := []string{"--admin-token-file", filepath.Join(dir, "admin.tokens")}
	tlsFiles := []string{"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem")}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no TLS", append([]string{"--data-dir", data}, tokens...), "without TLS"},
		{"TLS and insecure", append(append([]string{"--insecure"}, tlsFiles...), tokens...), "choose TLS or plaintext"},
		{"no tokens", tlsFiles, "without authentication"},
		{"tokens and no-auth", append(append([]string{"--no-auth"}, tlsFiles...), tokens...), "choose one"},
		{"empty token file", append(tlsFiles, "--admin-token-file", filepath.Join(dir, "empty.tokens")), "no token"},
		{"missing key", append([]string{"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "nope.pem")}, tokens...), "tls"},
		{"two stores", append(append([]string{"--etcd", "127.0.0.1:1", "--data-dir", data}, tlsFiles...), tokens...), "give one store"},
		{"bad flag", []string{"--frobnicate"}, "frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run %q: %v, want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused start created the data directory: %v", err)
	}
}

// TestInsecureNoAuth: plaintext without tokens, when both are asked for.
func TestInsecureNoAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := start(t, "--insecure", "--no-auth", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	c, err := northbound.Dial(ctx, d.api, northbound.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if l, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{}); err != nil || len(l.Boxes) != 0 {
		t.Fatalf("ListBoxes: %v, %v", l, err)
	}
}

// syncBuffer is a bytes.Buffer safe for the daemon's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
