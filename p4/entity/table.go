package entity

import (
	"errors"
	"fmt"
	"net"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/schema"
)

// entryBlock holds a table entry with its direct action, so that the
// common entry costs one allocation for these four messages.
type entryBlock struct {
	te  p4v1.TableEntry
	ta  p4v1.TableAction
	taa p4v1.TableAction_Action
	act p4v1.Action
	buf [entryBuf]byte // values, when they fit
}

// entryBuf is the room for values inside an entryBlock: the block then
// fills its allocation size class (352 bytes on 64-bit platforms).
const entryBuf = 32

type entryMode uint8

const (
	modeEntry   entryMode = iota // TableEntry
	modeDefault                  // DefaultEntry
	modeDirect                   // the key of a DirectCounterEntry or DirectMeterEntry
)

// entryOpts are the options of an entry, sorted by kind.
type entryOpts struct {
	opts                     []Option
	nFields                  int
	action                   *Option // Action, Member, Group or ActionSet
	prio, idle, meta         *Option
	counter, meter, meterCtr *Option
}

func (b *Builder) sortOpts(kind schema.Kind, obj string, opts []Option) (entryOpts, error) {
	eo := entryOpts{opts: opts}
	for i := range opts {
		o := &opts[i]
		dup := false
		switch o.kind {
		case optMatch:
			eo.nFields += len(o.fields)
		case optAction, optMember, optGroup, optActionSet:
			if eo.action != nil {
				return eo, errAt(kind, obj, "", "", "", fmt.Errorf("two actions: %s and %s", eo.action.kind, o.kind))
			}
			eo.action = o
		case optPriority:
			dup = eo.prio != nil
			eo.prio = o
		case optIdleTimeout:
			dup = eo.idle != nil
			eo.idle = o
		case optMetadata:
			dup = eo.meta != nil
			eo.meta = o
		case optCounterData:
			dup = eo.counter != nil
			eo.counter = o
		case optMeterConfig:
			dup = eo.meter != nil
			eo.meter = o
		case optMeterCounterData:
			dup = eo.meterCtr != nil
			eo.meterCtr = o
		default:
			return eo, errAt(kind, obj, "", "", "", errors.New("empty entity.Option (use the option functions)"))
		}
		if dup {
			return eo, errAt(kind, obj, "", "", "", fmt.Errorf("%s given twice", o.kind))
		}
	}
	return eo, nil
}

// TableEntry builds an entry of a table by name (full name, alias or
// unique suffix):
//
//	te, err := b.TableEntry("ingress.routing.routes_v4",
//		entity.Match(entity.LPM("hdr.ipv4.dst_addr", "10.0.0.0/24")),
//		entity.Action("set_nexthop", entity.Param("port", 1), entity.Param("dmac", "00:00:00:00:00:01")))
//
// The builder checks the entry against the P4Info and the spec:
//
//   - every field is a field of the table, given at most once, with the
//     helper of its match kind (or MatchText); exact fields are required;
//     "don't care" values (LPM /0, ternary mask 0, the full range,
//     DontCare) are left out as the spec requires;
//   - values fit the field's width and are sent in canonical form; bits
//     past an LPM prefix or outside a ternary mask are cleared, or
//     rejected with the Strict option;
//   - a priority > 0 is given exactly when the table has a ternary, range
//     or optional field;
//   - the action is one of the table's actions and not default-only, with
//     every parameter; indirect tables take Member, Group (selectors) or
//     ActionSet (selectors) instead of Action;
//   - IdleTimeout, CounterData, MeterConfig and MeterCounterData are only
//     for tables with idle timeout, a direct counter, a direct meter.
//
// An entry without an action is valid for DELETE, for reads and for a
// MODIFY of direct resources; INSERT needs one. Match fields and action
// parameters are emitted in P4Info order whatever the order given, so
// equal entries build equal messages. Errors are *Error values naming the
// table, field, action and parameter at fault.
func (b *Builder) TableEntry(table string, opts ...Option) (*p4v1.TableEntry, error) {
	ti, err := b.table(table)
	if err != nil {
		return nil, err
	}
	eo, err := b.sortOpts(schema.KindTable, ti.t.Name, opts)
	if err != nil {
		return nil, err
	}
	return b.tableEntry(ti, &eo, modeEntry)
}

