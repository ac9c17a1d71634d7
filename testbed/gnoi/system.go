package gnoi

import (
	"context"
	"math"
	"time"

	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc/codes"
)

// systemServer implements gnoi.system.System: Time, Reboot, RebootStatus
// and CancelReboot. The other RPCs (Ping, Traceroute, SetPackage,
// SwitchControlProcessor, KillProcess) are UNIMPLEMENTED.
type systemServer struct {
	syspb.UnimplementedSystemServer
	s *Server
}

// pendingReboot is a reboot accepted and not yet done.
type pendingReboot struct {
	method syspb.RebootMethod
	reason string
	at     time.Time // host time (with its monotonic reading) of the reboot
	when   time.Time // the box's clock at the reboot
	timer  *time.Timer
	firing bool // the timer fired: the reboot is under way
}

// lastReboot is the outcome of the last reboot.
type lastReboot struct {
	done    bool
	method  syspb.RebootMethod
	reason  string
	status  syspb.RebootStatus_Status
	message string
}

// Time returns the box clock's time in nanoseconds since the Unix epoch.
func (x *systemServer) Time(ctx context.Context, _ *syspb.TimeRequest) (*syspb.TimeResponse, error) {
	if err := x.s.authorize(ctx); err != nil {
		return nil, err
	}
	now := x.s.clock.Now()
	ns := now.UnixNano()
	if now.Before(time.Unix(0, 0)) || ns < 0 {
		return nil, errorf(codes.FailedPrecondition, "box clock reads %v, before the Unix epoch", now)
	}
	return &syspb.TimeResponse{Time: uint64(ns)}, nil
}

// Reboot accepts COLD, WARM and POWERDOWN reboots of the whole box after a
// delay (at least the reboot grace), and POWERUP as the no-op the proto
// makes it on a box that is on. Other methods, and sub-components, are
// INVALID_ARGUMENT; a reboot while another is pending is
// FAILED_PRECONDITION (the proto says such requests "must be rejected"
// without naming a code; gRPC's guide gives FAILED_PRECONDITION for a
// request the system's state forbids until the state changes, here until
// the reboot is done or cancelled).
func (x *systemServer) Reboot(ctx context.Context, req *syspb.RebootRequest) (*syspb.RebootResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	switch m := req.GetMethod(); m {
	case syspb.RebootMethod_COLD, syspb.RebootMethod_WARM, syspb.RebootMethod_POWERDOWN:
	case syspb.RebootMethod_POWERUP:
		return &syspb.RebootResponse{}, nil
	default:
		return nil, errorf(codes.InvalidArgument, "reboot method %s is not supported (COLD, WARM, POWERDOWN and POWERUP are)", m)
	}
	if n := len(req.GetSubcomponents()); n > 0 {
		return nil, errorf(codes.InvalidArgument, "reboot of %d sub-component(s) is not supported: the box reboots as a whole", n)
	}
	if req.GetDelay() > math.MaxInt64 {
		return nil, errorf(codes.InvalidArgument, "reboot delay %d ns out of range", req.GetDelay())
	}
	delay := time.Duration(req.GetDelay())
	if err := s.scheduleReboot(req.GetMethod(), delay, req.GetMessage()); err != nil {
		return nil, err
	}
	return &syspb.RebootResponse{}, nil
}

// scheduleReboot arranges for the box to reboot after delay (at least the
// grace).
func (s *Server) scheduleReboot(method syspb.RebootMethod, delay time.Duration, reason string) error {
	delay = max(delay, s.cfg.grace)
	now, boxNow := time.Now(), s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errorf(codes.Unavailable, "the box is shutting down")
	}
	if p := s.pending; p != nil {
		if p.firing {
			return errorf(codes.FailedPrecondition, "a %s reboot is under way", p.method)
		}
		return errorf(codes.FailedPrecondition, "a %s reboot is already pending (in %v, reason %q); cancel it first",
			p.method, time.Until(p.at).Round(time.Millisecond), p.reason)
	}
	p := &pendingReboot{method: method, reason: reason, at: now.Add(delay), when: boxNow.Add(delay)}
	p.timer = time.AfterFunc(delay, func() { s.fire(p) })
	s.pending = p
	s.cfg.log.Info("reboot scheduled", "method", method.String(), "delay", delay, "reason", reason)
	return nil
}

// fire performs a pending reboot when its delay is over.
func (s *Server) fire(p *pendingReboot) {
	s.mu.Lock()
	if s.pending != p || p.firing {
		s.mu.Unlock()
		return // cancelled
	}
	p.firing = true
	s.reboots++
	next := s.next
	s.mu.Unlock()

	old := s.box.SoftwareVersion()
	switched := next != "" && next != old
	if switched {
		s.box.SetSoftwareVersion(next)
	}
	s.cfg.log.Info("rebooting", "method", p.method.String(), "reason", p.reason, "version", s.box.SoftwareVersion())
	err := s.box.Reboot(p.method, p.reason)
	if err != nil && switched {
		s.box.SetSoftwareVersion(old)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
	s.last = lastReboot{done: true, method: p.method, reason: p.reason, status: syspb.RebootStatus_STATUS_SUCCESS}
	if err != nil {
		s.last.status, s.last.message = syspb.RebootStatus_STATUS_FAILURE, err.Error()
		s.cfg.log.Warn("reboot failed", "err", err)
		return
	}
	if switched {
		s.next = ""
	}
}

// RebootStatus reports the pending reboot, or the outcome of the last one.
func (x *systemServer) RebootStatus(ctx context.Context, req *syspb.RebootStatusRequest) (*syspb.RebootStatusResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	if n := len(req.GetSubcomponents()); n > 0 {
		return nil, errorf(codes.InvalidArgument, "reboot status of %d sub-component(s) is not supported: the box reboots as a whole", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &syspb.RebootStatusResponse{Count: s.reboots}
	if p := s.pending; p != nil {
		resp.Active = true
		resp.Wait = uint64(max(time.Until(p.at), 0))
		resp.When = nonNegativeNanos(p.when)
		resp.Reason = p.reason
		resp.Method = p.method
		return resp, nil
	}
	if s.last.done {
		resp.Reason = s.last.reason
		resp.Method = s.last.method
		resp.Status = &syspb.RebootStatus{Status: s.last.status, Message: s.last.message}
	}
	return resp, nil
}

// CancelReboot cancels a pending reboot; without one it does nothing. A
// reboot already under way cannot be cancelled (FAILED_PRECONDITION).
func (x *systemServer) CancelReboot(ctx context.Context, req *syspb.CancelRebootRequest) (*syspb.CancelRebootResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	if n := len(req.GetSubcomponents()); n > 0 {
		return nil, errorf(codes.InvalidArgument, "cancelling the reboot of %d sub-component(s) is not supported", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	if p == nil {
		return &syspb.CancelRebootResponse{}, nil
	}
	if p.firing {
		return nil, errorf(codes.FailedPrecondition, "the %s reboot is already under way", p.method)
	}
	p.timer.Stop()
	s.pending = nil
	s.cfg.log.Info("reboot cancelled", "method", p.method.String(), "message", req.GetMessage())
	return &syspb.CancelRebootResponse{}, nil
}

func nonNegativeNanos(t time.Time) uint64 {
	ns := t.UnixNano()
	if ns < 0 || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint64(ns)
}
