package northbound

import (
	"errors"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// errTableFull: every operation of the table is still running.
var errTableFull = errors.New("northbound: too many operations running")

// errTableClosed: the server is closing.
var errTableClosed = errors.New("northbound: server closing")

// op is one operation of the table. Its state is only read and written
// under the table's lock; changed is closed (and replaced) at every change,
// so that watchers wait on a channel instead of polling.
type op struct {
	pb      *nbpb.Operation
	changed chan struct{}
}

// opTable is the in-memory table of the operations the server started,
// bounded: past max entries, the oldest finished ones are dropped.
type opTable struct {
	mu     sync.Mutex
	max    int
	ops    map[string]*op
	order  []string // oldest first
	closed bool
}

func newOpTable(max int) *opTable {
	return &opTable{max: max, ops: map[string]*op{}}
}

func final(s nbpb.Operation_State) bool { return s != nbpb.Operation_RUNNING }

// add records a new running operation and returns a copy of it.
func (t *opTable) add(id, kind, comment string) (*nbpb.Operation, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errTableClosed
	}
	if len(t.order) >= t.max {
		keep := t.order[:0]
		drop := len(t.order) - t.max + 1
		for _, oid := range t.order {
			if drop > 0 && final(t.ops[oid].pb.State) {
				delete(t.ops, oid)
				drop--
				continue
			}
			keep = append(keep, oid)
		}
		t.order = keep
		if drop > 0 {
			return nil, errTableFull
		}
	}
	o := &op{pb: &nbpb.Operation{Id: id, Kind: kind, State: nbpb.Operation_RUNNING, Comment: comment,
		Started: timestamppb.Now()}, changed: make(chan struct{})}
	t.ops[id] = o
	t.order = append(t.order, id)
	return proto.Clone(o.pb).(*nbpb.Operation), nil
}

// update changes operation id with f and wakes its watchers. It never
// blocks on them: WithProgress callbacks must not block.
func (t *opTable) update(id string, f func(*nbpb.Operation)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.ops[id]
	if !ok || final(o.pb.State) {
		return
	}
	f(o.pb)
	close(o.changed)
	o.changed = make(chan struct{})
}

// progress records a progress report.
func (t *opTable) progress(p txn.Progress) {
	t.update(p.ID, func(pb *nbpb.Operation) {
		pb.Phase, pb.Done, pb.Total = string(p.Phase), int32(p.Done), int32(p.Total)
	})
}

// finish records the outcome of a commit or rollback.
func (t *opTable) finish(id string, res *txn.Result, err error) {
	t.update(id, func(pb *nbpb.Operation) {
		pb.Ended = timestamppb.New(time.Now())
		var ae *txn.AbortError
		switch {
		case err == nil:
			pb.State, pb.Version = nbpb.Operation_COMMITTED, res.Version
			pb.Changes = make(map[string]*nbpb.Changes, len(res.Changes))
			for box, c := range res.Changes {
				pb.Changes[box] = changesPB(c)
			}
		case errors.As(err, &ae):
			pb.State, pb.Error, pb.Reasons, pb.Restored = nbpb.Operation_ABORTED, err.Error(), ae.Reasons, ae.Restored
		default:
			pb.State, pb.Error = nbpb.Operation_FAILED, err.Error()
		}
	})
}

// get returns a copy of operation id and the channel closed at its next
// change.
func (t *opTable) get(id string) (*nbpb.Operation, <-chan struct{}, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.ops[id]
	if !ok {
		return nil, nil, false
	}
	return proto.Clone(o.pb).(*nbpb.Operation), o.changed, true
}

// list returns copies of every operation, oldest first.
func (t *opTable) list() []*nbpb.Operation {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*nbpb.Operation, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, proto.Clone(t.ops[id].pb).(*nbpb.Operation))
	}
	return out
}

// close refuses new operations.
func (t *opTable) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

func changesPB(c txn.Changes) *nbpb.Changes {
	return &nbpb.Changes{Inserts: int32(c.Inserts), Modifies: int32(c.Modifies), Deletes: int32(c.Deletes),
		Gnmi: int32(c.GNMI), PipelineSet: c.Pipeline}
}
