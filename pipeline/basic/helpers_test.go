package basic_test

import (
	"context"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

func basicSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New(p4infos.MustInfo("onos-basic"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPipeliner(t testing.TB) pipeline.Pipeliner {
	t.Helper()
	p, err := basic.New(basicSchema(t), pipeline.DeviceOptions{CPUPort: 255})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t *testing.T) context.Context { return pipelinetest.Context(t) }

// startSwitch starts an emulated switch with basic.p4's P4Info and
// returns a primary client.
func startSwitch(t *testing.T, s *schema.Schema) *client.Client {
	t.Helper()
	return pipelinetest.Start(t, s.P4Info(), []byte("emulated"))
}

func readAll(t *testing.T, c *client.Client) []*p4v1.Entity { return pipelinetest.ReadAll(t, c) }

func sameSet(t *testing.T, s *schema.Schema, got, want []*p4v1.Entity) {
	t.Helper()
	pipelinetest.SameSet(t, s, got, want)
}
