package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// ErrNotInstalled is wrapped by State.Remove for an objective that is not
// installed.
var ErrNotInstalled = errors.New("objective not installed")

// ConflictError says that two objectives need the same entity (same
// entity.Key) with different contents: two next hops with the same ID
// and different ports, or two IDs that a pipeliner hashed to the same
// object ID.
type ConflictError struct {
	// Objective is the objective being added; Other the objective that
	// holds the entity (installed, or added earlier in the same call).
	Objective, Other objective.Objective
	// Entity is the entity in question (its readable form), as Other
	// has it.
	Entity string
}

// Error names both objectives and the entity.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s conflicts with %s %s: both need %s with different contents",
		e.Objective.Kind(), e.Objective.Key(), e.Other.Kind(), e.Other.Key(), e.Entity)
}

// State is the set of objectives installed on one device and of the
// entities that realise them, with the number of objectives that use
// each entity, so that an entity shared by several objectives (a next
// hop used by two routes) is written once and removed with its last user.
//
// Add and Remove return the P4Runtime updates that take the device from
// the previous state to the new one and change the State only when they
// succeed; the caller writes the updates. Updates come ordered by the
// pipeliner's Rank: inserts ascending, then modifies, then deletes
// descending, so that no write refers to an entity not yet written and no
// delete takes away an entity still referred to. The entities in updates
// and in Entities are shared with the State: do not modify them.
//
// A State is safe for concurrent use.
type State struct {
	mu   sync.Mutex
	p    Pipeliner
	objs map[objID]*installed
	ents map[string]*held
	seq  uint64
}

// objID identifies an objective: its kind and key.
type objID struct {
	kind objective.Kind
	key  string
}

func idOf(o objective.Objective) objID { return objID{o.Kind(), o.Key()} }

type installed struct {
	obj  objective.Objective
	keys []string // entity keys, in translation order, each once
	seq  uint64
}

type held struct {
	e     *p4v1.Entity
	users int
	rank  int
	seq   uint64
}

// NewState returns an empty State for a device whose program p
// translates for.
func NewState(p Pipeliner) *State {
	return &State{p: p, objs: map[objID]*installed{}, ents: map[string]*held{}}
}

// Pipeliner returns the pipeliner the State translates with.
func (s *State) Pipeliner() Pipeliner { return s.p }

// translated is one objective of an Add call with its entities.
type translated struct {
	id   objID
	obj  objective.Objective
	ents []*p4v1.Entity
	keys []string
}

// change is what happens to one entity in an Add or Remove call.
type change struct {
	old   *held        // before the call; nil when the entity is new
	e     *p4v1.Entity // content after the call
	users int          // users after the call
	by    int          // index of the objective of the call that first acquired it, or -1
}

