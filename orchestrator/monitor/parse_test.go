package monitor

import (
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/orchestrator/logbook"
)

func TestMessage(t *testing.T) {
	const base = "/messages/state/message/"
	ts := time.Unix(100, 5)
	tests := []struct {
		name string
		us   []gnmi.Update
		ok   bool
		want logbook.SystemMessage
	}{
		{"severity from priority", []gnmi.Update{{Path: base + "msg", Value: "link down"}, {Path: base + "priority", Value: uint64(4)}},
			true, logbook.SystemMessage{Msg: "link down", Severity: logbook.Warning}},
		{"priority with a facility", []gnmi.Update{{Path: base + "msg", Value: "x"}, {Path: base + "priority", Value: uint64(23*8 + 3)}},
			true, logbook.SystemMessage{Msg: "x", Severity: logbook.Error}},
		{"severity identity", []gnmi.Update{{Path: base + "msg", Value: "x"}, {Path: base + "severity", Value: "openconfig-system-logging:CRITICAL"}},
			true, logbook.SystemMessage{Msg: "x", Severity: logbook.Critical}},
		{"syslog fields", []gnmi.Update{{Path: base + "msg", Value: "boot"}, {Path: base + "app-name", Value: "system"},
			{Path: base + "procid", Value: "7"}, {Path: base + "msgid", Value: "SYSTEM_BOOT"}},
			true, logbook.SystemMessage{Msg: "boot", Severity: logbook.Info, AppName: "system", ProcID: "7", MsgID: "SYSTEM_BOOT"}},
		{"deleted", []gnmi.Update{{Path: base + "msg", Deleted: true}}, false, logbook.SystemMessage{}},
		{"no msg", []gnmi.Update{{Path: base + "priority", Value: uint64(4)}}, false, logbook.SystemMessage{}},
	}
	w := &watcher{box: Box{Serial: "SN1", Module: 3}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := w.message(tt.us, ts.UnixNano())
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			tt.want.Module, tt.want.Serial, tt.want.Time = 3, "SN1", ts
			if got.Module != tt.want.Module || got.Serial != tt.want.Serial || !got.Time.Equal(tt.want.Time) ||
				got.Msg != tt.want.Msg || got.Severity != tt.want.Severity || got.AppName != tt.want.AppName ||
				got.ProcID != tt.want.ProcID || got.MsgID != tt.want.MsgID {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestInterfaceLeaf(t *testing.T) {
	e := func(name string, kv ...string) *gpb.PathElem {
		p := &gpb.PathElem{Name: name}
		if len(kv) == 2 {
			p.Key = map[string]string{kv[0]: kv[1]}
		}
		return p
	}
	tests := []struct {
		name         string
		prefix, path []*gpb.PathElem
		iface, leaf  string
		ok           bool
	}{
		{"no prefix", nil, []*gpb.PathElem{e("interfaces"), e("interface", "name", "eth1"), e("state"), e("oper-status")}, "eth1", "oper-status", true},
		{"split", []*gpb.PathElem{e("interfaces"), e("interface", "name", "eth2")}, []*gpb.PathElem{e("state"), e("id")}, "eth2", "id", true},
		{"config", nil, []*gpb.PathElem{e("interfaces"), e("interface", "name", "eth1"), e("config"), e("enabled")}, "", "", false},
		{"no name", nil, []*gpb.PathElem{e("interfaces"), e("interface"), e("state"), e("id")}, "", "", false},
		{"counters", nil, []*gpb.PathElem{e("interfaces"), e("interface", "name", "eth1"), e("state"), e("counters"), e("in-pkts")}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iface, leaf, ok := interfaceLeaf(tt.prefix, tt.path)
			if ok != tt.ok || ok && (iface != tt.iface || leaf != tt.leaf) {
				t.Fatalf("got %q %q %v, want %q %q %v", iface, leaf, ok, tt.iface, tt.leaf, tt.ok)
			}
		})
	}
}

func TestToUint(t *testing.T) {
	tests := []struct {
		v    any
		want uint64
		ok   bool
	}{
		{uint64(7), 7, true}, {int64(7), 7, true}, {int64(-1), 0, false}, {float64(3), 3, true},
		{float64(2.5), 0, false}, {"12", 12, true}, {"x", 0, false}, {true, 0, false},
	}
	for _, tt := range tests {
		got, ok := toUint(tt.v)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("toUint(%#v) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
