package p4rt

import (
	"context"

	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/testbed/p4rt/state"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

type setReq = p4v1.SetForwardingPipelineConfigRequest

// SetForwardingPipelineConfig answers the RPC as the spec's
// "SetForwardingPipelineConfig RPC" section says:
//
//   - unknown device or role → NOT_FOUND; not the role's primary →
//     PERMISSION_DENIED; a role whose config lacks can_push_pipeline →
//     PERMISSION_DENIED;
//   - VERIFY checks the config (P4Info consistency, by schema.New);
//   - VERIFY_AND_SAVE checks and saves it: from then on Read and Write
//     refer to the saved config, against a new, empty forwarding state,
//     while the data plane keeps the committed one;
//   - COMMIT realises the saved config with the state written since it was
//     saved; NOT_FOUND without a saved config, INVALID_ARGUMENT with a
//     config in the request;
//   - VERIFY_AND_COMMIT realises the config with an empty forwarding state;
//   - RECONCILE_AND_COMMIT realises it keeping the entries the new P4Info
//     still has; INVALID_ARGUMENT when the state cannot be kept.
//
// A missing config or P4Info, an inconsistent P4Info, and an unspecified or
// unknown action are INVALID_ARGUMENT.
func (s *Server) SetForwardingPipelineConfig(ctx context.Context, req *p4v1.SetForwardingPipelineConfigRequest) (resp *p4v1.SetForwardingPipelineConfigResponse, err error) {
	defer s.recoverUnary("SetForwardingPipelineConfig", &err)
	if err := s.unaryDelay(ctx); err != nil {
		return nil, err
	}
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.mu.Lock()
	r, err := s.checkPrimaryLocked(req.GetDeviceId(), req.GetRole(), req.GetElectionId())
	var canPush bool
	if r != nil {
		canPush = r.config == nil || r.config.GetCanPushPipeline()
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !canPush {
		return nil, status.Errorf(codes.PermissionDenied, "role %q may not push a pipeline (can_push_pipeline is false)", req.GetRole())
	}

	action := req.GetAction()
	switch action {
	case setReq_COMMIT:
		if req.GetConfig() != nil {
			return nil, status.Error(codes.InvalidArgument, "COMMIT takes no config: it commits the saved one")
		}
		if s.saved == nil {
			return nil, status.Error(codes.NotFound, "COMMIT without a saved config: no VERIFY_AND_SAVE preceded it")
		}
		s.commitLocked(s.saved)
		s.log.Info("p4rt: pipeline committed", "action", action.String())
		return &p4v1.SetForwardingPipelineConfigResponse{}, nil
	case setReq_VERIFY, setReq_VERIFY_AND_SAVE, setReq_VERIFY_AND_COMMIT, setReq_RECONCILE_AND_COMMIT:
	case setReq_UNSPECIFIED:
		return nil, status.Error(codes.InvalidArgument, "action is UNSPECIFIED")
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown action %d", int32(action))
	}

	cfg := req.GetConfig()
	if cfg == nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s needs a config", action)
	}
	if cfg.GetP4Info() == nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s needs config.p4info", action)
	}
	cfg = proto.Clone(cfg).(*p4v1.ForwardingPipelineConfig)
	sch, err := schema.New(cfg.GetP4Info())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid P4Info: %v", err)
	}
	if action == setReq_VERIFY {
		return &p4v1.SetForwardingPipelineConfigResponse{}, nil
	}
	p := &pipeline{config: cfg, schema: sch, dev: state.New(sch)}
	switch action {
	case setReq_VERIFY_AND_SAVE:
		s.saved = p
	case setReq_VERIFY_AND_COMMIT:
		s.commitLocked(p)
	case setReq_RECONCILE_AND_COMMIT:
		if prev := s.activeLocked(); prev != nil {
			if err := p.dev.Reconcile(prev.dev); err != nil {
				if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
					return nil, err
				}
				return nil, status.Errorf(codes.InvalidArgument, "the forwarding state cannot be kept with the new config: %v", err)
			}
		}
		s.commitLocked(p)
	}
	s.log.Info("p4rt: pipeline set", "action", action.String(), "cookie", cfg.GetCookie().GetCookie())
	return &p4v1.SetForwardingPipelineConfigResponse{}, nil
}

const (
	setReq_UNSPECIFIED          = p4v1.SetForwardingPipelineConfigRequest_UNSPECIFIED
	setReq_VERIFY               = p4v1.SetForwardingPipelineConfigRequest_VERIFY
	setReq_VERIFY_AND_SAVE      = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE
	setReq_VERIFY_AND_COMMIT    = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT
	setReq_COMMIT               = p4v1.SetForwardingPipelineConfigRequest_COMMIT
	setReq_RECONCILE_AND_COMMIT = p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT
)

// commitLocked makes p the pipeline the data plane runs. Caller holds
// fwdMu.
func (s *Server) commitLocked(p *pipeline) {
	s.committed = p
	s.saved = nil
	s.dataPlane.Store(p.schema)
	s.mu.Lock()
	s.digests.reset() // the digest cache belongs to the old program
	s.mu.Unlock()
}

// activeLocked returns the pipeline Read and Write refer to: the saved one
// if there is one, else the committed one, else nil. Caller holds fwdMu.
func (s *Server) activeLocked() *pipeline {
	if s.saved != nil {
		return s.saved
	}
	return s.committed
}

// GetForwardingPipelineConfig returns the config Read and Write refer to
// (the saved one after VERIFY_AND_SAVE, else the committed one) with the
// fields response_type asks for; the cookie is included whenever one was
// set. Before any pipeline the response has no config (spec
// "GetForwardingPipelineConfig RPC"). Unknown device → NOT_FOUND; unknown
// response_type → INVALID_ARGUMENT.
func (s *Server) GetForwardingPipelineConfig(ctx context.Context, req *p4v1.GetForwardingPipelineConfigRequest) (resp *p4v1.GetForwardingPipelineConfigResponse, err error) {
	defer s.recoverUnary("GetForwardingPipelineConfig", &err)
	if err := s.unaryDelay(ctx); err != nil {
		return nil, err
	}
	if self := s.deviceID.Load(); req.GetDeviceId() != self {
		return nil, status.Errorf(codes.NotFound, "unknown device_id %d (this device is %d)", req.GetDeviceId(), self)
	}
	rt := req.GetResponseType()
	switch rt {
	case p4v1.GetForwardingPipelineConfigRequest_ALL,
		p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY,
		p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE,
		p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE:
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown response_type %d", int32(rt))
	}
	s.fwdMu.Lock()
	p := s.activeLocked()
	s.fwdMu.Unlock()
	if p == nil {
		return &p4v1.GetForwardingPipelineConfigResponse{}, nil
	}
	out := &p4v1.ForwardingPipelineConfig{}
	if c := p.config.GetCookie(); c != nil {
		out.Cookie = &p4v1.ForwardingPipelineConfig_Cookie{Cookie: c.GetCookie()}
	}
	if rt == p4v1.GetForwardingPipelineConfigRequest_ALL || rt == p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE {
		out.P4Info = p.config.GetP4Info() // never mutated after Set; marshalled read-only
	}
	if rt == p4v1.GetForwardingPipelineConfigRequest_ALL || rt == p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE {
		out.P4DeviceConfig = p.config.GetP4DeviceConfig()
	}
	return &p4v1.GetForwardingPipelineConfigResponse{Config: out}, nil
}
