package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/metrics"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/timesync"
)

// Defaults of the flags.
const (
	defaultDataDir = "./fabricd-data"
	// defaultListen is on loopback so that a daemon started without
	// thinking exposes nothing; 9345 is clear of gNMI's 9339 and
	// P4Runtime's 9559, which boxes on the same host may use.
	defaultListen          = "127.0.0.1:9345"
	defaultShutdownTimeout = 10 * time.Second
)

// config is the parsed command line of the daemon.
type config struct {
	dataDir, etcd                 string
	listen, metricsListen         string
	tlsCert, tlsKey, tlsClientCA  string
	insecure, noAuth              bool
	adminTokenFile, readTokenFile string
	boxCA                         string
	reconcileInterval, boxTimeout time.Duration
	timeSync                      bool
	ntpListen                     string
	monitor, reroute, discovery   bool
	maxOps                        int
	shutdownTimeout               time.Duration
	logLevel                      string
	etcdFlags
}

// etcdFlags are the settings of the connection to an etcd store (--etcd).
type etcdFlags struct {
	etcdCA, etcdCert, etcdKey  string
	etcdUser, etcdPasswordFile string
	etcdNamespace              string
	etcdDialTimeout            time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("fabricd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir, "bbolt data directory of the store")
	fs.StringVar(&c.etcd, "etcd", "", "etcd endpoints host:port,... (instead of --data-dir)")
	fs.StringVar(&c.etcdCA, "etcd-ca", "", "PEM CAs the etcd servers' certificates chain to (connects over TLS)")
	fs.StringVar(&c.etcdCert, "etcd-cert", "", "PEM client certificate chain for etcd (mutual TLS; with --etcd-key)")
	fs.StringVar(&c.etcdKey, "etcd-key", "", "PEM private key of --etcd-cert")
	fs.StringVar(&c.etcdUser, "etcd-user", "", "etcd user to authenticate as (password from --etcd-password-file or $"+etcdPasswordEnv+")")
	fs.StringVar(&c.etcdPasswordFile, "etcd-password-file", "", "file holding the password of --etcd-user")
	fs.StringVar(&c.etcdNamespace, "etcd-namespace", "", "key prefix of this chassis in etcd, ending in / (several chassis on one cluster)")
	fs.DurationVar(&c.etcdDialTimeout, "etcd-dial-timeout", etcd.DefaultDialTimeout, "bound of the first connection to etcd")
	fs.StringVar(&c.listen, "listen", defaultListen, "address of the gRPC API")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate chain of the API")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of the API")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "PEM CAs client certificates must chain to (mutual TLS; optional)")
	fs.BoolVar(&c.insecure, "insecure", false, "serve the API in plaintext (without it, TLS is required)")
	fs.StringVar(&c.adminTokenFile, "admin-token-file", "", "file of admin bearer tokens, one a line")
	fs.StringVar(&c.readTokenFile, "read-token-file", "", "file of read-only bearer tokens, one a line")
	fs.BoolVar(&c.noAuth, "no-auth", false, "serve every call without a token (without it, tokens are required)")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "address of the HTTP /metrics endpoint (off when empty)")
	fs.StringVar(&c.boxCA, "box-ca", "", "PEM CAs that boxes' TLS certificates chain to")
	fs.DurationVar(&c.reconcileInterval, "reconcile-interval", 30*time.Second, "period of the reconciler's passes over every box")
	fs.DurationVar(&c.boxTimeout, "box-timeout", 30*time.Second, "bound of one box's apply in a commit and of one reconcile pass")
	fs.BoolVar(&c.timeSync, "time-sync", false, "serve SNTP as the chassis time base and follow every box's clock")
	fs.StringVar(&c.ntpListen, "ntp-listen", timesync.DefaultListenAddr, "UDP address of the SNTP server (with --time-sync)")
	fs.BoolVar(&c.monitor, "monitor", false, "watch the boxes' ports, connections and system messages")
	fs.BoolVar(&c.reroute, "reroute", false, "reroute ECMP groups around ports that go down (implies --monitor)")
	fs.BoolVar(&c.discovery, "discovery", false, "learn the links between boxes with LLDP probes")
	fs.IntVar(&c.maxOps, "max-operations", northbound.DefaultMaxOperations, "operations kept in memory for GetOperation and WatchOperation")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "how long running commits and calls get to finish at shutdown")
	fs.StringVar(&c.logLevel, "log-level", "info", "least level logged: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case c.etcd != "" && set["data-dir"]:
		return nil, errors.New("--etcd and --data-dir: give one store")
	case c.insecure && (c.tlsCert != "" || c.tlsKey != "" || c.tlsClientCA != ""):
		return nil, errors.New("--insecure with --tls-*: choose TLS or plaintext")
	case !c.insecure && (c.tlsCert == "" || c.tlsKey == ""):
		return nil, errors.New("refusing to serve without TLS: give --tls-cert and --tls-key, or --insecure")
	case c.noAuth && (c.adminTokenFile != "" || c.readTokenFile != ""):
		return nil, errors.New("--no-auth with token files: choose one")
	case !c.noAuth && c.adminTokenFile == "" && c.readTokenFile == "":
		return nil, errors.New("refusing to serve without authentication: give --admin-token-file (and --read-token-file), or --no-auth")
	case c.shutdownTimeout <= 0:
		return nil, fmt.Errorf("--shutdown-timeout %v: must be positive", c.shutdownTimeout)
	}
	if err := checkEtcdFlags(c, set); err != nil {
		return nil, err
	}
	return c, nil
}

