package client

import (
	"context"
	"fmt"
	"slices"
	"sync"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// batch is a slice of the caller's updates that travels in one WriteRequest.
type batch struct {
	first   int // index of updates[0] in the caller's slice
	updates []*p4v1.Update
}

// Write applies updates on the switch, split into batches of at most
// WithBatchSize updates that each fit in the maximum message size. By
// default batches are sent one after another; WithInFlight allows several at
// once. Every batch carries the client's current election ID and role.
//
// Write returns nil when every update was applied. Otherwise it returns a
// *WriteError listing each failed update by its index in updates, decoded
// from the p4.v1.Error details of the status (spec "Error
// Reporting"). A batch refused as a whole (PERMISSION_DENIED because this
// client is not primary, UNAVAILABLE, a context error, ...) marks all its
// updates failed with that code and stops the batches not yet sent, which are
// marked NotSent; errors.Is(err, ErrNotPrimary) tells a refusal for lack of
// mastership.
func (c *Client) Write(ctx context.Context, updates []*p4v1.Update, opts ...WriteOption) error {
	wc := writeConfig{batchSize: DefaultBatchSize, inFlight: 1}
	for _, o := range opts {
		if o != nil {
			o(&wc)
		}
	}
	if wc.err != nil {
		return wc.err
	}
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if len(updates) == 0 {
		return nil
	}
	sp, err := c.newSplitter(updates, wc)
	if err != nil {
		return err
	}
	werr := &WriteError{Total: len(updates)}
	var mu sync.Mutex // guards werr once batches run concurrently
	record := func(entries []*UpdateError, rpcErr error) {
		mu.Lock()
		defer mu.Unlock()
		werr.Updates = append(werr.Updates, entries...)
		if rpcErr != nil && werr.Err == nil {
			werr.Err = rpcErr
		}
		if rpcErr != nil && rpcNotPrimary(rpcErr) {
			werr.notPrimary = true
		}
	}

	var (
		stop    bool  // a batch failed as a whole: send no more (guarded by mu)
		stopErr error // why
		wg      sync.WaitGroup
		sem     = make(chan struct{}, wc.inFlight)
	)
	halt := func(err error) {
		mu.Lock()
		if !stop {
			stop, stopErr = true, err
		}
		mu.Unlock()
	}
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return stop
	}
	stopErrOf := func() error {
		mu.Lock()
		defer mu.Unlock()
		return stopErr
	}
	for {
		b, oversize, ok := sp.take()
		if !ok {
			break
		}
		record(oversize, nil)
		if len(b.updates) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			halt(err)
			record(nil, err)
			record(notSent(b, err), nil)
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			halt(ctx.Err())
			record(nil, ctx.Err())
		}
		if stopped() {
			<-sem
			record(notSent(b, stopErrOf()), nil)
			break
		}
		send := func() {
			entries, rpcErr := c.writeBatch(ctx, b, wc.atomicity, wc.encoded)
			if rpcErr != nil {
				halt(rpcErr)
			}
			record(entries, rpcErr)
		}
		if wc.inFlight == 1 {
			// One write at a time: sent from here, not handed to a
			// goroutine only to wait for it.
			send()
			<-sem
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			send()
		}()
	}
	wg.Wait()
	for {
		rest, oversize, ok := sp.take()
		if !ok {
			break
		}
		record(oversize, nil)
		if len(rest.updates) > 0 {
			record(notSent(rest, stopErr), nil)
		}
	}
	if len(werr.Updates) == 0 && werr.Err == nil {
		return nil
	}
	slices.SortFunc(werr.Updates, func(a, b *UpdateError) int { return a.Index - b.Index })
	return werr
}

func notSent(b batch, cause error) []*UpdateError {
	msg := "an earlier batch failed"
	if cause != nil {
		msg = fmt.Sprintf("an earlier batch failed: %v", cause)
	}
	out := make([]*UpdateError, len(b.updates))
	for i, u := range b.updates {
		out[i] = &UpdateError{Index: b.first + i, Update: u, Code: codes.Aborted, Message: msg, NotSent: true}
	}
	return out
}

