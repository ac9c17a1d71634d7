package entity

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/schema"
)

// Readable is the readable form of an entity: names instead of IDs and
// values rendered by field kind, width and annotations. Its String is one
// stable line for logs and diffs; the struct itself marshals to JSON and
// YAML (json and yaml tags) for "-o json|yaml". Fields that do not apply
// to the entity's kind are empty.
type Readable struct {
	// Kind is table_entry, action_profile_member, action_profile_group,
	// counter_entry, direct_counter_entry, meter_entry,
	// direct_meter_entry, register_entry, multicast_group, clone_session,
	// value_set_entry, digest_entry or extern_entry.
	Kind string `json:"kind" yaml:"kind"`
	// Name is the full name of the table, action profile, counter, meter,
	// register, value set or digest ("#<id>" when unknown).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// ID is the multicast group or clone session ID.
	ID uint32 `json:"id,omitempty" yaml:"id,omitempty"`

	Default  bool            `json:"default,omitempty" yaml:"default,omitempty"`
	Const    bool            `json:"const,omitempty" yaml:"const,omitempty"`
	Match    []ReadableMatch `json:"match,omitempty" yaml:"match,omitempty"`
	Priority int32           `json:"priority,omitempty" yaml:"priority,omitempty"`
	Action   *ReadableAction `json:"action,omitempty" yaml:"action,omitempty"`

	MemberID uint32           `json:"member_id,omitempty" yaml:"member_id,omitempty"` // action profile member
	GroupID  uint32           `json:"group_id,omitempty" yaml:"group_id,omitempty"`   // action profile group
	Members  []ReadableMember `json:"members,omitempty" yaml:"members,omitempty"`     // action profile group
	MaxSize  int32            `json:"max_size,omitempty" yaml:"max_size,omitempty"`

	Index         *int64                 `json:"index,omitempty" yaml:"index,omitempty"` // nil: every cell
	Counter       *ReadableCounter       `json:"counter,omitempty" yaml:"counter,omitempty"`
	Meter         *ReadableMeter         `json:"meter,omitempty" yaml:"meter,omitempty"`
	MeterCounters *ReadableMeterCounters `json:"meter_counters,omitempty" yaml:"meter_counters,omitempty"`
	Data          string                 `json:"data,omitempty" yaml:"data,omitempty"` // register cell

	IdleTimeout        string `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty"`
	TimeSinceLastHit   string `json:"time_since_last_hit,omitempty" yaml:"time_since_last_hit,omitempty"`
	Metadata           string `json:"metadata,omitempty" yaml:"metadata,omitempty"`
	ControllerMetadata uint64 `json:"controller_metadata,omitempty" yaml:"controller_metadata,omitempty"`

	Replicas       []ReadableReplica `json:"replicas,omitempty" yaml:"replicas,omitempty"`
	ClassOfService uint32            `json:"class_of_service,omitempty" yaml:"class_of_service,omitempty"`
	Truncate       int32             `json:"truncate,omitempty" yaml:"truncate,omitempty"`

	ValueSet [][]ReadableMatch `json:"value_set,omitempty" yaml:"value_set,omitempty"`
	Digest   *ReadableDigest   `json:"digest_config,omitempty" yaml:"digest_config,omitempty"`
	Extern   *ReadableExtern   `json:"extern,omitempty" yaml:"extern,omitempty"`
}

// ReadableMatch is one match field: "10.0.0.0/24" (lpm),
// "0x0800&&&0xffff" (ternary), "10..20" (range), a plain value (exact,
// optional).
type ReadableMatch struct {
	Field string `json:"field" yaml:"field"`
	Kind  string `json:"kind" yaml:"kind"` // exact, lpm, ternary, range, optional, other
	Value string `json:"value" yaml:"value"`
}

// ReadableAction is the action of a table entry or member: a direct
// action with its parameters, a member or group reference, or a one-shot
// action set.
type ReadableAction struct {
	Name      string             `json:"name,omitempty" yaml:"name,omitempty"`
	Params    []ReadableValue    `json:"params,omitempty" yaml:"params,omitempty"`
	MemberID  uint32             `json:"member_id,omitempty" yaml:"member_id,omitempty"`
	GroupID   uint32             `json:"group_id,omitempty" yaml:"group_id,omitempty"`
	ActionSet []ReadableWeighted `json:"action_set,omitempty" yaml:"action_set,omitempty"`
}

