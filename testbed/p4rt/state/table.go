package state

import (
	"bytes"
	"encoding/binary"

	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// tableState holds the entries of one table.
type tableState struct {
	t       *schema.Table
	name    string // `table "x"`, for messages
	key     *keySpec
	profile *profileState // indirect tables
	entries map[string]*entry
	list    []*entry // the entries in no particular order; entry.pos indexes it
	def     *entry   // the default entry, always present
	initial *p4v1.TableEntry
}

// entry is one table entry with its direct resources.
type entry struct {
	te      *p4v1.TableEntry // validated, canonical, never modified
	key     string
	pos     int
	isConst bool
	cnt     counterCell       // direct counter
	meter   *p4v1.MeterConfig // direct meter configuration; nil is the default (all GREEN)
	colors  *[3]counterCell   // direct meter per-color counters, nil when all zero
	lastHit int64             // UnixNano of the last hit (idle timeout)
	idle    bool              // reported idle since the last hit
}

// counterCell is a packet and byte count.
type counterCell struct{ packets, bytes int64 }

func newTableState(s *schema.Schema, t *schema.Table) *tableState {
	ts := &tableState{t: t, name: "table " + quote(t.Name), key: newKeySpec(t.Fields), entries: map[string]*entry{}}
	ts.initial = &p4v1.TableEntry{TableId: t.ID, IsDefaultAction: true}
	id := t.ConstDefaultActionID
	if id == 0 {
		// The P4Info does not say what a non-const default action is; P4's
		// default is NoAction, which the emulator assumes (SetInitialDefault
		// changes it).
		for _, r := range t.Actions {
			if r.Action.Name == "NoAction" && !r.TableOnly() {
				id = r.Action.ID
			}
		}
	}
	if id != 0 {
		ts.initial.Action = &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: id}}}
	}
	ts.def = &entry{te: ts.initial}
	return ts
}

func (ts *tableState) scope() string { return ts.name }

func (ts *tableState) add(e *entry) {
	e.pos = len(ts.list)
	ts.list = append(ts.list, e)
	ts.entries[e.key] = e
}

func (ts *tableState) remove(e *entry) {
	last := len(ts.list) - 1
	moved := ts.list[last]
	ts.list[e.pos] = moved
	moved.pos = e.pos
	ts.list[last] = nil
	ts.list = ts.list[:last]
	delete(ts.entries, e.key)
}

// restore undoes remove(e) when e was at position p.
func (ts *tableState) restore(e *entry, p int) {
	if p == len(ts.list) {
		e.pos = p
		ts.list = append(ts.list, e)
	} else {
		moved := ts.list[p]
		moved.pos = len(ts.list)
		ts.list = append(ts.list, moved)
		ts.list[p] = e
		e.pos = p
	}
	ts.entries[e.key] = e
}

// makeKey validates the match and priority of an entry and appends its
// key to buf. With read set, priority 0 is a wildcard and is not checked.
func (ts *tableState) makeKey(match []*p4v1.FieldMatch, priority int32, buf []byte, read bool) ([]byte, bool, *opError) {
	key, dirty, oe := ts.key.check(ts.name, match, buf)
	if oe != nil {
		return key, false, oe
	}
	// spec "TableEntry": a priority > 0 exactly when the key has a
	// TERNARY, RANGE or OPTIONAL field.
	if ts.t.NeedsPriority {
		if priority < 0 || (priority == 0 && !read) {
			return key, false, errf(codes.InvalidArgument, "%s has TERNARY, RANGE or OPTIONAL fields: its entries need a priority > 0, got %d", ts.name, priority)
		}
	} else if priority != 0 {
		return key, false, errf(codes.InvalidArgument, "%s has only EXACT and LPM fields: priority must be 0, got %d", ts.name, priority)
	}
	return binary.BigEndian.AppendUint32(key, uint32(priority)), dirty, nil
}

// writeTableEntry applies a TableEntry update (spec "TableEntry").
// preload inserts entries the program declares (Preload).
func (d *Device) writeTableEntry(typ p4v1.Update_Type, te *p4v1.TableEntry, preload bool) *opError {
	ts := d.tables[te.GetTableId()]
	if ts == nil {
		return errf(codes.InvalidArgument, "unknown table ID %d", te.GetTableId())
	}
	if te.GetIsConst() && !preload {
		return errf(codes.InvalidArgument, "%s: is_const must be false in a write", ts.name)
	}
	if te.GetIsDefaultAction() {
		if preload {
			return errf(codes.InvalidArgument, "%s: a default entry cannot be preloaded (use SetInitialDefault)", ts.name)
		}
		return d.writeDefault(typ, ts, te)
	}
	switch typ {
	case p4v1.Update_INSERT:
		return d.insertEntry(ts, te, preload)
	case p4v1.Update_MODIFY:
		return d.modifyEntry(ts, te)
	default:
		return d.deleteEntry(ts, te)
	}
}

