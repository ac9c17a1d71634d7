package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

// startTLSEtcd starts an embedded etcd whose clients must present a
// certificate signed by ca (mutual TLS), and returns its client endpoint
// as host:port; the server stops when the test ends.
func startTLSEtcd(t *testing.T, ca *certs.CA) string {
	t.Helper()
	dir := t.TempDir()
	cert, err := ca.Issue("etcd")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKeyPair(dir, "etcd", cert); err != nil {
		t.Fatal(err)
	}
	srv := etcdtest.Start(t, etcdtest.WithClientTLS(&etcdtest.ClientTLS{
		CertFile:     filepath.Join(dir, "etcd"+certs.CertSuffix),
		KeyFile:      filepath.Join(dir, "etcd"+certs.KeySuffix),
		ClientCAFile: filepath.Join(dir, certs.CAFile),
	}))
	return strings.TrimPrefix(srv.Endpoints()[0], "https://")
}

// listBoxes connects to a fabricd started with --insecure --no-auth and
// lists its boxes.
func listBoxes(t *testing.T, ctx context.Context, api string) []*nbpb.Box {
	t.Helper()
	c, err := northbound.Dial(ctx, api, northbound.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return l.GetBoxes()
}

// refused runs fabricd with args, which must fail before serving with an
// error saying every one of want.
func refused(t *testing.T, args []string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out syncBuffer
	err := run(ctx, args, &out, io.Discard)
	if err == nil {
		t.Fatalf("fabricd %q started (%s), want an error", args, out.String())
	}
	t.Logf("refused: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("fabricd %q: %v, want an error saying %q", args, err, w)
		}
	}
}

// TestEtcdMutualTLS: against an etcd that requires client certificates,
// fabricd serves with --etcd-ca/--etcd-cert/--etcd-key and fails, saying
// how it connected, with less or with a certificate of another CA.
func TestEtcdMutualTLS(t *testing.T) {
	ctx := chassistest.Context(t, 90*time.Second)
	dir := t.TempDir()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue("fabricd")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKeyPair(dir, "client", client); err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.Issue("stranger")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.WriteKeyPair(dir, "stranger", stranger); err != nil {
		t.Fatal(err)
	}
	ep := startTLSEtcd(t, ca)

	base := []string{"--insecure", "--no-auth", "--listen", "127.0.0.1:0", "--etcd", ep}
	caFile := filepath.Join(dir, certs.CAFile)
	keyPair := func(name string) []string {
		return []string{"--etcd-cert", filepath.Join(dir, name+certs.CertSuffix), "--etcd-key", filepath.Join(dir, name+certs.KeySuffix)}
	}
	d := start(t, append(append(append([]string{}, base...), "--etcd-ca", caFile), keyPair("client")...)...)
	if boxes := listBoxes(t, ctx, d.api); len(boxes) != 0 {
		t.Fatalf("boxes of a new store: %v", boxes)
	}

	// A short dial timeout: a refused handshake shows up as an etcd that
	// never answers.
	fast := append(append([]string{}, base...), "--etcd-dial-timeout", "1s")
	for _, tc := range []struct {
		name string
		args []string
		want string
		why  string // what the TLS handshake said
	}{
		{"plaintext", nil, "(plaintext)", "answers TLS but no TLS is configured"},
		{"no client certificate", []string{"--etcd-ca", caFile}, "(TLS)", "certificate required"},
		{"certificate of another CA", append([]string{"--etcd-ca", caFile}, keyPair("stranger")...), "(mutual TLS)", "remote error: tls:"},
		{"server of another CA", append([]string{"--etcd-ca", filepath.Join(dir, "stranger"+certs.CertSuffix)}, keyPair("client")...), "(mutual TLS)",
			"certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, append(append([]string{}, fast...), tc.args...), "--etcd "+ep, tc.want, "no answer within --etcd-dial-timeout 1s", tc.why)
		})
	}
}

