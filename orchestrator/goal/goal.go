package goal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// SchemaVersion is the version of the chassis config schema this package reads.
const SchemaVersion = 1

// ErrInvalid is wrapped by every error about a config that cannot compile.
var ErrInvalid = errors.New("goal: invalid chassis config")

// Config is a declarative chassis config: what every box of the chassis
// should do, written once for the chassis.
type Config struct {
	// Version is the schema version; it must be SchemaVersion.
	Version int `json:"version"`
	// Interfaces configures interfaces by chassis-wide name
	// ("eth-3/0/12": module 3, port 12).
	Interfaces map[string]Interface `json:"interfaces,omitempty"`
	// Roles configures every box of a role ("forwarder", "fabric", ...).
	Roles map[string]Section `json:"roles,omitempty"`
	// Modules configures one box by its module ID (the key, in decimal).
	// A module's pipeconf overrides its role's; its objectives are added
	// after its role's and replace those with the same kind and key.
	Modules map[string]Section `json:"modules,omitempty"`
}

// Interface is the configuration of one interface; unset fields are left
// as the box has them.
type Interface struct {
	Enabled     *bool   `json:"enabled,omitempty"`
	Description *string `json:"description,omitempty"`
	MTU         *uint16 `json:"mtu,omitempty"`
}

// Section is what a role or a module runs: a pipeconf and objectives.
type Section struct {
	// Pipeconf is the ID of the pipeconf the box runs.
	Pipeconf string `json:"pipeconf,omitempty"`
	// Objectives are the forwarding objectives of the box.
	Objectives objective.List `json:"objectives,omitempty"`
}

// Parse reads a chassis config from YAML or JSON. Unknown fields are errors.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Version != SchemaVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalid, c.Version, SchemaVersion)
	}
	return &c, nil
}

// Marshal writes the config as YAML.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// PortNamer names a box's ports by P4Runtime port ID; *driver.PortMap is one.
type PortNamer interface {
	Name(id uint32) (string, bool)
}

// Box is what Compile needs to know about one box of the chassis.
type Box struct {
	// Name names the box (its inventory name; errors and goals use it).
	Name string
	// Module is the box's module ID.
	Module int
	// Role is the box's role.
	Role string
	// Ports names the box's ports, for its gNMI paths.
	Ports PortNamer
	// Options, when set, are the device options of the box's pipeliner
	// (default: the pipeconf's).
	Options *pipeline.DeviceOptions
}

// Resolver resolves a chassis-wide interface name to a box and a P4Runtime
// port. The inventory implements it; ModuleResolver is the default.
type Resolver interface {
	ResolveInterface(name string) (box string, port uint32, err error)
}

// Pipeconfs finds pipeconfs by ID; *pipeline.Registry is one.
type Pipeconfs interface {
	Get(id string) (*pipeline.Pipeconf, error)
}

var ifName = regexp.MustCompile(`^eth-([0-9]+)/0/([0-9]+)$`)

// ModuleResolver resolves eth-<module>/0/<port> against boxes by module ID.
type ModuleResolver []Box

// ResolveInterface implements Resolver.
func (r ModuleResolver) ResolveInterface(name string) (string, uint32, error) {
	m := ifName.FindStringSubmatch(name)
	if m == nil {
		return "", 0, fmt.Errorf("interface %q: not eth-<module>/0/<port>: %w", name, ErrInvalid)
	}
	mod, err1 := strconv.Atoi(m[1])
	port, err2 := strconv.ParseUint(m[2], 10, 32)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("interface %q: bad number: %w", name, ErrInvalid)
	}
	for _, b := range r {
		if b.Module == mod {
			return b.Name, uint32(port), nil
		}
	}
	return "", 0, fmt.Errorf("interface %q: no box has module %d: %w", name, mod, ErrInvalid)
}

