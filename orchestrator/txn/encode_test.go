package txn

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/orchestrator/goal"
)

// TestGoalEncoder: the goals encode to a JSON document per box that
// decodes to the same goal, whichever boxes were started (several times, from
// several goroutines, as Sync's BeforeChange may) before the result.
func TestGoalEncoder(t *testing.T) {
	goals := map[string]*goal.Goal{}
	for i := range 5 {
		box := fmt.Sprintf("box%d", i)
		g := &goal.Goal{Box: box, Pipeconf: "p", Config: []goal.Leaf{{Path: "/x", Value: i}}}
		for j := range i * 3 {
			g.Entities = append(g.Entities, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: uint32(j + 1), Priority: int32(i)}}})
		}
		goals[box] = g
	}
	goals[`odd "box"`] = &goal.Goal{Box: `odd "box"`}
	for _, started := range [][]string{nil, {"box1", "box3"}, {"box0", "box1", "box2", "box3", "box4", `odd "box"`}} {
		t.Run(fmt.Sprint(len(started)), func(t *testing.T) {
			e := newGoalEncoder(goals)
			var wg sync.WaitGroup
			for _, box := range started {
				for range 3 {
					wg.Go(func() { e.start(box) })
				}
			}
			wg.Wait()
			data, err := e.result()
			if err != nil {
				t.Fatal(err)
			}
			back := map[string]*goal.Goal{}
			for box, d := range data {
				back[box] = new(goal.Goal)
				if err := json.Unmarshal(d, back[box]); err != nil {
					t.Fatalf("%s: %v: %s", box, err, d)
				}
			}
			if len(back) != len(goals) {
				t.Fatalf("%d goals back, want %d", len(back), len(goals))
			}
			for box, g := range goals {
				b := back[box]
				if b == nil || b.Box != g.Box || b.Pipeconf != g.Pipeconf || len(b.Config) != len(g.Config) || len(b.Entities) != len(g.Entities) {
					t.Fatalf("goal %s back = %+v, want %+v", box, b, g)
				}
				for i := range g.Entities {
					if !proto.Equal(b.Entities[i], g.Entities[i]) {
						t.Errorf("goal %s entity %d = %v, want %v", box, i, b.Entities[i], g.Entities[i])
					}
				}
			}
		})
	}
}
