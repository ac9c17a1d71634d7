package certs_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
)

// ioTimeout bounds every network operation of a test handshake.
const ioTimeout = 10 * time.Second

type result struct {
	clientErr error  // from the client handshake or its first read
	serverErr error  // from the server handshake
	peerCN    string // common name of the client certificate seen by the server
	version   uint16 // negotiated TLS version
}

// handshake runs one TLS connection over loopback TCP between a server using
// serverCfg and a client using clientCfg, and reports how each side fared.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) result {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatalf("tls.Listen: %v", err)
	}
	defer ln.Close()

	type served struct {
		err    error
		peerCN string
	}
	done := make(chan served, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- served{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err != nil {
			done <- served{err: err}
			return
		}
		var cn string
		if peers := tc.ConnectionState().PeerCertificates; len(peers) > 0 {
			cn = peers[0].Subject.CommonName
		}
		_, err = tc.Write([]byte("ok"))
		done <- served{err: err, peerCN: cn}
	}()

	var res result
	dialer := &net.Dialer{Timeout: ioTimeout}
	conn, err := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), clientCfg)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(ioTimeout))
		res.version = conn.ConnectionState().Version
		// With TLS 1.3 the server verifies the client certificate after the
		// client considers the handshake done: a rejection shows on read.
		buf := make([]byte, 2)
		if _, err = io.ReadFull(conn, buf); err == nil && string(buf) != "ok" {
			err = errors.New("unexpected payload " + string(buf))
		}
		conn.Close()
	}
	res.clientErr = err
	if err != nil {
		ln.Close() // unblock Accept if the client never connected
	}

	select {
	case s := <-done:
		res.serverErr, res.peerCN = s.err, s.peerCN
	case <-time.After(ioTimeout):
		t.Fatal("server side did not finish")
	}
	return res
}

