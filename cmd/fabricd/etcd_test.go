package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
	"github.com/p4fabric/fabric/testbed"
)

// TestEtcdBackupRestore runs fabricd on an etcd cluster, registers a box,
// backs the store up through the API (an etcd snapshot), restores it with
// "fabricd restore --etcd-data-dir" into a new member, and finds the box in
// a fabricd on that member.
func TestEtcdBackupRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)

	dial := func(addr string) *northbound.Client {
		c, err := northbound.Dial(ctx, addr, northbound.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	srv := etcdtest.Start(t)
	d := start(t, "--insecure", "--no-auth", "--etcd", strings.Join(srv.Endpoints(), ","))
	c := dial(d.api)
	box, err := c.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: "leaf1", Driver: builtin.Emulated, Address: sw.Addr(),
		Role: "forwarder", DeviceId: 1, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Backup(ctx, &nbpb.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	for {
		ch, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		snap.Write(ch.GetData())
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(file, snap.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	member := filepath.Join(dir, "member")
	var out bytes.Buffer
	if err := run(ctx, []string{"restore", "--etcd-data-dir", member, "--etcd-name", etcdtest.Name,
		"--etcd-peer-url", "http://127.0.0.1:2380", "--from", file}, &out, io.Discard); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "restored") {
		t.Errorf("restore printed %q", out.String())
	}
	for _, bad := range [][]string{
		{"restore", "--from", file}, // no target
		{"restore", "--data-dir", dir, "--etcd-data-dir", member, "--from", file}, // both
		{"restore", "--etcd-data-dir", member, "--from", file},                    // not empty
	} {
		if err := run(ctx, bad, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}

	restored := etcdtest.Start(t, etcdtest.WithDataDir(member))
	d2 := start(t, "--insecure", "--no-auth", "--etcd", strings.Join(restored.Endpoints(), ","))
	boxes, err := dial(d2.api).ListBoxes(ctx, &nbpb.ListBoxesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes.GetBoxes()) != 1 || boxes.GetBoxes()[0].GetSerial() != box.GetSerial() || boxes.GetBoxes()[0].GetModule() != box.GetModule() {
		t.Fatalf("boxes of the restored store: %v, want %v", boxes.GetBoxes(), box)
	}
}
