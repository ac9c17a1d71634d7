package txn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/orchestrator/goal"
)

// footprint is what a goal may touch on one box: its pipeconf, the wildcard
// reads that cover its entities and the paths of its gNMI leaves. It is all
// that restoring the box needs of the goal being replaced (Sync's cover
// uses nothing else), so Commit journals the footprints, which are small,
// before it sends anything, and the goals themselves, which take far longer
// to encode, with the outcome.
type footprint struct {
	Pipeconf string   `json:"pipeconf,omitempty"`
	Reads    [][]byte `json:"reads,omitempty"` // binary protobuf p4.v1.Entity
	Paths    []string `json:"paths,omitempty"`
}

func footprintOf(g *goal.Goal) (footprint, error) {
	f := footprint{Pipeconf: g.Pipeconf}
	for _, e := range Wildcards(g) {
		b, err := proto.Marshal(e)
		if err != nil {
			return f, err
		}
		f.Reads = append(f.Reads, b)
	}
	for _, l := range g.Config {
		f.Paths = append(f.Paths, l.Path)
	}
	return f, nil
}

// cover returns a goal that, as Sync's cover, owns what f says: its
// entities are the wildcard reads and its leaves have no values. It is not
// a goal to apply.
func (f footprint) cover(box string) (*goal.Goal, error) {
	g := &goal.Goal{Box: box, Pipeconf: f.Pipeconf}
	for i, b := range f.Reads {
		e := new(p4v1.Entity)
		if err := proto.Unmarshal(b, e); err != nil {
			return nil, fmt.Errorf("footprint of %s: read %d: %w", box, i, err)
		}
		g.Entities = append(g.Entities, e)
	}
	for _, p := range f.Paths {
		g.Config = append(g.Config, goal.Leaf{Path: p})
	}
	return g, nil
}

func encodeFootprints(goals map[string]*goal.Goal) ([]byte, error) {
	fs := make(map[string]footprint, len(goals))
	for box, g := range goals {
		f, err := footprintOf(g)
		if err != nil {
			return nil, fmt.Errorf("box %s: %w", box, err)
		}
		fs[box] = f
	}
	return json.Marshal(fs)
}

// loadCovers reads the footprints journaled with transaction id, as goals
// to cover.
func (c *Coordinator) loadCovers(ctx context.Context, id string) (map[string]*goal.Goal, error) {
	kv, err := c.st.Get(ctx, c.keyFootprint(id))
	if err != nil {
		return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
	}
	var fs map[string]footprint
	if err := json.Unmarshal(kv.Value, &fs); err != nil {
		return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
	}
	out := make(map[string]*goal.Goal, len(fs))
	for box, f := range fs {
		if out[box], err = f.cover(box); err != nil {
			return nil, fmt.Errorf("txn %s: %w", id, err)
		}
	}
	return out, nil
}

// encodeGoals encodes goals as a JSON object by box, the boxes' goals on
// as many goroutines as there are CPUs. Each goal is encoded by its own
// MarshalJSON: json.Marshal of the whole map would validate and compact
// the goals' (already compact) encodings once more.
func encodeGoals(goals map[string]*goal.Goal) ([]byte, error) {
	boxes := boxesOf(goals)
	enc := make([][]byte, len(boxes))
	errs := make([]error, len(boxes))
	next := make(chan int, len(boxes))
	for i := range boxes {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(boxes)) {
		wg.Go(func() {
			for i := range next {
				if g := goals[boxes[i]]; g != nil {
					enc[i], errs[i] = g.MarshalJSON()
				} else {
					enc[i] = []byte("null")
				}
			}
		})
	}
	wg.Wait()
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, box := range boxes {
		if errs[i] != nil {
			return nil, fmt.Errorf("box %s: %w", box, errs[i])
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(box)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(enc[i])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
