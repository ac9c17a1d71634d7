package p4rt

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/testbed/p4rt/state"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// APIVersion is the P4Runtime API version the server reports in
// CapabilitiesResponse.p4runtime_api_version.
const APIVersion = "1.5.0"

// DefaultStreamQueueSize is the default bound on the messages queued for one
// StreamChannel (see WithStreamQueueSize).
const DefaultStreamQueueSize = 1024

// Server is an emulated switch's P4Runtime service for one device. It
// implements p4v1.P4RuntimeServer. A Server is safe for concurrent use; its
// zero value is not usable, create one with New.
type Server struct {
	p4v1.UnimplementedP4RuntimeServer

	// deviceID is the device_id the server answers for. It changes only
	// under fwdMu and mu (SetDeviceID), so the arbitration code, which
	// holds mu, sees one value for a whole request; it is atomic so that
	// the unary checks outside mu may read it too.
	deviceID      atomic.Uint64
	log           *slog.Logger
	packetOut     func(*p4v1.PacketOut) error
	queueSize     int
	maxPerRole    int
	fixedRoles    bool
	recoverPanics bool

	// fwdMu serialises everything that touches forwarding state (Write,
	// Read, SetForwardingPipelineConfig, digest configs) and arbitration
	// changes, so that a change of primary waits for the Write requests
	// already started (spec "Rules for Handling MasterArbitrationUpdate
	// Messages": finish in-flight writes before accepting a new primary).
	// Lock order: fwdMu before mu.
	fwdMu     sync.Mutex
	committed *pipeline // realised in the data plane
	saved     *pipeline // VERIFY_AND_SAVE'd, not yet committed

	// dataPlane is the schema of the committed pipeline, for the stream
	// handlers (packet-out, digest-ack validation) which do not take fwdMu.
	dataPlane atomic.Pointer[schema.Schema]

	mu         sync.Mutex
	roles      map[string]*role
	streams    map[*stream]struct{}
	nextStream uint64
	digests    digestCache

	faultMu    sync.Mutex
	rejectN    int
	rejectCode codes.Code
	delay      time.Duration

	stats counters
}

// pipeline is one forwarding-pipeline config and the forwarding state built
// for it.
type pipeline struct {
	config *p4v1.ForwardingPipelineConfig
	schema *schema.Schema
	dev    *state.Device
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sends the server's log records to l. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// WithPacketOut sets the function that receives every accepted PacketOut
// (from the primary of a role, with metadata valid for the committed
// P4Info). It runs on the sending stream's receive goroutine, with no lock
// of the server held, so it may call SendPacketIn. An error it returns is
// reported to the sender as a StreamError whose code is the error's gRPC
// code (UNKNOWN for a plain error). Without this option accepted packet-outs
// are counted and dropped.
func WithPacketOut(f func(*p4v1.PacketOut) error) Option {
	return func(s *Server) { s.packetOut = f }
}

// WithRoles fixes the set of role names the device knows, besides the
// default role (""), which always exists. An arbitration or request naming
// another role is answered NOT_FOUND. Without this option any role name is
// accepted by arbitration.
func WithRoles(names ...string) Option {
	return func(s *Server) {
		s.fixedRoles = true
		for _, n := range names {
			if _, ok := s.roles[n]; !ok {
				s.roles[n] = newRole(n)
			}
		}
	}
}

// WithStreamQueueSize bounds the number of messages queued for sending on one
// StreamChannel (default DefaultStreamQueueSize). Packet-ins, digests,
// idle-timeout notifications and stream errors beyond the bound are dropped
// and counted in Stats; arbitration notifications get the same amount of
// room again on top, so that a burst of packet-ins does not hide a change of
// primary.
func WithStreamQueueSize(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.queueSize = n
		}
	}
}

// WithMaxStreamsPerRole bounds the number of arbitrated streams per role; the
// arbitration of one more is answered RESOURCE_EXHAUSTED (spec "Rules for
// Handling MasterArbitrationUpdate Messages", 1.4). 0, the default, means no
// bound.
func WithMaxStreamsPerRole(n int) Option {
	return func(s *Server) {
		if n >= 0 {
			s.maxPerRole = n
		}
	}
}

// WithPanicRecovery controls whether a panic inside an RPC handler is turned
// into an INTERNAL error (the default, true) or left to crash the process
// (false, for fuzzing and debugging).
func WithPanicRecovery(on bool) Option {
	return func(s *Server) { s.recoverPanics = on }
}

// New returns the P4Runtime service of the device deviceID, with no
// forwarding pipeline set.
func New(deviceID uint64, opts ...Option) *Server {
	s := &Server{
		log:           slog.New(slog.DiscardHandler),
		queueSize:     DefaultStreamQueueSize,
		recoverPanics: true,
		roles:         map[string]*role{"": newRole("")},
		streams:       map[*stream]struct{}{},
		digests:       newDigestCache(),
	}
	s.deviceID.Store(deviceID)
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

// MaxReceiveMessageSize is the receive limit ServerOptions sets: 128 MiB,
// the size the spec's "gRPC Server Maximum Receive Message Size" guideline
// suggests, so that big p4_device_config blobs and Write batches fit (gRPC's
// default is 4 MiB).
const MaxReceiveMessageSize = 128 << 20

// ServerOptions returns the options the grpc.Server that carries the
// service should be created with (see MaxReceiveMessageSize).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxReceiveMessageSize)}
}

