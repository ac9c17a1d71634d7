package sai

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// ProgramID is the pipeconf ID of the program this package writes for.
const ProgramID = "sai-middleblock"

// pkgName is the pkg_info name of the SAI-P4 middleblock P4Info.
const pkgName = "middleblock.p4"

// Defaults of Config and fixed priorities of the entries the pipeliner
// writes (SAI-P4 tables with ternary or optional fields need one).
const (
	// DefaultCPUQueue is the cpu_queue_t that punted packets are trapped
	// to: a queue ID in hex, which PINS passes through when no queue name
	// is configured (the queue sonic-pins' own test entries trap to).
	DefaultCPUQueue = "0x7"
	// DefaultPuntPriority is the acl_ingress_table priority of Punt
	// entries: above the ACLs most rule sets use, so that a broad drop
	// rule does not hide link discovery from the controller.
	DefaultPuntPriority int32 = 4096
	// L3AdmitPriority is the priority of l3_admit_table entries. They
	// match disjoint (router MAC, port) pairs, so one priority serves all.
	L3AdmitPriority int32 = 1
	// PreIngressPriority is the priority of the acl_pre_ingress_table
	// entries that bind a port to a VRF (one per port).
	PreIngressPriority int32 = 1
)

// Config tunes what the pipeliner writes beyond what the objectives say.
// The zero value is the defaults.
type Config struct {
	// CPUQueue is the qos_queue of acl_trap for Punt and ACL punt
	// objectives (a cpu_queue_t: a queue name configured on the switch,
	// or a queue ID such as "0x7"); "" means DefaultCPUQueue.
	CPUQueue string
	// PuntPriority is the acl_ingress_table priority of Punt entries; 0
	// means DefaultPuntPriority.
	PuntPriority int32
}

// Names of the SAI-P4 tables, actions and fields the pipeliner uses
// (aliases in the P4Info).
const (
	tVRF       = "vrf_table"
	tIPv4      = "ipv4_table"
	tIPv6      = "ipv6_table"
	tRIF       = "router_interface_table"
	tNeighbor  = "neighbor_table"
	tNexthop   = "nexthop_table"
	tWCMP      = "wcmp_group_table"
	tL3Admit   = "l3_admit_table"
	tACL       = "acl_ingress_table"
	tPreACL    = "acl_pre_ingress_table"
	tMcastRIF  = "multicast_router_interface_table"
	builtinMcG = "builtin::multicast_group_table"
	builtinCS  = "builtin::clone_session_table"

	fVRF       = "vrf_id"
	fIPv4Dst   = "ipv4_dst"
	fIPv6Dst   = "ipv6_dst"
	fRIF       = "router_interface_id"
	fNeighbor  = "neighbor_id"
	fNexthop   = "nexthop_id"
	fWCMP      = "wcmp_group_id"
	fDstMAC    = "dst_mac"
	fSrcMAC    = "src_mac"
	fInPort    = "in_port"
	fPort      = "port"
	fVLAN      = "vlan_id"
	fQueue     = "qos_queue"
	fMcPort    = "multicast_replica_port"
	fMcInst    = "multicast_replica_instance"
	aNoAction  = "no_action"
	aSetNH     = "set_nexthop_id"
	aSetWCMP   = "set_wcmp_group_id"
	aSetDstMAC = "set_dst_mac"
	aSetIPNH   = "set_ip_nexthop"
	aRIF       = "unicast_set_port_and_src_mac"
	aRIFLegacy = "set_port_and_src_mac"
	aRIFVLAN   = "unicast_set_port_and_src_mac_and_vlan_id"
	aAdmit     = "admit_to_l3"
	aDrop      = "acl_drop"
	aTrap      = "acl_trap"
	aForward   = "acl_forward"
	aRedirect  = "redirect_to_nexthop"
	aSetVRF    = "set_vrf"
	aMcPass    = "l2_multicast_passthrough"
)

// aclField is a match field of acl_ingress_table the pipeliner may fill.
type aclField struct {
	kind  schema.MatchKind
	width int // 0 for an SDN string
}

