// Package diff turns the entities a device has (actual) into the entities
// it should have (desired) with a minimal, ordered list of writes: an
// INSERT for every entity only desired, a MODIFY for every entity both
// sets have with different contents (action, parameters or any other
// content outside the key), a DELETE for every entity only actual, and
// nothing for the rest. Entities are matched by entity.Key and compared in
// canonical form (Equal), so padded bytestrings read from older targets,
// match fields in another order or group members in another order are no
// difference.
//
// The writes come in an order a target accepts one by one: every INSERT
// (ascending rank), then every MODIFY (ascending rank), then every DELETE
// (descending rank). The rank comes from the pipeliner of the program
// (pipeline.Pipeliner.Rank: router interfaces before neighbors before
// next hops before routes in SAI-P4) or, by default, from the kind of
// entity (DefaultRank: replication entries before action profile members
// before groups before table entries). When an entity ranks above every
// entity it refers to, no INSERT or MODIFY refers to an entity that is not
// yet there and no DELETE takes away an entity still referred to.
//
// Entities a target has whether or not they are written — counter, meter
// and register cells, direct counter and meter entries, default entries
// and value sets — are never inserted or deleted: a desired one that
// differs from (or is missing in) the actual set is a MODIFY, and one only
// actual is left alone.
//
//	plan, err := diff.Compute(desired, actual, diff.WithRank(pipeliner.Rank))
//	if err != nil { ... }
//	err = c.Write(ctx, plan.Updates())
package diff

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
)

// Rank orders entities for writing: lower ranks are inserted first and
// deleted last. An entity must rank above every entity it refers to.
type Rank func(e *p4v1.Entity) int

// Ranks of DefaultRank, by kind of entity. Pipeliners that order table
// entries among themselves (router interface < neighbor < next hop <
// route) rank them from RankTableEntry up, below RankDirect.
const (
	RankCell       = 0   // counter, meter and register cells, value sets, digests: refer to nothing
	RankPRE        = 10  // multicast groups and clone sessions (table entries refer to them by ID)
	RankMember     = 20  // action profile members
	RankGroup      = 30  // action profile groups (refer to members)
	RankTableEntry = 100 // table entries (refer to members, groups, replication entries)
	RankDirect     = 900 // direct counter and meter entries (refer to their table entry)
	RankExtern     = 950 // extern entries (architecture-specific: last)
)

// DefaultRank ranks an entity by its kind (see the Rank constants).
func DefaultRank(e *p4v1.Entity) int {
	switch e.GetEntity().(type) {
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return RankPRE
	case *p4v1.Entity_ActionProfileMember:
		return RankMember
	case *p4v1.Entity_ActionProfileGroup:
		return RankGroup
	case *p4v1.Entity_TableEntry:
		return RankTableEntry
	case *p4v1.Entity_DirectCounterEntry, *p4v1.Entity_DirectMeterEntry:
		return RankDirect
	case *p4v1.Entity_ExternEntry:
		return RankExtern
	}
	return RankCell
}

// ModifyOnly reports whether an entity exists on a target whether or not
// it was written, so that it is only ever modified: counter, meter and
// register cells, direct counter and meter entries, a table's default
// entry, value sets.
func ModifyOnly(e *p4v1.Entity) bool {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return x.TableEntry.GetIsDefaultAction()
	case *p4v1.Entity_CounterEntry, *p4v1.Entity_MeterEntry, *p4v1.Entity_RegisterEntry,
		*p4v1.Entity_DirectCounterEntry, *p4v1.Entity_DirectMeterEntry, *p4v1.Entity_ValueSetEntry:
		return true
	}
	return false
}

// Option configures Compute.
type Option func(*config)

type config struct {
	rank   Rank
	schema *schema.Schema
}

// WithRank orders the writes by r instead of DefaultRank.
func WithRank(r Rank) Option {
	return func(c *config) {
		if r != nil {
			c.rank = r
		}
	}
}

// WithSchema names entities in errors with the names of s (entity.Format)
// instead of their IDs.
func WithSchema(s *schema.Schema) Option { return func(c *config) { c.schema = s } }

// DuplicateError reports two entities of one set with the same key: a set
// must hold each entity once.
type DuplicateError struct {
	Set           string // "desired" or "actual"
	First, Second int    // their indexes in the set
	Entity        string // the entity, readable
}

// Error names the set, the indexes and the entity.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("diff: %s entities %d and %d have the same key: %s", e.Set, e.First, e.Second, e.Entity)
}

