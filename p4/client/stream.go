package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Queue sizes of one stream channel's outgoing messages.
const (
	ctrlQueue = 256 // arbitration and digest acks: sent first
	dataQueue = 256 // packet-outs
)

// session is one StreamChannel call.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	send   func(*p4v1.StreamMessageRequest) error
	ctrl   chan *outMsg // sent before data
	data   chan *outMsg
}

// outMsg is a stream message waiting for the sender; res, if not nil,
// receives the outcome of Send.
type outMsg struct {
	req *p4v1.StreamMessageRequest
	res chan error
}

func newSession(ctx context.Context, send func(*p4v1.StreamMessageRequest) error) *session {
	ctx, cancel := context.WithCancel(ctx)
	return &session{
		ctx:    ctx,
		cancel: cancel,
		send:   send,
		ctrl:   make(chan *outMsg, ctrlQueue),
		data:   make(chan *outMsg, dataQueue),
	}
}

// run keeps a stream channel open until Close: each time one ends it waits
// for the backoff and opens another, re-arbitrating with the current election
// ID (spec "Client Arbitration and Controller Replication": the stream's
// liveness is the session's).
func (c *Client) run() {
	defer close(c.done)
	defer c.finish()
	for {
		err := c.runSession()
		if c.ctx.Err() != nil {
			return
		}
		c.log.Warn("stream channel ended", "err", err)
		if c.bo.Wait(c.ctx) != nil {
			return
		}
	}
}

// runSession opens one stream channel, arbitrates and dispatches what the
// switch sends until the stream breaks.
func (c *Client) runSession() (err error) {
	s := newSession(c.ctx, nil)
	defer s.cancel()
	stream, err := c.rpc.StreamChannel(s.ctx, c.callOpts()...)
	if err != nil {
		c.sessionEnded(nil, err)
		return err
	}
	s.send = stream.Send
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		c.sendLoop(s)
	}()
	defer func() {
		s.cancel()
		<-senderDone
		c.sessionEnded(s, err)
	}()
	// The first message on a new stream is the arbitration (spec "Client Arbitration Update").
	s.ctrl <- &outMsg{req: c.arbitrationRequest(c.electionID())}
	for {
		m, rerr := stream.Recv()
		if rerr != nil {
			return rerr
		}
		c.dispatch(s, m)
	}
}

// sendLoop is the only goroutine that sends on the stream (gRPC allows one
// sender at a time). Control messages go before packet-outs.
func (c *Client) sendLoop(s *session) {
	for {
		var m *outMsg
		select {
		case <-s.ctx.Done():
			return
		case m = <-s.ctrl:
		default:
			select {
			case <-s.ctx.Done():
				return
			case m = <-s.ctrl:
			case m = <-s.data:
			}
		}
		err := s.send(m.req)
		if m.res != nil {
			m.res <- err
		}
		if err != nil {
			// gRPC aborts the stream on a failed Send. On io.EOF the
			// switch ended it and Recv reports why; otherwise make sure
			// Recv returns.
			if !errors.Is(err, io.EOF) {
				c.log.Warn("stream send failed", "err", err)
				s.cancel()
			}
			return
		}
	}
}