// Pipeliner translates forwarding objectives into entities of the SAI-P4
// middleblock program. It is immutable after New and safe for concurrent
// use.
type Pipeliner struct {
	s   *schema.Schema
	b   *entity.Builder
	cfg Config

	// Full names of the tables and actions, for the builder's one map
	// lookup per name.
	vrf, ipv4, ipv6, rif, neighbor, nexthop, wcmp, l3admit, acl string
	preACL, mcastRIF                                            string // "" when the program lacks them

	rifAction     string // unicast_set_port_and_src_mac, or set_port_and_src_mac
	rifVLANAction string // "" when the program has none or marks it @unsupported
	redirect      string // "" when acl_ingress_table cannot redirect to a next hop

	l3InPort   bool // l3_admit_table matches in_port
	aclFields  map[string]aclField
	maxGroup   int64 // sum of weights a WCMP group may have; 0 for no limit
	maxMembers int   // replicas a multicast group may have; 0 for no limit

	ranks     map[uint32]int // table ID → rank
	mcGroup   int            // rank of multicast groups
	cloneRank int            // rank of clone sessions
}

var _ pipeline.Pipeliner = (*Pipeliner)(nil)

// New returns a pipeliner for a schema of the SAI-P4 middleblock program
// with the default Config. It matches pipeline.NewPipeliner.
func New(s *schema.Schema, opts pipeline.DeviceOptions) (pipeline.Pipeliner, error) {
	p, err := NewWithConfig(s, opts, Config{})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// NewWithConfig returns a pipeliner for a schema of the SAI-P4 middleblock
// program. It resolves every table, action and field it uses once, and
// fails when the schema is not SAI-P4 middleblock's: another pkg_info
// name, or a table, action or field missing or of another kind. SAI-P4
// punts through its own actions, so opts.CPUPort is not used.
func NewWithConfig(s *schema.Schema, opts pipeline.DeviceOptions, cfg Config) (*Pipeliner, error) {
	_ = opts
	if s == nil {
		return nil, errors.New("pipeline/sai: no schema")
	}
	if name := s.P4Info().GetPkgInfo().GetName(); name != "" && name != pkgName {
		return nil, fmt.Errorf("pipeline/sai: P4Info of %q, not SAI-P4 middleblock (%s)", name, pkgName)
	}
	if cfg.CPUQueue == "" {
		cfg.CPUQueue = DefaultCPUQueue
	}
	if cfg.PuntPriority == 0 {
		cfg.PuntPriority = DefaultPuntPriority
	}
	if cfg.PuntPriority < 0 {
		return nil, fmt.Errorf("pipeline/sai: punt priority %d must be > 0", cfg.PuntPriority)
	}
	p := &Pipeliner{s: s, b: entity.NewBuilder(s), cfg: cfg}
	r := resolver{s: s}
	str, mac := fieldSpec{str: true}, fieldSpec{width: 48}

	p.vrf = r.table(tVRF, field(fVRF, schema.Exact, str))
	r.action(tVRF, aNoAction)
	p.ipv4 = r.table(tIPv4, field(fVRF, schema.Exact, str), field(fIPv4Dst, schema.LPM, fieldSpec{width: 32}))
	p.ipv6 = r.table(tIPv6, field(fVRF, schema.Exact, str), field(fIPv6Dst, schema.LPM, fieldSpec{width: 128}))
	for _, t := range []string{tIPv4, tIPv6} {
		r.action(t, aSetNH, param(fNexthop, str))
		r.action(t, aSetWCMP, param(fWCMP, str))
	}
	p.rif = r.table(tRIF, field(fRIF, schema.Exact, str))
	switch {
	case r.has(tRIF, aRIF):
		p.rifAction = r.action(tRIF, aRIF, param(fPort, str), param(fSrcMAC, mac))
	default:
		p.rifAction = r.action(tRIF, aRIFLegacy, param(fPort, str), param(fSrcMAC, mac))
	}
	if r.has(tRIF, aRIFVLAN) && !r.unsupported(tRIF, aRIFVLAN) {
		p.rifVLANAction = r.action(tRIF, aRIFVLAN, param(fPort, str), param(fSrcMAC, mac), param(fVLAN, fieldSpec{width: 12}))
	}
	p.neighbor = r.table(tNeighbor, field(fRIF, schema.Exact, str), field(fNeighbor, schema.Exact, fieldSpec{width: 128}))
	r.action(tNeighbor, aSetDstMAC, param(fDstMAC, mac))
	p.nexthop = r.table(tNexthop, field(fNexthop, schema.Exact, str))
	r.action(tNexthop, aSetIPNH, param(fRIF, str), param(fNeighbor, fieldSpec{width: 128}))
	p.wcmp = r.table(tWCMP, field(fWCMP, schema.Exact, str))
	r.action(tWCMP, aSetNH, param(fNexthop, str))
	p.l3admit = r.table(tL3Admit, field(fDstMAC, schema.Ternary, mac))
	r.action(tL3Admit, aAdmit)
	p.acl = r.table(tACL)
	r.action(tACL, aDrop)
	r.action(tACL, aTrap, param(fQueue, fieldSpec{str: true}))
	r.action(tACL, aForward)
	if err := r.err(); err != nil {
		return nil, err
	}

	// Optional parts: what the pipeliner can do without them is
	// Unsupported, not an error.
	if t, _ := s.Table(tL3Admit); t != nil {
		p.l3InPort = r.optField(t, fInPort, schema.Optional, str)
	}
	if r.has(tACL, aRedirect) {
		p.redirect = r.action(tACL, aRedirect, param(fNexthop, str))
	}
	if t, err := s.Table(tPreACL); err == nil && r.optField(t, fInPort, schema.Optional, str) && r.has(tPreACL, aSetVRF) {
		p.preACL = t.Name
		r.action(tPreACL, aSetVRF, param(fVRF, str))
	}
	if r.has(tMcastRIF, aMcPass) {
		p.mcastRIF = r.table(tMcastRIF, field(fMcPort, schema.Exact, str), field(fMcInst, schema.Exact, fieldSpec{width: 16}))
		r.action(tMcastRIF, aMcPass)
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	t, _ := s.Table(tIPv4)
	f, _ := t.Field(fVRF)
	t6, _ := s.Table(tIPv6)
	if f6, _ := t6.Field(fVRF); f6.ID != f.ID {
		return nil, fmt.Errorf("pipeline/sai: vrf_id has ID %d in ipv4_table but %d in ipv6_table", f.ID, f6.ID)
	}
	acl, _ := s.Table(tACL)
	p.aclFields = make(map[string]aclField, len(acl.Fields))
	for _, f := range acl.Fields {
		if f.Translated != nil && f.Translated.SDNString {
			p.aclFields[f.Name] = aclField{kind: f.Kind}
			continue
		}
		p.aclFields[f.Name] = aclField{kind: f.Kind, width: f.Bitwidth}
	}
	wt, _ := s.Table(tWCMP)
	if prof := wt.ActionProfile; prof == nil || !prof.WithSelector {
		return nil, errors.New("pipeline/sai: not a SAI-P4 P4Info: wcmp_group_table is not implemented with an action selector")
	} else if prof.Proto.GetSumOfMembers() == nil {
		p.maxGroup = int64(prof.MaxGroupSize)
	}
	p.maxMembers = int(s.P4Info().GetPkgInfo().GetPlatformProperties().GetMulticastGroupTableMaxReplicasPerEntry())
	if err := p.computeRanks(); err != nil {
		return nil, err
	}
	return p, nil
}

// Program implements pipeline.Pipeliner.
func (p *Pipeliner) Program() string { return ProgramID }

// Schema returns the schema the pipeliner builds entities with.
func (p *Pipeliner) Schema() *schema.Schema { return p.s }

// Config returns the configuration in effect (defaults filled in).
func (p *Pipeliner) Config() Config { return p.cfg }

// Supports implements pipeline.Pipeliner: every kind but bridging, which
// SAI-P4 middleblock has no table for.
func (p *Pipeliner) Supports(k objective.Kind) bool {
	switch k {
	case objective.KindL3Interface, objective.KindRoute, objective.KindNextHop,
		objective.KindNextHopGroup, objective.KindACL, objective.KindPunt:
		return true
	case objective.KindMulticast:
		return p.mcastRIF != ""
	}
	return false
}

// Rank implements pipeline.Pipeliner. Ranks come from the @refers_to and
// @referenced_by annotations of the P4Info: a table ranks one above the
// highest table it refers to, and the routing chain is kept in the order
//
//	vrf_table < router_interface_table < neighbor_table < nexthop_table
//	  < wcmp_group_table < ipv4_table, ipv6_table
//
// (see RankOf for the table of ranks). Multicast groups rank above the
// multicast_router_interface_table entries of their replicas, direct
// counter and meter entries one above their table, and anything else 0.
func (p *Pipeliner) Rank(e *p4v1.Entity) int {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return p.ranks[x.TableEntry.GetTableId()]
	case *p4v1.Entity_DirectCounterEntry:
		return p.ranks[x.DirectCounterEntry.GetTableEntry().GetTableId()] + 1
	case *p4v1.Entity_DirectMeterEntry:
		return p.ranks[x.DirectMeterEntry.GetTableEntry().GetTableId()] + 1
	case *p4v1.Entity_PacketReplicationEngineEntry:
		if x.PacketReplicationEngineEntry.GetCloneSessionEntry() != nil {
			return p.cloneRank
		}
		return p.mcGroup
	}
	return 0
}

// RankOf returns the rank of the entries of a table (by name, alias or
// unique suffix, or "builtin::multicast_group_table"), for the support
// matrix and tests.
func (p *Pipeliner) RankOf(table string) (int, error) {
	switch table {
	case builtinMcG:
		return p.mcGroup, nil
	case builtinCS:
		return p.cloneRank, nil
	}
	t, err := p.s.Table(table)
	if err != nil {
		return 0, err
	}
	return p.ranks[t.ID], nil
}

// computeRanks layers the tables of the P4Info by their references.
func (p *Pipeliner) computeRanks() error {
	refs := References(p.s)
	// The routing chain, in the order SAI creates its objects, even where
	// the P4Info has no reference (a VRF before the interfaces).
	chain := [][2]string{{tRIF, tVRF}, {tNeighbor, tRIF}, {tNexthop, tNeighbor}, {tWCMP, tNexthop}, {tIPv4, tWCMP}, {tIPv6, tWCMP}}
	deps := map[string][]string{}
	add := func(from, to string) {
		if from != to && !slices.Contains(deps[from], to) {
			deps[from] = append(deps[from], to)
		}
	}
	for _, r := range refs {
		add(r.From, r.To)
	}
	for _, c := range chain {
		from, err1 := p.s.Table(c[0])
		to, err2 := p.s.Table(c[1])
		if err1 == nil && err2 == nil {
			add(from.Name, to.Name)
		}
	}
	rank := map[string]int{}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string, path []string) (int, error)
	visit = func(n string, path []string) (int, error) {
		switch state[n] {
		case 2:
			return rank[n], nil
		case 1:
			return 0, fmt.Errorf("pipeline/sai: the P4Info's references form a cycle: %s", strings.Join(append(path, n), " → "))
		}
		state[n] = 1
		r := 0
		for _, d := range deps[n] {
			dr, err := visit(d, append(path, n))
			if err != nil {
				return 0, err
			}
			r = max(r, dr+1)
		}
		state[n], rank[n] = 2, r
		return r, nil
	}
	p.ranks = make(map[uint32]int, len(p.s.Tables()))
	for _, t := range p.s.Tables() {
		r, err := visit(t.Name, nil)
		if err != nil {
			return err
		}
		p.ranks[t.ID] = r
	}
	var err error
	if p.mcGroup, err = visit(builtinMcG, nil); err != nil {
		return err
	}
	p.cloneRank, err = visit(builtinCS, nil)
	return err
}

