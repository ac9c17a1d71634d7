package northbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

func ts(t interface{ IsZero() bool }) bool { return !t.IsZero() }

// boxPB converts a registered box.
func (s *Server) boxPB(b inventory.Box) *nbpb.Box {
	pb := &nbpb.Box{Serial: b.Serial, Module: b.Module, Name: b.Spec.Name, Driver: b.Spec.Driver,
		Address: b.Spec.Address, Role: string(b.Spec.Role), DeviceId: b.Spec.DeviceID,
		Vendor: b.Identity.Vendor, Model: b.Identity.Model, SoftwareVersion: b.Identity.SoftwareVersion,
		Connected: s.o.Connected(b.Serial)}
	if ts(b.Registered) {
		pb.Registered = timestamppb.New(b.Registered)
	}
	if ts(b.Updated) {
		pb.Updated = timestamppb.New(b.Updated)
	}
	for _, p := range b.Ports {
		pb.Ports = append(pb.Ports, &nbpb.Port{Name: p.Name, Id: p.ID})
		pb.Interfaces = append(pb.Interfaces, inventory.FormatInterface(b.Module, p.ID))
	}
	return pb
}

// ListBoxes implements nbpb.ChassisServer.
func (s *Server) ListBoxes(ctx context.Context, _ *nbpb.ListBoxesRequest) (*nbpb.ListBoxesResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	boxes, err := s.o.Boxes(ctx)
	if err != nil {
		return nil, toStatus("boxes", err)
	}
	resp := &nbpb.ListBoxesResponse{}
	for _, b := range boxes {
		resp.Boxes = append(resp.Boxes, s.boxPB(b))
	}
	return resp, nil
}

// RegisterBox implements nbpb.ChassisServer.
func (s *Server) RegisterBox(ctx context.Context, req *nbpb.RegisterBoxRequest) (*nbpb.Box, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	spec := inventory.BoxSpec{Name: req.GetName(), Driver: req.GetDriver(), Address: req.GetAddress(),
		Role: inventory.Role(req.GetRole()), DeviceID: req.GetDeviceId(), Module: req.GetModule(),
		Insecure: req.GetInsecure(), Options: maps.Clone(req.GetOptions())}
	what := fmt.Sprintf("register box %q", spec.Name)
	if err := spec.Validate(); err != nil {
		return nil, toStatus(what, err)
	}
	if !spec.Insecure {
		if s.boxTLS == nil {
			return nil, status.Errorf(codes.FailedPrecondition, "%s: TLS to boxes is not configured on this server (fabricd --box-ca); register it insecure or configure box TLS", what)
		}
		spec.TLS = s.boxTLS.Clone()
	}
	box, err := s.o.Register(ctx, spec)
	if err != nil {
		return nil, toStatus(what, err)
	}
	return s.boxPB(box), nil
}

// DecommissionBox implements nbpb.ChassisServer.
func (s *Server) DecommissionBox(ctx context.Context, req *nbpb.DecommissionBoxRequest) (*nbpb.Box, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	if req.GetSerial() == "" {
		return nil, status.Error(codes.InvalidArgument, "decommission: empty serial")
	}
	box, err := s.o.Decommission(ctx, req.GetSerial())
	if err != nil {
		return nil, toStatus(fmt.Sprintf("decommission box %q", req.GetSerial()), err)
	}
	pb := s.boxPB(box)
	pb.Connected = false
	return pb, nil
}

// ListLinks implements nbpb.ChassisServer. Without link discovery the list
// is empty.
func (s *Server) ListLinks(ctx context.Context, _ *nbpb.ListLinksRequest) (*nbpb.ListLinksResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	resp := &nbpb.ListLinksResponse{}
	for _, l := range s.o.Links() {
		resp.Links = append(resp.Links, &nbpb.Link{
			A: endpointPB(l.A.Device, l.A.Port),
			B: endpointPB(l.B.Device, l.B.Port),
		})
	}
	return resp, nil
}

// endpointPB names a discovery endpoint chassis-wide: its device is the
// module ID in decimal.
func endpointPB(device string, port uint32) *nbpb.Endpoint {
	ep := &nbpb.Endpoint{Device: device, Port: port}
	if m, err := strconv.ParseUint(device, 10, 32); err == nil && m > 0 {
		ep.Interface = inventory.FormatInterface(uint32(m), port)
	}
	return ep
}

// GetConfig implements nbpb.ChassisServer.
func (s *Server) GetConfig(ctx context.Context, _ *nbpb.GetConfigRequest) (*nbpb.GetConfigResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	cfg, v, err := s.o.Config(ctx, 0)
	if err != nil {
		return nil, toStatus("config of the committed version", err)
	}
	if cfg == nil {
		return nil, status.Errorf(codes.NotFound, "config of version %d: none recorded", v)
	}
	y, err := cfg.Marshal()
	if err != nil {
		return nil, toStatus(fmt.Sprintf("config of version %d", v), err)
	}
	return &nbpb.GetConfigResponse{Config: y, Version: v}, nil
}