// DefaultEntry builds the default entry of a table, to be written with
// MODIFY: an Action (direct tables only; the spec keeps the default action
// of indirect tables constant), and optionally Metadata, CounterData,
// MeterConfig. Without an action, a MODIFY resets the default entry to the
// one of the P4 program.
func (b *Builder) DefaultEntry(table string, opts ...Option) (*p4v1.TableEntry, error) {
	ti, err := b.table(table)
	if err != nil {
		return nil, err
	}
	eo, err := b.sortOpts(schema.KindTable, ti.t.Name, opts)
	if err != nil {
		return nil, err
	}
	return b.tableEntry(ti, &eo, modeDefault)
}

// TableReadAll builds the table entry of a wildcard read of every entry
// of a table (spec "Wildcard Reads").
func (b *Builder) TableReadAll(table string) (*p4v1.TableEntry, error) {
	ti, err := b.table(table)
	if err != nil {
		return nil, err
	}
	return &p4v1.TableEntry{TableId: ti.t.ID}, nil
}

func (b *Builder) tableEntry(ti *tableInfo, eo *entryOpts, mode entryMode) (*p4v1.TableEntry, error) {
	t := ti.t
	fail := func(err error) (*p4v1.TableEntry, error) {
		return nil, errAt(schema.KindTable, t.Name, "", "", "", err)
	}
	switch mode {
	case modeDefault:
		switch {
		case eo.nFields > 0:
			return fail(errors.New("a default entry has no match"))
		case eo.prio != nil:
			return fail(errors.New("a default entry has no priority"))
		case eo.idle != nil:
			return fail(errors.New("idle timeout is not supported for default entries"))
		case t.ConstDefaultActionID != 0 && eo.action != nil:
			return fail(errors.New("the default action is const"))
		case t.ActionProfile != nil && eo.action != nil:
			return fail(fmt.Errorf("the default action of an indirect table (action profile %s) is const NoAction", t.ActionProfile.Name))
		}
	case modeEntry:
		if len(t.Fields) == 0 {
			return fail(errors.New("the table has no match key: only its default entry can be written (use DefaultEntry)"))
		}
		if t.IsConst && eo.action != nil {
			return fail(errors.New("the table is const: its entries cannot be written, only their direct resources modified (without an action)"))
		}
	case modeDirect:
		switch {
		case eo.action != nil:
			return fail(fmt.Errorf("%s: a direct resource entry names its table entry by match and priority only", eo.action.kind))
		case eo.idle != nil, eo.meta != nil:
			return fail(errors.New("a direct resource entry names its table entry by match and priority only"))
		}
	}
	if mode != modeDefault {
		if t.NeedsPriority {
			if eo.prio == nil {
				return fail(errors.New("needs a priority > 0 (entity.Priority): the table has ternary, range or optional fields"))
			}
			if eo.prio.n <= 0 {
				return fail(fmt.Errorf("priority %d: must be > 0", eo.prio.n))
			}
		} else if eo.prio != nil && eo.prio.n != 0 {
			return fail(fmt.Errorf("priority %d: the table takes no priority (it has no ternary, range or optional field)", eo.prio.n))
		}
	}
	if eo.idle != nil {
		switch {
		case eo.idle.n < 0:
			return fail(errors.New("negative idle timeout"))
		case eo.idle.n > 0 && !t.IdleTimeout:
			return fail(errors.New("the table does not support idle timeout"))
		}
	}
	if mode != modeDirect {
		if eo.counter != nil && t.DirectCounter == nil {
			return fail(errors.New("the table has no direct counter for entity.CounterData"))
		}
		if (eo.meter != nil || eo.meterCtr != nil) && t.DirectMeter == nil {
			return fail(errors.New("the table has no direct meter for entity.MeterConfig or entity.MeterCounterData"))
		}
	}

	// Room in the value buffer for the action's parameters.
	extra := 0
	if a := eo.action; a != nil && a.kind == optAction {
		extra = paramRoom(a)
	}
	blk := &entryBlock{}
	matches, buf, err := b.encodeMatch(&ti.keyInfo, schema.KindTable, t.Name, eo.opts, nil, mode != modeDefault, extra, blk.buf[:0:len(blk.buf)])
	if err != nil {
		return nil, err
	}
	te := &blk.te
	te.TableId = t.ID
	te.Match = matches
	te.IsDefaultAction = mode == modeDefault
	if eo.prio != nil {
		te.Priority = int32(eo.prio.n)
	}
	if eo.idle != nil {
		te.IdleTimeoutNs = eo.idle.n
	}
	if eo.meta != nil && len(eo.meta.bytes) > 0 {
		te.Metadata = append([]byte(nil), eo.meta.bytes...)
	}
	if mode != modeDirect {
		if eo.counter != nil {
			te.CounterData = eo.counter.counterData()
		}
		if eo.meter != nil {
			te.MeterConfig = eo.meter.meterConfig()
		}
		if eo.meterCtr != nil {
			te.MeterCounterData = eo.meterCtr.meterCounterData()
		}
	}
	if a := eo.action; a != nil {
		if err := b.tableAction(ti, a, blk, buf, mode); err != nil {
			return nil, err
		}
	}
	return te, nil
}

