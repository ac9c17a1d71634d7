package pipeline_test

import (
	"fmt"
	"log"
	"net/netip"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// Two routes through one next hop on ONOS basic.p4: the next hop's
// entities are written with the first route and deleted with the last.
func Example() {
	pc, err := builtin.Get("onos-basic")
	if err != nil {
		log.Fatal(err)
	}
	p, err := pc.Pipeliner()
	if err != nil {
		log.Fatal(err)
	}
	st := pipeline.NewState(p)
	nh := &objective.NextHop{ID: "1", Port: 1}
	r1 := objective.Route{Prefix: netip.MustParsePrefix("10.0.1.0/24"), Target: objective.Target{NextHop: nh}}
	r2 := objective.Route{Prefix: netip.MustParsePrefix("10.0.2.0/24"), Target: objective.Target{NextHop: nh}}

	show := func(what string, objs ...objective.Objective) {
		var err error
		var ups []*p4v1.Update
		if what == "add" {
			ups, err = st.Add(objs...)
		} else {
			ups, err = st.Remove(objs...)
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(what, objs[0].(objective.Route).Prefix)
		for _, u := range ups {
			r, _ := entity.Describe(pc.Schema, u.GetEntity())
			fmt.Println(" ", u.GetType(), r.Kind, r.Name)
		}
	}
	show("add", r1)
	show("add", r2)
	show("remove", r1)
	show("remove", r2)
	// Output:
	// add 10.0.1.0/24
	//   INSERT action_profile_member ingress.wcmp_control.wcmp_selector
	//   INSERT table_entry ingress.wcmp_control.wcmp_table
	//   INSERT table_entry ingress.table0_control.table0
	// add 10.0.2.0/24
	//   INSERT table_entry ingress.table0_control.table0
	// remove 10.0.1.0/24
	//   DELETE table_entry ingress.table0_control.table0
	// remove 10.0.2.0/24
	//   DELETE table_entry ingress.table0_control.table0
	//   DELETE table_entry ingress.wcmp_control.wcmp_table
	//   DELETE action_profile_member ingress.wcmp_control.wcmp_selector
}
