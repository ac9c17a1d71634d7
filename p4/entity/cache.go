package entity

import (
	"strings"

	"github.com/p4fabric/fabric/p4/schema"
)

// The builder resolves names through its own index, built once by
// NewBuilder, so that the hot path does one map lookup per name and finds
// the encoding spec of every field and parameter precomputed.

// keyInfo describes the match key of a table or of a value set.
type keyInfo struct {
	fields  []fieldInfo    // P4Info order
	fieldIx map[string]int // field name → index in fields
	exact   int            // number of exact fields
}

// index returns the index of a field: a linear scan for small keys,
// faster than hashing the name.
func (ki *keyInfo) index(name string) (int, bool) {
	if len(ki.fields) <= 8 {
		for i := range ki.fields {
			if ki.fields[i].f.Name == name {
				return i, true
			}
		}
		return 0, false
	}
	i, ok := ki.fieldIx[name]
	return i, ok
}

// index returns the index of a parameter, like keyInfo.index.
func (ai *actionInfo) index(name string) (int, bool) {
	if len(ai.params) <= 8 {
		for i := range ai.params {
			if ai.params[i].p.Name == name {
				return i, true
			}
		}
		return 0, false
	}
	i, ok := ai.paramIx[name]
	return i, ok
}

type fieldInfo struct {
	f  *schema.MatchField
	sp spec
}

type tableInfo struct {
	keyInfo
	t       *schema.Table
	actions map[string]actionUse // full names and aliases of the table's actions
}

type actionUse struct {
	ref *schema.ActionRef
	ai  *actionInfo
}

type actionInfo struct {
	a       *schema.Action
	params  []paramInfo
	paramIx map[string]int
}

type paramInfo struct {
	p  *schema.Param
	sp spec
}

type valueSetInfo struct {
	keyInfo
	vs *schema.ValueSet
}

type index struct {
	tables      map[string]*tableInfo // full names and aliases
	tablesByID  map[uint32]*tableInfo
	actionsByID map[uint32]*actionInfo
	valueSets   map[uint32]*valueSetInfo
}

func newKeyInfo(fields []*schema.MatchField) keyInfo {
	ki := keyInfo{fields: make([]fieldInfo, len(fields)), fieldIx: make(map[string]int, len(fields))}
	for i, f := range fields {
		ki.fields[i] = fieldInfo{f: f, sp: matchSpec(f)}
		ki.fieldIx[f.Name] = i
		if f.Kind == schema.Exact {
			ki.exact++
		}
	}
	return ki
}

func newIndex(s *schema.Schema) *index {
	x := &index{tables: map[string]*tableInfo{}, tablesByID: map[uint32]*tableInfo{},
		actionsByID: map[uint32]*actionInfo{}, valueSets: map[uint32]*valueSetInfo{}}
	if s == nil {
		return x
	}
	for _, a := range s.Actions() {
		ai := &actionInfo{a: a, params: make([]paramInfo, len(a.Params)), paramIx: make(map[string]int, len(a.Params))}
		for i, p := range a.Params {
			ai.params[i] = paramInfo{p: p, sp: paramSpec(a, p)}
			ai.paramIx[p.Name] = i
		}
		x.actionsByID[a.ID] = ai
	}
	for _, t := range s.Tables() {
		ti := &tableInfo{keyInfo: newKeyInfo(t.Fields), t: t, actions: make(map[string]actionUse, 2*len(t.Actions))}
		names := make([]string, len(t.Actions))
		for i, r := range t.Actions {
			u := actionUse{ref: r, ai: x.actionsByID[r.Action.ID]}
			ti.actions[r.Action.Name] = u
			names[i] = r.Action.Name
		}
		for _, r := range t.Actions {
			if r.Action.Alias != "" {
				if _, taken := ti.actions[r.Action.Alias]; !taken {
					ti.actions[r.Action.Alias] = actionUse{ref: r, ai: x.actionsByID[r.Action.ID]}
				}
			}
		}
		for suffix, i := range uniqueSuffixes(names) {
			if _, taken := ti.actions[suffix]; !taken {
				r := t.Actions[i]
				ti.actions[suffix] = actionUse{ref: r, ai: x.actionsByID[r.Action.ID]}
			}
		}
		x.tablesByID[t.ID] = ti
		x.tables[t.Name] = ti
	}
	names := make([]string, len(s.Tables()))
	for i, t := range s.Tables() {
		names[i] = t.Name
		if t.Alias != "" {
			if _, taken := x.tables[t.Alias]; !taken {
				x.tables[t.Alias] = x.tablesByID[t.ID]
			}
		}
	}
	for suffix, i := range uniqueSuffixes(names) {
		if _, taken := x.tables[suffix]; !taken {
			x.tables[suffix] = x.tablesByID[s.Tables()[i].ID]
		}
	}
	for _, vs := range s.ValueSets() {
		x.valueSets[vs.ID] = &valueSetInfo{keyInfo: newKeyInfo(vs.Fields), vs: vs}
	}
	return x
}

// table resolves a table by name through the index, falling back to the
// schema for unique suffixes.
func (b *Builder) table(name string) (*tableInfo, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	if ti := b.x.tables[name]; ti != nil {
		return ti, nil
	}
	t, err := b.s.Table(strings.Clone(name))
	if err != nil {
		return nil, errAt(schema.KindTable, name, "", "", "", err)
	}
	return b.x.tablesByID[t.ID], nil
}

// action resolves an action the table may use.
func (ti *tableInfo) action(b *Builder, name string) (actionUse, error) {
	if u, ok := ti.actions[name]; ok {
		return u, nil
	}
	r, err := ti.t.Action(strings.Clone(name))
	if err != nil {
		return actionUse{}, err
	}
	return actionUse{ref: r, ai: b.x.actionsByID[r.Action.ID]}, nil
}

// uniqueSuffixes maps every dotted suffix ("b.c" and "c" of "a.b.c") that
// ends exactly one of names to that name's index: the names a schema
// lookup resolves by suffix. Full names and aliases take precedence over
// them (the caller adds those first).
func uniqueSuffixes(names []string) map[string]int {
	count := map[string]int{}
	owner := map[string]int{}
	for i, n := range names {
		for j := 0; j < len(n); j++ {
			if n[j] == '.' && j+1 < len(n) {
				count[n[j+1:]]++
				owner[n[j+1:]] = i
			}
		}
	}
	out := make(map[string]int, len(count))
	for suffix, c := range count {
		if c == 1 {
			out[suffix] = owner[suffix]
		}
	}
	return out
}