// checkIdle validates the idle-timeout fields of a write (spec
// "Idle-timeout").
func checkIdle(ts *tableState, te *p4v1.TableEntry) *opError {
	if te.GetTimeSinceLastHit() != nil {
		return errf(codes.InvalidArgument, "%s: time_since_last_hit must be unset in a write", ts.name)
	}
	if n := te.GetIdleTimeoutNs(); n != 0 {
		if !ts.t.IdleTimeout {
			return errf(codes.InvalidArgument, "%s does not support idle timeout (idle_timeout_ns %d)", ts.name, n)
		}
		if n < 0 {
			return errf(codes.InvalidArgument, "%s: negative idle_timeout_ns %d", ts.name, n)
		}
	}
	return nil
}

// checkResources validates the direct-resource fields of a write (spec
// "Direct Resources").
func checkResources(ts *tableState, te *p4v1.TableEntry) *opError {
	if cd := te.GetCounterData(); cd != nil {
		if ts.t.DirectCounter == nil {
			return errf(codes.InvalidArgument, "%s has no direct counter (counter_data set)", ts.name)
		}
		if cd.GetByteCount() < 0 || cd.GetPacketCount() < 0 {
			return errf(codes.InvalidArgument, "%s: negative counter_data", ts.name)
		}
	}
	if mc := te.GetMeterConfig(); mc != nil {
		if ts.t.DirectMeter == nil {
			return errf(codes.InvalidArgument, "%s has no direct meter (meter_config set)", ts.name)
		}
		if oe := checkMeterConfig(mc, ts.t.DirectMeter.Type); oe != nil {
			oe.msg = ts.name + ": " + oe.msg
			return oe
		}
	}
	if mcd := te.GetMeterCounterData(); mcd != nil {
		if ts.t.DirectMeter == nil {
			return errf(codes.InvalidArgument, "%s has no direct meter (meter_counter_data set)", ts.name)
		}
		if !zeroColors(mcd) {
			return errf(codes.InvalidArgument, "%s: meter_counter_data can only reset the counters (all fields 0)", ts.name)
		}
	}
	return nil
}

// setResources applies the direct-resource fields of a validated write:
// counter_data sets the counter when given; meter_config sets the meter (an
// unset one is the default configuration, on INSERT and MODIFY alike);
// meter_counter_data resets the per-color counters.
func setResources(e *entry, te *p4v1.TableEntry) {
	if cd := te.GetCounterData(); cd != nil {
		e.cnt = counterCell{packets: cd.GetPacketCount(), bytes: cd.GetByteCount()}
	}
	e.meter = te.GetMeterConfig()
	if te.GetMeterCounterData() != nil {
		e.colors = nil
	}
}

// checkTableAction validates the action of a table entry; old is the
// entry's current action on MODIFY.
func (d *Device) checkTableAction(ts *tableState, ta *p4v1.TableAction, old *p4v1.TableAction) (bool, *opError) {
	if ts.profile != nil {
		return d.checkIndirectAction(ts, ta, old)
	}
	switch x := ta.GetType().(type) {
	case *p4v1.TableAction_Action:
		a := x.Action
		return d.checkAction(a, ts.t.ActionRef(a.GetActionId()), ts.name, false)
	case nil:
		return false, errf(codes.InvalidArgument, "%s: missing action", ts.name)
	}
	return false, errf(codes.InvalidArgument, "%s is a direct table: its entries take an action, not an action profile member, group or action set", ts.name)
}