// ReadableValue is a named value (action parameter, struct member).
type ReadableValue struct {
	Name  string `json:"name" yaml:"name"`
	Value string `json:"value" yaml:"value"`
}

// ReadableWeighted is one action of a one-shot action set.
type ReadableWeighted struct {
	Weight    int32          `json:"weight" yaml:"weight"`
	WatchPort string         `json:"watch_port,omitempty" yaml:"watch_port,omitempty"`
	Action    ReadableAction `json:"action" yaml:"action"`
}

// ReadableMember is one member of an action profile group.
type ReadableMember struct {
	MemberID  uint32 `json:"member_id" yaml:"member_id"`
	Weight    int32  `json:"weight" yaml:"weight"`
	WatchPort string `json:"watch_port,omitempty" yaml:"watch_port,omitempty"`
}

// ReadableCounter is counter data.
type ReadableCounter struct {
	Bytes   int64 `json:"bytes" yaml:"bytes"`
	Packets int64 `json:"packets" yaml:"packets"`
}

// ReadableMeter is a meter configuration.
type ReadableMeter struct {
	CIR    int64 `json:"cir" yaml:"cir"`
	CBurst int64 `json:"cburst" yaml:"cburst"`
	PIR    int64 `json:"pir" yaml:"pir"`
	PBurst int64 `json:"pburst" yaml:"pburst"`
	EBurst int64 `json:"eburst,omitempty" yaml:"eburst,omitempty"`
}

// ReadableMeterCounters are the per-color counters of a meter.
type ReadableMeterCounters struct {
	Green  ReadableCounter `json:"green" yaml:"green"`
	Yellow ReadableCounter `json:"yellow" yaml:"yellow"`
	Red    ReadableCounter `json:"red" yaml:"red"`
}

// ReadableReplica is one replica of a multicast group or clone session.
type ReadableReplica struct {
	Port     string            `json:"port" yaml:"port"`
	Instance uint32            `json:"instance" yaml:"instance"`
	Backups  []ReadableReplica `json:"backups,omitempty" yaml:"backups,omitempty"`
}

// ReadableDigest is a digest configuration.
type ReadableDigest struct {
	MaxTimeout  string `json:"max_timeout" yaml:"max_timeout"`
	MaxListSize int32  `json:"max_list_size" yaml:"max_list_size"`
	AckTimeout  string `json:"ack_timeout" yaml:"ack_timeout"`
}

// ReadableExtern is an architecture-specific extern entry.
type ReadableExtern struct {
	TypeID  uint32 `json:"type_id" yaml:"type_id"`
	ID      uint32 `json:"id" yaml:"id"`
	TypeURL string `json:"type_url,omitempty" yaml:"type_url,omitempty"`
	Value   string `json:"value,omitempty" yaml:"value,omitempty"`
}

// Describe renders an entity (a *p4v1.Entity or any entity message) in
// readable form with the names and formats of the schema. It never
// panics: what it cannot resolve (unknown IDs, values too wide for their
// field, matches the spec forbids) is rendered raw ("#<id>", hex) and
// reported in the error, which joins one error per problem. The Readable
// is returned even with an error.
func Describe[M Message](s *schema.Schema, m M) (*Readable, error) {
	d := describer{s: s}
	r := d.entity(Wrap(m))
	return r, errors.Join(d.errs...)
}

// Format renders an entity on one line, as Describe(s, m).String(); what
// cannot be resolved is rendered raw.
func Format[M Message](s *schema.Schema, m M) string {
	r, _ := Describe(s, m)
	return r.String()
}

type describer struct {
	s    *schema.Schema
	errs []error
	sp   int8 // stringPorts(s): 0 unknown, 1 false, 2 true
}

// stringPorts reports, once per describer, whether the P4Info translates
// ports to strings.
func (d *describer) stringPorts() bool {
	if d.sp == 0 {
		d.sp = 1
		if stringPorts(d.s) {
			d.sp = 2
		}
	}
	return d.sp == 2
}

func (d *describer) fail(format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf(format, args...))
}

func idName(id uint32) string { return fmt.Sprintf("#%d", id) }