// Reference is one @refers_to (or @referenced_by) relation of a P4Info:
// entries of table From carry, in match field or action parameter Field,
// a value that must be the Key field of an existing entry of table To.
// Builtin tables are named "builtin::multicast_group_table" and
// "builtin::clone_session_table"; Key is then the replica field or ID.
type Reference struct {
	From   string // full table name, or a builtin
	Action string // full action name when Field is an action parameter
	Field  string // match field or action parameter of From
	To     string // full table name, or a builtin
	Key    string // match field of To (or builtin field)
}

// References lists the @refers_to and @referenced_by relations of a
// P4Info, resolved to full table names. Annotations naming tables the
// P4Info does not have are left out.
func References(s *schema.Schema) []Reference {
	var out []Reference
	resolve := func(name string) (string, bool) {
		if strings.HasPrefix(name, "builtin::") {
			return name, true
		}
		t, err := s.Table(name)
		if err != nil {
			return "", false
		}
		return t.Name, true
	}
	for _, t := range s.Tables() {
		for _, f := range t.Fields {
			for _, a := range f.Proto.GetAnnotations() {
				if to, key, ok := parseRef(a, "@refers_to"); ok {
					if full, ok := resolve(to); ok {
						out = append(out, Reference{From: t.Name, Field: f.Name, To: full, Key: key})
					}
				}
				if by, key, ok := parseRef(a, "@referenced_by"); ok {
					// by's entries refer to this table's field.
					if full, ok := resolve(by); ok {
						out = append(out, Reference{From: full, Field: key, To: t.Name, Key: f.Name})
					}
				}
			}
		}
		for _, ar := range t.Actions {
			act := ar.Action
			for _, pp := range act.Proto.GetParams() {
				for _, a := range pp.GetAnnotations() {
					if to, key, ok := parseRef(a, "@refers_to"); ok {
						if full, ok := resolve(to); ok {
							out = append(out, Reference{From: t.Name, Action: act.Name, Field: pp.GetName(), To: full, Key: key})
						}
					}
				}
			}
		}
	}
	return out
}

