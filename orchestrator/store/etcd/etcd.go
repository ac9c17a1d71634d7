package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/internal/zapslog"
)

// DefaultDialTimeout is how long New waits for the cluster when ctx has no
// sooner deadline.
const DefaultDialTimeout = 5 * time.Second

type options struct {
	namespace   string
	tls         *tls.Config
	username    string
	password    string
	logger      *slog.Logger
	dialTimeout time.Duration
}

// Option configures New and NewFromClient. Options given invalid values are
// ignored and the default is kept, as documented on each option.
type Option func(*options)

// WithNamespace stores every key under prefix, invisibly: Get("a") reads
// prefix+"a", Range("") lists only the namespace, watches see only it. Stores
// with different namespaces share a cluster (and its revision counter)
// without seeing each other's keys.
func WithNamespace(prefix string) Option {
	return func(o *options) { o.namespace = prefix }
}

// WithTLS connects over TLS with cfg (New only). A nil cfg is ignored.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		if cfg != nil {
			o.tls = cfg
		}
	}
}

// WithCredentials authenticates as user (New only). An empty user is
// ignored.
func WithCredentials(user, password string) Option {
	return func(o *options) {
		if user != "" {
			o.username, o.password = user, password
		}
	}
}

// WithLogger sends the etcd client's logs to l (New only); they are
// discarded by default. A nil l is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithDialTimeout bounds the first connection to the cluster (New only;
// default DefaultDialTimeout; ctx's deadline, if sooner, wins). A
// non-positive d is ignored.
func WithDialTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.dialTimeout = d
		}
	}
}

func newOptions(opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler), dialTimeout: DefaultDialTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Store is the etcd engine of store.Store. Create it with New or
// NewFromClient.
type Store struct {
	client  *clientv3.Client
	owned   bool // Close closes client
	kv      clientv3.KV
	watcher clientv3.Watcher
	lease   clientv3.Lease
	maint   clientv3.Maintenance
	ns      string

	base   context.Context // canceled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.TxnSizer = (*Store)(nil)
)

// New connects to the etcd cluster at endpoints ("host:port" or URLs) and
// checks that it answers within the dial timeout. Close closes the
// connection.
func New(ctx context.Context, endpoints []string, opts ...Option) (*Store, error) {
	if err := store.ValidContext(ctx); err != nil {
		return nil, fmt.Errorf("etcd: connect to %v: %w", endpoints, err)
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("etcd: connect: no endpoints: %w", store.ErrInvalid)
	}
	o := newOptions(opts)
	dctx, cancel := context.WithTimeout(ctx, o.dialTimeout)
	defer cancel()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: o.dialTimeout,
		TLS:         o.tls,
		Username:    o.username,
		Password:    o.password,
		Logger:      zapslog.New(o.logger),
		Context:     context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd: connect to %v: %w", endpoints, err)
	}
	s := newStore(c, true, o)
	if _, err := s.Revision(dctx); err != nil {
		_ = s.Close()
		if why := diagnoseTLS(ctx, endpoints[0], o.tls); why != "" {
			err = fmt.Errorf("%w (%s)", err, why)
		}
		return nil, fmt.Errorf("etcd: connect to %v: %w", endpoints, err)
	}
	return s, nil
}

// diagnoseTLS says why a connection to endpoint may have failed for its
// TLS, or "": the etcd client retries a failed handshake until the dial
// timeout, and reports only that time ran out. It makes one handshake of
// its own: with cfg, then waits a moment for the server's verdict on the
// client's certificate (TLS 1.3 sends it after the handshake); without
// cfg, it checks whether the server answers TLS at all.
func diagnoseTLS(ctx context.Context, endpoint string, cfg *tls.Config) string {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		if u.Scheme == "https" && cfg == nil {
			return "the endpoint is https but no TLS is configured (WithTLS)"
		}
		host = u.Host
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	probe := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only asks whether the server speaks TLS
	if cfg != nil {
		probe = cfg.Clone()
		if probe.ServerName == "" {
			probe.ServerName, _, _ = net.SplitHostPort(host)
		}
	}
	if len(probe.NextProtos) == 0 {
		probe.NextProtos = []string{"h2"} // gRPC servers require ALPN
	}
	conn, err := (&tls.Dialer{Config: probe}).DialContext(ctx, "tcp", host)
	if cfg == nil {
		if err == nil {
			conn.Close()
			return "the server at " + host + " answers TLS but no TLS is configured (WithTLS)"
		}
		return ""
	}
	if err != nil {
		var netErr *net.OpError
		if errors.As(err, &netErr) && netErr.Op == "dial" {
			return "" // not TLS's doing
		}
		return "TLS handshake with " + host + ": " + err.Error()
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.EOF) {
		return "TLS with " + host + ": " + err.Error()
	}
	return ""
}