// TestEtcdNamespace: two fabricd on one etcd cluster with different
// --etcd-namespace run side by side without seeing each other's boxes or
// versions, and every key they write is under their namespace.
func TestEtcdNamespace(t *testing.T) {
	ctx := chassistest.Context(t, 90*time.Second)
	c := chassistest.Start(t, chassistest.WithSize(1, 1))
	srv := etcdtest.Start(t)
	eps := strings.Join(srv.Endpoints(), ",")
	daemon := func(ns string) *northbound.Client {
		d := start(t, "--insecure", "--no-auth", "--listen", "127.0.0.1:0", "--reconcile-interval", "1h",
			"--etcd", eps, "--etcd-namespace", ns)
		cl, err := northbound.Dial(ctx, d.api, northbound.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	a, b := daemon("/fabric/a/"), daemon("/fabric/b/")

	c.RegisterAllAPI(t, a)
	op, err := a.Commit(ctx, &nbpb.CommitRequest{Config: c.ConfigYAML(1, 0), Comment: "chassis a"})
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := chassistest.Watch(t, ctx, a, op.Id); last.GetState() != nbpb.Operation_COMMITTED {
		t.Fatalf("commit in /fabric/a/ ended %v", last)
	}
	for name, cl := range map[string]*northbound.Client{"/fabric/a/": a, "/fabric/b/": b} {
		want := 0
		if cl == a {
			want = 2
		}
		boxes, err := cl.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
		if err != nil || len(boxes.GetBoxes()) != want {
			t.Errorf("boxes in %s: %v, %v; want %d", name, boxes.GetBoxes(), err, want)
		}
		if want > 0 {
			want = 1
		}
		h, err := cl.History(ctx, &nbpb.HistoryRequest{})
		if err != nil || len(h.GetVersions()) != want {
			t.Errorf("history in %s: %v, %v; want %d versions", name, h.GetVersions(), err, want)
		}
	}

	// The keys themselves: all under a namespace, chassis a's under its own.
	raw, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	all, err := raw.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	inA := 0
	for _, kv := range all.Kvs {
		k := string(kv.Key)
		switch {
		case strings.HasPrefix(k, "/fabric/a/"):
			inA++
		case !strings.HasPrefix(k, "/fabric/b/"):
			t.Errorf("key %q is outside both namespaces", k)
		}
	}
	if inA == 0 {
		t.Errorf("no key under /fabric/a/ among %d", len(all.Kvs))
	}
}

// TestEtcdCredentials: against an etcd with auth enabled, fabricd
// authenticates with --etcd-user and the password from
// --etcd-password-file or $FABRIC_ETCD_PASSWORD, and fails, naming the
// user, with a wrong password, without credentials, or outside the
// user's permissions.
func TestEtcdCredentials(t *testing.T) {
	ctx := chassistest.Context(t, 90*time.Second)
	srv := etcdtest.Start(t)
	ep := strings.Join(srv.Endpoints(), ",")
	enableAuth(t, ctx, srv.Endpoints())
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	write(t, good, "s3cret pass\n") // the line end is not part of it
	write(t, bad, "guess\n")

	base := []string{"--insecure", "--no-auth", "--listen", "127.0.0.1:0", "--etcd", ep}
	d := start(t, append(append([]string{}, base...),
		"--etcd-user", "fabric", "--etcd-password-file", good, "--etcd-namespace", "/chassis/")...)
	if boxes := listBoxes(t, ctx, d.api); len(boxes) != 0 {
		t.Fatalf("boxes of a new store: %v", boxes)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("environment", func(t *testing.T) {
		t.Setenv(etcdPasswordEnv, "s3cret pass")
		d := start(t, append(append([]string{}, base...), "--etcd-user", "fabric", "--etcd-namespace", "/chassis/")...)
		listBoxes(t, ctx, d.api)
	})
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"wrong password", []string{"--etcd-user", "fabric", "--etcd-password-file", bad, "--etcd-namespace", "/chassis/"},
			[]string{"(plaintext, user fabric, namespace /chassis/)", "authentication failed"}},
		{"no credentials", []string{"--etcd-namespace", "/chassis/"},
			[]string{"(plaintext, namespace /chassis/)", "user name is empty"}},
		{"outside its permissions", []string{"--etcd-user", "fabric", "--etcd-password-file", good, "--etcd-namespace", "/other/"},
			[]string{"(plaintext, user fabric, namespace /other/)", "permission denied"}},
	} {
		// The default dial timeout: etcd checks a password with bcrypt,
		// which takes a second or more under the race detector.
		t.Run(tc.name, func(t *testing.T) {
			refused(t, append(append([]string{}, base...), tc.args...), append([]string{"--etcd " + ep}, tc.want...)...)
		})
	}
}

// enableAuth turns etcd authentication on, as an operator would with
// etcdctl: a root user (which etcd requires first), and a user "fabric",
// password "s3cret pass", that may read and write under /chassis/ only.
func enableAuth(t *testing.T, ctx context.Context, endpoints []string) {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { _, err := c.RoleAdd(ctx, "root"); return err },
		func() error { _, err := c.UserAdd(ctx, "root", "root-password"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := c.RoleAdd(ctx, "fabric"); return err },
		func() error {
			_, err := c.RoleGrantPermission(ctx, "fabric", "/chassis/", clientv3.GetPrefixRangeEnd("/chassis/"),
				clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := c.UserAdd(ctx, "fabric", "s3cret pass"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "fabric", "fabric"); return err },
		func() error { _, err := c.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("enabling etcd auth, step %d: %v", i+1, err)
		}
	}
}

// TestEtcdFlagsRefused: etcd settings that cannot work are refused before
// anything is opened, with an error naming the flag.
func TestEtcdFlagsRefused(t *testing.T) {
	t.Setenv(etcdPasswordEnv, "")
	dir := t.TempDir()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, certs.CAFile)
	empty := filepath.Join(dir, "empty")
	write(t, empty, "\n")
	data := filepath.Join(dir, "data")
	base := []string{"--insecure", "--no-auth", "--listen", "127.0.0.1:0"}
	// Port 1 answers nothing: a case that got as far as dialing would fail
	// on the dial timeout, with the wrong message.
	withEtcd := append(append([]string{}, base...), "--etcd", "127.0.0.1:1")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ca without etcd", append([]string{"--data-dir", data, "--etcd-ca", caFile}, base...), "--etcd-ca configures the etcd store"},
		{"user without etcd", append([]string{"--etcd-user", "u"}, base...), "--etcd-user configures the etcd store"},
		{"namespace without etcd", append([]string{"--etcd-namespace", "/a/"}, base...), "--etcd-namespace configures"},
		{"timeout without etcd", append([]string{"--etcd-dial-timeout", "1s"}, base...), "--etcd-dial-timeout configures"},
		{"cert without key", append([]string{"--etcd-cert", caFile}, withEtcd...), "--etcd-cert and --etcd-key"},
		{"key without cert", append([]string{"--etcd-key", caFile}, withEtcd...), "--etcd-cert and --etcd-key"},
		{"password without user", append([]string{"--etcd-password-file", empty}, withEtcd...), "--etcd-password-file needs --etcd-user"},
		{"user without password", append([]string{"--etcd-user", "fabric"}, withEtcd...), "--etcd-user fabric needs a password"},
		{"empty password", append([]string{"--etcd-user", "fabric", "--etcd-password-file", empty}, withEtcd...), "--etcd-password-file"},
		{"missing password file", append([]string{"--etcd-user", "fabric", "--etcd-password-file", filepath.Join(dir, "nope")}, withEtcd...), "--etcd-password-file"},
		{"missing ca", append([]string{"--etcd-ca", filepath.Join(dir, "nope.pem")}, withEtcd...), "--etcd-ca"},
		{"zero timeout", append([]string{"--etcd-dial-timeout", "0s"}, withEtcd...), "--etcd-dial-timeout"},
		{"namespace without slash", append([]string{"--etcd-namespace", "/fabric/a"}, withEtcd...), "must end with /"},
		{"TLS to http://", append(append([]string{}, base...), "--etcd", "http://127.0.0.1:1", "--etcd-ca", caFile), "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, tc.args, tc.want)
		})
	}
	if _, err := os.Stat(data); err == nil {
		t.Fatal("a refused start created the data directory")
	}
}
