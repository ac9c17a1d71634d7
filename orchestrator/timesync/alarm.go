package timesync

import (
	"fmt"
	"runtime/debug"
	"time"
)

// Alarm is a time alarm event: a box's offset passed the threshold
// (Raised), or came back under it (cleared).
type Alarm struct {
	// Box is the box's name, Module its module ID.
	Box    string
	Module uint32
	// Raised is true when the alarm is raised, false when it clears.
	Raised bool
	// Offset, ErrorBound and DriftPPM are the estimate that decided (see
	// Estimate); for a clear caused by Remove they are the last estimate.
	Offset     time.Duration
	ErrorBound time.Duration
	DriftPPM   float64
	// Threshold is the alarm threshold; a clear needed the offset to be
	// certainly within Threshold − Hysteresis.
	Threshold  time.Duration
	Hysteresis time.Duration
	// Time is the chassis time of the sample that decided (Estimate.Updated),
	// or of the removal.
	Time time.Time
	// Message says what happened, such as
	// `box "leaf1" clock offset 12.3ms ± 150µs is past the threshold 1ms`.
	Message string
}

// String returns the alarm's message.
func (a Alarm) String() string { return a.Message }

// overThreshold and underClearLevel decide raises and clears. Raise when |Offset| − ErrorBound > threshold: the offset is certainly
// past the threshold, whatever the error. Clear when |Offset| + ErrorBound
// ≤ threshold − hysteresis: it is certainly under the threshold, by the
// hysteresis at least. Between the two, nothing changes, so the noise of
// the measurement (within the error bound) and offsets that wander around
// the threshold by less than the hysteresis cause no flapping.
func overThreshold(e Estimate, threshold time.Duration) bool {
	return e.Offset.Abs()-e.ErrorBound > threshold
}

func underClearLevel(e Estimate, threshold, hyst time.Duration) bool {
	return e.Offset.Abs()+e.ErrorBound <= threshold-hyst
}

func (s *Service) newAlarm(e Estimate, raised bool, why string) Alarm {
	a := Alarm{
		Box: e.Box, Module: e.Module, Raised: raised,
		Offset: e.Offset, ErrorBound: e.ErrorBound, DriftPPM: e.DriftPPM,
		Threshold: s.cfg.threshold, Hysteresis: s.cfg.hyst, Time: e.Updated,
	}
	switch {
	case raised:
		a.Message = fmt.Sprintf("box %q clock offset %v ± %v is past the threshold %v", e.Box, e.Offset, e.ErrorBound, s.cfg.threshold)
	case why != "":
		a.Message = fmt.Sprintf("box %q time alarm cleared: %s", e.Box, why)
	default:
		a.Message = fmt.Sprintf("box %q clock offset %v ± %v is back under %v", e.Box, e.Offset, e.ErrorBound, s.cfg.threshold-s.cfg.hyst)
	}
	return a
}

// notify queues f for the delivery goroutine, which runs the callbacks one
// at a time in queue order. It is started when the queue gets its first
// item and ends when the queue is empty, so an idle Service runs no
// goroutine for it. After Close the item is dropped.
func (s *Service) notify(f func()) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.qclosed {
		return
	}
	s.queue = append(s.queue, f)
	if !s.delivering {
		s.delivering = true
		s.qwg.Add(1)
		go s.deliver()
	}
}

func (s *Service) deliver() {
	defer s.qwg.Done()
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.delivering = false
			s.qmu.Unlock()
			return
		}
		f := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.qmu.Unlock()
		s.call(f)
	}
}

// call runs a user callback; a panic in it is logged rather than allowed to
// take the process down from a goroutine the caller does not own.
func (s *Service) call(f func()) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.log.Error("timesync: callback panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

func (s *Service) emitAlarm(a Alarm) {
	if a.Raised {
		s.cfg.log.Warn("time alarm raised", "box", a.Box, "module", a.Module, "offset", a.Offset, "error_bound", a.ErrorBound, "threshold", a.Threshold)
	} else {
		s.cfg.log.Info("time alarm cleared", "box", a.Box, "module", a.Module, "offset", a.Offset, "error_bound", a.ErrorBound, "message", a.Message)
	}
	if f := s.cfg.onAlarm; f != nil {
		s.notify(func() { f(a) })
	}
}

// Threshold returns the alarm threshold and the hysteresis in use: an alarm
// is raised past the threshold and cleared under threshold − hysteresis.
func (s *Service) Threshold() (threshold, hysteresis time.Duration) {
	return s.cfg.threshold, s.cfg.hyst
}
