package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// defaultServerPort is the port fabricd serves its northbound API on unless
// told otherwise (its --listen default, 127.0.0.1:9345: clear of gNMI's 9339
// and P4Runtime's 9559 on a host that also runs boxes).
const defaultServerPort = "9345"

// Environment variables that give the connection flags their defaults, so
// that a shell can be pointed at one chassis once.
const (
	envServer = "FABRIC_SERVER"
	envToken  = "FABRIC_TOKEN"
)

// serverOptions are the flags that say how to reach fabricd: persistent
// flags of the root (addServerFlags), so that they may stand anywhere on
// the line ("fabricctl --server h:9345 device list"). The device command
// groups (gnmi, gnoi) and pipeline push define their own --insecure,
// --tls-* and --timeout for the device: in those subtrees the device's
// flags take the names, as cobra lets a command's flags shadow inherited
// ones.
type serverOptions struct {
	addr             string
	token, tokenFile string
	tlsCA            string
	tlsCert, tlsKey  string
	insecure         bool
	timeout          time.Duration
}

// addServerFlags registers the fabricd connection flags on cmd, for it and
// all its subcommands.
func (g *globalOptions) addServerFlags(cmd *cobra.Command) {
	s := &g.server
	def := os.Getenv(envServer)
	if def == "" {
		def = "127.0.0.1:" + defaultServerPort
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&s.addr, "server", def, "fabricd address, host:port (env "+envServer+")")
	pf.StringVar(&s.token, "token", "", "bearer token for fabricd (env "+envToken+")")
	pf.StringVar(&s.tokenFile, "token-file", "", "file holding the bearer token (first line)")
	pf.StringVar(&s.tlsCA, "tls-ca", "", "PEM file of the CA fabricd's certificate chains to (default: system roots)")
	pf.StringVar(&s.tlsCert, "tls-cert", "", "PEM file of a client certificate, for mutual TLS")
	pf.StringVar(&s.tlsKey, "tls-key", "", "PEM file of the client certificate's key")
	pf.BoolVar(&s.insecure, "insecure", false, "connect to fabricd in plaintext, without TLS")
	pf.DurationVar(&s.timeout, "timeout", 30*time.Second, "bound on each request to fabricd (0: none); streams and waits are not bounded")
	for _, name := range []string{"tls-ca", "tls-cert", "tls-key"} {
		_ = cmd.MarkPersistentFlagFilename(name, "pem", "crt", "key")
	}
}

// resolveToken returns the token the flags and the environment give, in
// that order of precedence.
func (s *serverOptions) resolveToken() (string, error) {
	switch {
	case s.token != "" && s.tokenFile != "":
		return "", errors.New("--token and --token-file are exclusive")
	case s.token != "":
		return s.token, nil
	case s.tokenFile != "":
		b, err := os.ReadFile(s.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		tok, _, _ := strings.Cut(string(b), "\n")
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return "", fmt.Errorf("--token-file %s: the file holds no token", s.tokenFile)
		}
		return tok, nil
	}
	return strings.TrimSpace(os.Getenv(envToken)), nil
}

// dialOptions turns the flags into the northbound client's options.
func (s *serverOptions) dialOptions() ([]northbound.DialOption, error) {
	if s.addr == "" {
		return nil, errors.New("--server is empty (want host:port of fabricd)")
	}
	tok, err := s.resolveToken()
	if err != nil {
		return nil, err
	}
	var opts []northbound.DialOption
	switch {
	case s.insecure && (s.tlsCA != "" || s.tlsCert != "" || s.tlsKey != ""):
		return nil, errors.New("--insecure and --tls-ca/--tls-cert/--tls-key are exclusive")
	case s.insecure:
		opts = append(opts, northbound.WithInsecure())
	default:
		var conf *tls.Config
		if conf, err = certs.LoadClientConfig(s.tlsCA, s.tlsCert, s.tlsKey); err != nil {
			return nil, fmt.Errorf("--tls-ca/--tls-cert/--tls-key: %w", err)
		}
		opts = append(opts, northbound.WithTLS(conf))
	}
	if tok != "" {
		if s.insecure && !isLoopback(s.addr) {
			// The client library refuses this too; say which flags.
			return nil, fmt.Errorf("--insecure with a token (--token, --token-file or %s): a token is sent in plaintext only to a loopback --server; use TLS (--tls-ca) for %s", envToken, s.addr)
		}
		opts = append(opts, northbound.WithToken(tok))
		if s.insecure {
			// Loopback traffic does not leave the host: nobody on a path
			// can read the token.
			opts = append(opts, northbound.WithTokenOverPlaintext())
		}
	}
	return opts, nil
}

// isLoopback reports whether a host:port names this host's loopback
// interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// chassis is a connection to fabricd for one command.
type chassis struct {
	nbpb.ChassisClient
	client  *northbound.Client
	timeout time.Duration
}

// Close closes the connection.
func (c *chassis) Close() error { return c.client.Close() }