func (d *describer) entity(e *p4v1.Entity) *Readable {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		r := &Readable{Kind: "table_entry"}
		d.tableEntry(r, x.TableEntry, true)
		return r
	case *p4v1.Entity_ActionProfileMember:
		return d.member(x.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return d.group(x.ActionProfileGroup)
	case *p4v1.Entity_CounterEntry:
		return d.counter(x.CounterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		r := &Readable{Kind: "direct_counter_entry"}
		d.tableEntry(r, x.DirectCounterEntry.GetTableEntry(), false)
		if c := x.DirectCounterEntry.GetData(); c != nil {
			r.Counter = &ReadableCounter{Bytes: c.GetByteCount(), Packets: c.GetPacketCount()}
		}
		return r
	case *p4v1.Entity_MeterEntry:
		return d.meter(x.MeterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		r := &Readable{Kind: "direct_meter_entry"}
		d.tableEntry(r, x.DirectMeterEntry.GetTableEntry(), false)
		r.Meter = meterConfig(x.DirectMeterEntry.GetConfig())
		r.MeterCounters = meterCounters(x.DirectMeterEntry.GetCounterData())
		return r
	case *p4v1.Entity_RegisterEntry:
		return d.register(x.RegisterEntry)
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return d.pre(x.PacketReplicationEngineEntry)
	case *p4v1.Entity_ValueSetEntry:
		return d.valueSet(x.ValueSetEntry)
	case *p4v1.Entity_DigestEntry:
		return d.digest(x.DigestEntry)
	case *p4v1.Entity_ExternEntry:
		ex := x.ExternEntry
		return &Readable{Kind: "extern_entry", Extern: &ReadableExtern{TypeID: ex.GetExternTypeId(), ID: ex.GetExternId(),
			TypeURL: ex.GetEntry().GetTypeUrl(), Value: hexBytes(ex.GetEntry().GetValue())}}
	}
	d.fail("empty entity")
	return &Readable{Kind: "empty"}
}

func (d *describer) table(id uint32) *schema.Table {
	if d.s == nil {
		return nil
	}
	return d.s.TableByID(id)
}

// tableEntry fills the table entry part of r; withAction also describes
// the action, direct resources and other non-key fields.
func (d *describer) tableEntry(r *Readable, te *p4v1.TableEntry, withAction bool) {
	if te == nil {
		d.fail("no table entry")
		return
	}
	t := d.table(te.GetTableId())
	if t == nil {
		r.Name = idName(te.GetTableId())
		if te.GetTableId() != 0 {
			d.fail("unknown table ID %d", te.GetTableId())
		}
	} else {
		r.Name = t.Name
	}
	r.Default = te.GetIsDefaultAction()
	r.Const = te.GetIsConst()
	r.Priority = te.GetPriority()
	r.Match = d.matches(t, "table "+r.Name, te.GetMatch(), func(id uint32) *schema.MatchField {
		if t == nil {
			return nil
		}
		return t.FieldByID(id)
	})
	if t != nil && (len(te.GetMatch()) > 0 || te.GetPriority() != 0) {
		d.checkKey(t, te)
		switch {
		case r.Default:
			d.fail("table %s: the default entry has a match or priority", t.Name)
		case t.NeedsPriority && te.GetPriority() <= 0:
			d.fail("table %s: priority %d must be > 0", t.Name, te.GetPriority())
		case !t.NeedsPriority && te.GetPriority() != 0:
			d.fail("table %s: priority %d: the table takes no priority", t.Name, te.GetPriority())
		}
	}
	if !withAction {
		return
	}
	if a := te.GetAction(); a != nil {
		r.Action = d.tableAction(t, r.Name, a)
	}
	if c := te.GetCounterData(); c != nil {
		r.Counter = &ReadableCounter{Bytes: c.GetByteCount(), Packets: c.GetPacketCount()}
	}
	r.Meter = meterConfig(te.GetMeterConfig())
	r.MeterCounters = meterCounters(te.GetMeterCounterData())
	if ns := te.GetIdleTimeoutNs(); ns != 0 {
		r.IdleTimeout = time.Duration(ns).String()
	}
	if h := te.GetTimeSinceLastHit(); h != nil {
		r.TimeSinceLastHit = time.Duration(h.GetElapsedNs()).String()
	}
	if len(te.GetMetadata()) > 0 {
		r.Metadata = opaque(te.GetMetadata())
	}
	r.ControllerMetadata = te.GetControllerMetadata() //nolint:staticcheck // deprecated but still read
}

// checkKey reports exact fields missing from a match and fields given
// twice.
func (d *describer) checkKey(t *schema.Table, te *p4v1.TableEntry) {
	if te.GetIsDefaultAction() {
		return
	}
	for _, f := range t.Fields {
		n := 0
		for _, m := range te.GetMatch() {
			if m.GetFieldId() == f.ID {
				n++
			}
		}
		switch {
		case n > 1:
			d.fail("table %s: field %s given %d times", t.Name, f.Name, n)
		case n == 0 && f.Kind == schema.Exact:
			d.fail("table %s: exact field %s missing", t.Name, f.Name)
		}
	}
}

func meterConfig(c *p4v1.MeterConfig) *ReadableMeter {
	if c == nil {
		return nil
	}
	return &ReadableMeter{CIR: c.GetCir(), CBurst: c.GetCburst(), PIR: c.GetPir(), PBurst: c.GetPburst(), EBurst: c.GetEburst()}
}

func meterCounters(c *p4v1.MeterCounterData) *ReadableMeterCounters {
	if c == nil {
		return nil
	}
	rc := func(x *p4v1.CounterData) ReadableCounter {
		return ReadableCounter{Bytes: x.GetByteCount(), Packets: x.GetPacketCount()}
	}
	return &ReadableMeterCounters{Green: rc(c.GetGreen()), Yellow: rc(c.GetYellow()), Red: rc(c.GetRed())}
}

// matches renders the match of a table entry or value set member, in the
// order given.
func (d *describer) matches(_ *schema.Table, scope string, ms []*p4v1.FieldMatch, field func(uint32) *schema.MatchField) []ReadableMatch {
	if len(ms) == 0 {
		return nil
	}
	out := make([]ReadableMatch, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			d.fail("%s: nil match field", scope)
			continue
		}
		f := field(m.GetFieldId())
		rm := ReadableMatch{Field: idName(m.GetFieldId())}
		var sp spec
		if f == nil {
			d.fail("%s: unknown match field ID %d", scope, m.GetFieldId())
			sp = spec{width: unknownWidth}
		} else {
			rm.Field = f.Name
			sp = matchSpec(f)
		}
		var (
			s    string
			err  error
			kind = schema.MatchKind(0)
		)
		switch x := m.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			rm.Kind, kind = "exact", schema.Exact
			s, err = renderValue(x.Exact.GetValue(), &sp)
		case *p4v1.FieldMatch_Optional_:
			rm.Kind, kind = "optional", schema.Optional
			s, err = renderValue(x.Optional.GetValue(), &sp)
		case *p4v1.FieldMatch_Lpm:
			rm.Kind, kind = "lpm", schema.LPM
			s, err = renderLPM(x.Lpm.GetValue(), x.Lpm.GetPrefixLen(), &sp)
		case *p4v1.FieldMatch_Ternary_:
			rm.Kind, kind = "ternary", schema.Ternary
			s, err = renderTernary(x.Ternary.GetValue(), x.Ternary.GetMask(), &sp)
		case *p4v1.FieldMatch_Range_:
			rm.Kind, kind = "range", schema.Range
			s, err = renderRange(x.Range.GetLow(), x.Range.GetHigh(), &sp)
			if err == nil && f != nil && !sp.str && isZero(x.Range.GetLow()) && isAllOnes(trimZeros(x.Range.GetHigh()), sp.width) {
				err = errors.New("full range: a \"don't care\" match must be omitted")
			}
		case *p4v1.FieldMatch_Other:
			rm.Kind = "other"
			s = x.Other.GetTypeUrl() + ":" + hexBytes(x.Other.GetValue())
		default:
			rm.Kind = "none"
			err = errors.New("no match value")
		}
		if f != nil && kind != 0 && kind != f.Kind {
			d.fail("%s: field %s: %s match on %s field", scope, f.Name, rm.Kind, article(kindName(f.Kind)))
		}
		if err != nil {
			d.fail("%s: field %s: %w", scope, rm.Field, err)
		}
		rm.Value = s
		out = append(out, rm)
	}
	return out
}