// Register registers the service on g.
func (s *Server) Register(g *grpc.Server) {
	p4v1.RegisterP4RuntimeServer(g, s)
}

// DeviceID returns the device ID the server answers for.
func (s *Server) DeviceID() uint64 { return s.deviceID.Load() }

// Schema returns the schema of the committed pipeline (the one the data
// plane runs), or nil before any pipeline is committed.
func (s *Server) Schema() *schema.Schema { return s.dataPlane.Load() }

// Capabilities answers the Capabilities RPC (spec "Capabilities RPC"): a
// non-zero device_id other than the server's is NOT_FOUND.
func (s *Server) Capabilities(ctx context.Context, req *p4v1.CapabilitiesRequest) (resp *p4v1.CapabilitiesResponse, err error) {
	defer s.recoverUnary("Capabilities", &err)
	if err := s.unaryDelay(ctx); err != nil {
		return nil, err
	}
	if id, self := req.GetDeviceId(), s.deviceID.Load(); id != 0 && id != self {
		return nil, status.Errorf(codes.NotFound, "unknown device_id %d (this device is %d)", id, self)
	}
	return &p4v1.CapabilitiesResponse{P4RuntimeApiVersion: APIVersion}, nil
}

// RejectWrites makes the next k Write RPCs fail with code, before any other
// check and without touching forwarding state. With codes.OK those writes
// are acknowledged but not applied (a lost write). k <= 0 cancels a pending
// rejection.
func (s *Server) RejectWrites(k int, code codes.Code) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if k < 0 {
		k = 0
	}
	s.rejectN, s.rejectCode = k, code
}

// SetDelay delays every unary response (Write, Read, Set/Get pipeline,
// Capabilities) by d; 0 removes the delay. A request whose context ends
// during the delay fails with the context's error.
func (s *Server) SetDelay(d time.Duration) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if d < 0 {
		d = 0
	}
	s.delay = d
}

// DropStreams ends every open StreamChannel from the server side with
// UNAVAILABLE, as a switch that loses its controllers' connections would.
// The streams' clients are disconnected as if they had gone away: a primary
// leaves its role without a primary until a client arbitrates again.
func (s *Server) DropStreams() {
	s.mu.Lock()
	list := make([]*stream, 0, len(s.streams))
	for st := range s.streams {
		list = append(list, st)
	}
	s.mu.Unlock()
	for _, st := range list {
		st.terminate(status.Error(codes.Unavailable, "stream dropped by the switch"))
	}
}

// takeWriteFault consumes one injected write rejection, if any.
func (s *Server) takeWriteFault() (codes.Code, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.rejectN <= 0 {
		return codes.OK, false
	}
	s.rejectN--
	return s.rejectCode, true
}

func (s *Server) unaryDelay(ctx context.Context) error {
	s.faultMu.Lock()
	d := s.delay
	s.faultMu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// recoverUnary turns a panic in a handler into an INTERNAL error, unless
// panic recovery is off.
func (s *Server) recoverUnary(method string, err *error) {
	if !s.recoverPanics {
		return
	}
	if r := recover(); r != nil {
		s.log.Error("p4rt: panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "internal error: panic in %s: %v", method, r)
	}
}

// Stats are counters of the server's stream traffic since New.
type Stats struct {
	OpenStreams        int    // StreamChannel RPCs currently open
	Queued             uint64 // messages queued for sending on streams
	Dropped            uint64 // messages dropped because a stream's queue was full
	PacketOuts         uint64 // packet-outs accepted (handed to the WithPacketOut function)
	PacketOutsRejected uint64 // packet-outs refused with a StreamError
	PacketIns          uint64 // packet-ins queued (one per receiving stream)
	DigestLists        uint64 // digest lists queued
	UnackedDigestLists int    // digest lists sent and neither acknowledged nor expired
	IdleTimeouts       uint64 // idle-timeout notifications queued
	StreamErrors       uint64 // StreamError messages queued
}

type counters struct {
	queued, dropped, packetOuts, packetOutsRejected  atomic.Uint64
	packetIns, digestLists, idleTimeouts, streamErrs atomic.Uint64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	open := len(s.streams)
	unacked := s.digests.unacked(time.Now())
	s.mu.Unlock()
	return Stats{
		OpenStreams:        open,
		Queued:             s.stats.queued.Load(),
		Dropped:            s.stats.dropped.Load(),
		PacketOuts:         s.stats.packetOuts.Load(),
		PacketOutsRejected: s.stats.packetOutsRejected.Load(),
		PacketIns:          s.stats.packetIns.Load(),
		DigestLists:        s.stats.digestLists.Load(),
		UnackedDigestLists: unacked,
		IdleTimeouts:       s.stats.idleTimeouts.Load(),
		StreamErrors:       s.stats.streamErrs.Load(),
	}
}
