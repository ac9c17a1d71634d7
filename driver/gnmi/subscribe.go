package gnmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/internal/backoff"
)

// ListMode is the mode of a whole subscription (specification section
// 3.5.1.2).
type ListMode int

// The subscription list modes.
const (
	// Stream keeps the subscription open and streams updates; the zero
	// value, as in gNMI.
	Stream ListMode = iota
	// Once sends the current values, a sync response, and ends.
	Once
	// Poll sends the current values each time the client polls.
	Poll
)

// String returns "stream", "once" or "poll".
func (m ListMode) String() string {
	switch m {
	case Stream:
		return "stream"
	case Once:
		return "once"
	case Poll:
		return "poll"
	}
	return fmt.Sprintf("ListMode(%d)", int(m))
}

// StreamMode says when a STREAM subscription sends a path (specification
// section 3.5.1.5.2).
type StreamMode int

// The stream modes.
const (
	// TargetDefined lets the target choose per leaf: on change for state,
	// sampled for counters. The zero value, as in gNMI.
	TargetDefined StreamMode = iota
	// OnChange sends a leaf when its value changes.
	OnChange
	// Sample sends every leaf once per sample interval.
	Sample
)

// String returns "target-defined", "on-change" or "sample".
func (m StreamMode) String() string {
	switch m {
	case TargetDefined:
		return "target-defined"
	case OnChange:
		return "on-change"
	case Sample:
		return "sample"
	}
	return fmt.Sprintf("StreamMode(%d)", int(m))
}

// Subscription is one path of a subscription and how to stream it.
type Subscription struct {
	// Path is the path to subscribe to, in ParsePath syntax; wildcards are
	// allowed.
	Path string
	// Mode applies to STREAM subscriptions.
	Mode StreamMode
	// SampleInterval is the time between samples (Sample and
	// TargetDefined). Zero asks for the target's fastest rate.
	SampleInterval time.Duration
	// Heartbeat, when set, makes the target re-send values at least this
	// often: every on-change leaf, and sampled leaves that
	// SuppressRedundant holds back.
	Heartbeat time.Duration
	// SuppressRedundant makes a sampled subscription send a leaf only when
	// its value changed since the last time it was sent.
	SuppressRedundant bool
}

// SubscribeRequest describes a subscription.
type SubscribeRequest struct {
	// Mode is Stream (the default), Once or Poll.
	Mode ListMode
	// Prefix, in ParsePath syntax, is prepended to every path.
	Prefix string
	// Subscriptions lists the paths; at least one is required.
	Subscriptions []Subscription
	// UpdatesOnly skips the current values: the target sends a sync
	// response first and then only changes.
	UpdatesOnly bool
	// Encoding of the values; the zero value is JSON, as in gNMI.
	Encoding gpb.Encoding
}

// Proto builds the gNMI SubscribeRequest. target, when not empty, goes into
// the prefix.
func (r SubscribeRequest) Proto(target string) (*gpb.SubscribeRequest, error) {
	list := &gpb.SubscriptionList{UpdatesOnly: r.UpdatesOnly, Encoding: r.Encoding}
	switch r.Mode {
	case Stream:
		list.Mode = gpb.SubscriptionList_STREAM
	case Once:
		list.Mode = gpb.SubscriptionList_ONCE
	case Poll:
		list.Mode = gpb.SubscriptionList_POLL
	default:
		return nil, fmt.Errorf("mode: %v is not Stream, Once or Poll", r.Mode)
	}
	if r.Prefix != "" {
		p, err := ParsePath(r.Prefix)
		if err != nil {
			return nil, fmt.Errorf("prefix: %w", err)
		}
		list.Prefix = p
	}
	if target != "" {
		if list.Prefix == nil {
			list.Prefix = &gpb.Path{}
		}
		list.Prefix.Target = target
	}
	if len(r.Subscriptions) == 0 {
		return nil, errors.New("no subscription paths")
	}
	for i, s := range r.Subscriptions {
		p, err := ParsePath(s.Path)
		if err != nil {
			return nil, fmt.Errorf("subscription %d: %w", i, err)
		}
		if s.SampleInterval < 0 || s.Heartbeat < 0 {
			return nil, fmt.Errorf("subscription %d (%s): negative interval", i, s.Path)
		}
		sub := &gpb.Subscription{
			Path:              p,
			SampleInterval:    uint64(s.SampleInterval),
			HeartbeatInterval: uint64(s.Heartbeat),
			SuppressRedundant: s.SuppressRedundant,
		}
		switch s.Mode {
		case TargetDefined:
			sub.Mode = gpb.SubscriptionMode_TARGET_DEFINED
		case OnChange:
			sub.Mode = gpb.SubscriptionMode_ON_CHANGE
		case Sample:
			sub.Mode = gpb.SubscriptionMode_SAMPLE
		default:
			return nil, fmt.Errorf("subscription %d (%s): mode %v", i, s.Path, s.Mode)
		}
		list.Subscription = append(list.Subscription, sub)
	}
	return &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: list}}, nil
}