// Add installs objectives: it validates and translates each, and returns
// the updates that write the entities they need and the device does not
// have yet. An objective with the kind and key of an installed one
// replaces it: the updates then insert, modify and delete what differs
// between the two. Two objectives that need the same entity with
// different contents are a *ConflictError, unless the objective that
// holds the entity is replaced in the same call (to change a next hop
// shared by several routes, add all of them again at once). An objective
// the program cannot express is an *objective.UnsupportedError. On error
// the State is unchanged.
func (s *State) Add(objs ...objective.Objective) ([]*p4v1.Update, error) {
	if s == nil || s.p == nil {
		return nil, errors.New("pipeline: State without a pipeliner (use NewState)")
	}
	ts := make([]translated, 0, len(objs))
	index := make(map[objID]int, len(objs))
	for i, o := range objs {
		if o = objective.Value(o); o == nil {
			return nil, fmt.Errorf("pipeline: objective %d is nil", i)
		}
		id := idOf(o)
		if j, dup := index[id]; dup {
			return nil, fmt.Errorf("pipeline: objectives %d and %d are the same %s (%s)", j, i, id.kind, id.key)
		}
		index[id] = i
		t, err := s.translate(o)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	changes := map[string]*change{}
	var order []string // keys in the order first touched
	get := func(k string) *change {
		c, ok := changes[k]
		if !ok {
			c = &change{by: -1}
			if h := s.ents[k]; h != nil {
				c.old, c.e, c.users = h, h.e, h.users
			}
			changes[k] = c
			order = append(order, k)
		}
		return c
	}
	// Release what the replaced objectives hold, then acquire.
	for _, t := range ts {
		if prev := s.objs[t.id]; prev != nil {
			for _, k := range prev.keys {
				get(k).users--
			}
		}
	}
	for i, t := range ts {
		for j, k := range t.keys {
			c := get(k)
			e := t.ents[j]
			if c.users > 0 && c.e != e && !diff.Equal(c.e, e) {
				other := s.holder(k, c, ts, index)
				return nil, &ConflictError{Objective: t.obj, Other: other, Entity: entity.Format(s.schemaOf(), c.e)}
			}
			if c.users == 0 {
				if c.old == nil || c.e != e && !diff.Equal(c.e, e) {
					c.e = e
				}
				c.by = i
			}
			c.users++
		}
	}

	var ups []*p4v1.Update
	for _, k := range order {
		c := changes[k]
		switch {
		case c.old == nil && c.users > 0:
			ups = append(ups, insertUpdate(c.e))
		case c.old != nil && c.users > 0 && c.e != c.old.e:
			ups = append(ups, &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: c.e})
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		if c := changes[order[i]]; c.old != nil && c.users <= 0 {
			if u := deleteUpdate(c.old.e); u != nil {
				ups = append(ups, u)
			}
		}
	}
	diff.OrderUpdates(ups, s.p.Rank)

	// Commit.
	for _, k := range order {
		c := changes[k]
		switch {
		case c.users <= 0:
			delete(s.ents, k)
		case c.old == nil:
			s.seq++
			s.ents[k] = &held{e: c.e, users: c.users, rank: s.p.Rank(c.e), seq: s.seq}
		default:
			if c.e != c.old.e {
				c.old.e, c.old.rank = c.e, s.p.Rank(c.e)
			}
			c.old.users = c.users
		}
	}
	for _, t := range ts {
		s.seq++
		s.objs[t.id] = &installed{obj: t.obj, keys: t.keys, seq: s.seq}
	}
	return ups, nil
}

// translate validates and translates one objective, and keys its
// entities.
func (s *State) translate(o objective.Objective) (translated, error) {
	id := idOf(o)
	if err := o.Validate(); err != nil {
		return translated{}, fmt.Errorf("pipeline: %s %s: %w", id.kind, id.key, err)
	}
	es, err := s.p.Translate(o)
	if err != nil {
		var ue *objective.UnsupportedError
		if errors.As(err, &ue) {
			return translated{}, err
		}
		return translated{}, fmt.Errorf("pipeline: %s %s on %s: %w", id.kind, id.key, s.p.Program(), err)
	}
	t := translated{id: id, obj: o, ents: make([]*p4v1.Entity, 0, len(es)), keys: make([]string, 0, len(es))}
	var seen map[string]int
	if len(es) > 4 {
		seen = make(map[string]int, len(es))
	}
	for i, e := range es {
		k := entity.Key(e)
		if k == "" {
			return translated{}, fmt.Errorf("pipeline: %s %s on %s: entity %d is empty", id.kind, id.key, s.p.Program(), i)
		}
		j := -1
		if seen != nil {
			if at, ok := seen[k]; ok {
				j = at
			}
		} else {
			j = slices.Index(t.keys, k)
		}
		if j >= 0 {
			if !diff.Equal(t.ents[j], e) {
				return translated{}, fmt.Errorf("pipeline: %s %s on %s: two different entities with the same key: %s",
					id.kind, id.key, s.p.Program(), entity.Format(s.schemaOf(), e))
			}
			continue
		}
		if seen != nil {
			seen[k] = len(t.keys)
		}
		t.ents = append(t.ents, e)
		t.keys = append(t.keys, k)
	}
	return t, nil
}

// holder returns an objective that holds the entity with key k after
// the releases of the current call: the first one of the call that
// acquired it, or else an installed one that is not being replaced.
func (s *State) holder(k string, c *change, ts []translated, index map[objID]int) objective.Objective {
	if c.by >= 0 {
		return ts[c.by].obj
	}
	for id, in := range s.objs {
		if _, replaced := index[id]; replaced {
			continue
		}
		if slices.Contains(in.keys, k) {
			return in.obj
		}
	}
	return unknownObjective{}
}

// Schemer is implemented by pipeliners that expose the schema they
// translate for; State and diff then name entities in errors with the
// program's names instead of IDs.
type Schemer interface {
	Schema() *schema.Schema
}

// schemaOf returns the pipeliner's schema, or nil.
func (s *State) schemaOf() *schema.Schema {
	if x, ok := s.p.(Schemer); ok {
		return x.Schema()
	}
	return nil
}

// Remove uninstalls objectives, identified by kind and key (their other
// contents are ignored), and returns the updates that delete exactly the
// entities they added that no other objective uses, in descending rank.
// An objective that is not installed is an error wrapping
// ErrNotInstalled. On error the State is unchanged.
func (s *State) Remove(objs ...objective.Objective) ([]*p4v1.Update, error) {
	if s == nil || s.p == nil {
		return nil, errors.New("pipeline: State without a pipeliner (use NewState)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]objID, 0, len(objs))
	seen := make(map[objID]int, len(objs))
	for i, o := range objs {
		if o = objective.Value(o); o == nil {
			return nil, fmt.Errorf("pipeline: objective %d is nil", i)
		}
		id := idOf(o)
		if j, dup := seen[id]; dup {
			return nil, fmt.Errorf("pipeline: objectives %d and %d are the same %s (%s)", j, i, id.kind, id.key)
		}
		seen[id] = i
		if s.objs[id] == nil {
			return nil, fmt.Errorf("pipeline: %s %s: %w", id.kind, id.key, ErrNotInstalled)
		}
		ids = append(ids, id)
	}
	left := map[string]int{}
	var order []string
	for _, id := range ids {
		for _, k := range s.objs[id].keys {
			n, ok := left[k]
			if !ok {
				n = s.ents[k].users
				order = append(order, k)
			}
			left[k] = n - 1
		}
	}
	var ups []*p4v1.Update
	for i := len(order) - 1; i >= 0; i-- {
		k := order[i]
		if left[k] <= 0 {
			if u := deleteUpdate(s.ents[k].e); u != nil {
				ups = append(ups, u)
			}
		}
	}
	diff.OrderUpdates(ups, s.p.Rank)
	for _, k := range order {
		if left[k] <= 0 {
			delete(s.ents, k)
		} else {
			s.ents[k].users = left[k]
		}
	}
	for _, id := range ids {
		delete(s.objs, id)
	}
	return ups, nil
}

// Objectives returns the installed objectives in the order they were
// (last) added.
func (s *State) Objectives() []objective.Objective {
	s.mu.Lock()
	defer s.mu.Unlock()
	ins := make([]*installed, 0, len(s.objs))
	for _, in := range s.objs {
		ins = append(ins, in)
	}
	slices.SortFunc(ins, func(a, b *installed) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]objective.Objective, len(ins))
	for i, in := range ins {
		out[i] = in.obj
	}
	return out
}

// Entities returns the entities the installed objectives need (the
// desired state of the device), each once, in Rank order (the order to
// insert them), entities of one rank in the order they were first added.
func (s *State) Entities() []*p4v1.Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := make([]*held, 0, len(s.ents))
	for _, h := range s.ents {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b *held) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]*p4v1.Entity, len(hs))
	for i, h := range hs {
		out[i] = h.e
	}
	return out
}

