package schema

import (
	"fmt"
	"slices"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
)

// New indexes a P4Info and checks it for consistency: every object has a
// non-zero ID unique across the P4Info and a unique name; IDs carry the
// prefix of their kind (P4Ids); tables, action profiles and direct resources
// refer to objects that exist; match fields and parameters have unique names
// and IDs and a bit width unless their type is translated to a string.
// Errors name the object at fault.
func New(info *p4configv1.P4Info) (*Schema, error) {
	if info == nil {
		return nil, fmt.Errorf("nil P4Info")
	}
	s := &Schema{
		info:           info,
		tables:         newNames[*Table](KindTable),
		actions:        newNames[*Action](KindAction),
		profiles:       newNames[*ActionProfile](KindActionProfile),
		counters:       newNames[*Counter](KindCounter),
		directCounters: newNames[*DirectCounter](KindDirectCounter),
		meters:         newNames[*Meter](KindMeter),
		directMeters:   newNames[*DirectMeter](KindDirectMeter),
		registers:      newNames[*Register](KindRegister),
		digests:        newNames[*Digest](KindDigest),
		valueSets:      newNames[*ValueSet](KindValueSet),
		packetMeta:     newNames[*PacketMetadata](KindPacketMetadata),
		translations:   map[string]*Translation{},
	}
	for name, t := range info.GetTypeInfo().GetNewTypes() {
		tt := t.GetTranslatedType()
		if tt == nil {
			continue
		}
		tr := &Translation{TypeName: name, URI: tt.GetUri()}
		switch {
		case tt.GetSdnString() != nil:
			tr.SDNString = true
		default:
			tr.SDNBitwidth = int(tt.GetSdnBitwidth())
		}
		s.translations[name] = tr
	}
	ids := map[uint32]string{}

	for _, a := range info.GetActions() {
		act := &Action{Name: a.GetPreamble().GetName(), Alias: a.GetPreamble().GetAlias(), ID: a.GetPreamble().GetId(), Proto: a,
			paramByName: map[string]*Param{}, paramByID: map[uint32]*Param{}}
		if err := checkPrefix(a.GetPreamble(), p4configv1.P4Ids_ACTION); err != nil {
			return nil, err
		}
		for _, p := range a.GetParams() {
			tr, err := s.translation(p.GetTypeName())
			if err != nil {
				return nil, fmt.Errorf("action %q param %q: %w", act.Name, p.GetName(), err)
			}
			prm := &Param{Name: p.GetName(), ID: p.GetId(), Bitwidth: sdnWidth(int(p.GetBitwidth()), tr), Translated: tr}
			if err := checkMember("action "+act.Name, "param", prm.Name, prm.ID, prm.Bitwidth, tr, act.paramByName, act.paramByID); err != nil {
				return nil, err
			}
			act.paramByName[prm.Name] = prm
			act.paramByID[prm.ID] = prm
			act.Params = append(act.Params, prm)
		}
		if err := s.actions.add(act, a.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}

	for _, p := range info.GetActionProfiles() {
		if err := checkPrefix(p.GetPreamble(), p4configv1.P4Ids_ACTION_PROFILE); err != nil {
			return nil, err
		}
		ap := &ActionProfile{Name: p.GetPreamble().GetName(), Alias: p.GetPreamble().GetAlias(), ID: p.GetPreamble().GetId(),
			TableIDs: p.GetTableIds(), WithSelector: p.GetWithSelector(), Size: p.GetSize(), MaxGroupSize: p.GetMaxGroupSize(), Proto: p}
		if err := s.profiles.add(ap, p.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, c := range info.GetCounters() {
		if err := checkPrefix(c.GetPreamble(), p4configv1.P4Ids_COUNTER); err != nil {
			return nil, err
		}
		ct := &Counter{Name: c.GetPreamble().GetName(), Alias: c.GetPreamble().GetAlias(), ID: c.GetPreamble().GetId(),
			Unit: c.GetSpec().GetUnit(), Size: c.GetSize(), Proto: c}
		if err := s.counters.add(ct, c.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, c := range info.GetDirectCounters() {
		if err := checkPrefix(c.GetPreamble(), p4configv1.P4Ids_DIRECT_COUNTER); err != nil {
			return nil, err
		}
		ct := &DirectCounter{Name: c.GetPreamble().GetName(), Alias: c.GetPreamble().GetAlias(), ID: c.GetPreamble().GetId(),
			Unit: c.GetSpec().GetUnit(), TableID: c.GetDirectTableId(), Proto: c}
		if err := s.directCounters.add(ct, c.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, m := range info.GetMeters() {
		if err := checkPrefix(m.GetPreamble(), p4configv1.P4Ids_METER); err != nil {
			return nil, err
		}
		mt := &Meter{Name: m.GetPreamble().GetName(), Alias: m.GetPreamble().GetAlias(), ID: m.GetPreamble().GetId(),
			Unit: m.GetSpec().GetUnit(), Type: m.GetSpec().GetType(), Size: m.GetSize(), Proto: m}
		if err := s.meters.add(mt, m.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, m := range info.GetDirectMeters() {
		if err := checkPrefix(m.GetPreamble(), p4configv1.P4Ids_DIRECT_METER); err != nil {
			return nil, err
		}
		mt := &DirectMeter{Name: m.GetPreamble().GetName(), Alias: m.GetPreamble().GetAlias(), ID: m.GetPreamble().GetId(),
			Unit: m.GetSpec().GetUnit(), Type: m.GetSpec().GetType(), TableID: m.GetDirectTableId(), Proto: m}
		if err := s.directMeters.add(mt, m.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, r := range info.GetRegisters() {
		if err := checkPrefix(r.GetPreamble(), p4configv1.P4Ids_REGISTER); err != nil {
			return nil, err
		}
		reg := &Register{Name: r.GetPreamble().GetName(), Alias: r.GetPreamble().GetAlias(), ID: r.GetPreamble().GetId(),
			Size: r.GetSize(), Bitwidth: int(r.GetTypeSpec().GetBitstring().GetBit().GetBitwidth()), Proto: r}
		if err := s.registers.add(reg, r.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, d := range info.GetDigests() {
		if err := checkPrefix(d.GetPreamble(), p4configv1.P4Ids_DIGEST); err != nil {
			return nil, err
		}
		dg := &Digest{Name: d.GetPreamble().GetName(), Alias: d.GetPreamble().GetAlias(), ID: d.GetPreamble().GetId(), Proto: d}
		if err := s.digests.add(dg, d.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, v := range info.GetValueSets() {
		if err := checkPrefix(v.GetPreamble(), p4configv1.P4Ids_VALUE_SET); err != nil {
			return nil, err
		}
		vs := &ValueSet{Name: v.GetPreamble().GetName(), Alias: v.GetPreamble().GetAlias(), ID: v.GetPreamble().GetId(), Size: v.GetSize(), Proto: v}
		byName, byID := map[string]*MatchField{}, map[uint32]*MatchField{}
		for _, m := range v.GetMatch() {
			f, err := s.matchField("value set "+vs.Name, m, byName, byID)
			if err != nil {
				return nil, err
			}
			vs.Fields = append(vs.Fields, f)
		}
		if err := s.valueSets.add(vs, v.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}
	for _, c := range info.GetControllerPacketMetadata() {
		if err := checkPrefix(c.GetPreamble(), p4configv1.P4Ids_CONTROLLER_HEADER); err != nil {
			return nil, err
		}
		pm := &PacketMetadata{Name: c.GetPreamble().GetName(), Alias: c.GetPreamble().GetAlias(), ID: c.GetPreamble().GetId(), Proto: c,
			fieldByName: map[string]*MetadataField{}, fieldByID: map[uint32]*MetadataField{}}
		for _, m := range c.GetMetadata() {
			tr, err := s.translation(m.GetTypeName())
			if err != nil {
				return nil, fmt.Errorf("controller packet metadata %q field %q: %w", pm.Name, m.GetName(), err)
			}
			f := &MetadataField{Name: m.GetName(), ID: m.GetId(), Bitwidth: sdnWidth(int(m.GetBitwidth()), tr), Translated: tr,
				Padding: strings.HasPrefix(m.GetName(), "_") || slices.Contains(m.GetAnnotations(), "@padding")}
			if err := checkMember("controller packet metadata "+pm.Name, "metadata field", f.Name, f.ID, f.Bitwidth, tr, pm.fieldByName, pm.fieldByID); err != nil {
				return nil, err
			}
			pm.fieldByName[f.Name] = f
			pm.fieldByID[f.ID] = f
			pm.Fields = append(pm.Fields, f)
		}
		if err := s.packetMeta.add(pm, c.GetPreamble(), ids); err != nil {
			return nil, err
		}
	}

	for _, t := range info.GetTables() {
		if err := checkPrefix(t.GetPreamble(), p4configv1.P4Ids_TABLE); err != nil {
			return nil, err
		}
		if err := s.addTable(t, ids); err != nil {
			return nil, err
		}
	}

	// Cross references, checked once every object is indexed.
	for _, ap := range s.profiles.list {
		for _, id := range ap.TableIDs {
			if s.tables.byID[id] == nil {
				return nil, fmt.Errorf("action profile %q: unknown table ID %d", ap.Name, id)
			}
		}
	}
	for _, dc := range s.directCounters.list {
		t := s.tables.byID[dc.TableID]
		if t == nil {
			return nil, fmt.Errorf("direct counter %q: unknown table ID %d", dc.Name, dc.TableID)
		}
		t.DirectCounter = dc
	}
	for _, dm := range s.directMeters.list {
		t := s.tables.byID[dm.TableID]
		if t == nil {
			return nil, fmt.Errorf("direct meter %q: unknown table ID %d", dm.Name, dm.TableID)
		}
		t.DirectMeter = dm
	}
	return s, nil
}

func (s *Schema) addTable(t *p4configv1.Table, ids map[uint32]string) error {
	pre := t.GetPreamble()
	tb := &Table{Name: pre.GetName(), Alias: pre.GetAlias(), ID: pre.GetId(), Size: t.GetSize(),
		ConstDefaultActionID: t.GetConstDefaultActionId(), IsConst: t.GetIsConstTable(), HasInitialEntries: t.GetHasInitialEntries(),
		IdleTimeout: t.GetIdleTimeoutBehavior() == p4configv1.Table_NOTIFY_CONTROL, Proto: t,
		fieldByName: map[string]*MatchField{}, fieldByID: map[uint32]*MatchField{},
		actionByID: map[uint32]*ActionRef{}, actionByName: map[string]*ActionRef{}}
	scope := fmt.Sprintf("table %q", tb.Name)
	for _, m := range t.GetMatchFields() {
		f, err := s.matchField(scope, m, tb.fieldByName, tb.fieldByID)
		if err != nil {
			return err
		}
		tb.Fields = append(tb.Fields, f)
		switch f.Kind {
		case Ternary, Range, Optional:
			tb.NeedsPriority = true
		}
	}
	for _, r := range t.GetActionRefs() {
		a := s.actions.byID[r.GetId()]
		if a == nil {
			return fmt.Errorf("%s: unknown action ID %d", scope, r.GetId())
		}
		if tb.actionByID[a.ID] != nil {
			return fmt.Errorf("%s: action %q listed twice", scope, a.Name)
		}
		ref := &ActionRef{Action: a, Scope: r.GetScope()}
		tb.Actions = append(tb.Actions, ref)
		tb.actionByID[a.ID] = ref
		tb.actionByName[a.Name] = ref
		if a.Alias != "" {
			tb.actionByName[a.Alias] = ref
		}
	}
	if id := tb.ConstDefaultActionID; id != 0 && tb.actionByID[id] == nil {
		return fmt.Errorf("%s: const default action ID %d is not one of its actions", scope, id)
	}
	if id := t.GetImplementationId(); id != 0 {
		ap := s.profiles.byID[id]
		if ap == nil {
			return fmt.Errorf("%s: unknown implementation (action profile) ID %d", scope, id)
		}
		tb.ActionProfile = ap
	}
	for _, id := range t.GetDirectResourceIds() {
		if s.directCounters.byID[id] == nil && s.directMeters.byID[id] == nil {
			return fmt.Errorf("%s: unknown direct resource ID %d", scope, id)
		}
	}
	return s.tables.add(tb, pre, ids)
}

func (s *Schema) matchField(scope string, m *p4configv1.MatchField, byName map[string]*MatchField, byID map[uint32]*MatchField) (*MatchField, error) {
	tr, err := s.translation(m.GetTypeName())
	if err != nil {
		return nil, fmt.Errorf("%s match field %q: %w", scope, m.GetName(), err)
	}
	f := &MatchField{Name: m.GetName(), ID: m.GetId(), Bitwidth: sdnWidth(int(m.GetBitwidth()), tr), Kind: m.GetMatchType(), OtherKind: m.GetOtherMatchType(), Translated: tr, Proto: m}
	if err := checkMember(scope, "match field", f.Name, f.ID, f.Bitwidth, tr, byName, byID); err != nil {
		return nil, err
	}
	if f.Kind == p4configv1.MatchField_UNSPECIFIED && f.OtherKind == "" {
		return nil, fmt.Errorf("%s match field %q has no match type", scope, f.Name)
	}
	byName[f.Name] = f
	byID[f.ID] = f
	return f, nil
}

// translation resolves a field's named type. Types that are not translated
// (plain typedefs) need no entry.
func (s *Schema) translation(tn *p4configv1.P4NamedType) (*Translation, error) {
	if tn == nil || tn.GetName() == "" {
		return nil, nil
	}
	return s.translations[tn.GetName()], nil
}

func checkMember[T any](scope, kind, name string, id uint32, bitwidth int, tr *Translation, byName map[string]T, byID map[uint32]T) error {
	if name == "" {
		return fmt.Errorf("%s: %s with ID %d has no name", scope, kind, id)
	}
	if id == 0 {
		return fmt.Errorf("%s: %s %q has ID 0", scope, kind, name)
	}
	if _, dup := byName[name]; dup {
		return fmt.Errorf("%s: duplicate %s name %q", scope, kind, name)
	}
	if _, dup := byID[id]; dup {
		return fmt.Errorf("%s: duplicate %s ID %d", scope, kind, id)
	}
	if bitwidth <= 0 && (tr == nil || !tr.SDNString) {
		if tr != nil && tr.SDNBitwidth > 0 {
			return nil
		}
		return fmt.Errorf("%s: %s %q has no bit width", scope, kind, name)
	}
	return nil
}

// checkPrefix checks that an object's ID carries the prefix of its kind in
// its most significant byte (P4Runtime spec section 6.3 "ID Allocation").
func checkPrefix(pre *p4configv1.Preamble, want p4configv1.P4Ids_Prefix) error {
	if pre == nil {
		return fmt.Errorf("%s without preamble", strings.ToLower(want.String()))
	}
	if got := p4configv1.P4Ids_Prefix(pre.GetId() >> 24); got != want {
		return fmt.Errorf("%s %q: ID 0x%08x has prefix 0x%02x, want 0x%02x (%s)", strings.ToLower(want.String()), pre.GetName(), pre.GetId(), uint32(got), uint32(want), want)
	}
	return nil
}

// sdnWidth is the width the controller sees: a type translated to an SDN
// bit width may be declared with bitwidth 0 in the P4Info.
func sdnWidth(bitwidth int, tr *Translation) int {
	if bitwidth == 0 && tr != nil && !tr.SDNString {
		return tr.SDNBitwidth
	}
	return bitwidth
}
