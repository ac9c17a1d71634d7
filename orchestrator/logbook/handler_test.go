package logbook

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"
)

func newSlogRecord(at time.Time, msg string, args ...any) slog.Record {
	r := slog.NewRecord(at, slog.LevelInfo, msg, 0)
	r.Add(args...)
	return r
}

func slogLogger(l *Log, opts ...HandlerOption) *slog.Logger {
	return slog.New(Handler(l, opts...))
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name   string
		log    func(*slog.Logger)
		op     string
		module uint32
		sev    Severity
		attrs  map[string]string
	}{
		{
			name: "op attribute",
			log:  func(lg *slog.Logger) { lg.Info("commit", "op", "op-7", "devices", 3) },
			op:   "op-7", sev: Info, attrs: map[string]string{"devices": "3"},
		},
		{
			name: "op from With",
			log:  func(lg *slog.Logger) { lg.With("op", "op-8").Warn("slow", "d", time.Second) },
			op:   "op-8", sev: Warning, attrs: map[string]string{"d": "1s"},
		},
		{
			name: "record op overrides With",
			log:  func(lg *slog.Logger) { lg.With("op", "outer").Error("x", "op", "inner") },
			op:   "inner", sev: Error,
		},
		{
			name: "module",
			log:  func(lg *slog.Logger) { lg.Info("x", "module", 3, "op", "op-1") },
			op:   "op-1", module: 3, sev: Info,
		},
		{
			name:   "module as string",
			log:    func(lg *slog.Logger) { lg.Info("x", "module", "9") },
			module: 9, sev: Info,
		},
		{
			name: "module out of range stays an attribute",
			log:  func(lg *slog.Logger) { lg.Info("x", "module", -1) },
			sev:  Info, attrs: map[string]string{"module": "-1"},
		},
		{
			name: "groups",
			log: func(lg *slog.Logger) {
				lg.WithGroup("txn").With("id", 5).Info("x", "op", "not-top-level", slog.Group("dev", "name", "leaf1"))
			},
			sev: Info, attrs: map[string]string{"txn.id": "5", "txn.op": "not-top-level", "txn.dev.name": "leaf1"},
		},
		{
			name: "inline and empty groups",
			log:  func(lg *slog.Logger) { lg.Info("x", slog.Group("", "a", 1), slog.Group("empty"), slog.Attr{}) },
			sev:  Info, attrs: map[string]string{"a": "1"},
		},
		{
			name: "debug enabled by level option",
			log:  func(lg *slog.Logger) { lg.Debug("x", "op", "op-d") },
			op:   "op-d", sev: Debug,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(t0)
			l := newLog(t, WithClock(clk), WithWindow(0))
			tc.log(slogLogger(l, WithLevel(slog.LevelDebug)))
			rs := query(t, l, Filter{})
			if len(rs) != 1 {
				t.Fatalf("%d records", len(rs))
			}
			r := rs[0]
			if r.Source != SourceOperation || r.Kind != KindLog || r.OpID != tc.op || r.Module != tc.module || r.Severity != tc.sev {
				t.Errorf("record %+v", r)
			}
			if !maps.Equal(r.Attrs, tc.attrs) {
				t.Errorf("attrs %v, want %v", r.Attrs, tc.attrs)
			}
			if !r.SourceTime.IsZero() || r.Offset != 0 {
				t.Errorf("operation record has a box time: %+v", r)
			}
		})
	}
}

func TestHandlerLevelAndOps(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(0))
	lg := slogLogger(l)
	lg.Debug("hidden", "op", "op-1")
	lg.Info("a", "op", "op-1")
	op2 := lg.With("op", "op-2")
	op2.Info("b")
	op2.Error("c")
	lg.Log(context.Background(), slog.LevelWarn+1, "d", "op", "op-1")

	tests := []struct {
		op   string
		want []string
	}{
		{"op-1", []string{"a", "d"}},
		{"op-2", []string{"b", "c"}},
		{"op-3", nil},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			rs := query(t, l, Filter{OpID: tc.op, Sources: []Source{SourceOperation}})
			var got []string
			for _, r := range rs {
				got = append(got, r.Message)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("op %s: %v, want %v", tc.op, got, tc.want)
			}
		})
	}
	// Zero slog time: the arrival time, on the orchestrator's clock.
	_ = Handler(l).Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "now", 0))
	if rs := query(t, l, Filter{Limit: 1}); !rs[0].Time.Equal(t0) {
		t.Errorf("time %v, want %v", rs[0].Time, t0)
	}
}
