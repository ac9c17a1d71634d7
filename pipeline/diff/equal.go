package diff

import (
	"bytes"
	"cmp"
	"slices"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/entity"
)

// Equal reports whether two entities are the same entity with the same
// contents, in canonical form: bytestrings compare without leading zero
// bytes, match fields, action parameters, group members, one-shot actions
// and replicas compare in any order, and what only a read reports (a
// table entry's time_since_last_hit and is_const) is ignored.
func Equal(a, b *p4v1.Entity) bool {
	return entity.SameKey(a, b) && sameContent(a, b)
}

// sameContent compares two entities known to have the same key.
func sameContent(a, b *p4v1.Entity) bool {
	if a == b {
		return true
	}
	if ta, tb := a.GetTableEntry(), b.GetTableEntry(); ta != nil && tb != nil {
		if eq, sure := tableEntryEqual(ta, tb); sure {
			return eq
		}
	}
	if ma, mb := a.GetActionProfileMember(), b.GetActionProfileMember(); ma != nil && mb != nil {
		if eq, sure := actionEqual(ma.GetAction(), mb.GetAction()); sure && plainMember(ma) && plainMember(mb) {
			return eq
		}
	}
	if ga, gb := a.GetActionProfileGroup(), b.GetActionProfileGroup(); ga != nil && gb != nil {
		if eq, sure := groupEqual(ga, gb); sure {
			return eq
		}
	}
	return proto.Equal(Canonical(a), Canonical(b))
}

// groupEqual compares two action profile groups without allocating
// (a commit compares every group of every box it may leave alone). sure is
// false for members in another order, watched members and unknown
// fields, which the caller compares in canonical form.
func groupEqual(a, b *p4v1.ActionProfileGroup) (eq, sure bool) {
	if len(a.ProtoReflect().GetUnknown()) != 0 || len(b.ProtoReflect().GetUnknown()) != 0 {
		return false, false
	}
	ma, mb := a.GetMembers(), b.GetMembers()
	if a.GetActionProfileId() != b.GetActionProfileId() || a.GetGroupId() != b.GetGroupId() ||
		a.GetMaxSize() != b.GetMaxSize() || len(ma) != len(mb) {
		return false, true
	}
	for i, m := range ma {
		n := mb[i]
		if m.GetMemberId() != n.GetMemberId() || m.GetWatchKind() != nil || n.GetWatchKind() != nil ||
			len(m.ProtoReflect().GetUnknown()) != 0 || len(n.ProtoReflect().GetUnknown()) != 0 {
			return false, false
		}
		if m.GetWeight() != n.GetWeight() {
			return false, true
		}
	}
	return true, true
}

func plainMember(m *p4v1.ActionProfileMember) bool {
	return len(m.ProtoReflect().GetUnknown()) == 0
}

// tableEntryEqual compares the common table entries without allocating:
// a direct action, a member or a group, with metadata and idle timeout.
// sure is false when the entries carry anything else (action sets,
// counter or meter data, unknown fields), which the caller compares in
// canonical form.
func tableEntryEqual(a, b *p4v1.TableEntry) (eq, sure bool) {
	for _, te := range [2]*p4v1.TableEntry{a, b} {
		if te.GetCounterData() != nil || te.GetMeterConfig() != nil || te.GetMeterCounterData() != nil ||
			len(te.ProtoReflect().GetUnknown()) != 0 {
			return false, false
		}
	}
	if a.GetTableId() != b.GetTableId() || a.GetPriority() != b.GetPriority() ||
		a.GetIsDefaultAction() != b.GetIsDefaultAction() || a.GetControllerMetadata() != b.GetControllerMetadata() ||
		a.GetIdleTimeoutNs() != b.GetIdleTimeoutNs() || !bytes.Equal(a.GetMetadata(), b.GetMetadata()) {
		return false, true
	}
	aa, ba := a.GetAction(), b.GetAction()
	if (aa == nil) != (ba == nil) {
		return false, true
	}
	if aa == nil {
		return true, true
	}
	switch x := aa.GetType().(type) {
	case *p4v1.TableAction_Action:
		y, ok := ba.GetType().(*p4v1.TableAction_Action)
		if !ok {
			return false, true
		}
		return actionEqual(x.Action, y.Action)
	case *p4v1.TableAction_ActionProfileMemberId:
		y, ok := ba.GetType().(*p4v1.TableAction_ActionProfileMemberId)
		return ok && x.ActionProfileMemberId == y.ActionProfileMemberId, true
	case *p4v1.TableAction_ActionProfileGroupId:
		y, ok := ba.GetType().(*p4v1.TableAction_ActionProfileGroupId)
		return ok && x.ActionProfileGroupId == y.ActionProfileGroupId, true
	case nil:
		return ba.GetType() == nil, true
	}
	return false, false // action sets and anything newer: canonical form
}

// actionEqual compares two actions with canonical values. sure is false
// for unusual content (unknown fields, parameters in different orders),
// which the caller compares in canonical form.
func actionEqual(a, b *p4v1.Action) (eq, sure bool) {
	if (a == nil) != (b == nil) {
		return false, true
	}
	if a == nil {
		return true, true
	}
	if len(a.ProtoReflect().GetUnknown()) != 0 || len(b.ProtoReflect().GetUnknown()) != 0 {
		return false, false
	}
	if a.GetActionId() != b.GetActionId() || len(a.GetParams()) != len(b.GetParams()) {
		return false, true
	}
	pa, pb := a.GetParams(), b.GetParams()
	for i, p := range pa {
		q := pb[i]
		if q.GetParamId() != p.GetParamId() {
			return false, false // another order: compare sorted
		}
		if !canonEqual(p.GetValue(), q.GetValue()) {
			return false, true
		}
	}
	return true, true
}

