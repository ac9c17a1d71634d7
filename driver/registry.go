package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Registry maps driver names to drivers. The zero Registry is empty and
// ready to use; it is safe for concurrent use. Package driver/builtin
// registers the built-in drivers and package driver/plugin the drivers
// found in a plugin directory: nothing registers itself.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Driver
}

// NewRegistry returns a registry holding drivers.
func NewRegistry(drivers ...Driver) (*Registry, error) {
	r := &Registry{}
	for _, d := range drivers {
		if err := r.Register(d); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a driver under its Name, which must be new and non-empty.
func (r *Registry) Register(d Driver) error {
	if d == nil {
		return errors.New("driver: register a nil driver")
	}
	name := d.Name()
	if name == "" {
		return fmt.Errorf("driver: register a driver (%T) without a name", d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		return fmt.Errorf("driver: driver %q is already registered", name)
	}
	if r.m == nil {
		r.m = map[string]Driver{}
	}
	r.m[name] = d
	return nil
}

// Get returns the driver named name, or an error wrapping ErrUnknownDriver
// that lists the drivers there are.
func (r *Registry) Get(name string) (Driver, error) {
	r.mu.RLock()
	d, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("driver: %w %q (have %s)", ErrUnknownDriver, name, strings.Join(r.Names(), ", "))
	}
	return d, nil
}

// Names returns the names of the registered drivers, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Open opens spec with the driver named spec.Driver.
func (r *Registry) Open(ctx context.Context, spec Spec) (Device, error) {
	d, err := r.Get(spec.Driver)
	if err != nil {
		return nil, fmt.Errorf("open device %q: %w", spec.Name, err)
	}
	return d.Open(ctx, spec)
}