func (d *describer) tableAction(t *schema.Table, tname string, ta *p4v1.TableAction) *ReadableAction {
	switch x := ta.GetType().(type) {
	case *p4v1.TableAction_Action:
		a := d.action("table "+tname, x.Action)
		if t != nil && x.Action != nil && d.s.ActionByID(x.Action.GetActionId()) != nil && t.ActionRef(x.Action.GetActionId()) == nil {
			d.fail("table %s: action %s is not one of the table's actions", t.Name, a.Name)
		}
		return a
	case *p4v1.TableAction_ActionProfileMemberId:
		return &ReadableAction{MemberID: x.ActionProfileMemberId}
	case *p4v1.TableAction_ActionProfileGroupId:
		return &ReadableAction{GroupID: x.ActionProfileGroupId}
	case *p4v1.TableAction_ActionProfileActionSet:
		ra := &ReadableAction{ActionSet: []ReadableWeighted{}}
		for _, pa := range x.ActionProfileActionSet.GetActionProfileActions() {
			w := ReadableWeighted{Weight: pa.GetWeight()}
			switch wk := pa.GetWatchKind().(type) {
			case *p4v1.ActionProfileAction_WatchPort:
				w.WatchPort = describePort(wk.WatchPort, d.stringPorts())
			case *p4v1.ActionProfileAction_Watch:
				w.WatchPort = strconv.FormatInt(int64(wk.Watch), 10)
			}
			if a := d.action("table "+tname, pa.GetAction()); a != nil {
				w.Action = *a
			}
			ra.ActionSet = append(ra.ActionSet, w)
		}
		if len(ra.ActionSet) == 0 {
			d.fail("table %s: empty action set", tname)
		}
		return ra
	}
	d.fail("table %s: empty table action", tname)
	return &ReadableAction{}
}

