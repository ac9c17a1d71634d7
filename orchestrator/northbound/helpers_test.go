package northbound_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/testbed/chassistest"
)

const (
	adminToken = chassistest.AdminToken
	readToken  = chassistest.ReadToken
)

// env is an orchestrator, on a LeafSpine(2,2) chassis or on none, served
// over TLS with the fixture's tokens on a loopback port.
type env struct {
	*chassistest.Chassis
	o   *orchestrator.Orchestrator
	api *chassistest.API
}

// newEnv starts an orchestrator with opts (after the fixture's test
// defaults) and serves it; with bed, on a LeafSpine(2,2) testbed.
func newEnv(t testing.TB, bed bool, opts ...orchestrator.Option) *env {
	t.Helper()
	var copts []chassistest.Option
	if !bed {
		copts = append(copts, chassistest.WithoutSwitches())
	}
	e := &env{Chassis: chassistest.Start(t, copts...)}
	e.o = e.Open(t, opts...)
	e.api = e.Serve(t, e.o)
	return e
}

// metadataCtx is a context whose calls carry "authorization: header".
func metadataCtx(t testing.TB, header string) context.Context {
	t.Helper()
	return metadata.AppendToOutgoingContext(chassistest.Context(t, 10*time.Second), "authorization", header)
}
