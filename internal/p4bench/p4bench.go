// Package p4bench holds the baselines Fabric's P4Runtime benchmarks measure
// against: route entries for the hand-written "bench" P4Info built as raw
// protobuf, a raw gRPC writer with a bounded number of writes in flight, and
// a bare P4Runtime server that only decodes each write and stores its
// entries in a map (the ceiling a real server can approach on a machine).
package p4bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// IDs of the "bench" P4Info (internal/p4infos/bench).
const (
	RoutesTableID   = 33554433 // ingress.routing.routes_v4
	DstAddrFieldID  = 1        // hdr.ipv4.dst_addr, bit<32>, LPM
	SetNexthopID    = 16777217 // ingress.routing.set_nexthop(port bit<9>, dmac bit<48>)
	PortParamID     = 1
	DmacParamID     = 2
	RoutePrefixLen  = 24
	RouteTableName  = "ingress.routing.routes_v4"
	RouteActionName = "ingress.routing.set_nexthop"
)

// RouteAddr is the destination of route i: 10.0.0.0/24 shifted by i
// subnets, unique for i < 2^24.
func RouteAddr(i int) [4]byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(10)<<24+uint32(i)<<8)
	return b
}

// RouteEntry is route i built by hand as raw protobuf, with canonical
// bytestrings: dst RouteAddr(i)/24 → set_nexthop(port 1 + i%8, dmac
// 00:00:00:00:00:01).
func RouteEntry(i int) *p4v1.TableEntry {
	addr := RouteAddr(i)
	value := addr[:]
	for len(value) > 1 && value[0] == 0 {
		value = value[1:]
	}
	return &p4v1.TableEntry{
		TableId: RoutesTableID,
		Match: []*p4v1.FieldMatch{{
			FieldId:        DstAddrFieldID,
			FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: value, PrefixLen: RoutePrefixLen}},
		}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{
			ActionId: SetNexthopID,
			Params: []*p4v1.Action_Param{
				{ParamId: PortParamID, Value: []byte{byte(1 + i%8)}},
				{ParamId: DmacParamID, Value: []byte{1}},
			},
		}}},
	}
}

// Inserts returns n insert updates of RouteEntry(0..n-1).
func Inserts(n int) []*p4v1.Update {
	ups := make([]*p4v1.Update, n)
	for i := range ups {
		ups[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: RouteEntry(i)}}}
	}
	return ups
}

// Requests splits updates into WriteRequests of at most batch updates.
func Requests(deviceID uint64, election *p4v1.Uint128, updates []*p4v1.Update, batch int) []*p4v1.WriteRequest {
	var reqs []*p4v1.WriteRequest
	for len(updates) > 0 {
		n := min(batch, len(updates))
		reqs = append(reqs, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: election, Updates: updates[:n]})
		updates = updates[n:]
	}
	return reqs
}

// Send writes the requests in order of issue with at most inFlight of them
// outstanding, as a plain gRPC client would, and returns the first error.
func Send(ctx context.Context, c p4v1.P4RuntimeClient, reqs []*p4v1.WriteRequest, inFlight int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(inFlight, 1))
	for _, r := range reqs {
		g.Go(func() error {
			_, err := c.Write(ctx, r)
			return err
		})
	}
	return g.Wait()
}

// BareServer is a P4Runtime server that does the least a server can: decode
// each Write and store every table entry in a map keyed by its marshalled
// match. It answers arbitration with "primary" and nothing else. Its
// entries/s is the ceiling for a real server on the same machine.
type BareServer struct {
	p4v1.UnimplementedP4RuntimeServer
	mu      sync.Mutex
	entries map[string]*p4v1.TableEntry
}

// NewBareServer returns an empty bare server.
func NewBareServer() *BareServer { return &BareServer{entries: map[string]*p4v1.TableEntry{}} }

// Register registers the server on g.
func (s *BareServer) Register(g *grpc.Server) { p4v1.RegisterP4RuntimeServer(g, s) }

// Len returns the number of stored entries.
func (s *BareServer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Write stores every table entry of the request.
func (s *BareServer) Write(_ context.Context, req *p4v1.WriteRequest) (*p4v1.WriteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var key []byte
	for _, u := range req.GetUpdates() {
		te := u.GetEntity().GetTableEntry()
		if te == nil {
			continue
		}
		key = key[:0]
		for _, m := range te.GetMatch() {
			var err error
			key, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(key, m)
			if err != nil {
				return nil, fmt.Errorf("bare server: %w", err)
			}
		}
		s.entries[string(key)] = te
	}
	return &p4v1.WriteResponse{}, nil
}

// StreamChannel answers every arbitration as primary.
func (s *BareServer) StreamChannel(stream p4v1.P4Runtime_StreamChannelServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		if a := req.GetArbitration(); a != nil {
			if err := stream.Send(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{Arbitration: a}}); err != nil {
				return nil
			}
		}
	}
}
