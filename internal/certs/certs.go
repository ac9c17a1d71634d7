// Package certs generates, in memory, a self-signed certificate authority and
// the server and client certificates it signs, for tests and testbeds that
// want real TLS and mutual TLS on loopback without any files prepared in
// advance. It also builds tls.Configs from those certificates or from PEM files
// on disk.
//
// All keys are ECDSA P-256. Every issued certificate is valid for both server
// and client authentication and names 127.0.0.1, ::1 and localhost as subject
// alternative names, plus any hosts given to Issue. The certificates are meant
// for testing: they are valid from one hour ago for ValidFor, and the CA key
// never leaves memory.
package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ValidFor is how long generated certificates stay valid.
const ValidFor = 365 * 24 * time.Hour

// DefaultHosts are the subject alternative names every issued certificate
// carries.
var DefaultHosts = []string{"127.0.0.1", "::1", "localhost"}

// File names used by WritePEM and WriteKeyPair.
const (
	// CAFile is the name of the CA certificate written by WritePEM.
	CAFile = "ca.pem"
	// CertSuffix ends the name of a certificate chain written by WriteKeyPair.
	CertSuffix = ".pem"
	// KeySuffix ends the name of a private key written by WriteKeyPair.
	KeySuffix = "-key.pem"
)

// CA is an in-memory, self-signed certificate authority. It is safe for
// concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA generates a new self-signed CA.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "fabric test CA " + serial.Text(16)[:8], Organization: []string{"fabric"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(ValidFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse CA certificate: %w", err)
	}
	return &CA{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     key,
	}, nil
}

// Certificate returns the CA certificate. The caller must not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertPEM returns the CA certificate in PEM form.
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// Pool returns a new certificate pool holding only the CA certificate, for
// tls.Config.RootCAs (clients) or tls.Config.ClientCAs (servers).
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// Issue generates a key and a certificate signed by the CA for commonName,
// valid for server and client authentication. Its subject alternative names are
// DefaultHosts followed by hosts; a host that parses as an IP address becomes
// an IP SAN, anything else a DNS SAN. Empty and repeated hosts are skipped.
// The returned certificate has Leaf set and its chain holds the leaf only.
func (ca *CA) Issue(commonName string, hosts ...string) (tls.Certificate, error) {
	if ca == nil || ca.cert == nil || ca.key == nil {
		return tls.Certificate{}, errors.New("certs: issue: CA not created by NewCA")
	}
	if strings.TrimSpace(commonName) == "" {
		return tls.Certificate{}, errors.New("certs: issue: commonName is empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: issue %q: generate key: %w", commonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"fabric"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ValidFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	seen := map[string]bool{}
	for _, h := range append(append([]string(nil), DefaultHosts...), hosts...) {
		h = strings.TrimSpace(h)
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: issue %q: create certificate: %w", commonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: issue %q: parse certificate: %w", commonName, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// WritePEM writes the CA certificate to dir/ca.pem (mode 0644), creating dir if
// needed. The CA key is not written.
func (ca *CA) WritePEM(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certs: write CA: dir %q: %w", dir, err)
	}
	path := filepath.Join(dir, CAFile)
	if err := os.WriteFile(path, ca.certPEM, 0o644); err != nil {
		return fmt.Errorf("certs: write CA: %w", err)
	}
	return nil
}

// WriteKeyPair writes cert's chain to dir/name.pem (mode 0644) and its private
// key, PKCS #8 encoded, to dir/name-key.pem (mode 0600), creating dir if
// needed. The files load back with tls.LoadX509KeyPair and LoadServerConfig or
// LoadClientConfig.
func (ca *CA) WriteKeyPair(dir, name string, cert tls.Certificate) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("certs: write key pair: name %q is not a plain file name", name)
	}
	if len(cert.Certificate) == 0 {
		return fmt.Errorf("certs: write key pair %q: cert has no certificate", name)
	}
	if cert.PrivateKey == nil {
		return fmt.Errorf("certs: write key pair %q: cert has no private key", name)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("certs: write key pair %q: private key: %w", name, err)
	}
	var chain bytes.Buffer
	for _, der := range cert.Certificate {
		if err := pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			return fmt.Errorf("certs: write key pair %q: encode certificate: %w", name, err)
		}
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certs: write key pair %q: dir %q: %w", name, dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+CertSuffix), chain.Bytes(), 0o644); err != nil {
		return fmt.Errorf("certs: write key pair %q: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+KeySuffix), keyPEM, 0o600); err != nil {
		return fmt.Errorf("certs: write key pair %q: %w", name, err)
	}
	return nil
}

// ServerConfig returns a TLS 1.2+ server configuration presenting cert. If
// clientCAs is nil, clients are not asked for a certificate; otherwise every
// client must present a certificate signed by one of clientCAs (mutual TLS).
func ServerConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

// ClientConfig returns a TLS 1.2+ client configuration that trusts roots (nil
// means the system roots) and, if cert is not nil, presents it to servers that
// ask for a client certificate. The server name is taken from the address
// dialled unless the caller sets ServerName.
func ClientConfig(roots *x509.CertPool, cert *tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}

// LoadServerConfig reads a server certificate chain and key from PEM files and
// returns ServerConfig for them. If caFile is empty, clients are not asked for a
// certificate; otherwise it names the PEM bundle of CAs that client
// certificates must chain to.
func LoadServerConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	var pool *x509.CertPool
	if caFile != "" {
		if pool, err = loadPool(caFile); err != nil {
			return nil, err
		}
	}
	return ServerConfig(cert, pool), nil
}

// LoadClientConfig reads PEM files and returns ClientConfig for them. caFile
// names the PEM bundle of CAs the server certificate must chain to; if it is
// empty, the system roots are used. certFile and keyFile name the client
// certificate chain and key for mutual TLS; both must be given, or neither.
func LoadClientConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	var pool *x509.CertPool
	if caFile != "" {
		var err error
		if pool, err = loadPool(caFile); err != nil {
			return nil, err
		}
	}
	if certFile == "" && keyFile == "" {
		return ClientConfig(pool, nil), nil
	}
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return ClientConfig(pool, &cert), nil
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	switch {
	case certFile == "":
		return tls.Certificate{}, errors.New("certs: certFile is empty")
	case keyFile == "":
		return tls.Certificate{}, errors.New("certs: keyFile is empty")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: certFile %q, keyFile %q: %w", certFile, keyFile, err)
	}
	return cert, nil
}

func loadPool(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("certs: caFile: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("certs: caFile %q: no PEM certificate found", caFile)
	}
	return pool, nil
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certs: generate serial number: %w", err)
	}
	// Keep the serial positive and at least 8 hex digits for the CA name.
	return serial.SetBit(serial, 127, 1), nil
}