// action renders a direct action with its parameters in the order given.
func (d *describer) action(scope string, a *p4v1.Action) *ReadableAction {
	if a == nil {
		d.fail("%s: no action", scope)
		return &ReadableAction{}
	}
	var act *schema.Action
	if d.s != nil {
		act = d.s.ActionByID(a.GetActionId())
	}
	ra := &ReadableAction{Name: idName(a.GetActionId())}
	if act == nil {
		d.fail("%s: unknown action ID %d", scope, a.GetActionId())
	} else {
		ra.Name = act.Name
	}
	given := 0
	for _, p := range a.GetParams() {
		rv := ReadableValue{Name: idName(p.GetParamId())}
		var pp *schema.Param
		if act != nil {
			pp = act.ParamByID(p.GetParamId())
		}
		if pp == nil {
			if act != nil {
				d.fail("%s: action %s: unknown parameter ID %d", scope, act.Name, p.GetParamId())
			}
			rv.Value = hexBytes(p.GetValue())
		} else {
			given++
			rv.Name = pp.Name
			sp := paramSpec(act, pp)
			s, err := renderValue(p.GetValue(), &sp)
			if err != nil {
				d.fail("%s: action %s: param %s: %w", scope, act.Name, pp.Name, err)
			}
			rv.Value = s
		}
		ra.Params = append(ra.Params, rv)
	}
	if act != nil && given < len(act.Params) {
		d.fail("%s: action %s: %d of %d parameters given", scope, act.Name, given, len(act.Params))
	}
	return ra
}

func (d *describer) profileName(id uint32) string {
	if d.s != nil {
		if p := d.s.ActionProfileByID(id); p != nil {
			return p.Name
		}
	}
	if id != 0 {
		d.fail("unknown action profile ID %d", id)
	}
	return idName(id)
}

func (d *describer) member(m *p4v1.ActionProfileMember) *Readable {
	r := &Readable{Kind: "action_profile_member", Name: d.profileName(m.GetActionProfileId()), MemberID: m.GetMemberId()}
	if m.GetAction() != nil {
		r.Action = d.action("action profile "+r.Name, m.GetAction())
	}
	return r
}

