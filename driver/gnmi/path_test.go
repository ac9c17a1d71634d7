package gnmi_test

import (
	"errors"
	"testing"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/p4fabric/fabric/driver/gnmi"
)

func elems(es ...*gpb.PathElem) []*gpb.PathElem { return es }

func pe(name string, kv ...string) *gpb.PathElem {
	e := &gpb.PathElem{Name: name}
	if len(kv) > 0 {
		e.Key = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Key[kv[i]] = kv[i+1]
		}
	}
	return e
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in     string
		want   *gpb.Path
		printd string // PathString of the result; "" means in
	}{
		{"/", &gpb.Path{}, ""},
		{"", &gpb.Path{}, "/"},
		{"/interfaces/interface[name=eth1]/state", &gpb.Path{Elem: elems(pe("interfaces"), pe("interface", "name", "eth1"), pe("state"))}, ""},
		{"interfaces/interface", &gpb.Path{Elem: elems(pe("interfaces"), pe("interface"))}, "/interfaces/interface"},
		{"/a/b/", &gpb.Path{Elem: elems(pe("a"), pe("b"))}, "/a/b"},
		{"openconfig:/system", &gpb.Path{Origin: "openconfig", Elem: elems(pe("system"))}, ""},
		{"openconfig:system", &gpb.Path{Origin: "openconfig", Elem: elems(pe("system"))}, "openconfig:/system"},
		{"cli:", &gpb.Path{Origin: "cli"}, "cli:/"},
		{"/a[k=v][j=w]/b", &gpb.Path{Elem: elems(pe("a", "k", "v", "j", "w"), pe("b"))}, "/a[j=w][k=v]/b"},
		{"/interfaces/interface[name=*]/...", &gpb.Path{Elem: elems(pe("interfaces"), pe("interface", "name", "*"), pe("..."))}, ""},
		{"/*/interface", &gpb.Path{Elem: elems(pe("*"), pe("interface"))}, ""},
		{"/interfaces/interface[name=Ethernet1/1]/state", &gpb.Path{Elem: elems(pe("interfaces"), pe("interface", "name", "Ethernet1/1"), pe("state"))}, ""},
		{`/a[k=x\]y]`, &gpb.Path{Elem: elems(pe("a", "k", "x]y"))}, ""},
		{`/a[k=x=y]`, &gpb.Path{Elem: elems(pe("a", "k", "x=y"))}, `/a[k=x\=y]`},
		{`/a[k=with space]`, &gpb.Path{Elem: elems(pe("a", "k", "with space"))}, ""},
		{`/a[k=x:y]/b`, &gpb.Path{Elem: elems(pe("a", "k", "x:y"), pe("b"))}, ""},
		{`/a[k=..]/b`, &gpb.Path{Elem: elems(pe("a", "k", ".."), pe("b"))}, ""},
		{`/a[k=x/../y]`, &gpb.Path{Elem: elems(pe("a", "k", "x/../y"))}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := gnmi.ParsePath(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("ParsePath = %v, want %v", got, tc.want)
			}
			s, err := gnmi.PathString(got)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.printd
			if want == "" {
				want = tc.in
			}
			if s != want {
				t.Fatalf("PathString = %q, want %q", s, want)
			}
			again, err := gnmi.ParsePath(s)
			if err != nil || !proto.Equal(again, got) {
				t.Fatalf("round trip of %q: %v, %v", s, again, err)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, in := range []string{
		"/a[", "/a]b", "/a[k]", "/a[=v]", "/a[k=]", "/a//b", "//", "/a b", "or igin:/a",
		"/a[k=v]x", `/a\`, "/[k=v]",
	} {
		t.Run(in, func(t *testing.T) {
			p, err := gnmi.ParsePath(in)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %v, want an error", in, p)
			}
			if !errors.Is(err, gnmi.ErrPath) {
				t.Fatalf("error %v does not wrap ErrPath", err)
			}
		})
	}
}

func TestPathStringErrors(t *testing.T) {
	if _, err := gnmi.PathString(&gpb.Path{Elem: elems(pe(""))}); err == nil {
		t.Error("empty element name: want an error")
	}
	if _, err := gnmi.PathString(&gpb.Path{Elem: elems(pe("a", "", "v"))}); err == nil {
		t.Error("empty key name: want an error")
	}
	if s, err := gnmi.PathString(nil); err != nil || s != "/" {
		t.Errorf("nil path = %q, %v", s, err)
	}
	// The deprecated element field is printed too.
	if s, err := gnmi.PathString(&gpb.Path{Element: []string{"a", "b"}}); err != nil || s != "/a/b" { //nolint:staticcheck
		t.Errorf("element path = %q, %v", s, err)
	}
}

func TestJoinPaths(t *testing.T) {
	prefix := &gpb.Path{Target: "t", Origin: "openconfig", Elem: elems(pe("interfaces"))}
	p := &gpb.Path{Elem: elems(pe("interface", "name", "eth1"))}
	got := gnmi.JoinPaths(prefix, p)
	want := &gpb.Path{Target: "t", Origin: "openconfig", Elem: elems(pe("interfaces"), pe("interface", "name", "eth1"))}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Fatal(diff)
	}
	got.Elem[1].Key["name"] = "changed"
	if p.GetElem()[0].GetKey()["name"] != "eth1" {
		t.Fatal("JoinPaths shares elements with its arguments")
	}
	if j := gnmi.JoinPaths(nil, &gpb.Path{Origin: "o"}); j.GetOrigin() != "o" {
		t.Fatalf("origin from the path: %v", j)
	}
}
