package p4rt

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/p4fabric/fabric/p4/codec"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// msgClass orders what a full send queue drops first.
type msgClass int

const (
	classData    msgClass = iota // packet-ins, digests, idle timeouts, stream errors
	classControl                 // arbitration notifications
)

// stream is one StreamChannel RPC.
type stream struct {
	id    uint64
	limit int // queue bound for classData; twice that for classControl

	// Guarded by Server.mu.
	arbitrated bool
	role       *role
	eid        *electionID
	closed     bool

	qmu   sync.Mutex
	queue []*p4v1.StreamMessageResponse
	wake  chan struct{} // capacity 1: something was queued

	termOnce sync.Once
	termErr  error
	term     chan struct{} // closed when the stream must end with termErr
}

func newStream(id uint64, limit int) *stream {
	return &stream{id: id, limit: limit, wake: make(chan struct{}, 1), term: make(chan struct{})}
}

// enqueue queues m for sending without ever blocking; it reports false and
// counts a drop when the stream's queue is full.
func (st *stream) enqueue(m *p4v1.StreamMessageResponse, class msgClass, c *counters) bool {
	st.qmu.Lock()
	limit := st.limit
	if class == classControl {
		limit *= 2
	}
	if len(st.queue) >= limit {
		st.qmu.Unlock()
		c.dropped.Add(1)
		return false
	}
	st.queue = append(st.queue, m)
	st.qmu.Unlock()
	c.queued.Add(1)
	select {
	case st.wake <- struct{}{}:
	default:
	}
	return true
}

func (st *stream) take() []*p4v1.StreamMessageResponse {
	st.qmu.Lock()
	defer st.qmu.Unlock()
	q := st.queue
	st.queue = nil
	return q
}

// terminate makes the stream's RPC return err (nil: OK). The first call wins.
func (st *stream) terminate(err error) {
	st.termOnce.Do(func() {
		st.termErr = err
		close(st.term)
	})
}

// StreamChannel serves the bidirectional stream of one controller: session
// management (arbitration), packet I/O, digests and idle-timeout
// notifications. Messages to the client are queued per stream, bounded
// (WithStreamQueueSize), so that a slow reader never blocks the switch.
func (s *Server) StreamChannel(srv p4v1.P4Runtime_StreamChannelServer) error {
	s.mu.Lock()
	s.nextStream++
	st := newStream(s.nextStream, s.queueSize)
	s.streams[st] = struct{}{}
	s.mu.Unlock()
	defer s.removeStream(st)

	ctx := srv.Context()
	go s.receive(st, srv)

	for {
		select {
		case <-st.wake:
			for _, m := range st.take() {
				if err := srv.Send(m); err != nil {
					return err
				}
			}
		case <-st.term:
			return st.termErr
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

// receive reads the client's messages until the stream ends, and handles
// them in order.
func (s *Server) receive(st *stream, srv p4v1.P4Runtime_StreamChannelServer) {
	for {
		req, err := srv.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				st.terminate(nil) // the client closed its side: end normally
			} else {
				st.terminate(err)
			}
			return
		}
		if err := s.handleRequest(st, req); err != nil {
			st.terminate(err)
			return
		}
	}
}

// handleRequest handles one StreamMessageRequest. A returned error ends the
// stream (only arbitration errors do); every other problem is reported with
// a StreamError and the stream goes on (spec "Stream Error Reporting").
func (s *Server) handleRequest(st *stream, req *p4v1.StreamMessageRequest) (err error) {
	if s.recoverPanics {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("p4rt: panic in stream handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "internal error: panic in StreamChannel: %v", r)
			}
		}()
	}
	switch u := req.GetUpdate().(type) {
	case *p4v1.StreamMessageRequest_Arbitration:
		return s.arbitrate(st, u.Arbitration)
	case *p4v1.StreamMessageRequest_Packet:
		s.handlePacketOut(st, u.Packet)
	case *p4v1.StreamMessageRequest_DigestAck:
		s.handleDigestAck(st, u.DigestAck)
	case *p4v1.StreamMessageRequest_Other:
		s.streamError(st, &p4v1.StreamError{
			CanonicalCode: int32(codes.Unimplemented),
			Message:       fmt.Sprintf("architecture-specific stream message %q is not supported", u.Other.GetTypeUrl()),
			Details:       &p4v1.StreamError_Other{Other: &p4v1.StreamOtherError{Other: u.Other}},
		})
	default:
		s.streamError(st, &p4v1.StreamError{
			CanonicalCode: int32(codes.InvalidArgument),
			Message:       "empty StreamMessageRequest: no update set",
			Details:       &p4v1.StreamError_Other{Other: &p4v1.StreamOtherError{}},
		})
	}
	return nil
}

func (s *Server) streamError(st *stream, e *p4v1.StreamError) {
	if st.enqueue(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Error{Error: e}}, classData, &s.stats) {
		s.stats.streamErrs.Add(1)
	}
}

