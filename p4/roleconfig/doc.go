// Package roleconfig holds P4RoleConfig, the role configuration that a
// P4Runtime client puts, packed in a google.protobuf.Any, into
// MasterArbitrationUpdate.role.config (P4Runtime spec, "Role Config").
//
// The P4Runtime spec leaves the format of a role config to an agreement
// between client and server; this package uses Stratum's format, so the same
// client code drives Stratum switches and the fabric testbed. The Any type URL
// is "type.googleapis.com/stratum.P4RoleConfig" (see TypeURL).
//
// A role config grants:
//   - Write access to the P4 objects listed in ExclusiveP4Ids (no other role
//     may list them) and SharedP4Ids (other roles may share them);
//   - packet-ins, if ReceivesPacketIns, optionally only those whose metadata
//     field PacketInFilter.MetadataId equals PacketInFilter.Value;
//   - the right to push a pipeline, if CanPushPipeline.
//
// A role without a config has full pipeline access.
package roleconfig

// TypeURL is the google.protobuf.Any type URL of a packed P4RoleConfig.
const TypeURL = "type.googleapis.com/stratum.P4RoleConfig"
