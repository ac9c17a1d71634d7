package client

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/genproto/googleapis/rpc/code"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// testTimeout bounds every wait in the tests.
const testTimeout = 10 * time.Second

// fakeServer is a small P4Runtime server for unit tests. Its arbitration
// follows spec "Rules for Handling MasterArbitrationUpdate Messages" and
// "Client Arbitration Notifications" for one device and the default role.
type fakeServer struct {
	p4v1.UnimplementedP4RuntimeServer
	deviceID uint64

	mu       sync.Mutex
	ctrls    map[*fakeCtrl]bool
	primary  *fakeCtrl
	highest  *ElectionID
	config   *p4v1.ForwardingPipelineConfig
	writeFn  func(*p4v1.WriteRequest) error
	readFn   func(*p4v1.ReadRequest, p4v1.P4Runtime_ReadServer) error
	writes   []*p4v1.WriteRequest
	inWrite  int
	maxWrite int

	packetOuts chan *p4v1.PacketOut
	acks       chan *p4v1.DigestListAck
}

type fakeCtrl struct {
	id  *ElectionID
	out chan *p4v1.StreamMessageResponse
}

func newFakeServer(deviceID uint64) *fakeServer {
	return &fakeServer{
		deviceID:   deviceID,
		ctrls:      map[*fakeCtrl]bool{},
		packetOuts: make(chan *p4v1.PacketOut, 1024),
		acks:       make(chan *p4v1.DigestListAck, 1024),
	}
}

// serve runs f on addr ("127.0.0.1:0" for any port) and returns the
// address; the server stops at the end of the test or when stop is called.
func (f *fakeServer) serve(t *testing.T, addr string) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	gs := grpc.NewServer()
	p4v1.RegisterP4RuntimeServer(gs, f)
	go gs.Serve(lis)
	var once sync.Once
	stop := func() { once.Do(gs.Stop) }
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

func (f *fakeServer) StreamChannel(st p4v1.P4Runtime_StreamChannelServer) error {
	ctl := &fakeCtrl{out: make(chan *p4v1.StreamMessageResponse, 4096)}
	ctx := st.Context()
	go func() {
		for {
			select {
			case m := <-ctl.out:
				if st.Send(m) != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer f.remove(ctl)
	for {
		req, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch u := req.GetUpdate().(type) {
		case *p4v1.StreamMessageRequest_Arbitration:
			if err := f.arbitrate(ctl, u.Arbitration); err != nil {
				return err
			}
		case *p4v1.StreamMessageRequest_Packet:
			select {
			case f.packetOuts <- u.Packet:
			default:
			}
		case *p4v1.StreamMessageRequest_DigestAck:
			select {
			case f.acks <- u.DigestAck:
			default:
			}
		}
	}
}

func (f *fakeServer) arbitrate(ctl *fakeCtrl, a *p4v1.MasterArbitrationUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a.GetDeviceId() != f.deviceID {
		return status.Errorf(codes.NotFound, "unknown device %d", a.GetDeviceId())
	}
	id, ok := electionIDFromProto(a.GetElectionId())
	if ok {
		for other := range f.ctrls {
			if other != ctl && other.id != nil && *other.id == id {
				return status.Errorf(codes.InvalidArgument, "election ID %v in use", id)
			}
		}
	}
	f.ctrls[ctl] = true
	wasPrimary := f.primary == ctl
	if ok {
		ctl.id = &id
	} else {
		ctl.id = nil
	}
	if ok && (f.highest == nil || !id.Less(*f.highest)) {
		f.highest = &id
		f.primary = ctl
		f.notifyAllLocked()
		return nil
	}
	if wasPrimary {
		f.primary = nil
		f.notifyAllLocked()
		return nil
	}
	f.notifyLocked(ctl)
	return nil
}

func (f *fakeServer) remove(ctl *fakeCtrl) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ctrls[ctl] {
		return
	}
	delete(f.ctrls, ctl)
	if f.primary == ctl {
		f.primary = nil
		f.notifyAllLocked()
	}
}

func (f *fakeServer) notifyAllLocked() {
	for c := range f.ctrls {
		if c != f.primary {
			f.notifyLocked(c)
		}
	}
	if f.primary != nil {
		f.notifyLocked(f.primary)
	}
}

func (f *fakeServer) notifyLocked(c *fakeCtrl) {
	a := &p4v1.MasterArbitrationUpdate{DeviceId: f.deviceID, Status: &rpcstatus.Status{}}
	if f.highest != nil {
		a.ElectionId = f.highest.Proto()
	}
	switch {
	case f.primary == nil:
		a.Status.Code, a.Status.Message = int32(code.Code_NOT_FOUND), "no primary"
	case f.primary == c:
		a.Status.Code, a.Status.Message = int32(code.Code_OK), "primary"
	default:
		a.Status.Code, a.Status.Message = int32(code.Code_ALREADY_EXISTS), "backup"
	}
	f.sendLocked(c, &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{Arbitration: a}})
}

func (f *fakeServer) sendLocked(c *fakeCtrl, m *p4v1.StreamMessageResponse) {
	select {
	case c.out <- m:
	default:
	}
}

// toPrimary sends m to the primary's stream; false if there is none.
func (f *fakeServer) toPrimary(m *p4v1.StreamMessageResponse) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == nil {
		return false
	}
	f.sendLocked(f.primary, m)
	return true
}