// parseRef parses "@refers_to(table , field)" (p4c separates tokens with
// spaces, "builtin : : multicast_group_table" included).
func parseRef(a, name string) (table, field string, ok bool) {
	rest, found := strings.CutPrefix(a, name+"(")
	if !found {
		return "", "", false
	}
	rest, found = strings.CutSuffix(strings.TrimSpace(rest), ")")
	if !found {
		return "", "", false
	}
	table, field, found = strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	table = strings.ReplaceAll(table, " ", "")
	field = strings.ReplaceAll(field, " ", "")
	return table, field, table != "" && field != ""
}

// fieldSpec is what a field or parameter must be: an SDN string or a
// bit<width>.
type fieldSpec struct {
	str   bool
	width int
}

func (f fieldSpec) String() string {
	if f.str {
		return "an SDN string"
	}
	return fmt.Sprintf("bit<%d>", f.width)
}

type fieldReq struct {
	name string
	kind schema.MatchKind
	spec fieldSpec
}

func field(name string, kind schema.MatchKind, spec fieldSpec) fieldReq {
	return fieldReq{name, kind, spec}
}

type paramReq struct {
	name string
	spec fieldSpec
}

func param(name string, spec fieldSpec) paramReq { return paramReq{name, spec} }

// resolver checks a schema against what the pipeliner needs and collects
// every mismatch.
type resolver struct {
	s    *schema.Schema
	errs []error
}