// stored returns the proto to keep for a validated entry: te itself, or a
// copy with the canonical match and action when some bytestring was not
// canonical. match and action replace te's when not nil.
func (d *Device) stored(ts *tableState, te *p4v1.TableEntry, match []*p4v1.FieldMatch, action *p4v1.TableAction, dirtyMatch, dirtyAction bool) *p4v1.TableEntry {
	if match == nil && action == nil && !dirtyMatch && !dirtyAction {
		return te
	}
	out := &p4v1.TableEntry{
		TableId:            te.GetTableId(),
		Match:              te.GetMatch(),
		Action:             te.GetAction(),
		Priority:           te.GetPriority(),
		ControllerMetadata: te.GetControllerMetadata(),
		IsDefaultAction:    te.GetIsDefaultAction(),
		IdleTimeoutNs:      te.GetIdleTimeoutNs(),
		Metadata:           te.GetMetadata(),
		IsConst:            te.GetIsConst(),
	}
	switch {
	case match != nil:
		out.Match = match
	case dirtyMatch:
		out.Match = ts.key.canonMatches(te.GetMatch())
	}
	switch {
	case action != nil:
		out.Action = action
	case dirtyAction:
		out.Action = d.canonTableAction(te.GetAction())
	}
	return out
}

func (d *Device) insertEntry(ts *tableState, te *p4v1.TableEntry, preload bool) *opError {
	if ts.t.IsConst && !preload {
		return errf(codes.PermissionDenied, "%s is const: its entries cannot be inserted, modified or deleted", ts.name)
	}
	if len(ts.key.fields) == 0 {
		return errf(codes.InvalidArgument, "%s has no key: only its default entry can be written", ts.name)
	}
	key, dirtyM, oe := ts.makeKey(te.GetMatch(), te.GetPriority(), d.keyBuf[:0], false)
	d.keyBuf = key
	if oe != nil {
		return oe
	}
	if oe := checkIdle(ts, te); oe != nil {
		return oe
	}
	if oe := checkResources(ts, te); oe != nil {
		return oe
	}
	if te.GetAction() == nil {
		return errf(codes.InvalidArgument, "%s: INSERT needs an action", ts.name)
	}
	dirtyA, oe := d.checkTableAction(ts, te.GetAction(), nil)
	if oe != nil {
		return oe
	}
	if _, dup := ts.entries[string(key)]; dup {
		return errf(codes.AlreadyExists, "%s already has an entry with this match and priority", ts.name)
	}
	if ts.t.Size > 0 && int64(len(ts.list)) >= ts.t.Size {
		return errf(codes.ResourceExhausted, "%s is full (size %d)", ts.name, ts.t.Size)
	}
	e := &entry{te: d.stored(ts, te, nil, nil, dirtyM, dirtyA), key: string(key)}
	if preload {
		e.isConst = ts.t.IsConst || te.GetIsConst()
	}
	setResources(e, te)
	if ts.t.IdleTimeout {
		e.lastHit = d.now().UnixNano()
	}
	ts.add(e)
	if ts.profile != nil {
		ts.profile.ref(e.te.GetAction(), +1)
	}
	if d.recording {
		d.onUndo(func() {
			if ts.profile != nil {
				ts.profile.ref(e.te.GetAction(), -1)
			}
			ts.remove(e)
		})
	}
	return nil
}

func (d *Device) modifyEntry(ts *tableState, te *p4v1.TableEntry) *opError {
	key, _, oe := ts.makeKey(te.GetMatch(), te.GetPriority(), d.keyBuf[:0], false)
	d.keyBuf = key
	if oe != nil {
		return oe
	}
	e := ts.entries[string(key)]
	if e == nil {
		if ts.t.IsConst {
			return errf(codes.PermissionDenied, "%s is const: its entries cannot be inserted, modified or deleted", ts.name)
		}
		return errf(codes.NotFound, "%s has no entry with this match and priority", ts.name)
	}
	if oe := checkIdle(ts, te); oe != nil {
		return oe
	}
	if oe := checkResources(ts, te); oe != nil {
		return oe
	}
	old := *e
	if ts.t.IsConst || e.isConst {
		// spec "Constant Tables": only the direct resources of a const
		// entry can be modified, and the request may not carry an action.
		if te.GetAction() != nil {
			return errf(codes.PermissionDenied, "%s: the entry is const: only its direct resources can be modified (no action)", ts.name)
		}
		setResources(e, te)
		if d.recording {
			d.onUndo(func() { *e = old })
		}
		return nil
	}
	var action *p4v1.TableAction
	dirtyA := false
	if te.GetAction() == nil {
		action = e.te.GetAction() // spec "Action Specification": unset action, action unchanged
	} else {
		dirtyA, oe = d.checkTableAction(ts, te.GetAction(), e.te.GetAction())
		if oe != nil {
			return oe
		}
		if dirtyA {
			action = d.canonTableAction(te.GetAction())
		}
	}
	// The stored match is canonical and equal to te's by key.
	st := d.stored(ts, te, e.te.GetMatch(), action, false, false)
	if ts.profile != nil {
		ts.profile.ref(e.te.GetAction(), -1)
		ts.profile.ref(st.GetAction(), +1)
	}
	e.te = st
	setResources(e, te)
	if d.recording {
		d.onUndo(func() {
			if ts.profile != nil {
				ts.profile.ref(st.GetAction(), -1)
				ts.profile.ref(old.te.GetAction(), +1)
			}
			*e = old
		})
	}
	return nil
}