// NewFromClient makes a Store on a client the caller owns: Close leaves the
// client open. Only WithNamespace applies.
func NewFromClient(c *clientv3.Client, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("etcd: nil client: %w", store.ErrInvalid)
	}
	return newStore(c, false, newOptions(opts)), nil
}

func newStore(c *clientv3.Client, owned bool, o options) *Store {
	s := &Store{client: c, owned: owned, ns: o.namespace,
		kv: clientv3.NewKV(c), watcher: clientv3.NewWatcher(c), lease: clientv3.NewLease(c),
		maint: clientv3.NewMaintenance(c)}
	if o.namespace != "" {
		s.kv = namespace.NewKV(s.kv, o.namespace)
		s.watcher = namespace.NewWatcher(s.watcher, o.namespace)
		s.lease = namespace.NewLease(s.lease, o.namespace)
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	return s
}

// Client returns the etcd client the store uses.
func (s *Store) Client() *clientv3.Client { return s.client }

// enter starts a call: it checks ctx and that the store is open, and returns
// a context that also ends when the store closes.
func (s *Store) enter(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := store.ValidContext(ctx); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, nil, store.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.base, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

// mapErr wraps err with the store error callers branch on, if any.
func (s *Store) mapErr(err error) error {
	var typed error
	switch {
	case err == nil:
		return nil
	case s.base.Err() != nil:
		typed = store.ErrClosed
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		typed = store.ErrLeaseNotFound
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrFutureRev):
		typed = store.ErrCompacted
	case errors.Is(err, rpctypes.ErrPermissionDenied), errors.Is(err, rpctypes.ErrGRPCPermissionDenied),
		status.Code(err) == codes.PermissionDenied:
		typed = store.ErrPermission
	case errors.Is(err, rpctypes.ErrEmptyKey), errors.Is(err, rpctypes.ErrDuplicateKey),
		errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge),
		errors.Is(err, rpctypes.ErrKeyNotFound):
		typed = store.ErrInvalid
	}
	if typed == nil || errors.Is(err, typed) {
		return err
	}
	return fmt.Errorf("%w (%w)", typed, err)
}

func fromKV(kv *mvccpb.KeyValue) store.KeyValue {
	if kv == nil {
		return store.KeyValue{}
	}
	return store.KeyValue{Key: string(kv.Key), Value: kv.Value, CreateRevision: kv.CreateRevision,
		ModRevision: kv.ModRevision, Version: kv.Version, Lease: store.LeaseID(kv.Lease)}
}

func putOpts(lease store.LeaseID) []clientv3.OpOption {
	if lease == store.NoLease {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithLease(clientv3.LeaseID(lease))}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KeyValue, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return store.KeyValue{}, fmt.Errorf("etcd: get %q: %w", key, err)
	}
	defer done()
	if err := store.ValidKey(key); err != nil {
		return store.KeyValue{}, fmt.Errorf("etcd: get: %w", err)
	}
	resp, err := s.kv.Get(ctx, key)
	if err != nil {
		return store.KeyValue{}, fmt.Errorf("etcd: get %q: %w", key, s.mapErr(err))
	}
	if len(resp.Kvs) == 0 {
		return store.KeyValue{}, fmt.Errorf("etcd: get %q: %w", key, store.ErrNotFound)
	}
	return fromKV(resp.Kvs[0]), nil
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte, opts ...store.PutOption) (int64, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("etcd: put %q: %w", key, err)
	}
	defer done()
	c := store.NewPutConfig(opts...)
	if err := errors.Join(store.ValidKey(key), c.Validate()); err != nil {
		return 0, fmt.Errorf("etcd: put %q: %w", key, err)
	}
	resp, err := s.kv.Put(ctx, key, string(value), putOpts(c.Lease)...)
	if err != nil {
		return 0, fmt.Errorf("etcd: put %q: %w", key, s.mapErr(err))
	}
	return resp.Header.Revision, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) (int64, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("etcd: delete %q: %w", key, err)
	}
	defer done()
	if err := store.ValidKey(key); err != nil {
		return 0, fmt.Errorf("etcd: delete: %w", err)
	}
	resp, err := s.kv.Delete(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("etcd: delete %q: %w", key, s.mapErr(err))
	}
	if resp.Deleted == 0 {
		return 0, fmt.Errorf("etcd: delete %q: %w", key, store.ErrNotFound)
	}
	return resp.Header.Revision, nil
}

