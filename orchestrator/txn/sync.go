package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/diff"
)

// Device is what the coordinator and the reconciler need of a box;
// every driver.Device is one.
type Device interface {
	P4Runtime() (*client.Client, error)
	GNMI() (*gnmi.Client, error)
	PackagePipeconf(ctx context.Context, pc *pipeline.Pipeconf) ([]byte, error)
}

// Devices finds the device of a box by name (the inventory does).
type Devices interface {
	Device(box string) (Device, error)
}

// DeviceMap is a fixed set of devices by box name.
type DeviceMap map[string]Device

// ErrUnknownBox is wrapped when a box has no device.
var ErrUnknownBox = errors.New("txn: unknown box")

// Device implements Devices.
func (m DeviceMap) Device(box string) (Device, error) {
	d, ok := m[box]
	if !ok || d == nil {
		return nil, fmt.Errorf("box %s: %w", box, ErrUnknownBox)
	}
	return d, nil
}

// Changes counts what a Sync changed (or, with dry run, found different).
type Changes struct {
	// Pipeline is set when the pipeline was (or had to be) set.
	Pipeline bool
	// Inserts, Modifies and Deletes count the P4 writes.
	Inserts, Modifies, Deletes int
	// GNMI counts the gNMI leaves updated or deleted.
	GNMI int
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return c == Changes{} }

// Total is the number of changes.
func (c Changes) Total() int {
	n := c.Inserts + c.Modifies + c.Deletes + c.GNMI
	if c.Pipeline {
		n++
	}
	return n
}

// BoxError is the failure of one box, naming it.
type BoxError struct {
	Box string
	Err error
}

// Error names the box.
func (e *BoxError) Error() string { return fmt.Sprintf("box %s: %v", e.Box, e.Err) }

// Unwrap returns the cause.
func (e *BoxError) Unwrap() error { return e.Err }

// SyncOptions configures Sync.
type SyncOptions struct {
	// Pipeconfs finds pipeconfs by ID.
	Pipeconfs goal.Pipeconfs
	// Logger logs (with the caller's attributes, e.g. "op").
	Logger *slog.Logger
	// DryRun computes the changes without writing them.
	DryRun bool
	// Running says the caller has just checked that the box runs want's
	// pipeconf (Commit's prepare does), so Sync does not ask again. A box
	// that lost it since fails the writes.
	Running bool
	// KeepP4 and KeepGNMI leave the box's P4Runtime or gNMI state alone
	// (no read, no write): Commit sets them for the half of a box's goal
	// that the transaction does not change, which the commit of the
	// current version brought the box to (drift since is the
	// reconciler's to repair).
	KeepP4, KeepGNMI bool
	// BeforeChange, when set, is called before Sync changes anything on
	// the box (sets the pipeline, writes, sets gNMI leaves), possibly
	// from two goroutines at once; an error stops Sync there. Commit
	// reads the boxes while its journal write is in flight and holds the
	// first change until the journal is durable.
	BeforeChange func(context.Context) error
	// Encoded, when set, gives the proto encoding of want's entities
	// (nil for others): the writes send those bytes rather than encoding
	// the entities again. Commit encodes each goal for its journal once.
	Encoded func(*p4v1.Entity) []byte
}

// beforeChange calls o.BeforeChange, if any.
func (o SyncOptions) beforeChange(ctx context.Context, box string) error {
	if o.BeforeChange == nil {
		return nil
	}
	if err := o.BeforeChange(ctx); err != nil {
		return &BoxError{box, err}
	}
	return nil
}

