package entity

import (
	"errors"
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/schema"
)

// AllCells as an index selects every cell of a counter, meter or register
// (a wildcard read: the index is left unset).
const AllCells int64 = -1

func checkIndex(index, size int64) error {
	switch {
	case index == AllCells:
		return nil
	case index < 0:
		return fmt.Errorf("negative index %d (use entity.AllCells for every cell)", index)
	case size > 0 && index >= size:
		return fmt.Errorf("index %d out of range: the array has %d cells", index, size)
	}
	return nil
}

func indexOf(index int64) *p4v1.Index {
	if index == AllCells {
		return nil
	}
	return &p4v1.Index{Index: index}
}

// onlyOpts checks that opts hold only the given kinds, at most once each.
func onlyOpts(kind schema.Kind, obj string, opts []Option, allowed ...optKind) (map[optKind]*Option, error) {
	got := make(map[optKind]*Option, len(opts))
	for i := range opts {
		o := &opts[i]
		ok := false
		for _, k := range allowed {
			if o.kind == k {
				ok = true
			}
		}
		if !ok {
			return nil, errAt(kind, obj, "", "", "", fmt.Errorf("%s does not apply here", o.kind))
		}
		if got[o.kind] != nil {
			return nil, errAt(kind, obj, "", "", "", fmt.Errorf("%s given twice", o.kind))
		}
		got[o.kind] = o
	}
	return got, nil
}

// CounterEntry builds a cell of an indirect counter: its index
// (AllCells for a wildcard read) and, to write it with MODIFY, its
// CounterData.
func (b *Builder) CounterEntry(counter string, index int64, opts ...Option) (*p4v1.CounterEntry, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	c, err := b.s.Counter(counter)
	if err != nil {
		return nil, errAt(schema.KindCounter, counter, "", "", "", err)
	}
	if err := checkIndex(index, c.Size); err != nil {
		return nil, errAt(schema.KindCounter, c.Name, "", "", "", err)
	}
	got, err := onlyOpts(schema.KindCounter, c.Name, opts, optCounterData)
	if err != nil {
		return nil, err
	}
	e := &p4v1.CounterEntry{CounterId: c.ID, Index: indexOf(index)}
	if o := got[optCounterData]; o != nil {
		e.Data = o.counterData()
	}
	return e, nil
}

// MeterEntry builds a cell of an indirect meter: its index (AllCells for
// a wildcard read) and, to write it with MODIFY, its MeterConfig (and
// MeterCounterData to reset its per-color counters).
func (b *Builder) MeterEntry(meter string, index int64, opts ...Option) (*p4v1.MeterEntry, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	m, err := b.s.Meter(meter)
	if err != nil {
		return nil, errAt(schema.KindMeter, meter, "", "", "", err)
	}
	if err := checkIndex(index, m.Size); err != nil {
		return nil, errAt(schema.KindMeter, m.Name, "", "", "", err)
	}
	got, err := onlyOpts(schema.KindMeter, m.Name, opts, optMeterConfig, optMeterCounterData)
	if err != nil {
		return nil, err
	}
	e := &p4v1.MeterEntry{MeterId: m.ID, Index: indexOf(index)}
	if o := got[optMeterConfig]; o != nil {
		e.Config = o.meterConfig()
	}
	if o := got[optMeterCounterData]; o != nil {
		e.CounterData = o.meterCounterData()
	}
	return e, nil
}

// directKey builds the table entry that names a direct resource entry,
// from the Match and Priority options; the other options are returned.
func (b *Builder) directKey(table string, opts []Option) (*tableInfo, *p4v1.TableEntry, entryOpts, error) {
	ti, err := b.table(table)
	if err != nil {
		return nil, nil, entryOpts{}, err
	}
	eo, err := b.sortOpts(schema.KindTable, ti.t.Name, opts)
	if err != nil {
		return nil, nil, eo, err
	}
	if eo.nFields == 0 && eo.prio == nil && eo.action == nil && eo.idle == nil && eo.meta == nil {
		// Every entry of the table (spec "DirectCounterEntry").
		return ti, &p4v1.TableEntry{TableId: ti.t.ID}, eo, nil
	}
	te, err := b.tableEntry(ti, &eo, modeDirect)
	return ti, te, eo, err
}

// DirectCounterEntry builds the direct counter cell of a table entry,
// named by its Match and Priority options, with CounterData to write it
// (MODIFY). With no option it reads the counters of every entry of the
// table.
func (b *Builder) DirectCounterEntry(table string, opts ...Option) (*p4v1.DirectCounterEntry, error) {
	ti, te, eo, err := b.directKey(table, opts)
	if err != nil {
		return nil, err
	}
	if ti.t.DirectCounter == nil {
		return nil, errAt(schema.KindTable, ti.t.Name, "", "", "", errors.New("the table has no direct counter"))
	}
	if eo.meter != nil || eo.meterCtr != nil {
		return nil, errAt(schema.KindTable, ti.t.Name, "", "", "", errors.New("meter options do not apply to a direct counter entry"))
	}
	e := &p4v1.DirectCounterEntry{TableEntry: te}
	if eo.counter != nil {
		e.Data = eo.counter.counterData()
	}
	return e, nil
}