// Users returns how many installed objectives use the entity with the key
// entity.Key(e) (0 when none does).
func (s *State) Users(e *p4v1.Entity) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.ents[entity.Key(e)]; h != nil {
		return h.users
	}
	return 0
}

// Reconcile returns the writes that turn what a device has (actual, read
// back from it) into the State's entities, ordered by the pipeliner's
// Rank (see package diff). Entities of actual that no objective needs are
// deleted, so pass only what the State manages (its tables, its role).
func (s *State) Reconcile(actual []*p4v1.Entity) (*diff.Plan, error) {
	return diff.Compute(s.Entities(), actual, diff.WithRank(s.p.Rank), diff.WithSchema(s.schemaOf()))
}

// insertUpdate writes a new entity: an INSERT, or a MODIFY for entities
// a target has whether or not they are written (a default entry, a
// counter cell: diff.ModifyOnly).
func insertUpdate(e *p4v1.Entity) *p4v1.Update {
	if diff.ModifyOnly(e) {
		return &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: e}
	}
	return &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}
}

// deleteUpdate removes an entity: a DELETE; for a default entry, a MODIFY
// without action, which restores the program's default action; nothing
// for other entities that cannot be deleted (counter and meter cells
// keep their last value).
func deleteUpdate(e *p4v1.Entity) *p4v1.Update {
	if !diff.ModifyOnly(e) {
		return &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e}
	}
	if te := e.GetTableEntry(); te.GetIsDefaultAction() {
		return &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: entity.Wrap(&p4v1.TableEntry{TableId: te.GetTableId(), IsDefaultAction: true})}
	}
	return nil
}

// unknownObjective stands for a holder that cannot be found (it cannot
// happen with a consistent State; it keeps the error printable).
type unknownObjective struct{}

func (unknownObjective) Kind() objective.Kind { return "unknown" }
func (unknownObjective) Key() string          { return "" }
func (unknownObjective) Validate() error      { return nil }
