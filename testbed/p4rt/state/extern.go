package state

import (
	"slices"

	"github.com/p4fabric/fabric/p4/schema"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// counterState holds the cells of an indirect counter.
type counterState struct {
	c     *schema.Counter
	cells cells[counterCell]
}

// meterCell is the configuration and per-color counters of a meter cell.
type meterCell struct {
	cfg    *p4v1.MeterConfig // nil: the default configuration (all GREEN)
	colors *[3]counterCell   // GREEN, YELLOW, RED; nil when all zero
}

type meterState struct {
	m     *schema.Meter
	cells cells[meterCell]
}

type registerState struct {
	r     *schema.Register
	cells cells[*p4v1.P4Data] // nil cell: never written (zero)
}

type valueSetState struct {
	v       *schema.ValueSet
	key     *keySpec
	members []*p4v1.ValueSetMember
}

// cellRange resolves the index of a counter, meter or register entry: an
// unset index is every cell; a negative one is INVALID_ARGUMENT and one
// past the array OUT_OF_RANGE (spec "CounterEntry", "MeterEntry",
// "RegisterEntry").
func cellRange(idx *p4v1.Index, size int64, what string) (lo, hi int64, oe *opError) {
	if idx == nil {
		return 0, max(size, 0), nil
	}
	i := idx.GetIndex()
	if i < 0 {
		return 0, 0, errf(codes.InvalidArgument, "%s: negative index %d", what, i)
	}
	if i >= size {
		return 0, 0, errf(codes.OutOfRange, "%s: index %d out of range (size %d)", what, i, size)
	}
	return i, i + 1, nil
}

func onlyModify(typ p4v1.Update_Type, what string) *opError {
	if typ != p4v1.Update_MODIFY {
		return errf(codes.InvalidArgument, "%s can only be modified, not %s", what, typ)
	}
	return nil
}

func checkCounterData(cd *p4v1.CounterData, what string) *opError {
	if cd.GetByteCount() < 0 || cd.GetPacketCount() < 0 {
		return errf(codes.InvalidArgument, "%s: negative counter data", what)
	}
	return nil
}

// checkMeterConfig validates a meter configuration for a meter type (spec
// "MeterEntry & DirectMeterEntry"): a two-rate three-color meter takes no
// eburst; a single-rate meter needs pir == cir and pburst == cburst, and a
// two-color one no eburst either. Rates and bursts are >= 0, or -1 (as PI
// accepts: the packet is always GREEN).
func checkMeterConfig(c *p4v1.MeterConfig, typ p4configv1.MeterSpec_Type) *opError {
	for _, v := range []int64{c.GetCir(), c.GetCburst(), c.GetPir(), c.GetPburst()} {
		if v < -1 {
			return errf(codes.InvalidArgument, "meter config: negative rate or burst %d", v)
		}
	}
	if c.GetEburst() < 0 {
		return errf(codes.InvalidArgument, "meter config: negative eburst %d", c.GetEburst())
	}
	switch typ {
	case p4configv1.MeterSpec_TWO_RATE_THREE_COLOR:
		if c.GetEburst() != 0 {
			return errf(codes.InvalidArgument, "meter config: a two-rate three-color meter takes no eburst")
		}
	case p4configv1.MeterSpec_SINGLE_RATE_THREE_COLOR, p4configv1.MeterSpec_SINGLE_RATE_TWO_COLOR:
		if c.GetPir() != c.GetCir() || c.GetPburst() != c.GetCburst() {
			return errf(codes.InvalidArgument, "meter config: a single-rate meter needs pir == cir and pburst == cburst")
		}
		if typ == p4configv1.MeterSpec_SINGLE_RATE_TWO_COLOR && c.GetEburst() != 0 {
			return errf(codes.InvalidArgument, "meter config: a single-rate two-color meter takes no eburst")
		}
	}
	return nil
}

// zeroColors reports whether per-color counter data only resets: every
// field 0 (spec "Direct Resources" and "DirectMeterEntry").
func zeroColors(m *p4v1.MeterCounterData) bool {
	for _, c := range []*p4v1.CounterData{m.GetGreen(), m.GetYellow(), m.GetRed()} {
		if c.GetByteCount() != 0 || c.GetPacketCount() != 0 {
			return false
		}
	}
	return true
}

func colorsProto(c *[3]counterCell) *p4v1.MeterCounterData {
	var v [3]counterCell
	if c != nil {
		v = *c
	}
	cd := func(x counterCell) *p4v1.CounterData {
		return &p4v1.CounterData{PacketCount: x.packets, ByteCount: x.bytes}
	}
	return &p4v1.MeterCounterData{Green: cd(v[0]), Yellow: cd(v[1]), Red: cd(v[2])}
}

// writeCounter applies a CounterEntry update (spec "CounterEntry"): MODIFY
// only; an unset index writes every cell; unset data changes nothing.
func (d *Device) writeCounter(typ p4v1.Update_Type, ce *p4v1.CounterEntry) *opError {
	if oe := onlyModify(typ, "counter entries"); oe != nil {
		return oe
	}
	cs := d.counters[ce.GetCounterId()]
	if cs == nil {
		return errf(codes.InvalidArgument, "unknown counter ID %d", ce.GetCounterId())
	}
	what := "counter " + quote(cs.c.Name)
	lo, hi, oe := cellRange(ce.GetIndex(), cs.c.Size, what)
	if oe != nil {
		return oe
	}
	data := ce.GetData()
	if data == nil || lo == hi {
		return nil
	}
	if oe := checkCounterData(data, what); oe != nil {
		return oe
	}
	v := counterCell{packets: data.GetPacketCount(), bytes: data.GetByteCount()}
	if !cs.cells.canSetRange(lo, hi, v) {
		return errf(codes.Unimplemented, "%s: a wildcard write of %d cells can only reset them", what, hi-lo)
	}
	if d.recording {
		d.onUndo(cs.cells.save(lo, hi))
	}
	cs.cells.setRange(lo, hi, v)
	return nil
}

func (r *reader) readCounters(q *p4v1.CounterEntry) *opError {
	d := r.d
	if q.GetCounterId() == 0 {
		if q.GetIndex() != nil {
			return errf(codes.InvalidArgument, "counter_id 0 reads every counter: index cannot be set")
		}
		for _, cs := range d.counterList {
			r.emitCounter(cs, 0, max(cs.c.Size, 0))
		}
		return nil
	}
	cs := d.counters[q.GetCounterId()]
	if cs == nil {
		return errf(codes.InvalidArgument, "unknown counter ID %d", q.GetCounterId())
	}
	lo, hi, oe := cellRange(q.GetIndex(), cs.c.Size, "counter "+quote(cs.c.Name))
	if oe != nil {
		return oe
	}
	r.emitCounter(cs, lo, hi)
	return nil
}

func (r *reader) emitCounter(cs *counterState, lo, hi int64) {
	cs.cells.each(lo, hi, func(i int64, v counterCell) {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{
			CounterId: cs.c.ID, Index: &p4v1.Index{Index: i},
			Data: &p4v1.CounterData{PacketCount: v.packets, ByteCount: v.bytes},
		}}})
	})
}

