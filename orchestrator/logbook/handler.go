package logbook

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
)

// Attribute keys the slog handler treats specially, at the top level (not
// inside a group).
const (
	// AttrOp is the slog attribute whose value becomes Record.OpID.
	AttrOp = "op"
	// AttrModule is the slog attribute whose value, a module ID, becomes
	// Record.Module.
	AttrModule = "module"
)

type handlerConfig struct {
	level slog.Leveler
}

// HandlerOption configures Handler.
type HandlerOption func(*handlerConfig)

// WithLevel sets the least level the handler records (default
// slog.LevelInfo). A nil leveler is ignored.
func WithLevel(level slog.Leveler) HandlerOption {
	return func(c *handlerConfig) {
		if level != nil {
			c.level = level
		}
	}
}

// Handler returns a slog.Handler that writes the orchestrator's operation
// logs into l: each slog record becomes a Record of SourceOperation and kind
// KindLog, at the slog record's time (the orchestrator's clock, no offset;
// the arrival time when zero), with severity Debug below slog.LevelInfo, Info
// below slog.LevelWarn, Warning below slog.LevelError and Error from there.
// The top-level attribute "op" (AttrOp) sets the operation ID and "module"
// (AttrModule) the module; every other attribute goes into Attrs as a
// string, keys of grouped attributes prefixed with their groups and dots
// ("g.key"). Handle returns the log's error (ErrClosed after Close), which
// slog.Logger ignores. A nil l gives a handler that records nothing.
func Handler(l *Log, opts ...HandlerOption) slog.Handler {
	c := handlerConfig{level: slog.LevelInfo}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return &handler{log: l, level: c.level}
}

type handler struct {
	log    *Log
	level  slog.Leveler
	prefix string // open groups, each followed by "."
	// Resolved WithAttrs attributes.
	attrs  []kv
	op     string
	module uint32
}

type kv struct{ k, v string }

func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	return h.log != nil && level >= h.level.Level()
}

func (h *handler) Handle(_ context.Context, sr slog.Record) error {
	if h.log == nil {
		return fmt.Errorf("logbook: handler of nil log: %w", ErrClosed)
	}
	acc := &attrAcc{op: h.op, module: h.module}
	acc.kvs = append(acc.kvs, h.attrs...)
	sr.Attrs(func(a slog.Attr) bool {
		acc.add(h.prefix, a)
		return true
	})
	r := Record{
		Time:     sr.Time,
		Source:   SourceOperation,
		Kind:     KindLog,
		Severity: levelSeverity(sr.Level),
		Module:   acc.module,
		OpID:     acc.op,
		Message:  sr.Message,
	}
	if len(acc.kvs) > 0 {
		r.Attrs = make(map[string]string, len(acc.kvs))
		for _, p := range acc.kvs {
			r.Attrs[p.k] = p.v
		}
	}
	return h.log.add(r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	acc := &attrAcc{op: h.op, module: h.module}
	for _, a := range as {
		acc.add(h.prefix, a)
	}
	h2 := *h
	h2.attrs = append(append([]kv(nil), h.attrs...), acc.kvs...)
	h2.op, h2.module = acc.op, acc.module
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// attrAcc flattens attributes.
type attrAcc struct {
	kvs    []kv
	op     string
	module uint32
}

func (acc *attrAcc) add(prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		if len(g) == 0 {
			return
		}
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, sub := range g {
			acc.add(p, sub)
		}
		return
	}
	if a.Key == "" {
		return
	}
	if prefix == "" {
		switch a.Key {
		case AttrOp:
			acc.op = a.Value.String()
			return
		case AttrModule:
			if m, ok := moduleOf(a.Value); ok {
				acc.module = m
				return
			}
		}
	}
	acc.kvs = append(acc.kvs, kv{prefix + a.Key, a.Value.String()})
}

func moduleOf(v slog.Value) (uint32, bool) {
	switch v.Kind() {
	case slog.KindInt64:
		if n := v.Int64(); n >= 0 && n <= math.MaxUint32 {
			return uint32(n), true
		}
	case slog.KindUint64:
		if n := v.Uint64(); n <= math.MaxUint32 {
			return uint32(n), true
		}
	case slog.KindString:
		if n, err := strconv.ParseUint(v.String(), 10, 32); err == nil {
			return uint32(n), true
		}
	}
	return 0, false
}

func levelSeverity(l slog.Level) Severity {
	switch {
	case l >= slog.LevelError:
		return Error
	case l >= slog.LevelWarn:
		return Warning
	case l >= slog.LevelInfo:
		return Info
	}
	return Debug
}
