package p4rt

import (
	"context"

	"github.com/p4fabric/fabric/p4/roleconfig"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Write answers the Write RPC. Before the updates, in the spec's order
// ("Write RPC"): unknown device or role → NOT_FOUND; not the primary for
// (device_id, role) according to election_id → PERMISSION_DENIED; no
// pipeline → FAILED_PRECONDITION. The updates are validated and applied by
// the forwarding state (package state), which reports per-update errors as
// the spec's "Error Reporting" says (UNKNOWN with one p4.v1.Error per
// update). An update on a P4 object outside a role's config is
// PERMISSION_DENIED for that update.
func (s *Server) Write(ctx context.Context, req *p4v1.WriteRequest) (resp *p4v1.WriteResponse, err error) {
	defer s.recoverUnary("Write", &err)
	if err := s.unaryDelay(ctx); err != nil {
		return nil, err
	}
	if code, ok := s.takeWriteFault(); ok {
		if code == codes.OK {
			return &p4v1.WriteResponse{}, nil // injected lost write
		}
		return nil, status.Errorf(code, "injected fault: write rejected")
	}
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.mu.Lock()
	r, err := s.checkPrimaryLocked(req.GetDeviceId(), req.GetRole(), req.GetElectionId())
	var cfg *roleconfig.P4RoleConfig
	if r != nil {
		cfg = r.config
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p := s.activeLocked()
	if p == nil {
		return nil, status.Error(codes.FailedPrecondition, "no forwarding pipeline config is set")
	}
	var allow func(*p4v1.Update) error
	if cfg != nil {
		name := req.GetRole()
		allow = func(u *p4v1.Update) error {
			if id := entityID(u.GetEntity()); !allows(cfg, id) {
				return status.Errorf(codes.PermissionDenied, "role %q may not write P4 object %d", name, id)
			}
			return nil
		}
	}
	if err := p.dev.Write(req.GetUpdates(), req.GetAtomicity(), allow); err != nil {
		return nil, err
	}
	return &p4v1.WriteResponse{}, nil
}

// Read answers the Read RPC: unknown device or role → NOT_FOUND; no
// pipeline → FAILED_PRECONDITION (spec "Read RPC"); the forwarding state
// answers the queries. For a role with config the role acts as a filter:
// only entities of P4 objects in its config are returned. The answer is a
// snapshot taken under the same lock as writes, so a Read never sees half
// of a Write.
func (s *Server) Read(req *p4v1.ReadRequest, srv p4v1.P4Runtime_ReadServer) (err error) {
	defer s.recoverUnary("Read", &err)
	if err := s.unaryDelay(srv.Context()); err != nil {
		return err
	}
	batches, err := s.readSnapshot(req)
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.Error(codes.Unknown, err.Error())
		}
		return err
	}
	for _, b := range batches {
		if err := srv.Send(&p4v1.ReadResponse{Entities: b}); err != nil {
			return err
		}
	}
	return nil
}

// readSnapshot runs the checks of a Read and collects its answer under
// fwdMu, which the caller sends after releasing it (read-only).
func (s *Server) readSnapshot(req *p4v1.ReadRequest) ([][]*p4v1.Entity, error) {
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.mu.Lock()
	r, err := s.checkRoleLocked(req.GetDeviceId(), req.GetRole())
	var cfg *roleconfig.P4RoleConfig
	if r != nil {
		cfg = r.config
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p := s.activeLocked()
	if p == nil {
		return nil, status.Error(codes.FailedPrecondition, "no forwarding pipeline config is set")
	}
	var batches [][]*p4v1.Entity
	err = p.dev.Read(req.GetEntities(), func(es []*p4v1.Entity) error {
		out := make([]*p4v1.Entity, 0, len(es))
		for _, e := range es {
			// The entities share sub-messages with the state, which never
			// modifies what it stores (state.Device): sending marshals
			// them, read-only, so no copy is needed after fwdMu is
			// released.
			if e != nil && allows(cfg, entityID(e)) {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			batches = append(batches, out)
		}
		return nil
	})
	return batches, err
}

// entityID returns the P4 object ID an entity belongs to (the table for
// direct resources), or 0 for entities without one (packet replication
// engine entries) or an unknown entity type.
func entityID(e *p4v1.Entity) uint32 {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_ExternEntry:
		return x.ExternEntry.GetExternId()
	case *p4v1.Entity_TableEntry:
		return x.TableEntry.GetTableId()
	case *p4v1.Entity_ActionProfileMember:
		return x.ActionProfileMember.GetActionProfileId()
	case *p4v1.Entity_ActionProfileGroup:
		return x.ActionProfileGroup.GetActionProfileId()
	case *p4v1.Entity_MeterEntry:
		return x.MeterEntry.GetMeterId()
	case *p4v1.Entity_DirectMeterEntry:
		return x.DirectMeterEntry.GetTableEntry().GetTableId()
	case *p4v1.Entity_CounterEntry:
		return x.CounterEntry.GetCounterId()
	case *p4v1.Entity_DirectCounterEntry:
		return x.DirectCounterEntry.GetTableEntry().GetTableId()
	case *p4v1.Entity_ValueSetEntry:
		return x.ValueSetEntry.GetValueSetId()
	case *p4v1.Entity_RegisterEntry:
		return x.RegisterEntry.GetRegisterId()
	case *p4v1.Entity_DigestEntry:
		return x.DigestEntry.GetDigestId()
	}
	return 0
}
