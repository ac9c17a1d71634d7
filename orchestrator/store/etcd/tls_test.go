package etcd_test

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
)

// TestTLS: a store connects to a cluster that asks for mutual TLS with the
// right CA and client certificate; with the wrong CA, without a client
// certificate or without TLS it fails within its dial timeout, and the
// error says what the handshake said rather than only that time ran out.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := ca.Issue("etcd", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := ca.Issue("fabricd")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKeyPair(dir, "server", serverCert); err != nil {
		t.Fatal(err)
	}
	srv := etcdtest.Start(t, etcdtest.WithClientTLS(&etcdtest.ClientTLS{
		CertFile:     filepath.Join(dir, "server"+certs.CertSuffix),
		KeyFile:      filepath.Join(dir, "server"+certs.KeySuffix),
		ClientCAFile: filepath.Join(dir, certs.CAFile),
	}))
	if ep := srv.Endpoints()[0]; !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s, want https://", ep)
	}
	ep := srv.Endpoints()[0]
	bare := strings.TrimPrefix(ep, "https://")
	tests := []struct {
		name     string
		endpoint string
		tls      *tls.Config
		want     string // in the error; "" connects
	}{
		{"mutual TLS", ep, certs.ClientConfig(ca.Pool(), &clientCert), ""},
		{"unknown CA", ep, certs.ClientConfig(other.Pool(), &clientCert), "certificate signed by unknown authority"},
		{"no client certificate", ep, certs.ClientConfig(ca.Pool(), nil), "certificate required"},
		{"https without TLS", ep, nil, "the endpoint is https but no TLS is configured"},
		{"TLS server, no TLS", bare, nil, "answers TLS but no TLS is configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			s, err := etcd.New(ctx, []string{tt.endpoint}, etcd.WithTLS(tt.tls), etcd.WithDialTimeout(2*time.Second))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Put(ctx, "/tls", []byte("x")); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("connected")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			t.Log(err)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("failed after %v", d)
			}
		})
	}
}
