// Package builtin holds the pipeconfs Fabric ships, embedded with their
// provenance and license files (copied unmodified from the upstream
// projects, see each folder's PROVENANCE.md; the P4 sources are not
// embedded), each with its pipeliner:
//
//   - "onos-basic" — ONOS's basic.p4 (v1model): P4Info, bmv2 JSON; CPU
//     port 255 (compiled in); pipeliner package pipeline/basic.
//   - "fabric-v1model" — ONOS's fabric.p4 leaf-spine pipeline (v1model,
//     default profile): P4Info, bmv2 JSON, cpu_port.txt (255); pipeliner
//     package pipeline/fabric.
//   - "sai-middleblock" — the SAI-P4 model of PINS (middleblock role):
//     P4Info only. No bmv2 JSON exists for it (sonic-pins generates one at
//     build time and publishes none), so its only device config is the
//     emulated switch's; it runs on the testbed and on Stratum-style
//     targets that take the P4Info alone. Pipeliner package pipeline/sai.
//
// Registry returns them by ID:
//
//	reg, err := builtin.Registry()
//	pc, err := reg.Get("onos-basic")
//	pl, err := pc.Pipeliner()
package builtin

import (
	"embed"
	"fmt"
	"sync"

	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
	"github.com/p4fabric/fabric/pipeline/fabric"
	"github.com/p4fabric/fabric/pipeline/sai"
)

// IDs of the built-in pipeconfs.
const (
	ONOSBasic      = basic.Program  // "onos-basic"
	FabricV1Model  = fabric.Program // "fabric-v1model"
	SAIMiddleblock = sai.ProgramID  // "sai-middleblock"
	basicCPUPort   = uint32(255)    // CPU_PORT of basic.p4's defines.p4 (no cpu_port.txt upstream)
	noCPUPort      = uint32(0)      // SAI-P4 punts through its own actions
)

//go:embed onos-basic fabric-v1model sai-middleblock
var files embed.FS

type entry struct {
	id   string
	ctor pipeline.NewPipeliner
	opts []pipeline.LoadOption
}

var entries = []entry{
	{ONOSBasic, basic.New, []pipeline.LoadOption{pipeline.WithDeviceOptions(pipeline.DeviceOptions{CPUPort: basicCPUPort})}},
	{FabricV1Model, fabric.New, nil},
	{SAIMiddleblock, sai.New, []pipeline.LoadOption{pipeline.WithDeviceOptions(pipeline.DeviceOptions{CPUPort: noCPUPort})}},
}

var load = sync.OnceValues(func() ([]*pipeline.Pipeconf, error) {
	out := make([]*pipeline.Pipeconf, 0, len(entries))
	for _, e := range entries {
		opts := append([]pipeline.LoadOption{pipeline.WithID(e.id), pipeline.WithPipeliner(e.ctor)}, e.opts...)
		pc, err := pipeline.LoadFS(files, e.id, opts...)
		if err != nil {
			return nil, fmt.Errorf("builtin: %w", err)
		}
		out = append(out, pc)
	}
	return out, nil
})

// Registry returns a new registry holding the built-in pipeconfs, to
// which the caller may add its own. The pipeconfs are loaded once and
// shared between registries: do not modify them. The error can only come
// from a broken build.
func Registry() (*pipeline.Registry, error) {
	pcs, err := load()
	if err != nil {
		return nil, err
	}
	return pipeline.NewRegistry(pcs...)
}

// Get returns the built-in pipeconf with that ID.
func Get(id string) (*pipeline.Pipeconf, error) {
	reg, err := Registry()
	if err != nil {
		return nil, err
	}
	return reg.Get(id)
}

// IDs returns the IDs of the built-in pipeconfs, sorted.
func IDs() []string {
	reg, err := Registry()
	if err != nil {
		return nil
	}
	return reg.IDs()
}
