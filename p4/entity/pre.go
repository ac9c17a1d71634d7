package entity

import (
	"errors"
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/codec"
)

// KindPRE names the packet replication engine in errors.
const kindPRE = "packet replication engine"

// replicas encodes replicas and their backups, checking that every
// (port, instance) pair is unique and that no backup repeats its
// replica's port.
func (b *Builder) replicas(what string, rs []Replica) ([]*p4v1.Replica, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	out := make([]*p4v1.Replica, len(rs))
	type pair struct {
		port     string
		instance uint32
	}
	seen := make(map[pair]bool, len(rs))
	for i, r := range rs {
		port, legacy, err := b.replicaPort(r.port)
		if err != nil {
			return nil, fmt.Errorf("%s: replica %d: port: %w", what, i, err)
		}
		k := pair{string(port), r.instance}
		if seen[k] {
			return nil, fmt.Errorf("%s: replica %d: port %s instance %d given twice", what, i, describePort(port, b.stringPorts), r.instance)
		}
		seen[k] = true
		rep := &p4v1.Replica{Instance: r.instance}
		if legacy {
			v, _ := codec.Uint(port)
			rep.PortKind = &p4v1.Replica_EgressPort{EgressPort: uint32(v)}
		} else {
			rep.PortKind = &p4v1.Replica_Port{Port: port}
		}
		for j, bk := range r.backups {
			bp, _, err := b.replicaPort(bk.port)
			if err != nil {
				return nil, fmt.Errorf("%s: replica %d: backup %d: port: %w", what, i, j, err)
			}
			if string(bp) == string(port) {
				return nil, fmt.Errorf("%s: replica %d: backup %d has the replica's own port", what, i, j)
			}
			k := pair{string(bp), bk.instance}
			if seen[k] {
				return nil, fmt.Errorf("%s: replica %d: backup %d: port %s instance %d given twice", what, i, j, describePort(bp, b.stringPorts), bk.instance)
			}
			seen[k] = true
			rep.BackupReplicas = append(rep.BackupReplicas, &p4v1.BackupReplica{Port: bp, Instance: bk.instance})
		}
		out[i] = rep
	}
	return out, nil
}

// replicaPort encodes a replica port and says whether it goes in the
// deprecated egress_port field.
func (b *Builder) replicaPort(port any) ([]byte, bool, error) {
	if port == nil {
		return nil, false, errors.New("no port")
	}
	p, err := b.portBytes(port)
	if err != nil {
		return nil, false, err
	}
	switch port.(type) {
	case string, []byte:
		return p, false, nil
	}
	return p, b.legacyPorts, nil
}

// MulticastGroup builds a multicast group entry of the packet replication
// engine: its ID (> 0; 0 with no replica for a wildcard read) and
// replicas. Numeric ports are sent in the port bytestring of P4Runtime
// 1.4 (or egress_port with LegacyReplicaPorts); string ports are for
// targets whose ports are translated to strings.
func (b *Builder) MulticastGroup(id uint32, replicas ...Replica) (*p4v1.PacketReplicationEngineEntry, error) {
	if id == 0 && len(replicas) > 0 {
		return nil, &Error{Kind: kindPRE, Name: "multicast group 0", Err: errors.New("multicast group ID 0 is not valid")}
	}
	rs, err := b.replicas(fmt.Sprintf("multicast group %d", id), replicas)
	if err != nil {
		return nil, &Error{Kind: kindPRE, Err: err}
	}
	return &p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{
		MulticastGroupEntry: &p4v1.MulticastGroupEntry{MulticastGroupId: id, Replicas: rs}}}, nil
}

// CloneSession builds a clone session entry of the packet replication
// engine: its ID (> 0; 0 with no replica for a wildcard read), class of
// service, length to truncate clones to (0 for none) and replicas.
func (b *Builder) CloneSession(id uint32, classOfService uint32, truncate int32, replicas ...Replica) (*p4v1.PacketReplicationEngineEntry, error) {
	if id == 0 && (len(replicas) > 0 || classOfService != 0 || truncate != 0) {
		return nil, &Error{Kind: kindPRE, Name: "clone session 0", Err: errors.New("clone session ID 0 is not valid")}
	}
	if truncate < 0 {
		return nil, &Error{Kind: kindPRE, Err: fmt.Errorf("clone session %d: negative truncation length %d", id, truncate)}
	}
	rs, err := b.replicas(fmt.Sprintf("clone session %d", id), replicas)
	if err != nil {
		return nil, &Error{Kind: kindPRE, Err: err}
	}
	return &p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{
		CloneSessionEntry: &p4v1.CloneSessionEntry{SessionId: id, Replicas: rs, ClassOfService: classOfService, PacketLengthBytes: truncate}}}, nil
}
