package diff_test

import (
	"fmt"
	"math/rand/v2"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
)

// A model program for generated entity sets, with every kind of
// reference a pipeline has:
//
//	profile 1: members (rank 20), groups of members (rank 30)
//	table 10 "next": exact next_id → member or group (rank 100)
//	table 11 "route": exact dst → action 200 next_id param = a "next" key (rank 101)
//	table 12 "acl": ternary, priority → action 201 (no reference) (rank 101)
//	multicast groups (rank 10), table 13 "mcast": exact → action 202 group param (rank 102)
//	counter 50 cells (modify-only, rank 0)
//
// Entities refer to others by ID (members, groups, multicast groups) or
// by the referred entry's match value (next_id), as SAI-P4's @refers_to
// does.
const (
	profileID  = 1
	tNext      = 10
	tRoute     = 11
	tACL       = 12
	tMcast     = 13
	aRoute     = 200
	aACL       = 201
	aMcast     = 202
	aMember    = 203
	counterID  = 50
	maxMembers = 12
	maxGroups  = 6
	maxNexts   = 10
	maxMcast   = 4
)

func modelRank(e *p4v1.Entity) int {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return 10
	case *p4v1.Entity_ActionProfileMember:
		return 20
	case *p4v1.Entity_ActionProfileGroup:
		return 30
	case *p4v1.Entity_TableEntry:
		switch x.TableEntry.GetTableId() {
		case tNext:
			return 100
		case tRoute, tACL:
			return 101
		case tMcast:
			return 102
		}
	}
	return 0
}

func exact(field uint32, v []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: field, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}

func action(id uint32, params ...[]byte) *p4v1.TableAction {
	a := &p4v1.Action{ActionId: id}
	for i, p := range params {
		a.Params = append(a.Params, &p4v1.Action_Param{ParamId: uint32(i + 1), Value: p})
	}
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
}

// gen makes consistent entity sets: every reference in a set points to
// an entity of the same set.
type gen struct {
	r *rand.Rand
	// pad makes bytestrings padded (as older targets return them), to
	// check that canonical equality hides it.
	pad bool
}

func (g *gen) bytes(v uint64) []byte {
	b := []byte{byte(v >> 8), byte(v)}
	if !g.pad {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
	}
	return b
}

