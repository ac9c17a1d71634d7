package client

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// WithEncodedEntities gives Write the wire encoding of entities the caller
// has encoded already, for its own journal say: f returns an entity's
// proto encoding (proto.Marshal's bytes), or nil when it has none. Write
// sends those bytes as they are instead of encoding the entity again, and
// again to size it; the request on the wire is the same. The bytes must
// be the encoding of that entity as it is when Write runs. The request
// then crosses the client's interceptors already encoded. It takes a
// *grpc.ClientConn (Dial's, or one given to New); over another connection
// the entities are encoded as usual.
func WithEncodedEntities(f func(*p4v1.Entity) []byte) WriteOption {
	return func(w *writeConfig) { w.encoded = f }
}

// encodedRequest is a message in wire form; rawCodec sends its bytes.
type encodedRequest []byte

// rawCodec sends an encodedRequest as it is, and anything else, answers
// included, as gRPC's proto codec does. Its name is the proto codec's, so
// the request's content type is the usual one.
type rawCodec struct{}

var protoCodec = encoding.GetCodecV2(grpcproto.Name)

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := v.(encodedRequest); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return protoCodec.Marshal(v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error { return protoCodec.Unmarshal(data, v) }

func (rawCodec) Name() string { return grpcproto.Name }

// WriteRequest field numbers (p4runtime.proto).
const (
	fieldDeviceID   = 1
	fieldRoleID     = 2
	fieldElectionID = 3
	fieldUpdates    = 4
	fieldAtomicity  = 5
	fieldRole       = 6
	fieldUpdateType = 1 // Update.type
	fieldUpdateEnt  = 2 // Update.entity
)

// encodedEntity returns e's encoding from enc, or nil.
func encodedEntity(e *p4v1.Entity, enc func(*p4v1.Entity) []byte) []byte {
	if e == nil || enc == nil {
		return nil
	}
	return enc(e)
}

// plainUpdate reports whether u holds nothing but its type and entity,
// which appendUpdate writes by hand.
func plainUpdate(u *p4v1.Update) bool {
	return len(u.ProtoReflect().GetUnknown()) == 0
}

// updateBodySize is the size of u's own encoding, with its entity's from
// enc when there.
func updateBodySize(u *p4v1.Update, ent []byte) int {
	n := 0
	if t := u.GetType(); t != 0 {
		n += protowire.SizeTag(fieldUpdateType) + protowire.SizeVarint(uint64(t))
	}
	n += protowire.SizeTag(fieldUpdateEnt) + protowire.SizeBytes(len(ent))
	return n
}

// encodedUpdateWireSize is updateWireSize, with the entity's encoding
// from enc when there.
func encodedUpdateWireSize(u *p4v1.Update, enc func(*p4v1.Entity) []byte) int {
	ent := encodedEntity(u.GetEntity(), enc)
	if ent == nil || !plainUpdate(u) {
		return updateWireSize(u)
	}
	return protowire.SizeTag(fieldUpdates) + protowire.SizeBytes(updateBodySize(u, ent))
}

// appendWriteRequest appends the encoding of req to b, with the encoding of
// each update's entity from enc where it has one: the bytes proto.Marshal
// writes for req, fields in number order, zero values left out.
func appendWriteRequest(b []byte, req *p4v1.WriteRequest, enc func(*p4v1.Entity) []byte) ([]byte, error) {
	if len(req.ProtoReflect().GetUnknown()) != 0 {
		// Not a request Write builds: encode it whole.
		return proto.MarshalOptions{}.MarshalAppend(b, req)
	}
	if v := req.GetDeviceId(); v != 0 {
		b = protowire.AppendTag(b, fieldDeviceID, protowire.VarintType)
		b = protowire.AppendVarint(b, v)
	}
	if v := req.GetRoleId(); v != 0 { //nolint:staticcheck // the deprecated field, kept if set
		b = protowire.AppendTag(b, fieldRoleID, protowire.VarintType)
		b = protowire.AppendVarint(b, v)
	}
	if e := req.GetElectionId(); e != nil {
		b = protowire.AppendTag(b, fieldElectionID, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(proto.Size(e)))
		var err error
		if b, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(b, e); err != nil {
			return nil, err
		}
	}
	for _, u := range req.GetUpdates() {
		ent := encodedEntity(u.GetEntity(), enc)
		b = protowire.AppendTag(b, fieldUpdates, protowire.BytesType)
		if ent == nil || !plainUpdate(u) {
			b = protowire.AppendVarint(b, uint64(proto.Size(u)))
			var err error
			if b, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(b, u); err != nil {
				return nil, err
			}
			continue
		}
		b = protowire.AppendVarint(b, uint64(updateBodySize(u, ent)))
		if t := u.GetType(); t != 0 {
			b = protowire.AppendTag(b, fieldUpdateType, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(t))
		}
		b = protowire.AppendTag(b, fieldUpdateEnt, protowire.BytesType)
		b = protowire.AppendBytes(b, ent)
	}
	if v := req.GetAtomicity(); v != 0 {
		b = protowire.AppendTag(b, fieldAtomicity, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v))
	}
	if v := req.GetRole(); v != "" {
		b = protowire.AppendTag(b, fieldRole, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b, nil
}
