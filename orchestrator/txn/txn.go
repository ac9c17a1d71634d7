package txn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/metadata"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/pipeline/builtin"
)

// MetadataKey is the gRPC metadata key that carries the operation ID of every
// request a transaction sends to a box.
const MetadataKey = "x-fabric-op"

// State is the state of a journaled transaction.
type State string

// States of a transaction: APPLYING (journaled; boxes may be changing),
// and the outcomes COMMITTED and ABORTED. PREPARED is what coordinators
// before this one journaled ahead of their first change; Recover resolves
// it as APPLYING.
const (
	Prepared  State = "PREPARED"
	Applying  State = "APPLYING"
	Committed State = "COMMITTED"
	Aborted   State = "ABORTED"
)

// Stage names a point of Commit where the test hook runs.
type Stage string

// Stages of WithHook: after the transaction is journaled (and new pipeconfs
// verified) and before any box is changed; after one box is applied (Box
// names it).
const (
	StageJournaled  Stage = "journaled"
	StageBoxApplied Stage = "box-applied"
)

// Errors.
var (
	// ErrAbandon, returned by a test hook, makes the coordinator stop at
	// once as if its process had died: nothing more is sent or journaled.
	ErrAbandon = errors.New("txn: coordinator abandoned")
	// ErrConflict: another transaction is pending or the version moved.
	ErrConflict = errors.New("txn: concurrent transaction")
	// ErrNoVersion: the version does not exist.
	ErrNoVersion = errors.New("txn: no such version")
	// ErrAborted is wrapped by every *AbortError.
	ErrAborted = errors.New("txn: aborted")
)