func (r *resolver) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}

func (r *resolver) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("pipeline/sai: not a SAI-P4 middleblock P4Info: %w", errors.Join(r.errs...))
}

func matches(spec fieldSpec, width int, tr *schema.Translation) bool {
	if spec.str {
		return tr != nil && tr.SDNString
	}
	return (tr == nil || !tr.SDNString) && width == spec.width
}

func describe(width int, tr *schema.Translation) string {
	if tr != nil && tr.SDNString {
		return "an SDN string"
	}
	return fmt.Sprintf("bit<%d>", width)
}

// table resolves a table and checks its fields; it returns the full name.
func (r *resolver) table(name string, fields ...fieldReq) string {
	t, err := r.s.Table(name)
	if err != nil {
		r.errs = append(r.errs, err)
		return ""
	}
	for _, want := range fields {
		f, err := t.Field(want.name)
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		if f.Kind != want.kind {
			r.fail("table %s: field %s is %s, want %s", t.Name, f.Name, f.Kind, want.kind)
		}
		if !matches(want.spec, f.Bitwidth, f.Translated) {
			r.fail("table %s: field %s is %s, want %s", t.Name, f.Name, describe(f.Bitwidth, f.Translated), want.spec)
		}
	}
	return t.Name
}

// optField reports whether the table has the field, of that kind and
// spec.
func (r *resolver) optField(t *schema.Table, name string, kind schema.MatchKind, spec fieldSpec) bool {
	f, err := t.Field(name)
	return err == nil && f.Kind == kind && matches(spec, f.Bitwidth, f.Translated)
}

func (r *resolver) has(table, action string) bool {
	t, err := r.s.Table(table)
	if err != nil {
		return false
	}
	ref, err := t.Action(action)
	return err == nil && !ref.DefaultOnly()
}

func (r *resolver) unsupported(table, action string) bool {
	t, _ := r.s.Table(table)
	ref, _ := t.Action(action)
	for _, a := range ref.Action.Proto.GetPreamble().GetAnnotations() {
		if a == "@unsupported" || strings.HasPrefix(a, "@unsupported(") {
			return true
		}
	}
	return false
}

// action resolves an action of a table and checks its parameters; it
// returns the action's full name.
func (r *resolver) action(table, name string, params ...paramReq) string {
	t, err := r.s.Table(table)
	if err != nil {
		return "" // reported by table
	}
	ref, err := t.Action(name)
	if err != nil {
		r.errs = append(r.errs, err)
		return ""
	}
	if ref.DefaultOnly() {
		r.fail("table %s: action %s is default-only", t.Name, ref.Action.Name)
	}
	a := ref.Action
	if len(a.Params) != len(params) {
		r.fail("action %s has %d parameters, want %d", a.Name, len(a.Params), len(params))
	}
	for _, want := range params {
		pp, err := a.Param(want.name)
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		if !matches(want.spec, pp.Bitwidth, pp.Translated) {
			r.fail("action %s: parameter %s is %s, want %s", a.Name, pp.Name, describe(pp.Bitwidth, pp.Translated), want.spec)
		}
	}
	return a.Name
}
