package state_test

import (
	"fmt"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/testbed/p4rt/state"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/status"
)

// A device for the bench P4Info: insert a route (its values zero-padded, as
// older clients send them), insert it again, and read the table back in
// canonical form.
func Example() {
	s, err := schema.New(p4infos.MustInfo("bench"))
	if err != nil {
		panic(err)
	}
	d := state.New(s)
	routes, _ := s.Table("routes_v4")
	setNexthop, _ := s.Action("set_nexthop")

	route := &p4v1.TableEntry{
		TableId: routes.ID,
		Match: []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Lpm{
			Lpm: &p4v1.FieldMatch_LPM{Value: []byte{10, 1, 0, 0}, PrefixLen: 16}}}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{
			ActionId: setNexthop.ID,
			Params: []*p4v1.Action_Param{
				{ParamId: 1, Value: []byte{0, 7}}, // bit<9>, padded
				{ParamId: 2, Value: []byte{0, 0, 0, 0, 0, 0xaa}},
			}}}},
	}
	insert := []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: route}}}}
	fmt.Println("first insert:", d.Write(insert, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil))

	err = d.Write(insert, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil)
	st := status.Convert(err)
	fmt.Println("second insert:", st.Code(), st.Details()[0].(*p4v1.Error).GetCanonicalCode())

	query := []*p4v1.Entity{{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: routes.ID}}}}
	_ = d.Read(query, func(es []*p4v1.Entity) error {
		for _, e := range es {
			te := e.GetTableEntry()
			lpm := te.GetMatch()[0].GetLpm()
			a := te.GetAction().GetAction()
			fmt.Printf("%v/%d -> port %x dmac %x\n", lpm.GetValue(), lpm.GetPrefixLen(), a.GetParams()[0].GetValue(), a.GetParams()[1].GetValue())
		}
		return nil
	})
	// Output:
	// first insert: <nil>
	// second insert: Unknown 6
	// [10 1 0 0]/16 -> port 07 dmac aa
}
