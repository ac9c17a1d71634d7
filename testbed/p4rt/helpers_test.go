package p4rt_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	deviceID = 1

	// IDs from internal/p4infos/onos-basic/basic_p4info.txt.
	table0ID        = 33561568 // ingress.table0_control.table0 (TERNARY, needs priority)
	hostMeterTable  = 33571781 // ingress.host_meter_control.host_meter_table (LPM)
	dropActionID    = 16815319 // ingress.table0_control.drop
	noActionID      = 16800567 // NoAction
	packetOutHeader = 67121543

	// IDs from internal/p4infos bmv2-digest.
	digestID  = 385912120
	smacTable = 33610141
)

// testTimeout bounds every wait of a test.
const testTimeout = 10 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

var (
	basicOnce sync.Once
	basicInfo *p4configv1.P4Info
	basicErr  error
)

// basicP4Info returns a fresh copy of the ONOS basic P4Info.
func basicP4Info(t testing.TB) *p4configv1.P4Info {
	t.Helper()
	basicOnce.Do(func() {
		basicInfo, basicErr = p4infos.Info("onos-basic")
	})
	if basicErr != nil {
		t.Fatalf("loading P4Info: %v", basicErr)
	}
	return proto.Clone(basicInfo).(*p4configv1.P4Info)
}

func digestP4Info(t testing.TB) *p4configv1.P4Info {
	t.Helper()
	info, err := p4infos.Info("bmv2-digest")
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// harness is a Server on a loopback TCP port and a raw client to it.
type harness struct {
	srv  *p4rt.Server
	addr string
	c    p4v1.P4RuntimeClient
}

func start(t testing.TB, opts ...p4rt.Option) *harness {
	t.Helper()
	srv := p4rt.New(deviceID, opts...)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(p4rt.ServerOptions()...)
	srv.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		g.Stop()
		<-done
	})
	return &harness{srv: srv, addr: lis.Addr().String(), c: p4v1.NewP4RuntimeClient(conn)}
}

// ctrl is one controller's StreamChannel, read by a goroutine into msgs.
type ctrl struct {
	t      testing.TB
	s      p4v1.P4Runtime_StreamChannelClient
	cancel context.CancelFunc
	msgs   chan *p4v1.StreamMessageResponse
	end    chan error // the stream's final error (io.EOF for OK)
}

func (h *harness) open(t testing.TB) *ctrl {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	s, err := h.c.StreamChannel(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := &ctrl{t: t, s: s, cancel: cancel, msgs: make(chan *p4v1.StreamMessageResponse, 4096), end: make(chan error, 1)}
	go func() {
		for {
			m, err := s.Recv()
			if err != nil {
				c.end <- err
				close(c.msgs)
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(c.close)
	return c
}

// close ends the stream from the client side and waits for it to end.
func (c *ctrl) close() {
	c.cancel()
	for range c.msgs {
	}
}

func eid(low uint64) *p4v1.Uint128 { return &p4v1.Uint128{Low: low} }

func (c *ctrl) send(m *p4v1.StreamMessageRequest) {
	c.t.Helper()
	if err := c.s.Send(m); err != nil {
		c.t.Fatalf("stream send: %v", err)
	}
}

func (c *ctrl) arbitrate(device uint64, role string, id *p4v1.Uint128, cfg proto.Message) {
	c.t.Helper()
	u := &p4v1.MasterArbitrationUpdate{DeviceId: device, ElectionId: id}
	if role != "" || cfg != nil {
		u.Role = &p4v1.Role{Name: role}
		if cfg != nil {
			a, err := anypb.New(cfg)
			if err != nil {
				c.t.Fatal(err)
			}
			u.Role.Config = a
		}
	}
	c.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: u}})
}

// next returns the next message, failing the test if none comes in time.
func (c *ctrl) next() *p4v1.StreamMessageResponse {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("stream ended: %v", <-c.end)
		}
		return m
	case <-time.After(testTimeout):
		c.t.Fatal("no stream message in time")
	}
	return nil
}

// nextArb returns the next message, which must be an arbitration update.
func (c *ctrl) nextArb() *p4v1.MasterArbitrationUpdate {
	c.t.Helper()
	m := c.next()
	a := m.GetArbitration()
	if a == nil {
		c.t.Fatalf("want an arbitration update, got %v", m)
	}
	return a
}

// expectArb waits for an arbitration update with that status code and
// election ID (nil: unset).
func (c *ctrl) expectArb(code codes.Code, id *p4v1.Uint128) *p4v1.MasterArbitrationUpdate {
	c.t.Helper()
	a := c.nextArb()
	if got := codes.Code(a.GetStatus().GetCode()); got != code {
		c.t.Fatalf("arbitration status %v, want %v (%v)", got, code, a)
	}
	if !proto.Equal(a.GetElectionId(), id) {
		c.t.Fatalf("arbitration election_id %v, want %v", a.GetElectionId(), id)
	}
	if a.GetDeviceId() != deviceID {
		c.t.Fatalf("arbitration device_id %d, want %d", a.GetDeviceId(), deviceID)
	}
	return a
}

// become arbitrates with election ID id and waits to be told it is the
// primary.
func (c *ctrl) become(role string, id uint64, code codes.Code) {
	c.t.Helper()
	c.arbitrate(deviceID, role, eid(id), nil)
	c.expectArb(code, eid(id))
}

