package diff_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/diff"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// A device that has a route to next hop 1 should have it through next
// hop 2: the plan inserts next hop 2's member and wcmp_table entry,
// modifies the route and deletes next hop 1's entities, in that order.
func Example() {
	pc, err := builtin.Get("onos-basic")
	if err != nil {
		log.Fatal(err)
	}
	p, err := pc.Pipeliner()
	if err != nil {
		log.Fatal(err)
	}
	route := func(nh uint32) objective.Route {
		return objective.Route{Prefix: netip.MustParsePrefix("10.0.1.0/24"),
			Target: objective.Target{NextHop: &objective.NextHop{ID: fmt.Sprint(nh), Port: nh}}}
	}
	actual, err := p.Translate(route(1))
	if err != nil {
		log.Fatal(err)
	}
	desired, err := p.Translate(route(2))
	if err != nil {
		log.Fatal(err)
	}
	plan, err := diff.Compute(desired, actual, diff.WithRank(p.Rank))
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range plan.Updates() {
		r, _ := entity.Describe(pc.Schema, u.GetEntity())
		fmt.Println(u.GetType(), r.Name)
	}
	// Output:
	// INSERT ingress.wcmp_control.wcmp_selector
	// INSERT ingress.wcmp_control.wcmp_table
	// MODIFY ingress.table0_control.table0
	// DELETE ingress.wcmp_control.wcmp_table
	// DELETE ingress.wcmp_control.wcmp_selector
}
