package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p4fabric/fabric/internal/backoff"
	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	gbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// MastershipState is the client's standing for its (device, role).
type MastershipState int

// Mastership states.
const (
	// Disconnected: no stream channel is established, or the switch has not
	// answered the arbitration yet.
	Disconnected MastershipState = iota
	// Backup: the switch answered the arbitration with a non-OK status;
	// writes are refused.
	Backup
	// Primary: the switch answered OK; this client may write.
	Primary
)

// String returns "disconnected", "backup" or "primary".
func (s MastershipState) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Backup:
		return "backup"
	case Primary:
		return "primary"
	}
	return fmt.Sprintf("MastershipState(%d)", int(s))
}

// Status is the client's arbitration state as last reported by the switch.
type Status struct {
	DeviceID uint64
	Role     string
	// ElectionID is the election ID this client arbitrates with.
	ElectionID ElectionID
	State      MastershipState
	// PrimaryElectionID is the election ID of the last arbitration message
	// from the switch: the highest it has seen for this (device, role), which
	// is the primary's when there is one (spec "Client Arbitration
	// Notifications"). PrimaryElectionIDSet is false when the switch left it
	// unset because no client was ever primary.
	PrimaryElectionID    ElectionID
	PrimaryElectionIDSet bool
	// PrimaryPresent is false when the switch reports that no client is
	// primary (status NOT_FOUND), for example after the primary went away.
	PrimaryPresent bool
	// Code and Message are the status of the last arbitration message: OK for
	// the primary, ALREADY_EXISTS for a backup while a primary exists,
	// NOT_FOUND for a backup when there is none.
	Code    codes.Code
	Message string
	// Err says why the client is Disconnected: the error that ended the
	// last stream, or ErrClosed.
	Err error
}

// MastershipEvent is a change of Status, published on Mastership.
type MastershipEvent struct {
	Status
	// Previous is the state before this change.
	Previous MastershipState
	// Time is when the client saw the change.
	Time time.Time
}

// Stats counts stream traffic. Dropped counts messages that arrived while the
// corresponding channel's buffer was full.
type Stats struct {
	PacketInReceived, PacketInDropped       uint64
	PacketOutSent                           uint64
	DigestReceived, DigestDropped           uint64
	DigestAcked, DigestAckDropped           uint64
	IdleTimeoutReceived, IdleTimeoutDropped uint64
	StreamErrorReceived, StreamErrorDropped uint64
	OtherReceived, OtherDropped             uint64
	ArbitrationReceived                     uint64
	Malformed                               uint64 // stream messages ignored as invalid
	StreamsOpened                           uint64 // stream channels established
}

type counters struct {
	packetInReceived, packetInDropped       atomic.Uint64
	packetOutSent                           atomic.Uint64
	digestReceived, digestDropped           atomic.Uint64
	digestAcked, digestAckDropped           atomic.Uint64
	idleTimeoutReceived, idleTimeoutDropped atomic.Uint64
	streamErrorReceived, streamErrorDropped atomic.Uint64
	otherReceived, otherDropped             atomic.Uint64
	arbitrationReceived                     atomic.Uint64
	malformed                               atomic.Uint64
	streamsOpened                           atomic.Uint64
}

// Client is a P4Runtime client for one device and role. It keeps a stream
// channel open, arbitrates on it, and re-opens and re-arbitrates it with
// backoff whenever it breaks. Its methods are safe for concurrent use.
type Client struct {
	cfg     config
	rpc     p4v1.P4RuntimeClient
	cc      grpc.ClientConnInterface // what rpc calls through
	ownConn *grpc.ClientConn         // closed by Close when Dial made it
	log     *slog.Logger
	bo      *backoff.Backoff

	schema       atomic.Pointer[schema.Schema]
	schemaPinned bool // given by WithSchema: never replaced

	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	started  bool
	done     chan struct{} // closed when the stream loop has exited
	closeErr error
	once     sync.Once

	mu   sync.Mutex
	st   Status
	sess *session // the arbitrated stream, nil when down
	// tenure changes whenever the client's state or stream changes: an
	// unchanged tenure in the Primary state is one unbroken run as primary.
	tenure uint64
	// known is the cookie of the pipeline config this client set or read
	// during tenure knownIn (see KnownCookie).
	known   uint64
	knownIn uint64
	knownOK bool
	// pipeSeq counts the SetPipeline calls that may change the config:
	// what a call learns is stale if another began meanwhile.
	pipeSeq uint64
	changed chan struct{} // closed and replaced on every change under mu
	closed  bool

	mastership chan MastershipEvent
	packetIn   chan *PacketIn
	digests    chan *DigestList
	idle       chan *p4v1.IdleTimeoutNotification
	streamErrs chan *p4v1.StreamError
	other      chan *anypb.Any

	stats counters
}