func mustCA(t *testing.T) *certs.CA {
	t.Helper()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func mustIssue(t *testing.T, ca *certs.CA, cn string, hosts ...string) tls.Certificate {
	t.Helper()
	cert, err := ca.Issue(cn, hosts...)
	if err != nil {
		t.Fatalf("Issue(%q): %v", cn, err)
	}
	return cert
}

func TestHandshake(t *testing.T) {
	ca := mustCA(t)
	otherCA := mustCA(t)
	server := mustIssue(t, ca, "leaf1", "leaf1.example", "10.0.0.1")
	client := mustIssue(t, ca, "fabricctl")
	strangerClient := mustIssue(t, otherCA, "stranger")

	tests := []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		serverName string // overrides the dialled address for verification
		wantOK     bool
		wantPeerCN string
		wantErr    string // substring of the client or server error
	}{
		{
			name:   "server auth only",
			server: certs.ServerConfig(server, nil),
			client: certs.ClientConfig(ca.Pool(), nil),
			wantOK: true,
		},
		{
			name:       "mutual TLS",
			server:     certs.ServerConfig(server, ca.Pool()),
			client:     certs.ClientConfig(ca.Pool(), &client),
			wantOK:     true,
			wantPeerCN: "fabricctl",
		},
		{
			name:    "mutual TLS client without certificate rejected",
			server:  certs.ServerConfig(server, ca.Pool()),
			client:  certs.ClientConfig(ca.Pool(), nil),
			wantErr: "certificate",
		},
		{
			name:    "mutual TLS client from another CA rejected",
			server:  certs.ServerConfig(server, ca.Pool()),
			client:  certs.ClientConfig(ca.Pool(), &strangerClient),
			wantErr: "certificate",
		},
		{
			name:    "server from another CA rejected",
			server:  certs.ServerConfig(server, nil),
			client:  certs.ClientConfig(otherCA.Pool(), nil),
			wantErr: "unknown authority",
		},
		{
			name:       "default DNS SAN localhost",
			server:     certs.ServerConfig(server, nil),
			client:     certs.ClientConfig(ca.Pool(), nil),
			serverName: "localhost",
			wantOK:     true,
		},
		{
			name:       "extra DNS SAN",
			server:     certs.ServerConfig(server, nil),
			client:     certs.ClientConfig(ca.Pool(), nil),
			serverName: "leaf1.example",
			wantOK:     true,
		},
		{
			name:       "name not in SANs rejected",
			server:     certs.ServerConfig(server, nil),
			client:     certs.ClientConfig(ca.Pool(), nil),
			serverName: "spine1.example",
			wantErr:    "not spine1.example",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.serverName != "" {
				tt.client.ServerName = tt.serverName
			}
			res := handshake(t, tt.server, tt.client)
			if tt.wantOK {
				if res.clientErr != nil || res.serverErr != nil {
					t.Fatalf("handshake failed: client %v, server %v", res.clientErr, res.serverErr)
				}
				if res.peerCN != tt.wantPeerCN {
					t.Errorf("server saw client CN %q, want %q", res.peerCN, tt.wantPeerCN)
				}
				if res.version != tls.VersionTLS13 {
					t.Errorf("negotiated TLS version %x, want TLS 1.3", res.version)
				}
				return
			}
			if res.clientErr == nil && res.serverErr == nil {
				t.Fatal("handshake succeeded, want failure")
			}
			msgs := errString(res.clientErr) + " | " + errString(res.serverErr)
			if !strings.Contains(msgs, tt.wantErr) {
				t.Errorf("errors %q do not mention %q", msgs, tt.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestIssueSANs(t *testing.T) {
	ca := mustCA(t)
	tests := []struct {
		name    string
		hosts   []string
		wantDNS []string
		wantIPs []string
	}{
		{"defaults", nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"extra hosts", []string{"leaf1", "10.1.2.3", "fe80::1"}, []string{"localhost", "leaf1"}, []string{"127.0.0.1", "::1", "10.1.2.3", "fe80::1"}},
		{"duplicates and blanks skipped", []string{"localhost", "", " 127.0.0.1 ", "leaf1", "leaf1"}, []string{"localhost", "leaf1"}, []string{"127.0.0.1", "::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := mustIssue(t, ca, "sw", tt.hosts...)
			leaf := cert.Leaf
			if leaf == nil {
				t.Fatal("Leaf not set")
			}
			if !slices.Equal(leaf.DNSNames, tt.wantDNS) {
				t.Errorf("DNSNames = %v, want %v", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IPAddresses = %v, want %v", ips, tt.wantIPs)
			}
			if leaf.Subject.CommonName != "sw" {
				t.Errorf("CommonName = %q, want sw", leaf.Subject.CommonName)
			}
			if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
				t.Errorf("public key %T is not ECDSA P-256", leaf.PublicKey)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{
				Roots:     ca.Pool(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			}); err != nil {
				t.Errorf("Verify against CA: %v", err)
			}
		})
	}
}

func TestIssueRejectsEmptyCommonName(t *testing.T) {
	ca := mustCA(t)
	for _, cn := range []string{"", "  "} {
		if _, err := ca.Issue(cn); err == nil || !strings.Contains(err.Error(), "commonName") {
			t.Errorf("Issue(%q) error = %v, want one naming commonName", cn, err)
		}
	}
}

func TestCAProperties(t *testing.T) {
	ca := mustCA(t)
	c := ca.Certificate()
	if !c.IsCA || c.Subject.CommonName == "" {
		t.Fatalf("CA certificate IsCA=%v CN=%q", c.IsCA, c.Subject.CommonName)
	}
	if !strings.HasPrefix(string(ca.CertPEM()), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("CertPEM() does not start with a PEM certificate block")
	}
	if other := mustCA(t); other.Certificate().Equal(c) {
		t.Errorf("two NewCA calls returned the same certificate")
	}
}

// TestFilesRoundTrip writes a CA and key pairs to disk and runs a mutual TLS
// handshake with configurations loaded back from the files.
func TestFilesRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ca := mustCA(t)
	if err := ca.WritePEM(dir); err != nil {
		t.Fatalf("WritePEM: %v", err)
	}
	if err := ca.WriteKeyPair(dir, "leaf1", mustIssue(t, ca, "leaf1")); err != nil {
		t.Fatalf("WriteKeyPair(leaf1): %v", err)
	}
	if err := ca.WriteKeyPair(dir, "client", mustIssue(t, ca, "client")); err != nil {
		t.Fatalf("WriteKeyPair(client): %v", err)
	}

	for file, perm := range map[string]fs.FileMode{"ca.pem": 0o644, "leaf1.pem": 0o644, "leaf1-key.pem": 0o600, "client.pem": 0o644, "client-key.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("stat %s: %v", file, err)
		}
		if got := fi.Mode().Perm(); got&^perm != 0 {
			t.Errorf("%s mode %v, want at most %v", file, got, perm)
		}
	}

	p := func(name string) string { return filepath.Join(dir, name) }
	serverCfg, err := certs.LoadServerConfig(p("leaf1.pem"), p("leaf1-key.pem"), p("ca.pem"))
	if err != nil {
		t.Fatalf("LoadServerConfig: %v", err)
	}
	if serverCfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", serverCfg.ClientAuth)
	}
	clientCfg, err := certs.LoadClientConfig(p("ca.pem"), p("client.pem"), p("client-key.pem"))
	if err != nil {
		t.Fatalf("LoadClientConfig: %v", err)
	}
	res := handshake(t, serverCfg, clientCfg)
	if res.clientErr != nil || res.serverErr != nil {
		t.Fatalf("handshake failed: client %v, server %v", res.clientErr, res.serverErr)
	}
	if res.peerCN != "client" {
		t.Errorf("server saw client CN %q, want client", res.peerCN)
	}

	// Without a client certificate, the loaded server rejects the client.
	anon, err := certs.LoadClientConfig(p("ca.pem"), "", "")
	if err != nil {
		t.Fatalf("LoadClientConfig without cert: %v", err)
	}
	if res := handshake(t, serverCfg, anon); res.clientErr == nil && res.serverErr == nil {
		t.Fatal("handshake without client certificate succeeded against mutual TLS server")
	}

	// A server loaded without caFile does not ask for client certificates.
	plain, err := certs.LoadServerConfig(p("leaf1.pem"), p("leaf1-key.pem"), "")
	if err != nil {
		t.Fatalf("LoadServerConfig without CA: %v", err)
	}
	if plain.ClientAuth != tls.NoClientCert {
		t.Errorf("ClientAuth = %v, want NoClientCert", plain.ClientAuth)
	}
	if res := handshake(t, plain, anon); res.clientErr != nil || res.serverErr != nil {
		t.Fatalf("handshake failed: client %v, server %v", res.clientErr, res.serverErr)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t)
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKeyPair(dir, "sw", mustIssue(t, ca, "sw")); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	missing := p("missing.pem")

	tests := []struct {
		name      string
		load      func() (*tls.Config, error)
		wantField string
		wantIs    error
	}{
		{"server missing cert", func() (*tls.Config, error) { return certs.LoadServerConfig(missing, p("sw-key.pem"), "") }, "certFile", fs.ErrNotExist},
		{"server empty cert", func() (*tls.Config, error) { return certs.LoadServerConfig("", p("sw-key.pem"), "") }, "certFile", nil},
		{"server empty key", func() (*tls.Config, error) { return certs.LoadServerConfig(p("sw.pem"), "", "") }, "keyFile", nil},
		{"server missing CA", func() (*tls.Config, error) { return certs.LoadServerConfig(p("sw.pem"), p("sw-key.pem"), missing) }, "caFile", fs.ErrNotExist},
		{"server garbage CA", func() (*tls.Config, error) { return certs.LoadServerConfig(p("sw.pem"), p("sw-key.pem"), garbage) }, "caFile", nil},
		{"client missing CA", func() (*tls.Config, error) { return certs.LoadClientConfig(missing, "", "") }, "caFile", fs.ErrNotExist},
		{"client cert without key", func() (*tls.Config, error) { return certs.LoadClientConfig(p("ca.pem"), p("sw.pem"), "") }, "keyFile", nil},
		{"client key without cert", func() (*tls.Config, error) { return certs.LoadClientConfig(p("ca.pem"), "", p("sw-key.pem")) }, "certFile", nil},
		{"client mismatched pair", func() (*tls.Config, error) { return certs.LoadClientConfig(p("ca.pem"), p("sw.pem"), p("ca.pem")) }, "keyFile", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.load()
			if err == nil {
				t.Fatalf("got config %v, want error", cfg)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("error %q does not name %s", err, tt.wantField)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestWriteKeyPairErrors(t *testing.T) {
	ca := mustCA(t)
	good := mustIssue(t, ca, "sw")
	tests := []struct {
		name     string
		fileName string
		cert     tls.Certificate
		want     string
	}{
		{"empty name", "", good, "name"},
		{"path in name", "a/b", good, "name"},
		{"dot dot", "..", good, "name"},
		{"no certificate", "sw", tls.Certificate{PrivateKey: good.PrivateKey}, "no certificate"},
		{"no key", "sw", tls.Certificate{Certificate: good.Certificate}, "no private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ca.WriteKeyPair(t.TempDir(), tt.fileName, tt.cert)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteKeyPair error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestIssueZeroCA(t *testing.T) {
	for _, ca := range []*certs.CA{nil, {}} {
		if _, err := ca.Issue("sw"); err == nil || !strings.Contains(err.Error(), "NewCA") {
			t.Errorf("Issue on %v error = %v, want one mentioning NewCA", ca, err)
		}
	}
}