// canonEqual compares two bytestrings without their leading zero bytes.
func canonEqual(a, b []byte) bool {
	return bytes.Equal(trim(a), trim(b))
}

func trim(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// Canonical returns a copy of e in canonical form: bytestrings without
// leading zero bytes (a zero value is one zero byte), match fields and
// action parameters sorted by ID, group members by member ID, one-shot
// actions and replicas in a fixed order, and a table entry's
// time_since_last_hit and is_const cleared. Two entities are Equal exactly
// when their canonical forms are proto.Equal. e is not modified.
func Canonical(e *p4v1.Entity) *p4v1.Entity {
	if e == nil {
		return nil
	}
	c := proto.Clone(e).(*p4v1.Entity)
	switch x := c.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		canonTable(x.TableEntry)
	case *p4v1.Entity_DirectCounterEntry:
		canonTable(x.DirectCounterEntry.GetTableEntry())
	case *p4v1.Entity_DirectMeterEntry:
		canonTable(x.DirectMeterEntry.GetTableEntry())
	case *p4v1.Entity_ActionProfileMember:
		canonAction(x.ActionProfileMember.GetAction())
	case *p4v1.Entity_ActionProfileGroup:
		slices.SortStableFunc(x.ActionProfileGroup.GetMembers(), func(a, b *p4v1.ActionProfileGroup_Member) int {
			return cmp.Compare(a.GetMemberId(), b.GetMemberId())
		})
	case *p4v1.Entity_PacketReplicationEngineEntry:
		switch p := x.PacketReplicationEngineEntry.GetType().(type) {
		case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
			canonReplicas(p.MulticastGroupEntry.GetReplicas())
		case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
			canonReplicas(p.CloneSessionEntry.GetReplicas())
		}
	case *p4v1.Entity_RegisterEntry:
		canonData(x.RegisterEntry.GetData())
	case *p4v1.Entity_ValueSetEntry:
		for _, m := range x.ValueSetEntry.GetMembers() {
			canonMatches(m.GetMatch())
		}
	}
	return c
}

func canonTable(te *p4v1.TableEntry) {
	if te == nil {
		return
	}
	te.TimeSinceLastHit = nil
	te.IsConst = false
	canonMatches(te.GetMatch())
	switch a := te.GetAction().GetType().(type) {
	case *p4v1.TableAction_Action:
		canonAction(a.Action)
	case *p4v1.TableAction_ActionProfileActionSet:
		set := a.ActionProfileActionSet.GetActionProfileActions()
		for _, pa := range set {
			canonAction(pa.GetAction())
			if w, ok := pa.GetWatchKind().(*p4v1.ActionProfileAction_WatchPort); ok {
				w.WatchPort = canon(w.WatchPort)
			}
		}
		slices.SortStableFunc(set, func(x, y *p4v1.ActionProfileAction) int {
			xb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(x)
			yb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(y)
			return bytes.Compare(xb, yb)
		})
	}
}

func canonMatches(ms []*p4v1.FieldMatch) {
	for _, m := range ms {
		switch x := m.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			x.Exact.Value = canon(x.Exact.Value)
		case *p4v1.FieldMatch_Lpm:
			x.Lpm.Value = canon(x.Lpm.Value)
		case *p4v1.FieldMatch_Ternary_:
			x.Ternary.Value = canon(x.Ternary.Value)
			x.Ternary.Mask = canon(x.Ternary.Mask)
		case *p4v1.FieldMatch_Range_:
			x.Range.Low = canon(x.Range.Low)
			x.Range.High = canon(x.Range.High)
		case *p4v1.FieldMatch_Optional_:
			x.Optional.Value = canon(x.Optional.Value)
		}
	}
	slices.SortStableFunc(ms, func(a, b *p4v1.FieldMatch) int { return cmp.Compare(a.GetFieldId(), b.GetFieldId()) })
}

func canonAction(a *p4v1.Action) {
	if a == nil {
		return
	}
	for _, p := range a.GetParams() {
		p.Value = canon(p.Value)
	}
	slices.SortStableFunc(a.GetParams(), func(x, y *p4v1.Action_Param) int { return cmp.Compare(x.GetParamId(), y.GetParamId()) })
}

func canonReplicas(rs []*p4v1.Replica) {
	for _, r := range rs {
		switch p := r.GetPortKind().(type) {
		case *p4v1.Replica_Port:
			p.Port = canon(p.Port)
		case *p4v1.Replica_EgressPort:
			// The deprecated field and the bytestring say the same.
			r.PortKind = &p4v1.Replica_Port{Port: replicaPort(r)}
		}
		for _, b := range r.GetBackupReplicas() {
			b.Port = canon(b.Port)
		}
	}
	slices.SortStableFunc(rs, func(a, b *p4v1.Replica) int {
		if c := bytes.Compare(replicaPort(a), replicaPort(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.GetInstance(), b.GetInstance())
	})
}

func replicaPort(r *p4v1.Replica) []byte {
	if p, ok := r.GetPortKind().(*p4v1.Replica_EgressPort); ok {
		v := p.EgressPort
		return trim([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return r.GetPort()
}

func canonData(d *p4v1.P4Data) {
	if b, ok := d.GetData().(*p4v1.P4Data_Bitstring); ok {
		b.Bitstring = canon(b.Bitstring)
	}
}

// canon returns b without leading zero bytes, sharing its memory.
func canon(b []byte) []byte { return trim(b) }
