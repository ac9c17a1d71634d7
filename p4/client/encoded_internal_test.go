package client

import (
	"bytes"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// encodings returns a lookup of the proto encoding of the entities of ups
// whose index is even (the others have none).
func encodings(t *testing.T, ups []*p4v1.Update) func(*p4v1.Entity) []byte {
	t.Helper()
	m := map[*p4v1.Entity][]byte{}
	for i, u := range ups {
		if i%2 == 1 || u.GetEntity() == nil {
			continue
		}
		b, err := proto.Marshal(u.GetEntity())
		if err != nil {
			t.Fatal(err)
		}
		m[u.GetEntity()] = b
	}
	return func(e *p4v1.Entity) []byte { return m[e] }
}

// TestAppendWriteRequest: the request built from encoded entities is the
// bytes proto.Marshal writes for it, whatever fields are set, and each
// update's size is what the splitter counts.
func TestAppendWriteRequest(t *testing.T) {
	withUnknown := &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: mkUpdates(1, 3)[0].Entity}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 7))
	tests := []struct {
		name string
		req  *p4v1.WriteRequest
	}{
		{"empty", &p4v1.WriteRequest{}},
		{"head only", &p4v1.WriteRequest{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1}}},
		{"every field", &p4v1.WriteRequest{DeviceId: 1 << 40, RoleId: 3, Role: "sdn", ElectionId: &p4v1.Uint128{High: 2, Low: 1},
			Atomicity: p4v1.WriteRequest_ROLLBACK_ON_ERROR, Updates: mkUpdates(5, 7)}},
		{"zero election ID", &p4v1.WriteRequest{DeviceId: 1, ElectionId: &p4v1.Uint128{}, Updates: mkUpdates(3, 1)}},
		{"unspecified type", &p4v1.WriteRequest{DeviceId: 1, Updates: []*p4v1.Update{{Entity: mkUpdates(1, 2)[0].Entity}}}},
		{"no entity", &p4v1.WriteRequest{DeviceId: 1, Updates: []*p4v1.Update{{Type: p4v1.Update_DELETE}}}},
		{"unknown field in an update", &p4v1.WriteRequest{DeviceId: 1, Updates: []*p4v1.Update{withUnknown}}},
		{"many", &p4v1.WriteRequest{DeviceId: 9, ElectionId: &p4v1.Uint128{Low: 10}, Updates: mkUpdates(300, 40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encodings(t, tt.req.GetUpdates())
			want, err := proto.Marshal(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendWriteRequest(nil, tt.req, enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding differs from proto.Marshal:\n got %x\nwant %x", got, want)
			}
			for i, u := range tt.req.GetUpdates() {
				if a, b := encodedUpdateWireSize(u, enc), updateWireSize(u); a != b {
					t.Errorf("update %d: size %d, want %d", i, a, b)
				}
			}
			var back p4v1.WriteRequest
			if err := proto.Unmarshal(got, &back); err != nil || !proto.Equal(&back, tt.req) {
				t.Errorf("decodes to %v, %v", &back, err)
			}
		})
	}
}

// TestAppendWriteRequestAllocs: writing entities already encoded does not
// encode them again (the wire request is one allocation, grown once).
func TestAppendWriteRequestAllocs(t *testing.T) {
	req := &p4v1.WriteRequest{DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1}, Updates: mkUpdates(100, 8)}
	m := map[*p4v1.Entity][]byte{}
	for _, u := range req.Updates {
		m[u.Entity], _ = proto.Marshal(u.Entity)
	}
	enc := func(e *p4v1.Entity) []byte { return m[e] }
	buf := make([]byte, 0, 1<<16)
	if n := testing.AllocsPerRun(20, func() { _, _ = appendWriteRequest(buf[:0], req, enc) }); n > 1 {
		t.Errorf("%v allocations, want at most 1 (the election ID's size)", n)
	}
}

// FuzzAppendWriteRequest: for any WriteRequest, with the entities of every
// other update given encoded, the request built is the bytes proto.Marshal
// writes for it, and the splitter counts each update at its size.
func FuzzAppendWriteRequest(f *testing.F) {
	seeds := []*p4v1.WriteRequest{
		{},
		{DeviceId: 1 << 40, RoleId: 3, Role: "sdn", ElectionId: &p4v1.Uint128{High: 2, Low: 1},
			Atomicity: p4v1.WriteRequest_ROLLBACK_ON_ERROR, Updates: mkUpdates(5, 7)},
		{DeviceId: 1, ElectionId: &p4v1.Uint128{}, Updates: []*p4v1.Update{{Type: p4v1.Update_DELETE}, {Entity: mkUpdates(1, 2)[0].Entity}}},
	}
	for _, r := range seeds {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &p4v1.WriteRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		want, err := proto.Marshal(req)
		if err != nil {
			return // not encodable (invalid UTF-8 in a string): Write reports it
		}
		enc := encodings(t, req.GetUpdates())
		got, err := appendWriteRequest(nil, req, enc)
		if err != nil {
			t.Fatalf("proto.Marshal encodes %v, appendWriteRequest fails: %v", req, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encoding of %v differs from proto.Marshal:\n got %x\nwant %x", req, got, want)
		}
		for i, u := range req.GetUpdates() {
			if a, b := encodedUpdateWireSize(u, enc), updateWireSize(u); a != b {
				t.Fatalf("update %d: size %d, want %d", i, a, b)
			}
		}
	})
}