func (d *Device) deleteEntry(ts *tableState, te *p4v1.TableEntry) *opError {
	if ts.t.IsConst {
		return errf(codes.PermissionDenied, "%s is const: its entries cannot be inserted, modified or deleted", ts.name)
	}
	// Only the key counts for a DELETE (spec "TableEntry").
	key, _, oe := ts.makeKey(te.GetMatch(), te.GetPriority(), d.keyBuf[:0], false)
	d.keyBuf = key
	if oe != nil {
		return oe
	}
	e := ts.entries[string(key)]
	if e == nil {
		return errf(codes.NotFound, "%s has no entry with this match and priority", ts.name)
	}
	if e.isConst {
		return errf(codes.PermissionDenied, "%s: the entry is const and cannot be deleted", ts.name)
	}
	p := e.pos
	ts.remove(e)
	if ts.profile != nil {
		ts.profile.ref(e.te.GetAction(), -1)
	}
	if d.recording {
		d.onUndo(func() {
			if ts.profile != nil {
				ts.profile.ref(e.te.GetAction(), +1)
			}
			ts.restore(e, p)
		})
	}
	return nil
}

// writeDefault applies an update of a table's default entry (spec "Default
// Entry"): only MODIFY; no match, no priority, no idle timeout; a const
// default action (and the default of an indirect table, which the spec
// restricts to a constant NoAction) cannot change: PERMISSION_DENIED; a
// MODIFY without action resets the entry to its initial action, clearing
// its metadata and meter configuration.
func (d *Device) writeDefault(typ p4v1.Update_Type, ts *tableState, te *p4v1.TableEntry) *opError {
	if typ != p4v1.Update_MODIFY {
		return errf(codes.InvalidArgument, "%s: the default entry can only be modified, not %s", ts.name, typ)
	}
	if len(te.GetMatch()) > 0 || te.GetPriority() != 0 {
		return errf(codes.InvalidArgument, "%s: the default entry has no match and no priority", ts.name)
	}
	if te.GetIdleTimeoutNs() != 0 || te.GetTimeSinceLastHit() != nil {
		return errf(codes.InvalidArgument, "%s: the default entry has no idle timeout", ts.name)
	}
	if oe := checkResources(ts, te); oe != nil {
		return oe
	}
	e := ts.def
	old := *e
	if ta := te.GetAction(); ta != nil {
		if ts.t.ConstDefaultActionID != 0 {
			return errf(codes.PermissionDenied, "%s: the default action is const", ts.name)
		}
		if ts.profile != nil {
			return errf(codes.PermissionDenied, "%s is indirect: its default entry is a constant NoAction", ts.name)
		}
		x, ok := ta.GetType().(*p4v1.TableAction_Action)
		if !ok {
			return errf(codes.InvalidArgument, "%s: the default entry takes an action", ts.name)
		}
		dirty, oe := d.checkAction(x.Action, ts.t.ActionRef(x.Action.GetActionId()), ts.name, true)
		if oe != nil {
			return oe
		}
		e.te = d.stored(ts, te, nil, nil, false, dirty)
	} else {
		e.te = ts.initial
	}
	setResources(e, te)
	if d.recording {
		d.onUndo(func() { *e = old })
	}
	return nil
}

// findEntry returns the entry a direct resource refers to: the default
// entry or the entry with that match and priority (NOT_FOUND if none).
func (ts *tableState) findEntry(te *p4v1.TableEntry, buf []byte) (*entry, []byte, *opError) {
	if te.GetIsDefaultAction() {
		if len(te.GetMatch()) > 0 || te.GetPriority() != 0 {
			return nil, buf, errf(codes.InvalidArgument, "%s: the default entry has no match and no priority", ts.name)
		}
		return ts.def, buf, nil
	}
	key, _, oe := ts.makeKey(te.GetMatch(), te.GetPriority(), buf, false)
	if oe != nil {
		return nil, key, oe
	}
	e := ts.entries[string(key)]
	if e == nil {
		return nil, key, errf(codes.NotFound, "%s has no entry with this match and priority", ts.name)
	}
	return e, key, nil
}