// writeMeter applies a MeterEntry update (spec "MeterEntry"): MODIFY only;
// an unset config restores the default; an unset index writes every cell;
// counter_data, when set, resets the per-color counters.
func (d *Device) writeMeter(typ p4v1.Update_Type, me *p4v1.MeterEntry) *opError {
	if oe := onlyModify(typ, "meter entries"); oe != nil {
		return oe
	}
	ms := d.meters[me.GetMeterId()]
	if ms == nil {
		return errf(codes.InvalidArgument, "unknown meter ID %d", me.GetMeterId())
	}
	what := "meter " + quote(ms.m.Name)
	lo, hi, oe := cellRange(me.GetIndex(), ms.m.Size, what)
	if oe != nil {
		return oe
	}
	cfg := me.GetConfig()
	if cfg != nil {
		if oe := checkMeterConfig(cfg, ms.m.Type); oe != nil {
			oe.msg = what + ": " + oe.msg
			return oe
		}
	}
	reset := me.GetCounterData() != nil
	if reset && !zeroColors(me.GetCounterData()) {
		return errf(codes.InvalidArgument, "%s: counter_data can only reset the counters (all fields 0)", what)
	}
	if lo == hi {
		return nil
	}
	if cfg != nil && !ms.cells.canSetRange(lo, hi, meterCell{}) {
		return errf(codes.Unimplemented, "%s: a wildcard write of %d cells can only reset them", what, hi-lo)
	}
	if d.recording {
		d.onUndo(ms.cells.save(lo, hi))
	}
	ms.cells.update(lo, hi, func(c meterCell) meterCell {
		c.cfg = cfg
		if reset {
			c.colors = nil
		}
		return c
	})
	return nil
}

