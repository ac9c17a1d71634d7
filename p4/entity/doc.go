// Package entity builds P4Runtime entities by name with Go values, and
// renders any entity back into a readable form.
//
// # Building
//
// A Builder resolves the names of a P4Info (full name, alias or unique
// suffix, as p4runtime-shell does) and encodes Go values into canonical
// bytestrings, checking each against the P4Info and the P4Runtime spec:
//
//	b := entity.NewBuilder(s) // s is a *schema.Schema
//	te, err := b.TableEntry("ingress.routing.routes_v4",
//		entity.Match(entity.LPM("hdr.ipv4.dst_addr", netip.MustParsePrefix("10.0.0.0/24"))),
//		entity.Action("set_nexthop", entity.Param("port", 1), entity.Param("dmac", "00:00:00:00:00:01")),
//	)
//	update := entity.Insert(te)
//
// Options are plain values, not closures, and stay on the caller's stack;
// the builder allocates the protobuf messages of an entry in a few blocks.
// Building an LPM route by name costs about as much time as building the
// same protobuf by hand with known IDs, in a third of the allocations
// (BenchmarkP1 in bench_test.go). The typed helpers (ExactUint, LPMPrefix,
// ParamUint, ParamMAC, ...) also skip the type switch of the generic ones.
//
// Besides table entries (TableEntry, DefaultEntry, with Match, Action,
// Member, Group, ActionSet, Priority, IdleTimeout, Metadata, CounterData,
// MeterConfig, MeterCounterData), the Builder makes action profile members
// and groups, counter, meter and register cells, direct counter and meter
// entries, multicast groups and clone sessions, digest configurations,
// value set contents and packet-out messages. Insert, Modify and Delete
// wrap any of them into an update, Wrap into an Entity.
//
// # Values
//
// Values for fields, parameters and packet metadata may be:
//
//   - unsigned integers, non-negative signed integers, bool (0 or 1),
//     *big.Int;
//   - []byte (big-endian, leading zeros allowed) and net.HardwareAddr;
//   - netip.Addr and net.IP (IPv4 for 32-bit fields, IPv6 for 128-bit
//     ones; for SAI-P4's 64-bit @format(IPV6_ADDRESS) fields, the upper
//     64 bits of the address, whose lower bits must be zero);
//   - netip.Prefix, for LPM fields only;
//   - strings, parsed by the field's width (see ParseValue): "1024",
//     "0x0800", "0b101", "0o17", "10.0.0.1" (32 bits), "2001:db8::1" (128
//     bits), "aa:bb:cc:dd:ee:ff" (48 bits), the address notations also
//     for any width with the matching @format annotation.
//
// A field, parameter or metadata field whose type is translated to an SDN
// string (@p4runtime_translation(..., string), as SAI-P4's port and object
// IDs are) takes a string or []byte, sent byte for byte, never parsed.
//
// Every value is checked against its width ("value needs 33 bits, does not
// fit in bit<32>" is a *codec.RangeError) and sent in canonical form
// (PadValues sends full-width values instead).
//
// # Matches
//
// Exact, LPM, Ternary, Range and Optional must match the field's kind;
// MatchText parses text by the field's own kind ("10.0.0.0/8",
// "0x800&&&0xfff", "10..20", "*"). "Don't care" matches are left out of
// the entry as the spec requires, so callers may pass them naturally: an
// LPM prefix length of 0, a ternary mask of 0, the full range of a range
// field, DontCare for an optional field. An exact field is always
// required.
//
// Bits set past an LPM prefix length or outside a ternary mask are cleared
// (10.0.0.1/24 is sent as 10.0.0.0/24), as p4runtime-shell does: the
// spec forbids them on the wire, and a host address with its prefix
// length is the common way to write a route. The Strict builder option
// rejects such values instead.
//
// # Errors
//
// Every error a Builder returns is an *Error that names the table (or
// profile, counter, ...), the field, action and parameter at fault, and
// wraps the cause —
// a *schema.LookupError listing the candidates for an unknown name, a
// *codec.RangeError for a value too wide:
//
//	table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": value needs 33 bits, does not fit in bit<32>
//
// # Reading
//
// Describe renders any entity with names instead of IDs and values by
// field kind, width, name and annotation: IPv4 for LPM on 32-bit fields
// and fields named like addresses, MAC for 48-bit fields, the @format
// annotations of SAI-P4, ternary as "0x0800&&&0xffff", ranges as "10..20",
// numbers otherwise and SDN strings quoted. Readable.String is one stable
// line for logs and diffs; the Readable struct marshals to JSON and YAML.
// Describe never panics on any input and reports what it could not
// resolve. Key gives the identity of an entity (table, match and priority
// of a table entry, profile and ID of a member, ...) for diffs.
//
// PacketIn decodes packet-in metadata by name; DescribeDigestList renders
// digest lists with the digest's struct member names.
package entity