func (f *fakeServer) isPrimaryLocked(id *p4v1.Uint128) bool {
	eid, ok := electionIDFromProto(id)
	return ok && f.primary != nil && *f.primary.id == eid
}

func (f *fakeServer) Write(ctx context.Context, req *p4v1.WriteRequest) (*p4v1.WriteResponse, error) {
	f.mu.Lock()
	if req.GetDeviceId() != f.deviceID {
		f.mu.Unlock()
		return nil, status.Error(codes.NotFound, "unknown device")
	}
	if !f.isPrimaryLocked(req.GetElectionId()) {
		f.mu.Unlock()
		return nil, status.Error(codes.PermissionDenied, "not primary")
	}
	f.writes = append(f.writes, proto.Clone(req).(*p4v1.WriteRequest))
	f.inWrite++
	if f.inWrite > f.maxWrite {
		f.maxWrite = f.inWrite
	}
	fn := f.writeFn
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inWrite--
		f.mu.Unlock()
	}()
	if fn != nil {
		if err := fn(req); err != nil {
			return nil, err
		}
	}
	return &p4v1.WriteResponse{}, nil
}

func (f *fakeServer) Read(req *p4v1.ReadRequest, st p4v1.P4Runtime_ReadServer) error {
	f.mu.Lock()
	fn := f.readFn
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(req, st)
}

func (f *fakeServer) SetForwardingPipelineConfig(ctx context.Context, req *p4v1.SetForwardingPipelineConfigRequest) (*p4v1.SetForwardingPipelineConfigResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.isPrimaryLocked(req.GetElectionId()) {
		return nil, status.Error(codes.PermissionDenied, "not primary")
	}
	switch req.GetAction() {
	case p4v1.SetForwardingPipelineConfigRequest_VERIFY:
	case p4v1.SetForwardingPipelineConfigRequest_COMMIT:
		if req.GetConfig() != nil {
			return nil, status.Error(codes.InvalidArgument, "config with COMMIT")
		}
	default:
		if req.GetConfig() == nil {
			return nil, status.Error(codes.InvalidArgument, "no config")
		}
		f.config = req.GetConfig()
	}
	return &p4v1.SetForwardingPipelineConfigResponse{}, nil
}

func (f *fakeServer) GetForwardingPipelineConfig(ctx context.Context, req *p4v1.GetForwardingPipelineConfigRequest) (*p4v1.GetForwardingPipelineConfigResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.config == nil {
		return &p4v1.GetForwardingPipelineConfigResponse{}, nil
	}
	cfg := &p4v1.ForwardingPipelineConfig{Cookie: f.config.GetCookie()}
	switch req.GetResponseType() {
	case p4v1.GetForwardingPipelineConfigRequest_ALL:
		cfg.P4Info, cfg.P4DeviceConfig = f.config.GetP4Info(), f.config.GetP4DeviceConfig()
	case p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE:
		cfg.P4Info = f.config.GetP4Info()
	case p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE:
		cfg.P4DeviceConfig = f.config.GetP4DeviceConfig()
	}
	return &p4v1.GetForwardingPipelineConfigResponse{Config: cfg}, nil
}

func (f *fakeServer) Capabilities(context.Context, *p4v1.CapabilitiesRequest) (*p4v1.CapabilitiesResponse, error) {
	return &p4v1.CapabilitiesResponse{P4RuntimeApiVersion: "1.5.0"}, nil
}

// dialFake connects a client to addr and waits for its arbitration.
func dialFake(t *testing.T, addr string, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	opts = append([]Option{WithInsecure(), WithDeviceID(1), WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	c, err := Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitState waits for the client to reach a state, through WaitPrimary-like
// waiting on the client's own change notification.
func waitState(t *testing.T, c *Client, want MastershipState) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.wait(ctx, func(s *Status) bool { return s.State == want }, false); err != nil {
		t.Fatalf("waiting for state %s: %v (status %+v)", want, err, c.Status())
	}
	return c.Status()
}