// rangeOf returns the etcd key and range end of the keys under prefix from
// start on.
func rangeOf(prefix, start string) (key string, opts []clientv3.OpOption) {
	key = max(prefix, start)
	if prefix == "" {
		if key == "" {
			key = "\x00"
		}
		return key, []clientv3.OpOption{clientv3.WithFromKey()}
	}
	return key, []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
}

// Range implements store.Store.
func (s *Store) Range(ctx context.Context, prefix string, opts ...store.RangeOption) (store.RangeResult, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return store.RangeResult{}, fmt.Errorf("etcd: range %q: %w", prefix, err)
	}
	defer done()
	c := store.NewRangeConfig(opts...)
	if err := errors.Join(store.ValidPrefix(prefix), c.Validate()); err != nil {
		return store.RangeResult{}, fmt.Errorf("etcd: range %q: %w", prefix, err)
	}
	key, ropts := rangeOf(prefix, c.Start)
	ropts = append(ropts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if c.Limit > 0 {
		ropts = append(ropts, clientv3.WithLimit(int64(c.Limit)))
	}
	resp, err := s.kv.Get(ctx, key, ropts...)
	if err != nil {
		return store.RangeResult{}, fmt.Errorf("etcd: range %q: %w", prefix, s.mapErr(err))
	}
	res := store.RangeResult{More: resp.More, Revision: resp.Header.Revision}
	if len(resp.Kvs) > 0 {
		res.KVs = make([]store.KeyValue, len(resp.Kvs))
		for i, kv := range resp.Kvs {
			res.KVs[i] = fromKV(kv)
		}
	}
	return res, nil
}

var cmpOps = map[store.CompareOp]string{store.Equal: "=", store.NotEqual: "!=", store.Less: "<", store.Greater: ">"}

func toCmp(c store.Compare) clientv3.Cmp {
	op := cmpOps[c.Op]
	switch c.Target {
	case store.TargetValue:
		return clientv3.Compare(clientv3.Value(c.Key), op, string(c.Value))
	case store.TargetVersion:
		return clientv3.Compare(clientv3.Version(c.Key), op, c.Number)
	case store.TargetModRevision:
		return clientv3.Compare(clientv3.ModRevision(c.Key), op, c.Number)
	default:
		return clientv3.Compare(clientv3.CreateRevision(c.Key), op, c.Number)
	}
}

func toOps(ops []store.Op) []clientv3.Op {
	out := make([]clientv3.Op, len(ops))
	for i, o := range ops {
		switch o.Kind {
		case store.KindPut:
			out[i] = clientv3.OpPut(o.Key, string(o.Value), putOpts(o.Lease)...)
		case store.KindDelete:
			out[i] = clientv3.OpDelete(o.Key)
		default:
			out[i] = clientv3.OpGet(o.Key)
		}
	}
	return out
}

// Txn implements store.Store with one etcd transaction.
func (s *Store) Txn(ctx context.Context, t store.Txn) (store.TxnResult, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return store.TxnResult{}, fmt.Errorf("etcd: %w", err)
	}
	defer done()
	if err := t.Validate(); err != nil {
		return store.TxnResult{}, fmt.Errorf("etcd: %w", err)
	}
	cmps := make([]clientv3.Cmp, len(t.If))
	for i, c := range t.If {
		cmps[i] = toCmp(c)
	}
	resp, err := s.kv.Txn(ctx).If(cmps...).Then(toOps(t.Then)...).Else(toOps(t.Else)...).Commit()
	if err != nil {
		return store.TxnResult{}, fmt.Errorf("etcd: txn: %w", s.mapErr(err))
	}
	ops := t.Then
	if !resp.Succeeded {
		ops = t.Else
	}
	if len(resp.Responses) != len(ops) {
		return store.TxnResult{}, fmt.Errorf("etcd: txn: %d responses to %d operations", len(resp.Responses), len(ops))
	}
	res := store.TxnResult{Succeeded: resp.Succeeded, Revision: resp.Header.Revision,
		Results: make([]store.OpResult, len(ops))}
	for i, r := range resp.Responses {
		switch ops[i].Kind {
		case store.KindGet:
			if rr := r.GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
				res.Results[i] = store.OpResult{KV: fromKV(rr.Kvs[0]), Found: true}
			}
		case store.KindDelete:
			if dr := r.GetResponseDeleteRange(); dr != nil {
				res.Results[i].Found = dr.Deleted > 0
			}
		}
	}
	return res, nil
}

