package sai_test

import (
	"fmt"
	"math/big"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/pipeline/sai"
)

// The emulated switch validates entities against the P4Info only; a PINS
// switch also enforces SAI-P4's @refers_to relations (p4-constraints). These
// tests check them on the translations: every value a translated entity
// refers to is the key of an entity of the same translation, placed before
// it and ranked lower — except vrf_id "", the default VRF, which always
// exists.

// keyIndex records, for each (table, field), the values the entities of
// a translation have there, with the position of the first one.
type keyIndex map[[2]string]map[string]int

func (x keyIndex) add(table, field string, v []byte, at int) {
	k := [2]string{table, field}
	if x[k] == nil {
		x[k] = map[string]int{}
	}
	if _, ok := x[k][string(v)]; !ok {
		x[k][string(v)] = at
	}
}

func canon(v []byte) string {
	return string(new(big.Int).SetBytes(v).Bytes())
}

// checkRefs checks the references of one translation and returns how many
// it checked.
func checkRefs(errorf func(format string, args ...any), p *sai.Pipeliner, what string, es []*p4v1.Entity) int {
	s := p.Schema()
	x := keyIndex{}
	neighbors := map[string]bool{} // router interface + "\x00" + neighbor
	for i, e := range es {
		if te := e.GetTableEntry(); te != nil {
			tb := s.TableByID(te.TableId)
			for _, m := range te.Match {
				f := tb.FieldByID(m.FieldId)
				switch {
				case m.GetExact() != nil:
					x.add(tb.Name, f.Name, m.GetExact().Value, i)
				case m.GetOptional() != nil:
					x.add(tb.Name, f.Name, m.GetOptional().Value, i)
				}
			}
			if tb.Alias == "neighbor_table" {
				neighbors[string(te.Match[0].GetExact().Value)+"\x00"+canon(te.Match[1].GetExact().Value)] = true
			}
		}
		if g := e.GetPacketReplicationEngineEntry().GetMulticastGroupEntry(); g != nil {
			x.add("builtin::multicast_group_table", "multicast_group_id", big.NewInt(int64(g.MulticastGroupId)).Bytes(), i)
		}
	}
	lookup := func(table, field string, v []byte, str bool) (int, bool) {
		vals := x[[2]string{table, field}]
		if str {
			at, ok := vals[string(v)]
			return at, ok
		}
		for k, at := range vals {
			if canon([]byte(k)) == canon(v) {
				return at, true
			}
		}
		return 0, false
	}
	checked := 0
	check := func(i int, r sai.Reference, v []byte, str bool) {
		if r.To == "ingress.routing_lookup.vrf_table" && len(v) == 0 {
			return // the default VRF
		}
		checked++
		at, ok := lookup(r.To, r.Key, v, str)
		switch {
		case !ok:
			errorf("%s: %s refers to %s.%s = %q, which the translation does not have", what, entity.Format(s, es[i]), r.To, r.Key, v)
		case at >= i:
			errorf("%s: %s comes before the %s entry it refers to", what, entity.Format(s, es[i]), r.To)
		case p.Rank(es[at]) >= p.Rank(es[i]):
			errorf("%s: %s ranks %d, not above the %s entry it refers to (%d)", what, entity.Format(s, es[i]), p.Rank(es[i]), r.To, p.Rank(es[at]))
		}
	}
	refs := sai.References(s)
	for i, e := range es {
		if g := e.GetPacketReplicationEngineEntry().GetMulticastGroupEntry(); g != nil {
			for _, r := range refs {
				if r.From != "builtin::multicast_group_table" {
					continue
				}
				for _, rep := range g.Replicas {
					switch r.Field {
					case "replica.port":
						check(i, r, rep.GetPort(), true)
					case "replica.instance":
						check(i, r, big.NewInt(int64(rep.Instance)).Bytes(), false)
					}
				}
			}
			continue
		}
		te := e.GetTableEntry()
		if te == nil {
			continue
		}
		tb := s.TableByID(te.TableId)
		actions := actionsOf(te)
		for _, r := range refs {
			if r.From != tb.Name {
				continue
			}
			if r.Action == "" {
				f, _ := tb.Field(r.Field)
				for _, m := range te.Match {
					if m.FieldId != f.ID {
						continue
					}
					v := m.GetExact().GetValue()
					if m.GetOptional() != nil {
						v = m.GetOptional().Value
					}
					check(i, r, v, isString(f.Translated))
				}
				continue
			}
			for _, a := range actions {
				act := s.ActionByID(a.ActionId)
				if act.Name != r.Action {
					continue
				}
				pp, _ := act.Param(r.Field)
				for _, ap := range a.Params {
					if ap.ParamId == pp.ID {
						check(i, r, ap.Value, isString(pp.Translated))
					}
				}
			}
		}
		// set_ip_nexthop refers to the pair (router interface, neighbor).
		for _, a := range actions {
			if s.ActionByID(a.ActionId).Alias != "set_ip_nexthop" {
				continue
			}
			checked++
			if !neighbors[string(a.Params[0].Value)+"\x00"+canon(a.Params[1].Value)] {
				errorf("%s: %s names no neighbor_table entry (router_interface_id, neighbor_id)", what, entity.Format(s, e))
			}
		}
	}
	return checked
}

func isString(tr *schema.Translation) bool { return tr != nil && tr.SDNString }

func actionsOf(te *p4v1.TableEntry) []*p4v1.Action {
	switch x := te.GetAction().GetType().(type) {
	case *p4v1.TableAction_Action:
		return []*p4v1.Action{x.Action}
	case *p4v1.TableAction_ActionProfileActionSet:
		var out []*p4v1.Action
		for _, a := range x.ActionProfileActionSet.ActionProfileActions {
			out = append(out, a.Action)
		}
		return out
	}
	return nil
}

// TestRefersTo checks SAI-P4's @refers_to relations on the translation of
// every supported objective, on its own.
func TestRefersTo(t *testing.T) {
	p := newPipeliner(t)
	objs := append(supported(),
		objective.Route{Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: hop(leaf2)}},
		objective.Route{Prefix: pfx("10.0.0.0/8"), Target: objective.Target{Group: &spines}})
	checked := 0
	for _, o := range objs {
		es, err := p.Translate(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.Kind(), o.Key(), err)
		}
		checked += checkRefs(t.Errorf, p, fmt.Sprintf("%s %s", o.Kind(), o.Key()), es)
	}
	if checked < 50 {
		t.Errorf("only %d references checked", checked)
	}
}

// TestRefersToCatches makes sure the check is not vacuous: a route whose
// next hop is missing from the translation fails it.
func TestRefersToCatches(t *testing.T) {
	p := newPipeliner(t)
	es, err := p.Translate(objective.Route{VRF: "blue", Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: hop(leaf2)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, drop := range []int{0, 1, 2, 3} { // vrf, router interface, neighbor, next hop
		broken := append(append([]*p4v1.Entity(nil), es[:drop]...), es[drop+1:]...)
		failures := 0
		checkRefs(func(string, ...any) { failures++ }, p, "broken", broken)
		if failures == 0 {
			t.Errorf("dropping entity %d (%s) went unnoticed", drop, entity.Format(p.Schema(), es[drop]))
		}
	}
}
