// Package state is the forwarding state of one emulated P4Runtime device:
// the table entries, action profile members and groups, counters, meters,
// registers, digest configurations, value sets and packet replication
// entries that a P4Runtime server holds for one pipeline (P4Info), with the
// validation and status codes of the P4Runtime specification and of the
// reference implementation (PI on bmv2).
//
// The gRPC server (package testbed/p4rt) checks device, role and mastership
// and hands the updates and queries to a Device:
//
//	d := state.New(s) // s is the schema of the P4Info
//	err := d.Write(req.GetUpdates(), req.GetAtomicity(), nil)
//	err = d.Read(req.GetEntities(), func(es []*p4v1.Entity) error { ... })
//
// Write returns nil, or a status error as the spec's "Error Reporting
// Messages" describe: UNKNOWN with one p4.v1.Error per update when some
// updates fail, a top-level code for a problem with the request as a
// whole. Read returns the matching entities through its callback.
//
// Codes follow the spec section of each entity; where the spec is silent,
// they follow PI: an ID that the P4Info does not define (table, action,
// match field, parameter, action profile, counter, meter, register, digest,
// value set) is INVALID_ARGUMENT ("Invalid P4 id"), and NOT_FOUND is kept
// for runtime entities (entries, members, groups, replication entries,
// enabled digests) that do not exist.
//
// Where the spec leaves a choice, or where this package departs from what
// one might expect:
//
//   - A valid action ID used outside its scope (a TABLE_ONLY action as
//     default action, a DEFAULT_ONLY action in an entry or a member) is
//     PERMISSION_DENIED, as "Action Specification" says.
//   - ROLLBACK_ON_ERROR stops at the first failing update and undoes the
//     batch; that update gets its own error and every other update ABORTED.
//     DATAPLANE_ATOMIC is served the same way: a batch runs under the write
//     lock, so no read (and no emulated packet) sees an intermediate state.
//   - An action profile group with max_size 0 gets the selector's
//     max_group_size as its limit (the proto's reading of "unset"), where
//     the spec text asks for max_size > 0 when max_group_size > 0.
//   - One-shot action sets count against the selector's size like the
//     hidden group and members they stand for, but have no IDs: a selector
//     is programmed either with one shots or with members and groups, never
//     both (INVALID_ARGUMENT).
//   - The initial default action of a table is its const default action,
//     else NoAction when the table can use it; SetInitialDefault sets what
//     the program declares. Entries declared by the program (const entries)
//     are loaded with Preload.
//   - A bad query in a Read makes the status UNKNOWN with one p4.v1.Error
//     per query; the entities of the valid queries are still sent.
//
// Table entries are indexed by a canonical key (the canonical bytestrings
// of the match in P4Info field order, and the priority) built in a reused
// buffer, and the validated protos are stored as they came, so that
// validating and storing an entry costs little more than a map insert.
package state
