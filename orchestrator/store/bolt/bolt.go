package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// FileName is the name of the bbolt file inside a store's data directory.
const FileName = "store.db"

// Defaults used by Open when the corresponding option is not given.
const (
	// DefaultHistory is how many revisions of history a store keeps for
	// watches that start in the past or fall behind.
	DefaultHistory = 10000
	// DefaultLockTimeout is how long Open waits for another process to
	// release the data file.
	DefaultLockTimeout = 5 * time.Second
)

// Clock is the time source of lease expiry. The zero Option set uses the
// system clock; tests inject one they advance by hand.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

type options struct {
	clock       Clock
	history     int64
	lockTimeout time.Duration
	logger      *slog.Logger
}

// Option configures Open. Options given invalid values are ignored and the
// default is kept, as documented on each option.
type Option func(*options)

// WithClock sets the clock that drives lease expiry. A nil clock is ignored.
func WithClock(c Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clock = c
		}
	}
}

// WithHistory sets how many revisions of history the store keeps (default
// DefaultHistory). A watch may start at any of the last n revisions; a watch
// that starts earlier, or whose consumer falls more than n revisions behind,
// ends with an error event wrapping store.ErrCompacted. The history costs
// about one copy of each written value. A value below 1 is ignored.
func WithHistory(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.history = int64(n)
		}
	}
}

// WithLockTimeout sets how long Open waits for the data file to be released
// by another process (default DefaultLockTimeout; ctx's deadline, if
// sooner, wins). A non-positive d is ignored.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockTimeout = d
		}
	}
}

// WithLogger sets where the store reports errors of its background work
// (lease expiry); they are discarded by default. A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Store is the bbolt engine of store.Store. Create it with Open.
type Store struct {
	db      *bbolt.DB
	path    string
	clock   Clock
	history int64
	log     *slog.Logger

	// closeMu is held shared by every call while it uses db, and
	// exclusively by Close to mark the store closed.
	closeMu sync.RWMutex
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	mu        sync.Mutex
	changed   chan struct{}              // closed and replaced after each write
	deadlines map[store.LeaseID]leaseTTL // live leases
	kick      chan struct{}              // wakes the expiry loop
}

type leaseTTL struct {
	ttl      time.Duration
	deadline time.Time
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.TxnSizer = (*Store)(nil)
)

// Open opens the store in data directory dir, creating both if needed. Only
// one Store (in any process) may have a directory open at a time; Open waits
// for it up to the lock timeout. Leases found in the store restart their
// TTL from now, as etcd's do when a new leader takes over.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	if err := store.ValidContext(ctx); err != nil {
		return nil, fmt.Errorf("bolt: open %q: %w", dir, err)
	}
	if dir == "" {
		return nil, fmt.Errorf("bolt: open: empty directory: %w", store.ErrInvalid)
	}
	o := options{clock: systemClock{}, history: DefaultHistory, lockTimeout: DefaultLockTimeout,
		logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	timeout := o.lockTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
		if timeout <= 0 {
			return nil, fmt.Errorf("bolt: open %q: %w", dir, context.DeadlineExceeded)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := checkSize(path); err != nil {
		return nil, fmt.Errorf("bolt: open: %w", err)
	}
	// The free page list is not written with every commit (etcd's choice
	// too): one page less to sync per write, and rebuilt by a scan of the
	// file on open. Every commit is as durable as before.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{
		db: db, path: path, clock: o.clock, history: o.history, log: o.logger,
		done:      make(chan struct{}),
		changed:   make(chan struct{}),
		deadlines: make(map[store.LeaseID]leaseTTL),
		kick:      make(chan struct{}, 1),
	}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s.wg.Add(1)
	go s.expireLoop()
	return s, nil
}

