package bolt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/store"
)

func TestEncodingRoundTrip(t *testing.T) {
	tests := []struct {
		typ store.EventType
		kv  store.KeyValue
	}{
		{store.EventPut, store.KeyValue{Key: "a/b", Value: []byte("v"), CreateRevision: 2, ModRevision: 5, Version: 3, Lease: 7}},
		{store.EventPut, store.KeyValue{Key: "k", CreateRevision: 1 << 40, ModRevision: 1 << 41, Version: 1}},
		{store.EventDelete, store.KeyValue{Key: string(bytes.Repeat([]byte("x"), 300)), ModRevision: 9}},
	}
	for _, tc := range tests {
		kv, err := decodeRecord(tc.kv.Key, encodeRecord(tc.kv))
		if err != nil || kv.Key != tc.kv.Key || !bytes.Equal(kv.Value, tc.kv.Value) || kv.Version != tc.kv.Version ||
			kv.CreateRevision != tc.kv.CreateRevision || kv.ModRevision != tc.kv.ModRevision || kv.Lease != tc.kv.Lease {
			t.Errorf("record round trip of %+v = %+v, %v", tc.kv, kv, err)
		}
		ev, err := decodeEvent(encodeEvent(tc.typ, tc.kv))
		if err != nil || ev.Type != tc.typ || ev.KV.Key != tc.kv.Key || !bytes.Equal(ev.KV.Value, tc.kv.Value) ||
			ev.Revision != tc.kv.ModRevision || ev.KV.Lease != tc.kv.Lease {
			t.Errorf("event round trip of %s %+v = %+v, %v", tc.typ, tc.kv, ev, err)
		}
	}
	for _, b := range [][]byte{nil, {1}, make([]byte, 31)} {
		if _, err := decodeRecord("k", b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeRecord(%d bytes) = %v, want ErrCorrupt", len(b), err)
		}
	}
	bad := encodeEvent(store.EventPut, store.KeyValue{Key: "key"})
	bad[0] = 9
	for _, b := range [][]byte{nil, make([]byte, 33), bad, append(make([]byte, 33), 0xff, 0xff, 0xff)} {
		if _, err := decodeEvent(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeEvent(%x) = %v, want ErrCorrupt", b, err)
		}
	}
}

// Decoding never panics, whatever the bytes in the file.
func FuzzDecode(f *testing.F) {
	f.Add(encodeEvent(store.EventPut, store.KeyValue{Key: "a", Value: []byte("v"), ModRevision: 3}))
	f.Add(encodeEvent(store.EventDelete, store.KeyValue{Key: "b", ModRevision: 4}))
	f.Add(encodeRecord(store.KeyValue{Value: []byte("x")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeRecord("k", b)
		if ev, err := decodeEvent(b); err == nil {
			if again, err := decodeEvent(encodeEvent(ev.Type, ev.KV)); err != nil || again.KV.Key != ev.KV.Key {
				t.Errorf("re-encoding %+v: %+v, %v", ev, again, err)
			}
		}
		_, _ = eventKey(b)
		_, _ = historyRev(b)
		_, _ = readU64(b)
	})
}
