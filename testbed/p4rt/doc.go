// Package p4rt is the P4Runtime gRPC service of the testbed's emulated
// switch. A Server implements p4v1.P4RuntimeServer for one device and
// behaves as the P4Runtime specification (v1.4/v1.5) and its reference
// implementation (bmv2 with PI, and Stratum for roles) behave, so that the
// SDK and the orchestrator can be tested against it without a real switch.
//
// # Arbitration and roles
//
// Controllers arbitrate per (device ID, role) on StreamChannel with a
// MasterArbitrationUpdate. The primary is the live controller whose
// election ID is the highest the server has ever seen for the role; when it
// goes away the role has no primary (the others are told so, with status
// NOT_FOUND) until a controller arbitrates with an election ID at least as
// high: the next highest backup is not promoted. Notifications carry OK for
// the primary and ALREADY_EXISTS for backups. A wrong device ID ends the
// stream with NOT_FOUND, an election ID another live controller of the role
// uses with INVALID_ARGUMENT; a second arbitration on the same stream
// changes its election ID (its device ID or role may not change:
// FAILED_PRECONDITION). A stream that never arbitrates gets no
// notifications, packet-ins or digests.
//
// The default role ("") always exists and has full pipeline access; it takes
// no role config. A named role may carry a role config: a
// google.protobuf.Any holding a roleconfig.P4RoleConfig (Stratum's format,
// type URL "type.googleapis.com/stratum.P4RoleConfig"); any other content is
// INVALID_ARGUMENT, and so are exclusive IDs another role already lists. A
// role without config has full access. A role with config may write only
// the P4 objects (tables, action profiles, counters, meters, registers,
// digests, value sets, externs; direct resources by their table) listed in
// its exclusive or shared IDs — other updates fail with PERMISSION_DENIED,
// each on its own — reads only those, receives packet-ins only when
// receives_packet_ins is set and its packet_in_filter (if any) matches, and
// may push a pipeline only with can_push_pipeline. Packet replication
// engine entries have no P4 ID and are open to every role, as in Stratum.
//
// Role names: by default any role name is accepted by arbitration, and a
// role exists from its first arbitration on; Write, Read and
// SetForwardingPipelineConfig naming a role that does not exist are
// NOT_FOUND (spec "Write RPC": "if role does not match any of the roles for
// the device"). With WithRoles the set of roles is fixed, and an
// arbitration naming another role ends its stream with NOT_FOUND.
//
// # Pipeline, Write and Read
//
// SetForwardingPipelineConfig supports every action (VERIFY,
// VERIFY_AND_SAVE, VERIFY_AND_COMMIT, COMMIT, RECONCILE_AND_COMMIT); the
// P4Info is checked by schema.New. Forwarding state lives in package state:
// it validates entities against the P4Info and reports errors per update.
// Write and Read before a pipeline is set are FAILED_PRECONDITION; Write
// from anyone but the role's primary is PERMISSION_DENIED.
//
// # Stream
//
// PacketOut from a primary with metadata that matches the committed P4Info
// goes to the WithPacketOut function; anything else is answered with a
// StreamError and the stream stays open. SendPacketIn, SendDigest and
// SendIdleTimeout emit to the primaries. Messages to a stream go through a
// bounded queue: a slow reader loses messages (counted in Stats) and never
// blocks the switch. (A StreamMessageRequest that is not valid protobuf
// ends the stream: gRPC itself answers it with an error status.)
//
// Create the grpc.Server with ServerOptions, so that large device configs
// fit (spec "gRPC Server Maximum Receive Message Size").
//
// # Faults
//
// RejectWrites, SetDelay and DropStreams inject faults; restarting the
// switch is done by creating a new Server.
package p4rt
