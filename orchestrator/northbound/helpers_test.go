package northbound_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

const (
	adminToken = "admin-secret"
	readToken  = "read-secret"
)

func testCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// env is an orchestrator on a bolt store, served over TLS with tokens on a
// loopback port, and the CA that signed the server's certificate.
type env struct {
	o     *orchestrator.Orchestrator
	st    store.Store
	dir   string
	srv   *northbound.Server
	addr  string
	ca    *certs.CA
	tb    *testbed.Testbed // nil without boxes
	close func()
}

// newEnv starts an orchestrator (and, with bed, a LeafSpine(2,2) testbed).
func newEnv(t testing.TB, bed bool, opts ...orchestrator.Option) *env {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	e := &env{dir: t.TempDir()}
	if bed {
		tb, err := testbed.Start(topology.LeafSpine(2, 2))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tb.Close() })
		e.tb = tb
	}
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(ctx, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	opts = append([]orchestrator.Option{orchestrator.WithReconcileInterval(time.Hour), orchestrator.WithBoxTimeout(10 * time.Second)}, opts...)
	o, err := orchestrator.New(ctx, st, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	e.o = o
	if e.ca, err = certs.NewCA(); err != nil {
		t.Fatal(err)
	}
	e.srv, e.addr = e.serve(t)
	return e
}

// serve starts a new northbound server of the env's orchestrator.
func (e *env) serve(t testing.TB, opts ...northbound.Option) (*northbound.Server, string) {
	t.Helper()
	cert, err := e.ca.Issue("fabricd")
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]northbound.Option{northbound.WithTokens(northbound.Tokens{Admin: []string{adminToken}, ReadOnly: []string{readToken}})}, opts...)
	srv, err := northbound.NewServer(e.o, opts...)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(append(srv.ServerOptions(), grpc.Creds(credentials.NewTLS(certs.ServerConfig(cert, nil))))...)
	srv.Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(func() {
		_ = srv.Close()
		gs.Stop()
	})
	return srv, lis.Addr().String()
}

// client dials addr over TLS with token (none when empty).
func (e *env) client(t testing.TB, addr, token string) *northbound.Client {
	t.Helper()
	opts := []northbound.DialOption{northbound.WithTLS(certs.ClientConfig(e.ca.Pool(), nil))}
	if token != "" {
		opts = append(opts, northbound.WithToken(token))
	}
	c, err := northbound.Dial(testCtx(t, 5*time.Second), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// role is the role of a LeafSpine switch: spines are fabric boxes.
func role(sw *testbed.Switch) inventory.Role {
	if strings.HasPrefix(sw.Name(), "spine") {
		return inventory.RoleFabric
	}
	return inventory.RoleForwarder
}

// registerAll registers the testbed's switches over the API: modules 1..4.
func (e *env) registerAll(t testing.TB, c *northbound.Client) []*nbpb.Box {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	var boxes []*nbpb.Box
	for i, sw := range e.tb.Switches() {
		box, err := c.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: sw.Name(), Driver: builtin.Emulated,
			Address: sw.Addr(), Role: string(role(sw)), DeviceId: sw.DeviceID(), Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		if box.Module != uint32(i+1) || box.Serial != sw.Identity().Serial {
			t.Fatalf("switch %s registered as module %d serial %s, want module %d serial %s", sw.Name(), box.Module, box.Serial, i+1, sw.Identity().Serial)
		}
		boxes = append(boxes, box)
	}
	return boxes
}

// config is version v of the chassis (as orchestrator/helpers_test.go's):
// spines run onos-basic, leaves fabric-v1model, with routes per module
// that move with v; routes adds that many more routes per module.
func config(v, routes int) []byte {
	var s strings.Builder
	s.WriteString("version: 1\nroles:\n  fabric: {pipeconf: onos-basic}\n")
	s.WriteString("  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n")
	s.WriteString("      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\ninterfaces:\n")
	for m := 1; m <= 4; m++ {
		fmt.Fprintf(&s, "  eth-%d/0/1: {description: \"v%d\"}\n", m, v)
	}
	s.WriteString("modules:\n")
	for m := 1; m <= 4; m++ {
		fmt.Fprintf(&s, "  \"%d\":\n    objectives:\n", m)
		for r := range 3 + routes {
			if m <= 2 { // spine: basic.p4 forwards unchanged
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.%d/32, next_hop: {id: nh%d, port: %d}}\n", v, r/256, r%256, r%2, 1+(r+v)%2)
			} else {
				fmt.Fprintf(&s, "      - route: {prefix: 10.%d.%d.%d/32, next_hop: {id: nh%d, port: %d, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:00:%02x\"}}\n",
					v, r/256, r%256, r%2, 1+(r+v)%2, m)
			}
		}
	}
	return []byte(s.String())
}

// watch follows operation id until it ends and returns its final state
// and every state seen.
func watch(t testing.TB, ctx context.Context, c *northbound.Client, id string) (*nbpb.Operation, []*nbpb.Operation) {
	t.Helper()
	st, err := c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*nbpb.Operation
	for {
		op, err := st.Recv()
		if err != nil {
			if len(seen) > 0 && errors.Is(err, io.EOF) {
				return seen[len(seen)-1], seen
			}
			t.Fatalf("watch %s: %v (after %d states)", id, err, len(seen))
		}
		seen = append(seen, op)
	}
}

// metadataCtx is a context whose calls carry "authorization: header".
func metadataCtx(t testing.TB, header string) context.Context {
	t.Helper()
	return metadata.AppendToOutgoingContext(testCtx(t, 10*time.Second), "authorization", header)
}
