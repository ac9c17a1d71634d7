package txn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/emulated"
	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// probe is a Device whose gRPC connections record the operation ID of every
// request.
type probe struct {
	c  *client.Client
	g  *gnmi.Client
	mu sync.Mutex
	// ops maps each RPC method to the operation IDs it carried ("" for
	// none).
	ops map[string][]string
}

func (p *probe) P4Runtime() (*client.Client, error) { return p.c, nil }
func (p *probe) GNMI() (*gnmi.Client, error)        { return p.g, nil }
func (p *probe) PackagePipeconf(_ context.Context, pc *pipeline.Pipeconf) ([]byte, error) {
	return emulated.Package(driver.Spec{}, pc)
}

func (p *probe) record(ctx context.Context, method string) {
	if strings.HasSuffix(method, "/StreamChannel") {
		return // arbitration, not an operation
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops[method] = append(p.ops[method], strings.Join(md.Get(txn.MetadataKey), ","))
}

func (p *probe) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			p.record(ctx, method)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			p.record(ctx, method)
			return streamer(ctx, desc, cc, method, opts...)
		}),
	}
}

// dialProbe connects a probe to box's switch with election ID id; the
// connections close when the test ends.
func dialProbe(t *testing.T, b *txntest.Bed, box string, id client.ElectionID) *probe {
	t.Helper()
	sw := b.TB.Switch(box)
	p := &probe{ops: map[string][]string{}}
	var err error
	p.c, err = client.Dial(txntest.Ctx(t), sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()),
		client.WithElectionID(id), client.WithDialOptions(p.dialOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.c.Close() })
	p.g, err = gnmi.Dial(sw.Addr(), gnmi.WithInsecure(), gnmi.WithDialOptions(p.dialOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.g.Close() })
	return p
}

// TestOperationID: every request of a commit carries its ID in gRPC
// metadata, and every log line its "op".
func TestOperationID(t *testing.T) {
	b := txntest.StartBed(t, 1)
	ctx := txntest.Ctx(t)
	box := txntest.BoxName(1)
	p := dialProbe(t, b, box, client.ElectionID{Low: 5})
	var logs bytes.Buffer
	c, err := txn.New(b.Store, txn.DeviceMap{box: p}, txn.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Commit(ctx, b.Compile(t, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range []string{"/p4.v1.P4Runtime/Write", "/p4.v1.P4Runtime/SetForwardingPipelineConfig", "/gnmi.gNMI/Set"} {
		if len(p.ops[m]) == 0 {
			t.Errorf("no %s sent", m)
		}
	}
	for m, ids := range p.ops {
		for _, id := range ids {
			if id != res.ID {
				t.Errorf("%s carried operation ID %q, want %q", m, id, res.ID)
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("only %d log lines", len(lines))
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["op"] != res.ID {
			t.Errorf("log line without op %s: %s", res.ID, l)
		}
	}
}