// handlePacketOut accepts a PacketOut from the primary of any role (Stratum
// does the same: its role config has no packet-out permission) whose
// metadata matches the committed P4Info's "packet_out" header, and hands it
// to the WithPacketOut function. Anything else is dropped and reported with
// a StreamError carrying the packet (spec "Packet I/O").
func (s *Server) handlePacketOut(st *stream, p *p4v1.PacketOut) {
	reject := func(code codes.Code, format string, args ...any) {
		s.stats.packetOutsRejected.Add(1)
		s.streamError(st, &p4v1.StreamError{
			CanonicalCode: int32(code),
			Message:       fmt.Sprintf(format, args...),
			Details:       &p4v1.StreamError_PacketOut{PacketOut: &p4v1.PacketOutError{PacketOut: p}},
		})
	}
	s.mu.Lock()
	primary := st.arbitrated && st.role.primary() == st
	s.mu.Unlock()
	if !primary {
		if !st.arbitrated {
			reject(codes.PermissionDenied, "packet-out before arbitration: only a primary controller may send packets")
		} else {
			reject(codes.PermissionDenied, "packet-out from a backup controller: only the primary may send packets")
		}
		return
	}
	sch := s.dataPlane.Load()
	if sch == nil {
		reject(codes.FailedPrecondition, "packet-out before a forwarding pipeline is committed")
		return
	}
	var want map[uint32]*metaField
	if pm, err := sch.PacketMetadata("packet_out"); err == nil {
		want = make(map[uint32]*metaField, len(pm.Fields))
		for _, f := range pm.Fields {
			want[f.ID] = &metaField{name: f.Name, bitwidth: f.Bitwidth, sdnString: f.Translated != nil && f.Translated.SDNString}
		}
	}
	seen := map[uint32]bool{}
	for _, md := range p.GetMetadata() {
		id := md.GetMetadataId()
		f, ok := want[id]
		if !ok {
			reject(codes.InvalidArgument, "unknown packet_out metadata field id %d", id)
			return
		}
		if seen[id] {
			reject(codes.InvalidArgument, "packet_out metadata field %s (id %d) given twice", f.name, id)
			return
		}
		seen[id] = true
		if f.sdnString || f.bitwidth <= 0 {
			continue
		}
		if _, err := codec.Canonical(md.GetValue(), f.bitwidth); err != nil {
			reject(codes.InvalidArgument, "packet_out metadata field %s (id %d): %v", f.name, id, err)
			return
		}
	}
	for id, f := range want {
		if !seen[id] {
			reject(codes.InvalidArgument, "packet_out metadata field %s (id %d) is missing", f.name, id)
			return
		}
	}
	if s.packetOut == nil {
		s.stats.packetOuts.Add(1)
		return
	}
	if err := s.packetOut(p); err != nil {
		code := status.Code(err)
		if code == codes.OK {
			code = codes.Unknown
		}
		reject(code, "%s", strings.ToValidUTF8(status.Convert(err).Message(), "?"))
		return
	}
	s.stats.packetOuts.Add(1)
}

type metaField struct {
	name      string
	bitwidth  int
	sdnString bool
}

// SendPacketIn delivers p to the primary of every role that receives
// packet-ins: a role without config does; a role with config does when its
// receives_packet_ins is set and, if it has a packet_in_filter, p carries
// that metadata value. Backups and streams that never arbitrated get
// nothing (spec "Packet I/O"). It never blocks: a full stream queue drops
// the packet and counts it.
func (s *Server) SendPacketIn(p *p4v1.PacketIn) {
	if p == nil {
		return
	}
	msg := &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Packet{Packet: proto.Clone(p).(*p4v1.PacketIn)}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.roles {
		prim := r.primary()
		if prim == nil || !receivesPacketIn(r.config, p) {
			continue
		}
		if prim.enqueue(msg, classData, &s.stats) {
			s.stats.packetIns.Add(1)
		}
	}
}

// SendIdleTimeout delivers n to the primary of every role that may access
// the tables of its entries (each role gets only its tables' entries, and
// nothing if none is left; spec "Table Idle Timeout Notification"). A zero
// timestamp is set to now.
func (s *Server) SendIdleTimeout(n *p4v1.IdleTimeoutNotification) {
	if n == nil || len(n.GetTableEntry()) == 0 {
		return // the spec forbids empty notifications
	}
	ts := n.GetTimestamp()
	if ts == 0 {
		ts = time.Now().UnixNano()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.roles {
		prim := r.primary()
		if prim == nil {
			continue
		}
		var entries []*p4v1.TableEntry
		for _, te := range n.GetTableEntry() {
			if te != nil && allows(r.config, te.GetTableId()) {
				entries = append(entries, proto.Clone(te).(*p4v1.TableEntry))
			}
		}
		if len(entries) == 0 {
			continue
		}
		msg := &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_IdleTimeoutNotification{
			IdleTimeoutNotification: &p4v1.IdleTimeoutNotification{TableEntry: entries, Timestamp: ts},
		}}
		if prim.enqueue(msg, classData, &s.stats) {
			s.stats.idleTimeouts.Add(1)
		}
	}
}