// Leaf is one gNMI configuration leaf of a goal.
type Leaf struct {
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Goal is the state one box should have: the pipeconf it runs, the P4
// entities its objectives need (in Rank order) and its gNMI config leaves.
type Goal struct {
	// Box names the box.
	Box string `json:"box"`
	// Pipeconf is the ID of the pipeconf; empty for a box with no P4 goal.
	Pipeconf string `json:"pipeconf,omitempty"`
	// Objectives are the box's objectives, as compiled.
	Objectives objective.List `json:"objectives,omitempty"`
	// Entities are the P4 entities, in insert order.
	Entities []*p4v1.Entity `json:"-"`
	// Config are the gNMI leaves, sorted by path.
	Config []Leaf `json:"config,omitempty"`
}

// goalJSON is a goal as journaled. Entities is, in what MarshalJSON
// writes, one base64 string: a binary p4.v1.ReadResponse holding every
// entity (one protobuf encoding for the goal instead of one per entity).
// Journals written before hold a list of base64 strings, one binary
// p4.v1.Entity each, which UnmarshalJSON still reads. A JSON string where
// older code expects a list fails loudly there rather than reading as a
// goal without entities.
type goalJSON struct {
	Box        string          `json:"box"`
	Pipeconf   string          `json:"pipeconf,omitempty"`
	Objectives objective.List  `json:"objectives,omitempty"`
	Entities   json.RawMessage `json:"entities,omitempty"`
	Config     []Leaf          `json:"config,omitempty"`
}

// MarshalJSON encodes the goal, its entities as one base64 string of a
// binary p4.v1.ReadResponse. It writes the JSON object itself: the
// orchestrator journals every box's goal with every commit, and
// encoding/json would validate and re-compact each field's encoding.
func (g *Goal) MarshalJSON() ([]byte, error) {
	data, _, err := g.marshalJSON(false)
	return data, err
}

// MarshalJSONEncoded is MarshalJSON that also returns the proto encoding
// of each of g's entities as the JSON carries it (nil for an entity not
// of g), so that the entities can be written as they are
// (p4/client.WithEncodedEntities) rather than encoded again. The
// entities must not change while the lookup is in use.
func (g *Goal) MarshalJSONEncoded() ([]byte, func(*p4v1.Entity) []byte, error) {
	data, spans, err := g.marshalJSON(true)
	if err != nil {
		return nil, nil, err
	}
	return data, func(e *p4v1.Entity) []byte { return spans[e] }, nil
}

// appendEntities appends the encoding of a p4.v1.ReadResponse holding
// ents (proto.Marshal's bytes) to b and, with spans, records each
// entity's encoding in it.
func appendEntities(b []byte, ents []*p4v1.Entity, spans map[*p4v1.Entity][]byte) ([]byte, error) {
	// Size every entity first (which caches the sizes of its messages),
	// so that the buffer is allocated once and encoding does not size
	// them again.
	sizes := make([]int, len(ents))
	total := 0
	for i, e := range ents {
		sizes[i] = proto.Size(e)
		total += protowire.SizeTag(1) + protowire.SizeBytes(sizes[i])
	}
	b = slices.Grow(b, total)
	for i, e := range ents {
		b = protowire.AppendTag(b, 1, protowire.BytesType) // ReadResponse.entities
		b = protowire.AppendVarint(b, uint64(sizes[i]))
		start := len(b)
		var err error
		if b, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(b, e); err != nil {
			return nil, fmt.Errorf("entity %d: %w", i, err)
		}
		if len(b)-start != sizes[i] {
			return nil, fmt.Errorf("entity %d: changed while encoded", i)
		}
		if spans != nil {
			spans[e] = b[start:len(b):len(b)]
		}
	}
	return b, nil
}

func (g *Goal) marshalJSON(withSpans bool) ([]byte, map[*p4v1.Entity][]byte, error) {
	var ents []byte
	var spans map[*p4v1.Entity][]byte
	if len(g.Entities) > 0 {
		if withSpans {
			spans = make(map[*p4v1.Entity][]byte, len(g.Entities))
		}
		var err error
		ents, err = appendEntities(nil, g.Entities, spans)
		if err != nil {
			return nil, nil, fmt.Errorf("goal of %s: entities: %w", g.Box, err)
		}
	}
	buf := make([]byte, 0, 128+base64.StdEncoding.EncodedLen(len(ents))+200*len(g.Objectives)+100*len(g.Config))
	buf = append(buf, `{"box":`...)
	buf = appendJSONString(buf, g.Box)
	if g.Pipeconf != "" {
		buf = append(buf, `,"pipeconf":`...)
		buf = appendJSONString(buf, g.Pipeconf)
	}
	if len(g.Objectives) > 0 {
		objs, err := g.Objectives.MarshalJSON()
		if err != nil {
			return nil, nil, fmt.Errorf("goal of %s: %w", g.Box, err)
		}
		buf = append(buf, `,"objectives":`...)
		buf = append(buf, objs...)
	}
	if len(g.Entities) > 0 {
		buf = append(buf, `,"entities":"`...)
		buf = base64.StdEncoding.AppendEncode(buf, ents)
		buf = append(buf, '"')
	}
	if len(g.Config) > 0 {
		cfg, err := json.Marshal(g.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("goal of %s: config: %w", g.Box, err)
		}
		buf = append(buf, `,"config":`...)
		buf = append(buf, cfg...)
	}
	return append(buf, '}'), spans, nil
}

// appendJSONString appends s as a JSON string, as json.Marshal writes it.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// Anything json.Marshal would escape (controls, quote,
		// backslash, HTML, non-ASCII): let it.
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// UnmarshalJSON decodes what MarshalJSON encodes, and the goals of older
// journals (a base64 string per entity).
func (g *Goal) UnmarshalJSON(data []byte) error {
	var j goalJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*g = Goal{Box: j.Box, Pipeconf: j.Pipeconf, Objectives: j.Objectives, Config: j.Config}
	raw := bytes.TrimSpace(j.Entities)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '"':
		var blob []byte // encoding/json decodes a base64 string into []byte
		if err := json.Unmarshal(raw, &blob); err != nil {
			return fmt.Errorf("goal of %s: entities: %w", j.Box, err)
		}
		var rr p4v1.ReadResponse
		if err := proto.Unmarshal(blob, &rr); err != nil {
			return fmt.Errorf("goal of %s: entities: %w", j.Box, err)
		}
		g.Entities = rr.Entities
	default:
		var list [][]byte
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("goal of %s: entities: %w", j.Box, err)
		}
		g.Entities = make([]*p4v1.Entity, 0, len(list))
		for i, b := range list {
			e := new(p4v1.Entity)
			if err := proto.Unmarshal(b, e); err != nil {
				return fmt.Errorf("goal of %s: entity %d: %w", j.Box, i, err)
			}
			g.Entities = append(g.Entities, e)
		}
	}
	return nil
}