// Sync brings one box to want: it sets want's pipeconf when the box does not
// run it (which clears the box), reads back the P4 entities in the tables
// want and cover touch and the gNMI leaves they configure, and writes the
// difference: P4 writes in the pipeliner's dependency order, one Write per
// run of updates of one type and rank, and (alongside, as gNMI and P4
// Runtime own disjoint state) the gNMI changes as one Set.
// cover are other goals of the box (the previous or next version) whose
// entities and leaves Sync also owns: what they have and want lacks is
// deleted. Sync is idempotent: on a box that already has want, it writes
// nothing.
func Sync(ctx context.Context, box string, dev Device, want *goal.Goal, cover []*goal.Goal, o SyncOptions) (Changes, error) {
	var ch Changes
	if want == nil {
		want = &goal.Goal{Box: box}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pcID := want.Pipeconf
	for _, g := range cover {
		if pcID == "" && g != nil && g.Pipeconf != "" {
			pcID = g.Pipeconf
		}
	}
	hasP4 := len(want.Entities) > 0 || want.Pipeconf != ""
	for _, g := range cover {
		if g != nil && len(g.Entities) > 0 {
			hasP4 = true
		}
	}
	// P4 and gNMI own disjoint state on the box: sync them side by side,
	// so that a box costs the round trips of the longer of the two. gNMI
	// starts once the P4Runtime stream is primary: a box that has just
	// restarted is answering again by then.
	var gch Changes
	gerr := make(chan error, 1)
	var once sync.Once
	startGNMI := func() {
		once.Do(func() {
			if o.KeepGNMI {
				gerr <- nil
				return
			}
			go func() { gerr <- syncGNMI(ctx, box, dev, want, cover, o, log, &gch) }()
		})
	}
	var perr error
	if hasP4 && pcID != "" && !o.KeepP4 {
		perr = syncP4(ctx, box, dev, want, cover, pcID, o, log, &ch, startGNMI)
	}
	startGNMI()
	err := <-gerr
	if err != nil && perr == nil && ctx.Err() == nil {
		// The gNMI connection of a box that has just restarted may still
		// be reconnecting when its P4Runtime stream is primary again; it
		// has had the time of the P4 writes since. A gNMI Set is all or
		// nothing (gNMI spec 3.4.3) and syncGNMI reads back first, so
		// asking again is safe.
		log.Debug("gnmi sync failed alongside p4, again after it", "box", box, "err", err)
		gch = Changes{}
		err = syncGNMI(ctx, box, dev, want, cover, o, log, &gch)
	}
	ch.GNMI = gch.GNMI
	if perr != nil {
		return ch, perr
	}
	return ch, err
}

// pipeliners caches a pipeliner per pipeconf: building one indexes the
// program's schema, and Sync only needs its Rank, which does not change.
// Boxes share it, so Rank is called concurrently: the built-in pipeliners
// rank from tables they only read.
var (
	pipelinersMu sync.Mutex
	pipeliners   = map[*pipeline.Pipeconf]pipeline.Pipeliner{}
)

func pipelinerOf(pc *pipeline.Pipeconf) (pipeline.Pipeliner, error) {
	pipelinersMu.Lock()
	pl, ok := pipeliners[pc]
	pipelinersMu.Unlock()
	if ok {
		return pl, nil
	}
	pl, err := pc.Pipeliner()
	if err != nil {
		return nil, err
	}
	pipelinersMu.Lock()
	if len(pipeliners) < 256 {
		pipeliners[pc] = pl
	}
	pipelinersMu.Unlock()
	return pl, nil
}

// syncP4 is Sync's P4Runtime half; it calls primary once it is primary.
func syncP4(ctx context.Context, box string, dev Device, want *goal.Goal, cover []*goal.Goal, pcID string, o SyncOptions, log *slog.Logger, ch *Changes, primary func()) error {
	if o.Pipeconfs == nil {
		return &BoxError{box, errors.New("no pipeconf source")}
	}
	pc, err := o.Pipeconfs.Get(pcID)
	if err != nil {
		return &BoxError{box, err}
	}
	pl, err := pipelinerOf(pc)
	if err != nil {
		return &BoxError{box, fmt.Errorf("pipeconf %s: %w", pcID, err)}
	}
	c, err := dev.P4Runtime()
	if err != nil {
		return &BoxError{box, err}
	}
	if err := c.WaitPrimary(ctx); err != nil {
		return &BoxError{box, fmt.Errorf("waiting to be primary: %w", err)}
	}
	primary()
	var covered []*goal.Goal
	covered = append(covered, want)
	for _, g := range cover {
		if g != nil && (g.Pipeconf == pcID || g.Pipeconf == "") {
			covered = append(covered, g)
		}
	}
	wild := Wildcards(covered...)
	type readResult struct {
		ents []*p4v1.Entity
		err  error
	}
	var read readResult
	runs := o.Running && want.Pipeconf == pcID
	known := false // runs comes from the client's KnownCookie
	if !runs {
		if _, ok := c.KnownCookie(); ok {
			if runs, known, err = runsPipeconf(ctx, c, dev, pc, true); err != nil {
				return &BoxError{box, err}
			}
		}
	}
	if runs || known {
		// Whether the box runs the pipeconf is known without a round
		// trip: read back what the goals cover here, if it does.
		if runs && len(wild) > 0 {
			read.ents, read.err = c.ReadAll(ctx, wild...)
		}
	} else {
		// Ask the box: the read goes out together with the cookie check
		// (one round trip instead of two) and is thrown away if the box
		// does not run the pipeconf.
		var readc chan readResult
		if len(wild) > 0 {
			readc = make(chan readResult, 1)
			go func() {
				ents, err := c.ReadAll(ctx, wild...)
				readc <- readResult{ents, err}
			}()
		}
		runs, known, err = runsPipeconf(ctx, c, dev, pc, true)
		if readc != nil {
			read = <-readc
		}
		if err != nil {
			return &BoxError{box, err}
		}
	}
	var actual []*p4v1.Entity
	if known && read.err != nil {
		// A box that restarted an instant ago answers on a new
		// connection before the client has seen its stream end: the
		// pipeline it knew may be gone. Ask the box, and read again.
		log.Debug("read back failed with the pipeline known, asking the box", "box", box, "err", read.err)
		if runs, _, err = runsPipeconf(ctx, c, dev, pc, false); err != nil {
			return &BoxError{box, err}
		}
		if runs {
			read.ents, read.err = c.ReadAll(ctx, wild...)
		}
	}
	switch {
	case !runs && want.Pipeconf == pcID:
		ch.Pipeline = true
		if !o.DryRun {
			if err := o.beforeChange(ctx, box); err != nil {
				return err
			}
			log.Info("setting pipeline", "box", box, "pipeconf", pcID)
			if err := setPipeconf(ctx, c, dev, pc); err != nil {
				return &BoxError{box, fmt.Errorf("set pipeconf %s: %w", pcID, err)}
			}
		}
	case !runs:
		// Going to a goal without P4 on a box that lost its pipeline:
		// nothing of the covered goals is left on it.
		return nil
	case read.err != nil:
		return &BoxError{box, fmt.Errorf("read back: %w", read.err)}
	default:
		actual = read.ents
	}
	plan, err := diff.Compute(want.Entities, actual, diff.WithRank(pl.Rank), diff.WithSchema(pc.Schema))
	if err != nil {
		return &BoxError{box, fmt.Errorf("diff: %w", err)}
	}
	ch.Inserts, ch.Modifies, ch.Deletes = len(plan.Inserts), len(plan.Modifies), len(plan.Deletes)
	if plan.Empty() || o.DryRun {
		return nil
	}
	if err := o.beforeChange(ctx, box); err != nil {
		return err
	}
	ups := plan.Updates()
	var wopts []client.WriteOption
	if o.Encoded != nil {
		wopts = append(wopts, client.WithEncodedEntities(o.Encoded))
	}
	for _, run := range Runs(ups, pl.Rank) {
		if err := c.Write(ctx, run, wopts...); err != nil {
			return &BoxError{box, fmt.Errorf("write %d %s updates: %w", len(run), run[0].GetType(), err)}
		}
	}
	log.Debug("p4 synced", "box", box, "inserts", ch.Inserts, "modifies", ch.Modifies, "deletes", ch.Deletes)
	return nil
}

// setPipeconf packages pc for dev and pushes it with VERIFY_AND_COMMIT and
// its cookie (as driver.SetPipeconf does, for any Device).
func setPipeconf(ctx context.Context, c *client.Client, dev Device, pc *pipeline.Pipeconf) error {
	cfg, err := dev.PackagePipeconf(ctx, pc)
	if err != nil {
		return err
	}
	return c.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, cookie(pc, cfg))
}

