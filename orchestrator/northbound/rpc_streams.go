package northbound

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

func netJoin(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

func eventPB(e events.Event) *nbpb.Event {
	pb := &nbpb.Event{Seq: e.Seq, Kind: e.Kind.String(), Module: e.Module, Serial: e.Serial, Port: e.Port,
		Op: e.OpID, Attrs: e.Attrs, Message: e.Message}
	if ts(e.SourceTime) {
		pb.SourceTime = timestamppb.New(e.SourceTime)
	}
	if ts(e.ObservedTime) {
		pb.ObservedTime = timestamppb.New(e.ObservedTime)
	}
	return pb
}

// Events implements nbpb.ChassisServer.
//
// Without follow, the last `replay` retained events that match are sent
// (Bus.Recent) and the stream ends.
func (s *Server) Events(req *nbpb.EventsRequest, stream grpc.ServerStreamingServer[nbpb.Event]) error {
	ctx, cancel := s.streamContext(stream.Context())
	defer cancel()
	if err := checkAuthorized(ctx); err != nil {
		return err
	}
	f := events.Filter{Modules: req.GetModules(), OpID: req.GetOp()}
	for _, k := range req.GetKinds() {
		kind, err := events.ParseKind(k)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "events: kind %q: %v", k, err)
		}
		f.Kinds = append(f.Kinds, kind)
	}
	n := int(req.GetReplay())
	if n < 0 {
		return status.Errorf(codes.InvalidArgument, "events: replay %d: must be ≥ 0", n)
	}
	bus := s.o.Events()
	if req.GetFollow() {
		sub, err := bus.Subscribe(ctx, f, events.WithReplay(n), events.WithName("northbound"))
		if err != nil {
			return toStatus("events", err)
		}
		defer sub.Cancel()
		for e := range sub.C() {
			if err := stream.Send(eventPB(e)); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return s.streamEnd(ctx)
		}
		return status.Error(codes.Unavailable, "events: the event bus closed")
	}
	recent, err := bus.Recent(f, n)
	if err != nil {
		return toStatus("events", err)
	}
	for _, e := range recent {
		if err := stream.Send(eventPB(e)); err != nil {
			return err
		}
	}
	return nil
}

func logRecordPB(r logbook.Record) *nbpb.LogRecord {
	pb := &nbpb.LogRecord{Seq: r.Seq, Source: r.Source.String(), Kind: r.Kind, Severity: r.Severity.String(),
		Module: r.Module, Serial: r.Serial, Port: r.Port, Op: r.OpID, Message: r.Message, Attrs: r.Attrs, Late: r.Late}
	if ts(r.Time) {
		pb.Time = timestamppb.New(r.Time)
	}
	if ts(r.SourceTime) {
		pb.SourceTime = timestamppb.New(r.SourceTime)
	}
	if r.Offset != 0 {
		pb.Offset = durationpb.New(r.Offset)
	}
	if r.ErrorBound != 0 {
		pb.ErrorBound = durationpb.New(r.ErrorBound)
	}
	return pb
}

// Log implements nbpb.ChassisServer.
func (s *Server) Log(req *nbpb.LogRequest, stream grpc.ServerStreamingServer[nbpb.LogRecord]) error {
	ctx, cancel := s.streamContext(stream.Context())
	defer cancel()
	if err := checkAuthorized(ctx); err != nil {
		return err
	}
	f := logbook.Filter{Modules: req.GetModules(), Kinds: req.GetKinds(), OpID: req.GetOp(), Limit: int(req.GetLimit())}
	for _, src := range req.GetSources() {
		v, err := logbook.ParseSource(src)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "log: source %q: %v", src, err)
		}
		f.Sources = append(f.Sources, v)
	}
	if sev := req.GetMinSeverity(); sev != "" {
		v, err := logbook.ParseSeverity(sev)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "log: severity %q: %v", sev, err)
		}
		f.MinSeverity = v
	}
	if f.Limit < 0 {
		return status.Errorf(codes.InvalidArgument, "log: limit %d: must be ≥ 0", f.Limit)
	}
	book := s.o.Log()
	if !req.GetFollow() {
		recs, err := book.Query(f)
		if err != nil {
			return toStatus("log", err)
		}
		for _, r := range recs {
			if err := stream.Send(logRecordPB(r)); err != nil {
				return err
			}
		}
		return nil
	}
	backlog := f.Limit
	if backlog == 0 {
		// "all retained": the ring never holds more than its capacity.
		backlog = math.MaxInt32
	}
	fol, err := book.Follow(ctx, f, logbook.WithBacklog(backlog))
	if err != nil {
		return toStatus("log", err)
	}
	defer fol.Cancel()
	for r := range fol.C() {
		if err := stream.Send(logRecordPB(r)); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return s.streamEnd(ctx)
	}
	return status.Error(codes.Unavailable, "log: the logbook closed")
}

// Backup implements nbpb.ChassisServer: the snapshot streams through a
// pipe, so it is never held whole in memory.
func (s *Server) Backup(_ *nbpb.BackupRequest, stream grpc.ServerStreamingServer[nbpb.BackupChunk]) error {
	ctx, cancel := s.streamContext(stream.Context())
	defer cancel()
	if err := checkAuthorized(ctx); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := s.o.Backup(ctx, pw)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	buf := make([]byte, BackupChunkSize)
	var sendErr error
	for sendErr == nil {
		n, err := io.ReadFull(pr, buf)
		if n > 0 {
			sendErr = stream.Send(&nbpb.BackupChunk{Data: append([]byte(nil), buf[:n]...)})
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			// The backup failed: its error comes from done.
			break
		}
	}
	// Unblock the writer if the client went away.
	_ = pr.CloseWithError(context.Canceled)
	backupErr := <-done
	if sendErr != nil {
		return sendErr
	}
	if backupErr != nil {
		if ctx.Err() != nil {
			return s.streamEnd(ctx)
		}
		return toStatus("backup", backupErr)
	}
	return nil
}