// init creates the buckets of a new store, checks the format of an
// existing one and loads its leases.
func (s *Store) init() error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			foreign := false
			_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { foreign = true; return nil })
			if foreign {
				return fmt.Errorf("a bbolt file of another program: %w", ErrCorrupt)
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			for k, v := range map[string]int64{string(metaFormat): formatVersion, string(metaRev): 1,
				string(metaCompact): 0, string(metaLease): 0} {
				if err := meta.Put([]byte(k), u64(v)); err != nil {
					return err
				}
			}
		}
		if f, ok := readU64(meta.Get(metaFormat)); !ok || f != formatVersion {
			return fmt.Errorf("format %x, want %d: %w", meta.Get(metaFormat), formatVersion, ErrCorrupt)
		}
		for _, name := range [][]byte{bucketKV, bucketHistory, bucketLeases, bucketLeaseKeys} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for _, k := range [][]byte{metaRev, metaCompact, metaLease} {
			if _, ok := readU64(meta.Get(k)); !ok {
				return fmt.Errorf("meta %s missing: %w", k, ErrCorrupt)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := s.clock.Now()
	return s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketLeases).ForEach(func(k, v []byte) error {
			id, ok1 := readU64(k)
			ttl, ok2 := readU64(v)
			if !ok1 || !ok2 {
				return fmt.Errorf("lease record %x: %w", k, ErrCorrupt)
			}
			s.deadlines[store.LeaseID(id)] = leaseTTL{ttl: time.Duration(ttl), deadline: now.Add(time.Duration(ttl))}
			return nil
		})
	})
}

// Path returns the path of the bbolt file.
func (s *Store) Path() string { return s.path }

// enter starts a call: it checks ctx and that the store is open, and holds
// closeMu shared until the returned function runs.
func (s *Store) enter(ctx context.Context) (func(), error) {
	if err := store.ValidContext(ctx); err != nil {
		return nil, err
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, store.ErrClosed
	}
	return s.closeMu.RUnlock, nil
}

// notify wakes the watches after a write.
func (s *Store) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// update runs fn in one bbolt write transaction and, if fn wrote, bumps the
// revision, prunes the history and wakes the watches.
func (s *Store) update(fn func(w *wtx) error) (int64, error) {
	var w *wtx
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		if w, err = newWtx(tx, s); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		return w.finish()
	})
	if err != nil {
		return 0, err
	}
	if w.wrote {
		s.notify()
		return w.rev + 1, nil
	}
	return w.rev, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KeyValue, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return store.KeyValue{}, fmt.Errorf("bolt: get %q: %w", key, err)
	}
	defer exit()
	if err := store.ValidKey(key); err != nil {
		return store.KeyValue{}, fmt.Errorf("bolt: get: %w", err)
	}
	var kv store.KeyValue
	var found bool
	err = s.db.View(func(tx *bbolt.Tx) error {
		var err error
		kv, found, err = getKey(tx.Bucket(bucketKV), key)
		return err
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.KeyValue{}, fmt.Errorf("bolt: get %q: %w", key, err)
	}
	return kv, nil
}

func getKey(b *bbolt.Bucket, key string) (store.KeyValue, bool, error) {
	v := b.Get([]byte(key))
	if v == nil {
		return store.KeyValue{}, false, nil
	}
	kv, err := decodeRecord(key, v)
	return kv, err == nil, err
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte, opts ...store.PutOption) (int64, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("bolt: put %q: %w", key, err)
	}
	defer exit()
	c := store.NewPutConfig(opts...)
	if err := errors.Join(store.ValidKey(key), c.Validate()); err != nil {
		return 0, fmt.Errorf("bolt: put %q: %w", key, err)
	}
	rev, err := s.update(func(w *wtx) error { return w.put(key, value, c.Lease) })
	if err != nil {
		return 0, fmt.Errorf("bolt: put %q: %w", key, err)
	}
	return rev, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) (int64, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	defer exit()
	if err := store.ValidKey(key); err != nil {
		return 0, fmt.Errorf("bolt: delete: %w", err)
	}
	rev, err := s.update(func(w *wtx) error {
		found, err := w.del(key)
		if err == nil && !found {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	return rev, nil
}

// Range implements store.Store.
func (s *Store) Range(ctx context.Context, prefix string, opts ...store.RangeOption) (store.RangeResult, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return store.RangeResult{}, fmt.Errorf("bolt: range %q: %w", prefix, err)
	}
	defer exit()
	c := store.NewRangeConfig(opts...)
	if err := errors.Join(store.ValidPrefix(prefix), c.Validate()); err != nil {
		return store.RangeResult{}, fmt.Errorf("bolt: range %q: %w", prefix, err)
	}
	var res store.RangeResult
	err = s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if res.Revision, err = metaInt(tx, metaRev); err != nil {
			return err
		}
		seek := []byte(max(prefix, c.Start))
		cur := tx.Bucket(bucketKV).Cursor()
		for k, v := cur.Seek(seek); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = cur.Next() {
			if c.Limit > 0 && len(res.KVs) == c.Limit {
				res.More = true
				break
			}
			kv, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			res.KVs = append(res.KVs, kv)
		}
		return nil
	})
	if err != nil {
		return store.RangeResult{}, fmt.Errorf("bolt: range %q: %w", prefix, err)
	}
	return res, nil
}