// Clone returns a deep copy of g (nil for nil).
func (g *Goal) Clone() *Goal {
	if g == nil {
		return nil
	}
	c := *g
	c.Objectives = slices.Clone(g.Objectives)
	c.Config = slices.Clone(g.Config)
	c.Entities = make([]*p4v1.Entity, len(g.Entities))
	for i, e := range g.Entities {
		c.Entities[i] = proto.Clone(e).(*p4v1.Entity)
	}
	return &c
}

// Error is a compile error of one box (and one objective or interface).
type Error struct {
	// Box names the box; Item the objective or interface at fault, if any.
	Box, Item string
	// Err is the cause.
	Err error
}

// Error names the box and the item.
func (e *Error) Error() string {
	if e.Item == "" {
		return fmt.Sprintf("box %s: %v", e.Box, e.Err)
	}
	return fmt.Sprintf("box %s: %s: %v", e.Box, e.Item, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Option configures Compile.
type Option func(*compileConfig)

type compileConfig struct {
	resolver  Resolver
	pipeconfs Pipeconfs
}

// WithResolver resolves interface names with r (default: ModuleResolver of
// the boxes).
func WithResolver(r Resolver) Option { return func(c *compileConfig) { c.resolver = r } }

// WithPipeconfs finds pipeconfs in p (default: the built-in registry).
func WithPipeconfs(p Pipeconfs) Option { return func(c *compileConfig) { c.pipeconfs = p } }

// InterfacePath is the gNMI config path of leaf of interface port.
func InterfacePath(port, leaf string) string {
	return "/interfaces/interface[name=" + port + "]/config/" + leaf
}

// Compile turns a chassis config into a goal per box, keyed by box name.
// Every box is compiled and validated before Compile returns: it returns
// all the errors (each an *Error naming the box and the objective or
// interface) or none. Every box gets a goal, empty when the config says
// nothing about it.
func Compile(cfg *Config, boxes []Box, opts ...Option) (map[string]*Goal, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil config", ErrInvalid)
	}
	if cfg.Version != SchemaVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalid, cfg.Version, SchemaVersion)
	}
	cc := compileConfig{resolver: ModuleResolver(boxes)}
	for _, o := range opts {
		o(&cc)
	}
	if cc.pipeconfs == nil {
		r, err := builtin.Registry()
		if err != nil {
			return nil, fmt.Errorf("goal: built-in pipeconfs: %w", err)
		}
		cc.pipeconfs = r
	}
	var errs []error
	byName := map[string]Box{}
	modules := map[int]string{}
	for _, b := range boxes {
		if _, dup := byName[b.Name]; dup || b.Name == "" {
			errs = append(errs, &Error{Box: b.Name, Err: fmt.Errorf("empty or repeated box name: %w", ErrInvalid)})
			continue
		}
		if other, dup := modules[b.Module]; dup {
			errs = append(errs, &Error{Box: b.Name, Err: fmt.Errorf("module %d already belongs to %s: %w", b.Module, other, ErrInvalid)})
		}
		modules[b.Module] = b.Name
		byName[b.Name] = b
	}
	for key := range cfg.Modules {
		m, err := strconv.Atoi(key)
		if err != nil {
			errs = append(errs, &Error{Box: "module " + key, Err: fmt.Errorf("module key is not a number: %w", ErrInvalid)})
			continue
		}
		if _, ok := modules[m]; !ok {
			errs = append(errs, &Error{Box: "module " + key, Err: fmt.Errorf("no box has module %d: %w", m, ErrInvalid)})
		}
	}
	goals := map[string]*Goal{}
	for _, b := range boxes {
		if _, ok := byName[b.Name]; !ok {
			continue
		}
		g, err := compileBox(cfg, b, cc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		goals[b.Name] = g
	}
	// Interfaces.
	leaves := map[string][]Leaf{}
	names := make([]string, 0, len(cfg.Interfaces))
	for n := range cfg.Interfaces {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		ifc := cfg.Interfaces[n]
		box, port, err := cc.resolver.ResolveInterface(n)
		if err != nil {
			errs = append(errs, &Error{Box: box, Item: "interface " + n, Err: err})
			continue
		}
		b, ok := byName[box]
		if !ok {
			errs = append(errs, &Error{Box: box, Item: "interface " + n, Err: fmt.Errorf("unknown box: %w", ErrInvalid)})
			continue
		}
		if b.Ports == nil {
			errs = append(errs, &Error{Box: box, Item: "interface " + n, Err: fmt.Errorf("box has no port map: %w", ErrInvalid)})
			continue
		}
		pn, ok := b.Ports.Name(port)
		if !ok {
			errs = append(errs, &Error{Box: box, Item: "interface " + n, Err: fmt.Errorf("box has no port %d: %w", port, ErrInvalid)})
			continue
		}
		if ifc.Enabled != nil {
			leaves[box] = append(leaves[box], Leaf{InterfacePath(pn, "enabled"), *ifc.Enabled})
		}
		if ifc.Description != nil {
			leaves[box] = append(leaves[box], Leaf{InterfacePath(pn, "description"), *ifc.Description})
		}
		if ifc.MTU != nil {
			leaves[box] = append(leaves[box], Leaf{InterfacePath(pn, "mtu"), *ifc.MTU})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for box, ls := range leaves {
		slices.SortFunc(ls, func(a, b Leaf) int {
			if a.Path < b.Path {
				return -1
			}
			if a.Path > b.Path {
				return 1
			}
			return 0
		})
		goals[box].Config = ls
	}
	return goals, nil
}

func compileBox(cfg *Config, b Box, cc compileConfig) (*Goal, error) {
	g := &Goal{Box: b.Name}
	role, hasRole := cfg.Roles[b.Role]
	mod, hasMod := cfg.Modules[strconv.Itoa(b.Module)]
	if hasRole {
		g.Pipeconf = role.Pipeconf
	}
	if hasMod && mod.Pipeconf != "" {
		g.Pipeconf = mod.Pipeconf
	}
	// The module's objectives replace the role's with the same kind and
	// key before anything is translated.
	var objs objective.List
	if hasRole {
		objs = append(objs, role.Objectives...)
	}
	if hasMod && len(objs) == 0 {
		objs = mod.Objectives
	} else if hasMod {
		index := make(map[string]int, len(objs))
		for i, o := range objs {
			index[string(o.Kind())+"\x00"+o.Key()] = i
		}
		for _, o := range mod.Objectives {
			if i, ok := index[string(o.Kind())+"\x00"+o.Key()]; ok {
				objs[i] = o
			} else {
				objs = append(objs, o)
			}
		}
	}
	if len(objs) == 0 {
		return g, nil
	}
	if g.Pipeconf == "" {
		return nil, &Error{Box: b.Name, Err: fmt.Errorf("%d objectives but no pipeconf for module %d or role %q: %w", len(objs), b.Module, b.Role, ErrInvalid)}
	}
	pc, err := cc.pipeconfs.Get(g.Pipeconf)
	if err != nil {
		return nil, &Error{Box: b.Name, Item: "pipeconf " + g.Pipeconf, Err: err}
	}
	var pl pipeline.Pipeliner
	if b.Options != nil {
		pl, err = pc.PipelinerFor(*b.Options)
	} else {
		pl, err = pc.Pipeliner()
	}
	if err != nil {
		return nil, &Error{Box: b.Name, Item: "pipeconf " + g.Pipeconf, Err: err}
	}
	st := pipeline.NewState(pl)
	for _, o := range objs {
		item := fmt.Sprintf("%s %s", o.Kind(), o.Key())
		if err := o.Validate(); err != nil {
			return nil, &Error{Box: b.Name, Item: item, Err: err}
		}
		// One objective at a time, so that the error names it.
		if _, err := st.Add(o); err != nil {
			return nil, &Error{Box: b.Name, Item: item, Err: err}
		}
	}
	g.Objectives = st.Objectives()
	g.Entities = st.Entities()
	return g, nil
}