// Revision implements store.Store. The revision is the cluster's, shared by
// every namespace.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("etcd: revision: %w", err)
	}
	defer done()
	resp, err := s.kv.Get(ctx, "\x00", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("etcd: revision: %w", s.mapErr(err))
	}
	return resp.Header.Revision, nil
}

// Grant implements store.Store. etcd counts TTLs in whole seconds: ttl is
// rounded up, and the cluster may raise it to its minimum (1.5 election
// timeouts); the granted TTL is returned.
func (s *Store) Grant(ctx context.Context, ttl time.Duration) (store.Lease, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return store.Lease{}, fmt.Errorf("etcd: grant: %w", err)
	}
	defer done()
	if err := store.ValidTTL(ttl); err != nil {
		return store.Lease{}, fmt.Errorf("etcd: grant: %w", err)
	}
	secs := int64(math.Ceil(ttl.Seconds()))
	resp, err := s.lease.Grant(ctx, secs)
	if err != nil {
		return store.Lease{}, fmt.Errorf("etcd: grant: %w", s.mapErr(err))
	}
	return store.Lease{ID: store.LeaseID(resp.ID), TTL: time.Duration(resp.TTL) * time.Second}, nil
}

// KeepAlive implements store.Store.
func (s *Store) KeepAlive(ctx context.Context, id store.LeaseID) (time.Duration, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("etcd: keep-alive lease %d: %w", id, err)
	}
	defer done()
	resp, err := s.lease.KeepAliveOnce(ctx, clientv3.LeaseID(id))
	if err == nil && resp.TTL <= 0 {
		err = store.ErrLeaseNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("etcd: keep-alive lease %d: %w", id, s.mapErr(err))
	}
	return time.Duration(resp.TTL) * time.Second, nil
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, id store.LeaseID) error {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return fmt.Errorf("etcd: revoke lease %d: %w", id, err)
	}
	defer done()
	if _, err := s.lease.Revoke(ctx, clientv3.LeaseID(id)); err != nil {
		return fmt.Errorf("etcd: revoke lease %d: %w", id, s.mapErr(err))
	}
	return nil
}

// Snapshot implements store.Store with etcd's maintenance snapshot of the
// member the client is connected to: a bbolt file of the whole keyspace
// (every namespace) followed by its SHA-256, the format of `etcdctl
// snapshot save`, which Restore and `etcdutl snapshot restore` read.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) error {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return fmt.Errorf("etcd: snapshot: %w", err)
	}
	defer done()
	if w == nil {
		return fmt.Errorf("etcd: snapshot: nil writer: %w", store.ErrInvalid)
	}
	rc, err := s.maint.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("etcd: snapshot: %w", s.mapErr(err))
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		if ctx.Err() != nil {
			err = errors.Join(err, context.Cause(ctx))
		}
		return fmt.Errorf("etcd: snapshot: %w", s.mapErr(err))
	}
	return nil
}

// MaxTxnBytes implements store.TxnSizer: 1 MiB, under etcd's default
// request limit (--max-request-bytes, 1.5 MiB) with room for the request's
// own encoding.
func (s *Store) MaxTxnBytes() int { return 1 << 20 }

// Close implements store.Store: it ends the watches, releases the store's
// watch and lease streams and, for a store made by New, the connection.
// Leases granted through the store live on in the cluster until they expire.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("etcd: close: %w", store.ErrClosed)
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	err := errors.Join(s.watcher.Close(), s.lease.Close())
	if s.owned {
		err = errors.Join(err, s.client.Close())
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd: close: %w", err)
	}
	return nil
}
