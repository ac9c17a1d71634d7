package txn

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/pipeline/diff"
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
	for _, w := range wildcards(g) {
		b, err := proto.Marshal(w.entity())
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

// footprintKey identifies a footprint by what it is made of: boxes of one
// role have the same, and a commit mostly journals footprints journaled
// before.
func footprintKey(g *goal.Goal) string {
	b := append([]byte(g.Pipeconf), 0)
	for _, w := range wildcards(g) {
		b = binary.BigEndian.AppendUint32(append(b, w.kind), w.id)
	}
	for _, l := range g.Config {
		b = append(append(b, 0), l.Path...)
	}
	return string(b)
}

// footprints caches encoded footprints by footprintKey: encoding one
// (protobuf, base64, JSON) took most of what a commit spends before its
// journal write.
var (
	footprintsMu sync.Mutex
	footprints   = map[string][]byte{}
)

// encodedFootprint returns g's footprint as JSON.
func encodedFootprint(g *goal.Goal) ([]byte, error) {
	k := footprintKey(g)
	footprintsMu.Lock()
	data, ok := footprints[k]
	footprintsMu.Unlock()
	if ok {
		return data, nil
	}
	f, err := footprintOf(g)
	if err != nil {
		return nil, err
	}
	if data, err = json.Marshal(f); err != nil {
		return nil, err
	}
	footprintsMu.Lock()
	if len(footprints) >= 4096 {
		clear(footprints) // many distinct footprints: start again
	}
	footprints[k] = data
	footprintsMu.Unlock()
	return data, nil
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

// encodeFootprints returns the footprints of the goals as a JSON object
// by box.
func encodeFootprints(goals map[string]*goal.Goal) ([]byte, error) {
	buf := []byte{'{'}
	for i, box := range boxesOf(goals) {
		data, err := encodedFootprint(orEmpty(box, goals[box]))
		if err != nil {
			return nil, fmt.Errorf("box %s: %w", box, err)
		}
		k, err := json.Marshal(box)
		if err != nil {
			return nil, fmt.Errorf("box %s: %w", box, err)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(append(append(buf, k...), ':'), data...)
	}
	return append(buf, '}'), nil
}

// loadCovers reads the footprints journaled with transaction rec, as goals
// to cover: in its record, or (coordinators before this one) under
// footprints/<ID>.
func (c *Coordinator) loadCovers(ctx context.Context, rec *Record) (map[string]*goal.Goal, error) {
	id := rec.ID
	kv, err := c.st.Get(ctx, c.keyTxn(id))
	if err != nil {
		return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
	}
	var head struct {
		Footprints map[string]footprint `json:"footprints"`
	}
	if err := json.Unmarshal(kv.Value, &head); err != nil {
		return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
	}
	fs := head.Footprints
	if fs == nil {
		kv, err := c.st.Get(ctx, c.keyFootprint(id))
		if err != nil {
			return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
		}
		if err := json.Unmarshal(kv.Value, &fs); err != nil {
			return nil, fmt.Errorf("footprints of txn %s: %w", id, err)
		}
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
// document per box), each box's goal once the box has been read back: in
// the background while the box waits for the journal, on the box's own
// goroutine at its first write when there is no wait (its writes send
// the entities as encoded), or when its Sync ends. Encoding every goal
// when the commit starts took the CPUs the boxes' read-backs need (on a
// 2-core machine the encoding of 4 small goals delayed the reads by a
// millisecond); once a box writes, it mostly waits for the box to answer.
type goalEncoder struct {
	goals map[string]*goal.Goal
	mu    sync.Mutex
	boxes map[string]*encodedGoal
	refs  map[string]bool // boxes whose goal is journaled already
	// allStarted is closed once every box's goal is being encoded or
	// said to be journaled already.
	allStarted chan struct{}
}

type encodedGoal struct {
	done chan struct{}
	data []byte
	ents func(*p4v1.Entity) []byte // each entity's encoding inside data
	err  error
}

func newGoalEncoder(goals map[string]*goal.Goal) *goalEncoder {
	e := &goalEncoder{goals: goals, boxes: make(map[string]*encodedGoal, len(goals)), refs: map[string]bool{}, allStarted: make(chan struct{})}
	if len(goals) == 0 {
		close(e.allStarted)
	}
	return e
}

// seenLocked closes allStarted once every goal is started or referred;
// the caller holds mu and has just recorded one of them.
func (e *goalEncoder) seenLocked() {
	if len(e.boxes)+len(e.refs) == len(e.goals) {
		close(e.allStarted)
	}
}

// ref says box's goal is journaled already: it is not encoded.
func (e *goalEncoder) ref(box string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.goals[box]; !ok || e.refs[box] || e.boxes[box] != nil {
		return
	}
	e.refs[box] = true
	e.seenLocked()
}

// claim records that box's encoding has begun and returns it; mine says
// the caller is to encode it (encode). It returns nil for a box the
// encoder has no goal for, or whose goal is journaled already.
func (e *goalEncoder) claim(box string) (eg *encodedGoal, mine bool) {
	if _, ok := e.goals[box]; !ok {
		return nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.refs[box] {
		return nil, false
	}
	if eg := e.boxes[box]; eg != nil {
		return eg, false
	}
	eg = &encodedGoal{done: make(chan struct{})}
	e.boxes[box] = eg
	e.seenLocked()
	return eg, true
}

// encode encodes box's goal into eg, which claim gave the caller.
func (e *goalEncoder) encode(box string, eg *encodedGoal) {
	defer close(eg.done)
	eg.data, eg.ents, eg.err = orEmpty(box, e.goals[box]).MarshalJSONEncoded()
}

// start encodes box's goal in the background, once; a box the encoder
// has no goal for is ignored.
func (e *goalEncoder) start(box string) {
	if eg, mine := e.claim(box); mine {
		go e.encode(box, eg)
	}
}

// entities returns a lookup of the encodings of box's entities, for its
// writes (client.WithEncodedEntities): the first call encodes box's goal
// on the caller's goroutine unless that has begun, and waits for it. A
// box without an encoding (a ref, a failed encoding) gets nil from every
// lookup.
func (e *goalEncoder) entities(box string) func(*p4v1.Entity) []byte {
	var once sync.Once
	var lookup func(*p4v1.Entity) []byte
	return func(ent *p4v1.Entity) []byte {
		once.Do(func() {
			eg, mine := e.claim(box)
			switch {
			case eg == nil:
				return
			case mine:
				e.encode(box, eg)
			default:
				<-eg.done
			}
			if eg.err == nil {
				lookup = eg.ents
			}
		})
		if lookup == nil {
			return nil
		}
		return lookup(ent)
	}
}

// result encodes the goals not started yet, waits for all and returns
// each box's encoding, but for the boxes said to be journaled already.
func (e *goalEncoder) result() (map[string][]byte, error) {
	boxes := boxesOf(e.goals)
	for _, box := range boxes {
		e.start(box)
	}
	out := make(map[string][]byte, len(boxes))
	for _, box := range boxes {
		e.mu.Lock()
		eg := e.boxes[box]
		e.mu.Unlock()
		if eg == nil {
			continue // a ref
		}
		<-eg.done
		if eg.err != nil {
			return nil, fmt.Errorf("box %s: %w", box, eg.err)
		}
		out[box] = eg.data
	}
	return out, nil
}

// sameP4 reports whether goals a and b give a box the same pipeconf and
// the same entities in the same order (in canonical form: diff.Equal).
func sameP4(a, b *goal.Goal) bool {
	if a == nil || b == nil || a.Pipeconf != b.Pipeconf || len(a.Entities) != len(b.Entities) {
		return false
	}
	for i := range a.Entities {
		if x, y := a.Entities[i], b.Entities[i]; x != y && !diff.Equal(x, y) {
			return false
		}
	}
	return true
}

// sameGNMI reports whether goals a and b give a box the same gNMI leaves.
// Values compare by their JSON form, since a goal read back from the
// journal holds JSON numbers where a compiled one holds Go integers.
func sameGNMI(a, b *goal.Goal) bool {
	if a == nil || b == nil || len(a.Config) != len(b.Config) {
		return false
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

// sameIntent reports whether goals a and b, which put a box in the same
// state, are the same goal: the same box and objectives, so that a version
// may refer to a's journaled encoding for b. The objectives are compared
// as the journal encodes them (a third of reflect.DeepEqual's time, for a
// commit that leaves most boxes alone); an encoding error only costs a
// goal journaled again.
func sameIntent(a, b *goal.Goal) bool {
	if a == nil || b == nil || a.Box != b.Box || len(a.Objectives) != len(b.Objectives) {
		return false
	}
	if len(a.Objectives) == 0 {
		return true
	}
	ja, err1 := a.Objectives.MarshalJSON()
	jb, err2 := b.Objectives.MarshalJSON()
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
