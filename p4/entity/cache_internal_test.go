package entity

import (
	"strings"
	"testing"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
)

// TestIndexResolvesLikeSchema checks that the builder's name index
// resolves every full name, alias and dotted suffix of tables and of each
// table's actions exactly as the schema does.
func TestIndexResolvesLikeSchema(t *testing.T) {
	for _, name := range p4infos.Names() {
		s, err := schema.New(p4infos.MustInfo(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := NewBuilder(s)
		var tableNames []string
		for _, tb := range s.Tables() {
			tableNames = append(tableNames, candidates(tb.Name, tb.Alias)...)
		}
		for _, n := range tableNames {
			want, werr := s.Table(n)
			got, gerr := b.table(n)
			if (werr == nil) != (gerr == nil) || (werr == nil && got.t != want) {
				t.Errorf("%s: table %q: builder %v (%v), schema %v (%v)", name, n, got, gerr, want, werr)
			}
		}
		for _, tb := range s.Tables() {
			ti := b.x.tablesByID[tb.ID]
			var names []string
			for _, r := range tb.Actions {
				names = append(names, candidates(r.Action.Name, r.Action.Alias)...)
			}
			for _, n := range names {
				want, werr := tb.Action(n)
				got, gerr := ti.action(b, n)
				if (werr == nil) != (gerr == nil) || (werr == nil && got.ref != want) {
					t.Errorf("%s: table %s action %q: builder %v (%v), schema %v (%v)", name, tb.Name, n, got.ref, gerr, want, werr)
				}
			}
		}
	}
}

// candidates returns a name, its alias and all its dotted suffixes.
func candidates(name, alias string) []string {
	out := []string{name, alias}
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			out = append(out, name[i+1:])
		}
	}
	out = append(out, strings.ToUpper(name), "x."+name)
	return out
}
