package gnmi_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

func fuzzServer(t testing.TB) *gnmisrv.Server {
	srv, err := gnmisrv.New(gnmisrv.WithName("f1"), gnmisrv.WithPorts(3), gnmisrv.WithMinSampleInterval(time.Millisecond),
		gnmisrv.WithCounters(func(p uint32) gnmisrv.Counters { return gnmisrv.Counters{InPkts: uint64(p)} }))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// path parses a path written in a test.
func path(s string) *gpb.Path {
	p, err := gnmiclient.ParsePath(s)
	if err != nil {
		panic(err) // test code: a typo in a literal
	}
	return p
}

func jsonVal(s string) *gpb.TypedValue {
	return &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(s)}}
}

// FuzzSet feeds arbitrary SetRequests to the server: it never panics, it
// answers with one of the codes Set documents, a refused request changes
// nothing, and an accepted one reports every operation.
func FuzzSet(f *testing.F) {
	seeds := []*gpb.SetRequest{
		{Update: []*gpb.Update{{Path: path("/interfaces/interface[name=eth1]/config/enabled"), Val: jsonVal("false")}}},
		{Replace: []*gpb.Update{{Path: path("/system/ntp"), Val: jsonVal(`{"config":{"enabled":true},"servers":{"server":[{"address":"10.0.0.1","config":{"port":123}}]}}`)}}},
		{Delete: []*gpb.Path{path("/interfaces/interface[name=*]/config/description"), path("/system/.../port")}},
		{Prefix: path("/interfaces"), Update: []*gpb.Update{{Path: path("interface[name=eth2]/config/mtu"), Val: &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: 9000}}}}},
		{Update: []*gpb.Update{{Path: path("/"), Val: jsonVal(`{"openconfig-system:system":{"config":{"hostname":"h"}}}`)}}},
		{Update: []*gpb.Update{{Path: path("/interfaces/interface[name=eth1]/state/mtu"), Val: jsonVal("1")}}},
		{UnionReplace: []*gpb.Update{{Path: path("/")}}},
	}
	for _, s := range seeds {
		f.Add(mustMarshal(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req gpb.SetRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		srv := fuzzServer(t)
		before := srv.Config()
		resp, err := srv.Set(context.Background(), &req)
		if err != nil {
			switch status.Code(err) {
			case codes.InvalidArgument, codes.NotFound, codes.Unimplemented:
			default:
				t.Fatalf("Set(%v): unexpected code: %v", &req, err)
			}
			if after := srv.Config(); !reflect.DeepEqual(after, before) {
				t.Fatalf("refused Set(%v) changed the configuration: %v", &req, err)
			}
			return
		}
		if n := len(req.GetDelete()) + len(req.GetReplace()) + len(req.GetUpdate()); len(resp.GetResponse()) != n {
			t.Fatalf("Set(%v): %d results for %d operations", &req, len(resp.GetResponse()), n)
		}
	})
}

// FuzzGet feeds arbitrary GetRequests to the server.
func FuzzGet(f *testing.F) {
	for _, s := range []*gpb.GetRequest{
		{Path: []*gpb.Path{path("/")}},
		{Path: []*gpb.Path{path("/interfaces/interface[name=*]/state/counters")}, Encoding: gpb.Encoding_JSON_IETF},
		{Prefix: path("/system"), Path: []*gpb.Path{path("ntp")}, Type: gpb.GetRequest_CONFIG, Encoding: gpb.Encoding_PROTO},
		{Path: []*gpb.Path{path("/.../oper-status")}, UseModels: []*gpb.ModelData{{Name: "openconfig-interfaces"}}},
	} {
		f.Add(mustMarshal(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req gpb.GetRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		resp, err := fuzzServer(t).Get(context.Background(), &req)
		if err == nil && len(resp.GetNotification()) != len(req.GetPath()) {
			t.Fatalf("Get(%v): %d notifications for %d paths", &req, len(resp.GetNotification()), len(req.GetPath()))
		}
	})
}

// fakeStream is a Subscribe stream in memory: it delivers reqs, then
// blocks; it ends the RPC (cancels its context) after the first sync
// response, or after a few dozen responses.
type fakeStream struct {
	grpc.ServerStream
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	reqs  []*gpb.SubscribeRequest
	sent  int
	syncs int
}

func (s *fakeStream) Context() context.Context { return s.ctx }

func (s *fakeStream) Send(r *gpb.SubscribeResponse) error {
	if err := proto.Unmarshal(mustBytes(r), new(gpb.SubscribeResponse)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	if r.GetSyncResponse() {
		s.syncs++
	}
	if s.syncs >= 2 || s.sent > 50 {
		s.cancel()
	}
	if err := s.ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	return nil
}

func mustBytes(m proto.Message) []byte {
	b, _ := proto.Marshal(m)
	return b
}

func (s *fakeStream) Recv() (*gpb.SubscribeRequest, error) {
	s.mu.Lock()
	if len(s.reqs) > 0 {
		r := s.reqs[0]
		s.reqs = s.reqs[1:]
		s.mu.Unlock()
		return r, nil
	}
	s.mu.Unlock()
	<-s.ctx.Done()
	return nil, status.FromContextError(s.ctx.Err()).Err()
}

// FuzzSubscribe feeds an arbitrary first SubscribeRequest (and a poll) to
// the Subscribe handler: it never panics, returns within its bound, and
// refuses bad requests with the documented codes.
func FuzzSubscribe(f *testing.F) {
	seeds := []*gpb.SubscribeRequest{}
	for _, r := range []gnmiclient.SubscribeRequest{
		{Mode: gnmiclient.Once, Subscriptions: []gnmiclient.Subscription{{Path: "/interfaces"}}},
		{Mode: gnmiclient.Poll, Encoding: gpb.Encoding_PROTO, Subscriptions: []gnmiclient.Subscription{{Path: "/system"}}},
		{Subscriptions: []gnmiclient.Subscription{{Path: "/interfaces/interface/state/counters", Mode: gnmiclient.Sample, SampleInterval: time.Millisecond, SuppressRedundant: true, Heartbeat: 5 * time.Millisecond}}},
		{UpdatesOnly: true, Subscriptions: []gnmiclient.Subscription{{Path: "/messages", Mode: gnmiclient.OnChange}}},
		{Prefix: "/interfaces", Subscriptions: []gnmiclient.Subscription{{Path: "interface[name=eth1]", Mode: gnmiclient.TargetDefined}}},
	} {
		p, err := r.Proto("t")
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, p)
	}
	seeds = append(seeds, &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}})
	for _, s := range seeds {
		f.Add(mustMarshal(f, s))
	}
	poll := &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req gpb.SubscribeRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st := &fakeStream{ctx: ctx, cancel: cancel, reqs: []*gpb.SubscribeRequest{&req, poll}}
		done := make(chan error, 1)
		go func() { done <- fuzzServer(t).Subscribe(st) }()
		select {
		case err := <-done:
			switch status.Code(err) {
			case codes.OK, codes.Canceled, codes.InvalidArgument, codes.Unimplemented:
			default:
				t.Fatalf("Subscribe(%v): %v", &req, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Subscribe(%v) did not return", &req)
		}
	})
}