// Dial connects to the P4Runtime server at addr, opens the stream channel and
// waits, within ctx, for the switch's answer to the arbitration: on return
// the client is primary or backup (see IsPrimary). One of WithTLS or
// WithInsecure is required. Dial gives up early when the switch refuses the
// arbitration for good (unknown device, election ID in use, bad role
// config); afterwards, a broken stream is re-opened in the background.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	cfg := buildConfig(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	if (cfg.tls != nil) == cfg.insecure {
		return nil, ErrTransportSecurity
	}
	creds := insecure.NewCredentials()
	if cfg.tls != nil {
		creds = credentials.NewTLS(cfg.tls)
	}
	bc := gbackoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = backoff.DefaultBase, backoff.DefaultMax
	if cfg.backoffBase > 0 {
		bc.BaseDelay = cfg.backoffBase
	}
	if cfg.backoffMax > 0 {
		bc.MaxDelay = cfg.backoffMax
	}
	if bc.MaxDelay < bc.BaseDelay {
		bc.MaxDelay = bc.BaseDelay
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(cfg.maxMsgSize), grpc.MaxCallSendMsgSize(cfg.maxMsgSize)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 20 * time.Second}),
	}
	if cfg.keepalive != nil {
		dopts = append(dopts, grpc.WithKeepaliveParams(*cfg.keepalive))
	}
	if cfg.window > 0 {
		dopts = append(dopts, grpc.WithInitialWindowSize(cfg.window), grpc.WithInitialConnWindowSize(int32(min(4*int64(cfg.window), math.MaxInt32))))
	}
	dopts = append(dopts, cfg.dialOpts...)
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("p4runtime dial %s: %w", addr, err)
	}
	c := newClient(conn, cfg)
	c.ownConn = conn
	c.log = c.log.With("addr", addr)
	c.start()
	if err := c.waitConnected(ctx, true); err != nil {
		c.Close()
		return nil, fmt.Errorf("p4runtime dial %s (device %d): %w", addr, cfg.deviceID, err)
	}
	return c, nil
}

