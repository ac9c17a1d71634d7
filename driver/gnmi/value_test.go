package gnmi_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/p4fabric/fabric/driver/gnmi"
)

func TestDecodeValue(t *testing.T) {
	anyv := &anypb.Any{TypeUrl: "x/y", Value: []byte{1}}
	tests := []struct {
		name string
		in   *gpb.TypedValue
		want any
	}{
		{"string", &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "UP"}}, "UP"},
		{"int", &gpb.TypedValue{Value: &gpb.TypedValue_IntVal{IntVal: -3}}, int64(-3)},
		{"uint", &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: math.MaxUint64}}, uint64(math.MaxUint64)},
		{"bool", &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: true}}, true},
		{"double", &gpb.TypedValue{Value: &gpb.TypedValue_DoubleVal{DoubleVal: 1.5}}, 1.5},
		{"float", &gpb.TypedValue{Value: &gpb.TypedValue_FloatVal{FloatVal: 0.5}}, 0.5},
		{"decimal", &gpb.TypedValue{Value: &gpb.TypedValue_DecimalVal{DecimalVal: &gpb.Decimal64{Digits: 1234, Precision: 2}}}, 12.34},
		{"bytes", &gpb.TypedValue{Value: &gpb.TypedValue_BytesVal{BytesVal: []byte{1, 2}}}, []byte{1, 2}},
		{"ascii", &gpb.TypedValue{Value: &gpb.TypedValue_AsciiVal{AsciiVal: "show run"}}, "show run"},
		{"any", &gpb.TypedValue{Value: &gpb.TypedValue_AnyVal{AnyVal: anyv}}, anyv},
		{"leaf-list", &gpb.TypedValue{Value: &gpb.TypedValue_LeaflistVal{LeaflistVal: &gpb.ScalarArray{Element: []*gpb.TypedValue{
			{Value: &gpb.TypedValue_StringVal{StringVal: "a"}}, {Value: &gpb.TypedValue_UintVal{UintVal: 1}}}}}}, []any{"a", uint64(1)}},
		{"json object with exact numbers", &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(
			`{"a":18446744073709551615,"b":-1,"c":1.5,"d":[true,null,"x"],"e":9007199254740993}`)}},
			map[string]any{"a": uint64(math.MaxUint64), "b": int64(-1), "c": 1.5, "d": []any{true, nil, "x"}, "e": int64(9007199254740993)}},
		{"json_ietf bare", &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`"10"`)}}, "10"},
		{"json huge number kept as text", &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`1e999`)}}, "1e999"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gnmi.DecodeValue(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if a, ok := got.(*anypb.Any); ok {
				if !proto.Equal(a, tc.want.(*anypb.Any)) {
					t.Fatalf("got %v", a)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	for name, in := range map[string]*gpb.TypedValue{
		"nil":               nil,
		"empty":             {},
		"bad json":          {Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`{`)}},
		"trailing json":     {Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`1 2`)}},
		"nested leaf-lists": {Value: &gpb.TypedValue_LeaflistVal{LeaflistVal: &gpb.ScalarArray{Element: []*gpb.TypedValue{{Value: &gpb.TypedValue_LeaflistVal{LeaflistVal: &gpb.ScalarArray{}}}}}}},
		"nil in leaf-list":  {Value: &gpb.TypedValue_LeaflistVal{LeaflistVal: &gpb.ScalarArray{Element: []*gpb.TypedValue{nil}}}},
	} {
		t.Run("error "+name, func(t *testing.T) {
			if v, err := gnmi.DecodeValue(in); err == nil || !errors.Is(err, gnmi.ErrValue) {
				t.Fatalf("DecodeValue = %v, %v; want an ErrValue", v, err)
			}
		})
	}
}

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		name string
		v    any
		enc  gpb.Encoding
		want *gpb.TypedValue
	}{
		{"json", map[string]any{"enabled": false}, gpb.Encoding_JSON, &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`{"enabled":false}`)}}},
		{"json_ietf", 1500, gpb.Encoding_JSON_IETF, &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`1500`)}}},
		{"raw json", json.RawMessage(`[1,2]`), gpb.Encoding_JSON, &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`[1,2]`)}}},
		{"proto string", "eth1", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "eth1"}}},
		{"proto uint16", uint16(9000), gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: 9000}}},
		{"proto float32", float32(0.5), gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_DoubleVal{DoubleVal: 0.5}}},
		{"typed value as is", &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: true}}, gpb.Encoding_ASCII, &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gnmi.EncodeValue(tc.v, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	for name, c := range map[string]struct {
		v   any
		enc gpb.Encoding
	}{
		"proto map":     {map[string]any{}, gpb.Encoding_PROTO},
		"ascii":         {"x", gpb.Encoding_ASCII},
		"bad raw json":  {json.RawMessage(`{`), gpb.Encoding_JSON},
		"unmarshalable": {make(chan int), gpb.Encoding_JSON},
		"nil typed":     {(*gpb.TypedValue)(nil), gpb.Encoding_JSON},
		"bad utf8":      {"\xff", gpb.Encoding_PROTO},
	} {
		t.Run("error "+name, func(t *testing.T) {
			if _, err := gnmi.EncodeValue(c.v, c.enc); !errors.Is(err, gnmi.ErrValue) {
				t.Fatalf("error = %v", err)
			}
		})
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		text string
		enc  gpb.Encoding
		want *gpb.TypedValue
	}{
		{"false", gpb.Encoding_JSON, &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`false`)}}},
		{"uplink to spine", gpb.Encoding_JSON, &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`"uplink to spine"`)}}},
		{`{"mtu":9000}`, gpb.Encoding_JSON_IETF, &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`{"mtu":9000}`)}}},
		{"true", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: true}}},
		{"1500", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: 1500}}},
		{"-7", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_IntVal{IntVal: -7}}},
		{"2.5", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_DoubleVal{DoubleVal: 2.5}}},
		{`"42"`, gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "42"}}},
		{"Inf", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "Inf"}}},
		{"eth1", gpb.Encoding_PROTO, &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "eth1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, err := gnmi.ParseValue(tc.text, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := gnmi.ParseValue("x", gpb.Encoding_BYTES); err == nil {
		t.Error("BYTES: want an error")
	}
	for s, want := range map[string]gpb.Encoding{"json": gpb.Encoding_JSON, "JSON-IETF": gpb.Encoding_JSON_IETF, " proto ": gpb.Encoding_PROTO} {
		if got, err := gnmi.ParseEncoding(s); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := gnmi.ParseEncoding("xml"); err == nil {
		t.Error("ParseEncoding(xml): want an error")
	}
}

