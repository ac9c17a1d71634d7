// Package reconcile keeps every box at its committed goal state.
//
// Per box, on a timer (Run, WithInterval), on demand (Reconcile, Trigger)
// and on every reconnect (WatchEvents), a pass reads back what the box's
// goal covers — a P4 Read of the tables, action profiles and replication
// entries its entities live in, a gNMI Get of the leaves it configures —
// diffs that against the goal and repairs the difference: missing entries
// re-added, changed ones modified, extraneous ones (in those tables)
// deleted, in dependency order, and changed leaves set (txn.Sync). A box
// that rebooted and lost its pipeline gets the pipeline set and the goal
// replayed in full. Every pass that repaired something or failed is
// reported to the callback as a Drift with its counts; each pass has its
// own operation ID, in gRPC metadata and in its log lines.
//
// The goals come from the transaction coordinator (txn.Coordinator.Goal),
// which also serves as the Gate that keeps a pass and a commit from running
// at once.
package reconcile