// New makes a client over an existing gRPC connection, which Close leaves
// open. It opens the stream channel and arbitrates in the background: use
// WaitConnected or WaitPrimary to wait for the outcome. The transport options
// (WithTLS, WithInsecure, WithKeepalive, WithDialOptions) do not apply.
func New(conn grpc.ClientConnInterface, opts ...Option) (*Client, error) {
	if conn == nil {
		return nil, errors.New("p4runtime client: nil connection")
	}
	cfg := buildConfig(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	c := newClient(conn, cfg)
	c.start()
	return c, nil
}

func buildConfig(opts []Option) config {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// newClient builds a client without starting its stream loop.
func newClient(conn grpc.ClientConnInterface, cfg config) *Client {
	c := &Client{
		cfg:        cfg,
		log:        cfg.logger,
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		mastership: make(chan MastershipEvent, 1),
		packetIn:   make(chan *PacketIn, cfg.packetBuf),
		digests:    make(chan *DigestList, cfg.notifBuf),
		idle:       make(chan *p4v1.IdleTimeoutNotification, cfg.notifBuf),
		streamErrs: make(chan *p4v1.StreamError, cfg.notifBuf),
		other:      make(chan *anypb.Any, cfg.notifBuf),
	}
	if conn != nil {
		c.cc = conn
		c.rpc = p4v1.NewP4RuntimeClient(conn)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("device_id", cfg.deviceID)
	if cfg.roleName != "" {
		c.log = c.log.With("role", cfg.roleName)
	}
	var bopts []backoff.Option
	if cfg.backoffBase > 0 {
		bopts = append(bopts, backoff.WithBase(cfg.backoffBase))
	}
	if cfg.backoffMax > 0 {
		bopts = append(bopts, backoff.WithMax(cfg.backoffMax))
	}
	c.bo = backoff.New(bopts...)
	if cfg.schema != nil {
		c.schema.Store(cfg.schema)
		c.schemaPinned = true
	}
	c.st = Status{DeviceID: cfg.deviceID, Role: cfg.roleName, ElectionID: cfg.electionID}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

func (c *Client) start() {
	c.started = true
	go c.run()
}

// Close stops the stream channel, closes the channels returned by
// Mastership, PacketIn, Digests, IdleTimeouts, StreamErrors and Other, and
// closes the gRPC connection if Dial made it. The switch sees the stream end
// and, if this client was primary, tells the others (spec "Client
// Arbitration Notifications"). Close is idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.notifyLocked()
		c.mu.Unlock()
		c.cancel()
		if c.started {
			<-c.done
		} else {
			c.finish()
		}
		if c.ownConn != nil {
			c.closeErr = c.ownConn.Close()
		}
	})
	return c.closeErr
}

// finish publishes the final state and closes the consumer channels. Only the
// stream loop (or Close, when it never started) calls it.
func (c *Client) finish() {
	c.mu.Lock()
	c.tenure++
	prev := c.st.State
	c.sess = nil
	c.st.State = Disconnected
	c.st.Err = ErrClosed
	c.notifyLocked()
	c.publishLocked(prev)
	c.mu.Unlock()
	close(c.mastership)
	close(c.packetIn)
	close(c.digests)
	close(c.idle)
	close(c.streamErrs)
	close(c.other)
}

// notifyLocked wakes every waiter on c.changed. c.mu must be held.
func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// publishLocked offers the current status on the mastership channel,
// replacing an event nobody has read yet: readers see the latest state and
// the stream never waits for them. c.mu must be held, so that publishers are
// serialised.
func (c *Client) publishLocked(prev MastershipState) {
	ev := MastershipEvent{Status: c.st, Previous: prev, Time: time.Now()}
	select {
	case <-c.mastership:
	default:
	}
	select {
	case c.mastership <- ev:
	default:
	}
}

// Status returns the current arbitration state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// IsPrimary reports whether the switch's last arbitration message made this
// client primary and the stream is still up.
func (c *Client) IsPrimary() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.State == Primary
}

// KnownCookie returns the cookie of the forwarding pipeline config the
// switch runs, as this client last set it (VERIFY_AND_COMMIT or
// RECONCILE_AND_COMMIT with a cookie) or read it (GetPipeline), when the
// client has been primary without a break since, for the default role: ok
// is false otherwise. Only the primary of the default role may change the
// pipeline config (spec "Reference Architecture": one controller has write
// access to the pipeline config; "Default Role"), and a switch that
// restarts ends the stream, so the answer is what GetPipeline would return,
// without the round trip. A caller that needs the switch's own word asks
// GetPipeline: so should one whose switch lets a role other than the
// default one push pipelines (a Stratum role-config extension beyond the
// spec).
func (c *Client) KnownCookie() (cookie uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.knownOK || c.knownIn != c.tenure || c.st.State != Primary || c.cfg.roleName != "" {
		return 0, false
	}
	return c.known, true
}

// pipelineView is when a pipeline call began: the tenure (if primary)
// and the SetPipeline count.
type pipelineView struct {
	tenure, seq uint64
	primary     bool
}

// beginPipelineCall returns the view of a call that begins now; change
// says the call may change the config, which forgets the known cookie.
func (c *Client) beginPipelineCall(change bool) pipelineView {
	c.mu.Lock()
	defer c.mu.Unlock()
	if change {
		c.pipeSeq++
		c.knownOK = false
	}
	return pipelineView{c.tenure, c.pipeSeq, c.st.State == Primary}
}

