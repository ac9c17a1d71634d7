package orchestrator

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// Prepared is a chassis config compiled against the inventory, ready to
// be committed by its Commit without compiling it again: a caller that
// must validate a config before it commits it (fabricd answers
// INVALID_ARGUMENT before it starts the operation) pays for one compile,
// not two.
//
// It keeps what the goals were compiled from: the config (as YAML, the
// form the version journals), every registered box's serial, module,
// role and port map, and, with WithReroute, the ports that were down
// (the group members that leave through them were pruned). Commit checks
// them again and compiles anew when any differs, so it never commits
// goals compiled for another chassis.
//
// A Prepared is immutable, and safe for concurrent use. Committing it
// twice commits two versions, as Commit of the same config twice would.
type Prepared struct {
	o     *Orchestrator
	yaml  []byte                // the config as given, as journaled
	raw   bool                  // yaml is the caller's text (PrepareYAML), not goal's Marshal
	boxes []compiledBox         // what the goals were compiled against
	goals map[string]*goal.Goal // by serial

	// With WithReroute:
	down    map[portKey]string // ports down at Prepare (their members were pruned)
	applied []byte             // YAML of the config the goals come from (pruned)
}

// compiledBox is what a compile reads of one registered box: a box
// registered again with the same of these compiles to the same goal.
type compiledBox struct {
	serial string
	module uint32
	role   inventory.Role
	ports  []driver.Port // nil: no port map (any port is accepted)
}

func compiledBoxes(boxes []inventory.Box) []compiledBox {
	out := make([]compiledBox, len(boxes))
	for i, b := range boxes {
		out[i] = compiledBox{serial: b.Serial, module: b.Module, role: b.Spec.Role, ports: b.Ports}
	}
	return out
}

func (a compiledBox) equal(b compiledBox) bool {
	// A nil port map accepts every port, an empty one none.
	return a.serial == b.serial && a.module == b.module && a.role == b.role &&
		(a.ports == nil) == (b.ports == nil) && slices.Equal(a.ports, b.ports)
}

// compiledFor reports whether p's goals were compiled against boxes.
func (p *Prepared) compiledFor(boxes []inventory.Box) bool {
	return slices.EqualFunc(p.boxes, compiledBoxes(boxes), compiledBox.equal)
}

// Prepare validates cfg for a commit: it compiles it against the
// registered boxes, as Commit would now, and returns the result for
// Prepared.Commit. With WithReroute, the goals are those of cfg without
// the group members on ports that are down now (as Commit commits), and
// cfg as given must compile too: it is what the reroutes commit once the
// ports come back. Nothing is sent to the boxes.
//
// The error wraps ErrInvalid for a nil config or one that cannot be
// encoded, goal.ErrInvalid for a config that does not compile, and
// ErrClosed after Close.
func (o *Orchestrator) Prepare(ctx context.Context, cfg *goal.Config) (*Prepared, error) {
	if cfg == nil {
		return nil, fmt.Errorf("orchestrator: prepare: nil config: %w", ErrInvalid)
	}
	y, err := cfg.Marshal()
	if err != nil {
		return nil, fmt.Errorf("orchestrator: prepare: %w: %w", ErrInvalid, err)
	}
	return o.prepare(ctx, cfg, y, false, true)
}

// PrepareYAML is Prepare of the config data holds (goal.Parse), for a
// caller that has it as YAML: data itself is what the version journals
// (Config parses it back), which spares encoding the config again: for a
// config of hundreds of routes, as long as compiling it or longer. The
// error wraps goal.ErrInvalid for data that does not parse.
func (o *Orchestrator) PrepareYAML(ctx context.Context, data []byte) (*Prepared, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	cfg, err := goal.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: prepare: %w", err)
	}
	return o.prepare(ctx, cfg, bytes.Clone(data), true, true)
}

