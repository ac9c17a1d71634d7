package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// Module allocation.
//
// Listing every module binding for every new box made registration O(n)
// per box, and O(n²) with retries when registrations raced. Instead:
//
//   - The inventory remembers which module IDs are held (modules below), so
//     that the lowest free one is found without reading the store. This
//     memory is only a hint: what makes an ID a box's is still the
//     transaction's Missing(<prefix>modules/<id>) compare, so a stale hint
//     costs a failed transaction, never a duplicate ID.
//   - A stale hint is caught by that same transaction. An ID taken by
//     another inventory fails its Missing compare, and the transaction's
//     Else reads tell which: the hint learns it and the next candidate is
//     tried, without listing. An ID freed by another inventory is caught by
//     <prefix>freed, which every Decommission rewrites: the transaction
//     compares its mod revision with the one the hint was read at, and when
//     it differs the hint is read again from the store (the one Range).
//   - New boxes registered at once through one inventory are claimed
//     together, up to maxBatch per transaction (group commit): one of the
//     waiting callers commits every queued claim, the others wait for their
//     answer. Concurrent registrations then do not race each other for the
//     same lowest ID, and a batch either gets the lowest free IDs, all of
//     them, or none, so no hole is left behind a claim that failed.

// maxBatch is the most new boxes claimed in one transaction: two compares
// per box and one for <prefix>freed within store.MaxTxnOps.
const maxBatch = (store.MaxTxnOps - 1) / 2

// maxBatchBytes bounds the records of one batch, well below etcd's default
// request limit (1.5 MiB); a single larger record still goes, alone.
const maxBatchBytes = 512 << 10

// claim is one new box waiting for its module ID.
type claim struct {
	box  Box    // the record to store; Module is set by the commit
	want uint32 // the module asked for (BoxSpec.Module), or 0
	size int    // about the size of the record, to bound a batch
	// done receives the one outcome of the claim. It is buffered so that
	// the committer never waits for a caller that gave up.
	done chan outcome
}

// outcome is how a claim ended: box registered, err, or retry — the serial
// was registered meanwhile (by another caller or inventory) or the commit
// was abandoned, and the caller must start over from reading its record.
type outcome struct {
	box   Box
	err   error
	retry bool
}

// allocator claims module IDs for new boxes. Its zero value is not usable:
// see newAllocator.
type allocator struct {
	inv *Inventory
	// commit is held (a token sent) by the one caller committing a batch.
	commit chan struct{}

	mu    sync.Mutex // guards queue and mods
	queue []*claim
	mods  modules
}

func newAllocator(inv *Inventory) *allocator {
	return &allocator{inv: inv, commit: make(chan struct{}, 1)}
}

// modules is the inventory's memory of the module IDs held: bit id of held
// is set when module id is held. Every ID below low is held, so the search
// for the lowest free one starts there, which makes it O(1) amortised.
type modules struct {
	loaded bool
	held   []uint64
	low    uint32
	// changed is the store revision of the last change applied per ID, so
	// that a late report (a registration's, after a Decommission of the
	// same box) does not undo a newer one.
	changed map[uint32]int64
	// freedRev is the mod revision of <prefix>freed when held was read (0:
	// no Decommission yet): the compare that tells whether an ID was freed
	// since.
	freedRev int64
}

// set records that id became held (or free) at store revision rev.
func (m *modules) set(id uint32, held bool, rev int64) {
	if !m.loaded || id < 1 || id > MaxModule || rev <= m.changed[id] {
		return
	}
	m.changed[id] = rev
	if held {
		m.held[id/64] |= 1 << (id % 64)
		return
	}
	m.held[id/64] &^= 1 << (id % 64)
	m.low = min(m.low, id)
}

// next returns the lowest ID from from on, at most limit (≤ MaxModule),
// that is neither held nor in skip; ok is false if there is none.
func (m *modules) next(from, limit uint32, skip map[uint32]bool) (id uint32, ok bool) {
	lowest := from <= m.low // the first free ID found is the lowest one
	for id = max(from, m.low); id <= limit; {
		if w := m.held[id/64] >> (id % 64); w&1 != 0 {
			// Jump to the first free ID of the word, or the next word.
			id += uint32(bits.TrailingZeros64(^w))
			continue
		}
		if lowest {
			m.low, lowest = id, false
		}
		if !skip[id] {
			return id, true
		}
		id++
	}
	return 0, false
}

// FreedKey returns the store key every Decommission rewrites (its value is
// the module ID freed): the mark by which an inventory learns that a module
// ID was freed by another.
func (inv *Inventory) FreedKey() string { return inv.o.prefix + "freed" }

