package northbound

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// Operation kinds.
const (
	KindCommit   = "commit"
	KindRollback = "rollback"
)

// parseConfig reads a config (Diff's candidate): every problem is
// INVALID_ARGUMENT and names the config.
func parseConfig(field string, data []byte) (*goal.Config, error) {
	if len(data) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "%s: empty config", field)
	}
	cfg, err := goal.Parse(data)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", field, err)
	}
	return cfg, nil
}

// compileStatus is the status of a config that did not compile: a config
// the orchestrator refuses is INVALID_ARGUMENT and names the config.
func compileStatus(field string, err error) error {
	if errors.Is(err, goal.ErrInvalid) || errors.Is(err, orchestrator.ErrInvalid) {
		return status.Errorf(codes.InvalidArgument, "%s: %v", field, err)
	}
	return toStatus(field+": compile", err)
}

// compileConfig reads and compiles a config (Diff's candidate).
func (s *Server) compileConfig(ctx context.Context, field string, data []byte) (map[string]*goal.Goal, error) {
	cfg, err := parseConfig(field, data)
	if err != nil {
		return nil, err
	}
	goals, err := s.o.Compile(ctx, cfg)
	if err != nil {
		return nil, compileStatus(field, err)
	}
	return goals, nil
}

// prepareConfig reads and compiles a config for a commit: the operation
// commits what was compiled here (Prepared.Commit compiles again only if
// the chassis changed in between), and the version journals data as sent.
func (s *Server) prepareConfig(ctx context.Context, field string, data []byte) (*orchestrator.Prepared, error) {
	if len(data) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "%s: empty config", field)
	}
	p, err := s.o.PrepareYAML(ctx, data)
	if err != nil {
		return nil, compileStatus(field, err)
	}
	return p, nil
}

// start records operation id and runs f on the server's lifetime context
// (not the RPC's: the operation outlives the call that started it).
func (s *Server) start(kind, comment string, f func(ctx context.Context, opts ...txn.CommitOption) (*txn.Result, error)) (*nbpb.Operation, error) {
	id := orchestrator.OpID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, status.Errorf(codes.Unavailable, "%s: %v", kind, errTableClosed)
	}
	pb, err := s.ops.add(id, kind, comment)
	switch {
	case errors.Is(err, errTableFull):
		return nil, status.Errorf(codes.ResourceExhausted, "%s: %v", kind, err)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "%s: %v", kind, err)
	}
	s.commits.Add(1)
	go func() {
		defer s.commits.Done()
		res, err := f(s.life, txn.WithID(id), txn.WithProgress(s.ops.progress))
		s.ops.finish(id, res, err)
		if err != nil {
			s.log.Warn("northbound: operation did not commit", "op", id, "kind", kind, "err", err)
		} else {
			s.log.Info("northbound: operation committed", "op", id, "kind", kind, "version", res.Version)
		}
	}()
	s.log.Info("northbound: operation started", "op", id, "kind", kind)
	return pb, nil
}

// Commit implements nbpb.ChassisServer.
func (s *Server) Commit(ctx context.Context, req *nbpb.CommitRequest) (*nbpb.Operation, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	p, err := s.prepareConfig(ctx, "config", req.GetConfig())
	if err != nil {
		return nil, err
	}
	comment := req.GetComment()
	return s.start(KindCommit, comment, func(ctx context.Context, opts ...txn.CommitOption) (*txn.Result, error) {
		return p.Commit(ctx, append(opts, txn.WithComment(comment))...)
	})
}

// Rollback implements nbpb.ChassisServer.
func (s *Server) Rollback(ctx context.Context, req *nbpb.RollbackRequest) (*nbpb.Operation, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	n := req.GetVersion()
	if n < 1 {
		return nil, status.Errorf(codes.InvalidArgument, "rollback: version %d: versions start at 1", n)
	}
	hist, err := s.o.History(ctx)
	if err != nil {
		return nil, toStatus("rollback: history", err)
	}
	found := false
	for _, v := range hist {
		found = found || v.Number == n
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "rollback: version %d: %v", n, txn.ErrNoVersion)
	}
	return s.start(KindRollback, fmt.Sprintf("rollback to version %d", n), func(ctx context.Context, opts ...txn.CommitOption) (*txn.Result, error) {
		return s.o.Rollback(ctx, n, opts...)
	})
}

// lookup finds an operation in the table, else in the journal.
func (s *Server) lookup(ctx context.Context, id string) (*nbpb.Operation, <-chan struct{}, error) {
	if id == "" {
		return nil, nil, status.Error(codes.InvalidArgument, "operation: empty id")
	}
	if pb, ch, ok := s.ops.get(id); ok {
		return pb, ch, nil
	}
	rec, err := s.o.Transaction(ctx, id)
	if err != nil {
		return nil, nil, toStatus(fmt.Sprintf("operation %q", id), err)
	}
	return recordPB(rec), nil, nil
}

// recordPB converts a journal record. The journal does not tell a rollback
// from a commit (a rollback's comment says so): kind is "commit". A
// transaction journaled ABORTED had every box restored (one whose restore
// failed stays APPLYING, and is RUNNING here).
func recordPB(r *txn.Record) *nbpb.Operation {
	pb := &nbpb.Operation{Id: r.ID, Kind: KindCommit, Comment: r.Comment, Reasons: r.Reasons}
	if !r.Started.IsZero() {
		pb.Started = timestamppb.New(r.Started)
	}
	if !r.Ended.IsZero() {
		pb.Ended = timestamppb.New(r.Ended)
	}
	switch r.State {
	case txn.Committed:
		pb.State, pb.Version = nbpb.Operation_COMMITTED, r.Version
	case txn.Aborted:
		pb.State, pb.Restored = nbpb.Operation_ABORTED, true
		pb.Error = (&txn.AbortError{ID: r.ID, Reasons: r.Reasons, Restored: true}).Error()
	default:
		pb.State = nbpb.Operation_RUNNING
	}
	return pb
}

// GetOperation implements nbpb.ChassisServer.
func (s *Server) GetOperation(ctx context.Context, req *nbpb.GetOperationRequest) (*nbpb.Operation, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	pb, _, err := s.lookup(ctx, req.GetId())
	return pb, err
}

// WatchOperation implements nbpb.ChassisServer. An operation only the
// journal knows (another daemon's, or one from before a restart) is sent
// once, as the journal has it.
func (s *Server) WatchOperation(req *nbpb.GetOperationRequest, stream grpc.ServerStreamingServer[nbpb.Operation]) error {
	ctx, cancel := s.streamContext(stream.Context())
	defer cancel()
	if err := checkAuthorized(ctx); err != nil {
		return err
	}
	pb, changed, err := s.lookup(ctx, req.GetId())
	if err != nil {
		return err
	}
	for {
		if err := stream.Send(pb); err != nil {
			return err
		}
		if changed == nil || final(pb.State) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.streamEnd(ctx)
		}
		var ok bool
		if pb, changed, ok = s.ops.get(req.GetId()); !ok {
			return status.Errorf(codes.NotFound, "operation %q: dropped from the table", req.GetId())
		}
	}
}

// ListOperations implements nbpb.ChassisServer.
func (s *Server) ListOperations(ctx context.Context, _ *nbpb.ListOperationsRequest) (*nbpb.ListOperationsResponse, error) {
	if err := checkAuthorized(ctx); err != nil {
		return nil, err
	}
	return &nbpb.ListOperationsResponse{Operations: s.ops.list()}, nil
}