func (d *describer) group(g *p4v1.ActionProfileGroup) *Readable {
	r := &Readable{Kind: "action_profile_group", Name: d.profileName(g.GetActionProfileId()), GroupID: g.GetGroupId(), MaxSize: g.GetMaxSize()}
	for _, m := range g.GetMembers() {
		rm := ReadableMember{MemberID: m.GetMemberId(), Weight: m.GetWeight()}
		switch wk := m.GetWatchKind().(type) {
		case *p4v1.ActionProfileGroup_Member_WatchPort:
			rm.WatchPort = describePort(wk.WatchPort, d.stringPorts())
		case *p4v1.ActionProfileGroup_Member_Watch:
			rm.WatchPort = strconv.FormatInt(int64(wk.Watch), 10)
		}
		r.Members = append(r.Members, rm)
	}
	return r
}

func indexPtr(ix *p4v1.Index) *int64 {
	if ix == nil {
		return nil
	}
	v := ix.GetIndex()
	return &v
}

func (d *describer) counter(c *p4v1.CounterEntry) *Readable {
	r := &Readable{Kind: "counter_entry", Name: idName(c.GetCounterId()), Index: indexPtr(c.GetIndex())}
	if d.s != nil {
		if x := d.s.CounterByID(c.GetCounterId()); x != nil {
			r.Name = x.Name
		} else if c.GetCounterId() != 0 {
			d.fail("unknown counter ID %d", c.GetCounterId())
		}
	}
	if x := c.GetData(); x != nil {
		r.Counter = &ReadableCounter{Bytes: x.GetByteCount(), Packets: x.GetPacketCount()}
	}
	return r
}

func (d *describer) meter(m *p4v1.MeterEntry) *Readable {
	r := &Readable{Kind: "meter_entry", Name: idName(m.GetMeterId()), Index: indexPtr(m.GetIndex())}
	if d.s != nil {
		if x := d.s.MeterByID(m.GetMeterId()); x != nil {
			r.Name = x.Name
		} else if m.GetMeterId() != 0 {
			d.fail("unknown meter ID %d", m.GetMeterId())
		}
	}
	r.Meter = meterConfig(m.GetConfig())
	r.MeterCounters = meterCounters(m.GetCounterData())
	return r
}

func (d *describer) register(e *p4v1.RegisterEntry) *Readable {
	r := &Readable{Kind: "register_entry", Name: idName(e.GetRegisterId()), Index: indexPtr(e.GetIndex())}
	var reg *schema.Register
	if d.s != nil {
		reg = d.s.RegisterByID(e.GetRegisterId())
	}
	if reg != nil {
		r.Name = reg.Name
	} else if e.GetRegisterId() != 0 {
		d.fail("unknown register ID %d", e.GetRegisterId())
	}
	if e.GetData() != nil {
		width := 0
		if reg != nil {
			width = reg.Bitwidth
		}
		s, err := renderP4Data(e.GetData(), width, 0)
		if err != nil {
			d.fail("register %s: %w", r.Name, err)
		}
		r.Data = s
	}
	return r
}

func (d *describer) pre(p *p4v1.PacketReplicationEngineEntry) *Readable {
	sp := d.stringPorts()
	switch x := p.GetType().(type) {
	case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
		m := x.MulticastGroupEntry
		r := &Readable{Kind: "multicast_group", ID: m.GetMulticastGroupId(), Replicas: replicas(m.GetReplicas(), sp)}
		if len(m.GetMetadata()) > 0 {
			r.Metadata = opaque(m.GetMetadata())
		}
		return r
	case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
		c := x.CloneSessionEntry
		return &Readable{Kind: "clone_session", ID: c.GetSessionId(), Replicas: replicas(c.GetReplicas(), sp),
			ClassOfService: c.GetClassOfService(), Truncate: c.GetPacketLengthBytes()}
	}
	d.fail("empty packet replication engine entry")
	return &Readable{Kind: "packet_replication_engine_entry"}
}

func replicas(rs []*p4v1.Replica, stringPorts bool) []ReadableReplica {
	var out []ReadableReplica
	for _, r := range rs {
		rr := ReadableReplica{Instance: r.GetInstance()}
		switch p := r.GetPortKind().(type) {
		case *p4v1.Replica_Port:
			rr.Port = describePort(p.Port, stringPorts)
		case *p4v1.Replica_EgressPort:
			rr.Port = strconv.FormatUint(uint64(p.EgressPort), 10)
		default:
			rr.Port = `""`
		}
		for _, b := range r.GetBackupReplicas() {
			rr.Backups = append(rr.Backups, ReadableReplica{Port: describePort(b.GetPort(), stringPorts), Instance: b.GetInstance()})
		}
		out = append(out, rr)
	}
	return out
}

