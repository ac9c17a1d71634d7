package logbook

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors that callers branch on; the log wraps them.
var (
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("logbook: closed")
	// ErrInvalid is returned for invalid arguments: a nil context, an
	// out-of-range option, an offset for module 0, an invalid filter.
	ErrInvalid = errors.New("logbook: invalid argument")
)

// Source says where a record came from.
type Source uint8

// Sources of records. The zero Source is invalid.
const (
	// SourceEvent: an event of the events bus.
	SourceEvent Source = iota + 1
	// SourceSystem: a box's system message (openconfig-messages).
	SourceSystem
	// SourceOperation: the orchestrator's own operation log (slog).
	SourceOperation

	numSources = iota + 1
)

var sourceNames = [numSources]string{
	SourceEvent:     "event",
	SourceSystem:    "system",
	SourceOperation: "operation",
}

// Valid reports whether s is one of the defined sources.
func (s Source) Valid() bool { return s > 0 && s < numSources }

// String returns "event", "system", "operation" or "Source(n)".
func (s Source) String() string {
	if s.Valid() {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// ParseSource returns the source named s (case-insensitive). The error wraps
// ErrInvalid.
func ParseSource(s string) (Source, error) {
	for v := Source(1); v < numSources; v++ {
		if strings.EqualFold(s, sourceNames[v]) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("logbook: unknown source %q: %w", s, ErrInvalid)
}

// MarshalText encodes the source as its name.
func (s Source) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("logbook: source %d: %w", uint8(s), ErrInvalid)
	}
	return []byte(sourceNames[s]), nil
}

// UnmarshalText decodes a source name.
func (s *Source) UnmarshalText(b []byte) error {
	if s == nil {
		return fmt.Errorf("logbook: unmarshal into nil *Source: %w", ErrInvalid)
	}
	v, err := ParseSource(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Severity is a record's severity, the syslog scale (RFC 5424) ordered from
// least to most severe, so that Filter.MinSeverity selects "this and worse".
type Severity int8

// Severities, least severe first. The zero Severity is Debug.
const (
	Debug Severity = iota
	Info
	Notice
	Warning
	Error
	Critical
	Alert
	Emergency
)

var severityNames = [...]string{
	Debug:     "debug",
	Info:      "info",
	Notice:    "notice",
	Warning:   "warning",
	Error:     "error",
	Critical:  "critical",
	Alert:     "alert",
	Emergency: "emergency",
}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool { return s >= Debug && s <= Emergency }

// String returns the severity's name ("warning") or "Severity(n)".
func (s Severity) String() string {
	if s.Valid() {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int8(s))
}

// ParseSeverity reads a severity as a user or a box writes it: the names
// String returns, the OpenConfig SYSLOG_SEVERITY identities with or without
// their module prefix ("openconfig-system-logging:WARNING", "INFORMATIONAL"),
// the usual abbreviations ("warn", "err", "crit", "emerg") and the syslog
// numbers "0" (emergency) to "7" (debug). Case is ignored. The error wraps
// ErrInvalid.
func ParseSeverity(s string) (Severity, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	switch name {
	case "debug":
		return Debug, nil
	case "info", "informational":
		return Info, nil
	case "notice":
		return Notice, nil
	case "warning", "warn":
		return Warning, nil
	case "error", "err":
		return Error, nil
	case "critical", "crit":
		return Critical, nil
	case "alert":
		return Alert, nil
	case "emergency", "emerg", "panic":
		return Emergency, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= 7 {
		return Emergency - Severity(n), nil
	}
	return 0, fmt.Errorf("logbook: unknown severity %q: %w", s, ErrInvalid)
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("logbook: severity %d: %w", int8(s), ErrInvalid)
	}
	return []byte(severityNames[s]), nil
}

// UnmarshalText decodes a severity as ParseSeverity reads it.
func (s *Severity) UnmarshalText(b []byte) error {
	if s == nil {
		return fmt.Errorf("logbook: unmarshal into nil *Severity: %w", ErrInvalid)
	}
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Record kinds of the sources other than events (an event record's kind is
// its event kind's name, such as "port-down").
const (
	// KindMessage is the kind of every system message record.
	KindMessage = "message"
	// KindLog is the kind of every operation log record.
	KindLog = "log"
)

// Record is one entry of the log.
//
// Its JSON form, used by the CLI, has these stable field names:
//
//	{"seq":12,"time":"…","source":"event","kind":"port-down",
//	 "severity":"warning","module":3,"serial":"SN3","port":12,"op":"op-1",
//	 "message":"…","attrs":{…},"source_time":"…","offset_ns":50000000,
//	 "error_bound_ns":200000,"received":"…","event_seq":7,"late":true}
//
// Times are RFC 3339 with nanoseconds, durations integer nanoseconds;
// serial, port, op, message, attrs, source_time, offset_ns, error_bound_ns,
// event_seq and late are left out when empty.
type Record struct {
	// Seq is the record's order of arrival in this log, from 1; it breaks
	// ties between records of one module with equal corrected times.
	Seq uint64 `json:"seq"`
	// Time is the corrected time: SourceTime − Offset for a box timestamp,
	// the orchestrator's timestamp otherwise.
	Time time.Time `json:"time"`
	// Source says where the record came from.
	Source Source `json:"source"`
	// Kind is the event kind's name for events, KindMessage for system
	// messages and KindLog for operation logs.
	Kind string `json:"kind"`
	// Severity is the record's severity.
	Severity Severity `json:"severity"`
	// Module is the box's module ID; 0 for chassis-wide records.
	Module uint32 `json:"module"`
	// Serial is the box's serial number, when known.
	Serial string `json:"serial,omitempty"`
	// Port is the port concerned (events only), 0 for none.
	Port uint32 `json:"port,omitempty"`
	// OpID is the operation (trace) ID, if any.
	OpID string `json:"op,omitempty"`
	// Message is the human-readable text.
	Message string `json:"message,omitempty"`
	// Attrs are the record's attributes (event attributes, system message
	// fields, slog attributes). Shared between readers: do not modify.
	Attrs map[string]string `json:"attrs,omitempty"`
	// SourceTime is the raw box timestamp the corrected time came from;
	// zero for orchestrator timestamps.
	SourceTime time.Time `json:"source_time,omitzero"`
	// Offset is the box clock offset subtracted from SourceTime.
	Offset time.Duration `json:"offset_ns,omitempty"`
	// ErrorBound is the offset estimate's error bound: the corrected time
	// is within ±ErrorBound of the true time (plus the box's own error).
	ErrorBound time.Duration `json:"error_bound_ns,omitempty"`
	// Received is when the log received the record (orchestrator clock).
	Received time.Time `json:"received"`
	// EventSeq is the event's bus sequence number (events only).
	EventSeq uint64 `json:"event_seq,omitempty"`
	// Late is set on a record that arrived after records ordered after it
	// had been emitted: it is emitted out of order (see the package doc).
	Late bool `json:"late,omitempty"`
}

// String renders the record on one line, such as
// "2025-03-01T12:00:00.000000000Z warning event/port-down module=3 port=12 op=op-1: carrier lost".
func (r Record) String() string {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"))
	fmt.Fprintf(&b, " %s %s/%s module=%d", r.Severity, r.Source, r.Kind, r.Module)
	if r.Serial != "" {
		fmt.Fprintf(&b, " serial=%s", r.Serial)
	}
	if r.Port != 0 {
		fmt.Fprintf(&b, " port=%d", r.Port)
	}
	if r.OpID != "" {
		fmt.Fprintf(&b, " op=%s", r.OpID)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Attrs)) {
		fmt.Fprintf(&b, " %s=%s", k, r.Attrs[k])
	}
	if r.Late {
		b.WriteString(" late")
	}
	if r.Message != "" {
		b.WriteString(": ")
		b.WriteString(r.Message)
	}
	return b.String()
}

// SystemMessage is one decoded openconfig-messages update from a box: the
// /system/messages/state/message container (msg, app-name, procid, msgid),
// its severity and the gNMI notification's timestamp.
type SystemMessage struct {
	// Module is the box's module ID.
	Module uint32
	// Serial is the box's serial number.
	Serial string
	// Time is the notification's timestamp, on the box's clock; zero means
	// unknown (the log's arrival time is used, uncorrected).
	Time time.Time
	// Severity is the message's severity (see ParseSeverity).
	Severity Severity
	// Msg is the message text.
	Msg string
	// AppName, ProcID and MsgID are the optional syslog fields; they go
	// into the record's attributes "app", "procid" and "msgid".
	AppName, ProcID, MsgID string
	// Attrs are any further attributes.
	Attrs map[string]string
}

// Filter selects records. Each non-empty field narrows the selection; the
// zero Filter matches every record.
type Filter struct {
	// Modules: the record's module is one of these (0 selects
	// chassis-wide records).
	Modules []uint32 `json:"modules,omitempty"`
	// Sources: the record's source is one of these.
	Sources []Source `json:"sources,omitempty"`
	// Kinds: the record's kind is one of these (event kind names,
	// KindMessage, KindLog).
	Kinds []string `json:"kinds,omitempty"`
	// OpID: the record belongs to this operation.
	OpID string `json:"op,omitempty"`
	// Since and Until bound the corrected time: Since ≤ Time < Until. A
	// zero bound is open.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// MinSeverity: the record is at least this severe.
	MinSeverity Severity `json:"min_severity,omitempty"`
	// Limit makes Query return only the last Limit matches; 0 means all.
	// Follow ignores it.
	Limit int `json:"limit,omitempty"`
}

// Match reports whether r passes the filter (Limit aside).
func (f Filter) Match(r Record) bool {
	switch {
	case len(f.Modules) > 0 && !slices.Contains(f.Modules, r.Module),
		len(f.Sources) > 0 && !slices.Contains(f.Sources, r.Source),
		len(f.Kinds) > 0 && !slices.Contains(f.Kinds, r.Kind),
		f.OpID != "" && f.OpID != r.OpID,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until),
		r.Severity < f.MinSeverity:
		return false
	}
	return true
}

// Validate returns an error wrapping ErrInvalid for an invalid source or
// severity or a negative limit.
func (f Filter) Validate() error {
	for _, s := range f.Sources {
		if !s.Valid() {
			return fmt.Errorf("logbook: filter source %d: %w", uint8(s), ErrInvalid)
		}
	}
	if !f.MinSeverity.Valid() {
		return fmt.Errorf("logbook: filter severity %d: %w", int8(f.MinSeverity), ErrInvalid)
	}
	if f.Limit < 0 {
		return fmt.Errorf("logbook: filter limit %d: %w", f.Limit, ErrInvalid)
	}
	return nil
}

func (f Filter) clone() Filter {
	f.Modules = slices.Clone(f.Modules)
	f.Sources = slices.Clone(f.Sources)
	f.Kinds = slices.Clone(f.Kinds)
	return f
}
