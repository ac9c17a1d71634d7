package diff_test

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/diff"
)

// FuzzCompute decodes two entity sets (each a p4.v1.ReadResponse) and
// checks that Compute, Equal and Canonical never panic and that, when
// Compute accepts the sets, applying its plan to actual yields desired.
// Seeds are in testdata/fuzz/FuzzCompute.
func FuzzCompute(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var desired, actual p4v1.ReadResponse
		if proto.Unmarshal(a, &desired) != nil || proto.Unmarshal(b, &actual) != nil {
			return
		}
		d, act := desired.GetEntities(), actual.GetEntities()
		for _, x := range d {
			for _, y := range act {
				_ = diff.Equal(x, y)
			}
			_ = diff.Canonical(x)
		}
		plan, err := diff.Compute(d, act)
		if err != nil {
			return
		}
		got, err := diff.Apply(act, plan.Updates())
		if err != nil {
			t.Fatalf("the plan does not apply: %v", err)
		}
		want := map[string]*p4v1.Entity{}
		for _, e := range d {
			want[entity.Key(e)] = e
		}
		for _, e := range got {
			w, ok := want[entity.Key(e)]
			if !ok {
				if !diff.ModifyOnly(e) {
					t.Fatalf("left over: %v", e)
				}
				continue
			}
			if !diff.Equal(e, w) {
				t.Fatalf("differs after the plan:\n got %v\nwant %v", e, w)
			}
			delete(want, entity.Key(e))
		}
		if len(want) != 0 {
			t.Fatalf("%d desired entities missing after the plan", len(want))
		}
	})
}