// writeBatch sends one WriteRequest, with the entities' encodings from
// encoded where it has them. It returns one entry per failed update, and
// the RPC error when the batch failed as a whole.
func (c *Client) writeBatch(ctx context.Context, b batch, atomicity p4v1.WriteRequest_Atomicity, encoded func(*p4v1.Entity) []byte) ([]*UpdateError, error) {
	req := &p4v1.WriteRequest{
		DeviceId:   c.cfg.deviceID,
		Role:       c.cfg.roleName,
		ElectionId: c.electionID().Proto(),
		Updates:    b.updates,
		Atomicity:  atomicity,
	}
	cctx, cancel, err := c.callCtx(ctx, true)
	if err != nil {
		return batchFailed(b, codes.Canceled, err.Error()), err
	}
	if cc, ok := c.cc.(*grpc.ClientConn); ok && encoded != nil {
		// A *grpc.ClientConn honours ForceCodecV2; another
		// ClientConnInterface (New's) gets the message.
		var wire []byte
		if wire, err = appendWriteRequest(nil, req, encoded); err == nil {
			err = cc.Invoke(cctx, p4v1.P4Runtime_Write_FullMethodName, encodedRequest(wire), new(p4v1.WriteResponse),
				append(c.callOpts(), grpc.ForceCodecV2(rawCodec{}))...)
		}
	} else {
		_, err = c.rpc.Write(cctx, req, c.callOpts()...)
	}
	err = c.withCtxErr(cctx, err)
	cancel()
	if err == nil {
		return nil, nil
	}
	entries, whole := decodeWriteError(err, b)
	if !whole {
		return entries, nil
	}
	if rpcNotPrimary(err) {
		err = fmt.Errorf("%w: %w", ErrNotPrimary, err)
	}
	return entries, err
}

// decodeWriteError maps a failed Write to per-update entries. whole is true
// when the status does not carry one p4.v1.Error per update (spec "Error Reporting" of the Write RPC: a
// status other than UNKNOWN, or details that do not match the batch): then
// every update of the batch gets the RPC's code and message.
func decodeWriteError(err error, b batch) (entries []*UpdateError, whole bool) {
	st, errs, ok := p4Errors(err)
	if ok && st.Code() == codes.Unknown && len(errs) == len(b.updates) {
		for i, e := range errs {
			code := codes.Code(uint32(e.GetCanonicalCode()))
			if code == codes.OK {
				continue
			}
			entries = append(entries, &UpdateError{
				Index: b.first + i, Update: b.updates[i], Code: code, Message: e.GetMessage(),
				Space: e.GetSpace(), SpaceCode: e.GetCode(), Details: e.GetDetails(),
			})
		}
		if len(entries) > 0 {
			return entries, false
		}
	}
	code, msg := status.Code(err), err.Error()
	if s, isStatus := status.FromError(err); isStatus {
		msg = s.Message()
		if ok && len(errs) != len(b.updates) {
			msg = fmt.Sprintf("%s (%d error details for %d updates)", msg, len(errs), len(b.updates))
		}
	}
	return batchFailed(b, code, msg), true
}

func batchFailed(b batch, code codes.Code, msg string) []*UpdateError {
	out := make([]*UpdateError, len(b.updates))
	for i, u := range b.updates {
		out[i] = &UpdateError{Index: b.first + i, Update: u, Code: code, Message: msg}
	}
	return out
}

// splitter cuts updates into batches of at most wc.batchSize updates whose
// WriteRequest stays under the maximum message size, one batch at a time:
// Write sizes batch k+1 while batch k is on the wire, so the sizing pass
// (a walk over every update) overlaps with the switch's work instead of
// delaying the first write. An update that alone exceeds the limit cannot
// be sent and is reported with its batch. Atomic modes get a single batch
// or an error.
type splitter struct {
	updates   []*p4v1.Update
	next      int // index of the next update to place
	batchSize int
	limit     int
	encoded   func(*p4v1.Entity) []byte // WithEncodedEntities
}

// size is u's size inside a WriteRequest.
func (sp *splitter) size(u *p4v1.Update) int {
	if sp.encoded != nil {
		return encodedUpdateWireSize(u, sp.encoded)
	}
	return updateWireSize(u)
}