func TestFlatten(t *testing.T) {
	n := &gpb.Notification{
		Timestamp: 42,
		Prefix:    &gpb.Path{Target: "leaf1", Origin: "openconfig", Elem: elems(pe("interfaces"), pe("interface", "name", "eth1"))},
		Update: []*gpb.Update{
			{Path: &gpb.Path{Elem: elems(pe("state"), pe("oper-status"))}, Val: &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "UP"}}, Duplicates: 2},
			{Path: &gpb.Path{Elem: elems(pe("state"), pe("mtu"))}, Val: &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte("{")}}},
		},
		Delete: []*gpb.Path{{Elem: elems(pe("config"), pe("description"))}},
	}
	got, err := gnmi.Flatten(n)
	if err == nil || !errors.Is(err, gnmi.ErrValue) {
		t.Fatalf("error = %v, want one for the bad JSON", err)
	}
	ts := time.Unix(0, 42)
	want := []gnmi.Update{
		{Target: "leaf1", Path: "openconfig:/interfaces/interface[name=eth1]/state/oper-status", Value: "UP", Timestamp: ts, Duplicates: 2},
		{Target: "leaf1", Path: "openconfig:/interfaces/interface[name=eth1]/state/mtu", Value: n.Update[1].Val, Timestamp: ts},
		{Target: "leaf1", Path: "openconfig:/interfaces/interface[name=eth1]/config/description", Timestamp: ts, Deleted: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if recs, err := gnmi.Flatten(nil); recs != nil || err != nil {
		t.Fatalf("Flatten(nil) = %v, %v", recs, err)
	}
}
