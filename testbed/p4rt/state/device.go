package state

import (
	"sort"
	"sync"
	"time"

	"github.com/p4fabric/fabric/p4/schema"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Device is the forwarding state of one emulated P4Runtime device for one
// pipeline (P4Info). It is safe for concurrent use: writes are serialized,
// reads run concurrently with each other, and a read never sees part of a
// write batch.
//
// Write keeps references to the entities of the updates it applies (the
// validated protos are stored as they are unless a bytestring needed
// canonicalization), so the caller must not modify them afterwards; a gRPC
// server that discards each request after handling it does not. Entities
// handed to Read's send callback share sub-messages with the state and must
// be treated as read-only (clone them to change them).
type Device struct {
	s   *schema.Schema
	now func() time.Time // the clock for idle timeouts; time.Now

	mu           sync.RWMutex
	tables       map[uint32]*tableState
	tableList    []*tableState // P4Info order
	profiles     map[uint32]*profileState
	profileList  []*profileState
	counters     map[uint32]*counterState
	counterList  []*counterState
	meters       map[uint32]*meterState
	meterList    []*meterState
	registers    map[uint32]*registerState
	registerList []*registerState
	digests      map[uint32]*p4v1.DigestEntry_Config
	valueSets    map[uint32]*valueSetState
	valueSetList []*valueSetState
	mcast        map[uint32]*p4v1.MulticastGroupEntry
	clones       map[uint32]*p4v1.CloneSessionEntry

	keyBuf    []byte   // reused for table keys under the write lock
	recording bool     // an undo log is being kept (ROLLBACK_ON_ERROR, Reconcile)
	undo      []func() // inverse operations, applied in reverse order
}

// New returns the empty forwarding state of a device running the pipeline
// s describes: no table entries (every default entry at its initial
// action), no action profile members or groups, counters at zero, meters at
// their default configuration, registers at zero, no digest enabled, empty
// value sets and no packet replication entries. A nil s is an empty P4Info.
func New(s *schema.Schema) *Device {
	if s == nil {
		s, _ = schema.New(&p4configv1.P4Info{})
	}
	d := &Device{
		s:         s,
		now:       time.Now,
		tables:    map[uint32]*tableState{},
		profiles:  map[uint32]*profileState{},
		counters:  map[uint32]*counterState{},
		meters:    map[uint32]*meterState{},
		registers: map[uint32]*registerState{},
		digests:   map[uint32]*p4v1.DigestEntry_Config{},
		valueSets: map[uint32]*valueSetState{},
		mcast:     map[uint32]*p4v1.MulticastGroupEntry{},
		clones:    map[uint32]*p4v1.CloneSessionEntry{},
	}
	for _, ap := range s.ActionProfiles() {
		ps := &profileState{ap: ap, name: "action profile " + quote(ap.Name), members: map[uint32]*member{}, groups: map[uint32]*group{}}
		if sm := ap.Proto.GetSumOfMembers(); sm != nil {
			ps.sumOfMembers = true
			ps.maxMemberWeight = sm.GetMaxMemberWeight()
		}
		ps.weightsDisallowed = ap.Proto.GetWeightsDisallowed()
		d.profiles[ap.ID] = ps
		d.profileList = append(d.profileList, ps)
	}
	for _, t := range s.Tables() {
		ts := newTableState(s, t)
		if t.ActionProfile != nil {
			ts.profile = d.profiles[t.ActionProfile.ID]
			ts.profile.tables = append(ts.profile.tables, ts)
		}
		d.tables[t.ID] = ts
		d.tableList = append(d.tableList, ts)
	}
	for _, c := range s.Counters() {
		cs := &counterState{c: c, cells: newCells[counterCell](c.Size)}
		d.counters[c.ID] = cs
		d.counterList = append(d.counterList, cs)
	}
	for _, m := range s.Meters() {
		ms := &meterState{m: m, cells: newCells[meterCell](m.Size)}
		d.meters[m.ID] = ms
		d.meterList = append(d.meterList, ms)
	}
	for _, r := range s.Registers() {
		rs := &registerState{r: r, cells: newCells[*p4v1.P4Data](int64(r.Size))}
		d.registers[r.ID] = rs
		d.registerList = append(d.registerList, rs)
	}
	for _, v := range s.ValueSets() {
		vs := &valueSetState{v: v, key: newKeySpec(v.Fields)}
		d.valueSets[v.ID] = vs
		d.valueSetList = append(d.valueSetList, vs)
	}
	return d
}

// Schema returns the P4Info index the device validates against.
func (d *Device) Schema() *schema.Schema { return d.s }

// Write applies a batch of updates (spec "Write RPC"). allow, when not nil,
// is the server's role check; its error (a status error) becomes the error
// of that update and the update is not applied. allow is called with the
// write lock held and must not call back into the Device.
//
// It returns nil when every update succeeded. A problem with the request as
// a whole (an unknown atomicity mode) is a status error with that code. When
// some updates fail it returns a status error with code UNKNOWN whose
// details hold one p4.v1.Error per update in request order, OK for the
// updates that succeeded (spec "Error Reporting Messages").
//
// Atomicity (spec "Batch Atomicity"): CONTINUE_ON_ERROR applies each update
// on its own. ROLLBACK_ON_ERROR stops at the first failing update, undoes
// the updates already applied and answers the failing update with its error
// and every other update with ABORTED. DATAPLANE_ATOMIC has the same
// semantics here: the batch runs under the device's write lock, so neither
// reads nor the emulated data plane ever observe an intermediate state,
// which is what data-plane atomicity asks.
func (d *Device) Write(updates []*p4v1.Update, atomicity p4v1.WriteRequest_Atomicity, allow func(*p4v1.Update) error) error {
	switch atomicity {
	case p4v1.WriteRequest_CONTINUE_ON_ERROR, p4v1.WriteRequest_ROLLBACK_ON_ERROR, p4v1.WriteRequest_DATAPLANE_ATOMIC:
	default:
		return status.Errorf(codes.InvalidArgument, "unknown write atomicity %d", int32(atomicity))
	}
	rollback := atomicity != p4v1.WriteRequest_CONTINUE_ON_ERROR
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []*opError
	failed := -1
	if rollback {
		d.startUndo()
	}
	for i, u := range updates {
		var oe *opError
		if allow != nil {
			if err := allow(u); err != nil {
				oe = toOpError(err)
			}
		}
		if oe == nil {
			oe = d.apply(u)
		}
		if oe != nil {
			if errs == nil {
				errs = make([]*opError, len(updates))
			}
			errs[i] = oe
			if rollback {
				failed = i
				break
			}
		}
	}
	if rollback {
		d.endUndo(failed >= 0)
		if failed >= 0 {
			aborted := errf(codes.Aborted, "not applied: the batch was rolled back because update #%d failed", failed)
			for i := range errs {
				if i != failed {
					errs[i] = aborted
				}
			}
		}
	}
	if errs == nil {
		return nil
	}
	return batchStatus("write", errs)
}

// startUndo starts keeping an undo log. Caller holds the write lock.
func (d *Device) startUndo() {
	d.recording = true
	d.undo = d.undo[:0]
}

// endUndo stops keeping the undo log and, if rollback is set, undoes
// everything logged since startUndo.
func (d *Device) endUndo(rollback bool) {
	d.recording = false
	if rollback {
		for i := len(d.undo) - 1; i >= 0; i-- {
			d.undo[i]()
		}
	}
	clear(d.undo)
	d.undo = d.undo[:0]
}

// onUndo logs an inverse operation. Call it only when d.recording is set, so
// that no closure is built on the fast path.
func (d *Device) onUndo(f func()) { d.undo = append(d.undo, f) }

// apply validates and applies one update. It changes nothing when it fails.
func (d *Device) apply(u *p4v1.Update) *opError {
	ent := u.GetEntity()
	if ent == nil {
		return errf(codes.InvalidArgument, "update without entity")
	}
	typ := u.GetType()
	switch typ {
	case p4v1.Update_INSERT, p4v1.Update_MODIFY, p4v1.Update_DELETE:
	default:
		return errf(codes.InvalidArgument, "update type %s is not INSERT, MODIFY or DELETE", typ)
	}
	switch x := ent.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return d.writeTableEntry(typ, x.TableEntry, false)
	case *p4v1.Entity_ActionProfileMember:
		return d.writeMember(typ, x.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return d.writeGroup(typ, x.ActionProfileGroup)
	case *p4v1.Entity_CounterEntry:
		return d.writeCounter(typ, x.CounterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return d.writeDirectCounter(typ, x.DirectCounterEntry)
	case *p4v1.Entity_MeterEntry:
		return d.writeMeter(typ, x.MeterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		return d.writeDirectMeter(typ, x.DirectMeterEntry)
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return d.writePRE(typ, x.PacketReplicationEngineEntry)
	case *p4v1.Entity_ValueSetEntry:
		return d.writeValueSet(typ, x.ValueSetEntry)
	case *p4v1.Entity_RegisterEntry:
		return d.writeRegister(typ, x.RegisterEntry)
	case *p4v1.Entity_DigestEntry:
		return d.writeDigest(typ, x.DigestEntry)
	case *p4v1.Entity_ExternEntry:
		return errf(codes.Unimplemented, "extern entries are not supported")
	}
	return errf(codes.InvalidArgument, "entity has no entry set")
}

// readChunk is how many entities Read hands to send at a time.
const readChunk = 1000

// reader collects the entities of one Read and passes them to send in
// chunks.
type reader struct {
	d       *Device
	send    func([]*p4v1.Entity) error
	buf     []*p4v1.Entity
	sendErr error
	key     []byte // per-Read key buffer (reads run concurrently)
}

func (r *reader) emit(e *p4v1.Entity) {
	if r.sendErr != nil {
		return
	}
	r.buf = append(r.buf, e)
	if len(r.buf) >= readChunk {
		r.flush()
	}
}

func (r *reader) flush() {
	if len(r.buf) == 0 || r.sendErr != nil {
		return
	}
	r.sendErr = r.send(r.buf)
	r.buf = make([]*p4v1.Entity, 0, readChunk)
}

// Read answers the queries of a ReadRequest (spec "Read RPC"), each entity
// a filter with wildcards as the spec's sections on each entity describe.
// It calls send with the matching entities, in chunks, while holding the
// read lock: send must not call back into the Device.
//
// It returns nil when every query was valid, the error of send if send
// fails, or, when some queries are invalid, a status error with code
// UNKNOWN whose details hold one p4.v1.Error per query (OK for the valid
// ones, whose entities were sent), as the spec's "Batch Processing" of
// reads says.
func (d *Device) Read(entities []*p4v1.Entity, send func([]*p4v1.Entity) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r := &reader{d: d, send: send}
	var errs []*opError
	for i, e := range entities {
		oe := r.read(e)
		if r.sendErr != nil {
			return r.sendErr
		}
		if oe != nil {
			if errs == nil {
				errs = make([]*opError, len(entities))
			}
			errs[i] = oe
		}
	}
	r.flush()
	if r.sendErr != nil {
		return r.sendErr
	}
	if errs != nil {
		return batchStatus("read", errs)
	}
	return nil
}

func (r *reader) read(e *p4v1.Entity) *opError {
	// The entity oneof must be set (spec "Wildcard Reads").
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return r.readTableEntries(x.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		return r.readMembers(x.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return r.readGroups(x.ActionProfileGroup)
	case *p4v1.Entity_CounterEntry:
		return r.readCounters(x.CounterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return r.readDirectCounters(x.DirectCounterEntry)
	case *p4v1.Entity_MeterEntry:
		return r.readMeters(x.MeterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		return r.readDirectMeters(x.DirectMeterEntry)
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return r.readPRE(x.PacketReplicationEngineEntry)
	case *p4v1.Entity_ValueSetEntry:
		return r.readValueSets(x.ValueSetEntry)
	case *p4v1.Entity_RegisterEntry:
		return r.readRegisters(x.RegisterEntry)
	case *p4v1.Entity_DigestEntry:
		return r.readDigests(x.DigestEntry)
	case *p4v1.Entity_ExternEntry:
		return errf(codes.Unimplemented, "extern entries are not supported")
	}
	return errf(codes.InvalidArgument, "read request entity has no entry set")
}

// DigestConfig returns the configuration of a digest and whether the
// controller enabled it (inserted a DigestEntry for it).
func (d *Device) DigestConfig(digestID uint32) (*p4v1.DigestEntry_Config, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.digests[digestID]
	return c, ok
}

// MulticastGroup returns the multicast group entry with that ID, if the
// controller inserted one. The entry must not be modified.
func (d *Device) MulticastGroup(id uint32) (*p4v1.MulticastGroupEntry, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	m, ok := d.mcast[id]
	return m, ok
}

// CloneSession returns the clone session entry with that ID, if the
// controller inserted one. The entry must not be modified.
func (d *Device) CloneSession(id uint32) (*p4v1.CloneSessionEntry, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.clones[id]
	return c, ok
}

// Len returns the number of entries in a table, not counting the default
// entry; 0 for an unknown table.
func (d *Device) Len(tableID uint32) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if ts := d.tables[tableID]; ts != nil {
		return len(ts.list)
	}
	return 0
}

// Counts is a summary of the state of a device, for logs and tests.
type Counts struct {
	TableEntries    int // all tables, default entries not counted
	Members         int // action profile members inserted by the controller
	Groups          int // action profile groups inserted by the controller
	OneShotEntries  int // table entries programmed with an action set
	MulticastGroups int
	CloneSessions   int
	Digests         int // digests enabled
}

// Counts returns how many entities of each kind the device holds.
func (d *Device) Counts() Counts {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var c Counts
	for _, ts := range d.tableList {
		c.TableEntries += len(ts.list)
	}
	for _, ps := range d.profileList {
		c.Members += len(ps.members)
		c.Groups += len(ps.groups)
		c.OneShotEntries += ps.oneShots
	}
	c.MulticastGroups = len(d.mcast)
	c.CloneSessions = len(d.clones)
	c.Digests = len(d.digests)
	return c
}

// sortedKeys returns the keys of a uint32-keyed map in increasing order, so
// that wildcard reads of small maps are deterministic.
func sortedKeys[V any](m map[uint32]V) []uint32 {
	ks := make([]uint32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