func (c *Client) newSplitter(updates []*p4v1.Update, wc writeConfig) (*splitter, error) {
	// The request without its updates, with the largest election ID.
	head := proto.Size(&p4v1.WriteRequest{
		DeviceId:   c.cfg.deviceID,
		Role:       c.cfg.roleName,
		ElectionId: &p4v1.Uint128{High: ^uint64(0), Low: ^uint64(0)},
		Atomicity:  wc.atomicity,
	})
	sp := &splitter{updates: updates, batchSize: wc.batchSize, limit: c.cfg.maxMsgSize - head - 64, encoded: wc.encoded} // margin for gRPC framing
	if wc.atomicity != p4v1.WriteRequest_CONTINUE_ON_ERROR {
		total := 0
		for _, u := range updates {
			total += sp.size(u)
		}
		if total > sp.limit {
			return nil, fmt.Errorf("p4runtime write: %w: %d updates need %d bytes in one %s batch, the limit is %d",
				ErrTooLarge, len(updates), total+head, wc.atomicity, c.cfg.maxMsgSize)
		}
		sp.batchSize = len(updates) // one batch, whatever the count
	}
	return sp, nil
}

// take returns the next batch (possibly empty when only oversize updates
// were left) and the oversize updates met on the way; ok is false when
// every update has been placed.
func (sp *splitter) take() (b batch, oversize []*UpdateError, ok bool) {
	if sp.next >= len(sp.updates) {
		return batch{}, nil, false
	}
	size := 0
	b.first = sp.next
	for ; sp.next < len(sp.updates); sp.next++ {
		i, u := sp.next, sp.updates[sp.next]
		n := sp.size(u)
		if n > sp.limit {
			oversize = append(oversize, &UpdateError{
				Index: i, Update: u, Code: codes.ResourceExhausted, NotSent: true,
				Message: fmt.Sprintf("%v: update is %d bytes, the limit is %d", ErrTooLarge, n, sp.limit),
			})
			if len(b.updates) > 0 {
				sp.next++
				break // a batch holds consecutive updates only
			}
			b.first = i + 1
			continue
		}
		if len(b.updates) > 0 && (len(b.updates) >= sp.batchSize || size+n > sp.limit) {
			break
		}
		if len(b.updates) == 0 {
			// Reslice the caller's slice: no copy.
			b.first = i
		}
		b.updates = sp.updates[b.first : i+1 : i+1]
		size += n
	}
	return b, oversize, true
}

// split cuts all updates into batches at once (see splitter).
func (c *Client) split(updates []*p4v1.Update, wc writeConfig) (batches []batch, oversize []*UpdateError, err error) {
	sp, err := c.newSplitter(updates, wc)
	if err != nil {
		return nil, nil, err
	}
	for {
		b, over, ok := sp.take()
		if !ok {
			return batches, oversize, nil
		}
		oversize = append(oversize, over...)
		if len(b.updates) > 0 {
			batches = append(batches, b)
		}
	}
}

// updateWireSize is the size of one update inside a WriteRequest: tag,
// length and message.
func updateWireSize(u *p4v1.Update) int {
	n := proto.Size(u)
	return protowire.SizeTag(4) + protowire.SizeBytes(n)
}

// Insert writes INSERT updates for entities.
func (c *Client) Insert(ctx context.Context, entities ...*p4v1.Entity) error {
	return c.Write(ctx, updatesOf(p4v1.Update_INSERT, entities))
}

// Modify writes MODIFY updates for entities.
func (c *Client) Modify(ctx context.Context, entities ...*p4v1.Entity) error {
	return c.Write(ctx, updatesOf(p4v1.Update_MODIFY, entities))
}

// Delete writes DELETE updates for entities.
func (c *Client) Delete(ctx context.Context, entities ...*p4v1.Entity) error {
	return c.Write(ctx, updatesOf(p4v1.Update_DELETE, entities))
}

func updatesOf(t p4v1.Update_Type, entities []*p4v1.Entity) []*p4v1.Update {
	out := make([]*p4v1.Update, len(entities))
	for i, e := range entities {
		out[i] = &p4v1.Update{Type: t, Entity: e}
	}
	return out
}