// readTableEntries answers a TableEntry query (spec "Wildcard Reads" of
// "TableEntry"): table 0 reads every table and takes no other filter;
// otherwise match (exact key), action (action ID of direct tables),
// priority, controller_metadata and metadata filter, is_default_action
// reads the default entry; counter_data, meter_config, meter_counter_data
// and time_since_last_hit ask for the direct resources and the idle time.
func (r *reader) readTableEntries(q *p4v1.TableEntry) *opError {
	d := r.d
	if q.GetTableId() == 0 {
		if len(q.GetMatch()) > 0 || q.GetAction() != nil || q.GetPriority() != 0 || q.GetControllerMetadata() != 0 || len(q.GetMetadata()) > 0 {
			return errf(codes.InvalidArgument, "table_id 0 reads every table: no other filter can be used")
		}
		for _, ts := range d.tableList {
			if q.GetIsDefaultAction() {
				r.emitEntry(ts, ts.def, q)
				continue
			}
			for _, e := range ts.list {
				r.emitEntry(ts, e, q)
			}
		}
		return nil
	}
	ts := d.tables[q.GetTableId()]
	if ts == nil {
		return errf(codes.InvalidArgument, "unknown table ID %d", q.GetTableId())
	}
	if q.GetIsDefaultAction() {
		if len(q.GetMatch()) > 0 || q.GetPriority() != 0 {
			return errf(codes.InvalidArgument, "%s: the default entry has no match and no priority", ts.name)
		}
		r.emitEntry(ts, ts.def, q)
		return nil
	}
	var actionID uint32
	if ta := q.GetAction(); ta != nil {
		x, ok := ta.GetType().(*p4v1.TableAction_Action)
		if !ok || x.Action == nil || len(x.Action.GetParams()) > 0 {
			return errf(codes.InvalidArgument, "%s: a read can only filter on the action ID of a direct action", ts.name)
		}
		actionID = x.Action.GetActionId()
	}
	match := func(e *entry) bool {
		if actionID != 0 && e.te.GetAction().GetAction().GetActionId() != actionID {
			return false
		}
		if q.GetPriority() != 0 && e.te.GetPriority() != q.GetPriority() {
			return false
		}
		if q.GetControllerMetadata() != 0 && e.te.GetControllerMetadata() != q.GetControllerMetadata() {
			return false
		}
		if len(q.GetMetadata()) > 0 && !bytes.Equal(e.te.GetMetadata(), q.GetMetadata()) {
			return false
		}
		return true
	}
	if len(q.GetMatch()) == 0 {
		for _, e := range ts.list {
			if match(e) {
				r.emitEntry(ts, e, q)
			}
		}
		return nil
	}
	key, _, oe := ts.makeKey(q.GetMatch(), q.GetPriority(), r.key[:0], true)
	r.key = key
	if oe != nil {
		return oe
	}
	if q.GetPriority() != 0 || !ts.t.NeedsPriority {
		if e := ts.entries[string(key)]; e != nil && match(e) {
			r.emitEntry(ts, e, q)
		}
		return nil
	}
	// A match without priority on a table with priorities: every entry
	// with that match.
	m := key[:len(key)-4]
	for _, e := range ts.list {
		if len(e.key) == len(key) && e.key[:len(m)] == string(m) && match(e) {
			r.emitEntry(ts, e, q)
		}
	}
	return nil
}

// emitEntry sends one entry in the form a read returns it.
func (r *reader) emitEntry(ts *tableState, e *entry, q *p4v1.TableEntry) {
	out := &p4v1.TableEntry{
		TableId:            ts.t.ID,
		Match:              e.te.GetMatch(),
		Action:             e.te.GetAction(),
		Priority:           e.te.GetPriority(),
		ControllerMetadata: e.te.GetControllerMetadata(),
		Metadata:           e.te.GetMetadata(),
		IdleTimeoutNs:      e.te.GetIdleTimeoutNs(),
		IsConst:            e.isConst,
	}
	if e == ts.def {
		out.Match, out.Priority, out.IdleTimeoutNs = nil, 0, 0
		out.IsDefaultAction = true
		// is_const: the entry cannot be modified (a const default action,
		// or the constant NoAction of an indirect table).
		out.IsConst = ts.t.ConstDefaultActionID != 0 || ts.profile != nil
	}
	if q.GetCounterData() != nil && ts.t.DirectCounter != nil {
		out.CounterData = &p4v1.CounterData{PacketCount: e.cnt.packets, ByteCount: e.cnt.bytes}
	}
	if q.GetMeterConfig() != nil && e.meter != nil {
		out.MeterConfig = e.meter
	}
	if q.GetMeterCounterData() != nil && ts.t.DirectMeter != nil {
		out.MeterCounterData = colorsProto(e.colors)
	}
	if q.GetTimeSinceLastHit() != nil && ts.t.IdleTimeout && e != ts.def {
		out.TimeSinceLastHit = &p4v1.TableEntry_IdleTimeout{ElapsedNs: max(0, r.d.now().UnixNano()-e.lastHit)}
	}
	r.emit(&p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: out}})
}