// set generates one consistent set. Values are drawn from small ranges
// so that two sets overlap in keys and differ in contents.
func (g *gen) set() []*p4v1.Entity {
	r := g.r
	var out []*p4v1.Entity
	members := map[uint32]bool{}
	for range r.IntN(maxMembers + 1) {
		id := uint32(1 + r.IntN(maxMembers))
		if members[id] {
			continue
		}
		members[id] = true
		out = append(out, entity.Wrap(&p4v1.ActionProfileMember{ActionProfileId: profileID, MemberId: id,
			Action: &p4v1.Action{ActionId: aMember, Params: []*p4v1.Action_Param{{ParamId: 1, Value: g.bytes(uint64(1 + r.IntN(3)))}}}}))
	}
	memberIDs := keys(members)
	groups := map[uint32]bool{}
	if len(memberIDs) > 0 {
		for range r.IntN(maxGroups + 1) {
			id := uint32(1 + r.IntN(maxGroups))
			if groups[id] {
				continue
			}
			groups[id] = true
			grp := &p4v1.ActionProfileGroup{ActionProfileId: profileID, GroupId: id, MaxSize: 8}
			used := map[uint32]bool{}
			for range 1 + r.IntN(3) {
				m := memberIDs[r.IntN(len(memberIDs))]
				if !used[m] {
					used[m] = true
					grp.Members = append(grp.Members, &p4v1.ActionProfileGroup_Member{MemberId: m, Weight: int32(1 + r.IntN(2))})
				}
			}
			r.Shuffle(len(grp.Members), func(i, j int) { grp.Members[i], grp.Members[j] = grp.Members[j], grp.Members[i] })
			out = append(out, entity.Wrap(grp))
		}
	}
	groupIDs := keys(groups)
	nexts := map[uint64]bool{}
	if len(memberIDs) > 0 {
		for range r.IntN(maxNexts + 1) {
			id := uint64(1 + r.IntN(maxNexts))
			if nexts[id] {
				continue
			}
			nexts[id] = true
			te := &p4v1.TableEntry{TableId: tNext, Match: []*p4v1.FieldMatch{exact(1, g.bytes(id))}}
			if len(groupIDs) > 0 && r.IntN(2) == 0 {
				te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: groupIDs[r.IntN(len(groupIDs))]}}
			} else {
				te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: memberIDs[r.IntN(len(memberIDs))]}}
			}
			out = append(out, entity.Wrap(te))
		}
	}
	nextIDs := keys(nexts)
	if len(nextIDs) > 0 {
		for i := range r.IntN(15) {
			_ = i
			dst := uint64(r.IntN(20))
			te := &p4v1.TableEntry{TableId: tRoute, Match: []*p4v1.FieldMatch{exact(1, g.bytes(dst))},
				Action: action(aRoute, g.bytes(nextIDs[r.IntN(len(nextIDs))]))}
			out = appendUnique(out, entity.Wrap(te))
		}
	}
	for range r.IntN(6) {
		te := &p4v1.TableEntry{TableId: tACL, Priority: int32(1 + r.IntN(3)),
			Match: []*p4v1.FieldMatch{
				{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: g.bytes(uint64(r.IntN(4))), Mask: g.bytes(0xff)}}},
				{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: g.bytes(uint64(r.IntN(2))), Mask: g.bytes(0xf)}}},
			},
			Action: action(aACL, g.bytes(uint64(r.IntN(2))))}
		if r.IntN(2) == 0 { // any field order
			te.Match[0], te.Match[1] = te.Match[1], te.Match[0]
		}
		out = appendUnique(out, entity.Wrap(te))
	}
	mcast := map[uint32]bool{}
	for range r.IntN(maxMcast + 1) {
		id := uint32(1 + r.IntN(maxMcast))
		if mcast[id] {
			continue
		}
		mcast[id] = true
		mg := &p4v1.MulticastGroupEntry{MulticastGroupId: id}
		for p := range 1 + r.IntN(3) {
			mg.Replicas = append(mg.Replicas, &p4v1.Replica{PortKind: &p4v1.Replica_Port{Port: g.bytes(uint64(p + 1 + r.IntN(2)))}, Instance: 1})
		}
		out = appendUnique(out, entity.Wrap(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: mg}}))
	}
	mcastIDs := keys(mcast)
	if len(mcastIDs) > 0 {
		for range r.IntN(4) {
			te := &p4v1.TableEntry{TableId: tMcast, Match: []*p4v1.FieldMatch{exact(1, g.bytes(uint64(r.IntN(5))))},
				Action: action(aMcast, g.bytes(uint64(mcastIDs[r.IntN(len(mcastIDs))])))}
			out = appendUnique(out, entity.Wrap(te))
		}
	}
	for range r.IntN(3) {
		out = appendUnique(out, entity.Wrap(&p4v1.CounterEntry{CounterId: counterID, Index: &p4v1.Index{Index: int64(r.IntN(3))},
			Data: &p4v1.CounterData{PacketCount: int64(r.IntN(2))}}))
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func appendUnique(out []*p4v1.Entity, e *p4v1.Entity) []*p4v1.Entity {
	k := entity.Key(e)
	for _, o := range out {
		if entity.Key(o) == k {
			return out
		}
	}
	return append(out, e)
}

func keys[K uint32 | uint64](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	// Map order is random: sort so that a seed reproduces a case.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ref names what an entity refers to, as keys of the model: "m<id>",
// "g<id>", "n<value>", "mc<id>".
type ref string

func uintOf(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// refs returns what e refers to.
func refs(e *p4v1.Entity) []ref {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_ActionProfileGroup:
		var out []ref
		for _, m := range x.ActionProfileGroup.GetMembers() {
			out = append(out, ref(fmt.Sprintf("m%d", m.GetMemberId())))
		}
		return out
	case *p4v1.Entity_TableEntry:
		te := x.TableEntry
		switch te.GetTableId() {
		case tNext:
			switch a := te.GetAction().GetType().(type) {
			case *p4v1.TableAction_ActionProfileMemberId:
				return []ref{ref(fmt.Sprintf("m%d", a.ActionProfileMemberId))}
			case *p4v1.TableAction_ActionProfileGroupId:
				return []ref{ref(fmt.Sprintf("g%d", a.ActionProfileGroupId))}
			}
		case tRoute:
			return []ref{ref(fmt.Sprintf("n%d", uintOf(te.GetAction().GetAction().GetParams()[0].GetValue())))}
		case tMcast:
			return []ref{ref(fmt.Sprintf("mc%d", uintOf(te.GetAction().GetAction().GetParams()[0].GetValue())))}
		}
	}
	return nil
}

// name returns the reference name of e, or "" when nothing can refer to
// it.
func name(e *p4v1.Entity) ref {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_ActionProfileMember:
		return ref(fmt.Sprintf("m%d", x.ActionProfileMember.GetMemberId()))
	case *p4v1.Entity_ActionProfileGroup:
		return ref(fmt.Sprintf("g%d", x.ActionProfileGroup.GetGroupId()))
	case *p4v1.Entity_TableEntry:
		if x.TableEntry.GetTableId() == tNext {
			return ref(fmt.Sprintf("n%d", uintOf(x.TableEntry.GetMatch()[0].GetExact().GetValue())))
		}
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return ref(fmt.Sprintf("mc%d", x.PacketReplicationEngineEntry.GetMulticastGroupEntry().GetMulticastGroupId()))
	}
	return ""
}

// dangling returns a reference of set to an entity the set lacks.
func dangling(set []*p4v1.Entity) (string, bool) {
	have := map[ref]bool{}
	for _, e := range set {
		if n := name(e); n != "" {
			have[n] = true
		}
	}
	for _, e := range set {
		for _, r := range refs(e) {
			if !have[r] {
				return fmt.Sprintf("%v refers to missing %s", e, r), true
			}
		}
	}
	return "", false
}

// walker follows a set through updates and checks its references
// incrementally: how many entities have each name, and how many
// references point to each name.
type walker struct {
	set    map[string]*p4v1.Entity
	names  map[ref]int
	refsTo map[ref]int
}

func newWalker(set []*p4v1.Entity) *walker {
	w := &walker{set: map[string]*p4v1.Entity{}, names: map[ref]int{}, refsTo: map[ref]int{}}
	for _, e := range set {
		w.add(e)
	}
	return w
}

func (w *walker) add(e *p4v1.Entity) {
	w.set[entity.Key(e)] = e
	if n := name(e); n != "" {
		w.names[n]++
	}
	for _, r := range refs(e) {
		w.refsTo[r]++
	}
}

func (w *walker) remove(e *p4v1.Entity) {
	delete(w.set, entity.Key(e))
	if n := name(e); n != "" {
		w.names[n]--
	}
	for _, r := range refs(e) {
		w.refsTo[r]--
	}
}

// apply applies one update and reports a dangling reference it causes.
func (w *walker) apply(u *p4v1.Update) (string, bool) {
	e := u.GetEntity()
	old := w.set[entity.Key(e)]
	switch u.GetType() {
	case p4v1.Update_INSERT:
		w.add(e)
		for _, r := range refs(e) {
			if w.names[r] == 0 {
				return fmt.Sprintf("insert refers to missing %s", r), true
			}
		}
	case p4v1.Update_MODIFY:
		if old != nil {
			w.remove(old)
		}
		w.add(e)
		for _, r := range refs(e) {
			if w.names[r] == 0 {
				return fmt.Sprintf("modify refers to missing %s", r), true
			}
		}
	case p4v1.Update_DELETE:
		if old != nil {
			w.remove(old)
		}
		if n := name(e); n != "" && w.names[n] == 0 && w.refsTo[n] > 0 {
			return fmt.Sprintf("delete strands %d references to %s", w.refsTo[n], n), true
		}
	}
	return "", false
}