// sessionEnded records the end of a stream channel.
func (c *Client) sessionEnded(s *session, err error) {
	if err == nil {
		err = ErrStreamDown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != nil && c.sess == s {
		c.sess = nil
	}
	prev := c.st.State
	c.st.State = Disconnected
	c.st.Err = err
	c.tenure++
	c.notifyLocked()
	if prev != Disconnected {
		c.publishLocked(prev)
	}
}

// dispatch handles one message from the switch. It never blocks: every
// consumer channel is bounded and a full one drops the message and counts it,
// so a slow reader cannot stall arbitration or other messages.
func (c *Client) dispatch(s *session, m *p4v1.StreamMessageResponse) {
	switch u := m.GetUpdate().(type) {
	case *p4v1.StreamMessageResponse_Arbitration:
		c.handleArbitration(s, u.Arbitration)
	case *p4v1.StreamMessageResponse_Packet:
		if u.Packet == nil {
			c.malformed("empty packet-in")
			return
		}
		c.stats.packetInReceived.Add(1)
		p := c.decodePacketIn(u.Packet)
		select {
		case c.packetIn <- p:
		default:
			c.stats.packetInDropped.Add(1)
		}
	case *p4v1.StreamMessageResponse_Digest:
		c.handleDigest(s, u.Digest)
	case *p4v1.StreamMessageResponse_IdleTimeoutNotification:
		if u.IdleTimeoutNotification == nil {
			c.malformed("empty idle-timeout notification")
			return
		}
		c.stats.idleTimeoutReceived.Add(1)
		select {
		case c.idle <- u.IdleTimeoutNotification:
		default:
			c.stats.idleTimeoutDropped.Add(1)
		}
	case *p4v1.StreamMessageResponse_Error:
		if u.Error == nil {
			c.malformed("empty stream error")
			return
		}
		// Stream errors report packet-outs and acks the switch refused
		// (spec "Stream Error Reporting"): surfaced, never swallowed.
		c.stats.streamErrorReceived.Add(1)
		e := u.Error
		select {
		case c.streamErrs <- e:
			c.log.Debug("stream error", "code", codes.Code(uint32(e.GetCanonicalCode())), "message", e.GetMessage())
		default:
			c.stats.streamErrorDropped.Add(1)
			c.log.Warn("stream error dropped: StreamErrors channel full",
				"code", codes.Code(uint32(e.GetCanonicalCode())), "message", e.GetMessage())
		}
	case *p4v1.StreamMessageResponse_Other:
		if u.Other == nil {
			c.malformed("empty other message")
			return
		}
		c.stats.otherReceived.Add(1)
		select {
		case c.other <- u.Other:
		default:
			c.stats.otherDropped.Add(1)
		}
	default:
		c.malformed("stream message without a known update")
	}
}

func (c *Client) malformed(what string) {
	c.stats.malformed.Add(1)
	c.log.Warn("ignoring malformed stream message", "what", what)
}

// handleArbitration applies an arbitration message (spec "Client
// Arbitration Notifications"): status OK makes this client primary; any other
// status a backup, with ALREADY_EXISTS meaning another client is primary and
// NOT_FOUND meaning nobody is.
func (c *Client) handleArbitration(s *session, a *p4v1.MasterArbitrationUpdate) {
	if a == nil || a.GetStatus() == nil {
		c.malformed("arbitration without status")
		return
	}
	if a.GetDeviceId() != c.cfg.deviceID || a.GetRole().GetName() != c.cfg.roleName {
		c.malformed(fmt.Sprintf("arbitration for device %d role %q", a.GetDeviceId(), a.GetRole().GetName()))
		return
	}
	c.stats.arbitrationReceived.Add(1)
	code := codes.Code(uint32(a.GetStatus().GetCode()))
	pid, pset := electionIDFromProto(a.GetElectionId())

	c.mu.Lock()
	if c.closed || s.ctx.Err() != nil {
		c.mu.Unlock()
		return
	}
	first := c.sess != s
	if first {
		// Counted before waiters are woken, so that they see it.
		c.stats.streamsOpened.Add(1)
		c.bo.Reset()
	}
	c.sess = s
	old := c.st
	c.st.State = Backup
	if code == codes.OK {
		c.st.State = Primary
	}
	c.st.PrimaryPresent = code == codes.OK || code == codes.AlreadyExists
	c.st.PrimaryElectionID, c.st.PrimaryElectionIDSet = pid, pset
	c.st.Code, c.st.Message = code, a.GetStatus().GetMessage()
	c.st.Err = nil
	if first || old.State != c.st.State {
		c.tenure++
	}
	c.notifyLocked()
	if first || old.State != c.st.State || old.PrimaryPresent != c.st.PrimaryPresent ||
		old.PrimaryElectionID != pid || old.PrimaryElectionIDSet != pset || old.Code != code {
		c.publishLocked(old.State)
	}
	st := c.st
	c.mu.Unlock()

	c.log.Info("arbitration", "state", st.State, "code", code, "election_id", st.ElectionID,
		"primary_election_id", pid, "primary_election_id_set", pset)
}

// PacketIn is a packet the switch sent to the controller.
type PacketIn struct {
	Payload []byte
	// Metadata holds the metadata values by field name, for the fields the
	// schema's "packet_in" header knows; MetadataByID holds every value by
	// metadata ID, known or not. Values are as the switch sent them.
	Metadata     map[string][]byte
	MetadataByID map[uint32][]byte
	// Received is when the client received it.
	Received time.Time
}

func (c *Client) decodePacketIn(p *p4v1.PacketIn) *PacketIn {
	in := &PacketIn{
		Payload:      p.GetPayload(),
		MetadataByID: make(map[uint32][]byte, len(p.GetMetadata())),
		Received:     time.Now(),
	}
	for _, m := range p.GetMetadata() {
		in.MetadataByID[m.GetMetadataId()] = m.GetValue()
	}
	if s := c.schema.Load(); s != nil {
		if pm, err := s.PacketMetadata("packet_in"); err == nil {
			in.Metadata = make(map[string][]byte, len(pm.Fields))
			for id, v := range in.MetadataByID {
				if f := pm.FieldByID(id); f != nil {
					in.Metadata[f.Name] = v
				}
			}
		}
	}
	return in
}

// DigestList is a list of digest messages from the switch (spec
// "DigestEntry").
type DigestList struct {
	DigestID uint32
	// Name is the digest's full name from the schema, or "".
	Name   string
	ListID uint64
	Data   []*p4v1.P4Data
	// Timestamp is when the switch generated the list.
	Timestamp time.Time
}

func (c *Client) handleDigest(s *session, d *p4v1.DigestList) {
	if d == nil {
		c.malformed("empty digest list")
		return
	}
	c.stats.digestReceived.Add(1)
	l := &DigestList{
		DigestID:  d.GetDigestId(),
		ListID:    d.GetListId(),
		Data:      d.GetData(),
		Timestamp: time.Unix(0, d.GetTimestamp()),
	}
	if sc := c.schema.Load(); sc != nil {
		if dg := sc.DigestByID(l.DigestID); dg != nil {
			l.Name = dg.Name
		}
	}
	delivered := true
	select {
	case c.digests <- l:
	default:
		delivered = false
		c.stats.digestDropped.Add(1)
	}
	// A dropped list is acknowledged too, even in manual mode: the ack makes
	// the switch forget the list at once, so the same data is reported again
	// on its next occurrence instead of after ack_timeout_ns (spec "DigestEntry").
	if delivered && c.cfg.manualDigestAck {
		return
	}
	ack := &outMsg{req: digestAck(l.DigestID, l.ListID)}
	select {
	case s.ctrl <- ack:
		c.stats.digestAcked.Add(1)
	default:
		// Acks are not critical: a lost one only delays a repeat (spec "DigestEntry").
		c.stats.digestAckDropped.Add(1)
	}
}

func digestAck(digestID uint32, listID uint64) *p4v1.StreamMessageRequest {
	return &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{
		DigestAck: &p4v1.DigestListAck{DigestId: digestID, ListId: listID},
	}}
}

