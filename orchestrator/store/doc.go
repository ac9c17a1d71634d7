// Package store is the orchestrator's key-value store: one small,
// engine-neutral interface, Store, shaped like etcd's API, with two engines
// behind it:
//
//   - store/bolt: bbolt in a data directory, the embedded default, nothing
//     to install;
//   - store/etcd: an etcd cluster, for several orchestrators that share
//     state (store/etcd/etcdtest starts one in process for tests).
//
// store/storetest is the conformance suite both engines pass.
//
// # Data model
//
// Keys are strings whose parts are separated by "/" ("inventory/boxes/S123");
// values are bytes. The store has a revision, a counter that every write
// bumps by one: a Put, a Delete, a transaction that writes (all its writes
// share one revision), a lease that ends with keys attached. Every key
// carries the revision that created it, the revision of its last change and
// its version (the number of puts since its creation), so that a
// compare-and-swap can say "only if nobody changed it since I read it".
//
// # Transactions
//
// A Txn compares keys (value, version, mod or create revision, existence)
// and then applies one list of puts, deletes and gets, or another:
//
//	res, err := s.Txn(ctx, store.Txn{
//		If:   []store.Compare{store.Missing("modules/3")},
//		Then: []store.Op{store.OpPut("modules/3", []byte(serial))},
//		Else: []store.Op{store.OpGet("modules/3")},
//	})
//
// CompareAndSwap and Update wrap the two common patterns: create-or-replace
// at a known revision, and read-modify-write retried until no one else
// wrote in between.
//
// # Watches
//
// Watch reports puts and deletes under a prefix from the next revision, or
// replays them from a past one first. A watch ends when its context ends or
// with one error event (history compacted, store closed).
//
// # Leases
//
// A key put WithLease lives as long as the lease: Grant, KeepAlive (or
// KeepAliveLoop) and Revoke. When the lease expires or is revoked its keys
// are deleted in one revision, and watches see the deletes; this is how a
// process says "I am alive".
//
// # Errors
//
// Callers branch with errors.Is on ErrNotFound, ErrCompareFailed,
// ErrLeaseNotFound, ErrCompacted, ErrClosed and ErrInvalid; messages name
// the key or lease concerned. A failed compare in Txn is not an error:
// TxnResult.Succeeded is false.
package store