// call returns the context of one unary request: the command's context
// bounded by --timeout.
func (c *chassis) call(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return withTimeout(cmd, c.timeout)
}

// dial connects to fabricd as the connection flags say. The connection is
// lazy: an unreachable server shows up as UNAVAILABLE on the first call.
func (g *globalOptions) dial(cmd *cobra.Command) (*chassis, error) {
	opts, err := g.server.dialOptions()
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(cmd, g.server.timeout)
	defer cancel()
	c, err := northbound.Dial(ctx, g.server.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("--server %s: %w", g.server.addr, rpcError(err))
	}
	return &chassis{ChassisClient: c, client: c, timeout: g.server.timeout}, nil
}

// statusError is a gRPC error as fabricctl shows it: the canonical code name
// and the server's message, with a hint where the cure is usually a flag.
// It unwraps to the original error so that status.Code still sees the code.
type statusError struct {
	code codes.Code
	msg  string
	hint string
	err  error
}

// Error implements error.
func (e *statusError) Error() string {
	s := codeName(e.code) + ": " + e.msg
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

// Unwrap returns the original gRPC error.
func (e *statusError) Unwrap() error { return e.err }

// GRPCStatus lets status.FromError and status.Code see through the wrapper.
func (e *statusError) GRPCStatus() *status.Status { return status.New(e.code, e.msg) }

// rpcError makes a gRPC error readable; other errors pass unchanged.
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	var se *statusError
	if errors.As(err, &se) {
		return err
	}
	// The status itself, not status.FromError's, whose message for a
	// wrapped status is the whole wrapped text.
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		return err
	}
	st := gs.GRPCStatus()
	e := &statusError{code: st.Code(), msg: st.Message(), err: err}
	switch st.Code() {
	case codes.Unauthenticated:
		e.hint = "give a token with --token, --token-file or " + envToken
	case codes.PermissionDenied:
		e.hint = "this needs an admin token"
	case codes.Unavailable:
		// fabricd also answers UNAVAILABLE for a box that is down; only a
		// failure to reach fabricd itself is about the flags.
		if strings.Contains(e.msg, "connection error") || strings.Contains(e.msg, "transport") {
			e.hint = "is fabricd running and reachable at --server? are --insecure/--tls-ca right?"
		}
	case codes.DeadlineExceeded:
		e.hint = "--timeout bounds each request"
	}
	return e
}

// codeName returns the canonical name of a gRPC code as the gRPC spec
// writes it (PERMISSION_DENIED), which is what operators search for.
func codeName(c codes.Code) string {
	if c == codes.OK {
		return "OK"
	}
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// completeWith calls fabricd for shell completion and fails silently: a
// completion that cannot reach the server offers nothing rather than an
// error in the middle of a command line.
func (g *globalOptions) completeWith(list func(ctx context.Context, c *chassis) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		c, err := g.dial(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer c.Close()
		d := g.server.timeout
		if d <= 0 || d > 3*time.Second {
			d = 3 * time.Second // a shell waiting on Tab must not hang
		}
		ctx, cancel := withTimeout(cmd, d)
		defer cancel()
		return list(ctx, c), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFirst completes the first positional argument with f and offers
// nothing after it.
func completeFirst(f cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(cmd, args, toComplete)
	}
}

// completeSerials offers the serials of the registered boxes, each with
// its name and module as the description.
func (g *globalOptions) completeSerials() cobra.CompletionFunc {
	return g.completeWith(func(ctx context.Context, c *chassis) []string {
		resp, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
		if err != nil {
			return nil
		}
		var out []string
		for _, b := range resp.GetBoxes() {
			out = append(out, fmt.Sprintf("%s\t%s, module %d", b.GetSerial(), b.GetName(), b.GetModule()))
		}
		return out
	})
}

// completeModules offers the module IDs of the registered boxes.
func (g *globalOptions) completeModules() cobra.CompletionFunc {
	return g.completeWith(func(ctx context.Context, c *chassis) []string {
		resp, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
		if err != nil {
			return nil
		}
		var out []string
		for _, b := range resp.GetBoxes() {
			out = append(out, fmt.Sprintf("%d\t%s (%s)", b.GetModule(), b.GetName(), b.GetSerial()))
		}
		return out
	})
}

// unary dials fabricd, makes the one call rpc(req) bounded by --timeout,
// and returns its answer, with a gRPC error made readable (rpcError):
//
//	resp, err := unary(cmd, opts, nbpb.ChassisClient.History, &nbpb.HistoryRequest{})
func unary[Req, Resp any](cmd *cobra.Command, opts *globalOptions,
	rpc func(nbpb.ChassisClient, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	var zero Resp
	c, err := opts.dial(cmd)
	if err != nil {
		return zero, err
	}
	defer c.Close()
	ctx, cancel := c.call(cmd)
	defer cancel()
	resp, err := rpc(c, ctx, req)
	if err != nil {
		return zero, rpcError(err)
	}
	return resp, nil
}
