package gnmi_test

import (
	"testing"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/driver/gnmi"
)

// FuzzParsePath checks that ParsePath never panics and that what it
// accepts prints back (PathString) to a string that parses to the same path.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/", "", "/interfaces/interface[name=eth1]/state", "openconfig:/system", "/a[k=v][j=w]/b",
		`/a[k=x\]y]`, `/a[k=x=y]`, "/interfaces/interface[name=*]/...", "/a//b", `/a\`, "/a[",
		"/interfaces/interface[name=Ethernet1/1]", `/a\/b`, "o:", "/[k=v]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := gnmi.ParsePath(s)
		if err != nil {
			return
		}
		printed, err := gnmi.PathString(p)
		if err != nil {
			t.Fatalf("ParsePath(%q) = %v, which does not print: %v", s, p, err)
		}
		again, err := gnmi.ParsePath(printed)
		if err != nil {
			t.Fatalf("ParsePath(%q) printed as %q, which does not parse: %v", s, printed, err)
		}
		if !proto.Equal(p, again) {
			t.Fatalf("ParsePath(%q) = %v, printed %q, parsed back %v", s, p, printed, again)
		}
	})
}

// FuzzDecodeValue checks that no TypedValue makes DecodeValue panic, and
// that a decoded JSON value encodes again.
func FuzzDecodeValue(f *testing.F) {
	for _, v := range []*gpb.TypedValue{
		{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`{"a":[1,2.5,"x",null,true]}`)}},
		{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`"18446744073709551615"`)}},
		{Value: &gpb.TypedValue_UintVal{UintVal: 7}},
		{Value: &gpb.TypedValue_DecimalVal{DecimalVal: &gpb.Decimal64{Digits: 5, Precision: 4000000000}}},
		{Value: &gpb.TypedValue_LeaflistVal{LeaflistVal: &gpb.ScalarArray{Element: []*gpb.TypedValue{{}}}}},
	} {
		b, err := proto.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tv gpb.TypedValue
		if proto.Unmarshal(b, &tv) != nil {
			return
		}
		v, err := gnmi.DecodeValue(&tv)
		if err != nil {
			return
		}
		if _, ok := tv.GetValue().(*gpb.TypedValue_JsonVal); ok {
			if _, err := gnmi.EncodeValue(v, gpb.Encoding_JSON); err != nil {
				t.Fatalf("decoded JSON %q to %#v, which does not encode: %v", tv.GetJsonVal(), v, err)
			}
		}
	})
}