// Plan is the result of Compute: the writes that turn actual into
// desired. Its slices hold the entities of the sets given to Compute (not
// copies); do not modify them.
type Plan struct {
	Inserts  []*p4v1.Entity // ascending rank
	Modifies []*p4v1.Entity // ascending rank
	Deletes  []*p4v1.Entity // descending rank
}

// Len returns the number of writes.
func (p *Plan) Len() int {
	if p == nil {
		return 0
	}
	return len(p.Inserts) + len(p.Modifies) + len(p.Deletes)
}

// Empty reports whether the sets were equal.
func (p *Plan) Empty() bool { return p.Len() == 0 }

// Updates returns the writes in order: inserts, modifies, deletes.
func (p *Plan) Updates() []*p4v1.Update {
	if p == nil {
		return nil
	}
	out := make([]*p4v1.Update, 0, p.Len())
	for _, e := range p.Inserts {
		out = append(out, &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e})
	}
	for _, e := range p.Modifies {
		out = append(out, &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: e})
	}
	for _, e := range p.Deletes {
		out = append(out, &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e})
	}
	return out
}

// Compute returns the writes that turn actual into desired. A set holding
// two entities with the same key is a *DuplicateError; an empty entity (no
// key) is an error naming its index. Within one rank, inserts and modifies
// keep the order of desired and deletes the reverse order of actual.
func Compute(desired, actual []*p4v1.Entity, opts ...Option) (*Plan, error) {
	cfg := config{rank: DefaultRank}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	have := make(map[string]int32, len(actual))
	seen := make([]bool, len(actual))
	for i, e := range actual {
		k := entity.Key(e)
		if k == "" {
			return nil, fmt.Errorf("diff: actual entity %d is empty", i)
		}
		if prev, dup := have[k]; dup {
			return nil, &DuplicateError{Set: "actual", First: int(prev), Second: i, Entity: cfg.describe(e)}
		}
		have[k] = int32(i)
	}
	plan := &Plan{}
	var want map[string]int // only to report duplicates in desired
	for i, e := range desired {
		k := entity.Key(e)
		if k == "" {
			return nil, fmt.Errorf("diff: desired entity %d is empty", i)
		}
		if j, ok := have[k]; ok {
			if seen[j] {
				// A second desired entity with a key actual has.
				first := slices.IndexFunc(desired[:i], func(d *p4v1.Entity) bool { return entity.Key(d) == k })
				return nil, &DuplicateError{Set: "desired", First: first, Second: i, Entity: cfg.describe(e)}
			}
			seen[j] = true
			if !sameContent(e, actual[j]) {
				plan.Modifies = append(plan.Modifies, e)
			}
			continue
		}
		if want == nil {
			want = make(map[string]int, max(16, len(desired)-len(actual)))
		}
		if first, dup := want[k]; dup {
			return nil, &DuplicateError{Set: "desired", First: first, Second: i, Entity: cfg.describe(e)}
		}
		want[k] = i
		if ModifyOnly(e) {
			plan.Modifies = append(plan.Modifies, e)
		} else {
			plan.Inserts = append(plan.Inserts, e)
		}
	}
	for i := len(actual) - 1; i >= 0; i-- {
		if !seen[i] && !ModifyOnly(actual[i]) {
			plan.Deletes = append(plan.Deletes, actual[i])
		}
	}
	Order(plan.Inserts, cfg.rank, false)
	Order(plan.Modifies, cfg.rank, false)
	Order(plan.Deletes, cfg.rank, true)
	return plan, nil
}

// Updates is Compute(desired, actual, opts...).Updates().
func Updates(desired, actual []*p4v1.Entity, opts ...Option) ([]*p4v1.Update, error) {
	p, err := Compute(desired, actual, opts...)
	if err != nil {
		return nil, err
	}
	return p.Updates(), nil
}

// Order sorts entities by rank, ascending (descending when desc is set),
// keeping the order of entities of equal rank. A nil rank is DefaultRank.
func Order(es []*p4v1.Entity, rank Rank, desc bool) {
	if len(es) < 2 {
		return
	}
	if rank == nil {
		rank = DefaultRank
	}
	// Most sets have few ranks and are often sorted already: check first,
	// and compute each rank once.
	ranks := make([]int, len(es))
	sorted := true
	for i, e := range es {
		ranks[i] = rank(e)
		if i > 0 && (ranks[i] < ranks[i-1]) != desc && ranks[i] != ranks[i-1] {
			sorted = false
		}
	}
	if sorted {
		return
	}
	idx := make([]int, len(es))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if desc {
			return cmp.Compare(ranks[b], ranks[a])
		}
		return cmp.Compare(ranks[a], ranks[b])
	})
	out := make([]*p4v1.Entity, len(es))
	for i, j := range idx {
		out[i] = es[j]
	}
	copy(es, out)
}