// load reads the module bindings from the store into a.mods: the one O(n)
// step, taken at the first allocation and after another inventory freed an
// ID. Only the committer calls it.
func (a *allocator) load(ctx context.Context) error {
	inv := a.inv
	// <prefix>freed first: should a Decommission come between the two
	// reads, the Range sees more than freedRev says, and the next compare
	// only makes load run again.
	var freedRev int64
	kv, err := inv.st.Get(ctx, inv.FreedKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("inventory: read %s: %w", inv.FreedKey(), err)
	default:
		freedRev = kv.ModRevision
	}
	res, err := inv.st.Range(ctx, inv.modulePrefix())
	if err != nil {
		return fmt.Errorf("inventory: read modules: %w", err)
	}
	m := modules{loaded: true, held: make([]uint64, MaxModule/64+1), low: 1, changed: map[uint32]int64{}, freedRev: freedRev}
	for _, kv := range res.KVs {
		n, err := strconv.ParseUint(strings.TrimPrefix(kv.Key, inv.modulePrefix()), 10, 32)
		if err != nil {
			// Not ours: never reuse what we cannot read, never fail on it.
			inv.o.log.Warn("inventory: ignoring malformed module key", "key", kv.Key)
			continue
		}
		m.set(uint32(n), true, kv.ModRevision)
	}
	a.mu.Lock()
	a.mods = m
	a.mu.Unlock()
	return nil
}

// freed records that this inventory's Decommission freed id at revision
// rev, <prefix>freed having had mod revision prev before it. When prev is
// the revision the memory was read at, nobody else freed an ID in between
// and the memory stays current; otherwise the next allocation reloads it.
func (a *allocator) freed(id uint32, prev, rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mods.set(id, false, rev)
	if a.mods.freedRev == prev {
		a.mods.freedRev = rev
	}
}

// claim allocates a module ID to the new box b (want if not 0) and stores
// it, with the boxes other callers register at the same time.
func (a *allocator) claim(ctx context.Context, b Box, want uint32) outcome {
	val, err := encodeBox(b)
	if err != nil {
		return outcome{err: err}
	}
	c := &claim{box: b, want: want, size: len(val), done: make(chan outcome, 1)}
	a.mu.Lock()
	a.queue = append(a.queue, c)
	a.mu.Unlock()
	for {
		select {
		case out := <-c.done:
			return out
		default:
		}
		select {
		case out := <-c.done:
			return out
		case a.commit <- struct{}{}:
			// This caller commits what is queued (its own claim, unless an
			// earlier committer took it), then lets the next one.
			a.commitQueued(ctx)
			<-a.commit
		case <-ctx.Done():
			a.mu.Lock()
			a.queue = deleteClaim(a.queue, c)
			a.mu.Unlock()
			// If a committer had taken it, the box may still be stored:
			// as with any store write cut short, a caller that retries
			// finds it registered.
			return outcome{err: fmt.Errorf("inventory: register box %s: %w", b.Serial, ctx.Err())}
		}
	}
}