func (r *reader) readMeters(q *p4v1.MeterEntry) *opError {
	d := r.d
	colors := q.GetCounterData() != nil
	if q.GetMeterId() == 0 {
		if q.GetIndex() != nil {
			return errf(codes.InvalidArgument, "meter_id 0 reads every meter: index cannot be set")
		}
		for _, ms := range d.meterList {
			r.emitMeter(ms, 0, max(ms.m.Size, 0), colors)
		}
		return nil
	}
	ms := d.meters[q.GetMeterId()]
	if ms == nil {
		return errf(codes.InvalidArgument, "unknown meter ID %d", q.GetMeterId())
	}
	lo, hi, oe := cellRange(q.GetIndex(), ms.m.Size, "meter "+quote(ms.m.Name))
	if oe != nil {
		return oe
	}
	r.emitMeter(ms, lo, hi, colors)
	return nil
}

func (r *reader) emitMeter(ms *meterState, lo, hi int64, colors bool) {
	ms.cells.each(lo, hi, func(i int64, c meterCell) {
		me := &p4v1.MeterEntry{MeterId: ms.m.ID, Index: &p4v1.Index{Index: i}, Config: c.cfg}
		if colors {
			me.CounterData = colorsProto(c.colors)
		}
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: me}})
	})
}

// writeDirectCounter applies a DirectCounterEntry update (spec
// "DirectCounterEntry"): MODIFY only, of an existing entry (NOT_FOUND).
func (d *Device) writeDirectCounter(typ p4v1.Update_Type, dc *p4v1.DirectCounterEntry) *opError {
	if oe := onlyModify(typ, "direct counter entries"); oe != nil {
		return oe
	}
	ts, e, oe := d.directTarget(dc.GetTableEntry(), func(t *schema.Table) bool { return t.DirectCounter != nil }, "direct counter")
	if oe != nil {
		return oe
	}
	data := dc.GetData()
	if data == nil {
		return nil
	}
	if oe := checkCounterData(data, ts.name); oe != nil {
		return oe
	}
	old := e.cnt
	e.cnt = counterCell{packets: data.GetPacketCount(), bytes: data.GetByteCount()}
	if d.recording {
		d.onUndo(func() { e.cnt = old })
	}
	return nil
}

// writeDirectMeter applies a DirectMeterEntry update (spec
// "DirectMeterEntry"): MODIFY only, of an existing entry; an unset config
// restores the default; counter_data resets the per-color counters.
func (d *Device) writeDirectMeter(typ p4v1.Update_Type, dm *p4v1.DirectMeterEntry) *opError {
	if oe := onlyModify(typ, "direct meter entries"); oe != nil {
		return oe
	}
	ts, e, oe := d.directTarget(dm.GetTableEntry(), func(t *schema.Table) bool { return t.DirectMeter != nil }, "direct meter")
	if oe != nil {
		return oe
	}
	cfg := dm.GetConfig()
	if cfg != nil {
		if oe := checkMeterConfig(cfg, ts.t.DirectMeter.Type); oe != nil {
			oe.msg = ts.name + ": " + oe.msg
			return oe
		}
	}
	reset := dm.GetCounterData() != nil
	if reset && !zeroColors(dm.GetCounterData()) {
		return errf(codes.InvalidArgument, "%s: counter_data can only reset the counters (all fields 0)", ts.name)
	}
	oldCfg, oldColors := e.meter, e.colors
	e.meter = cfg
	if reset {
		e.colors = nil
	}
	if d.recording {
		d.onUndo(func() { e.meter, e.colors = oldCfg, oldColors })
	}
	return nil
}

// directTarget finds the table entry a direct resource write refers to.
func (d *Device) directTarget(te *p4v1.TableEntry, has func(*schema.Table) bool, what string) (*tableState, *entry, *opError) {
	if te == nil {
		return nil, nil, errf(codes.InvalidArgument, "%s entry without table_entry", what)
	}
	ts := d.tables[te.GetTableId()]
	if ts == nil {
		return nil, nil, errf(codes.InvalidArgument, "unknown table ID %d", te.GetTableId())
	}
	if !has(ts.t) {
		return nil, nil, errf(codes.InvalidArgument, "%s has no %s", ts.name, what)
	}
	e, key, oe := ts.findEntry(te, d.keyBuf[:0])
	d.keyBuf = key
	return ts, e, oe
}

func (r *reader) readDirectCounters(q *p4v1.DirectCounterEntry) *opError {
	return r.resourceQuery(q.GetTableEntry(), func(t *schema.Table) bool { return t.DirectCounter != nil }, "direct counter",
		func(ts *tableState, e *entry) {
			r.emit(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
				TableEntry: keyOf(ts, e),
				Data:       &p4v1.CounterData{PacketCount: e.cnt.packets, ByteCount: e.cnt.bytes},
			}}})
		})
}