// backup arbitrates with election ID id and waits to be told it is a backup
// while a primary with election ID highest exists.
func (c *ctrl) backup(role string, id, highest uint64) {
	c.t.Helper()
	c.arbitrate(deviceID, role, eid(id), nil)
	c.expectArb(codes.AlreadyExists, eid(highest))
}

// sync sends an empty request, whose StreamError answer marks the end of
// everything queued for the stream before it; it returns those messages.
// It is how a test checks that a stream received nothing, without sleeping.
func (c *ctrl) sync() []*p4v1.StreamMessageResponse {
	c.t.Helper()
	c.send(&p4v1.StreamMessageRequest{})
	var before []*p4v1.StreamMessageResponse
	for {
		m := c.next()
		if e := m.GetError(); e != nil && strings.Contains(e.GetMessage(), "empty StreamMessageRequest") {
			return before
		}
		before = append(before, m)
	}
}

// expectQuiet checks that nothing is queued for the stream.
func (c *ctrl) expectQuiet() {
	c.t.Helper()
	if got := c.sync(); len(got) > 0 {
		c.t.Fatalf("want no stream messages, got %v", got)
	}
}

// expectEnd waits for the stream to end with code.
func (c *ctrl) expectEnd(code codes.Code) error {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.msgs:
			if ok {
				continue
			}
			err := <-c.end
			if status.Code(err) != code {
				c.t.Fatalf("stream ended with %v, want %v", err, code)
			}
			return err
		case <-time.After(testTimeout):
			c.t.Fatalf("stream did not end (want %v)", code)
		}
	}
}

// expectStreamError waits for the next message, a StreamError with code.
func (c *ctrl) expectStreamError(code codes.Code) *p4v1.StreamError {
	c.t.Helper()
	m := c.next()
	e := m.GetError()
	if e == nil {
		c.t.Fatalf("want a StreamError, got %v", m)
	}
	if got := codes.Code(e.GetCanonicalCode()); got != code {
		c.t.Fatalf("StreamError code %v, want %v (%s)", got, code, e.GetMessage())
	}
	return e
}

func (h *harness) setPipeline(t testing.TB, id *p4v1.Uint128, role string, action p4v1.SetForwardingPipelineConfigRequest_Action, cfg *p4v1.ForwardingPipelineConfig) error {
	t.Helper()
	_, err := h.c.SetForwardingPipelineConfig(testCtx(t), &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: deviceID, Role: role, ElectionId: id, Action: action, Config: cfg,
	})
	return err
}

func mustCode(t testing.TB, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
}

// primaryWithPipeline starts a server, makes a default-role primary with
// election ID 10 and commits info (basic if nil).
func primaryWithPipeline(t testing.TB, info *p4configv1.P4Info, opts ...p4rt.Option) (*harness, *ctrl) {
	t.Helper()
	h := start(t, opts...)
	c := h.open(t)
	c.become("", 10, codes.OK)
	if info == nil {
		info = basicP4Info(t)
	}
	err := h.setPipeline(t, eid(10), "", p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		&p4v1.ForwardingPipelineConfig{P4Info: info, P4DeviceConfig: []byte("device-config"), Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 42}})
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

// table0Entry is a valid entry of table0: ether_type == et, action drop.
func table0Entry(et uint16) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: table0ID,
		Match: []*p4v1.FieldMatch{{
			FieldId: 4,
			FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{
				Value: []byte{byte(et >> 8), byte(et)}, Mask: []byte{0xff, 0xff},
			}},
		}},
		Priority: 10,
		Action:   &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: dropActionID}}},
	}}}
}

// hostMeterEntry is a valid entry of host_meter_table: smac/48, NoAction.
func hostMeterEntry(last byte) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: hostMeterTable,
		Match: []*p4v1.FieldMatch{{
			FieldId: 1,
			FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{
				Value: []byte{0x02, 0, 0, 0, 0, last}, PrefixLen: 48,
			}},
		}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: noActionID}}},
	}}}
}

func insert(e *p4v1.Entity) *p4v1.Update {
	return &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}
}

func (h *harness) write(t testing.TB, role string, id *p4v1.Uint128, updates ...*p4v1.Update) error {
	t.Helper()
	_, err := h.c.Write(testCtx(t), &p4v1.WriteRequest{DeviceId: deviceID, Role: role, ElectionId: id, Updates: updates})
	return err
}

// readTables reads every table entry (wildcard) as role.
func (h *harness) readTables(t testing.TB, role string) ([]*p4v1.TableEntry, error) {
	t.Helper()
	rc, err := h.c.Read(testCtx(t), &p4v1.ReadRequest{DeviceId: deviceID, Role: role, Entities: []*p4v1.Entity{
		{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}},
	}})
	if err != nil {
		return nil, err
	}
	var out []*p4v1.TableEntry
	for {
		r, err := rc.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		for _, e := range r.GetEntities() {
			out = append(out, e.GetTableEntry())
		}
	}
}

// writeErrors decodes the per-update p4.v1.Error details of a Write error.
func writeErrors(t testing.TB, err error) []*p4v1.Error {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a status: %v", err)
	}
	var out []*p4v1.Error
	for _, d := range st.Proto().GetDetails() {
		e := &p4v1.Error{}
		if err := d.UnmarshalTo(e); err != nil {
			t.Fatalf("detail %v is not a p4.v1.Error: %v", d, err)
		}
		out = append(out, e)
	}
	return out
}
