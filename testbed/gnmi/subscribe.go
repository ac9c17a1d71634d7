package gnmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/openconfig/gnmi/ctree"
	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/openconfig/gnmi/value"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// maxSubscriptions bounds the paths of one SubscriptionList.
const maxSubscriptions = 1024

// Subscribe implements gNMI Subscribe (specification section 3.5) on top of
// openconfig/gnmi's cache and match packages. (The subscribe package of
// openconfig/gnmi is not used: it streams every mode as on-change, ignores
// sample intervals, heartbeats and suppress_redundant, requires a target in
// the prefix, coalesces queued updates so that a burst of system messages
// would lose all but the last, and logs every subscription through glog.)
//
//   - ONCE: the current values, a sync response, and the RPC ends
//     (3.5.1.5.1).
//   - POLL: the current values and a sync response at the start and after
//     every Poll request (3.5.1.5.3).
//   - STREAM (3.5.1.5.2): ON_CHANGE sends the current values, then every
//     change as it is published, and with a heartbeat_interval re-sends
//     every value that often; SAMPLE sends every value once per
//     sample_interval (0 means the minimum, WithMinSampleInterval; shorter
//     intervals are INVALID_ARGUMENT), holding back unchanged values when
//     suppress_redundant is set unless the heartbeat interval has passed,
//     and sends a delete for a leaf that disappeared since the last sample;
//     TARGET_DEFINED samples counters and current-datetime (at the
//     subscription's sample_interval, or WithTargetDefinedSample) and
//     streams everything else on change. The initial values are followed by
//     a sync response.
//   - updates_only: the sync response comes first and only later changes or
//     samples follow; for ONCE only the sync response is sent, for POLL the
//     first answer is only the sync response and every poll then sends the
//     current values (3.5.2.3).
//
// Each update holds one leaf (no aggregation), except system messages,
// which are atomic notifications of /messages/state/message. Timestamps are
// the time of the change for on-change updates and of the sample for
// samples and polls. A slow reader is disconnected with RESOURCE_EXHAUSTED
// when WithMaxQueue updates wait for it.
func (s *Server) Subscribe(stream gpb.GNMI_SubscribeServer) error {
	if err := s.authenticate(stream.Context()); err != nil {
		return err
	}
	req, err := stream.Recv()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	list := req.GetSubscribe()
	if list == nil {
		// Section 3.5.1.1: an RPC must start with a SubscriptionList.
		return status.Error(codes.InvalidArgument, "gnmi: subscribe: the first request must hold a SubscriptionList (poll on a subscription that does not exist)")
	}
	sub, err := s.newSubscription(stream, list)
	if err != nil {
		return err
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	return sub.run()
}

// subscription is one Subscribe RPC.
type subscription struct {
	s           *Server
	stream      gpb.GNMI_SubscribeServer
	ctx         context.Context
	mode        gpb.SubscriptionList_Mode
	enc         gpb.Encoding
	prefix      *gpb.Path
	updatesOnly bool
	allowed     map[string]bool
	entries     []*entry
	system      bool // some entry may cover /system

	qmu      sync.Mutex
	queue    []*gpb.Notification
	overflow bool
	wake     chan struct{}
}

// entry is one path of a subscription in one mode (a TARGET_DEFINED path
// becomes two entries: on-change and sampled).
type entry struct {
	sub       *subscription
	pt        *pattern
	onChange  bool
	sampled   func(*node) bool // which leaves this entry takes; nil: all
	interval  time.Duration    // SAMPLE
	heartbeat time.Duration
	suppress  bool
	next      time.Time // next sample or heartbeat; zero: no timer
	last      map[*ctree.Leaf]*sent
	gen       uint64
}

// sent is what a sampled entry last sent for one leaf.
type sent struct {
	n     *gpb.Notification
	elems []*gpb.PathElem
	at    time.Time
	gen   uint64
}

func (s *Server) newSubscription(stream gpb.GNMI_SubscribeServer, list *gpb.SubscriptionList) (*subscription, error) {
	bad := func(format string, args ...any) error {
		return status.Errorf(codes.InvalidArgument, "gnmi: subscribe: "+format, args...)
	}
	switch list.GetMode() {
	case gpb.SubscriptionList_STREAM, gpb.SubscriptionList_ONCE, gpb.SubscriptionList_POLL:
	default:
		return nil, bad("unknown mode %v", list.GetMode())
	}
	if err := checkEncoding(list.GetEncoding()); err != nil {
		return nil, err
	}
	allowed, err := modelFilter(list.GetUseModels())
	if err != nil {
		return nil, err
	}
	subs := list.GetSubscription()
	if len(subs) == 0 {
		return nil, bad("the SubscriptionList holds no subscription (section 3.5.1.2)")
	}
	if len(subs) > maxSubscriptions {
		return nil, bad("%d subscriptions, more than %d", len(subs), maxSubscriptions)
	}
	sub := &subscription{
		s: s, stream: stream, ctx: stream.Context(),
		mode: list.GetMode(), enc: list.GetEncoding(),
		prefix:      responsePrefix(list.GetPrefix()),
		updatesOnly: list.GetUpdatesOnly(),
		allowed:     allowed,
		wake:        make(chan struct{}, 1),
	}
	sampled := func(n *node) bool { return n != nil && n.sampled }
	notSampled := func(n *node) bool { return n == nil || !n.sampled }
	for i, sp := range subs {
		full, err := joinPath(list.GetPrefix(), sp.GetPath())
		var pt *pattern
		if err == nil {
			pt, err = resolve(full)
		}
		if err != nil {
			return nil, bad("subscription %d: %v", i, err)
		}
		sub.system = sub.system || pt.top["system"]
		interval := time.Duration(min(sp.GetSampleInterval(), uint64(1<<62)))
		heartbeat := time.Duration(min(sp.GetHeartbeatInterval(), uint64(1<<62)))
		if interval != 0 && interval < s.o.minSample {
			return nil, bad("subscription %d (%s): sample_interval %v is below the minimum %v", i, pt.text, interval, s.o.minSample)
		}
		if heartbeat != 0 && heartbeat < s.o.minSample {
			return nil, bad("subscription %d (%s): heartbeat_interval %v is below the minimum %v", i, pt.text, heartbeat, s.o.minSample)
		}
		if interval == 0 {
			interval = s.o.minSample
		}
		base := entry{sub: sub, pt: pt, heartbeat: heartbeat, suppress: sp.GetSuppressRedundant()}
		if list.GetMode() != gpb.SubscriptionList_STREAM {
			e := base
			sub.entries = append(sub.entries, &e)
			continue
		}
		switch sp.GetMode() {
		case gpb.SubscriptionMode_ON_CHANGE:
			e := base
			e.onChange = true
			sub.entries = append(sub.entries, &e)
		case gpb.SubscriptionMode_SAMPLE:
			e := base
			e.interval = interval
			sub.entries = append(sub.entries, &e)
		case gpb.SubscriptionMode_TARGET_DEFINED:
			oc := base
			oc.onChange, oc.sampled = true, notSampled
			sm := base
			sm.sampled, sm.interval = sampled, s.o.targetDefinedSample
			if sp.GetSampleInterval() != 0 {
				sm.interval = interval
			}
			sub.entries = append(sub.entries, &oc, &sm)
		default:
			return nil, bad("subscription %d (%s): unknown mode %v", i, pt.text, sp.GetMode())
		}
	}
	return sub, nil
}

// Update receives a published change from the match tree (match.Client).
// It runs with the server's lock held and only queues.
func (e *entry) Update(v any) {
	n, ok := v.(*gpb.Notification)
	if !ok {
		return
	}
	var elems []*gpb.PathElem
	atomic := false
	if len(n.GetDelete()) > 0 {
		elems = n.GetDelete()[0].GetElem()
	} else {
		elems, atomic = leafElems(n)
	}
	if !e.takes(elems, atomic) {
		return
	}
	e.sub.enqueue(n)
}

// takes reports whether the entry covers the leaf at elems.
func (e *entry) takes(elems []*gpb.PathElem, atomic bool) bool {
	if !e.pt.covers(elems, atomic) {
		return false
	}
	if e.sub.allowed != nil && !e.sub.allowed[topName(elems)] {
		return false
	}
	if e.sampled != nil && !e.sampled(lookup(elems)) {
		return false
	}
	return true
}

func (sub *subscription) enqueue(n *gpb.Notification) {
	sub.qmu.Lock()
	if len(sub.queue) >= sub.s.o.maxQueue {
		sub.overflow = true
	} else {
		sub.queue = append(sub.queue, n)
	}
	sub.qmu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// run serves the subscription until it ends.
func (sub *subscription) run() error {
	polls := make(chan struct{}, 1)
	recvErr := make(chan error, 1)
	go sub.receive(polls, recvErr)

	s := sub.s
	s.syncCounters()
	if sub.system {
		s.refreshClock()
	}
	var initial []pending
	var removes []func()
	defer func() {
		for _, r := range removes {
			r()
		}
	}()
	now := time.Now()
	s.mu.RLock()
	if sub.mode == gpb.SubscriptionList_STREAM {
		for _, e := range sub.entries {
			if e.onChange {
				removes = append(removes, s.match.AddQuery(e.pt.query, e))
			}
		}
	}
	if sub.mode == gpb.SubscriptionList_STREAM {
		for _, e := range sub.entries {
			if !e.onChange {
				// Remember what each sample sent, for suppress_redundant
				// and for deletes; the initial values are the first
				// sample.
				e.last, e.gen = map[*ctree.Leaf]*sent{}, 1
			}
		}
	}
	if !sub.updatesOnly {
		for _, e := range sub.entries {
			initial = sub.snapshot(e, initial, !e.onChange || sub.mode != gpb.SubscriptionList_STREAM, now)
		}
	}
	s.mu.RUnlock()

	if sub.updatesOnly {
		if err := sub.sendSync(); err != nil {
			return err
		}
	}
	for _, p := range initial {
		if err := sub.send(p.n, p.ts); err != nil {
			return err
		}
	}
	if !sub.updatesOnly {
		if err := sub.sendSync(); err != nil {
			return err
		}
	}
	switch sub.mode {
	case gpb.SubscriptionList_ONCE:
		return nil
	case gpb.SubscriptionList_POLL:
		return sub.pollLoop(polls, recvErr)
	}
	return sub.streamLoop(now, recvErr)
}

// pending is a notification to send, with the timestamp to give it (0
// keeps the stored one).
type pending struct {
	n  *gpb.Notification
	ts int64
}

// snapshot appends the entry's current leaves. sample says whether this is
// a sample (timestamp now, remembered for suppress_redundant and deletes)
// or the initial state of an on-change entry (stored timestamps). Caller
// holds s.mu (read).
func (sub *subscription) snapshot(e *entry, dst []pending, sample bool, now time.Time) []pending {
	ts := int64(0)
	if sample {
		ts = sub.s.o.clock().UnixNano()
	}
	_ = sub.s.cache.Query(sub.s.o.name, e.pt.query, func(_ []string, l *ctree.Leaf, v any) error {
		n, ok := v.(*gpb.Notification)
		if !ok {
			return nil
		}
		elems, atomic := leafElems(n)
		if !e.takes(elems, atomic) {
			return nil
		}
		if sample && e.last != nil {
			e.last[l] = &sent{n: n, elems: elems, at: now, gen: e.gen}
		}
		if atomic {
			dst = append(dst, pending{n: n}) // a message keeps its event time
		} else {
			dst = append(dst, pending{n: n, ts: ts})
		}
		return nil
	})
	return dst
}

// receive reads the client's further requests: polls for POLL, anything
// else is an error (section 3.5.1.1).
func (sub *subscription) receive(polls chan<- struct{}, errc chan<- error) {
	for {
		req, err := sub.stream.Recv()
		if err != nil {
			if err == io.EOF && sub.mode == gpb.SubscriptionList_STREAM {
				return // half-close: keep streaming until cancelled
			}
			errc <- err
			return
		}
		switch {
		case req.GetPoll() != nil && sub.mode == gpb.SubscriptionList_POLL:
			// Every poll gets its own answer (section 3.5.1.5.3); a
			// client polling faster than the answers go waits here.
			select {
			case polls <- struct{}{}:
			case <-sub.ctx.Done():
				return
			}
		case req.GetPoll() != nil:
			errc <- status.Errorf(codes.InvalidArgument, "gnmi: subscribe: poll on a %v subscription", sub.mode)
			return
		case req.GetSubscribe() != nil:
			errc <- status.Error(codes.InvalidArgument, "gnmi: subscribe: a second SubscriptionList on an established subscription")
			return
		default:
			errc <- status.Error(codes.InvalidArgument, "gnmi: subscribe: empty request")
			return
		}
	}
}

func (sub *subscription) pollLoop(polls <-chan struct{}, recvErr <-chan error) error {
	for {
		select {
		case <-polls:
			sub.s.syncCounters()
			if sub.system {
				sub.s.refreshClock()
			}
			now := time.Now()
			var out []pending
			sub.s.mu.RLock()
			for _, e := range sub.entries {
				out = sub.snapshot(e, out, true, now)
			}
			sub.s.mu.RUnlock()
			for _, p := range out {
				if err := sub.send(p.n, p.ts); err != nil {
					return err
				}
			}
			if err := sub.sendSync(); err != nil {
				return err
			}
		case err := <-recvErr:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-sub.ctx.Done():
			return status.FromContextError(sub.ctx.Err()).Err()
		}
	}
}

func (sub *subscription) streamLoop(start time.Time, recvErr <-chan error) error {
	for _, e := range sub.entries {
		switch {
		case !e.onChange:
			e.next = start.Add(e.interval)
		case e.heartbeat > 0:
			e.next = start.Add(e.heartbeat)
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := time.Time{}
		for _, e := range sub.entries {
			if !e.next.IsZero() && (next.IsZero() || e.next.Before(next)) {
				next = e.next
			}
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			tc = timer.C
		}
		select {
		case <-sub.wake:
			if err := sub.drain(); err != nil {
				return err
			}
		case now := <-tc:
			if err := sub.tick(now); err != nil {
				return err
			}
		case err := <-recvErr:
			return err
		case <-sub.ctx.Done():
			return status.FromContextError(sub.ctx.Err()).Err()
		}
		if !next.IsZero() && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// drain sends the queued on-change updates.
func (sub *subscription) drain() error {
	sub.qmu.Lock()
	q, overflow := sub.queue, sub.overflow
	sub.queue = nil
	sub.qmu.Unlock()
	if overflow {
		return status.Errorf(codes.ResourceExhausted, "gnmi: subscribe: more than %d updates waiting: the client reads too slowly", sub.s.o.maxQueue)
	}
	for _, n := range q {
		if err := sub.send(n, 0); err != nil {
			return err
		}
	}
	return nil
}

// tick runs the samples and heartbeats that are due.
func (sub *subscription) tick(now time.Time) error {
	refreshed := false
	for _, e := range sub.entries {
		if e.next.IsZero() || e.next.After(now) {
			continue
		}
		if !refreshed {
			sub.s.syncCounters()
			if sub.system {
				sub.s.refreshClock()
			}
			refreshed = true
			now = time.Now()
		}
		period := e.heartbeat
		if !e.onChange {
			period = e.interval
		}
		if e.next = e.next.Add(period); !e.next.After(now) {
			e.next = now.Add(period) // fell behind: skip the missed ones
		}
		var err error
		if e.onChange {
			err = sub.heartbeat(e, now)
		} else {
			err = sub.sample(e, now)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// heartbeat re-sends every leaf of an on-change entry.
func (sub *subscription) heartbeat(e *entry, now time.Time) error {
	sub.s.mu.RLock()
	out := sub.snapshot(e, nil, true, now)
	sub.s.mu.RUnlock()
	for _, p := range out {
		if err := sub.send(p.n, p.ts); err != nil {
			return err
		}
	}
	return nil
}

// sample sends one sample of a sampled entry.
func (sub *subscription) sample(e *entry, now time.Time) error {
	type item struct {
		l *ctree.Leaf
		n *gpb.Notification
	}
	var items []item
	sub.s.mu.RLock()
	_ = sub.s.cache.Query(sub.s.o.name, e.pt.query, func(_ []string, l *ctree.Leaf, v any) error {
		if n, ok := v.(*gpb.Notification); ok {
			elems, atomic := leafElems(n)
			if e.takes(elems, atomic) {
				items = append(items, item{l, n})
			}
		}
		return nil
	})
	sub.s.mu.RUnlock()
	e.gen++
	ts := sub.s.o.clock().UnixNano()
	for _, it := range items {
		prev := e.last[it.l]
		elems, atomic := leafElems(it.n)
		send := true
		if e.suppress && prev != nil && sameValue(prev.n, it.n) {
			send = e.heartbeat > 0 && now.Sub(prev.at) >= e.heartbeat
		}
		if !send {
			prev.gen = e.gen
			continue
		}
		if prev == nil {
			prev = &sent{}
			e.last[it.l] = prev
		}
		*prev = sent{n: it.n, elems: elems, at: now, gen: e.gen}
		stamp := ts
		if atomic {
			stamp = 0
		}
		if err := sub.send(it.n, stamp); err != nil {
			return err
		}
	}
	for l, prev := range e.last {
		if prev.gen == e.gen {
			continue
		}
		delete(e.last, l)
		del := &gpb.Notification{Timestamp: ts, Delete: []*gpb.Path{{Elem: prev.elems}}}
		if err := sub.send(del, 0); err != nil {
			return err
		}
	}
	return nil
}

// sameValue compares two cache entries of one leaf.
func sameValue(a, b *gpb.Notification) bool {
	if a == b {
		return true
	}
	if a.GetAtomic() || b.GetAtomic() {
		return proto.Equal(a, b)
	}
	if len(a.GetUpdate()) != 1 || len(b.GetUpdate()) != 1 {
		return false
	}
	return value.Equal(a.GetUpdate()[0].GetVal(), b.GetUpdate()[0].GetVal())
}

func (sub *subscription) sendSync() error {
	return sub.stream.Send(&gpb.SubscribeResponse{Response: &gpb.SubscribeResponse_SyncResponse{SyncResponse: true}})
}

// send sends one cache entry (a leaf, an atomic message or a delete) in the
// subscription's encoding, with timestamp ts (0 keeps the stored one).
func (sub *subscription) send(n *gpb.Notification, ts int64) error {
	if ts == 0 {
		ts = n.GetTimestamp()
	}
	out := &gpb.Notification{Timestamp: ts, Prefix: sub.prefix}
	switch {
	case len(n.GetDelete()) > 0:
		out.Delete = n.GetDelete()
	case n.GetAtomic():
		pre := &gpb.Path{Elem: n.GetPrefix().GetElem()}
		if sub.prefix != nil {
			pre.Target, pre.Origin = sub.prefix.GetTarget(), sub.prefix.GetOrigin()
		}
		out.Prefix, out.Atomic = pre, true
		for _, u := range n.GetUpdate() {
			out.Update = append(out.Update, &gpb.Update{Path: u.GetPath(), Val: jsonLeafValue(u.GetVal(), sub.enc, nil)})
		}
	case len(n.GetUpdate()) == 1:
		u := n.GetUpdate()[0]
		out.Update = []*gpb.Update{{Path: u.GetPath(), Val: jsonLeafValue(u.GetVal(), sub.enc, lookup(u.GetPath().GetElem()))}}
	default:
		return nil
	}
	if err := sub.stream.Send(&gpb.SubscribeResponse{Response: &gpb.SubscribeResponse_Update{Update: out}}); err != nil {
		return fmt.Errorf("gnmi: subscribe: send: %w", err)
	}
	return nil
}