func (d *describer) valueSet(v *p4v1.ValueSetEntry) *Readable {
	r := &Readable{Kind: "value_set_entry", Name: idName(v.GetValueSetId())}
	var vs *schema.ValueSet
	if d.s != nil {
		vs = d.s.ValueSetByID(v.GetValueSetId())
	}
	if vs != nil {
		r.Name = vs.Name
	} else if v.GetValueSetId() != 0 {
		d.fail("unknown value set ID %d", v.GetValueSetId())
	}
	field := func(id uint32) *schema.MatchField {
		if vs == nil {
			return nil
		}
		for _, f := range vs.Fields {
			if f.ID == id {
				return f
			}
		}
		return nil
	}
	for i, m := range v.GetMembers() {
		ms := d.matches(nil, fmt.Sprintf("value set %s member %d", r.Name, i), m.GetMatch(), field)
		if ms == nil {
			ms = []ReadableMatch{}
		}
		r.ValueSet = append(r.ValueSet, ms)
	}
	return r
}

func (d *describer) digest(e *p4v1.DigestEntry) *Readable {
	r := &Readable{Kind: "digest_entry", Name: idName(e.GetDigestId())}
	if d.s != nil {
		if x := d.s.DigestByID(e.GetDigestId()); x != nil {
			r.Name = x.Name
		} else if e.GetDigestId() != 0 {
			d.fail("unknown digest ID %d", e.GetDigestId())
		}
	}
	if c := e.GetConfig(); c != nil {
		r.Digest = &ReadableDigest{MaxTimeout: time.Duration(c.GetMaxTimeoutNs()).String(), MaxListSize: c.GetMaxListSize(),
			AckTimeout: time.Duration(c.GetAckTimeoutNs()).String()}
	}
	return r
}

