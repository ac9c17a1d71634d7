// Package bolt is the embedded engine of store.Store: one bbolt file,
// FileName, in a data directory. Nothing to install, one process at a time.
//
//	s, err := bolt.Open(ctx, "/var/lib/fabric/store")
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//
// # Durability
//
// Every call that writes (Put, Delete, Txn, Grant, Revoke, a lease expiry)
// is one bbolt transaction, committed and fsynced before the call returns:
// after a crash the store holds exactly the writes that returned.
// The store's revision, every key's create and mod revision and version,
// the leases and the watch history live in the file with the data, so a
// reopened store goes on from the same revision.
//
// # History
//
// The store keeps the events of its last DefaultHistory revisions (see
// WithHistory) in the file: a watch may start at any of them, before or
// after a reopen. A watch that starts earlier, or whose consumer falls
// further behind than the bound, ends with an error event wrapping
// store.ErrCompacted. Watches are fanned out in process: each reads the
// history from its own position, so a slow consumer delays no one else.
//
// # Leases
//
// Lease TTLs are exact (no rounding). Deadlines are kept in memory and
// driven by the store's Clock (WithClock; the system clock by default): an
// expiry goroutine revokes each lease as its deadline passes, deleting its
// keys in one revision. On Open every lease's TTL restarts, as etcd's do
// when a new leader takes over, so a crashed orchestrator's keys vanish one
// TTL after the next one opens the store.
//
// # Backup and restore
//
// Snapshot writes a consistent copy of the file (bbolt's Tx.WriteTo) while
// the store serves; Restore checks such a copy and installs it as a new
// data directory. bbolt trusts its file: before opening one it did not
// write, this package checks its structure itself, so that a damaged
// snapshot is refused with ErrCorrupt instead of crashing the process. Open
// makes the cheaper check that the file is not truncated; a data file
// damaged in place in other ways may still crash bbolt.
package bolt
