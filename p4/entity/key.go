package entity

import (
	"encoding/binary"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Key returns the identity of an entity: what a target uses to tell two
// entities apart, so that desired and actual sets can be matched up for a
// diff. Two entities have the same key exactly when a write of one
// replaces the other:
//
//	table entry            table, match (any field order), priority; or table + "default"
//	direct counter/meter   the same, for the direct resource
//	action profile member  profile, member ID
//	action profile group   profile, group ID
//	counter, meter cell    counter or meter, index (or none)
//	register cell          register, index (or none)
//	multicast group        group ID
//	clone session          session ID
//	value set              value set
//	digest                 digest
//	extern entry           extern type, instance, and the entry itself
//
// Values are compared in canonical form (padded bytestrings from older
// targets give the same key; the key does not know which fields are SDN
// strings, so strings that differ only by leading NUL bytes share a key). The key is a compact binary string for use
// as a map key, not for display (use Describe). It costs one allocation.
// A nil or empty entity has the key "".
func Key[M Message](m M) string {
	var arr [128]byte
	buf := appendKey(arr[:0], m)
	if len(buf) == 0 || isNilMessage(m) {
		return ""
	}
	return string(buf)
}

// SameKey reports whether a and b have the same Key, without allocating:
// what a diff of two goals asks of every entity.
func SameKey[M Message](a, b M) bool {
	var arrA, arrB [128]byte
	ka, kb := appendKey(arrA[:0], a), appendKey(arrB[:0], b)
	if isNilMessage(a) {
		ka = ka[:0]
	}
	if isNilMessage(b) {
		kb = kb[:0]
	}
	return string(ka) == string(kb)
}

// appendKey appends m's key to buf.
func appendKey[M Message](buf []byte, m M) []byte {
	switch x := any(m).(type) {
	case *p4v1.Entity:
		buf = appendEntityKey(buf, x)
	case *p4v1.TableEntry:
		buf = appendTableKey(append(buf, 't', 'e'), x)
	case *p4v1.ActionProfileMember:
		buf = appendMemberKey(buf, x)
	case *p4v1.ActionProfileGroup:
		buf = appendGroupKey(buf, x)
	case *p4v1.MeterEntry:
		buf = appendMeterKey(buf, x)
	case *p4v1.DirectMeterEntry:
		buf = appendTableKey(append(buf, 'd', 'm'), x.GetTableEntry())
	case *p4v1.CounterEntry:
		buf = appendCounterKey(buf, x)
	case *p4v1.DirectCounterEntry:
		buf = appendTableKey(append(buf, 'd', 'c'), x.GetTableEntry())
	case *p4v1.PacketReplicationEngineEntry:
		buf = appendPREKey(buf, x)
	case *p4v1.ValueSetEntry:
		buf = binary.AppendUvarint(append(buf, 'v', 's'), uint64(x.GetValueSetId()))
	case *p4v1.RegisterEntry:
		buf = appendIndexKey(binary.AppendUvarint(append(buf, 'r', 'e'), uint64(x.GetRegisterId())), x.GetIndex())
	case *p4v1.DigestEntry:
		buf = binary.AppendUvarint(append(buf, 'd', 'e'), uint64(x.GetDigestId()))
	case *p4v1.ExternEntry:
		buf = appendExternKey(buf, x)
	}
	return buf
}

func isNilMessage[M Message](m M) bool { return m == nil }

func appendEntityKey(buf []byte, e *p4v1.Entity) []byte {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return appendTableKey(append(buf, 't', 'e'), x.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		return appendMemberKey(buf, x.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return appendGroupKey(buf, x.ActionProfileGroup)
	case *p4v1.Entity_MeterEntry:
		return appendMeterKey(buf, x.MeterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		return appendTableKey(append(buf, 'd', 'm'), x.DirectMeterEntry.GetTableEntry())
	case *p4v1.Entity_CounterEntry:
		return appendCounterKey(buf, x.CounterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return appendTableKey(append(buf, 'd', 'c'), x.DirectCounterEntry.GetTableEntry())
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return appendPREKey(buf, x.PacketReplicationEngineEntry)
	case *p4v1.Entity_ValueSetEntry:
		return binary.AppendUvarint(append(buf, 'v', 's'), uint64(x.ValueSetEntry.GetValueSetId()))
	case *p4v1.Entity_RegisterEntry:
		return appendIndexKey(binary.AppendUvarint(append(buf, 'r', 'e'), uint64(x.RegisterEntry.GetRegisterId())), x.RegisterEntry.GetIndex())
	case *p4v1.Entity_DigestEntry:
		return binary.AppendUvarint(append(buf, 'd', 'e'), uint64(x.DigestEntry.GetDigestId()))
	case *p4v1.Entity_ExternEntry:
		return appendExternKey(buf, x.ExternEntry)
	}
	return buf
}

func appendMemberKey(buf []byte, m *p4v1.ActionProfileMember) []byte {
	buf = binary.AppendUvarint(append(buf, 'a', 'm'), uint64(m.GetActionProfileId()))
	return binary.AppendUvarint(buf, uint64(m.GetMemberId()))
}

func appendGroupKey(buf []byte, g *p4v1.ActionProfileGroup) []byte {
	buf = binary.AppendUvarint(append(buf, 'a', 'g'), uint64(g.GetActionProfileId()))
	return binary.AppendUvarint(buf, uint64(g.GetGroupId()))
}

func appendMeterKey(buf []byte, m *p4v1.MeterEntry) []byte {
	return appendIndexKey(binary.AppendUvarint(append(buf, 'm', 'e'), uint64(m.GetMeterId())), m.GetIndex())
}

func appendCounterKey(buf []byte, c *p4v1.CounterEntry) []byte {
	return appendIndexKey(binary.AppendUvarint(append(buf, 'c', 'e'), uint64(c.GetCounterId())), c.GetIndex())
}

func appendIndexKey(buf []byte, ix *p4v1.Index) []byte {
	if ix == nil {
		return append(buf, '*')
	}
	return binary.AppendVarint(append(buf, '#'), ix.GetIndex())
}

func appendPREKey(buf []byte, p *p4v1.PacketReplicationEngineEntry) []byte {
	switch x := p.GetType().(type) {
	case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
		return binary.AppendUvarint(append(buf, 'm', 'g'), uint64(x.MulticastGroupEntry.GetMulticastGroupId()))
	case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
		return binary.AppendUvarint(append(buf, 'c', 's'), uint64(x.CloneSessionEntry.GetSessionId()))
	}
	return append(buf, 'p', 'r')
}

func appendExternKey(buf []byte, x *p4v1.ExternEntry) []byte {
	buf = binary.AppendUvarint(append(buf, 'e', 'x'), uint64(x.GetExternTypeId()))
	buf = binary.AppendUvarint(buf, uint64(x.GetExternId()))
	buf = appendBytesKey(buf, []byte(x.GetEntry().GetTypeUrl()), false)
	return appendBytesKey(buf, x.GetEntry().GetValue(), false)
}

func appendBytesKey(buf []byte, b []byte, canonical bool) []byte {
	if canonical {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

func appendTableKey(buf []byte, te *p4v1.TableEntry) []byte {
	buf = binary.AppendUvarint(buf, uint64(te.GetTableId()))
	if te.GetIsDefaultAction() {
		return append(buf, 'D')
	}
	ms := te.GetMatch()
	sorted := true
	for i := 1; i < len(ms); i++ {
		if ms[i].GetFieldId() < ms[i-1].GetFieldId() {
			sorted = false
			break
		}
	}
	if sorted {
		for _, m := range ms {
			buf = appendMatchKey(buf, m)
		}
	} else {
		var arr [16]int
		order := arr[:0]
		for i := range ms {
			order = append(order, i)
		}
		for i := 1; i < len(order); i++ {
			for j := i; j > 0 && ms[order[j]].GetFieldId() < ms[order[j-1]].GetFieldId(); j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		for _, i := range order {
			buf = appendMatchKey(buf, ms[i])
		}
	}
	buf = append(buf, 'P')
	return binary.AppendVarint(buf, int64(te.GetPriority()))
}

func appendMatchKey(buf []byte, m *p4v1.FieldMatch) []byte {
	buf = binary.AppendUvarint(buf, uint64(m.GetFieldId()))
	switch x := m.GetFieldMatchType().(type) {
	case *p4v1.FieldMatch_Exact_:
		buf = appendBytesKey(append(buf, 'e'), x.Exact.GetValue(), true)
	case *p4v1.FieldMatch_Lpm:
		buf = appendBytesKey(append(buf, 'l'), x.Lpm.GetValue(), true)
		buf = binary.AppendVarint(buf, int64(x.Lpm.GetPrefixLen()))
	case *p4v1.FieldMatch_Ternary_:
		buf = appendBytesKey(append(buf, 't'), x.Ternary.GetValue(), true)
		buf = appendBytesKey(buf, x.Ternary.GetMask(), true)
	case *p4v1.FieldMatch_Range_:
		buf = appendBytesKey(append(buf, 'r'), x.Range.GetLow(), true)
		buf = appendBytesKey(buf, x.Range.GetHigh(), true)
	case *p4v1.FieldMatch_Optional_:
		buf = appendBytesKey(append(buf, 'o'), x.Optional.GetValue(), true)
	case *p4v1.FieldMatch_Other:
		buf = appendBytesKey(append(buf, 'x'), []byte(x.Other.GetTypeUrl()), false)
		buf = appendBytesKey(buf, x.Other.GetValue(), false)
	default:
		buf = append(buf, '?')
	}
	return buf
}