// paramRoom estimates the bytes the parameter values of an action need,
// without resolving the action: the values' own lengths for strings and
// byte slices, 8 for integers, 16 for addresses and anything else. A
// short estimate only costs a larger buffer.
func paramRoom(a *Option) int {
	n := 0
	for i := range a.params {
		v := &a.params[i].v
		switch v.k {
		case vUint:
			n += 8
		case vBytes:
			n += len(v.b)
		case vText:
			n += len(v.s)
		case vAny:
			switch x := v.a.(type) {
			case string:
				n += len(x)
			case []byte:
				n += len(x)
			case net.HardwareAddr:
				n += len(x)
			case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, bool:
				n += 8
			default:
				n += 16
			}
		default:
			n += 16
		}
	}
	return n
}

func (b *Builder) tableAction(ti *tableInfo, o *Option, blk *entryBlock, buf []byte, mode entryMode) error {
	t := ti.t
	te := &blk.te
	prof := t.ActionProfile
	switch o.kind {
	case optAction:
		if prof != nil {
			return errAt(schema.KindTable, t.Name, "", o.name, "", fmt.Errorf("the table is indirect (action profile %s): use entity.Member, entity.Group or entity.ActionSet", prof.Name))
		}
		u, err := b.scopedAction(ti, o.name, mode)
		if err != nil {
			return err
		}
		if _, err := b.fillAction(&blk.act, schema.KindTable, t.Name, u.ai, o.params, buf); err != nil {
			return err
		}
		blk.taa.Action = &blk.act
		blk.ta.Type = &blk.taa
		te.Action = &blk.ta
	case optMember:
		if prof == nil {
			return errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.Member: the table is direct (no action profile): use entity.Action"))
		}
		if o.n == 0 {
			return errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.Member: member ID 0 is not valid"))
		}
		blk.ta.Type = &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: uint32(o.n)}
		te.Action = &blk.ta
	case optGroup:
		if prof == nil || !prof.WithSelector {
			return errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.Group: the table is not implemented with an action selector"))
		}
		if o.n == 0 {
			return errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.Group: group ID 0 is not valid"))
		}
		blk.ta.Type = &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: uint32(o.n)}
		te.Action = &blk.ta
	case optActionSet:
		if prof == nil || !prof.WithSelector {
			return errAt(schema.KindTable, t.Name, "", "", "", errors.New("entity.ActionSet: the table is not implemented with an action selector"))
		}
		set, err := b.actionSet(ti, prof, o.set)
		if err != nil {
			return err
		}
		blk.ta.Type = &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: set}
		te.Action = &blk.ta
	}
	return nil
}

// scopedAction resolves an action of the table and checks its scope.
func (b *Builder) scopedAction(ti *tableInfo, name string, mode entryMode) (actionUse, error) {
	u, err := ti.action(b, name)
	if err != nil {
		return u, errAt(schema.KindTable, ti.t.Name, "", name, "", err)
	}
	switch {
	case mode == modeDefault && u.ref.TableOnly():
		return u, errAt(schema.KindTable, ti.t.Name, "", u.ai.a.Name, "", errors.New("is @tableonly: it cannot be the default action"))
	case mode != modeDefault && u.ref.DefaultOnly():
		return u, errAt(schema.KindTable, ti.t.Name, "", u.ai.a.Name, "", errors.New("is @defaultonly: it can only be the default action (use DefaultEntry)"))
	}
	return u, nil
}

