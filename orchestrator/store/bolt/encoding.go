package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// ErrCorrupt is wrapped by errors about a data file that is not a store of
// this format, or whose records cannot be decoded.
var ErrCorrupt = errors.New("bolt: corrupt store")

// Layout of the bbolt file (format 1):
//
//	meta      "format" → 1, "rev" → current revision, "compact" → newest
//	          revision no longer in history, "lease" → last lease ID
//	kv        key → record
//	history   rev(8) sub(4) → event
//	leases    id(8) → TTL in nanoseconds(8)
//	leasekeys id(8) key → ""
//
// All integers are big-endian uint64 (sub is uint32). A record is
// create(8) mod(8) version(8) lease(8) value; an event is type(1) followed
// by a record's 32-byte header, uvarint key length, key and value.
var (
	bucketMeta      = []byte("meta")
	bucketKV        = []byte("kv")
	bucketHistory   = []byte("history")
	bucketLeases    = []byte("leases")
	bucketLeaseKeys = []byte("leasekeys")

	metaFormat  = []byte("format")
	metaRev     = []byte("rev")
	metaCompact = []byte("compact")
	metaLease   = []byte("lease")
)

// formatVersion is the layout version written to meta/format.
const formatVersion = 1

const headerSize = 32

func u64(n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func readU64(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

func putHeader(b []byte, kv store.KeyValue) {
	binary.BigEndian.PutUint64(b[0:], uint64(kv.CreateRevision))
	binary.BigEndian.PutUint64(b[8:], uint64(kv.ModRevision))
	binary.BigEndian.PutUint64(b[16:], uint64(kv.Version))
	binary.BigEndian.PutUint64(b[24:], uint64(kv.Lease))
}

func readHeader(b []byte, kv *store.KeyValue) {
	kv.CreateRevision = int64(binary.BigEndian.Uint64(b[0:]))
	kv.ModRevision = int64(binary.BigEndian.Uint64(b[8:]))
	kv.Version = int64(binary.BigEndian.Uint64(b[16:]))
	kv.Lease = store.LeaseID(binary.BigEndian.Uint64(b[24:]))
}

// encodeRecord encodes kv without its key (the kv bucket's key).
func encodeRecord(kv store.KeyValue) []byte {
	b := make([]byte, headerSize+len(kv.Value))
	putHeader(b, kv)
	copy(b[headerSize:], kv.Value)
	return b
}

// decodeRecord decodes a record of the kv bucket, copying the value out of
// bbolt's memory.
func decodeRecord(key string, b []byte) (store.KeyValue, error) {
	if len(b) < headerSize {
		return store.KeyValue{}, fmt.Errorf("record of %q is %d bytes: %w", key, len(b), ErrCorrupt)
	}
	kv := store.KeyValue{Key: key}
	readHeader(b, &kv)
	if len(b) > headerSize {
		kv.Value = append([]byte(nil), b[headerSize:]...)
	}
	return kv, nil
}

func historyKey(rev int64, sub uint32) []byte {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], uint64(rev))
	binary.BigEndian.PutUint32(b[8:], sub)
	return b[:]
}

func historyRev(k []byte) (int64, bool) {
	if len(k) != 12 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(k)), true
}

// encodeEvent encodes a put or delete event.
func encodeEvent(t store.EventType, kv store.KeyValue) []byte {
	b := make([]byte, 1+headerSize, 1+headerSize+binary.MaxVarintLen64+len(kv.Key)+len(kv.Value))
	b[0] = byte(t)
	putHeader(b[1:], kv)
	b = binary.AppendUvarint(b, uint64(len(kv.Key)))
	b = append(b, kv.Key...)
	return append(b, kv.Value...)
}

// eventKey returns the key of an encoded event without decoding the rest,
// so that watches filter by prefix cheaply.
func eventKey(b []byte) (string, error) {
	if len(b) < 1+headerSize {
		return "", fmt.Errorf("history event of %d bytes: %w", len(b), ErrCorrupt)
	}
	n, w := binary.Uvarint(b[1+headerSize:])
	rest := len(b) - 1 - headerSize - max(w, 0)
	if w <= 0 || n > uint64(rest) {
		return "", fmt.Errorf("history event with a bad key length: %w", ErrCorrupt)
	}
	start := 1 + headerSize + w
	return string(b[start : start+int(n)]), nil
}

// decodeEvent decodes an event, copying out of bbolt's memory.
func decodeEvent(b []byte) (store.Event, error) {
	key, err := eventKey(b)
	if err != nil {
		return store.Event{}, err
	}
	t := store.EventType(b[0])
	if t != store.EventPut && t != store.EventDelete {
		return store.Event{}, fmt.Errorf("history event of %q with type %d: %w", key, b[0], ErrCorrupt)
	}
	ev := store.Event{Type: t, KV: store.KeyValue{Key: key}}
	readHeader(b[1:], &ev.KV)
	_, w := binary.Uvarint(b[1+headerSize:])
	if v := b[1+headerSize+w+len(key):]; len(v) > 0 {
		ev.KV.Value = append([]byte(nil), v...)
	}
	ev.Revision = ev.KV.ModRevision
	return ev, nil
}
