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
//     Committed, Aborted and DriftRepaired events, and those of the
//     services below;
//   - the logbook (package logbook): every event of the bus and the
//     orchestrator's own logs, each with its operation ID ("op").
//
// Options add the chassis services:
//
//   - WithMonitor: port up/down from every box (gNMI ON_CHANGE), connection
//     and mastership events, the boxes' system messages in the logbook;
//   - WithDiscovery: the links between boxes, learned with LLDP probes over
//     P4Runtime packet I/O (the punt rule is part of every goal), as Links
//     and LinkDiscovered / LinkLost events;
//   - WithReroute: ECMP members that leave through a port that is down, or a
//     link that was lost, are pruned by a new committed version, and put back
//     when it returns;
//   - WithTimeSync: the chassis time base — an SNTP server that every box's
//     NTP is configured to, per-box clock estimates from gNOI Time, alarms,
//     and the logbook in corrected time.
//
// A caller that validates a config before it commits it (fabricd answers
// a bad one with INVALID_ARGUMENT before the operation starts) prepares it
// (Prepare, PrepareYAML) and commits the Prepared: the config is compiled
// once, and again at commit only if the boxes, or with WithReroute the
// ports that are down, changed in between.
//
// Every committed version keeps the chassis config it came from (Config),
// and the journal answers for any operation ID (Transaction).
//
// Goals are keyed by box serial. Every long call has a context and an
// operation ID: a transaction's ID (txn.Result.ID, txn.AbortError.ID), a
// reconcile pass's (reconcile.Drift.Op), or one made for the call and
// carried in its log lines and errors.
//
// Backup writes a snapshot of the store (bolt.Restore or the etcd engine's
// restore reads it back).
package orchestrator
