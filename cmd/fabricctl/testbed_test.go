package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// notifyBuffer is a bytes.Buffer that closes ready on its first write.
type notifyBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.once.Do(func() { close(b.ready) })
	return b.buf.Write(p)
}

func (b *notifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTestbedUpServesUntilInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	out := &notifyBuffer{ready: make(chan struct{})}
	root := newRootCmd()
	root.SetArgs([]string{"testbed", "up", "--leaf-spine", "1,2", "-o", "json"})
	root.SetOut(out)
	root.SetErr(&bytes.Buffer{})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()

	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("testbed up returned before printing: %v", err)
	case <-ctx.Done():
		t.Fatal("testbed up printed nothing")
	}
	var rows []switchRow
	if err := json.Unmarshal([]byte(out.String()), &rows); err != nil {
		t.Fatalf("output is not the JSON list of switches: %v\n%s", err, out.String())
	}
	if len(rows) != 3 || rows[0].Name != "spine1" || rows[2].Name != "leaf2" {
		t.Fatalf("rows = %+v, want spine1, leaf1, leaf2", rows)
	}
	for _, r := range rows {
		conn, err := grpc.NewClient(r.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p4v1.NewP4RuntimeClient(conn).Capabilities(ctx, &p4v1.CapabilitiesRequest{})
		conn.Close()
		if err != nil {
			t.Fatalf("switch %s at %s does not answer: %v", r.Name, r.Address, err)
		}
	}
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("testbed up after interrupt: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("testbed up did not stop when interrupted")
	}
}

func TestTestbedUpTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	out := &notifyBuffer{ready: make(chan struct{})}
	root := newRootCmd()
	root.SetArgs([]string{"testbed", "up", "-f", "../../testbed/topology/testdata/leafspine.yaml", "--ca-dir", t.TempDir()})
	root.SetOut(out)
	root.SetErr(&bytes.Buffer{})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()
	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("testbed up returned before printing: %v", err)
	case <-ctx.Done():
		t.Fatal("testbed up printed nothing")
	}
	interrupt()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"NAME", "ADDRESS", "DEVICE ID", "spine1", "leaf2", "SPN-0001"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

func TestTestbedUpErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"testbed", "up"}, "at least one of the flags"},
		{[]string{"testbed", "up", "--leaf-spine", "2"}, "want SPINES,LEAVES"},
		{[]string{"testbed", "up", "--leaf-spine", "0,2"}, "want SPINES,LEAVES"},
		{[]string{"testbed", "up", "-f", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{[]string{"testbed", "up", "--leaf-spine", "1,1", "--ca-dir", "x"}, "no switch of the topology uses tls.generate"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want containing %q", err, tc.want)
			}
		})
	}
}
