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
// Table entries are indexed by a canonical key (the canonical bytestrings
// of the match in P4Info field order, and the priority) built in a reused
// buffer, and the validated protos are stored as they came, so that
// validating and storing an entry costs little more than a map insert.
package state