// MaxTxnBytes implements store.TxnSizer: bbolt bounds a transaction by
// MaxTxnOps only.
func (s *Store) MaxTxnBytes() int { return 0 }

// Txn implements store.Store.
func (s *Store) Txn(ctx context.Context, t store.Txn) (store.TxnResult, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return store.TxnResult{}, fmt.Errorf("bolt: %w", err)
	}
	defer exit()
	if err := t.Validate(); err != nil {
		return store.TxnResult{}, fmt.Errorf("bolt: %w", err)
	}
	var res store.TxnResult
	run := func(w *wtx) error {
		res.Succeeded = true
		for _, c := range t.If {
			kv, found, err := getKey(w.kv, c.Key)
			if err != nil {
				return err
			}
			if !c.Holds(kv, found) {
				res.Succeeded = false
				break
			}
		}
		ops := t.Then
		if !res.Succeeded {
			ops = t.Else
		}
		res.Results = make([]store.OpResult, len(ops))
		for i, o := range ops {
			var err error
			switch o.Kind {
			case store.KindPut:
				err = w.put(o.Key, o.Value, o.Lease)
			case store.KindDelete:
				res.Results[i].Found, err = w.del(o.Key)
			case store.KindGet:
				res.Results[i].KV, res.Results[i].Found, err = getKey(w.kv, o.Key)
			}
			if err != nil {
				return fmt.Errorf("%s %q: %w", o.Kind, o.Key, err)
			}
		}
		return nil
	}
	if !writes(t.Then) && !writes(t.Else) {
		// Read-only: no need for bbolt's single writer.
		err = s.db.View(func(tx *bbolt.Tx) error {
			var err error
			if res.Revision, err = metaInt(tx, metaRev); err != nil {
				return err
			}
			return run(&wtx{kv: tx.Bucket(bucketKV)})
		})
	} else {
		res.Revision, err = s.update(run)
	}
	if err != nil {
		return store.TxnResult{}, fmt.Errorf("bolt: txn: %w", err)
	}
	return res, nil
}

func writes(ops []store.Op) bool {
	for _, o := range ops {
		if o.Kind != store.KindGet {
			return true
		}
	}
	return false
}

// Revision implements store.Store.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	exit, err := s.enter(ctx)
	if err != nil {
		return 0, fmt.Errorf("bolt: revision: %w", err)
	}
	defer exit()
	var rev int64
	err = s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rev, err = metaInt(tx, metaRev)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: revision: %w", err)
	}
	return rev, nil
}

func metaInt(tx *bbolt.Tx, key []byte) (int64, error) {
	n, ok := readU64(tx.Bucket(bucketMeta).Get(key))
	if !ok {
		return 0, fmt.Errorf("meta %s: %w", key, ErrCorrupt)
	}
	return n, nil
}

// Snapshot implements store.Store: it writes a consistent copy of the bbolt
// file, which Restore turns back into a data directory.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) error {
	exit, err := s.enter(ctx)
	if err != nil {
		return fmt.Errorf("bolt: snapshot: %w", err)
	}
	defer exit()
	if w == nil {
		return fmt.Errorf("bolt: snapshot: nil writer: %w", store.ErrInvalid)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		return fmt.Errorf("bolt: snapshot: %w", err)
	}
	return nil
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Close implements store.Store: it ends the watches and the expiry loop and
// closes the bbolt file.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return fmt.Errorf("bolt: close: %w", store.ErrClosed)
	}
	s.closed = true
	close(s.done)
	s.closeMu.Unlock()
	s.wg.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}

