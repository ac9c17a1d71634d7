package zapslog_test

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/p4fabric/fabric/orchestrator/store/internal/zapslog"
)

func Example() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // deterministic output
			}
			return a
		},
	})
	lg := zapslog.New(slog.New(h)).With(zap.String("member", "m1"))
	lg.Debug("not shown")
	lg.Warn("slow apply", zap.Int("took-ms", 120))
	// Output: level=WARN msg="slow apply" member=m1 took-ms=120
}

func TestLevels(t *testing.T) {
	tests := []struct {
		log  func(*zap.Logger)
		want string
	}{
		{func(l *zap.Logger) { l.Debug("d") }, "level=DEBUG msg=d"},
		{func(l *zap.Logger) { l.Info("i") }, "level=INFO msg=i"},
		{func(l *zap.Logger) { l.Warn("w") }, "level=WARN msg=w"},
		{func(l *zap.Logger) { l.Error("e", zap.Error(os.ErrClosed)) }, `level=ERROR msg=e error="file already closed"`},
		{func(l *zap.Logger) { l.Named("raft").Info("n") }, "level=INFO msg=n logger=raft"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})
		tc.log(zapslog.New(slog.New(h)))
		if got := strings.TrimSpace(buf.String()); got != tc.want {
			t.Errorf("logged %q, want %q", got, tc.want)
		}
	}
	zapslog.New(nil).Error("discarded") // a nil logger discards, no panic
}