// prepare compiles cfg, whose YAML is y (raw: the caller's text, not
// cfg.Marshal's), for a commit. whole says whether, with reroute, cfg must
// compile unpruned too (Commit has never asked that: it keeps its one
// compile).
func (o *Orchestrator) prepare(ctx context.Context, cfg *goal.Config, y []byte, raw, whole bool) (*Prepared, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	boxes, err := o.Boxes(ctx)
	if err != nil {
		return nil, err
	}
	p := &Prepared{o: o, yaml: y, raw: raw, boxes: compiledBoxes(boxes)}
	if o.rerouting() {
		down, names := o.svc.downPorts(boxes)
		p.goals, p.applied, err = o.svc.compile(cfg, p.canonical, boxes, down, names, whole)
		p.down = down
	} else {
		p.goals, err = o.compileFor(cfg, boxes)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Goals returns the goals Commit commits if nothing they were compiled
// from changes, by box serial. The goals are p's: read them, do not
// modify them.
func (p *Prepared) Goals() map[string]*goal.Goal {
	if p == nil {
		return nil
	}
	return maps.Clone(p.goals)
}

// Commit commits p's goals to every box as one transaction, as
// Orchestrator.Commit commits its config's (same options, result, errors,
// events and journaled config). If a box was registered, registered again
// with another module, role or port map, or decommissioned since Prepare,
// or (with WithReroute) another set of ports is down, the config is
// compiled again against the chassis as it is now, so that the goals
// committed are those Orchestrator.Commit would commit. A change of the
// inventory while Commit runs is the same race as in
// Orchestrator.Commit, between its compile and its transaction.
func (p *Prepared) Commit(ctx context.Context, opts ...txn.CommitOption) (*txn.Result, error) {
	if p == nil || p.o == nil {
		return nil, fmt.Errorf("orchestrator: commit: nil prepared commit: %w", ErrInvalid)
	}
	o := p.o
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.rerouting() {
		return o.svc.commit(ctx, p, opts...)
	}
	boxes, err := o.Boxes(ctx)
	if err != nil {
		return nil, err
	}
	goals := p.goals
	if !p.compiledFor(boxes) {
		o.log.Debug("commit: the inventory changed since the config was prepared; compiling it again")
		cfg, err := p.config()
		if err != nil {
			return nil, err
		}
		if goals, err = o.compileFor(cfg, boxes); err != nil {
			return nil, err
		}
	}
	return o.commit("commit", "", p.yaml, func(more ...txn.CommitOption) (*txn.Result, error) {
		return o.coord.Commit(ctx, goals, append(opts, more...)...)
	})
}

// config returns p's config, for a compile again: from the YAML rather
// than the caller's *goal.Config, which may have changed since, so that
// what is committed is what is journaled.
func (p *Prepared) config() (*goal.Config, error) {
	cfg, err := goal.Parse(p.yaml)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: commit: prepared config: %w: %w", ErrInvalid, err)
	}
	return cfg, nil
}

// canonical returns the YAML of cfg, p's config, as goal's Marshal writes
// it: what a reroute compares the configs it commits with.
func (p *Prepared) canonical(cfg *goal.Config) []byte {
	if !p.raw {
		return p.yaml
	}
	// Without it the next reroute commits even if nothing changed.
	y, _ := cfg.Marshal()
	return y
}

// rerouting reports whether commits go through the reroute service.
func (o *Orchestrator) rerouting() bool { return o.svc != nil && o.o.svc.reroute }

// snapshot resolves chassis-wide interface names in the boxes a compile
// was given (sorted by module, as inventory.List returns them), so that a
// compile reads the inventory once and its goals depend on those boxes
// only: what Prepared checks again before it commits.
type snapshot []inventory.Box

// ResolveInterface implements goal.Resolver, with the errors of
// inventory.Inventory.Resolve.
func (s snapshot) ResolveInterface(name string) (string, uint32, error) {
	module, port, err := inventory.ParseInterface(name)
	if err != nil {
		return "", 0, fmt.Errorf("orchestrator: %w: %w", goal.ErrInvalid, err)
	}
	i, found := slices.BinarySearchFunc(s, module, func(b inventory.Box, m uint32) int { return cmp.Compare(b.Module, m) })
	if !found {
		return "", 0, fmt.Errorf("orchestrator: %w: interface %q: no box holds module %d: %w", goal.ErrInvalid, name, module, inventory.ErrUnknownModule)
	}
	b := s[i]
	if _, ok := b.Port(port); !ok {
		return "", 0, fmt.Errorf("orchestrator: %w: interface %q: box %s (module %d) has no port %d: %w",
			goal.ErrInvalid, name, b.Serial, module, port, inventory.ErrUnknownPort)
	}
	return b.Serial, port, nil
}