func (r *reader) readDirectMeters(q *p4v1.DirectMeterEntry) *opError {
	colors := q.GetCounterData() != nil
	return r.resourceQuery(q.GetTableEntry(), func(t *schema.Table) bool { return t.DirectMeter != nil }, "direct meter",
		func(ts *tableState, e *entry) {
			dm := &p4v1.DirectMeterEntry{TableEntry: keyOf(ts, e), Config: e.meter}
			if colors {
				dm.CounterData = colorsProto(e.colors)
			}
			r.emit(&p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: dm}})
		})
}

// writeRegister applies a RegisterEntry update (spec "RegisterEntry"):
// MODIFY only; an unset index writes every cell; the data must match the
// register's type (INVALID_ARGUMENT), and a bit<W> value must fit
// (OUT_OF_RANGE).
func (d *Device) writeRegister(typ p4v1.Update_Type, re *p4v1.RegisterEntry) *opError {
	if oe := onlyModify(typ, "register entries"); oe != nil {
		return oe
	}
	rs := d.registers[re.GetRegisterId()]
	if rs == nil {
		return errf(codes.InvalidArgument, "unknown register ID %d", re.GetRegisterId())
	}
	what := "register " + quote(rs.r.Name)
	lo, hi, oe := cellRange(re.GetIndex(), int64(rs.r.Size), what)
	if oe != nil {
		return oe
	}
	data, oe := checkRegisterData(rs.r, re.GetData(), what)
	if oe != nil {
		return oe
	}
	if lo == hi {
		return nil
	}
	if !rs.cells.canSetRange(lo, hi, data) {
		return errf(codes.Unimplemented, "%s: a wildcard write of %d cells is not supported", what, hi-lo)
	}
	if d.recording {
		d.onUndo(rs.cells.save(lo, hi))
	}
	rs.cells.setRange(lo, hi, data)
	return nil
}

// checkRegisterData validates register data and returns it in canonical
// form.
func checkRegisterData(r *schema.Register, data *p4v1.P4Data, what string) (*p4v1.P4Data, *opError) {
	if data.GetData() == nil {
		return nil, errf(codes.InvalidArgument, "%s: missing data", what)
	}
	if r.Bitwidth <= 0 {
		return data, nil // a type the emulator does not check (struct, header, int<W>...)
	}
	bs, ok := data.GetData().(*p4v1.P4Data_Bitstring)
	if !ok {
		return nil, errf(codes.InvalidArgument, "%s holds bit<%d>: data must be a bitstring", what, r.Bitwidth)
	}
	c, code, why := canonical(bs.Bitstring, r.Bitwidth, false)
	if code != codes.OK {
		return nil, errf(code, "%s: %s", what, why)
	}
	if len(c) != len(bs.Bitstring) {
		data = &p4v1.P4Data{Data: &p4v1.P4Data_Bitstring{Bitstring: c}}
	}
	return data, nil
}

func (r *reader) readRegisters(q *p4v1.RegisterEntry) *opError {
	d := r.d
	if q.GetRegisterId() == 0 {
		if q.GetIndex() != nil {
			return errf(codes.InvalidArgument, "register_id 0 reads every register: index cannot be set")
		}
		for _, rs := range d.registerList {
			r.emitRegister(rs, 0, max(int64(rs.r.Size), 0))
		}
		return nil
	}
	rs := d.registers[q.GetRegisterId()]
	if rs == nil {
		return errf(codes.InvalidArgument, "unknown register ID %d", q.GetRegisterId())
	}
	lo, hi, oe := cellRange(q.GetIndex(), int64(rs.r.Size), "register "+quote(rs.r.Name))
	if oe != nil {
		return oe
	}
	r.emitRegister(rs, lo, hi)
	return nil
}

func (r *reader) emitRegister(rs *registerState, lo, hi int64) {
	rs.cells.each(lo, hi, func(i int64, data *p4v1.P4Data) {
		if data == nil && rs.r.Bitwidth > 0 {
			data = &p4v1.P4Data{Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{0}}}
		}
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: &p4v1.RegisterEntry{
			RegisterId: rs.r.ID, Index: &p4v1.Index{Index: i}, Data: data,
		}}})
	})
}