// readTokens reads a token file: one token a line, blank lines and lines
// starting with # ignored. A file without any token is an error: it is
// surely not what was meant.
func readTokens(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	var toks []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		toks = append(toks, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("token file %s: no token in it", path)
	}
	return toks, nil
}

// run is the daemon: it returns when ctx ends (nil) or the daemon fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "restore" {
		return restore(ctx, args[1:], stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %w", cfg.logLevel, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Everything that can be checked is, before anything is opened.
	admin, err := readTokens(cfg.adminTokenFile)
	if err != nil {
		return err
	}
	read, err := readTokens(cfg.readTokenFile)
	if err != nil {
		return err
	}
	var serverTLS *tls.Config
	if !cfg.insecure {
		if serverTLS, err = certs.LoadServerConfig(cfg.tlsCert, cfg.tlsKey, cfg.tlsClientCA); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key/--tls-client-ca: %w", err)
		}
	}
	nbOpts := []northbound.Option{northbound.WithLogger(log), northbound.WithMaxOperations(cfg.maxOps),
		northbound.WithCloseTimeout(cfg.shutdownTimeout)}
	if cfg.noAuth {
		nbOpts = append(nbOpts, northbound.WithoutAuth())
	} else {
		nbOpts = append(nbOpts, northbound.WithTokens(northbound.Tokens{Admin: admin, ReadOnly: read}))
	}
	var boxTLS *tls.Config
	if cfg.boxCA != "" {
		if boxTLS, err = certs.LoadClientConfig(cfg.boxCA, "", ""); err != nil {
			return fmt.Errorf("--box-ca: %w", err)
		}
		nbOpts = append(nbOpts, northbound.WithBoxTLS(boxTLS))
	}
	var etcdOpts []etcd.Option
	var etcdHow string
	if cfg.etcd != "" {
		if etcdOpts, etcdHow, err = etcdOptions(cfg, log); err != nil {
			return err
		}
	}

	st, err := openStore(ctx, cfg, etcdOpts, etcdHow, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Warn("fabricd: closing the store", "err", err)
		}
	}()
	drivers, err := builtin.Registry(driver.WithLogger(log))
	if err != nil {
		return fmt.Errorf("drivers: %w", err)
	}
	oOpts := []orchestrator.Option{orchestrator.WithLogger(log), orchestrator.WithReconcileInterval(cfg.reconcileInterval),
		orchestrator.WithBoxTimeout(cfg.boxTimeout)}
	if boxTLS != nil {
		// Boxes registered over TLS are reopened after a restart with the
		// same trust anchors (the store does not keep TLS settings).
		oOpts = append(oOpts, orchestrator.WithBoxCredentials(func(inventory.Box) (*tls.Config, *driver.Credentials, error) {
			return boxTLS.Clone(), nil, nil
		}))
	}
	if cfg.timeSync {
		oOpts = append(oOpts, orchestrator.WithTimeSync(timesync.WithListenAddr(cfg.ntpListen), timesync.WithLogger(log)))
	}
	if cfg.monitor {
		oOpts = append(oOpts, orchestrator.WithMonitor())
	}
	if cfg.reroute {
		oOpts = append(oOpts, orchestrator.WithReroute())
	}
	if cfg.discovery {
		oOpts = append(oOpts, orchestrator.WithDiscovery())
	}
	o, err := orchestrator.New(ctx, st, drivers, oOpts...)
	if err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	defer func() {
		if err := o.Close(); err != nil {
			log.Warn("fabricd: closing the orchestrator", "err", err)
		}
	}()

	nb, err := northbound.NewServer(o, nbOpts...)
	if err != nil {
		return err
	}
	gopts := nb.ServerOptions()
	if serverTLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	gs := grpc.NewServer(gopts...)
	nb.Register(gs)
	lis, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		_ = nb.Close()
		return fmt.Errorf("--listen: %w", err)
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- gs.Serve(lis) }()
	log.Info("fabricd: serving the API", "addr", lis.Addr().String(), "tls", serverTLS != nil, "auth", !cfg.noAuth)
	fmt.Fprintf(stdout, "fabricd: api %s\n", lis.Addr())

	var hs *http.Server
	if cfg.metricsListen != "" {
		mc, err := metrics.New(o, metrics.WithLogger(log))
		if err != nil {
			shutdownGRPC(gs, nb, cfg.shutdownTimeout, log)
			return err
		}
		defer mc.Close()
		reg := prometheus.NewRegistry()
		reg.MustRegister(mc, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(reg))
		mlis, err := net.Listen("tcp", cfg.metricsListen)
		if err != nil {
			shutdownGRPC(gs, nb, cfg.shutdownTimeout, log)
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(mlis); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
		log.Info("fabricd: serving metrics", "addr", mlis.Addr().String())
		fmt.Fprintf(stdout, "fabricd: metrics http://%s/metrics\n", mlis.Addr())
	}

	var failed error
	select {
	case <-ctx.Done():
		log.Info("fabricd: shutting down")
	case failed = <-serveErr:
		log.Error("fabricd: serving failed", "err", failed)
	}
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
		_ = hs.Shutdown(sctx)
		cancel()
	}
	shutdownGRPC(gs, nb, cfg.shutdownTimeout, log)
	return failed
}