// History implements nbpb.ChassisServer.
func (s *Server) History(ctx context.Context, _ *nbpb.HistoryRequest) (*nbpb.HistoryResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	hist, err := s.o.History(ctx)
	if err != nil {
		return nil, toStatus("history", err)
	}
	resp := &nbpb.HistoryResponse{}
	for _, v := range hist {
		pv := &nbpb.Version{Number: v.Number, Txn: v.Txn, Comment: v.Comment}
		if ts(v.Time) {
			pv.Time = timestamppb.New(v.Time)
		}
		resp.Versions = append(resp.Versions, pv)
	}
	return resp, nil
}

// Diff implements nbpb.ChassisServer. A candidate is compared with the
// committed version: from is that version, to is 0 (the candidate).
func (s *Server) Diff(ctx context.Context, req *nbpb.DiffRequest) (*nbpb.DiffResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	var (
		diffs    map[string]txn.BoxDiff
		from, to = req.GetFrom(), req.GetTo()
	)
	if len(req.GetCandidate()) > 0 {
		goals, err := s.compileConfig(ctx, "candidate", req.GetCandidate())
		if err != nil {
			return nil, err
		}
		cur, err := s.o.Current(ctx)
		if err != nil {
			return nil, toStatus("diff: committed version", err)
		}
		current := map[string]*goal.Goal{}
		from, to = 0, 0
		if cur != nil {
			current, from = cur.Goals, cur.Number
		}
		if diffs, err = txn.DiffGoals(current, goals); err != nil {
			return nil, toStatus("diff: candidate", err)
		}
	} else {
		if from < 0 || to < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "diff: versions %d and %d: versions are ≥ 0", from, to)
		}
		var err error
		if diffs, err = s.o.Diff(ctx, from, to); err != nil {
			return nil, toStatus(fmt.Sprintf("diff of versions %d and %d", from, to), err)
		}
	}
	modules := map[string]uint32{}
	if boxes, err := s.o.Boxes(ctx); err == nil {
		for _, b := range boxes {
			modules[b.Serial] = b.Module
		}
	} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, toStatus("diff: boxes", err)
	}
	resp := &nbpb.DiffResponse{From: from, To: to}
	for serial, d := range diffs {
		resp.Boxes = append(resp.Boxes, &nbpb.BoxDiff{Serial: serial, Module: modules[serial],
			PipeconfFrom: d.Pipeconf[0], PipeconfTo: d.Pipeconf[1],
			Inserts: int32(d.Inserts), Modifies: int32(d.Modifies), Deletes: int32(d.Deletes), Gnmi: int32(d.GNMI)})
	}
	// Boxes decommissioned since (module 0) sort last, by serial.
	slices.SortFunc(resp.Boxes, func(a, b *nbpb.BoxDiff) int {
		ma, mb := a.Module, b.Module
		if ma == 0 {
			ma = ^uint32(0)
		}
		if mb == 0 {
			mb = ^uint32(0)
		}
		return cmp.Or(cmp.Compare(ma, mb), cmp.Compare(a.Serial, b.Serial))
	})
	return resp, nil
}

// Reconcile implements nbpb.ChassisServer. A pass that ran and failed is
// a response with error set; a box that cannot be reconciled at all is a
// status.
func (s *Server) Reconcile(ctx context.Context, req *nbpb.ReconcileRequest) (*nbpb.ReconcileResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	if req.GetSerial() == "" {
		return nil, status.Error(codes.InvalidArgument, "reconcile: empty serial")
	}
	d, err := s.o.Reconcile(ctx, req.GetSerial())
	if err != nil && d.Op == "" {
		return nil, toStatus(fmt.Sprintf("reconcile box %q", req.GetSerial()), err)
	}
	resp := &nbpb.ReconcileResponse{Op: d.Op, Changes: changesPB(d.Changes), Replayed: d.Replayed,
		Duration: durationpb.New(d.Duration)}
	switch {
	case d.Err != nil:
		resp.Error = d.Err.Error()
	case err != nil:
		resp.Error = err.Error()
	}
	return resp, nil
}

// Time implements nbpb.ChassisServer.
func (s *Server) Time(ctx context.Context, _ *nbpb.TimeRequest) (*nbpb.TimeResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	t := s.o.TimeSync()
	if t == nil {
		return nil, status.Error(codes.FailedPrecondition, "time: time sync is off on this orchestrator")
	}
	threshold, _ := t.Threshold()
	resp := &nbpb.TimeResponse{Now: timestamppb.New(t.Now()), Threshold: durationpb.New(threshold)}
	if host, port, err := t.NTPServer(); err == nil {
		resp.NtpServer = netJoin(host, port)
	}
	for _, e := range t.Snapshot() {
		c := &nbpb.ClockEstimate{Box: e.Box, Module: e.Module, Offset: durationpb.New(e.Offset),
			ErrorBound: durationpb.New(e.ErrorBound), DriftPpm: e.DriftPPM, Samples: int32(e.Samples), Alarm: e.Alarm}
		if ts(e.Updated) {
			c.Updated = timestamppb.New(e.Updated)
		}
		if e.Err != nil {
			c.Error = e.Err.Error()
		}
		resp.Boxes = append(resp.Boxes, c)
	}
	return resp, nil
}
