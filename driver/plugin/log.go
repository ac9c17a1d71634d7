package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level of hclog's TRACE records.
const LevelTrace = slog.Level(-8)

// hclogTime is the timestamp format of hclog's JSON records, the one
// go-plugin parses.
const hclogTime = "2006-01-02T15:04:05.000000Z07:00"

// stderr is the process's standard error as it was at start: Serve points
// os.Stderr elsewhere, but the host reads this one.
var stderr io.Writer = os.Stderr

// NewLogger returns a logger for a plugin process: it writes hclog's JSON
// records to the process's standard error, which the host reads and
// forwards into its own log (level, message, attributes and time kept).
func NewLogger(level slog.Leveler) *slog.Logger {
	return slog.New(newJSONHandler(stderr, level))
}

func newJSONHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTime))
			case slog.LevelKey:
				lvl, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", levelName(lvl))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
}

func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return LevelTrace
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error", "err":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func fromHCLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// NewHCLogger returns an hclog.Logger that writes into l: go-plugin (and
// anything else that logs through hclog) then lands in the host's slog
// log. Levels map one to one (TRACE to LevelTrace); With, Named and the
// implied arguments become attributes ("logger" for the name); the level
// is l's handler's, so SetLevel does nothing. A "timestamp" argument in
// hclog's format becomes the record's time.
func NewHCLogger(l *slog.Logger) hclog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &hcLogger{l: l}
}

// newHCLogJSON is the hclog logger of a plugin's go-plugin server: into
// l, which writes hclog JSON.
func newHCLogJSON(l *slog.Logger) hclog.Logger { return NewHCLogger(l) }

type hcLogger struct {
	l       *slog.Logger
	name    string
	implied []any
	// off silences the logger; quiet is the name of the child logger
	// that is born silenced (see hostHCLogger).
	off   bool
	quiet string
}

// hostHCLogger is the host's logger for go-plugin, whose child named
// after the executable, the one go-plugin parses the plugin's standard
// error into, is silenced: stderrForwarder does that job safely.
func hostHCLogger(l *slog.Logger, executable string) hclog.Logger {
	return &hcLogger{l: l, quiet: executable}
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if h.off || level == hclog.Off {
		return
	}
	lvl := fromHCLevel(level)
	ctx := context.Background()
	if !h.l.Enabled(ctx, lvl) {
		return
	}
	t := time.Now()
	var attrs []any
	if h.name != "" {
		attrs = append(attrs, "logger", h.name)
	}
	attrs = append(attrs, h.implied...)
	for i := 0; i < len(args); i++ {
		if k, ok := args[i].(string); ok && k == "timestamp" && i+1 < len(args) {
			if s, ok := args[i+1].(string); ok {
				if ts, err := time.Parse(hclog.TimeFormat, s); err == nil {
					t = ts
					i++
					continue
				}
			}
		}
		attrs = append(attrs, args[i])
	}
	r := slog.NewRecord(t, lvl, msg, 0)
	r.Add(attrs...)
	_ = h.l.Handler().Handle(ctx, r)
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) enabled(l slog.Level) bool {
	return !h.off && h.l.Enabled(context.Background(), l)
}

func (h *hcLogger) IsTrace() bool { return h.enabled(LevelTrace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hcLogger) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hcLogger) ImpliedArgs() []any { return slices.Clone(h.implied) }

func (h *hcLogger) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(slices.Clone(h.implied), args...)
	return &c
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	c := *h
	if h.quiet != "" && name == h.quiet {
		c.off = true
	}
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel does nothing: the level is the slog handler's.
func (h *hcLogger) SetLevel(hclog.Level) {}

func (h *hcLogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(fromHCLevel(l)) {
			return l
		}
	}
	return hclog.Off
}

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	force := slog.LevelInfo
	forced := false
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		force, forced = fromHCLevel(opts.ForceLevel), true
	}
	return &lineWriter{line: func(s string) {
		lvl := force
		if !forced {
			if l, rest, ok := prefixLevel(s); ok {
				lvl, s = l, rest
			}
		}
		h.Log(toHCLevel(lvl), s)
	}}
}

func toHCLevel(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelDebug:
		return hclog.Trace
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	}
	return hclog.Error
}

// prefixLevel reads the "[DEBUG] ..." prefixes of plain log lines.
func prefixLevel(s string) (slog.Level, string, bool) {
	for _, p := range []struct {
		prefix string
		level  slog.Level
	}{
		{"[TRACE]", LevelTrace}, {"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo},
		{"[WARN]", slog.LevelWarn}, {"[ERROR]", slog.LevelError}, {"[ERR]", slog.LevelError},
	} {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok {
			return p.level, strings.TrimSpace(rest), true
		}
	}
	return 0, s, false
}

// lineWriter calls line for every complete line written to it; a line
// longer than maxLine is cut.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

const maxLine = 1 << 20

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLine {
				w.line(string(w.buf))
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		s := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if strings.TrimSpace(s) != "" {
			w.line(s)
		}
	}
}

// stderrForwarder turns the lines a plugin writes to its standard error
// into records of log. JSON lines are hclog records (NewLogger writes
// them): their level, message, time and attributes are kept. Other lines
// are logged as they are, at the level of a "[LEVEL]" prefix or Debug;
// a Go panic or fatal error and everything after it at Error.
//
// It replaces go-plugin's own parsing, which type-asserts the fields of a
// JSON line without checking them and so would panic the host on a line
// such as {"@message": 1}.
func stderrForwarder(log *slog.Logger) io.Writer {
	inPanic := false
	return &lineWriter{line: func(s string) {
		ctx := context.Background()
		if strings.HasPrefix(strings.TrimSpace(s), "{") {
			if r, ok := hclogRecord(s); ok {
				if log.Enabled(ctx, r.Level) {
					_ = log.Handler().Handle(ctx, r)
				}
				return
			}
		}
		lvl := slog.LevelDebug
		switch {
		case strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: "):
			inPanic = true
			lvl = slog.LevelError
		case inPanic:
			lvl = slog.LevelError
		default:
			if l, rest, ok := prefixLevel(s); ok {
				lvl, s = l, rest
			}
		}
		log.Log(ctx, lvl, s)
	}}
}

// hclogRecord decodes one hclog JSON line.
func hclogRecord(line string) (slog.Record, bool) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return slog.Record{}, false
	}
	str := func(k string) string {
		v, ok := m[k]
		delete(m, k)
		if !ok {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	msg, lvl, ts := str("@message"), str("@level"), str("@timestamp")
	t := time.Now()
	for _, layout := range []string{hclogTime, time.RFC3339Nano} {
		if x, err := time.Parse(layout, ts); err == nil {
			t = x
			break
		}
	}
	r := slog.NewRecord(t, parseLevel(lvl), msg, 0)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r.AddAttrs(slog.Any(strings.TrimPrefix(k, "@"), m[k]))
	}
	return r, true
}