// learnCookie records what the switch runs, as a call begun at v saw it:
// nothing if the client was not primary then, or its tenure ended or
// another SetPipeline began since.
func (c *Client) learnCookie(v pipelineView, cookie uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !v.primary || c.tenure != v.tenure || c.pipeSeq != v.seq {
		return
	}
	c.known, c.knownIn, c.knownOK = cookie, v.tenure, ok
}

// Mastership returns a channel of mastership changes: arbitration answers
// that change the state, the reported primary election ID or this client's
// election ID, and stream losses. It holds only the latest change not yet
// read, so a reader that falls behind sees the current state, and the stream
// never waits for a reader. It is closed by Close.
func (c *Client) Mastership() <-chan MastershipEvent { return c.mastership }

// WaitPrimary blocks until the client is primary, ctx is done or the client
// is closed. The spec has no automatic promotion (spec "Rules for Handling
// MasterArbitrationUpdate Messages"): a backup becomes primary only by
// arbitrating with an election ID at least as high as any the switch has
// seen, see TakeOver.
func (c *Client) WaitPrimary(ctx context.Context) error {
	return c.wait(ctx, func(s *Status) bool { return s.State == Primary }, false)
}

// WaitConnected blocks until the stream channel is up and the switch has
// answered the arbitration (the client is primary or backup), ctx is done or
// the client is closed.
func (c *Client) WaitConnected(ctx context.Context) error { return c.waitConnected(ctx, false) }

func (c *Client) waitConnected(ctx context.Context, failFast bool) error {
	return c.wait(ctx, func(s *Status) bool { return s.State != Disconnected }, failFast)
}

func (c *Client) wait(ctx context.Context, cond func(*Status) bool, failFast bool) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if cond(&c.st) {
			c.mu.Unlock()
			return nil
		}
		last := c.st.Err
		if failFast && permanent(last) {
			c.mu.Unlock()
			return last
		}
		ch := c.changed
		state := c.st.State
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (state %s, last stream error: %v)", ctx.Err(), state, last)
			}
			return fmt.Errorf("%w (state %s)", ctx.Err(), state)
		}
	}
}

// permanent reports whether a stream error will not go away by retrying: the
// switch refused the arbitration itself (spec "Rules for Handling
// MasterArbitrationUpdate Messages").
func permanent(err error) bool {
	if err == nil {
		return false
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied,
		codes.Unauthenticated, codes.Unimplemented, codes.ResourceExhausted:
		return true
	}
	return false
}

