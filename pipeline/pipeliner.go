package pipeline

import (
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline/objective"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Pipeliner translates forwarding objectives into the entities of one P4
// program. It is a pure function of the objective and the device options it
// was built with: it keeps no state, so the same objective always gives the
// same entities, and entities shared by several objectives (a next hop used
// by two routes) come out identical from each of them. State (which
// objectives are installed, which shared entities have users) is kept by
// State.
type Pipeliner interface {
	// Program names the program the pipeliner writes for (the pipeconf ID,
	// e.g. "onos-basic", "fabric-v1model", "sai-middleblock").
	Program() string
	// Translate returns the entities that realise o, in dependency order:
	// every entity comes after the entities it refers to (action profile
	// members before groups before table entries that use them, router
	// interfaces before neighbors before next hops before routes). An
	// objective the program cannot express is an *objective.UnsupportedError
	// naming the objective and the program; never a partial result.
	Translate(o objective.Objective) ([]*p4v1.Entity, error)
	// Rank orders entities of this program for writing: entities of lower
	// rank are inserted first and deleted last. Entities another entity
	// refers to must rank lower than it.
	Rank(e *p4v1.Entity) int
	// Supports reports whether the program can express objectives of a
	// kind at all (the support matrix); Translate may still refuse one
	// objective of a supported kind (e.g. an IPv6 route on an IPv4-only
	// program) with an *objective.UnsupportedError.
	Supports(k objective.Kind) bool
}

// DeviceOptions are the facts about a device that a pipeliner needs beyond
// the P4Info.
type DeviceOptions struct {
	// CPUPort is the data-plane port of the controller on v1model targets
	// (bmv2 uses 255 for ONOS basic and fabric.p4; see each pipeconf's
	// provenance). SAI-P4 punts through its own actions and ignores it.
	CPUPort uint32
}

// NewPipeliner builds a pipeliner for a schema of its program.
type NewPipeliner func(s *schema.Schema, opts DeviceOptions) (Pipeliner, error)
