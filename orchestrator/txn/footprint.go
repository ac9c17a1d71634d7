package txn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// goalEncoder encodes the goals of a commit for the journal (a JSON
// object by box), each box's goal on its own goroutine from the moment the
// box has been read back: at its first change, or when its Sync ends.
// Encoding every goal when the commit starts took the CPUs the boxes'
// read-backs need (on a 2-core machine the encoding of 4 small goals
// delayed the reads by a millisecond); once a box writes, it mostly waits
// for the box to answer.
type goalEncoder struct {
	goals map[string]*goal.Goal
	mu    sync.Mutex
	boxes map[string]*encodedGoal
}

type encodedGoal struct {
	done chan struct{}
	data []byte
	err  error
}

func newGoalEncoder(goals map[string]*goal.Goal) *goalEncoder {
	return &goalEncoder{goals: goals, boxes: make(map[string]*encodedGoal, len(goals))}
}

// start encodes box's goal in the background, once.
func (e *goalEncoder) start(box string) {
	e.mu.Lock()
	if _, ok := e.boxes[box]; ok {
		e.mu.Unlock()
		return
	}
	eg := &encodedGoal{done: make(chan struct{})}
	e.boxes[box] = eg
	e.mu.Unlock()
	go func() {
		defer close(eg.done)
		if g := e.goals[box]; g != nil {
			eg.data, eg.err = g.MarshalJSON()
		} else {
			eg.data = []byte("null")
		}
	}()
}

// result encodes the goals not started yet, waits for all and returns the
// JSON object by box. Each goal is encoded by its own MarshalJSON:
// json.Marshal of the whole map would validate and compact the goals'
// (already compact) encodings once more.
func (e *goalEncoder) result() ([]byte, error) {
	boxes := boxesOf(e.goals)
	encs := make([]*encodedGoal, len(boxes))
	for i, box := range boxes {
		e.start(box)
		e.mu.Lock()
		encs[i] = e.boxes[box]
		e.mu.Unlock()
	}
	size := 2
	for i, eg := range encs {
		<-eg.done
		if eg.err != nil {
			return nil, fmt.Errorf("box %s: %w", boxes[i], eg.err)
		}
		size += len(boxes[i]) + len(eg.data) + 4
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '{')
	for i, box := range boxes {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, err := json.Marshal(box)
		if err != nil {
			return nil, err
		}
		buf = append(buf, k...)
		buf = append(buf, ':')
		buf = append(buf, encs[i].data...)
	}
	return append(buf, '}'), nil
}

// sameState reports whether goals a and b put a box in the same state: the
// same pipeconf, the same entities in the same order and the same gNMI
// leaves. Objectives are not compared: the entities and leaves are what
// they compile to. Leaf values compare by their JSON form, since a goal read
// back from the journal holds JSON numbers where a compiled one holds Go
// integers.
func sameState(a, b *goal.Goal) bool {
	if a == nil || b == nil || a.Pipeconf != b.Pipeconf || len(a.Entities) != len(b.Entities) || len(a.Config) != len(b.Config) {
		return false
	}
	for i := range a.Entities {
		if !proto.Equal(a.Entities[i], b.Entities[i]) {
			return false
		}
	}
	for i := range a.Config {
		if a.Config[i].Path != b.Config[i].Path {
			return false
		}
		va, errA := json.Marshal(a.Config[i].Value)
		vb, errB := json.Marshal(b.Config[i].Value)
		if errA != nil || errB != nil || !bytes.Equal(va, vb) {
			return false
		}
	}
	return true
}