// OrderUpdates sorts updates as Plan.Updates orders them: inserts by
// ascending rank, then modifies by ascending rank, then deletes by
// descending rank, keeping the order of updates of one type and rank.
func OrderUpdates(ups []*p4v1.Update, rank Rank) {
	if rank == nil {
		rank = DefaultRank
	}
	group := func(t p4v1.Update_Type) int {
		switch t {
		case p4v1.Update_INSERT:
			return 0
		case p4v1.Update_MODIFY:
			return 1
		}
		return 2
	}
	type ranked struct {
		u       *p4v1.Update
		g, rank int
	}
	rs := make([]ranked, len(ups))
	for i, u := range ups {
		g := group(u.GetType())
		r := rank(u.GetEntity())
		if g == 2 {
			r = -r
		}
		rs[i] = ranked{u, g, r}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.g, b.g); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	for i := range rs {
		ups[i] = rs[i].u
	}
}

func (c *config) describe(e *p4v1.Entity) string {
	if c.schema != nil {
		return entity.Format(c.schema, e)
	}
	return describeRaw(e)
}

// describeRaw names an entity without a schema.
func describeRaw(e *p4v1.Entity) string {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return fmt.Sprintf("table entry of table %d (priority %d)", x.TableEntry.GetTableId(), x.TableEntry.GetPriority())
	case *p4v1.Entity_ActionProfileMember:
		return fmt.Sprintf("member %d of action profile %d", x.ActionProfileMember.GetMemberId(), x.ActionProfileMember.GetActionProfileId())
	case *p4v1.Entity_ActionProfileGroup:
		return fmt.Sprintf("group %d of action profile %d", x.ActionProfileGroup.GetGroupId(), x.ActionProfileGroup.GetActionProfileId())
	}
	return fmt.Sprintf("%T", e.GetEntity())
}

// ErrNotFound is wrapped by Apply's errors for a MODIFY or DELETE of an
// entity the set does not hold; ErrExists for an INSERT of one it holds.
var (
	ErrNotFound = errors.New("entity not found")
	ErrExists   = errors.New("entity already exists")
)

// Apply returns the set that results from writing ups, in order, to a
// device holding set, with the checks a target makes: an INSERT of a key
// the set holds is ErrExists, a MODIFY or DELETE of a key it does not hold
// is ErrNotFound (except for ModifyOnly entities, which always exist).
// References between entities are not checked. set is not modified; the
// result keeps the order of set, with inserted entities at the end.
func Apply(set []*p4v1.Entity, ups []*p4v1.Update) ([]*p4v1.Entity, error) {
	out := slices.Clone(set)
	at := make(map[string]int, len(set)+len(ups))
	for i, e := range out {
		at[entity.Key(e)] = i
	}
	for i, u := range ups {
		e := u.GetEntity()
		k := entity.Key(e)
		if k == "" {
			return nil, fmt.Errorf("diff: update %d: empty entity", i)
		}
		j, ok := at[k]
		if ok && out[j] == nil {
			ok = false
		}
		switch u.GetType() {
		case p4v1.Update_INSERT:
			if ok {
				return nil, fmt.Errorf("diff: update %d: insert %s: %w", i, describeRaw(e), ErrExists)
			}
			at[k] = len(out)
			out = append(out, e)
		case p4v1.Update_MODIFY:
			if !ok {
				if !ModifyOnly(e) {
					return nil, fmt.Errorf("diff: update %d: modify %s: %w", i, describeRaw(e), ErrNotFound)
				}
				at[k] = len(out)
				out = append(out, e)
				continue
			}
			out[j] = e
		case p4v1.Update_DELETE:
			if !ok {
				return nil, fmt.Errorf("diff: update %d: delete %s: %w", i, describeRaw(e), ErrNotFound)
			}
			out[j] = nil
		default:
			return nil, fmt.Errorf("diff: update %d: type %v", i, u.GetType())
		}
	}
	return slices.DeleteFunc(out, func(e *p4v1.Entity) bool { return e == nil }), nil
}