// shutdownGRPC ends the API: the northbound server first (its streams end
// and its running commits get their time), then the calls in flight get
// timeout to finish before the connections are cut.
func shutdownGRPC(gs *grpc.Server, nb *northbound.Server, timeout time.Duration, log *slog.Logger) {
	_ = nb.Close()
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		log.Warn("fabricd: calls still running after the shutdown timeout: cutting them")
		gs.Stop()
		<-done
	}
}

// openStore opens the etcd store with etcdOpts when --etcd is given (how
// says how it connects, so that a refused connection names the settings
// tried), or else the bbolt store in --data-dir.
func openStore(ctx context.Context, cfg *config, etcdOpts []etcd.Option, how string, log *slog.Logger) (store.Store, error) {
	if cfg.etcd != "" {
		s, err := etcd.New(ctx, etcdEndpoints(cfg.etcd), etcdOpts...)
		switch {
		case err == nil:
		case ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded):
			// The etcd client retries a refused TLS handshake until the
			// deadline and reports only the deadline: say what to check.
			return nil, fmt.Errorf("--etcd %s (%s): no answer within --etcd-dial-timeout %v "+
				"(is etcd listening there, and do --etcd-ca/--etcd-cert/--etcd-key match its TLS?): %w", cfg.etcd, how, cfg.etcdDialTimeout, err)
		default:
			return nil, fmt.Errorf("--etcd %s (%s): %w", cfg.etcd, how, err)
		}
		log.Info("fabricd: store on etcd", "endpoints", cfg.etcd, "connection", how)
		return s, nil
	}
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	s, err := bolt.Open(ctx, cfg.dataDir)
	if err != nil {
		return nil, fmt.Errorf("--data-dir %s: %w", cfg.dataDir, err)
	}
	return s, nil
}

// restore is "fabricd restore --data-dir D --from FILE" for the bbolt
// store, and "fabricd restore --etcd-data-dir D --etcd-name N
// --etcd-peer-url URL --from FILE" for an etcd member (what `etcdutl
// snapshot restore` does; start etcd with that name and URL on D).
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fabricd restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "", "new bbolt data directory (must not hold a store)")
	etcdDir := fs.String("etcd-data-dir", "", "new etcd member data directory (must not exist or be empty), instead of --data-dir")
	etcdName := fs.String("etcd-name", "default", "with --etcd-data-dir: the member's --name")
	etcdPeer := fs.String("etcd-peer-url", "http://localhost:2380", "with --etcd-data-dir: the member's --initial-advertise-peer-urls")
	etcdCluster := fs.String("etcd-initial-cluster", "", "with --etcd-data-dir: every member as name=peerURL,... (default: this member alone)")
	from := fs.String("from", "", "backup file (the Backup RPC's stream; - for stdin)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("restore: unexpected arguments %q", fs.Args())
	case (*dir == "") == (*etcdDir == "") || *from == "":
		return errors.New("restore: give --from and one of --data-dir (bbolt) and --etcd-data-dir (etcd)")
	}
	var r io.Reader
	if *from == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(*from)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer f.Close()
		r = f
	}
	into := *dir
	if *etcdDir != "" {
		into = *etcdDir
		cfg := etcd.RestoreConfig{Name: *etcdName, PeerURLs: []string{*etcdPeer}, InitialCluster: *etcdCluster}
		if err := etcd.Restore(ctx, r, *etcdDir, cfg); err != nil {
			return fmt.Errorf("restore %s into %s: %w", *from, *etcdDir, err)
		}
	} else if err := bolt.Restore(ctx, r, *dir); err != nil {
		return fmt.Errorf("restore %s into %s: %w", *from, *dir, err)
	}
	fmt.Fprintf(stdout, "fabricd: restored %s into %s\n", *from, into)
	return nil
}
