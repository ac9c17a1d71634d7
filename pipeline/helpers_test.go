package pipeline_test

import (
	"context"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

func basicPipeconf(t testing.TB) *pipeline.Pipeconf {
	t.Helper()
	pc, err := builtin.Get("onos-basic")
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func newPipeliner(t testing.TB) pipeline.Pipeliner {
	t.Helper()
	p, err := basicPipeconf(t).Pipeliner()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t *testing.T) context.Context { return pipelinetest.Context(t) }

// startSwitch starts an emulated switch with the pipeconf's P4Info and
// returns a primary client.
func startSwitch(t *testing.T, pc *pipeline.Pipeconf) *client.Client {
	t.Helper()
	cfg, err := pc.ForwardingPipelineConfig(pipeline.TargetEmulated)
	if err != nil {
		t.Fatal(err)
	}
	return pipelinetest.Start(t, cfg.GetP4Info(), cfg.GetP4DeviceConfig(), cfg.GetCookie().GetCookie())
}

func readAll(t *testing.T, c *client.Client) []*p4v1.Entity { return pipelinetest.ReadAll(t, c) }

func sameSet(t *testing.T, s *schema.Schema, got, want []*p4v1.Entity) {
	t.Helper()
	pipelinetest.SameSet(t, s, got, want)
}