// Event is one thing a subscription delivers: a notification, a sync
// response, or (STREAM only) the news that the RPC broke and is being
// re-established.
type Event struct {
	// Notification is the notification as received, nil for other events.
	Notification *gpb.Notification
	// Updates is Notification flattened (see Flatten).
	Updates []Update
	// DecodeErr reports values of Notification that did not decode; the
	// subscription goes on.
	DecodeErr error
	// Sync reports a sync response: every value has been sent once (after
	// each poll, for POLL).
	Sync bool
	// Disconnected, when not nil, is why a STREAM subscription's RPC
	// ended. The subscription is re-established with backoff: the current
	// values (unless UpdatesOnly) and a new sync response follow.
	Disconnected error
}

// Retryable reports whether a subscription that failed with err is worth
// re-establishing: not when the target refused the request itself
// (InvalidArgument, NotFound, Unimplemented, PermissionDenied,
// Unauthenticated), since the same request would be refused again.
func Retryable(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.Unimplemented, codes.PermissionDenied, codes.Unauthenticated:
		return false
	}
	return true
}

// SubscribeStream is an established subscription. Read it with Recv until
// Recv returns an error; Close ends it early. Its methods are safe for
// concurrent use.
type SubscribeStream struct {
	c      *Client
	req    *gpb.SubscribeRequest
	mode   gpb.SubscriptionList_Mode
	ctx    context.Context
	cancel context.CancelFunc
	bo     *backoff.Backoff

	events chan Event
	done   chan struct{} // closed when run returns
	err    error         // why run returned; read after done

	mu          sync.Mutex
	rpc         gpb.GNMI_SubscribeClient // current RPC, for Poll
	established chan struct{}            // closed once the first RPC is up
	estOnce     sync.Once
}

// Subscribe starts a subscription. It returns at once: the target's answer,
// including a refusal of the request, comes through Recv. A STREAM
// subscription whose RPC breaks is re-established with backoff (see
// WithReconnectBackoff) and announced by an Event with Disconnected set,
// unless the target refused the request as invalid (see Retryable). ctx
// bounds the whole subscription.
func (c *Client) Subscribe(ctx context.Context, req SubscribeRequest) (*SubscribeStream, error) {
	p, err := req.Proto(c.o.target)
	if err != nil {
		return nil, fmt.Errorf("gnmi: subscribe: %w", err)
	}
	return c.SubscribeProto(ctx, p)
}

