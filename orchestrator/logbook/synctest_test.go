package logbook

import (
	"maps"
	"testing"
	"testing/synctest"
	"time"
)

// TestSystemClockWindow runs the default configuration (system clock,
// DefaultWindow) in a synctest bubble: the record reaches the follower
// exactly one window after its time, with no real waiting.
func TestSystemClockWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := New()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f, err := l.Follow(t.Context(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = l.AddMessage(SystemMessage{Module: 1, Time: start.Add(-ms(50)), Msg: "early"})
		_ = l.AddMessage(SystemMessage{Module: 2, Time: start.Add(-ms(80)), Msg: "earlier"})
		first := <-f.C()
		if elapsed := time.Since(start); elapsed != DefaultWindow-ms(80) {
			t.Errorf("first record after %v, want %v", elapsed, DefaultWindow-ms(80))
		}
		second := <-f.C()
		if elapsed := time.Since(start); elapsed != DefaultWindow-ms(50) {
			t.Errorf("second record after %v, want %v", elapsed, DefaultWindow-ms(50))
		}
		got := messages([]Record{first, second})
		if got[0] != "earlier" || got[1] != "early" {
			t.Errorf("order %v", got)
		}
	})
}

func TestSystemMessageFields(t *testing.T) {
	clk := newFakeClock(t0)
	l := newLog(t, WithClock(clk), WithWindow(0))
	if _, _, ok := l.Offset(5); ok {
		t.Error("offset before SetOffset")
	}
	_ = l.AddMessage(SystemMessage{Module: 5, Serial: "SN5", Time: t0.Add(-ms(10)), Msg: "before offset"})
	if err := l.SetOffset(5, ms(20), ms(3)); err != nil {
		t.Fatal(err)
	}
	if o, b, ok := l.Offset(5); !ok || o != ms(20) || b != ms(3) {
		t.Errorf("Offset(5) = %v, %v, %v", o, b, ok)
	}
	_ = l.AddMessage(SystemMessage{
		Module: 5, Serial: "SN5", Time: t0.Add(ms(10)), Severity: Critical, Msg: "fan failed",
		AppName: "chassisd", ProcID: "42", MsgID: "FAN", Attrs: map[string]string{"fan": "2"},
	})
	_ = l.AddMessage(SystemMessage{Module: 5, Msg: "no timestamp"})
	rs := query(t, l, Filter{})
	if len(rs) != 3 {
		t.Fatalf("%d records", len(rs))
	}
	if rs[0].Offset != 0 || !rs[0].Time.Equal(t0.Add(-ms(10))) {
		t.Errorf("offset applied to an earlier record: %+v", rs[0])
	}
	r := rs[1]
	want := map[string]string{"app": "chassisd", "procid": "42", "msgid": "FAN", "fan": "2"}
	if r.Source != SourceSystem || r.Kind != KindMessage || r.Serial != "SN5" || r.Severity != Critical ||
		!r.Time.Equal(t0.Add(-ms(10))) || !maps.Equal(r.Attrs, want) || r.Late {
		t.Errorf("record %+v", r)
	}
	if r := rs[2]; !r.Time.Equal(t0) || !r.SourceTime.IsZero() || r.Offset != 0 {
		t.Errorf("untimed record %+v", r)
	}
}
