package entity

import (
	"errors"
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/schema"
)

func (b *Builder) profile(name string) (*schema.ActionProfile, *tableInfo, error) {
	if b == nil || b.s == nil {
		return nil, nil, errNoSchema
	}
	p, err := b.s.ActionProfile(name)
	if err != nil {
		return nil, nil, errAt(schema.KindActionProfile, name, "", "", "", err)
	}
	// Tables sharing a profile have the same actions (spec "Action Profile
	// Member Programming"): resolve actions through the first one.
	var ti *tableInfo
	for _, id := range p.TableIDs {
		if ti = b.x.tablesByID[id]; ti != nil {
			break
		}
	}
	if ti == nil {
		return nil, nil, errAt(schema.KindActionProfile, p.Name, "", "", "", errors.New("no table uses the action profile"))
	}
	return p, ti, nil
}

// Member builds an action profile member: its ID and, for INSERT and
// MODIFY, its action (one of the actions of the tables the profile
// implements). With ID 0 and no action it is the wildcard read of every
// member of the profile.
func (b *Builder) Member(profile string, id uint32, action ...Option) (*p4v1.ActionProfileMember, error) {
	p, ti, err := b.profile(profile)
	if err != nil {
		return nil, err
	}
	m := &p4v1.ActionProfileMember{ActionProfileId: p.ID, MemberId: id}
	switch len(action) {
	case 0:
		return m, nil
	case 1:
	default:
		return nil, errAt(schema.KindActionProfile, p.Name, "", "", "", errors.New("a member has one action"))
	}
	if id == 0 {
		return nil, errAt(schema.KindActionProfile, p.Name, "", "", "", errors.New("member ID 0 is not valid"))
	}
	m.Action, err = b.action(schema.KindActionProfile, p.Name, ti, &action[0])
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Group builds an action selector group: its ID, maximum size (0 for the
// P4Info's max_group_size) and members with their weights. The builder
// checks that the profile is a selector, that member IDs are unique and
// non-zero, weights positive, and the group within max_size and the
// P4Info's max_group_size under the selector's size semantics (sum of
// weights unless the P4Info says sum_of_members). With ID 0 and no
// member it is the wildcard read of every group of the profile.
func (b *Builder) Group(profile string, id uint32, maxSize int32, members ...GroupMember) (*p4v1.ActionProfileGroup, error) {
	p, _, err := b.profile(profile)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*p4v1.ActionProfileGroup, error) {
		return nil, errAt(schema.KindActionProfile, p.Name, "", "", "", err)
	}
	if !p.WithSelector {
		return fail(errors.New("is not an action selector: it has members only"))
	}
	g := &p4v1.ActionProfileGroup{ActionProfileId: p.ID, GroupId: id, MaxSize: maxSize}
	if id == 0 {
		if len(members) > 0 || maxSize != 0 {
			return fail(errors.New("group ID 0 is not valid"))
		}
		return g, nil
	}
	if maxSize < 0 {
		return fail(fmt.Errorf("negative max size %d", maxSize))
	}
	if p.MaxGroupSize > 0 && maxSize > p.MaxGroupSize {
		return fail(fmt.Errorf("max size %d exceeds the selector's max_group_size %d", maxSize, p.MaxGroupSize))
	}
	weights := make([]int32, len(members))
	g.Members = make([]*p4v1.ActionProfileGroup_Member, len(members))
	for i, m := range members {
		if m.id == 0 {
			return fail(errors.New("member ID 0 is not valid"))
		}
		if m.weight <= 0 {
			return fail(fmt.Errorf("member %d: weight %d must be > 0", m.id, m.weight))
		}
		for _, prev := range members[:i] {
			if prev.id == m.id {
				return fail(fmt.Errorf("member %d given twice (use its weight instead)", m.id))
			}
		}
		gm := &p4v1.ActionProfileGroup_Member{MemberId: m.id, Weight: m.weight}
		if m.watch != nil {
			port, err := b.portBytes(m.watch)
			if err != nil {
				return fail(fmt.Errorf("member %d: watch port: %w", m.id, err))
			}
			gm.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: port}
		}
		g.Members[i] = gm
		weights[i] = m.weight
	}
	if err := checkGroupSize(p, maxSize, weights); err != nil {
		return fail(err)
	}
	return g, nil
}

// checkGroupSize checks a group's members against max_size (or the
// P4Info's max_group_size) under the selector's size semantics.
func checkGroupSize(p *schema.ActionProfile, maxSize int32, weights []int32) error {
	limit := int64(maxSize)
	what := "max size"
	if limit == 0 {
		limit, what = int64(p.MaxGroupSize), "the selector's max_group_size"
	}
	members := p.Proto.GetSumOfMembers() != nil
	if members {
		if mw := p.Proto.GetSumOfMembers().GetMaxMemberWeight(); mw > 0 {
			for _, w := range weights {
				if w > mw {
					return fmt.Errorf("weight %d exceeds the selector's max_member_weight %d", w, mw)
				}
			}
		}
	}
	if limit <= 0 {
		return nil
	}
	var total int64
	for _, w := range weights {
		if members {
			total++
		} else {
			total += int64(w)
		}
	}
	if total > limit {
		unit := "sum of weights"
		if members {
			unit = "number of members"
		}
		return fmt.Errorf("%s %d exceeds %s %d", unit, total, what, limit)
	}
	return nil
}

// actionSet builds a one-shot action set.
func (b *Builder) actionSet(ti *tableInfo, p *schema.ActionProfile, set []WeightedAction) (*p4v1.ActionProfileActionSet, error) {
	t := ti.t
	if len(set) == 0 {
		return nil, errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.ActionSet: empty action set"))
	}
	out := &p4v1.ActionProfileActionSet{ActionProfileActions: make([]*p4v1.ActionProfileAction, len(set))}
	weights := make([]int32, len(set))
	for i := range set {
		wa := &set[i]
		if wa.weight <= 0 {
			return nil, errAt(schema.KindTable, t.Name, "", wa.action.name, "", fmt.Errorf("entity.ActionSet: weight %d must be > 0", wa.weight))
		}
		act, err := b.action(schema.KindTable, t.Name, ti, &wa.action)
		if err != nil {
			return nil, err
		}
		pa := &p4v1.ActionProfileAction{Action: act, Weight: wa.weight}
		if wa.watch != nil {
			port, err := b.portBytes(wa.watch)
			if err != nil {
				return nil, errAt(schema.KindTable, t.Name, "", wa.action.name, "", fmt.Errorf("watch port: %w", err))
			}
			pa.WatchKind = &p4v1.ActionProfileAction_WatchPort{WatchPort: port}
		}
		out.ActionProfileActions[i] = pa
		weights[i] = wa.weight
	}
	if err := checkGroupSize(p, 0, weights); err != nil {
		return nil, errAt(schema.KindTable, t.Name, "", "", "", fmt.Errorf("entity.ActionSet: %w", err))
	}
	return out, nil
}

// portBytes encodes an SDN port: an integer as the canonical bytestring
// of a 32-bit port number, a string (ports translated to strings, as in
// SAI-P4) or []byte as is.
func (b *Builder) portBytes(port any) ([]byte, error) {
	switch x := port.(type) {
	case string:
		if x == "" {
			return nil, errors.New("empty port")
		}
		return []byte(x), nil
	case []byte:
		if len(x) == 0 {
			return nil, errors.New("empty port")
		}
		return append([]byte(nil), x...), nil
	}
	v := anyValue(port)
	out, err := appendValue(nil, &v, &spec{width: 32}, b.pad)
	if err != nil {
		return nil, err
	}
	return out, nil
}
