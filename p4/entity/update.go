package entity

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Message is any P4Runtime entity message, or an Entity itself. Wrap,
// Insert, Modify, Delete and Key take any of them, checked at compile
// time.
type Message interface {
	*p4v1.Entity | *p4v1.TableEntry | *p4v1.ActionProfileMember | *p4v1.ActionProfileGroup |
		*p4v1.MeterEntry | *p4v1.DirectMeterEntry | *p4v1.CounterEntry | *p4v1.DirectCounterEntry |
		*p4v1.PacketReplicationEngineEntry | *p4v1.ValueSetEntry | *p4v1.RegisterEntry |
		*p4v1.DigestEntry | *p4v1.ExternEntry
}

// Wrap wraps an entity message into a *p4v1.Entity (an Entity is returned
// as is). A nil message gives an empty Entity.
func Wrap[M Message](m M) *p4v1.Entity {
	switch x := any(m).(type) {
	case *p4v1.Entity:
		if x == nil {
			return &p4v1.Entity{}
		}
		return x
	case *p4v1.TableEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: x}}
		}
	case *p4v1.ActionProfileMember:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: x}}
		}
	case *p4v1.ActionProfileGroup:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: x}}
		}
	case *p4v1.MeterEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: x}}
		}
	case *p4v1.DirectMeterEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: x}}
		}
	case *p4v1.CounterEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: x}}
		}
	case *p4v1.DirectCounterEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: x}}
		}
	case *p4v1.PacketReplicationEngineEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: x}}
		}
	case *p4v1.ValueSetEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_ValueSetEntry{ValueSetEntry: x}}
		}
	case *p4v1.RegisterEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: x}}
		}
	case *p4v1.DigestEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: x}}
		}
	case *p4v1.ExternEntry:
		if x != nil {
			return &p4v1.Entity{Entity: &p4v1.Entity_ExternEntry{ExternEntry: x}}
		}
	}
	return &p4v1.Entity{}
}

// Insert wraps an entity into an INSERT update.
func Insert[M Message](m M) *p4v1.Update {
	return &p4v1.Update{Type: p4v1.Update_INSERT, Entity: Wrap(m)}
}

// Modify wraps an entity into a MODIFY update.
func Modify[M Message](m M) *p4v1.Update {
	return &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: Wrap(m)}
}

// Delete wraps an entity into a DELETE update.
func Delete[M Message](m M) *p4v1.Update {
	return &p4v1.Update{Type: p4v1.Update_DELETE, Entity: Wrap(m)}
}
