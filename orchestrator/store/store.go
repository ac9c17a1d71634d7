package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors that callers branch on. Engines wrap them (errors.Is sees through)
// and name the key or lease concerned.
var (
	// ErrNotFound is returned by Get and Delete for a key that does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrCompareFailed is returned by CompareAndSwap and Update when the key
	// changed under them. Txn reports a failed compare in TxnResult instead.
	ErrCompareFailed = errors.New("store: compare failed")
	// ErrLeaseNotFound is returned for a lease that was never granted, was
	// revoked or has expired.
	ErrLeaseNotFound = errors.New("store: lease not found")
	// ErrCompacted is carried by the error event of a watch whose start
	// revision (or the revision it has fallen behind to) is no longer in the
	// store's history.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrClosed is returned by every call made after Close.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid is returned for arguments no engine accepts: an empty or
	// oversized key, a nil context, a negative limit, a non-positive TTL, a
	// malformed transaction.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrPermission is returned when the store refuses the caller's
	// credentials the request (an etcd user without the role for the
	// keys, or for a snapshot, which etcd gives only to root).
	ErrPermission = errors.New("store: permission denied")
)

// Engine-neutral limits, checked before a request reaches an engine so that
// both engines accept and refuse the same requests.
const (
	// MaxKeySize is the longest key in bytes.
	MaxKeySize = 4096
	// MaxTxnOps is the most compares, and the most operations in each
	// branch, of one transaction (etcd's default --max-txn-ops).
	MaxTxnOps = 128
	// MaxLeaseTTL is the longest lease TTL.
	MaxLeaseTTL = 10 * 365 * 24 * time.Hour
)

// TxnSizer is implemented by engines that bound the bytes of one request
// (etcd: the server's --max-request-bytes, 1.5 MiB by default), so that a
// caller with much to write splits it into transactions that fit.
type TxnSizer interface {
	// MaxTxnBytes is the most bytes of keys and values one Txn should
	// carry; 0 means no bound but MaxTxnOps.
	MaxTxnBytes() int
}

// LeaseID names a lease granted by a Store. The zero value, NoLease, means
// "no lease".
type LeaseID int64

// NoLease is the LeaseID of a key not attached to any lease.
const NoLease LeaseID = 0

// Lease is a granted lease: its ID and the TTL the engine granted, which may
// be longer than the one asked for (etcd rounds up to whole seconds and has a
// server-wide minimum).
type Lease struct {
	ID  LeaseID
	TTL time.Duration
}

// KeyValue is a key with its value and its history counters.
type KeyValue struct {
	// Key is the full key.
	Key string
	// Value is the value; an empty value may come back as nil.
	Value []byte
	// CreateRevision is the store revision at which the key was created
	// (last created, if it was deleted and put again).
	CreateRevision int64
	// ModRevision is the store revision of the key's last change. In a
	// delete event it is the revision of the delete.
	ModRevision int64
	// Version counts the puts since the key was created: 1 after the first.
	Version int64
	// Lease is the lease the key is attached to, or NoLease.
	Lease LeaseID
}

// RangeResult is the answer to Range.
type RangeResult struct {
	// KVs are the keys found, sorted by key (byte order).
	KVs []KeyValue
	// More reports that keys beyond the limit match too.
	More bool
	// Revision is the store revision the range was read at: a watch from
	// Revision+1 sees every change after the read.
	Revision int64
}

// EventType tells what an Event reports.
type EventType uint8

// Event types.
const (
	// EventPut reports a key created or changed.
	EventPut EventType = iota + 1
	// EventDelete reports a key deleted, by Delete, a transaction, or the
	// expiry or revocation of its lease.
	EventDelete
	// EventError ends a watch: Err says why. The channel is closed after it.
	EventError
)

// String returns "put", "delete" or "error".
func (t EventType) String() string {
	switch t {
	case EventPut:
		return "put"
	case EventDelete:
		return "delete"
	case EventError:
		return "error"
	default:
		return fmt.Sprintf("EventType(%d)", uint8(t))
	}
}