// String renders the entity on one stable line, key fields first:
//
//	table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/24) action=ingress.routing.set_nexthop(port=1, dmac=00:00:00:00:00:01)
//	table_entry ingress.acl.acl match(hdr.ethernet.ether_type=0x0800&&&0xffff) priority=10 action=ingress.acl.drop()
//	table_entry ingress.routing.routes_v4 default action=NoAction()
//	action_profile_group ingress.wcmp.selector group=1 members(1 weight=2, 2 weight=1) max_size=16
//	counter_entry ingress.port_counter index=3 bytes=100 packets=1
//	multicast_group 1 replicas(port=1 instance=0, port=2 instance=0)
func (r *Readable) String() string {
	if r == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(r.Kind)
	switch r.Kind {
	case "multicast_group", "clone_session":
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(uint64(r.ID), 10))
	case "extern_entry", "empty", "packet_replication_engine_entry":
	default:
		b.WriteByte(' ')
		b.WriteString(r.Name)
	}
	switch r.Kind {
	case "table_entry", "direct_counter_entry", "direct_meter_entry":
		if r.Default {
			b.WriteString(" default")
		} else {
			b.WriteString(" match(")
			writeMatches(&b, r.Match)
			b.WriteByte(')')
		}
		if r.Priority != 0 {
			fmt.Fprintf(&b, " priority=%d", r.Priority)
		}
	case "action_profile_member":
		fmt.Fprintf(&b, " member=%d", r.MemberID)
	case "action_profile_group":
		fmt.Fprintf(&b, " group=%d", r.GroupID)
	}
	if r.Index != nil {
		fmt.Fprintf(&b, " index=%d", *r.Index)
	} else if r.Kind == "counter_entry" || r.Kind == "meter_entry" || r.Kind == "register_entry" {
		b.WriteString(" index=*")
	}
	if r.Action != nil {
		b.WriteByte(' ')
		writeAction(&b, r.Action)
	}
	if r.Kind == "action_profile_group" {
		b.WriteString(" members(")
		for i, m := range r.Members {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d weight=%d", m.MemberID, m.Weight)
			if m.WatchPort != "" {
				b.WriteString(" watch=")
				b.WriteString(m.WatchPort)
			}
		}
		b.WriteByte(')')
		if r.MaxSize != 0 {
			fmt.Fprintf(&b, " max_size=%d", r.MaxSize)
		}
	}
	if r.Data != "" {
		b.WriteString(" data=")
		b.WriteString(r.Data)
	}
	if c := r.Counter; c != nil {
		fmt.Fprintf(&b, " bytes=%d packets=%d", c.Bytes, c.Packets)
	}
	if m := r.Meter; m != nil {
		fmt.Fprintf(&b, " cir=%d cburst=%d pir=%d pburst=%d", m.CIR, m.CBurst, m.PIR, m.PBurst)
		if m.EBurst != 0 {
			fmt.Fprintf(&b, " eburst=%d", m.EBurst)
		}
	}
	if m := r.MeterCounters; m != nil {
		fmt.Fprintf(&b, " green=%d/%d yellow=%d/%d red=%d/%d", m.Green.Bytes, m.Green.Packets,
			m.Yellow.Bytes, m.Yellow.Packets, m.Red.Bytes, m.Red.Packets)
	}
	if r.Kind == "multicast_group" || r.Kind == "clone_session" {
		b.WriteString(" replicas(")
		writeReplicas(&b, r.Replicas)
		b.WriteByte(')')
	}
	if r.ClassOfService != 0 {
		fmt.Fprintf(&b, " class_of_service=%d", r.ClassOfService)
	}
	if r.Truncate != 0 {
		fmt.Fprintf(&b, " truncate=%d", r.Truncate)
	}
	if r.Kind == "value_set_entry" {
		b.WriteString(" members(")
		for i, m := range r.ValueSet {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			writeMatches(&b, m)
			b.WriteByte(')')
		}
		b.WriteByte(')')
	}
	if g := r.Digest; g != nil {
		fmt.Fprintf(&b, " max_timeout=%s max_list_size=%d ack_timeout=%s", g.MaxTimeout, g.MaxListSize, g.AckTimeout)
	}
	if x := r.Extern; x != nil {
		fmt.Fprintf(&b, " type=%d id=%d entry=%s %s", x.TypeID, x.ID, x.TypeURL, x.Value)
	}
	if r.IdleTimeout != "" {
		b.WriteString(" idle_timeout=")
		b.WriteString(r.IdleTimeout)
	}
	if r.TimeSinceLastHit != "" {
		b.WriteString(" time_since_last_hit=")
		b.WriteString(r.TimeSinceLastHit)
	}
	if r.Metadata != "" {
		b.WriteString(" metadata=")
		b.WriteString(r.Metadata)
	}
	if r.ControllerMetadata != 0 {
		fmt.Fprintf(&b, " controller_metadata=%d", r.ControllerMetadata)
	}
	if r.Const {
		b.WriteString(" const")
	}
	return b.String()
}

func writeMatches(b *strings.Builder, ms []ReadableMatch) {
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Field)
		b.WriteByte('=')
		b.WriteString(m.Value)
	}
}

func writeAction(b *strings.Builder, a *ReadableAction) {
	switch {
	case a.MemberID != 0:
		fmt.Fprintf(b, "member=%d", a.MemberID)
	case a.GroupID != 0:
		fmt.Fprintf(b, "group=%d", a.GroupID)
	case a.ActionSet != nil:
		b.WriteString("action_set(")
		for i, w := range a.ActionSet {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "weight=%d ", w.Weight)
			if w.WatchPort != "" {
				b.WriteString("watch=")
				b.WriteString(w.WatchPort)
				b.WriteByte(' ')
			}
			writeCall(b, &w.Action)
		}
		b.WriteByte(')')
	default:
		b.WriteString("action=")
		writeCall(b, a)
	}
}

func writeCall(b *strings.Builder, a *ReadableAction) {
	b.WriteString(a.Name)
	b.WriteByte('(')
	for i, p := range a.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	b.WriteByte(')')
}

func writeReplicas(b *strings.Builder, rs []ReadableReplica) {
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "port=%s instance=%d", r.Port, r.Instance)
		if len(r.Backups) > 0 {
			b.WriteString(" backups(")
			writeReplicas(b, r.Backups)
			b.WriteByte(')')
		}
	}
}
