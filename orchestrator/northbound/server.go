package northbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// Defaults of a Server.
const (
	// DefaultMaxOperations is how many operations the table keeps before
	// dropping the oldest finished ones.
	DefaultMaxOperations = 1000
	// DefaultCloseTimeout bounds how long Close waits for running commits
	// to end before cancelling them.
	DefaultCloseTimeout = 30 * time.Second
	// BackupChunkSize is the size of the chunks Backup streams.
	BackupChunkSize = 64 << 10
)

// Option configures NewServer.
type Option func(*options)

type options struct {
	log          *slog.Logger
	tokens       Tokens
	noAuth       bool
	maxOps       int
	boxTLS       *tls.Config
	closeTimeout time.Duration
}

// WithLogger sends the server's records (operations started and ended,
// refused calls are not logged: gRPC reports them) to l. A nil l is
// ignored; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithTokens sets the bearer tokens the server accepts. Empty tokens are
// ignored. Several WithTokens add up.
func WithTokens(t Tokens) Option {
	return func(o *options) {
		o.tokens.Admin = append(o.tokens.Admin, t.Admin...)
		o.tokens.ReadOnly = append(o.tokens.ReadOnly, t.ReadOnly...)
	}
}

// WithoutAuth serves every call without a token. It must be asked for:
// a server without tokens and without this option is not created
// (ErrNoAuth). Meant for tests and for a daemon listening on a socket
// only its operators reach.
func WithoutAuth() Option { return func(o *options) { o.noAuth = true } }

// WithMaxOperations bounds the operation table to n operations (default
// DefaultMaxOperations): the oldest finished ones are dropped past it,
// and a Commit or Rollback is refused (RESOURCE_EXHAUSTED) when all n are
// still running. Values under 1 are ignored.
func WithMaxOperations(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxOps = n
		}
	}
}

// WithBoxTLS is the client TLS configuration RegisterBox uses to reach a
// box that is not registered insecure (fabricd's --box-ca). Without it such
// a registration is refused (FAILED_PRECONDITION).
func WithBoxTLS(c *tls.Config) Option { return func(o *options) { o.boxTLS = c } }

// WithCloseTimeout bounds how long Close waits for running commits to end
// by themselves (default DefaultCloseTimeout) before cancelling them.
// Values ≤ 0 are ignored.
func WithCloseTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.closeTimeout = d
		}
	}
}

// Server serves the Chassis API over an orchestrator. It adds nothing to
// the library but the conversion to and from the wire, the table of the
// operations it started, and authentication. Create it with NewServer,
// build the grpc.Server with ServerOptions, then Register it.
type Server struct {
	nbpb.UnimplementedChassisServer

	o      *orchestrator.Orchestrator
	log    *slog.Logger
	keys   keyring
	noAuth bool
	boxTLS *tls.Config
	ops    *opTable

	// life is the context of the commits the server starts: a commit
	// outlives the RPC that started it, not the server.
	life     context.Context
	stopLife context.CancelFunc
	// streams ends every stream at Close.
	streams     context.Context
	stopStreams context.CancelFunc
	// mu orders the start of a commit goroutine (commits.Add) before
	// Close's commits.Wait: a WaitGroup must not grow while waited on.
	mu         sync.Mutex
	closed     bool
	commits    sync.WaitGroup
	closeOnce  sync.Once
	closeAfter time.Duration
}

// NewServer returns a server of o. It needs tokens (WithTokens) or an
// explicit WithoutAuth, not both.
func NewServer(o *orchestrator.Orchestrator, opts ...Option) (*Server, error) {
	if o == nil {
		return nil, fmt.Errorf("northbound: nil orchestrator: %w", ErrInvalid)
	}
	cfg := options{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxOps: DefaultMaxOperations, closeTimeout: DefaultCloseTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	keys, n := newKeyring(cfg.tokens)
	switch {
	case n == 0 && !cfg.noAuth:
		return nil, ErrNoAuth
	case n > 0 && cfg.noAuth:
		return nil, fmt.Errorf("northbound: WithoutAuth with %d tokens: %w", n, ErrInvalid)
	}
	s := &Server{o: o, log: cfg.log, keys: keys, noAuth: cfg.noAuth, boxTLS: cfg.boxTLS,
		ops: newOpTable(cfg.maxOps), closeAfter: cfg.closeTimeout}
	s.life, s.stopLife = context.WithCancel(context.Background())
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	return s, nil
}

// Register registers the Chassis service on r (a *grpc.Server built with
// ServerOptions).
func (s *Server) Register(r grpc.ServiceRegistrar) { nbpb.RegisterChassisServer(r, s) }

// Close ends every open stream (UNAVAILABLE), refuses new operations, and
// waits for the commits and rollbacks it started to end and be recorded,
// for at most the close timeout; it then cancels them (the transaction
// coordinator restores the boxes) and waits as long again. It does not
// close the orchestrator. Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopStreams()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.ops.close()
		done := make(chan struct{})
		go func() { s.commits.Wait(); close(done) }()
		t := time.NewTimer(s.closeAfter)
		defer t.Stop()
		select {
		case <-done:
			s.stopLife()
			return
		case <-t.C:
		}
		s.log.Warn("northbound: cancelling running operations at close")
		s.stopLife()
		t.Reset(s.closeAfter)
		select {
		case <-done:
		case <-t.C:
			s.log.Warn("northbound: operations still running after close")
		}
	})
	return nil
}

// streamContext returns the context a streaming handler runs in: the
// stream's, ended too when the server closes.
func (s *Server) streamContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.streams, cancel)
	return ctx, func() { stop(); cancel() }
}

// streamEnd is the status a stream ends with when its context ended: the
// client's cancellation, or the server closing.
func (s *Server) streamEnd(ctx context.Context) error {
	if s.streams.Err() != nil {
		return status.Error(codes.Unavailable, "northbound: server closing")
	}
	return status.FromContextError(ctx.Err()).Err()
}