// Event is one change seen by a watch.
type Event struct {
	// Type is the kind of change.
	Type EventType
	// KV is the key after a put; after a delete only Key and ModRevision
	// (the delete's revision) are set.
	KV KeyValue
	// Revision is the store revision of the change. Changes made by one
	// transaction share a revision and arrive in the order of its operations.
	Revision int64
	// Err is set on an EventError: it wraps ErrCompacted when the watch
	// asked for, or fell behind to, history no longer kept, and ErrClosed
	// when the store was closed.
	Err error
}

// Store is a key-value store with revisions, compare-and-swap transactions,
// watches and leases. Keys are strings whose parts are separated by "/";
// values are bytes. Every write that changes something bumps the store's
// revision by one; a call that changes nothing (a Delete of a missing key, a
// transaction whose branch only reads) leaves it alone.
//
// A Store is safe for concurrent use. Every method takes a context that
// bounds it; after Close every method returns an error wrapping ErrClosed.
type Store interface {
	// Get returns the key's value and counters, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, key string) (KeyValue, error)
	// Put sets the key's value and returns the new store revision. With
	// WithLease the key is attached to a lease and deleted when the lease
	// ends; without, a key that was attached is detached.
	Put(ctx context.Context, key string, value []byte, opts ...PutOption) (int64, error)
	// Delete removes the key and returns the new store revision, or an
	// error wrapping ErrNotFound if the key does not exist.
	Delete(ctx context.Context, key string) (int64, error)
	// Range returns the keys that start with prefix, sorted, from
	// WithStart on and at most WithLimit of them. The empty prefix matches
	// every key.
	Range(ctx context.Context, prefix string, opts ...RangeOption) (RangeResult, error)
	// Txn evaluates every compare of t.If atomically and applies t.Then if
	// they all hold, else t.Else. A compare that fails is not an error: see
	// TxnResult.Succeeded.
	Txn(ctx context.Context, t Txn) (TxnResult, error)
	// Watch reports changes to keys that start with prefix, from the next
	// revision on, or from WithStartRevision. The channel closes when ctx
	// ends, after an EventError, or when the store is closed.
	Watch(ctx context.Context, prefix string, opts ...WatchOption) (<-chan Event, error)
	// Grant creates a lease that ends ttl after its grant or last
	// keep-alive.
	Grant(ctx context.Context, ttl time.Duration) (Lease, error)
	// KeepAlive restarts the lease's TTL and returns it, or an error
	// wrapping ErrLeaseNotFound if the lease has ended.
	KeepAlive(ctx context.Context, id LeaseID) (time.Duration, error)
	// Revoke ends the lease now, deleting its keys in one revision.
	Revoke(ctx context.Context, id LeaseID) error
	// Revision returns the store's current revision.
	Revision(ctx context.Context) (int64, error)
	// Snapshot writes a consistent copy of the whole store to w, in the
	// engine's own format; the engine's Restore reads it back.
	Snapshot(ctx context.Context, w io.Writer) error
	// Close releases the store. Watches end; later calls, Close included,
	// return ErrClosed.
	Close() error
}

// ValidKey returns an error wrapping ErrInvalid if key is empty or longer
// than MaxKeySize.
func ValidKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty key: %w", ErrInvalid)
	case len(key) > MaxKeySize:
		return fmt.Errorf("key %.32q... is %d bytes, more than %d: %w", key, len(key), MaxKeySize, ErrInvalid)
	}
	return nil
}

// ValidTTL returns an error wrapping ErrInvalid if ttl is not in
// (0, MaxLeaseTTL].
func ValidTTL(ttl time.Duration) error {
	if ttl <= 0 || ttl > MaxLeaseTTL {
		return fmt.Errorf("lease TTL %v not in (0, %v]: %w", ttl, MaxLeaseTTL, ErrInvalid)
	}
	return nil
}

// ValidContext returns an error wrapping ErrInvalid for a nil context, or
// the context's error if it has ended.
func ValidContext(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("nil context: %w", ErrInvalid)
	}
	return ctx.Err()
}