// DirectMeterEntry builds the direct meter cell of a table entry, named by
// its Match and Priority options, with MeterConfig (and MeterCounterData)
// to write it (MODIFY).
func (b *Builder) DirectMeterEntry(table string, opts ...Option) (*p4v1.DirectMeterEntry, error) {
	ti, te, eo, err := b.directKey(table, opts)
	if err != nil {
		return nil, err
	}
	if ti.t.DirectMeter == nil {
		return nil, errAt(schema.KindTable, ti.t.Name, "", "", "", errors.New("the table has no direct meter"))
	}
	if eo.counter != nil {
		return nil, errAt(schema.KindTable, ti.t.Name, "", "", "", errors.New("entity.CounterData does not apply to a direct meter entry"))
	}
	e := &p4v1.DirectMeterEntry{TableEntry: te}
	if eo.meter != nil {
		e.Config = eo.meter.meterConfig()
	}
	if eo.meterCtr != nil {
		e.CounterData = eo.meterCtr.meterCounterData()
	}
	return e, nil
}

// RegisterEntry builds a cell of a register: its index (AllCells for a
// wildcard read) and, to write it with MODIFY, its value. For a bit<W>
// register the value is any value accepted by the package (nil for a
// read); for other element types pass a *p4v1.P4Data, used as is.
func (b *Builder) RegisterEntry(register string, index int64, value any) (*p4v1.RegisterEntry, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	r, err := b.s.Register(register)
	if err != nil {
		return nil, errAt(schema.KindRegister, register, "", "", "", err)
	}
	if err := checkIndex(index, int64(r.Size)); err != nil {
		return nil, errAt(schema.KindRegister, r.Name, "", "", "", err)
	}
	e := &p4v1.RegisterEntry{RegisterId: r.ID, Index: indexOf(index)}
	switch x := value.(type) {
	case nil:
		return e, nil
	case *p4v1.P4Data:
		if x == nil {
			return e, nil
		}
		e.Data = proto.Clone(x).(*p4v1.P4Data)
		return e, nil
	}
	if r.Bitwidth == 0 {
		return nil, errAt(schema.KindRegister, r.Name, "", "", "", errors.New("the register's elements are not bit<W>: give a *p4v1.P4Data"))
	}
	v := anyValue(value)
	data, err := appendValue(nil, &v, &spec{width: r.Bitwidth, f: fieldFormat(r.Name, r.Bitwidth, 0, nil, nil)}, b.pad)
	if err != nil {
		return nil, errAt(schema.KindRegister, r.Name, "", "", "", err)
	}
	e.Data = &p4v1.P4Data{Data: &p4v1.P4Data_Bitstring{Bitstring: data}}
	return e, nil
}

// DigestEntry builds the configuration of a digest (written with INSERT,
// MODIFY or DELETE); a nil config reads it.
func (b *Builder) DigestEntry(digest string, cfg *DigestConfig) (*p4v1.DigestEntry, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	d, err := b.s.Digest(digest)
	if err != nil {
		return nil, errAt(schema.KindDigest, digest, "", "", "", err)
	}
	e := &p4v1.DigestEntry{DigestId: d.ID}
	if cfg != nil {
		if cfg.MaxTimeout < 0 || cfg.AckTimeout < 0 || cfg.MaxListSize < 0 {
			return nil, errAt(schema.KindDigest, d.Name, "", "", "", errors.New("negative digest configuration"))
		}
		e.Config = &p4v1.DigestEntry_Config{MaxTimeoutNs: int64(cfg.MaxTimeout), MaxListSize: cfg.MaxListSize, AckTimeoutNs: int64(cfg.AckTimeout)}
	}
	return e, nil
}

// ValueSetEntry builds the content of a parser value set (written with
// MODIFY, which replaces every member; no member empties the set). Each
// member gives its fields like a table entry's match, with the same
// "don't care" rules and no priority.
func (b *Builder) ValueSetEntry(valueSet string, members ...ValueSetMember) (*p4v1.ValueSetEntry, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	vs, err := b.s.ValueSet(valueSet)
	if err != nil {
		return nil, errAt(schema.KindValueSet, valueSet, "", "", "", err)
	}
	if vs.Size > 0 && len(members) > int(vs.Size) {
		return nil, errAt(schema.KindValueSet, vs.Name, "", "", "", fmt.Errorf("%d members exceed the value set's size %d", len(members), vs.Size))
	}
	vi := b.x.valueSets[vs.ID]
	e := &p4v1.ValueSetEntry{ValueSetId: vs.ID}
	if len(members) > 0 {
		e.Members = make([]*p4v1.ValueSetMember, len(members))
	}
	for i := range members {
		ms, _, err := b.encodeMatch(&vi.keyInfo, schema.KindValueSet, vs.Name, nil, members[i].fields, true, 0, nil)
		if err != nil {
			var ee *Error
			if errors.As(err, &ee) {
				ee.Err = fmt.Errorf("member %d: %w", i, ee.Err)
			}
			return nil, err
		}
		e.Members[i] = &p4v1.ValueSetMember{Match: ms}
	}
	return e, nil
}
