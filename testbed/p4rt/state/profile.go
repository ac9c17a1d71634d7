package state

import (
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// profileState is the runtime state of an action profile or selector.
//
// One-shot table entries (spec "One Shot Action Selector Programming") are
// the equivalent of a hidden group of hidden members: they take room in the
// selector (usage) like a group of that size would, are never visible as
// members or groups, and read back as the action set they were written
// with. Because a selector is programmed either only with one shots or only
// with members and groups, the hidden objects need no IDs of their own.
type profileState struct {
	ap                *schema.ActionProfile
	name              string // for messages
	tables            []*tableState
	members           map[uint32]*member
	groups            map[uint32]*group
	oneShots          int   // table entries programmed with an action set
	usage             int64 // selector: sum of group sizes (explicit and one-shot); profile: members
	sumOfMembers      bool
	maxMemberWeight   int32
	weightsDisallowed bool
}

type member struct {
	m         *p4v1.ActionProfileMember
	groupRefs int // groups that hold the member
	entryRefs int // table entries that point at it
}

type group struct {
	g         *p4v1.ActionProfileGroup
	size      int64 // per the selector's size semantics
	entryRefs int
}

func (ps *profileState) scope() string { return ps.name }

// actionRef returns the reference to an action by one of the tables the
// profile implements (they share one action list, spec "Action Profile
// Member Programming").
func (ps *profileState) actionRef(id uint32) *schema.ActionRef {
	for _, ts := range ps.tables {
		if r := ts.t.ActionRef(id); r != nil {
			return r
		}
	}
	return nil
}

// weight validates a member weight and returns the weight it counts for.
// 0 is never a valid weight (spec "Action Profile Group Programming"),
// unless the selector disallows weights, where every weight must be absent.
func (ps *profileState) weight(w int32, sumOfMembers bool) (int64, *opError) {
	if ps.weightsDisallowed {
		if w != 0 {
			return 0, errf(codes.InvalidArgument, "%s disallows weights, got weight %d", ps.scope(), w)
		}
		return 1, nil
	}
	if w <= 0 {
		return 0, errf(codes.InvalidArgument, "%s: weight %d is not valid (must be > 0)", ps.scope(), w)
	}
	if sumOfMembers && ps.maxMemberWeight > 0 && w > ps.maxMemberWeight {
		return 0, errf(codes.InvalidArgument, "%s: weight %d exceeds max_member_weight %d", ps.scope(), w, ps.maxMemberWeight)
	}
	return int64(w), nil
}

func (ps *profileState) setSumOfMembers(set *p4v1.ActionProfileActionSet) bool {
	switch set.GetSizeSemantics() {
	case p4v1.ActionProfileActionSet_SUM_OF_WEIGHTS:
		return false
	case p4v1.ActionProfileActionSet_SUM_OF_MEMBERS:
		return true
	}
	return ps.sumOfMembers
}

// setSize is the room a validated one-shot action set takes.
func (ps *profileState) setSize(set *p4v1.ActionProfileActionSet) int64 {
	if ps.setSumOfMembers(set) {
		return int64(len(set.GetActionProfileActions()))
	}
	var n int64
	for _, a := range set.GetActionProfileActions() {
		if ps.weightsDisallowed {
			n++
		} else {
			n += int64(a.GetWeight())
		}
	}
	return n
}

// ref adds delta to the references a table action holds on the profile's
// objects. The caller logs the inverse when recording.
func (ps *profileState) ref(ta *p4v1.TableAction, delta int) {
	switch x := ta.GetType().(type) {
	case *p4v1.TableAction_ActionProfileMemberId:
		if m := ps.members[x.ActionProfileMemberId]; m != nil {
			m.entryRefs += delta
		}
	case *p4v1.TableAction_ActionProfileGroupId:
		if g := ps.groups[x.ActionProfileGroupId]; g != nil {
			g.entryRefs += delta
		}
	case *p4v1.TableAction_ActionProfileActionSet:
		ps.oneShots += delta
		ps.usage += int64(delta) * ps.setSize(x.ActionProfileActionSet)
	}
}

// checkIndirectAction validates the action of an entry of an indirect
// table (spec "Action Specification" and "One Shot Action Selector
// Programming"). old is the action the entry has now (MODIFY), or nil.
func (d *Device) checkIndirectAction(ts *tableState, ta *p4v1.TableAction, old *p4v1.TableAction) (dirty bool, oe *opError) {
	ps := ts.profile
	switch x := ta.GetType().(type) {
	case *p4v1.TableAction_ActionProfileMemberId:
		if ps.members[x.ActionProfileMemberId] == nil {
			return false, errf(codes.NotFound, "%s has no member %d", ps.scope(), x.ActionProfileMemberId)
		}
		return false, nil
	case *p4v1.TableAction_ActionProfileGroupId:
		if !ps.ap.WithSelector {
			return false, errf(codes.InvalidArgument, "%s has no selector: its tables take members, not groups", ps.scope())
		}
		if ps.groups[x.ActionProfileGroupId] == nil {
			return false, errf(codes.NotFound, "%s has no group %d", ps.scope(), x.ActionProfileGroupId)
		}
		return false, nil
	case *p4v1.TableAction_ActionProfileActionSet:
		if !ps.ap.WithSelector {
			return false, errf(codes.InvalidArgument, "%s has no selector: one-shot action sets need an action selector", ps.scope())
		}
		if len(ps.members)+len(ps.groups) > 0 {
			return false, errf(codes.InvalidArgument, "%s is programmed with members and groups; one-shot and member/group programming cannot be mixed", ps.scope())
		}
		set := x.ActionProfileActionSet
		sumOfMembers := ps.setSumOfMembers(set)
		for _, apa := range set.GetActionProfileActions() {
			a := apa.GetAction()
			dd, oe := d.checkAction(a, ts.t.ActionRef(a.GetActionId()), ts.scope(), false)
			if oe != nil {
				return false, oe
			}
			dirty = dirty || dd
			if _, oe := ps.weight(apa.GetWeight(), sumOfMembers); oe != nil {
				return false, oe
			}
		}
		size := ps.setSize(set)
		if m := int64(ps.ap.MaxGroupSize); m > 0 && size > m {
			return false, errf(codes.InvalidArgument, "one-shot action set of size %d exceeds max_group_size %d of %s", size, m, ps.scope())
		}
		var oldSize int64
		if os := old.GetActionProfileActionSet(); os != nil {
			oldSize = ps.setSize(os)
		}
		if ps.ap.Size > 0 && ps.usage-oldSize+size > ps.ap.Size {
			return false, errf(codes.ResourceExhausted, "%s is full (size %d)", ps.scope(), ps.ap.Size)
		}
		return dirty, nil
	case *p4v1.TableAction_Action:
		return false, errf(codes.InvalidArgument, "%s is indirect: its entries take an action profile member, group or action set, not an action", ts.scope())
	}
	return false, errf(codes.InvalidArgument, "%s: missing action", ts.scope())
}

// writeMember applies an ActionProfileMember update (spec "Action Profile
// Member Programming").
func (d *Device) writeMember(typ p4v1.Update_Type, m *p4v1.ActionProfileMember) *opError {
	ps := d.profiles[m.GetActionProfileId()]
	if ps == nil {
		return errf(codes.InvalidArgument, "unknown action profile ID %d", m.GetActionProfileId())
	}
	id := m.GetMemberId()
	if id == 0 {
		return errf(codes.InvalidArgument, "%s: member ID 0 is not valid", ps.scope())
	}
	old := ps.members[id]
	if typ == p4v1.Update_DELETE {
		if old == nil {
			return errf(codes.NotFound, "%s has no member %d", ps.scope(), id)
		}
		if old.groupRefs > 0 {
			return errf(codes.FailedPrecondition, "%s: member %d is in %d group(s)", ps.scope(), id, old.groupRefs)
		}
		if old.entryRefs > 0 {
			return errf(codes.FailedPrecondition, "%s: member %d is used by %d table entries", ps.scope(), id, old.entryRefs)
		}
		delete(ps.members, id)
		if !ps.ap.WithSelector {
			ps.usage--
		}
		if d.recording {
			d.onUndo(func() {
				ps.members[id] = old
				if !ps.ap.WithSelector {
					ps.usage++
				}
			})
		}
		return nil
	}
	if ps.oneShots > 0 {
		return errf(codes.InvalidArgument, "%s is programmed with one-shot action sets; one-shot and member/group programming cannot be mixed", ps.scope())
	}
	a := m.GetAction()
	if a == nil {
		return errf(codes.InvalidArgument, "%s member %d: missing action", ps.scope(), id)
	}
	dirty, oe := d.checkAction(a, ps.actionRef(a.GetActionId()), ps.scope(), false)
	if oe != nil {
		return oe
	}
	stored := m
	if dirty {
		stored = &p4v1.ActionProfileMember{ActionProfileId: ps.ap.ID, MemberId: id, Action: d.canonAction(a)}
	}
	switch typ {
	case p4v1.Update_INSERT:
		if old != nil {
			return errf(codes.AlreadyExists, "%s already has member %d", ps.scope(), id)
		}
		if !ps.ap.WithSelector && ps.ap.Size > 0 && ps.usage >= ps.ap.Size {
			return errf(codes.ResourceExhausted, "%s is full (%d members)", ps.scope(), ps.ap.Size)
		}
		ps.members[id] = &member{m: stored}
		if !ps.ap.WithSelector {
			ps.usage++
		}
		if d.recording {
			d.onUndo(func() {
				delete(ps.members, id)
				if !ps.ap.WithSelector {
					ps.usage--
				}
			})
		}
	case p4v1.Update_MODIFY:
		if old == nil {
			return errf(codes.NotFound, "%s has no member %d", ps.scope(), id)
		}
		prev := old.m
		old.m = stored
		if d.recording {
			d.onUndo(func() { old.m = prev })
		}
	}
	return nil
}

// writeGroup applies an ActionProfileGroup update (spec "Action Profile
// Group Programming" and "Rules on Setting max_size").
func (d *Device) writeGroup(typ p4v1.Update_Type, g *p4v1.ActionProfileGroup) *opError {
	ps := d.profiles[g.GetActionProfileId()]
	if ps == nil {
		return errf(codes.InvalidArgument, "unknown action profile ID %d", g.GetActionProfileId())
	}
	if !ps.ap.WithSelector {
		return errf(codes.InvalidArgument, "%s has no selector: it has no groups", ps.scope())
	}
	id := g.GetGroupId()
	if id == 0 {
		return errf(codes.InvalidArgument, "%s: group ID 0 is not valid", ps.scope())
	}
	old := ps.groups[id]
	if typ == p4v1.Update_DELETE {
		if old == nil {
			return errf(codes.NotFound, "%s has no group %d", ps.scope(), id)
		}
		if old.entryRefs > 0 {
			return errf(codes.FailedPrecondition, "%s: group %d is used by %d table entries", ps.scope(), id, old.entryRefs)
		}
		ps.groupRefs(old.g, -1)
		ps.usage -= old.size
		delete(ps.groups, id)
		if d.recording {
			d.onUndo(func() {
				ps.groups[id] = old
				ps.usage += old.size
				ps.groupRefs(old.g, +1)
			})
		}
		return nil
	}
	if ps.oneShots > 0 {
		return errf(codes.InvalidArgument, "%s is programmed with one-shot action sets; one-shot and member/group programming cannot be mixed", ps.scope())
	}
	maxSize := g.GetMaxSize()
	if maxSize < 0 {
		return errf(codes.InvalidArgument, "%s group %d: max_size %d is negative", ps.scope(), id, maxSize)
	}
	if ps.ap.MaxGroupSize > 0 && maxSize > ps.ap.MaxGroupSize {
		return errf(codes.InvalidArgument, "%s group %d: max_size %d exceeds max_group_size %d", ps.scope(), id, maxSize, ps.ap.MaxGroupSize)
	}
	switch typ {
	case p4v1.Update_INSERT:
		if old != nil {
			return errf(codes.AlreadyExists, "%s already has group %d", ps.scope(), id)
		}
	case p4v1.Update_MODIFY:
		if old == nil {
			return errf(codes.NotFound, "%s has no group %d", ps.scope(), id)
		}
		if maxSize != old.g.GetMaxSize() {
			return errf(codes.InvalidArgument, "%s group %d: max_size cannot change (was %d, got %d)", ps.scope(), id, old.g.GetMaxSize(), maxSize)
		}
	}
	var sum int64
	members := g.GetMembers()
	var seen map[uint32]bool
	if len(members) > 16 {
		seen = make(map[uint32]bool, len(members))
	}
	for i, gm := range members {
		mid := gm.GetMemberId()
		dup := false
		if seen != nil {
			dup = seen[mid]
			seen[mid] = true
		} else {
			for _, p := range members[:i] {
				if p.GetMemberId() == mid {
					dup = true
					break
				}
			}
		}
		if dup {
			return errf(codes.InvalidArgument, "%s group %d: member %d listed twice (use the weight)", ps.scope(), id, mid)
		}
		w, oe := ps.weight(gm.GetWeight(), ps.sumOfMembers)
		if oe != nil {
			return oe
		}
		if ps.members[mid] == nil {
			return errf(codes.NotFound, "%s has no member %d", ps.scope(), mid)
		}
		sum += w
	}
	size := sum
	if ps.sumOfMembers {
		size = int64(len(members))
	}
	limit := int64(maxSize)
	if limit == 0 { // the proto's "unset" max_size: the static max_group_size applies
		limit = int64(ps.ap.MaxGroupSize)
	}
	if limit > 0 && size > limit {
		return errf(codes.ResourceExhausted, "%s group %d: size %d exceeds its max size %d", ps.scope(), id, size, limit)
	}
	var oldSize int64
	if old != nil {
		oldSize = old.size
	}
	if ps.ap.Size > 0 && ps.usage-oldSize+size > ps.ap.Size {
		return errf(codes.ResourceExhausted, "%s is full (size %d)", ps.scope(), ps.ap.Size)
	}
	ng := &group{g: g, size: size}
	if old != nil {
		ng.entryRefs = old.entryRefs
		ps.groupRefs(old.g, -1)
	}
	ps.groupRefs(g, +1)
	ps.groups[id] = ng
	ps.usage += size - oldSize
	if d.recording {
		d.onUndo(func() {
			ps.usage -= size - oldSize
			ps.groupRefs(g, -1)
			if old != nil {
				ps.groupRefs(old.g, +1)
				ps.groups[id] = old
			} else {
				delete(ps.groups, id)
			}
		})
	}
	return nil
}

// groupRefs adds delta to the group references of a group's members.
func (ps *profileState) groupRefs(g *p4v1.ActionProfileGroup, delta int) {
	for _, gm := range g.GetMembers() {
		if m := ps.members[gm.GetMemberId()]; m != nil {
			m.groupRefs += delta
		}
	}
}

// readMembers answers an ActionProfileMember query: profile 0 reads every
// member of every profile, member 0 every member of the profile (spec
// "Action Profile Member Programming").
func (r *reader) readMembers(q *p4v1.ActionProfileMember) *opError {
	d := r.d
	if q.GetActionProfileId() == 0 {
		if q.GetMemberId() != 0 {
			return errf(codes.InvalidArgument, "member ID %d without an action profile ID", q.GetMemberId())
		}
		for _, ps := range d.profileList {
			r.emitMembers(ps)
		}
		return nil
	}
	ps := d.profiles[q.GetActionProfileId()]
	if ps == nil {
		return errf(codes.InvalidArgument, "unknown action profile ID %d", q.GetActionProfileId())
	}
	if q.GetMemberId() == 0 {
		r.emitMembers(ps)
		return nil
	}
	if m := ps.members[q.GetMemberId()]; m != nil {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: m.m}})
	}
	return nil
}

func (r *reader) emitMembers(ps *profileState) {
	for _, id := range sortedKeys(ps.members) {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: ps.members[id].m}})
	}
}

// readGroups answers an ActionProfileGroup query, with the same wildcards
// as readMembers.
func (r *reader) readGroups(q *p4v1.ActionProfileGroup) *opError {
	d := r.d
	if q.GetActionProfileId() == 0 {
		if q.GetGroupId() != 0 {
			return errf(codes.InvalidArgument, "group ID %d without an action profile ID", q.GetGroupId())
		}
		for _, ps := range d.profileList {
			r.emitGroups(ps)
		}
		return nil
	}
	ps := d.profiles[q.GetActionProfileId()]
	if ps == nil {
		return errf(codes.InvalidArgument, "unknown action profile ID %d", q.GetActionProfileId())
	}
	if q.GetGroupId() == 0 {
		r.emitGroups(ps)
		return nil
	}
	if g := ps.groups[q.GetGroupId()]; g != nil {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: g.g}})
	}
	return nil
}

func (r *reader) emitGroups(ps *profileState) {
	for _, id := range sortedKeys(ps.groups) {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: ps.groups[id].g}})
	}
}
