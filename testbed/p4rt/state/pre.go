package state

import (
	"encoding/binary"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// replicaPort returns the port of a replica as bytes (the deprecated
// egress_port as its 4-byte big-endian value) and whether it is set.
func replicaPort(r *p4v1.Replica) ([]byte, bool) {
	switch p := r.GetPortKind().(type) {
	case *p4v1.Replica_Port:
		return p.Port, len(p.Port) > 0
	case *p4v1.Replica_EgressPort:
		return binary.BigEndian.AppendUint32(nil, p.EgressPort), true
	}
	return nil, false
}

// checkReplicas validates the replicas of a multicast group or clone
// session (spec "MulticastGroupEntry"): each has a port; a backup replica
// has a port different from its primary's; every (port, instance) pair is
// unique across replicas and backups. All INVALID_ARGUMENT.
func checkReplicas(what string, reps []*p4v1.Replica) *opError {
	type pair struct {
		port     string
		instance uint32
	}
	seen := make(map[pair]bool, len(reps))
	add := func(port []byte, instance uint32) *opError {
		k := pair{string(port), instance}
		if seen[k] {
			return errf(codes.InvalidArgument, "%s: replica (port 0x%x, instance %d) given twice", what, port, instance)
		}
		seen[k] = true
		return nil
	}
	for i, r := range reps {
		port, ok := replicaPort(r)
		if !ok {
			return errf(codes.InvalidArgument, "%s: replica #%d has no port", what, i)
		}
		if oe := add(port, r.GetInstance()); oe != nil {
			return oe
		}
		for j, b := range r.GetBackupReplicas() {
			if len(b.GetPort()) == 0 {
				return errf(codes.InvalidArgument, "%s: replica #%d backup #%d has no port", what, i, j)
			}
			if string(b.GetPort()) == string(port) {
				return errf(codes.InvalidArgument, "%s: replica #%d backup #%d has the port of its primary", what, i, j)
			}
			if oe := add(b.GetPort(), b.GetInstance()); oe != nil {
				return oe
			}
		}
	}
	return nil
}

// writePRE applies a PacketReplicationEngineEntry update (spec
// "PacketReplicationEngineEntry"): multicast group and clone session IDs
// are never 0 in a write (INVALID_ARGUMENT); INSERT of an existing one is
// ALREADY_EXISTS, MODIFY or DELETE of a missing one NOT_FOUND.
func (d *Device) writePRE(typ p4v1.Update_Type, pre *p4v1.PacketReplicationEngineEntry) *opError {
	switch x := pre.GetType().(type) {
	case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
		m := x.MulticastGroupEntry
		id := m.GetMulticastGroupId()
		what := "multicast group"
		if id == 0 {
			return errf(codes.InvalidArgument, "%s ID 0 is not valid in a write", what)
		}
		if typ != p4v1.Update_DELETE {
			if oe := checkReplicas(what, m.GetReplicas()); oe != nil {
				return oe
			}
		}
		return putPRE(d, d.mcast, typ, id, m, what)
	case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
		c := x.CloneSessionEntry
		id := c.GetSessionId()
		what := "clone session"
		if id == 0 {
			return errf(codes.InvalidArgument, "%s ID 0 is not valid in a write", what)
		}
		if typ != p4v1.Update_DELETE {
			if c.GetPacketLengthBytes() < 0 {
				return errf(codes.InvalidArgument, "%s %d: negative packet_length_bytes %d", what, id, c.GetPacketLengthBytes())
			}
			if oe := checkReplicas(what, c.GetReplicas()); oe != nil {
				return oe
			}
		}
		return putPRE(d, d.clones, typ, id, c, what)
	}
	return errf(codes.InvalidArgument, "packet replication engine entry has no entry set")
}

func putPRE[T any](d *Device, m map[uint32]T, typ p4v1.Update_Type, id uint32, v T, what string) *opError {
	old, ok := m[id]
	switch typ {
	case p4v1.Update_INSERT:
		if ok {
			return errf(codes.AlreadyExists, "%s %d already exists", what, id)
		}
		m[id] = v
	case p4v1.Update_MODIFY:
		if !ok {
			return errf(codes.NotFound, "%s %d does not exist", what, id)
		}
		m[id] = v
	case p4v1.Update_DELETE:
		if !ok {
			return errf(codes.NotFound, "%s %d does not exist", what, id)
		}
		delete(m, id)
	}
	if d.recording {
		d.onUndo(func() {
			if ok {
				m[id] = old
			} else {
				delete(m, id)
			}
		})
	}
	return nil
}

// readPRE answers a PacketReplicationEngineEntry query: ID 0 reads every
// multicast group or clone session; only the ID counts.
func (r *reader) readPRE(q *p4v1.PacketReplicationEngineEntry) *opError {
	d := r.d
	switch x := q.GetType().(type) {
	case *p4v1.PacketReplicationEngineEntry_MulticastGroupEntry:
		emit := func(m *p4v1.MulticastGroupEntry) {
			r.emit(&p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
				Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: m}}}})
		}
		if id := x.MulticastGroupEntry.GetMulticastGroupId(); id != 0 {
			if m, ok := d.mcast[id]; ok {
				emit(m)
			}
			return nil
		}
		for _, id := range sortedKeys(d.mcast) {
			emit(d.mcast[id])
		}
		return nil
	case *p4v1.PacketReplicationEngineEntry_CloneSessionEntry:
		emit := func(c *p4v1.CloneSessionEntry) {
			r.emit(&p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
				Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{CloneSessionEntry: c}}}})
		}
		if id := x.CloneSessionEntry.GetSessionId(); id != 0 {
			if c, ok := d.clones[id]; ok {
				emit(c)
			}
			return nil
		}
		for _, id := range sortedKeys(d.clones) {
			emit(d.clones[id])
		}
		return nil
	}
	return errf(codes.InvalidArgument, "packet replication engine query has no entry set")
}
