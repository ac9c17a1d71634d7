package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/p4/client"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestWriteEncodedEntities: entities sent from their encodings reach the
// switch as written; batches split as usual; a failed update is reported
// at its index, whether its entity was sent encoded or not.
func TestWriteEncodedEntities(t *testing.T) {
	ctx := testCtx(t)
	// Count the Writes that leave as messages and those already encoded.
	var messages, encoded atomic.Int32
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == p4v1.P4Runtime_Write_FullMethodName {
			if _, ok := req.(*p4v1.WriteRequest); ok {
				messages.Add(1)
			} else {
				encoded.Add(1)
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	c := benchClient(t, benchSwitch(t), client.WithDialOptions(grpc.WithUnaryInterceptor(count)))
	var err error
	const n = 250
	ups := p4bench.Inserts(n)
	enc := map[*p4v1.Entity][]byte{}
	for i, u := range ups {
		if i%3 == 2 {
			continue // some without an encoding
		}
		if enc[u.Entity], err = proto.Marshal(u.Entity); err != nil {
			t.Fatal(err)
		}
	}
	lookup := client.WithEncodedEntities(func(e *p4v1.Entity) []byte { return enc[e] })
	if err := c.Write(ctx, ups, lookup, client.WithBatchSize(64)); err != nil {
		t.Fatal(err)
	}
	got := readEntries(t, ctx, c, n)
	if m, e := messages.Load(), encoded.Load(); m != 0 || e != (n+63)/64 {
		t.Errorf("%d writes as messages, %d encoded; want 0 and %d", m, e, (n+63)/64)
	}
	byKey := map[string]bool{}
	for _, e := range got {
		b, _ := proto.Marshal(e.GetTableEntry().GetMatch()[0])
		byKey[string(b)] = true
	}
	for i, u := range ups {
		b, _ := proto.Marshal(u.Entity.GetTableEntry().GetMatch()[0])
		if !byKey[string(b)] {
			t.Fatalf("entry %d not on the switch", i)
		}
	}

	// Two inserts again, one encoded (index 0) and one not (index 2),
	// around a new entry: both fail as duplicates, at their index.
	again := []*p4v1.Update{ups[0], p4bench.Inserts(n + 1)[n], ups[2]}
	err = c.Write(ctx, again, lookup)
	var werr *client.WriteError
	if !errors.As(err, &werr) || len(werr.Updates) != 2 {
		t.Fatalf("write of duplicates = %v, want a *WriteError for 2 updates", err)
	}
	for i, want := range []int{0, 2} {
		if u := werr.Updates[i]; u.Index != want || u.Code != codes.AlreadyExists {
			t.Errorf("failed update %d: index %d code %v, want %d AlreadyExists", i, u.Index, u.Code, want)
		}
	}
}