// runsPipeconf reports whether the box runs pc (by cookie). With useKnown,
// it does not ask the box when the client knows the cookie: one it set or
// read while it has been primary without a break (client.KnownCookie),
// since only the primary may change the pipeline and a restarted box ends
// the stream; known reports that it did so.
func runsPipeconf(ctx context.Context, c *client.Client, dev Device, pc *pipeline.Pipeconf, useKnown bool) (runs, known bool, err error) {
	cfg, err := dev.PackagePipeconf(ctx, pc)
	if err != nil {
		return false, false, fmt.Errorf("package pipeconf %s: %w", pc.ID, err)
	}
	if ck, ok := c.KnownCookie(); ok && useKnown {
		return ck == cookie(pc, cfg), true, nil
	}
	got, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY)
	if errors.Is(err, client.ErrNoPipeline) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("get pipeline: %w", err)
	}
	ck := got.GetCookie()
	return ck != nil && ck.GetCookie() == cookie(pc, cfg), false, nil
}

// cookieKey identifies a packaged config by identity: drivers that package
// by returning the pipeconf's own bytes hit the cache every time.
type cookieKey struct {
	pc  *pipeline.Pipeconf
	cfg *byte
	n   int
}

var (
	cookieMu    sync.Mutex
	cookieCache = map[cookieKey]uint64{}
)