// fillAction fills dst with the action and its parameters, in P4Info
// order, encoding the values into buf.
func (b *Builder) fillAction(dst *p4v1.Action, kind schema.Kind, obj string, ai *actionInfo, params []ParamValue, buf []byte) ([]byte, error) {
	a := ai.a
	dst.ActionId = a.ID
	n := len(ai.params)
	if n == 0 {
		if len(params) > 0 {
			_, err := a.Param(strings.Clone(params[0].name))
			return buf, errAt(kind, obj, "", a.Name, params[0].name, err)
		}
		return buf, nil
	}
	ptrs, vals := newParams(n)
	for i := range params {
		pv := &params[i]
		idx, ok := ai.index(pv.name)
		if !ok {
			_, err := a.Param(strings.Clone(pv.name))
			return buf, errAt(kind, obj, "", a.Name, pv.name, err)
		}
		if ptrs[idx] != nil {
			return buf, errAt(kind, obj, "", a.Name, ai.params[idx].p.Name, errors.New("given twice"))
		}
		pi := &ai.params[idx]
		var (
			v   []byte
			err error
		)
		buf, v, err = b.put(buf, &pv.v, &pi.sp)
		if err != nil {
			return buf, errAt(kind, obj, "", a.Name, pi.p.Name, err)
		}
		vals[idx].ParamId = pi.p.ID
		vals[idx].Value = v
		ptrs[idx] = &vals[idx]
	}
	if len(params) < n {
		var missing []string
		for i := range ptrs {
			if ptrs[i] == nil {
				missing = append(missing, ai.params[i].p.Name)
			}
		}
		return buf, errAt(kind, obj, "", a.Name, "", fmt.Errorf("missing parameter(s) %s: every parameter needs a value", strings.Join(missing, ", ")))
	}
	dst.Params = ptrs
	return buf, nil
}

// Parameter blocks: the pointer slice and the messages of up to four
// parameters in one allocation.
type (
	params1 struct {
		p [1]*p4v1.Action_Param
		v [1]p4v1.Action_Param
	}
	params2 struct {
		p [2]*p4v1.Action_Param
		v [2]p4v1.Action_Param
	}
	params3 struct {
		p [3]*p4v1.Action_Param
		v [3]p4v1.Action_Param
	}
	params4 struct {
		p [4]*p4v1.Action_Param
		v [4]p4v1.Action_Param
	}
)

func newParams(n int) ([]*p4v1.Action_Param, []p4v1.Action_Param) {
	switch n {
	case 1:
		x := &params1{}
		return x.p[:], x.v[:]
	case 2:
		x := &params2{}
		return x.p[:], x.v[:]
	case 3:
		x := &params3{}
		return x.p[:], x.v[:]
	case 4:
		x := &params4{}
		return x.p[:], x.v[:]
	}
	return make([]*p4v1.Action_Param, n), make([]p4v1.Action_Param, n)
}

// action builds a standalone *p4v1.Action of a table's action, for
// action profile members and one-shot action sets.
func (b *Builder) action(kind schema.Kind, obj string, ti *tableInfo, o *Option) (*p4v1.Action, error) {
	if o.kind != optAction {
		return nil, errAt(kind, obj, "", "", "", fmt.Errorf("want entity.Action, got %s", o.kind))
	}
	u, err := ti.action(b, o.name)
	if err != nil {
		return nil, errAt(kind, obj, "", o.name, "", err)
	}
	if u.ref.DefaultOnly() {
		return nil, errAt(kind, obj, "", u.ai.a.Name, "", errors.New("is @defaultonly: it can only be the default action of the table"))
	}
	act := &p4v1.Action{}
	if _, err := b.fillAction(act, kind, obj, u.ai, o.params, make([]byte, 0, paramRoom(o))); err != nil {
		return nil, err
	}
	return act, nil
}
