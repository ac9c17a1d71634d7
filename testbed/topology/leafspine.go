package topology

import (
	"fmt"
	"math"
)

// LeafSpineOption configures LeafSpine.
type LeafSpineOption func(*leafSpineConfig)

type leafSpineConfig struct {
	hostPorts uint32
	tls       bool
	name      string
}

// WithHostPorts gives every leaf n host-facing ports after its uplinks. The
// default is 0: leaves have uplinks only.
func WithHostPorts(n uint32) LeafSpineOption {
	return func(c *leafSpineConfig) { c.hostPorts = n }
}

// WithGeneratedTLS makes every switch serve TLS with a certificate from the
// testbed's in-memory CA (tls: {generate: true}).
func WithGeneratedTLS() LeafSpineOption {
	return func(c *leafSpineConfig) { c.tls = true }
}

// WithName names the topology. The default is "leafspine".
func WithName(name string) LeafSpineOption {
	return func(c *leafSpineConfig) { c.name = name }
}

// LeafSpine returns a two-tier leaf-spine topology with every leaf linked to
// every spine.
//
// The switches are spine1..spineS followed by leaf1..leafL, with device IDs
// 1..S+L in that order, and defaults filled as by SetDefaults.
//
// Port numbering: port i of a leaf (1 ≤ i ≤ S) is its uplink to spine i, and
// port j of a spine (1 ≤ j ≤ L) is its downlink to leaf j:
//
//	leaf j, port i  <->  spine i, port j
//
// A spine has L ports. A leaf has S uplinks followed by the host ports set
// with WithHostPorts, numbered S+1..S+hostPorts. Links are listed leaf by
// leaf, then spine by spine.
//
// Negative counts are taken as 0. The result passes Validate when spines and
// leaves are between 1 and MaxPorts and spines plus host ports is at most
// MaxPorts.
func LeafSpine(spines, leaves int, opts ...LeafSpineOption) *Topology {
	cfg := leafSpineConfig{name: "leafspine"}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	spines, leaves = max(spines, 0), max(leaves, 0)

	t := &Topology{Name: cfg.name, Switches: make([]Switch, 0, spines+leaves)}
	newSwitch := func(name string, ports uint32) Switch {
		s := Switch{Name: name, Ports: ports}
		if cfg.tls {
			s.TLS = &TLS{Generate: true}
		}
		return s
	}
	for i := 1; i <= spines; i++ {
		t.Switches = append(t.Switches, newSwitch(spineName(i), portCount(leaves, 0)))
	}
	for j := 1; j <= leaves; j++ {
		t.Switches = append(t.Switches, newSwitch(leafName(j), portCount(spines, cfg.hostPorts)))
	}
	if spines > 0 && leaves > 0 {
		t.Links = make([]Link, 0, spines*leaves)
	}
	for j := 1; j <= leaves; j++ {
		for i := 1; i <= spines; i++ {
			t.Links = append(t.Links, Link{
				A: Endpoint{Switch: leafName(j), Port: uint32(i)},
				B: Endpoint{Switch: spineName(i), Port: uint32(j)},
			})
		}
	}
	t.SetDefaults()
	return t
}

func spineName(i int) string { return fmt.Sprintf("spine%d", i) }
func leafName(j int) string  { return fmt.Sprintf("leaf%d", j) }

// portCount returns n+extra ports, saturated at the largest uint32 so that
// absurd counts fail Validate instead of wrapping around.
func portCount(n int, extra uint32) uint32 {
	total := uint64(extra) + uint64(n)
	if total > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(total)
}
