package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// Read streams the entities matching the given requests (each one a query
// filter; a wildcard leaves key fields unset, spec "Wildcard Reads").
// The RPC starts when iteration starts and is cancelled when the loop stops
// early. An error is yielded once, last: a *ReadError when the status carries
// one p4.v1.Error per request, the gRPC status otherwise.
//
//	for e, err := range c.Read(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}}) {
//		if err != nil { ... }
//		fmt.Println(e)
//	}
func (c *Client) Read(ctx context.Context, entities ...*p4v1.Entity) iter.Seq2[*p4v1.Entity, error] {
	return func(yield func(*p4v1.Entity, error) bool) {
		if len(entities) == 0 {
			return
		}
		cctx, cancel, err := c.callCtx(ctx, false)
		if err != nil {
			yield(nil, err)
			return
		}
		defer cancel()
		req := &p4v1.ReadRequest{DeviceId: c.cfg.deviceID, Role: c.cfg.roleName, Entities: entities}
		stream, err := c.rpc.Read(cctx, req, c.callOpts()...)
		if err != nil {
			yield(nil, decodeReadError(c.withCtxErr(cctx, err), entities))
			return
		}
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, decodeReadError(c.withCtxErr(cctx, err), entities))
				return
			}
			for _, e := range resp.GetEntities() {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// ReadAll collects what Read yields. On error it returns the entities read
// so far with the error.
func (c *Client) ReadAll(ctx context.Context, entities ...*p4v1.Entity) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for e, err := range c.Read(ctx, entities...) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeReadError(err error, entities []*p4v1.Entity) error {
	st, errs, ok := p4Errors(err)
	if !ok || st.Code() != codes.Unknown || len(errs) != len(entities) {
		return fmt.Errorf("p4runtime read: %w", err)
	}
	re := &ReadError{Err: err}
	for i, e := range errs {
		code := codes.Code(uint32(e.GetCanonicalCode()))
		if code == codes.OK {
			continue
		}
		re.Entities = append(re.Entities, &EntityError{
			Index: i, Entity: entities[i], Code: code, Message: e.GetMessage(),
			Space: e.GetSpace(), SpaceCode: e.GetCode(),
		})
	}
	if len(re.Entities) == 0 {
		return fmt.Errorf("p4runtime read: %w", err)
	}
	return re
}

// errSeq yields a single error.
func errSeq(err error) iter.Seq2[*p4v1.Entity, error] {
	return func(yield func(*p4v1.Entity, error) bool) { yield(nil, err) }
}

// ReadTable reads every entry of one table, named by full name, alias or
// unique suffix through the schema.
func (c *Client) ReadTable(ctx context.Context, name string) iter.Seq2[*p4v1.Entity, error] {
	s := c.schema.Load()
	if s == nil {
		return errSeq(ErrNoSchema)
	}
	t, err := s.Table(name)
	if err != nil {
		return errSeq(err)
	}
	return c.Read(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: t.ID}}})
}

// ReadTableEntries reads the entries of every table (a wildcard table_id of
// 0). It needs no schema.
func (c *Client) ReadTableEntries(ctx context.Context) iter.Seq2[*p4v1.Entity, error] {
	return c.Read(ctx, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}})
}

// ReadCounter reads an indirect counter by name: every cell, or only the
// given indexes.
func (c *Client) ReadCounter(ctx context.Context, name string, indexes ...int64) iter.Seq2[*p4v1.Entity, error] {
	s := c.schema.Load()
	if s == nil {
		return errSeq(ErrNoSchema)
	}
	ctr, err := s.Counter(name)
	if err != nil {
		return errSeq(err)
	}
	return c.Read(ctx, indexed(indexes, func(ix *p4v1.Index) *p4v1.Entity {
		return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{CounterId: ctr.ID, Index: ix}}}
	})...)
}

// ReadMeter reads an indirect meter's configuration by name: every cell, or
// only the given indexes.
func (c *Client) ReadMeter(ctx context.Context, name string, indexes ...int64) iter.Seq2[*p4v1.Entity, error] {
	s := c.schema.Load()
	if s == nil {
		return errSeq(ErrNoSchema)
	}
	m, err := s.Meter(name)
	if err != nil {
		return errSeq(err)
	}
	return c.Read(ctx, indexed(indexes, func(ix *p4v1.Index) *p4v1.Entity {
		return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{MeterId: m.ID, Index: ix}}}
	})...)
}

// ReadRegister reads a register by name: every cell, or only the given
// indexes.
func (c *Client) ReadRegister(ctx context.Context, name string, indexes ...int64) iter.Seq2[*p4v1.Entity, error] {
	s := c.schema.Load()
	if s == nil {
		return errSeq(ErrNoSchema)
	}
	r, err := s.Register(name)
	if err != nil {
		return errSeq(err)
	}
	return c.Read(ctx, indexed(indexes, func(ix *p4v1.Index) *p4v1.Entity {
		return &p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: &p4v1.RegisterEntry{RegisterId: r.ID, Index: ix}}}
	})...)
}

// ReadDirectCounters reads the direct counter values of every entry of a
// table, named through the schema.
func (c *Client) ReadDirectCounters(ctx context.Context, table string) iter.Seq2[*p4v1.Entity, error] {
	s := c.schema.Load()
	if s == nil {
		return errSeq(ErrNoSchema)
	}
	t, err := s.Table(table)
	if err != nil {
		return errSeq(err)
	}
	if t.DirectCounter == nil {
		return errSeq(fmt.Errorf("p4runtime read: table %s has no direct counter", t.Name))
	}
	return c.Read(ctx, &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
		TableEntry: &p4v1.TableEntry{TableId: t.ID},
	}}})
}

// indexed builds one request per index, or one wildcard request (index
// unset) when there are none.
func indexed(indexes []int64, mk func(*p4v1.Index) *p4v1.Entity) []*p4v1.Entity {
	if len(indexes) == 0 {
		return []*p4v1.Entity{mk(nil)}
	}
	out := make([]*p4v1.Entity, len(indexes))
	for i, ix := range indexes {
		out[i] = mk(&p4v1.Index{Index: ix})
	}
	return out
}
