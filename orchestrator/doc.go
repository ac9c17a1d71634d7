// Package orchestrator is the chassis' one library API: it makes a cluster
// of white boxes behave as one chassis. The daemon (fabricd) and the CLI
// (fabricctl) only adapt it.
//
// An Orchestrator composes, over one store (package store):
//
//   - the inventory (package inventory): boxes known by serial, with
//     slot-free module IDs allocated in the store and stable across
//     restarts;
//   - an open driver.Device per registered box, kept open; the inventory's
//     port maps resolve chassis-wide interface names (eth-3/0/12) when a
//     config compiles (goal.Resolver), and the open devices serve the
//     coordinator and the reconciler (txn.Devices);
//   - the transaction coordinator (package txn): Commit compiles a chassis
//     config (package goal) against the registered boxes and commits it to
//     all of them, all or nothing; History, Diff and Rollback work on its
//     versions; a transaction a previous orchestrator left pending is rolled
//     back when New starts;
//   - the reconciler (package reconcile), running in the background: every
//     interval and whenever a box (re)connects it brings the box back to its
//     committed goal;
//   - the event bus (package events): BoxConnected, BoxDisconnected,
//     Committed, Aborted and DriftRepaired events;
//   - the logbook (package logbook): every event of the bus and the
//     orchestrator's own logs, each with its operation ID ("op").
//
// Goals are keyed by box serial. Every long call has a context and an
// operation ID: a transaction's ID (txn.Result.ID, txn.AbortError.ID), a
// reconcile pass's (reconcile.Drift.Op), or one made for the call and
// carried in its log lines and errors.
//
// Backup writes a snapshot of the store (bolt.Restore or the etcd engine's
// restore reads it back).
package orchestrator