// keyOf is the key part of an entry, as direct resources carry it.
func keyOf(ts *tableState, e *entry) *p4v1.TableEntry {
	if e == ts.def {
		return &p4v1.TableEntry{TableId: ts.t.ID, IsDefaultAction: true}
	}
	return &p4v1.TableEntry{TableId: ts.t.ID, Match: e.te.GetMatch(), Priority: e.te.GetPriority()}
}

// resourceQuery resolves the table_entry of a DirectCounterEntry or
// DirectMeterEntry query to the entries it selects: table 0 is every entry
// of every table with the resource, an empty match every entry of the
// table, otherwise the one entry (NOT_FOUND if none).
func (r *reader) resourceQuery(te *p4v1.TableEntry, has func(*schema.Table) bool, what string, each func(*tableState, *entry)) *opError {
	d := r.d
	if te.GetTableId() == 0 {
		if len(te.GetMatch()) > 0 || te.GetPriority() != 0 || te.GetIsDefaultAction() {
			return errf(codes.InvalidArgument, "table_id 0 reads every table: no other filter can be used")
		}
		for _, ts := range d.tableList {
			if has(ts.t) {
				for _, e := range ts.list {
					each(ts, e)
				}
			}
		}
		return nil
	}
	ts := d.tables[te.GetTableId()]
	if ts == nil {
		return errf(codes.InvalidArgument, "unknown table ID %d", te.GetTableId())
	}
	if !has(ts.t) {
		return errf(codes.InvalidArgument, "%s has no %s", ts.name, what)
	}
	if !te.GetIsDefaultAction() && len(te.GetMatch()) == 0 {
		for _, e := range ts.list {
			if te.GetPriority() == 0 || e.te.GetPriority() == te.GetPriority() {
				each(ts, e)
			}
		}
		return nil
	}
	e, key, oe := ts.findEntry(te, r.key[:0])
	r.key = key
	if oe != nil {
		return oe
	}
	each(ts, e)
	return nil
}

// Preload inserts entries that the P4 program itself declares (the
// `entries` and `const entries` table properties, which the P4Info does not
// carry): each is validated like an INSERT but may go into a const table,
// and is marked const (read back with is_const, only its direct resources
// writable) when the table is const or the entry has is_const set. It is
// all or nothing: on error nothing is inserted.
func (d *Device) Preload(entries []*p4v1.TableEntry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.startUndo()
	for i, te := range entries {
		if oe := d.writeTableEntry(p4v1.Update_INSERT, te, true); oe != nil {
			d.endUndo(true)
			return errStatus(oe, "preloaded entry #%d: ", i)
		}
	}
	d.endUndo(false)
	return nil
}

// SetInitialDefault sets the action a table's default entry has initially
// and after a reset (a MODIFY of the default entry without action), as the
// program declares it (default_action, which the P4Info does not carry for
// non-const defaults, nor the parameters of a const default action). A
// default entry still at its initial action takes the new one. For a table
// with a const default action, a must be that action.
func (d *Device) SetInitialDefault(tableID uint32, a *p4v1.Action) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := d.tables[tableID]
	if ts == nil {
		return errStatus(errf(codes.InvalidArgument, "unknown table ID %d", tableID), "")
	}
	if id := ts.t.ConstDefaultActionID; id != 0 && a.GetActionId() != id {
		return errStatus(errf(codes.InvalidArgument, "%s: the const default action is %s", ts.name, quote(d.s.ObjectName(id))), "")
	}
	dirty, oe := d.checkAction(a, ts.t.ActionRef(a.GetActionId()), ts.name, true)
	if oe != nil {
		return errStatus(oe, "")
	}
	if dirty {
		a = d.canonAction(a)
	}
	init := &p4v1.TableEntry{TableId: tableID, IsDefaultAction: true, Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}}
	if ts.def.te == ts.initial {
		ts.def.te = init
	}
	ts.initial = init
	return nil
}
