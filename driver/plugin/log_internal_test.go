package plugin

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// records is a slog handler keeping what it gets.
type records struct {
	mu    sync.Mutex
	level slog.Level
	got   []slog.Record
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func attrsOf(rec slog.Record) map[string]string {
	m := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

func TestHCLogger(t *testing.T) {
	rec := &records{level: slog.LevelDebug}
	var h hclog.Logger = NewHCLogger(slog.New(rec))
	if h.IsTrace() || !h.IsDebug() || h.GetLevel() != hclog.Debug {
		t.Fatalf("levels: trace %v debug %v level %v", h.IsTrace(), h.IsDebug(), h.GetLevel())
	}
	ts := time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)
	h.Named("plugin").With("k", "v").Warn("hello", "n", 1, "timestamp", ts.Format(hclog.TimeFormat))
	h.Trace("dropped: below the handler's level")
	h.Named("a").Named("b").Error("deep")
	h.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[ERROR] from the standard logger")
	if len(rec.got) != 3 {
		t.Fatalf("%d records", len(rec.got))
	}
	r := rec.got[0]
	a := attrsOf(r)
	if r.Level != slog.LevelWarn || r.Message != "hello" || a["logger"] != "plugin" || a["k"] != "v" || a["n"] != "1" || !r.Time.Equal(ts) {
		t.Fatalf("record %v %v", r, a)
	}
	if _, ok := a["timestamp"]; ok {
		t.Fatal("timestamp kept as an attribute")
	}
	if a := attrsOf(rec.got[1]); a["logger"] != "a.b" {
		t.Fatalf("name %v", a)
	}
	if r := rec.got[2]; r.Level != slog.LevelError || r.Message != "from the standard logger" {
		t.Fatalf("standard logger record %v", r)
	}
	// The child go-plugin parses a plugin's standard error into is silent.
	q := hostHCLogger(slog.New(rec), "fabric-driver-x").Named("fabric-driver-x")
	if q.GetLevel() != hclog.Off {
		t.Fatalf("quiet child level %v", q.GetLevel())
	}
	q.Error("must not appear")
	if len(rec.got) != 3 {
		t.Fatal("quiet logger logged")
	}
}

func TestStderrForwarder(t *testing.T) {
	var buf bytes.Buffer
	plugin := slog.New(newJSONHandler(&buf, LevelTrace))
	plugin.Log(context.Background(), LevelTrace, "tracing", "x", 1)
	plugin.Warn("careful", "device", "leaf1", slog.Group("g", "a", 2))
	lines := buf.String()
	for _, want := range []string{`"@level":"trace"`, `"@message":"tracing"`, `"@level":"warn"`, `"@timestamp":"`} {
		if !strings.Contains(lines, want) {
			t.Fatalf("plugin log %q lacks %s", lines, want)
		}
	}
	rec := &records{level: LevelTrace}
	w := stderrForwarder(slog.New(rec))
	input := lines +
		"{\"@message\": 1, \"@level\": 2, \"@timestamp\": true}\n" + // go-plugin v1.8.0 would panic here
		"[WARN] plain line with a level\n" +
		"plain line\n" +
		"\n" +
		"{not json\n" +
		"panic: boom\n" +
		"goroutine 1 [running]:\n" +
		"partial"
	// Written in odd pieces, as a pipe delivers them.
	for i := 0; i < len(input); i += 7 {
		if _, err := w.Write([]byte(input[i:min(i+7, len(input))])); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct {
		level slog.Level
		msg   string
		attrs map[string]string
	}{
		{LevelTrace, "tracing", map[string]string{"x": "1"}},
		{slog.LevelWarn, "careful", map[string]string{"device": "leaf1", "g": "map[a:2]"}},
		{slog.LevelInfo, "1", nil},
		{slog.LevelWarn, "plain line with a level", nil},
		{slog.LevelDebug, "plain line", nil},
		{slog.LevelDebug, "{not json", nil},
		{slog.LevelError, "panic: boom", nil},
		{slog.LevelError, "goroutine 1 [running]:", nil},
	}
	if len(rec.got) != len(want) {
		for _, r := range rec.got {
			t.Log(r.Level, r.Message, attrsOf(r))
		}
		t.Fatalf("%d records, want %d", len(rec.got), len(want))
	}
	for i, w := range want {
		r := rec.got[i]
		if r.Level != w.level || r.Message != w.msg {
			t.Errorf("record %d: %v %q, want %v %q", i, r.Level, r.Message, w.level, w.msg)
		}
		a := attrsOf(r)
		for k, v := range w.attrs {
			if a[k] != v {
				t.Errorf("record %d: %s = %q, want %q (%v)", i, k, a[k], v, a)
			}
		}
	}
	if time.Since(rec.got[0].Time) > time.Minute {
		t.Errorf("time of the plugin's record not kept: %v", rec.got[0].Time)
	}
}