// TakeOver makes this client primary: it re-arbitrates on the open stream
// (a second MasterArbitrationUpdate updates the stream's election ID, spec
// "Rules for Handling MasterArbitrationUpdate Messages") with an election ID
// one above the highest the switch reports (or above its own), and waits for
// the switch to confirm. The raised election ID is kept for
// later writes and reconnections. It returns nil at once if the client is
// already primary, and an error matching ErrNotPrimary if another client
// outranked it meanwhile.
func (c *Client) TakeOver(ctx context.Context) error {
	var s *session
	var old, next ElectionID
	for s == nil {
		if err := c.WaitConnected(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		if c.st.State == Primary {
			c.mu.Unlock()
			return nil
		}
		if s = c.sess; s == nil {
			c.mu.Unlock()
			continue // the stream broke in between: wait for the next one
		}
		old = c.st.ElectionID
		base := old
		if c.st.PrimaryElectionIDSet && base.Less(c.st.PrimaryElectionID) {
			base = c.st.PrimaryElectionID
		}
		next = base.Inc()
		if next == base {
			c.mu.Unlock()
			return fmt.Errorf("p4runtime take over: election ID %v has no successor", base)
		}
		c.st.ElectionID = next
		c.notifyLocked()
		c.publishLocked(c.st.State)
		c.mu.Unlock()
	}
	c.log.Info("taking over", "election_id", next, "previous_election_id", old)

	if err := c.sendOn(ctx, s, s.ctrl, c.arbitrationRequest(next)); err != nil {
		c.revertElectionID(next, old, err)
		return fmt.Errorf("p4runtime take over: %w", err)
	}
	for {
		c.mu.Lock()
		st, cur, ch := c.st, c.sess, c.changed
		c.mu.Unlock()
		switch {
		case st.State == Primary && st.ElectionID == next:
			return nil
		case cur != s:
			// The stream ended: if the switch refused the new ID (it
			// terminates the stream), go back to the old one so that
			// reconnection does not hit the same refusal.
			c.revertElectionID(next, old, st.Err)
			if st.Err != nil {
				return fmt.Errorf("p4runtime take over: stream ended: %w", st.Err)
			}
			return fmt.Errorf("p4runtime take over: %w", ErrStreamDown)
		case st.State == Backup && st.PrimaryElectionIDSet && next.Less(st.PrimaryElectionID):
			return fmt.Errorf("p4runtime take over: %w: switch reports election ID %v above ours %v", ErrNotPrimary, st.PrimaryElectionID, next)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("p4runtime take over: %w", ctx.Err())
		}
	}
}

func (c *Client) revertElectionID(next, old ElectionID, cause error) {
	if status.Code(cause) != codes.InvalidArgument {
		return
	}
	c.mu.Lock()
	if c.st.ElectionID == next {
		c.st.ElectionID = old
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// Stats returns a snapshot of the stream counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		PacketInReceived: s.packetInReceived.Load(), PacketInDropped: s.packetInDropped.Load(),
		PacketOutSent:  s.packetOutSent.Load(),
		DigestReceived: s.digestReceived.Load(), DigestDropped: s.digestDropped.Load(),
		DigestAcked: s.digestAcked.Load(), DigestAckDropped: s.digestAckDropped.Load(),
		IdleTimeoutReceived: s.idleTimeoutReceived.Load(), IdleTimeoutDropped: s.idleTimeoutDropped.Load(),
		StreamErrorReceived: s.streamErrorReceived.Load(), StreamErrorDropped: s.streamErrorDropped.Load(),
		OtherReceived: s.otherReceived.Load(), OtherDropped: s.otherDropped.Load(),
		ArbitrationReceived: s.arbitrationReceived.Load(),
		Malformed:           s.malformed.Load(),
		StreamsOpened:       s.streamsOpened.Load(),
	}
}

// Schema returns the P4Info schema in use, or nil.
func (c *Client) Schema() *schema.Schema { return c.schema.Load() }

// DeviceID returns the device ID the client was configured with.
func (c *Client) DeviceID() uint64 { return c.cfg.deviceID }

// electionID returns the current election ID for requests.
func (c *Client) electionID() ElectionID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.ElectionID
}

// role returns the arbitration role, nil for the default role (spec "Default Role").
func (c *Client) role() *p4v1.Role {
	if c.cfg.roleName == "" && c.cfg.roleConfig == nil {
		return nil
	}
	return &p4v1.Role{Name: c.cfg.roleName, Config: c.cfg.roleConfig}
}

func (c *Client) arbitrationRequest(id ElectionID) *p4v1.StreamMessageRequest {
	return &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{
			DeviceId:   c.cfg.deviceID,
			Role:       c.role(),
			ElectionId: id.Proto(),
		},
	}}
}

// callOpts are the per-call options, for connections New was given.
func (c *Client) callOpts() []grpc.CallOption {
	return []grpc.CallOption{grpc.MaxCallRecvMsgSize(c.cfg.maxMsgSize), grpc.MaxCallSendMsgSize(c.cfg.maxMsgSize)}
}

// callCtx derives the context of one RPC: cancelled by Close, and bounded by
// WithTimeout for unary calls.
func (c *Client) callCtx(ctx context.Context, unary bool) (context.Context, context.CancelFunc, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, nil, ErrClosed
	}
	var cancel context.CancelFunc
	if unary && c.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	stop := context.AfterFunc(c.ctx, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

// withCtxErr makes an RPC error that the call's context caused match the
// context's error (or ErrClosed) with errors.Is, keeping its gRPC status.
func (c *Client) withCtxErr(cctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if c.ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	if e := cctx.Err(); e != nil && !errors.Is(err, e) {
		return fmt.Errorf("%w: %w", e, err)
	}
	return err
}
