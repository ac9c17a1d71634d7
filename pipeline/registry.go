package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownPipeconf is wrapped by Registry.Get for an ID it does not
// hold.
var ErrUnknownPipeconf = errors.New("unknown pipeconf")

// Registry holds pipeconfs by ID. The zero Registry is empty and ready to
// use; it is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]*Pipeconf
}

// NewRegistry returns a registry holding pcs.
func NewRegistry(pcs ...*Pipeconf) (*Registry, error) {
	r := &Registry{}
	for _, p := range pcs {
		if err := r.Register(p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a pipeconf. It needs an ID and a schema, and its ID must
// be new.
func (r *Registry) Register(p *Pipeconf) error {
	switch {
	case p == nil:
		return errors.New("pipeline: register a nil pipeconf")
	case p.ID == "":
		return errors.New("pipeline: register a pipeconf without an ID")
	case p.Schema == nil:
		return fmt.Errorf("pipeline: register pipeconf %q without a schema", p.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[p.ID]; dup {
		return fmt.Errorf("pipeline: pipeconf %q is already registered", p.ID)
	}
	if r.m == nil {
		r.m = map[string]*Pipeconf{}
	}
	r.m[p.ID] = p
	return nil
}

// Get returns the pipeconf with that ID, or an error wrapping
// ErrUnknownPipeconf that lists the IDs there are.
func (r *Registry) Get(id string) (*Pipeconf, error) {
	r.mu.RLock()
	p, ok := r.m[id]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("pipeline: %w %q (have %s)", ErrUnknownPipeconf, id, strings.Join(r.IDs(), ", "))
	}
	return p, nil
}

// IDs returns the IDs of the pipeconfs, sorted.
func (r *Registry) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for id := range r.m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// All returns the pipeconfs, sorted by ID.
func (r *Registry) All() []*Pipeconf {
	ids := r.IDs()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Pipeconf, 0, len(ids))
	for _, id := range ids {
		if p, ok := r.m[id]; ok {
			out = append(out, p)
		}
	}
	return out
}
