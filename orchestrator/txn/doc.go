// Package txn commits goal states (package goal) to the boxes of a chassis
// as one transaction: all boxes get the new version, or every box is
// restored to the previous one.
//
// # Commit
//
// Coordinator.Commit takes a goal per box (the whole chassis) and:
//
//  1. checks that every box is known and every pipeconf exists (nothing is
//     journaled otherwise);
//  2. journals the transaction APPLYING in the store, in one durable write
//     before anything is sent: its ID, the previous version, what each new
//     goal may touch on its box (its footprint: pipeconf, tables, gNMI
//     paths) and a pending marker, by compare-and-swap on the current
//     version and the marker, so that two coordinators on one store never
//     commit at once;
//  3. checks with VERIFY, on every box whose goal changes its pipeconf, a
//     pipeconf the box does not run yet;
//  4. brings all boxes to their goals in parallel (Sync) — all but those
//     whose goal puts them in the state of the current version (same
//     pipeconf, entities and gNMI leaves), which the commit leaves alone
//     (drift there is the reconciler's to repair), and of a box it changes
//     only the half (P4Runtime or gNMI) that changes: set the pipeconf
//     where the box does not run it, read back what the goals cover, diff
//     (package pipeline/diff) and write the difference in dependency order,
//     one Write per run of one update type and rank (bmv2 and PINS only do
//     CONTINUE_ON_ERROR and may reorder a batch), and, alongside, the gNMI
//     changes as one Set; meanwhile the goals are encoded for the journal,
//     and the writes send each entity as encoded there (an entity is
//     encoded once, not once for the journal and again for the wire);
//     goals over 128 KiB in all are journaled while the boxes are written,
//     under keys nothing refers to until the outcome does;
//  5. if any box fails or times out (WithBoxTimeout), restores every box to
//     the previous goal with the same Sync (compensating writes: inserts of
//     what was deleted, deletes of what was inserted in reverse dependency
//     order) and journals ABORTED with each box's reason; otherwise
//     journals COMMITTED, the goals it changed (unless journaled already)
//     and the next version (which refers to them), in one store
//     transaction.
//
// So a commit costs two durable writes, and a box whose pipeconf stays
// costs one round trip before its writes (the read back, with the gNMI
// read alongside if its leaves change). Whether the box runs the pipeconf
// is known without asking while the coordinator's P4Runtime stream has
// stayed primary since it last set or read the pipeline
// (client.KnownCookie); otherwise the cookie check goes out with the read.
//
// # Journal layout
//
// Under the prefix (WithPrefix): txns/<ID> the record of each transaction
// (while it is pending, with its footprints), pending the ID of the
// pending one, versions/<n> each version and current its number, and
// goals/<ID>/<box> the goal of each box a transaction changed; a record
// refers to the transaction that journaled the goal of each box it left
// as it was (Record.Refs), so a commit that changes one box of a
// thousand writes one goal. Journals of older coordinators (goals copied
// into each version, or one object of every goal under goals/<ID>, and
// footprints under footprints/<ID>) still read.
//
// Every request to a box carries the transaction ID in gRPC metadata
// (MetadataKey) and every log line its "op" attribute. Because Sync diffs
// against what the box reads back, re-applying a committed goal writes
// nothing.
//
// # Recovery
//
// A coordinator that dies leaves the pending marker and the record
// APPLYING. Recover, on start, rolls such a transaction back: it may have
// changed some boxes, so every box is restored to the previous version
// (whose goals are journaled), deleting what the journaled footprints cover
// and that version lacks, before it is journaled ABORTED. A box the
// transaction never reached is only read: Sync is idempotent. Rolling back
// rather than forward keeps every box at the last version known to be good,
// and after any one crash no box is left between two versions. A box that
// cannot be reached keeps the transaction APPLYING and Recover reports it
// (call it again). Records left PREPARED by older coordinators, which
// copied the goals into every record and version, are recovered the same
// way, and their versions read as before.
//
// # Versions
//
// Each commit is a version: History lists them, Diff compares two, and
// Rollback commits an old version's goals as a new transaction.
//
// WithHook is a test hook: returning ErrAbandon from it at StageJournaled
// or StageBoxApplied abandons the coordinator there, as a crash would.
package txn
