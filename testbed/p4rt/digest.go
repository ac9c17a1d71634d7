package p4rt

import (
	"fmt"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

type digestKey struct {
	digestID uint32
	listID   uint64
}

type digestList struct {
	deadline time.Time
	items    []string
}

// digestCache is the spec's cache of digest messages sent but neither
// acknowledged nor older than ack_timeout_ns (spec "DigestEntry"). Guarded
// by Server.mu.
type digestCache struct {
	nextList uint64
	lists    map[digestKey]*digestList
	items    map[uint32]map[string]digestKey // digest ID → data → list it went in
}

func newDigestCache() digestCache {
	return digestCache{lists: map[digestKey]*digestList{}, items: map[uint32]map[string]digestKey{}}
}

func (c *digestCache) drop(k digestKey) {
	l, ok := c.lists[k]
	if !ok {
		return
	}
	delete(c.lists, k)
	if m := c.items[k.digestID]; m != nil {
		for _, it := range l.items {
			if m[it] == k {
				delete(m, it)
			}
		}
		if len(m) == 0 {
			delete(c.items, k.digestID)
		}
	}
}

func (c *digestCache) expire(now time.Time) {
	for k, l := range c.lists {
		if !now.Before(l.deadline) {
			c.drop(k)
		}
	}
}

func (c *digestCache) unacked(now time.Time) int {
	n := 0
	for _, l := range c.lists {
		if now.Before(l.deadline) {
			n++
		}
	}
	return n
}

func (c *digestCache) reset() {
	next := c.nextList
	*c = newDigestCache()
	c.nextList = next
}

// SendDigest delivers the digest data of d as one or more DigestList
// messages, when the committed pipeline has digest d.digest_id enabled by a
// DigestEntry (spec "DigestEntry"): data already sent and not yet
// acknowledged (within ack_timeout_ns) and duplicates are left out, lists
// are split to at most max_list_size entries, each list gets a list_id from
// the server (d.list_id is ignored) and a timestamp (d.timestamp, or now).
// Lists go to the primary of every role that may access the digest (the
// default role's primary, and named roles without config or listing the
// digest ID). max_timeout_ns is not emulated: the data is sent at once.
func (s *Server) SendDigest(d *p4v1.DigestList) {
	if d == nil || len(d.GetData()) == 0 {
		return
	}
	id := d.GetDigestId()
	cfg, enabled := s.digestConfig(id)
	if !enabled {
		s.log.Debug("p4rt: digest not enabled, data dropped", "digest_id", id)
		return
	}
	ackTimeout := time.Duration(cfg.GetAckTimeoutNs())
	maxSize := int(cfg.GetMaxListSize())
	if maxSize < 0 {
		maxSize = 0
	}
	ts := d.GetTimestamp()
	if ts == 0 {
		ts = time.Now().UnixNano()
	}

	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.digests.expire(now)
	var data []*p4v1.P4Data
	var keys []string
	inList := map[string]bool{}
	for _, item := range d.GetData() {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(item)
		if err != nil {
			continue
		}
		k := string(b)
		if _, cached := s.digests.items[id][k]; cached || inList[k] {
			continue
		}
		inList[k] = true
		data = append(data, proto.Clone(item).(*p4v1.P4Data))
		keys = append(keys, k)
	}
	var targets []*stream
	for _, r := range s.roles {
		if prim := r.primary(); prim != nil && allows(r.config, id) {
			targets = append(targets, prim)
		}
	}
	if len(targets) == 0 {
		return
	}
	for len(data) > 0 {
		n := len(data)
		if maxSize > 0 && n > maxSize {
			n = maxSize
		}
		s.digests.nextList++
		listID := s.digests.nextList
		msg := &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Digest{Digest: &p4v1.DigestList{
			DigestId: id, ListId: listID, Data: data[:n], Timestamp: ts,
		}}}
		sent := false
		for _, st := range targets {
			if st.enqueue(msg, classData, &s.stats) {
				s.stats.digestLists.Add(1)
				sent = true
			}
		}
		// With ack_timeout_ns 0 the cache must stay empty.
		if sent && ackTimeout > 0 {
			k := digestKey{id, listID}
			s.digests.lists[k] = &digestList{deadline: now.Add(ackTimeout), items: keys[:n]}
			m := s.digests.items[id]
			if m == nil {
				m = map[string]digestKey{}
				s.digests.items[id] = m
			}
			for _, it := range keys[:n] {
				m[it] = k
			}
		}
		data, keys = data[n:], keys[n:]
	}
}

// digestConfig returns the committed pipeline's config of digest id, and
// whether that digest is enabled.
func (s *Server) digestConfig(id uint32) (*p4v1.DigestEntry_Config, bool) {
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	if s.committed == nil {
		return nil, false
	}
	return s.committed.dev.DigestConfig(id)
}

// handleDigestAck clears the cache entries of the acknowledged list. An ack
// for a digest ID the committed P4Info does not have is INVALID_ARGUMENT
// (spec "Stream Error Reporting"); one from a controller that is not a
// primary is PERMISSION_DENIED. An ack for an unknown or expired list is
// ignored.
func (s *Server) handleDigestAck(st *stream, ack *p4v1.DigestListAck) {
	reject := func(code codes.Code, format string, args ...any) {
		s.streamError(st, &p4v1.StreamError{
			CanonicalCode: int32(code),
			Message:       fmt.Sprintf(format, args...),
			Details:       &p4v1.StreamError_DigestListAck{DigestListAck: &p4v1.DigestListAckError{DigestListAck: ack}},
		})
	}
	s.mu.Lock()
	primary := st.arbitrated && st.role.primary() == st
	s.mu.Unlock()
	if !primary {
		reject(codes.PermissionDenied, "digest list ack from a controller that is not a primary")
		return
	}
	sch := s.dataPlane.Load()
	if sch == nil || sch.DigestByID(ack.GetDigestId()) == nil {
		reject(codes.InvalidArgument, "digest list ack for unknown digest_id %d", ack.GetDigestId())
		return
	}
	s.mu.Lock()
	s.digests.drop(digestKey{ack.GetDigestId(), ack.GetListId()})
	s.mu.Unlock()
}