// PacketIn returns the channel of packet-ins. It is buffered
// (WithPacketBuffer); when it is full, packets are dropped and counted in
// Stats. It is closed by Close.
func (c *Client) PacketIn() <-chan *PacketIn { return c.packetIn }

// Digests returns the channel of digest lists, each acknowledged on receipt
// unless WithManualDigestAck was given. It is closed by Close.
func (c *Client) Digests() <-chan *DigestList { return c.digests }

// IdleTimeouts returns the channel of idle-timeout notifications (spec
// "Table Idle Timeout Notification"). It is closed by Close.
func (c *Client) IdleTimeouts() <-chan *p4v1.IdleTimeoutNotification { return c.idle }

// StreamErrors returns the channel of the errors the switch reports on the
// stream about packet-outs, digest acks and other messages it refused (spec
// "Stream Error Reporting"). When it is full, errors are logged at warning level and counted.
// It is closed by Close.
func (c *Client) StreamErrors() <-chan *p4v1.StreamError { return c.streamErrs }

// Other returns the channel of architecture-specific stream messages (the
// "other" field of StreamMessageResponse). It is closed by Close.
func (c *Client) Other() <-chan *anypb.Any { return c.other }

// AckDigest acknowledges a digest list (with WithManualDigestAck). It returns
// once the ack has been handed to the transport.
func (c *Client) AckDigest(ctx context.Context, d *DigestList) error {
	if d == nil {
		return errors.New("p4runtime ack digest: nil list")
	}
	s, err := c.streamSession(ctx)
	if err != nil {
		return fmt.Errorf("p4runtime ack digest: %w", err)
	}
	if err := c.sendOn(ctx, s, s.ctrl, digestAck(d.DigestID, d.ListID)); err != nil {
		return fmt.Errorf("p4runtime ack digest: %w", err)
	}
	c.stats.digestAcked.Add(1)
	return nil
}