// Record is a transaction as journaled.
type Record struct {
	// ID is the operation ID.
	ID string `json:"id"`
	// State is where the transaction is.
	State State `json:"state"`
	// Base is the committed version the transaction started from (0:
	// none); Version is the version it commits as.
	Base    int64 `json:"base"`
	Version int64 `json:"version"`
	// Goals are the goals to commit; Previous the goals of Base. The
	// journal keeps them apart from the record (and as version Base), so
	// that the record stays small; Transaction fills them in.
	Goals    map[string]*goal.Goal `json:"goals,omitempty"`
	Previous map[string]*goal.Goal `json:"previous,omitempty"`
	// PerBox says the goals are journaled one key per box
	// (goals/<ID>/<box>), each written by the transaction that first
	// committed it: Refs names, for every box whose goal is the same as
	// an earlier transaction's, that transaction. A transaction that
	// changes one box of many writes one goal. Without PerBox, the goals
	// are one JSON object under goals/<ID> (journals written before).
	PerBox bool              `json:"perBox,omitempty"`
	Refs   map[string]string `json:"refs,omitempty"`
	// Reasons says why each failed box failed (ABORTED).
	Reasons map[string]string `json:"reasons,omitempty"`
	// Comment describes the transaction.
	Comment string `json:"comment,omitempty"`
	// Started and Ended time the transaction.
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`

	// progress is WithProgress's callback.
	progress func(Progress)
	// outcome is WithOutcome's function.
	outcome func(version int64) []store.Op
	// goalsAhead says the goals were journaled ahead of the outcome,
	// while the boxes were applied (journalGoalsAhead).
	goalsAhead bool
}

// Phase names a step of a Commit that Progress reports.
type Phase string

// Phases of a Commit, in order; PhaseRestore only when a box failed.
const (
	PhasePrepare Phase = "prepare"
	PhaseApply   Phase = "apply"
	PhaseRestore Phase = "restore"
)

// Progress reports that one box finished a phase of a Commit: Done of
// Total boxes have finished it; Err is the box's failure, if any.
type Progress struct {
	ID    string
	Phase Phase
	Box   string
	Done  int
	Total int
	Err   error
}

// journaledHead returns the record as the journal's first write holds it:
// its head with the footprints of its goals (what Recover needs of them,
// a JSON object by box, from encodeFootprints) in "footprints", which the
// outcome's write of the record drops. The footprints are spliced in as
// they are: json.Marshal would validate and compact them once more.
func (r *Record) journaledHead(footprints []byte) ([]byte, error) {
	head, err := json.Marshal(r.head())
	if err != nil {
		return nil, err
	}
	if len(head) < 2 || head[len(head)-1] != '}' || len(footprints) < 2 || footprints[0] != '{' {
		return nil, fmt.Errorf("txn %s: footprints: not a JSON object", r.ID)
	}
	out := make([]byte, 0, len(head)+len(footprints)+16)
	out = append(out, head[:len(head)-1]...)
	out = append(out, `,"footprints":`...)
	out = append(out, footprints...)
	return append(out, '}'), nil
}

// head returns the record without its goals (and refs to them, which
// finish journals with the goals): what txns/<ID> holds.
func (r *Record) head() *Record {
	cp := *r
	cp.Goals, cp.Previous, cp.Refs = nil, nil, nil
	return &cp
}

// Version is a committed chassis goal. The journal keeps a version's goals
// with the transaction that committed it (see Record.PerBox); versions
// written by older coordinators carry their own.
type Version struct {
	Number  int64                 `json:"number"`
	Txn     string                `json:"txn"`
	Time    time.Time             `json:"time"`
	Comment string                `json:"comment,omitempty"`
	Goals   map[string]*goal.Goal `json:"goals,omitempty"`

	// where names, per box, the transaction whose goals/<txn>/<box>
	// holds its goal (none for goals journaled the older ways): what the
	// next commit refers to for a box whose goal stays.
	where map[string]string
}

// AbortError reports an aborted transaction: each failed box's reason and
// whether every box was restored to the previous version.
type AbortError struct {
	ID       string
	Reasons  map[string]string
	Restored bool
}

// Error lists the boxes.
func (e *AbortError) Error() string {
	boxes := make([]string, 0, len(e.Reasons))
	for b, r := range e.Reasons {
		boxes = append(boxes, b+": "+r)
	}
	slices.Sort(boxes)
	s := "restored"
	if !e.Restored {
		s = "NOT fully restored (Recover retries)"
	}
	return fmt.Sprintf("transaction %s aborted, %s: %s", e.ID, s, strings.Join(boxes, "; "))
}

// Unwrap returns ErrAborted.
func (e *AbortError) Unwrap() error { return ErrAborted }

// Option configures a Coordinator.
type Option func(*Coordinator)

// WithPrefix sets the store prefix of the journal (default "/fabric/txn/").
func WithPrefix(p string) Option { return func(c *Coordinator) { c.prefix = p } }

// WithLogger sets the logger; every line carries the "op" attribute.
func WithLogger(l *slog.Logger) Option { return func(c *Coordinator) { c.log = l } }

// WithPipeconfs sets where pipeconfs are found (default: the built-ins).
func WithPipeconfs(p goal.Pipeconfs) Option { return func(c *Coordinator) { c.pcs = p } }

// WithBoxTimeout bounds the apply of one box (default 30s); a box that
// takes longer fails the transaction.
func WithBoxTimeout(d time.Duration) Option { return func(c *Coordinator) { c.boxTimeout = d } }

// WithRestoreTimeout bounds the restore of one box (default 60s).
func WithRestoreTimeout(d time.Duration) Option { return func(c *Coordinator) { c.restoreTimeout = d } }

// WithHook installs a test hook called at each Stage; returning ErrAbandon
// abandons the coordinator there (a crash, for tests of Recover).
func WithHook(h func(stage Stage, box string) error) Option {
	return func(c *Coordinator) { c.hook = h }
}

// Coordinator commits goals to boxes as transactions journaled in a store.
// It serialises its own commits; the journal's compare-and-swap keeps two
// coordinators on one store from committing at once.
type Coordinator struct {
	st             store.Store
	devs           Devices
	prefix         string
	log            *slog.Logger
	pcs            goal.Pipeconfs
	boxTimeout     time.Duration
	restoreTimeout time.Duration
	hook           func(Stage, string) error

	sem       *rwsem // Commit and Recover exclusive, Hold shared
	abandoned bool

	cacheMu sync.Mutex
	cache   *Version // the last version decoded; versions never change
}

// New returns a coordinator journaling in st and reaching boxes via devs.
// Call Recover before the first Commit after a restart.
func New(st store.Store, devs Devices, opts ...Option) (*Coordinator, error) {
	if st == nil || devs == nil {
		return nil, errors.New("txn: nil store or devices")
	}
	c := &Coordinator{sem: newRWSem(), st: st, devs: devs, prefix: "/fabric/txn/", boxTimeout: 30 * time.Second, restoreTimeout: 60 * time.Second}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pcs == nil {
		r, err := builtin.Registry()
		if err != nil {
			return nil, fmt.Errorf("txn: built-in pipeconfs: %w", err)
		}
		c.pcs = r
	}
	if !strings.HasSuffix(c.prefix, "/") {
		c.prefix += "/"
	}
	return c, nil
}

func (c *Coordinator) keyCurrent() string        { return c.prefix + "current" }
func (c *Coordinator) keyPending() string        { return c.prefix + "pending" }
func (c *Coordinator) keyTxn(id string) string   { return c.prefix + "txns/" + id }
func (c *Coordinator) keyGoals(id string) string { return c.prefix + "goals/" + id }
func (c *Coordinator) keyBoxGoal(id, box string) string {
	return c.prefix + "goals/" + id + "/" + box
}
func (c *Coordinator) keyFootprint(id string) string {
	return c.prefix + "footprints/" + id
}
func (c *Coordinator) keyVersion(n int64) string { return fmt.Sprintf("%sversions/%020d", c.prefix, n) }

// newID returns a new operation ID: the time in nanoseconds, then random
// bits. IDs sort by time, so the journal's keys for a new transaction
// land at the end of their ranges (in bbolt, the last page of each) rather
// than all over them.
func newID() string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	_, _ = rand.Read(b[8:])
	return "tx-" + hex.EncodeToString(b[:])
}

// loadGoals reads the goals journaled with the transaction rec, and where
// each box's goal is (for goals journaled per box). A transaction whose
// goals were not journaled (it did not end, or ended without them) has
// none: store.ErrNotFound.
func (c *Coordinator) loadGoals(ctx context.Context, rec *Record) (map[string]*goal.Goal, map[string]string, error) {
	id := rec.ID
	if !rec.PerBox {
		kv, err := c.st.Get(ctx, c.keyGoals(id))
		if err != nil {
			return nil, nil, fmt.Errorf("goals of txn %s: %w", id, err)
		}
		goals := map[string]*goal.Goal{}
		if err := json.Unmarshal(kv.Value, &goals); err != nil {
			return nil, nil, fmt.Errorf("goals of txn %s: %w", id, err)
		}
		return goals, nil, nil
	}
	// The boxes' goals, by the transaction that holds them: this one's
	// own and those it refers to.
	want := map[string]map[string]bool{}
	for box, ref := range rec.Refs {
		if want[ref] == nil {
			want[ref] = map[string]bool{}
		}
		want[ref][box] = true
	}
	goals := map[string]*goal.Goal{}
	where := map[string]string{}
	load := func(txn string, boxes map[string]bool) error {
		prefix := c.keyBoxGoal(txn, "")
		res, err := c.st.Range(ctx, prefix)
		if err != nil {
			return fmt.Errorf("goals of txn %s: %w", txn, err)
		}
		for _, kv := range res.KVs {
			box := strings.TrimPrefix(kv.Key, prefix)
			if boxes != nil && !boxes[box] {
				continue
			}
			g := new(goal.Goal)
			if err := json.Unmarshal(kv.Value, g); err != nil {
				return fmt.Errorf("goal of %s in txn %s: %w", box, txn, err)
			}
			goals[box], where[box] = g, txn
		}
		return nil
	}
	if err := load(id, nil); err != nil {
		return nil, nil, err
	}
	for txn, boxes := range want {
		if err := load(txn, boxes); err != nil {
			return nil, nil, err
		}
	}
	for box, ref := range rec.Refs {
		if goals[box] == nil {
			return nil, nil, fmt.Errorf("goal of %s in txn %s (for txn %s): %w", box, ref, id, store.ErrNotFound)
		}
	}
	return goals, where, nil
}

// Current returns the committed version (nil, nil when none). The version
// is shared: do not modify it.
func (c *Coordinator) Current(ctx context.Context) (*Version, error) {
	kv, err := c.st.Get(ctx, c.keyCurrent())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("txn: current version: %w", err)
	}
	n, err := strconv.ParseInt(string(kv.Value), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("txn: current version %q: %w", kv.Value, err)
	}
	return c.Version(ctx, n)
}

// Version returns committed version n. The version is shared (decoded
// once): do not modify it.
func (c *Coordinator) Version(ctx context.Context, n int64) (*Version, error) {
	c.cacheMu.Lock()
	cached := c.cache
	c.cacheMu.Unlock()
	if cached != nil && cached.Number == n {
		return cached, nil
	}
	kv, err := c.st.Get(ctx, c.keyVersion(n))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("version %d: %w", n, ErrNoVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("txn: version %d: %w", n, err)
	}
	var v Version
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return nil, fmt.Errorf("txn: version %d: %w", n, err)
	}
	if v.Goals == nil {
		rec, err := c.record(ctx, v.Txn)
		if err == nil {
			v.Goals, v.where, err = c.loadGoals(ctx, rec)
		}
		if err != nil {
			return nil, fmt.Errorf("txn: version %d: %w", n, err)
		}
	}
	c.cacheMu.Lock()
	if c.cache == nil || c.cache.Number < n {
		c.cache = &v
	}
	c.cacheMu.Unlock()
	return &v, nil
}

// History returns the committed versions, oldest first, without their goals.
func (c *Coordinator) History(ctx context.Context) ([]Version, error) {
	res, err := c.st.Range(ctx, c.prefix+"versions/")
	if err != nil {
		return nil, fmt.Errorf("txn: history: %w", err)
	}
	out := make([]Version, 0, len(res.KVs))
	for _, kv := range res.KVs {
		var v Version
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("txn: %s: %w", kv.Key, err)
		}
		v.Goals = nil
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Version) int { return int(a.Number - b.Number) })
	return out, nil
}

// record reads the journal record of a transaction, as journaled.
func (c *Coordinator) record(ctx context.Context, id string) (*Record, error) {
	kv, err := c.st.Get(ctx, c.keyTxn(id))
	if err != nil {
		return nil, fmt.Errorf("txn %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return nil, fmt.Errorf("txn %s: %w", id, err)
	}
	return &r, nil
}

// Transaction returns the journal record of a transaction, with its goals
// and the previous version's.
func (c *Coordinator) Transaction(ctx context.Context, id string) (*Record, error) {
	r, err := c.record(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Goals == nil {
		// Goals are journaled with the outcome: a transaction whose
		// coordinator stopped before has none.
		r.Goals, _, err = c.loadGoals(ctx, r)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("txn %s: %w", id, err)
		}
	}
	if r.Previous == nil {
		r.Previous = map[string]*goal.Goal{}
		if r.Base > 0 {
			v, err := c.Version(ctx, r.Base)
			if err != nil {
				return nil, fmt.Errorf("txn %s: previous: %w", id, err)
			}
			r.Previous = v.Goals
		}
	}
	return r, nil
}

// BoxDiff is the difference of one box between two versions.
type BoxDiff struct {
	Pipeconf                   [2]string // from, to; equal when unchanged
	Inserts, Modifies, Deletes int
	GNMI                       int
}

// Diff compares version a with version b (0 is the empty chassis), per box
// that differs.
func (c *Coordinator) Diff(ctx context.Context, a, b int64) (map[string]BoxDiff, error) {
	load := func(n int64) (map[string]*goal.Goal, error) {
		if n == 0 {
			return map[string]*goal.Goal{}, nil
		}
		v, err := c.Version(ctx, n)
		if err != nil {
			return nil, err
		}
		return v.Goals, nil
	}
	ga, err := load(a)
	if err != nil {
		return nil, err
	}
	gb, err := load(b)
	if err != nil {
		return nil, err
	}
	return DiffGoals(ga, gb)
}

// DiffGoals compares two chassis goals, per box that differs.
func DiffGoals(from, to map[string]*goal.Goal) (map[string]BoxDiff, error) {
	out := map[string]BoxDiff{}
	for _, box := range boxesOf(from, to) {
		f, t := orEmpty(box, from[box]), orEmpty(box, to[box])
		plan, err := diffPlan(t.Entities, f.Entities)
		if err != nil {
			return nil, &BoxError{box, err}
		}
		d := BoxDiff{Pipeconf: [2]string{f.Pipeconf, t.Pipeconf}, Inserts: len(plan.Inserts), Modifies: len(plan.Modifies), Deletes: len(plan.Deletes)}
		fl := map[string]string{}
		for _, l := range f.Config {
			j, _ := json.Marshal(l.Value)
			fl[l.Path] = string(j)
		}
		for _, l := range t.Config {
			j, _ := json.Marshal(l.Value)
			if v, ok := fl[l.Path]; !ok || v != string(j) {
				d.GNMI++
			}
			delete(fl, l.Path)
		}
		d.GNMI += len(fl)
		if d != (BoxDiff{Pipeconf: [2]string{f.Pipeconf, f.Pipeconf}}) {
			out[box] = d
		}
	}
	return out, nil
}

func orEmpty(box string, g *goal.Goal) *goal.Goal {
	if g == nil {
		return &goal.Goal{Box: box}
	}
	return g
}

func boxesOf(ms ...map[string]*goal.Goal) []string {
	var out []string
	for _, m := range ms {
		for b := range m {
			if !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Result is the outcome of a committed transaction.
type Result struct {
	ID      string
	Version int64
	Changes map[string]Changes
}

// CommitOption configures one Commit.
type CommitOption func(*Record)

// WithComment describes the transaction in the journal and history.
func WithComment(s string) CommitOption { return func(r *Record) { r.Comment = s } }

// WithID gives the transaction its operation ID instead of a new one, so
// that a caller can hand the ID out before the commit ends (fabricd's
// asynchronous Commit). An empty id is ignored. The ID must be unique: a
// transaction of the same ID already journaled makes Commit fail with
// ErrConflict.
func WithID(id string) CommitOption {
	return func(r *Record) {
		if id != "" {
			r.ID = id
		}
	}
}

// WithOutcome adds the store operations f returns for the new version to
// the store transaction that journals the commit COMMITTED: they are
// written if and only if the version is (the orchestrator keeps the chassis
// config a version came from this way, without a store write of its own).
// The keys must lie outside the coordinator's prefix.
func WithOutcome(f func(version int64) []store.Op) CommitOption {
	return func(r *Record) { r.outcome = f }
}

// WithProgress calls f each time a box finishes a phase of the Commit (a
// progress bar over many boxes). f is called from the boxes' goroutines,
// one call at a time, and must not block.
func WithProgress(f func(Progress)) CommitOption {
	return func(r *Record) { r.progress = f }
}

// Commit applies goals (a goal per box, keyed by box name: the whole
// chassis; a box of the current version missing here gets an empty goal) to
// every box, all or nothing. It journals the transaction APPLYING (with
// what each goal may touch) in one durable write that every change to a box
// waits for, while it checks with VERIFY, on every box whose goal changes
// its pipeconf, a pipeconf the box does not run yet and reads the boxes
// back; brings every box to its goal in parallel (Sync), and then journals
// COMMITTED with the goals and a new version. A box whose goal puts it in
// the state the current version does (same pipeconf, entities and gNMI
// leaves) is left alone: a commit reads back and writes the boxes it
// changes, and drift on the others is the reconciler's to repair. If any
// box fails or times out, every box is restored to the current version
// and the transaction is journaled ABORTED with each box's reason: the
// error is an *AbortError. Every request to a box carries the transaction
// ID in gRPC metadata (MetadataKey).
//
// WithProgress reports PhasePrepare for the boxes whose pipeconf changes
// only: the others have nothing to verify.
func (c *Coordinator) Commit(ctx context.Context, goals map[string]*goal.Goal, opts ...CommitOption) (*Result, error) {
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	defer c.unlock()
	if c.abandoned {
		return nil, ErrAbandon
	}
	for box, g := range goals {
		if g == nil || g.Box != box {
			return nil, &BoxError{box, fmt.Errorf("goal is nil or for another box: %w", goal.ErrInvalid)}
		}
		if _, err := c.devs.Device(box); err != nil {
			return nil, &BoxError{box, err}
		}
		if g.Pipeconf != "" {
			if _, err := c.pcs.Get(g.Pipeconf); err != nil {
				return nil, &BoxError{box, err}
			}
		}
	}
	cur, err := c.Current(ctx)
	if err != nil {
		return nil, err
	}
	rec := &Record{ID: newID(), State: Applying, Goals: map[string]*goal.Goal{}, Previous: map[string]*goal.Goal{}, Started: time.Now().UTC()}
	for _, o := range opts {
		o(rec)
	}
	if strings.Contains(rec.ID, "/") {
		// The ID is a path segment of the journal's keys.
		return nil, fmt.Errorf("txn: id %q: contains a slash", rec.ID)
	}
	curKey := store.Missing(c.keyCurrent())
	if cur != nil {
		rec.Base = cur.Number
		rec.Previous = cur.Goals
		curKey = store.CompareValue(c.keyCurrent(), store.Equal, []byte(strconv.FormatInt(cur.Number, 10)))
	}
	rec.Version = rec.Base + 1
	for _, box := range boxesOf(goals, rec.Previous) {
		if _, inNew := goals[box]; !inNew {
			// A box of the previous version that has no device any more
			// has left the chassis (decommissioned): there is nothing to
			// empty or restore on it, so the transaction forgets it.
			if _, err := c.devs.Device(box); errors.Is(err, ErrUnknownBox) {
				continue
			}
		}
		rec.Goals[box] = orEmpty(box, goals[box])
	}
	log := c.log.With("op", rec.ID)
	ctx = metadata.AppendToOutgoingContext(ctx, MetadataKey, rec.ID)

	// Journal, once, before any box is changed: the record, what the new
	// goals may touch on each box (their footprints) and the pending
	// marker. From then on a crash leaves the marker, and Recover
	// restores every box to version Base (whose goals are journaled),
	// deleting what the footprints cover and Base lacks: Sync is
	// idempotent, so a box this transaction never reached is only read.
	// The write is in flight while the boxes are verified and read back,
	// which changes nothing; every box's first change waits for it
	// (changeGate). The goals themselves are encoded while the boxes are
	// applied, and journaled with the outcome, or, when large, ahead of
	// it while the boxes are written (journalGoalsAhead).
	fps, err := encodeFootprints(rec.Goals)
	if err != nil {
		return nil, fmt.Errorf("txn %s: %w", rec.ID, err)
	}
	head, err := rec.journaledHead(fps)
	if err != nil {
		return nil, fmt.Errorf("txn %s: %w", rec.ID, err)
	}
	journaled := make(chan struct{})
	var journalErr error
	go func() {
		defer close(journaled)
		res, err := c.st.Txn(ctx, store.Txn{
			If:   []store.Compare{store.Missing(c.keyPending()), curKey, store.Missing(c.keyTxn(rec.ID))},
			Then: []store.Op{store.OpPut(c.keyTxn(rec.ID), head), store.OpPut(c.keyPending(), []byte(rec.ID))},
		})
		switch {
		case err != nil:
			journalErr = fmt.Errorf("txn %s: journal: %w", rec.ID, err)
		case !res.Succeeded:
			journalErr = fmt.Errorf("txn %s: %w", rec.ID, ErrConflict)
		default:
			log.Info("transaction journaled", "base", rec.Base, "boxes", len(rec.Goals))
		}
	}()
	defer func() { <-journaled }()
	// changeGate lets a box change once the journal is durable (and the
	// StageJournaled hook has run, once).
	var hookOnce sync.Once
	var hookErr error
	hook := func() error {
		hookOnce.Do(func() {
			if c.hookAt(StageJournaled, "") {
				hookErr = ErrAbandon
			}
		})
		return hookErr
	}
	changeGate := func(ctx context.Context) error {
		select {
		case <-journaled:
		case <-ctx.Done():
			return ctx.Err()
		}
		if journalErr != nil {
			return journalErr
		}
		return hook()
	}
	// The goals are encoded for the outcome while the boxes are applied,
	// each once its box has been read back.
	genc := newGoalEncoder(rec.Goals)
	var where map[string]string
	if cur != nil {
		where = cur.where
	}

	// Prepare: VERIFY the pipeconf of every box whose goal changes it and
	// that does not run it yet, so that a pipeconf a box refuses aborts
	// the transaction before any box is changed. A box whose pipeconf
	// stays was verified when it was committed; if it lost it since,
	// Sync pushes it again with VERIFY_AND_COMMIT.
	var prep []string
	for box, g := range rec.Goals {
		if g.Pipeconf != "" && g.Pipeconf != orEmpty(box, rec.Previous[box]).Pipeconf {
			prep = append(prep, box)
		}
	}
	slices.Sort(prep)
	var runMu sync.Mutex
	running := map[string]bool{}
	if reasons := c.parallel(ctx, PhasePrepare, rec, prep, c.boxTimeout, func(ctx context.Context, box string, dev Device) error {
		runs, err := c.verify(ctx, dev, rec.Goals[box])
		runMu.Lock()
		running[box] = runs
		runMu.Unlock()
		return err
	}); len(reasons) > 0 {
		<-journaled
		if journalErr != nil {
			return nil, journalErr
		}
		rec.State, rec.Reasons, rec.Ended = Aborted, reasons, time.Now().UTC()
		data, _ := genc.result() // nil if a goal cannot be encoded: the record goes without goals
		if err := c.finish(ctx, rec, nil, data); err != nil {
			return nil, err
		}
		log.Warn("transaction aborted in prepare", "reasons", reasons)
		return nil, &AbortError{ID: rec.ID, Reasons: reasons, Restored: true}
	}
	log.Info("transaction applying")

	// A box whose goal puts it in the state of the current version is not
	// touched: it was brought there by the commit of that version, and
	// drift since is the reconciler's to repair. Nor is the half (P4Runtime
	// or gNMI) of a box that its goal leaves as it is. A commit that
	// changes one box of many reads back and writes that box only, and
	// journals the goal of that box only: the others refer to where their
	// goal is already journaled. Each box finds this out on its own
	// goroutine, while the journal write is in flight.
	var mu sync.Mutex
	unchanged := map[string]bool{}
	rec.Refs = map[string]string{}
	changes := map[string]Changes{}
	applyCtx, cancelApply := context.WithCancel(ctx)
	defer cancelApply()
	applied := make(chan struct{})
	ahead := c.journalGoalsAhead(ctx, rec, genc, journaled, func() error { return journalErr }, applied)
	reasons := c.parallel(applyCtx, PhaseApply, rec, boxesOf(rec.Goals), c.boxTimeout, func(ctx context.Context, box string, dev Device) error {
		runMu.Lock()
		runs := running[box]
		runMu.Unlock()
		g, prev := rec.Goals[box], rec.Previous[box]
		keepP4, keepGNMI := sameP4(g, prev), sameGNMI(g, prev)
		if keepP4 && keepGNMI {
			mu.Lock()
			unchanged[box] = true
			if w := where[box]; w != "" && sameIntent(g, prev) {
				rec.Refs[box] = w
				genc.ref(box)
			}
			mu.Unlock()
		}
		gate := func(ctx context.Context) error {
			select {
			case <-journaled:
				// Nothing to wait for: the box's first write encodes
				// its goal, on this goroutine.
			default:
				genc.start(box) // while the journal is written
			}
			return changeGate(ctx)
		}
		var ch Changes
		var err error
		if !keepP4 || !keepGNMI {
			ch, err = Sync(ctx, box, dev, g, []*goal.Goal{prev},
				SyncOptions{Pipeconfs: c.pcs, Logger: log, Running: runs, BeforeChange: gate, KeepP4: keepP4, KeepGNMI: keepGNMI,
					Encoded: genc.entities(box)})
		}
		genc.start(box)
		mu.Lock()
		defer mu.Unlock()
		changes[box] = ch
		if err == nil && c.hookAt(StageBoxApplied, box) {
			cancelApply()
		}
		return err
	})
	close(applied)
	// No box changed anything unless the journal write succeeded; the
	// hook runs even when no box had anything to change.
	<-journaled
	aheadErr := <-ahead
	if journalErr != nil {
		return nil, journalErr
	}
	_ = hook()
	if c.abandoned {
		return nil, ErrAbandon
	}
	encData, encErr := genc.result()
	if aheadErr != nil && len(reasons) == 0 {
		// The version's goals are not all in the journal: give it up
		// like a failed box.
		reasons["journal"] = aheadErr.Error()
	}
	if encErr != nil && len(reasons) == 0 {
		// Without its goals journaled the version could not be read
		// back: give it up like a failed box.
		reasons["coordinator"] = fmt.Sprintf("encode goals: %v", encErr)
	}
	if len(reasons) > 0 {
		log.Warn("transaction failed, restoring every box", "reasons", reasons)
		rec.Reasons = reasons
		restored := c.restore(ctx, rec, log, unchanged)
		if restored {
			rec.State = Aborted
			rec.Ended = time.Now().UTC()
			if aheadErr != nil {
				// Some of the goals may be journaled: the record goes
				// without them, and they go.
				encData = nil
			}
			if err := c.finish(ctx, rec, nil, encData); err != nil {
				return nil, err
			}
			if aheadErr != nil {
				c.dropGoals(ctx, rec.ID, log)
			}
		} else if err := c.put(ctx, rec); err != nil {
			return nil, err
		}
		return nil, &AbortError{ID: rec.ID, Reasons: reasons, Restored: restored}
	}
	rec.State, rec.Ended = Committed, time.Now().UTC()
	v := &Version{Number: rec.Version, Txn: rec.ID, Time: rec.Ended, Comment: rec.Comment, Goals: rec.Goals, where: map[string]string{}}
	for box := range rec.Goals {
		v.where[box] = rec.ID
		if ref, ok := rec.Refs[box]; ok {
			v.where[box] = ref
		}
	}
	if err := c.finish(ctx, rec, v, encData); err != nil {
		if errors.Is(err, ErrConflict) {
			// Another coordinator resolved the transaction: it is its.
			return nil, err
		}
		// The store refused the outcome (down, or the goals too large
		// for it): the boxes must not stay at a version the journal
		// does not have, so the transaction is rolled back as if a box
		// had failed.
		log.Warn("outcome not journaled, restoring every box", "err", err)
		rec.State, rec.Reasons = Applying, map[string]string{"journal": err.Error()}
		restored := c.restore(ctx, rec, log, unchanged)
		if restored {
			rec.State, rec.Ended = Aborted, time.Now().UTC()
			if ferr := c.finish(ctx, rec, nil, nil); ferr != nil {
				// Still pending: Recover resolves it.
				return nil, fmt.Errorf("%w (and journaling the abort: %w)", err, ferr)
			}
			c.dropGoals(ctx, rec.ID, log)
		}
		return nil, &AbortError{ID: rec.ID, Reasons: rec.Reasons, Restored: restored}
	}
	c.cacheMu.Lock()
	c.cache = v
	c.cacheMu.Unlock()
	log.Info("transaction committed", "version", v.Number)
	return &Result{ID: rec.ID, Version: v.Number, Changes: changes}, nil
}

// Rollback commits the goals of version n as a new transaction (and
// version); opts apply after the rollback's own comment.
func (c *Coordinator) Rollback(ctx context.Context, n int64, opts ...CommitOption) (*Result, error) {
	v, err := c.Version(ctx, n)
	if err != nil {
		return nil, err
	}
	return c.Commit(ctx, v.Goals, append([]CommitOption{WithComment(fmt.Sprintf("rollback to version %d", n))}, opts...)...)
}

// Recover resolves a transaction a coordinator left pending (it crashed):
// it rolls it back. The transaction may have changed some boxes, so every
// box is restored to the previous committed version (the same Sync as an
// abort, which writes nothing to a box the transaction never reached)
// before it is journaled ABORTED. Rolling back, not forward, because the
// new goal may be what made a box fail, and the previous version is known
// to be good. Recover returns the record it resolved (nil when nothing was
// pending). If a box cannot be restored, the transaction stays APPLYING and
// Recover returns an *AbortError: call it again.
func (c *Coordinator) Recover(ctx context.Context) (*Record, error) {
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	defer c.unlock()
	kv, err := c.st.Get(ctx, c.keyPending())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("txn: recover: %w", err)
	}
	rec, err := c.Transaction(ctx, string(kv.Value))
	if err != nil {
		return nil, fmt.Errorf("txn: recover: %w", err)
	}
	log := c.log.With("op", rec.ID)
	ctx = metadata.AppendToOutgoingContext(ctx, MetadataKey, rec.ID)
	if rec.Reasons == nil {
		rec.Reasons = map[string]string{}
	}
	rolledBack := false
	switch rec.State {
	case Prepared, Applying:
		if rec.Goals == nil {
			// Journaled by this coordinator: the goals were not, but
			// what they may touch was.
			if rec.Goals, err = c.loadCovers(ctx, rec); err != nil {
				return nil, fmt.Errorf("txn: recover: %w", err)
			}
		}
		// PREPARED is what older coordinators journaled before they sent
		// anything; restoring such a transaction only reads the boxes.
		rec.State = Applying
		if _, ok := rec.Reasons["coordinator"]; !ok {
			rec.Reasons["coordinator"] = "stopped before the outcome was journaled; rolled back"
		}
		log.Warn("recovering a pending transaction: restoring every box")
		if !c.restore(ctx, rec, log, nil) {
			if err := c.put(ctx, rec); err != nil {
				return rec, err
			}
			return rec, &AbortError{ID: rec.ID, Reasons: rec.Reasons}
		}
		rec.State = Aborted
		rec.Ended = time.Now().UTC()
		rolledBack = true
	default:
		// Outcome journaled, pending marker left over.
	}
	if err := c.finish(ctx, rec, nil, nil); err != nil {
		return rec, err
	}
	if rolledBack {
		// Goals it journaled ahead of an outcome it never wrote.
		c.dropGoals(ctx, rec.ID, log)
	}
	log.Info("transaction recovered", "state", rec.State)
	return rec, nil
}

// restore brings every box of rec back to rec.Previous, retrying each box
// until the restore timeout, but for the boxes untouched says the
// transaction left alone. It records the boxes it could not restore.
func (c *Coordinator) restore(ctx context.Context, rec *Record, log *slog.Logger, untouched map[string]bool) bool {
	ctx = context.WithoutCancel(ctx)
	failed := c.parallel(ctx, PhaseRestore, rec, boxesOf(rec.Goals), c.restoreTimeout, func(ctx context.Context, box string, dev Device) error {
		if untouched[box] {
			return nil
		}
		wait := 50 * time.Millisecond
		for {
			_, err := Sync(ctx, box, dev, orEmpty(box, rec.Previous[box]), []*goal.Goal{rec.Goals[box]}, SyncOptions{Pipeconfs: c.pcs, Logger: log})
			if err == nil {
				return nil
			}
			log.Warn("restore failed, retrying", "box", box, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
			case <-t.C:
			}
			wait = min(2*wait, time.Second)
		}
	})
	for box, r := range failed {
		rec.Reasons[box+" (restore)"] = r
	}
	return len(failed) == 0
}

// parallel runs f for every one of boxes at once (Commit passes every box
// of rec.Goals, which holds every box of rec.Previous too, but for boxes
// that left the chassis), each bounded by timeout, and returns the reason
// of each box that failed.
func (c *Coordinator) parallel(ctx context.Context, phase Phase, rec *Record, boxes []string, timeout time.Duration, f func(context.Context, string, Device) error) map[string]string {
	var mu sync.Mutex
	reasons := map[string]string{}
	var wg sync.WaitGroup
	done := 0
	for _, box := range boxes {
		wg.Go(func() {
			dev, err := c.devs.Device(box)
			if err == nil {
				bctx, cancel := context.WithTimeout(ctx, timeout)
				err = f(bctx, box, dev)
				cancel()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				reasons[box] = err.Error()
			}
			done++
			if rec.progress != nil {
				rec.progress(Progress{ID: rec.ID, Phase: phase, Box: box, Done: done, Total: len(boxes), Err: err})
			}
		})
	}
	wg.Wait()
	return reasons
}

// verify checks g's pipeconf with VERIFY when the box does not run it,
// and reports whether it runs it.
func (c *Coordinator) verify(ctx context.Context, dev Device, g *goal.Goal) (bool, error) {
	if g == nil || g.Pipeconf == "" {
		return false, nil
	}
	pc, err := c.pcs.Get(g.Pipeconf)
	if err != nil {
		return false, err
	}
	cl, err := dev.P4Runtime()
	if err != nil {
		return false, err
	}
	if err := cl.WaitPrimary(ctx); err != nil {
		return false, fmt.Errorf("waiting to be primary: %w", err)
	}
	// A pipeconf change is rare and VERIFY is worth the truth: ask the box.
	runs, _, err := runsPipeconf(ctx, cl, dev, pc, false)
	if err != nil || runs {
		return runs, err
	}
	cfg, err := dev.PackagePipeconf(ctx, pc)
	if err != nil {
		return false, err
	}
	if err := cl.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY); err != nil {
		return false, fmt.Errorf("verify pipeconf %s: %w", pc.ID, err)
	}
	return false, nil
}

func (c *Coordinator) hookAt(s Stage, box string) bool {
	if c.hook != nil && errors.Is(c.hook(s, box), ErrAbandon) {
		c.abandoned = true
		return true
	}
	return false
}

// put journals rec's head (its goals do not change after Commit's first
// write) for a transaction that stays pending: with the footprints of its
// goals, which Recover needs.
func (c *Coordinator) put(ctx context.Context, rec *Record) error {
	fps, err := encodeFootprints(rec.Goals)
	if err != nil {
		return fmt.Errorf("txn %s: %w", rec.ID, err)
	}
	data, err := rec.journaledHead(fps)
	if err != nil {
		return fmt.Errorf("txn %s: %w", rec.ID, err)
	}
	if _, err := c.st.Put(context.WithoutCancel(ctx), c.keyTxn(rec.ID), data); err != nil {
		return fmt.Errorf("txn %s: journal %s: %w", rec.ID, rec.State, err)
	}
	return nil
}

// finish journals the outcome with the encoded goals of the boxes rec
// does not refer elsewhere for (when known), clears the pending marker and
// the footprints and, with v, advances the version, in one store
// transaction. The version refers to the goals journaled with its
// transaction rather than copying them.
func (c *Coordinator) finish(ctx context.Context, rec *Record, v *Version, goals map[string][]byte) error {
	head := rec.head()
	if goals != nil {
		head.PerBox, head.Refs = true, rec.Refs
	}
	data, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("txn %s: %w", rec.ID, err)
	}
	ops := []store.Op{store.OpPut(c.keyTxn(rec.ID), data), store.OpDelete(c.keyPending()), store.OpDelete(c.keyFootprint(rec.ID))}
	if v != nil {
		ref := *v
		ref.Goals = nil
		vd, err := json.Marshal(&ref)
		if err != nil {
			return fmt.Errorf("txn %s: %w", rec.ID, err)
		}
		ops = append(ops, store.OpPut(c.keyVersion(v.Number), vd), store.OpPut(c.keyCurrent(), []byte(strconv.FormatInt(v.Number, 10))))
		if rec.outcome != nil {
			ops = append(ops, rec.outcome(v.Number)...)
		}
	}
	var goalOps []store.Op
	if !rec.goalsAhead {
		goalOps = c.goalOps(rec.ID, goals)
	}
	// The goals that do not fit in the outcome's store transaction (the
	// engines' operation limit, etcd's request size) go first, in
	// transactions of their own: nothing refers to them until the
	// outcome does, and Recover deletes those of a transaction it rolls
	// back.
	maxBytes := c.maxTxnBytes()
	chunks := chunkOps(goalOps, journalOps, maxBytes)
	if n := len(chunks); n > 0 && len(chunks[n-1])+len(ops) <= journalOps && opsSize(chunks[n-1])+opsSize(ops) <= maxBytes {
		ops = append(ops, chunks[n-1]...)
		chunks = chunks[:n-1]
	}
	for _, chunk := range chunks {
		if _, err := c.st.Txn(context.WithoutCancel(ctx), store.Txn{Then: chunk}); err != nil {
			return fmt.Errorf("txn %s: journal goals: %w", rec.ID, err)
		}
	}
	res, err := c.st.Txn(context.WithoutCancel(ctx), store.Txn{
		If:   []store.Compare{store.CompareValue(c.keyPending(), store.Equal, []byte(rec.ID))},
		Then: ops,
	})
	if err != nil {
		return fmt.Errorf("txn %s: journal %s: %w", rec.ID, rec.State, err)
	}
	if !res.Succeeded {
		return fmt.Errorf("txn %s: journal %s: pending marker changed: %w", rec.ID, rec.State, ErrConflict)
	}
	return nil
}

// goalOps are the puts of a transaction's encoded goals, one key per box.
func (c *Coordinator) goalOps(id string, goals map[string][]byte) []store.Op {
	ops := make([]store.Op, 0, len(goals))
	for _, box := range slices.Sorted(maps.Keys(goals)) {
		ops = append(ops, store.OpPut(c.keyBoxGoal(id, box), goals[box]))
	}
	return ops
}

// goalsAheadBytes is the size of encoded goals from which a commit
// journals them while its boxes are still written, rather than with the
// outcome: beyond it, their write takes longer than the one durable write
// it saves (64 boxes of ~100 entities: 1.2 MB, 11 ms of CPU and a sync on
// bbolt). Tests lower it.
var goalsAheadBytes = 128 << 10

// minEncodedEntity is fewer bytes than a goal's encoding takes per entity
// (≈170 with its objective; a route's entity alone ≈40).
const minEncodedEntity = 32

// journalGoalsAhead journals the goals of a large commit (over
// goalsAheadBytes encoded) while its boxes are still being written,
// once the record is journaled and every box's goal is encoded (or the
// apply is over): under keys nothing refers to until the outcome does, so
// an abort (and Recover) deletes them. Smaller goals go with the outcome,
// in its store transaction. The channel yields once: the write's error,
// nil when nothing was written ahead; rec.goalsAhead is set before.
func (c *Coordinator) journalGoalsAhead(ctx context.Context, rec *Record, genc *goalEncoder, journaled <-chan struct{}, journalErr func() error, applied <-chan struct{}) <-chan error {
	out := make(chan error, 1)
	entities := 0
	for _, g := range rec.Goals {
		entities += len(g.Entities)
	}
	if entities*minEncodedEntity <= goalsAheadBytes {
		// Estimated from the entities alone: a small commit gets no
		// goroutine on its path. Goals made large by gNMI leaves only
		// go with the outcome, chunked as need be.
		out <- nil
		return out
	}
	go func() {
		select {
		case <-genc.allStarted:
		case <-applied:
		}
		<-journaled
		if journalErr() != nil {
			out <- nil
			return
		}
		goals, err := genc.result()
		if err != nil {
			out <- nil // Commit reports it
			return
		}
		ops := c.goalOps(rec.ID, goals)
		if opsSize(ops) <= goalsAheadBytes {
			out <- nil
			return
		}
		for _, chunk := range chunkOps(ops, journalOps, c.maxTxnBytes()) {
			if _, err := c.st.Txn(context.WithoutCancel(ctx), store.Txn{Then: chunk}); err != nil {
				out <- fmt.Errorf("txn %s: journal goals: %w", rec.ID, err)
				return
			}
		}
		rec.goalsAhead = true
		out <- nil
	}()
	return out
}

// journalOps and journalBytes bound one store transaction of the journal:
// the engines' operation limit, and, for an engine that does not say
// (store.TxnSizer), below etcd's default request size. Tests lower them.
var (
	journalOps   = store.MaxTxnOps
	journalBytes = 1 << 20
)

// maxTxnBytes is the most bytes of one journal transaction on c's store.
func (c *Coordinator) maxTxnBytes() int {
	n := journalBytes
	if s, ok := c.st.(store.TxnSizer); ok {
		if m := s.MaxTxnBytes(); m == 0 {
			n = math.MaxInt
		} else {
			n = min(n, m)
		}
	}
	return n
}

// chunkOps splits ops, in order, into runs of at most maxOps operations
// and maxBytes of keys and values (a single larger one alone).
func chunkOps(ops []store.Op, maxOps, maxBytes int) [][]store.Op {
	var out [][]store.Op
	start, size := 0, 0
	for i, o := range ops {
		n := len(o.Key) + len(o.Value)
		if i > start && (i-start >= maxOps || size+n > maxBytes) {
			out = append(out, ops[start:i:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(ops) {
		out = append(out, ops[start:])
	}
	return out
}

// opsSize is the bytes of keys and values of ops.
func opsSize(ops []store.Op) int {
	n := 0
	for _, o := range ops {
		n += len(o.Key) + len(o.Value)
	}
	return n
}

// dropGoals deletes the goals a transaction journaled before its outcome
// was refused or never written, so that a rolled-back transaction leaves
// none behind; a failure only leaves them, unreferenced.
func (c *Coordinator) dropGoals(ctx context.Context, id string, log *slog.Logger) {
	ctx = context.WithoutCancel(ctx)
	res, err := c.st.Range(ctx, c.keyBoxGoal(id, ""))
	if err != nil {
		log.Warn("listing the goals of a rolled-back transaction", "err", err)
		return
	}
	var dels []store.Op
	for _, kv := range res.KVs {
		dels = append(dels, store.OpDelete(kv.Key))
	}
	for _, chunk := range chunkOps(dels, journalOps, c.maxTxnBytes()) {
		if _, err := c.st.Txn(ctx, store.Txn{Then: chunk}); err != nil {
			log.Warn("deleting the goals of a rolled-back transaction", "err", err)
			return
		}
	}
}

func (c *Coordinator) lock(ctx context.Context) error { return c.sem.acquire(ctx, true) }

func (c *Coordinator) unlock() { c.sem.release(true) }

// Hold waits until no Commit or Recover of this coordinator runs and keeps
// them from starting until release is called: the reconciler holds it so
// that it never repairs a box towards a version a transaction is replacing.
// Holds are shared: several boxes may be reconciled at once.
func (c *Coordinator) Hold(ctx context.Context) (release func(), err error) {
	if err := c.sem.acquire(ctx, false); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { c.sem.release(false) }) }, nil
}

// Goal returns the committed goal of box: an empty goal when the current
// version has none for it, or there is no version yet.
func (c *Coordinator) Goal(ctx context.Context, box string) (*goal.Goal, error) {
	v, err := c.Current(ctx)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return &goal.Goal{Box: box}, nil
	}
	return orEmpty(box, v.Goals[box]), nil
}