// cookie is driver.Cookie, cached (it hashes the whole P4Info and device
// config) for configs that are the same bytes each time.
func cookie(pc *pipeline.Pipeconf, cfg []byte) uint64 {
	if len(cfg) == 0 {
		return driver.Cookie(pc, cfg)
	}
	k := cookieKey{pc, &cfg[0], len(cfg)}
	cookieMu.Lock()
	v, ok := cookieCache[k]
	cookieMu.Unlock()
	if ok {
		return v
	}
	v = driver.Cookie(pc, cfg)
	cookieMu.Lock()
	if len(cookieCache) < 256 {
		cookieCache[k] = v
	}
	cookieMu.Unlock()
	return v
}

// Runs splits ordered updates into runs of one update type and rank, each to
// be written (and acknowledged) before the next: bmv2 and PINS only do
// CONTINUE_ON_ERROR and may reorder the updates of one batch.
func Runs(ups []*p4v1.Update, rank diff.Rank) [][]*p4v1.Update {
	if rank == nil {
		rank = diff.DefaultRank
	}
	var out [][]*p4v1.Update
	start := 0
	for i := 1; i <= len(ups); i++ {
		if i == len(ups) || ups[i].GetType() != ups[start].GetType() || rank(ups[i].GetEntity()) != rank(ups[start].GetEntity()) {
			out = append(out, ups[start:i])
			start = i
		}
	}
	return out
}

// wildcard names one wildcard read: the kind of entity (table entry,
// action profile member or group, multicast group, clone session) and its
// table or profile ID.
type wildcard struct {
	kind byte // 't', 'm', 'g', 'c', 's'
	id   uint32
}

// wildcards returns the wildcard reads that cover every entity of the
// goals, each once, in the order the goals first need them.
func wildcards(goals ...*goal.Goal) []wildcard {
	// Few kinds and tables, and entities mostly in runs of one table: the
	// last one found, then a scan, beat a map.
	var out []wildcard
	var last wildcard
	for _, g := range goals {
		if g == nil {
			continue
		}
		for _, e := range g.Entities {
			var k wildcard
			switch x := e.GetEntity().(type) {
			case *p4v1.Entity_TableEntry:
				k = wildcard{'t', x.TableEntry.GetTableId()}
			case *p4v1.Entity_ActionProfileMember:
				k = wildcard{'m', x.ActionProfileMember.GetActionProfileId()}
			case *p4v1.Entity_ActionProfileGroup:
				k = wildcard{'g', x.ActionProfileGroup.GetActionProfileId()}
			case *p4v1.Entity_PacketReplicationEngineEntry:
				switch x.PacketReplicationEngineEntry.GetType().(type) {
				case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
					k = wildcard{kind: 'c'}
				case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
					k = wildcard{kind: 's'}
				}
			}
			if k.kind == 0 || k == last || slices.Contains(out, k) {
				last = k
				continue
			}
			last = k
			out = append(out, k)
		}
	}
	return out
}