// SendPacketOut sends a packet-out built by the caller, metadata included.
func (c *Client) SendPacketOut(ctx context.Context, p *p4v1.PacketOut) error {
	if p == nil {
		return errors.New("p4runtime packet-out: nil packet")
	}
	s, err := c.streamSession(ctx)
	if err != nil {
		return fmt.Errorf("p4runtime packet-out: %w", err)
	}
	req := &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: p}}
	if n := proto.Size(req); n > c.cfg.maxMsgSize {
		// gRPC would abort the whole stream channel on it.
		return fmt.Errorf("p4runtime packet-out: %w: %d bytes", ErrTooLarge, n)
	}
	if err := c.sendOn(ctx, s, s.data, req); err != nil {
		return fmt.Errorf("p4runtime packet-out: %w", err)
	}
	c.stats.packetOutSent.Add(1)
	return nil
}

// SendStreamMessage sends an architecture-specific message in the "other"
// field of StreamMessageRequest.
func (c *Client) SendStreamMessage(ctx context.Context, m *anypb.Any) error {
	s, err := c.streamSession(ctx)
	if err != nil {
		return fmt.Errorf("p4runtime stream message: %w", err)
	}
	req := &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Other{Other: m}}
	if n := proto.Size(req); n > c.cfg.maxMsgSize {
		return fmt.Errorf("p4runtime stream message: %w: %d bytes", ErrTooLarge, n)
	}
	if err := c.sendOn(ctx, s, s.data, req); err != nil {
		return fmt.Errorf("p4runtime stream message: %w", err)
	}
	return nil
}

// streamSession waits for an arbitrated stream channel.
func (c *Client) streamSession(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		s, ch, last := c.sess, c.changed, c.st.Err
		c.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%w: %w (last stream error: %v)", ErrStreamDown, ctx.Err(), last)
			}
			return nil, fmt.Errorf("%w: %w", ErrStreamDown, ctx.Err())
		}
	}
}

// sendOn queues a message on one of s's queues and waits until it has been
// handed to the transport.
func (c *Client) sendOn(ctx context.Context, s *session, q chan *outMsg, req *p4v1.StreamMessageRequest) error {
	m := &outMsg{req: req, res: make(chan error, 1)}
	select {
	case q <- m:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrStreamDown
	}
	select {
	case err := <-m.res:
		if err != nil {
			return fmt.Errorf("%w: %w", ErrStreamDown, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		// The sender may have sent it just before the stream ended.
		select {
		case err := <-m.res:
			if err == nil {
				return nil
			}
		default:
		}
		return ErrStreamDown
	}
}
