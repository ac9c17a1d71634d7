// Package etcdtest starts an embedded etcd server (a one-member cluster,
// go.etcd.io/etcd/server/v3/embed) in process on loopback ports, for tests
// that need a real etcd: the etcd store engine's own, and any test of two
// orchestrators sharing one cluster.
//
//	srv := etcdtest.Start(t) // stopped when the test ends
//	s, err := etcd.New(ctx, srv.Endpoints())
//
// WithClientTLS serves clients over TLS, mutual TLS with a client CA file,
// on https:// endpoints.
//
// Servers are tuned for tests: a 50ms heartbeat and 500ms election timeout
// (so the cluster's minimum lease TTL is one second), no fsync unless
// WithFsync, no gRPC gateway, and logs kept quiet (Start shows them only if
// the test fails).
package etcdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/internal/zapslog"
)

// DefaultStartTimeout bounds the start of a server when ctx has no sooner
// deadline.
const DefaultStartTimeout = 30 * time.Second

// Name is the member name of every server.
const Name = "default"

type options struct {
	dir          string
	snapshot     io.Reader
	startTimeout time.Duration
	logger       *slog.Logger
	fsync        bool
	tls          *ClientTLS
}

// ClientTLS is the TLS a server asks of its clients (WithClientTLS): the
// server's certificate and key, and, for mutual TLS, the CAs client
// certificates must chain to. All are PEM files.
type ClientTLS struct {
	CertFile, KeyFile string
	// ClientCAFile, when set, makes every client present a certificate
	// signed by one of its CAs.
	ClientCAFile string
}

// WithClientTLS serves clients over TLS (https:// endpoints) with t. A
// nil t is ignored.
func WithClientTLS(t *ClientTLS) Option {
	return func(o *options) {
		if t != nil {
			o.tls = t
		}
	}
}

// Option configures New and Start.
type Option func(*options)

// WithDataDir runs the server on dir, which keeps its data across servers:
// start a new server on the directory of a closed one to test a restart.
// By default each server gets a new directory (Start: under t.TempDir; New:
// a temporary one removed by Close). An empty dir is ignored.
func WithDataDir(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.dir = dir
		}
	}
}

// WithSnapshot restores snap (written by the etcd engine's Snapshot or
// `etcdctl snapshot save`) into the data directory, which must be new or
// empty, before the server starts on it. A nil snap is ignored.
func WithSnapshot(snap io.Reader) Option {
	return func(o *options) {
		if snap != nil {
			o.snapshot = snap
		}
	}
}

// WithStartTimeout bounds the start (default DefaultStartTimeout). A
// non-positive d is ignored.
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.startTimeout = d
		}
	}
}

// WithLogger sends the server's logs to l. A nil l is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithFsync makes the server fsync its log and database like a production
// member; by default a test server skips fsync, which is faster and loses
// data only on a machine crash.
func WithFsync() Option {
	return func(o *options) { o.fsync = true }
}

// Server is a running embedded etcd server.
type Server struct {
	etcd      *embed.Etcd
	dir       string
	removeDir bool
	clientURL string
	peerURL   string

	once     sync.Once
	closeErr error
}

// Start starts a server for t, fails t if it cannot, and closes it when t
// ends. Its logs are written to t's log if t fails.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	logs := &logBuffer{}
	all := append([]Option{WithDataDir(t.TempDir()), WithLogger(slog.New(slog.NewTextHandler(logs,
		&slog.HandlerOptions{Level: slog.LevelInfo})))}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	s, err := New(ctx, all...)
	if err != nil {
		t.Logf("etcd logs:\n%s", logs.String())
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("etcdtest: %v", err)
		}
		if t.Failed() {
			t.Logf("etcd logs:\n%s", logs.String())
		}
	})
	return s
}

// New starts a server and returns once it serves clients, or fails when
// ctx ends or the start timeout passes. The caller must Close it.
func New(ctx context.Context, opts ...Option) (*Server, error) {
	if ctx == nil {
		return nil, errors.New("etcdtest: nil context")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	o := options{startTimeout: DefaultStartTimeout, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()
	s := &Server{dir: o.dir}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "etcdtest-*")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: %w", err)
		}
		s.dir, s.removeDir = dir, true
	}
	fail := func(err error) (*Server, error) {
		if s.removeDir {
			_ = os.RemoveAll(s.dir)
		}
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	// embed takes URLs, not listeners: pick free loopback ports, and pick
	// again if another process takes one before etcd binds it.
	const attempts = 3
	for i := range attempts {
		ports, err := freePorts(2)
		if err != nil {
			return fail(err)
		}
		s.clientURL = "http://" + ports[0]
		if o.tls != nil {
			s.clientURL = "https://" + ports[0]
		}
		s.peerURL = "http://" + ports[1]
		if o.snapshot != nil && i == 0 {
			err := etcd.Restore(ctx, o.snapshot, s.dir, etcd.RestoreConfig{Name: Name, PeerURLs: []string{s.peerURL}},
				etcd.WithLogger(o.logger))
			if err != nil {
				return fail(err)
			}
		}
		err = s.start(ctx, o)
		if err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "address already in use") || i == attempts-1 {
			return fail(err)
		}
	}
	return fail(errors.New("unreachable"))
}

func (s *Server) start(ctx context.Context, o options) error {
	cfg := embed.NewConfig()
	cfg.Name = Name
	cfg.Dir = s.dir
	cu, err := url.Parse(s.clientURL)
	if err != nil {
		return err
	}
	pu, err := url.Parse(s.peerURL)
	if err != nil {
		return err
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	if t := o.tls; t != nil {
		cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = t.CertFile, t.KeyFile
		if t.ClientCAFile != "" {
			cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = t.ClientCAFile, true
		}
	}
	cfg.TickMs, cfg.ElectionMs = 50, 500
	cfg.EnableGRPCGateway = false
	cfg.UnsafeNoFsync = !o.fsync
	cfg.Logger = "zap"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapslog.New(o.logger))
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd in %s: %w", s.dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		s.etcd = e
		return nil
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("start etcd in %s: %w", s.dir, err)
	case <-ctx.Done():
		e.Server.Stop()
		e.Close()
		return fmt.Errorf("start etcd in %s: %w", s.dir, ctx.Err())
	}
}

// freePorts returns n loopback "host:port" addresses that were free a
// moment ago.
func freePorts(n int) ([]string, error) {
	addrs := make([]string, n)
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		addrs[i] = l.Addr().String()
	}
	return addrs, nil
}

// Endpoints returns the client URLs to give to etcd.New or clientv3.
func (s *Server) Endpoints() []string { return []string{s.clientURL} }

// PeerURLs returns the server's peer URLs, to give to etcd.Restore.
func (s *Server) PeerURLs() []string { return []string{s.peerURL} }

// DataDir returns the server's data directory.
func (s *Server) DataDir() string { return s.dir }

// Close stops the server and, if New made its data directory, removes it.
// Later calls return the first one's result.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.etcd.Close()
		select {
		case <-s.etcd.Server.StopNotify():
		case <-time.After(DefaultStartTimeout):
			s.closeErr = errors.New("etcdtest: server did not stop")
		}
		if s.removeDir {
			if err := os.RemoveAll(s.dir); err != nil {
				s.closeErr = errors.Join(s.closeErr, fmt.Errorf("etcdtest: %w", err))
			}
		}
	})
	return s.closeErr
}

// logBuffer keeps a server's logs in memory; it may be written after the
// test ends.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
