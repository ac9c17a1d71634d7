package driver

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/pipeline"
)

// SetPipeconf packages pc for dev (PackagePipeconf) and pushes it over
// dev's P4Runtime client with VERIFY_AND_COMMIT, with a cookie hashing
// the P4Info and the packaged config (Cookie). The client must be primary.
func SetPipeconf(ctx context.Context, dev Device, pc *pipeline.Pipeconf) error {
	if dev == nil || pc == nil || pc.Schema == nil {
		return errors.New("driver: set pipeconf: nil device, pipeconf or schema")
	}
	p4, err := dev.P4Runtime()
	if err != nil {
		return fmt.Errorf("driver: set pipeconf %q: %w", pc.ID, err)
	}
	cfg, err := dev.PackagePipeconf(ctx, pc)
	if err != nil {
		return fmt.Errorf("driver: set pipeconf %q: %w", pc.ID, err)
	}
	err = p4.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, Cookie(pc, cfg))
	if err != nil {
		return fmt.Errorf("driver: set pipeconf %q: %w", pc.ID, err)
	}
	return nil
}

// Cookie identifies a pipeconf as packaged for a device: an FNV-64a hash
// of its P4Info and the device config, built as pipeline.Pipeconf.Cookie
// builds it, so both agree when the device config is a target's.
func Cookie(pc *pipeline.Pipeconf, deviceConfig []byte) uint64 {
	h := fnv.New64a()
	if pc != nil && pc.Schema != nil {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(pc.Schema.P4Info())
		h.Write(b)
	}
	h.Write([]byte{0})
	h.Write(deviceConfig)
	return h.Sum64()
}