func deleteClaim(q []*claim, c *claim) []*claim {
	for i, x := range q {
		if x == c {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}

// take removes from the queue a batch of at most maxBatch claims that can
// share one transaction: no serial twice, no asked-for module twice (a
// branch may not write a key twice). The others wait for the next batch.
func (a *allocator) take() []*claim {
	a.mu.Lock()
	defer a.mu.Unlock()
	var batch, rest []*claim
	serials := map[string]bool{}
	wants := map[uint32]bool{}
	size := 0
	for _, c := range a.queue {
		full := len(batch) == maxBatch || (len(batch) > 0 && size+c.size > maxBatchBytes)
		if full || serials[c.box.Serial] || (c.want != 0 && wants[c.want]) {
			rest = append(rest, c)
			continue
		}
		size += c.size
		serials[c.box.Serial] = true
		if c.want != 0 {
			wants[c.want] = true
		}
		batch = append(batch, c)
	}
	a.queue = rest
	return batch
}

// commitQueued claims a batch of queued boxes in one transaction, retried
// with what each failure taught until every claim of the batch has its
// outcome. Only the holder of a.commit calls it.
func (a *allocator) commitQueued(ctx context.Context) {
	batch := a.take()
	// reloaded: the memory was read from the store during this call, so
	// "every ID is held" is as true as a fresh read would say.
	reloaded := false
	for len(batch) > 0 {
		if ctx.Err() != nil {
			// This caller gave up; the others start over and commit
			// their claims themselves.
			deliver(batch, outcome{retry: true})
			return
		}
		a.mu.Lock()
		loaded := a.mods.loaded
		a.mu.Unlock()
		if !loaded {
			if err := a.load(ctx); err != nil {
				deliverErr(ctx, batch, err)
				return
			}
			reloaded = true
		}
		full, freedRev := a.assign(batch)
		if len(full) > 0 {
			if !reloaded {
				// The memory may miss an ID freed elsewhere: read the
				// store before saying there is none.
				a.invalidate()
				continue
			}
			for _, c := range full {
				c.done <- outcome{err: fmt.Errorf("inventory: box %s: all %d module IDs held: %w",
					c.box.Serial, a.inv.o.maxModule, ErrNoFreeModule)}
			}
			batch = deleteClaims(batch, full)
			continue
		}
		var conflict bool
		if batch, conflict = a.store(ctx, batch, freedRev); conflict && len(batch) > 0 {
			a.inv.o.log.Debug("inventory: conflict, retrying", "boxes", len(batch))
		}
	}
}

func (a *allocator) invalidate() {
	a.mu.Lock()
	a.mods.loaded = false
	a.mu.Unlock()
}

// assign sets the module of each claim of batch: the one asked for, or the
// lowest free one not asked for by another claim. It returns the claims
// left without one (every ID held) and the freed revision the choice rests
// on.
func (a *allocator) assign(batch []*claim) (full []*claim, freedRev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	wanted := map[uint32]bool{}
	for _, c := range batch {
		if c.want != 0 {
			wanted[c.want] = true
		}
	}
	next := uint32(1)
	for _, c := range batch {
		if c.want != 0 {
			// Asked-for IDs go to the store as they are: its Missing
			// compare says whether they are free.
			c.box.Module = c.want
			continue
		}
		id, ok := a.mods.next(next, a.inv.o.maxModule, wanted)
		if !ok {
			full = append(full, c)
			continue
		}
		c.box.Module, next = id, id+1
	}
	return full, a.mods.freedRev
}

// store writes the batch's records and module bindings in one transaction
// if none of the serials and modules exists yet and no ID was freed since
// freedRev. It delivers the outcome of the claims it settles and returns
// the others, to be tried again; conflict reports that the transaction's
// compares failed.
func (a *allocator) store(ctx context.Context, batch []*claim, freedRev int64) (left []*claim, conflict bool) {
	inv := a.inv
	t := store.Txn{If: []store.Compare{store.CompareModRevision(inv.FreedKey(), store.Equal, freedRev)}}
	for _, c := range batch {
		val, err := encodeBox(c.box)
		if err != nil {
			c.done <- outcome{err: err}
			return deleteClaims(batch, []*claim{c}), false
		}
		boxKey, modKey := inv.BoxKey(c.box.Serial), inv.ModuleKey(c.box.Module)
		t.If = append(t.If, store.Missing(boxKey), store.Missing(modKey))
		t.Then = append(t.Then, store.OpPut(boxKey, val), store.OpPut(modKey, []byte(c.box.Serial)))
		t.Else = append(t.Else, store.OpGet(boxKey), store.OpGet(modKey))
	}
	t.Else = append(t.Else, store.OpGet(inv.FreedKey()))
	res, err := inv.st.Txn(ctx, t)
	if err != nil {
		deliverErr(ctx, batch, fmt.Errorf("inventory: register %d new boxes: %w", len(batch), err))
		return nil, false
	}
	if res.Succeeded {
		a.mu.Lock()
		for _, c := range batch {
			a.mods.set(c.box.Module, true, res.Revision)
		}
		a.mu.Unlock()
		for _, c := range batch {
			c.box.Revision = res.Revision
			inv.o.log.Info("inventory: box registered", "serial", c.box.Serial, "module", c.box.Module, "address", addressOf(c.box.Spec))
			c.done <- outcome{box: c.box}
		}
		return nil, false
	}
	if len(res.Results) != len(t.Else) {
		deliverErr(ctx, batch, fmt.Errorf("inventory: register %d new boxes: store returned %d results for %d gets",
			len(batch), len(res.Results), len(t.Else)))
		return nil, false
	}
	var rev int64 // a missing key's mod revision is 0, as in the compare
	if freed := res.Results[len(res.Results)-1]; freed.Found {
		rev = freed.KV.ModRevision
	}
	if rev != freedRev {
		// Another inventory freed an ID: read them all again.
		a.invalidate()
	}
	a.mu.Lock()
	for i, c := range batch {
		box, mod := res.Results[2*i], res.Results[2*i+1]
		if mod.Found {
			a.mods.set(c.box.Module, true, mod.KV.ModRevision)
		}
		switch {
		case box.Found:
			c.done <- outcome{retry: true}
		case mod.Found && c.want != 0:
			c.done <- outcome{err: fmt.Errorf("inventory: box %s asked for module %d, held by box %s: %w",
				c.box.Serial, c.want, mod.KV.Value, ErrModuleTaken)}
		default:
			left = append(left, c)
		}
	}
	a.mu.Unlock()
	return left, true
}

func deleteClaims(batch, gone []*claim) []*claim {
	for _, c := range gone {
		batch = deleteClaim(batch, c)
	}
	return batch
}

func deliver(batch []*claim, out outcome) {
	for _, c := range batch {
		c.done <- out
	}
}

// deliverErr ends the claims of a commit that failed with err. If it failed
// because the committer's context ended, the other claims are not lost:
// they start over.
func deliverErr(ctx context.Context, batch []*claim, err error) {
	if ctx.Err() != nil {
		deliver(batch, outcome{retry: true})
		return
	}
	deliver(batch, outcome{err: err})
}