// SubscribeProto is Subscribe with a request built by the caller. The
// request must hold a SubscriptionList; it is not modified.
func (c *Client) SubscribeProto(ctx context.Context, req *gpb.SubscribeRequest) (*SubscribeStream, error) {
	if req.GetSubscribe() == nil {
		return nil, errors.New("gnmi: subscribe: request holds no SubscriptionList")
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &SubscribeStream{
		c: c, req: req, mode: req.GetSubscribe().GetMode(),
		ctx: ctx, cancel: cancel,
		bo:          backoff.New(backoff.WithBase(c.o.backoffBase), backoff.WithMax(c.o.backoffMax)),
		events:      make(chan Event, 64),
		done:        make(chan struct{}),
		established: make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// Recv returns the next event, waiting for it at most until ctx is done
// (then it returns ctx's error and the subscription goes on). When the
// subscription is over it returns the reason: io.EOF after a ONCE
// subscription's sync response or when the target ends a POLL subscription,
// the target's status error, or the context's error after Close or the
// cancellation of the context given to Subscribe.
func (s *SubscribeStream) Recv(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			<-s.done
			return Event{}, s.err
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Poll asks a POLL subscription for the current values; they arrive through
// Recv, followed by a sync response. It waits for the subscription to be
// established (or ctx to end).
func (s *SubscribeStream) Poll(ctx context.Context) error {
	if s.mode != gpb.SubscriptionList_POLL {
		return fmt.Errorf("gnmi: poll: the subscription's mode is %v, not POLL", s.mode)
	}
	select {
	case <-s.established:
	case <-s.done:
		return errors.New("gnmi: poll: the subscription is over")
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rpc == nil {
		return errors.New("gnmi: poll: the subscription is not established")
	}
	if err := s.rpc.Send(&gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}}); err != nil {
		return fmt.Errorf("gnmi: poll: %w", err)
	}
	return nil
}

// Close ends the subscription and waits for its goroutine to return.
func (s *SubscribeStream) Close() {
	s.cancel()
	<-s.done
}

// run keeps the subscription alive: one RPC for ONCE and POLL, RPCs
// re-established with backoff for STREAM.
func (s *SubscribeStream) run() {
	defer close(s.done)
	defer close(s.events)
	defer s.cancel()
	for {
		err := s.session()
		switch {
		case s.ctx.Err() != nil:
			s.err = s.ctx.Err()
			return
		case s.mode != gpb.SubscriptionList_STREAM && errors.Is(err, io.EOF):
			s.err = io.EOF
			return
		case s.mode != gpb.SubscriptionList_STREAM:
			s.err = fmt.Errorf("gnmi: subscribe: %w", err)
			return
		case !Retryable(err):
			s.err = fmt.Errorf("gnmi: subscribe: %w", err)
			return
		}
		s.c.o.log.Info("gnmi subscription broken; resubscribing", "err", err)
		if !s.emit(Event{Disconnected: err}) {
			s.err = s.ctx.Err()
			return
		}
		if err := s.bo.Wait(s.ctx); err != nil {
			s.err = err
			return
		}
	}
}

// session runs one Subscribe RPC until it ends, and returns why (io.EOF
// when the target closed it normally).
func (s *SubscribeStream) session() error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	rpc, err := s.c.raw.Subscribe(s.c.Context(ctx))
	if err != nil {
		return err
	}
	if err := rpc.Send(s.req); err != nil {
		// The RPC's status says why the send failed.
		if _, rerr := rpc.Recv(); rerr != nil {
			return rerr
		}
		return err
	}
	s.mu.Lock()
	s.rpc = rpc
	s.mu.Unlock()
	s.estOnce.Do(func() { close(s.established) })
	defer func() {
		s.mu.Lock()
		s.rpc = nil
		s.mu.Unlock()
	}()
	first := true
	for {
		resp, err := rpc.Recv()
		if err != nil {
			return err
		}
		if first {
			s.bo.Reset() // the target accepted the subscription
			first = false
		}
		var ev Event
		switch r := resp.GetResponse().(type) {
		case *gpb.SubscribeResponse_Update:
			ev.Notification = r.Update
			ev.Updates, ev.DecodeErr = Flatten(r.Update)
		case *gpb.SubscribeResponse_SyncResponse:
			ev.Sync = r.SyncResponse
		default:
			continue // the deprecated error field, or a future one
		}
		if !s.emit(ev) {
			return s.ctx.Err()
		}
		if ev.Sync && s.mode == gpb.SubscriptionList_ONCE {
			// Section 3.5.1.5.1: the target closes the RPC after the
			// sync response; report the end without waiting for it.
			return io.EOF
		}
	}
}

func (s *SubscribeStream) emit(ev Event) bool {
	select {
	case s.events <- ev:
		return true
	case <-s.ctx.Done():
		return false
	}
}