// entity is the wildcard read request.
func (w wildcard) entity() *p4v1.Entity {
	switch w.kind {
	case 't':
		return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: w.id}}}
	case 'm':
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{ActionProfileId: w.id}}}
	case 'g':
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{ActionProfileId: w.id}}}
	case 'c':
		return &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
			Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: &p4v1.MulticastGroupEntry{}}}}}
	default:
		return &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
			Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{CloneSessionEntry: &p4v1.CloneSessionEntry{}}}}}
	}
}

// Wildcards returns the wildcard read requests that cover every entity of
// the goals: each table, action profile (members and groups), multicast
// group, clone session or other entity kind, once.
func Wildcards(goals ...*goal.Goal) []*p4v1.Entity {
	ws := wildcards(goals...)
	out := make([]*p4v1.Entity, len(ws))
	for i, w := range ws {
		out[i] = w.entity()
	}
	return out
}

func syncGNMI(ctx context.Context, box string, dev Device, want *goal.Goal, cover []*goal.Goal, o SyncOptions, log *slog.Logger, ch *Changes) error {
	wantLeaves := map[string]any{}
	var paths []string
	for _, l := range want.Config {
		wantLeaves[l.Path] = l.Value
		paths = append(paths, l.Path)
	}
	for _, g := range cover {
		if g == nil {
			continue
		}
		for _, l := range g.Config {
			if !slices.Contains(paths, l.Path) {
				paths = append(paths, l.Path)
			}
		}
	}
	if len(paths) == 0 {
		return nil
	}
	g, err := dev.GNMI()
	if err != nil {
		return &BoxError{box, err}
	}
	have := map[string]any{}
	asked := make(map[string]bool, len(paths))
	for _, p := range paths {
		asked[p] = true
	}
	recs, err := g.Get(ctx, paths)
	ok := err == nil
	for _, r := range recs {
		if !asked[r.Path] {
			ok = false
		}
	}
	if ok {
		for _, r := range recs {
			if !r.Deleted {
				have[r.Path] = r.Value
			}
		}
	} else {
		// Some leaf is not there (or the target answers per path
		// differently): ask one path at a time; a missing leaf reads as
		// missing.
		for _, p := range paths {
			recs, err := g.Get(ctx, []string{p})
			if err != nil {
				continue
			}
			for _, r := range recs {
				if !r.Deleted {
					have[p] = r.Value
				}
			}
		}
	}
	var ops []gnmi.SetOp
	for _, p := range paths {
		w, wanted := wantLeaves[p]
		h, has := have[p]
		switch {
		case wanted && (!has || !sameValue(w, h)):
			ops = append(ops, gnmi.SetUpdate(p, w))
		case !wanted && has:
			ops = append(ops, gnmi.SetDelete(p))
		}
	}
	ch.GNMI = len(ops)
	if len(ops) == 0 || o.DryRun {
		return nil
	}
	if err := o.beforeChange(ctx, box); err != nil {
		return err
	}
	if _, err := g.Set(ctx, ops...); err != nil {
		return &BoxError{box, fmt.Errorf("gNMI set of %d leaves: %w", len(ops), err)}
	}
	log.Debug("gnmi synced", "box", box, "leaves", len(ops))
	return nil
}

// sameValue compares gNMI values by their JSON form, so that 9000 as a
// uint16 and as a decoded JSON number are the same.
func sameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func diffPlan(desired, actual []*p4v1.Entity) (*diff.Plan, error) {
	return diff.Compute(desired, actual)
}