// wtx is the state of one write transaction.
type wtx struct {
	s         *Store
	meta      *bbolt.Bucket
	kv        *bbolt.Bucket
	history   *bbolt.Bucket
	leases    *bbolt.Bucket
	leaseKeys *bbolt.Bucket
	rev       int64 // the revision before the transaction
	wrote     bool
	sub       uint32
}

func newWtx(tx *bbolt.Tx, s *Store) (*wtx, error) {
	w := &wtx{s: s, meta: tx.Bucket(bucketMeta), kv: tx.Bucket(bucketKV), history: tx.Bucket(bucketHistory),
		leases: tx.Bucket(bucketLeases), leaseKeys: tx.Bucket(bucketLeaseKeys)}
	var err error
	w.rev, err = metaInt(tx, metaRev)
	return w, err
}

func leaseKey(id store.LeaseID, key string) []byte {
	return append(u64(int64(id)), key...)
}

// record appends an event to the history at the transaction's revision.
func (w *wtx) record(t store.EventType, kv store.KeyValue) error {
	w.wrote = true
	w.sub++
	return w.history.Put(historyKey(w.rev+1, w.sub), encodeEvent(t, kv))
}

func (w *wtx) put(key string, value []byte, lease store.LeaseID) error {
	if lease != store.NoLease && !w.s.leaseLive(w.leases, lease) {
		return fmt.Errorf("lease %d: %w", lease, store.ErrLeaseNotFound)
	}
	old, found, err := getKey(w.kv, key)
	if err != nil {
		return err
	}
	kv := store.KeyValue{Key: key, Value: value, CreateRevision: w.rev + 1, ModRevision: w.rev + 1, Version: 1, Lease: lease}
	if found {
		kv.CreateRevision, kv.Version = old.CreateRevision, old.Version+1
		if old.Lease != store.NoLease && old.Lease != lease {
			if err := w.leaseKeys.Delete(leaseKey(old.Lease, key)); err != nil {
				return err
			}
		}
	}
	if lease != store.NoLease {
		if err := w.leaseKeys.Put(leaseKey(lease, key), nil); err != nil {
			return err
		}
	}
	if err := w.kv.Put([]byte(key), encodeRecord(kv)); err != nil {
		return err
	}
	return w.record(store.EventPut, kv)
}

func (w *wtx) del(key string) (bool, error) {
	old, found, err := getKey(w.kv, key)
	if err != nil || !found {
		return false, err
	}
	if old.Lease != store.NoLease {
		if err := w.leaseKeys.Delete(leaseKey(old.Lease, key)); err != nil {
			return false, err
		}
	}
	if err := w.kv.Delete([]byte(key)); err != nil {
		return false, err
	}
	return true, w.record(store.EventDelete, store.KeyValue{Key: key, ModRevision: w.rev + 1})
}

// finish stores the new revision and drops the history older than the
// bound, if the transaction wrote.
func (w *wtx) finish() error {
	if !w.wrote {
		return nil
	}
	rev := w.rev + 1
	if err := w.meta.Put(metaRev, u64(rev)); err != nil {
		return err
	}
	compact, ok := readU64(w.meta.Get(metaCompact))
	if !ok {
		return fmt.Errorf("meta compact: %w", ErrCorrupt)
	}
	// Keep the events of revisions rev-history+1 .. rev.
	newCompact := rev - w.s.history
	if newCompact <= compact {
		return nil
	}
	c := w.history.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		r, ok := historyRev(k)
		if ok && r > newCompact {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return w.meta.Put(metaCompact, u64(newCompact))
}

// leaseLive reports whether lease id exists in the store and has not
// passed its deadline.
func (s *Store) leaseLive(leases *bbolt.Bucket, id store.LeaseID) bool {
	if leases.Get(u64(int64(id))) == nil {
		return false
	}
	s.mu.Lock()
	l, ok := s.deadlines[id]
	s.mu.Unlock()
	return ok && s.clock.Now().Before(l.deadline)
}