// writeDigest applies a DigestEntry update (spec "DigestEntry"): INSERT
// enables the digest (ALREADY_EXISTS if enabled), MODIFY changes the
// configuration of an enabled digest and DELETE disables it (NOT_FOUND if
// not enabled).
func (d *Device) writeDigest(typ p4v1.Update_Type, de *p4v1.DigestEntry) *opError {
	id := de.GetDigestId()
	dg := d.s.DigestByID(id)
	if dg == nil {
		return errf(codes.InvalidArgument, "unknown digest ID %d", id)
	}
	what := "digest " + quote(dg.Name)
	old, enabled := d.digests[id]
	if typ == p4v1.Update_DELETE {
		if !enabled {
			return errf(codes.NotFound, "%s is not enabled", what)
		}
		delete(d.digests, id)
		if d.recording {
			d.onUndo(func() { d.digests[id] = old })
		}
		return nil
	}
	cfg := de.GetConfig()
	if cfg == nil {
		return errf(codes.InvalidArgument, "%s: missing config", what)
	}
	if cfg.GetMaxTimeoutNs() < 0 || cfg.GetMaxListSize() < 0 || cfg.GetAckTimeoutNs() < 0 {
		return errf(codes.InvalidArgument, "%s: negative config value", what)
	}
	if typ == p4v1.Update_INSERT && enabled {
		return errf(codes.AlreadyExists, "%s is already enabled", what)
	}
	if typ == p4v1.Update_MODIFY && !enabled {
		return errf(codes.NotFound, "%s is not enabled", what)
	}
	d.digests[id] = cfg
	if d.recording {
		d.onUndo(func() {
			if enabled {
				d.digests[id] = old
			} else {
				delete(d.digests, id)
			}
		})
	}
	return nil
}

func (r *reader) readDigests(q *p4v1.DigestEntry) *opError {
	d := r.d
	emit := func(id uint32) {
		if cfg, ok := d.digests[id]; ok {
			r.emit(&p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: &p4v1.DigestEntry{DigestId: id, Config: cfg}}})
		}
	}
	if q.GetDigestId() == 0 {
		for _, dg := range d.s.Digests() {
			emit(dg.ID)
		}
		return nil
	}
	if d.s.DigestByID(q.GetDigestId()) == nil {
		return errf(codes.InvalidArgument, "unknown digest ID %d", q.GetDigestId())
	}
	emit(q.GetDigestId())
	return nil
}

// writeValueSet applies a ValueSetEntry update (spec "ValueSetEntry"):
// MODIFY only, replacing every member; more members than the size is
// RESOURCE_EXHAUSTED, a member given twice ALREADY_EXISTS; matches follow
// the rules of table matches.
func (d *Device) writeValueSet(typ p4v1.Update_Type, ve *p4v1.ValueSetEntry) *opError {
	if oe := onlyModify(typ, "value set entries"); oe != nil {
		return oe
	}
	vs := d.valueSets[ve.GetValueSetId()]
	if vs == nil {
		return errf(codes.InvalidArgument, "unknown value set ID %d", ve.GetValueSetId())
	}
	what := "value set " + quote(vs.v.Name)
	members := ve.GetMembers()
	if vs.v.Size > 0 && len(members) > int(vs.v.Size) {
		return errf(codes.ResourceExhausted, "%s holds at most %d members, got %d", what, vs.v.Size, len(members))
	}
	seen := make(map[string]bool, len(members))
	var canon []*p4v1.ValueSetMember
	for i, m := range members {
		key, dirty, oe := vs.key.check(what, m.GetMatch(), d.keyBuf[:0])
		d.keyBuf = key
		if oe != nil {
			return oe
		}
		if seen[string(key)] {
			return errf(codes.AlreadyExists, "%s: member #%d is a duplicate", what, i)
		}
		seen[string(key)] = true
		if dirty && canon == nil {
			canon = slices.Clone(members)
		}
		if dirty {
			canon[i] = &p4v1.ValueSetMember{Match: vs.key.canonMatches(m.GetMatch())}
		}
	}
	if canon != nil {
		members = canon
	}
	old := vs.members
	vs.members = members
	if d.recording {
		d.onUndo(func() { vs.members = old })
	}
	return nil
}

func (r *reader) readValueSets(q *p4v1.ValueSetEntry) *opError {
	d := r.d
	if len(q.GetMembers()) > 0 {
		return errf(codes.InvalidArgument, "a value set read takes no members")
	}
	emit := func(vs *valueSetState) {
		r.emit(&p4v1.Entity{Entity: &p4v1.Entity_ValueSetEntry{ValueSetEntry: &p4v1.ValueSetEntry{ValueSetId: vs.v.ID, Members: vs.members}}})
	}
	if q.GetValueSetId() == 0 {
		for _, vs := range d.valueSetList {
			emit(vs)
		}
		return nil
	}
	vs := d.valueSets[q.GetValueSetId()]
	if vs == nil {
		return errf(codes.InvalidArgument, "unknown value set ID %d", q.GetValueSetId())
	}
	emit(vs)
	return nil
}
