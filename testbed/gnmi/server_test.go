package gnmi_test

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	gnmisrv "github.com/p4fabric/fabric/testbed/gnmi"
)

var identity = gnmisrv.Identity{Vendor: "Fabric", Model: "emulated-4x10G", Serial: "SN-1", PartNumber: "PN-1", SoftwareVersion: "1.2.3"}

func TestCapabilities(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(2))
	resp, err := dial(t, addr).Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetGNMIVersion() == "" {
		t.Error("no gNMI version")
	}
	want := []gpb.Encoding{gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO}
	if !slices.Equal(resp.GetSupportedEncodings(), want) {
		t.Errorf("encodings = %v, want %v", resp.GetSupportedEncodings(), want)
	}
	var names []string
	for _, m := range resp.GetSupportedModels() {
		names = append(names, m.GetName())
	}
	for _, m := range []string{"openconfig-interfaces", "openconfig-system", "openconfig-platform", "openconfig-messages"} {
		if !slices.Contains(names, m) {
			t.Errorf("models %v lack %s", names, m)
		}
	}
}

func TestGet(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(10), gnmisrv.WithIdentity(identity))
	c := dial(t, addr)
	tests := []struct {
		name  string
		paths []string
		enc   gpb.Encoding
		opts  []gnmiclient.GetOption
		want  map[string]any // path -> value (JSON values compared after round trip)
	}{
		{
			name: "leaf proto", paths: []string{"/interfaces/interface[name=eth1]/state/oper-status"}, enc: gpb.Encoding_PROTO,
			want: map[string]any{"/interfaces/interface[name=eth1]/state/oper-status": "DOWN"},
		},
		{
			name: "leaf json is bare", paths: []string{"/interfaces/interface[name=eth2]/config/mtu"}, enc: gpb.Encoding_JSON,
			want: map[string]any{"/interfaces/interface[name=eth2]/config/mtu": int64(1500)},
		},
		{
			name: "container json", paths: []string{"/interfaces/interface[name=eth1]/config"}, enc: gpb.Encoding_JSON,
			want: map[string]any{"/interfaces/interface[name=eth1]/config": map[string]any{"name": "eth1", "enabled": true, "mtu": int64(1500)}},
		},
		{
			name: "json_ietf qualifies names and quotes uint64", paths: []string{"/interfaces/interface[name=eth1]/state/counters"}, enc: gpb.Encoding_JSON_IETF,
			want: map[string]any{"/interfaces/interface[name=eth1]/state/counters": map[string]any{
				"openconfig-interfaces:in-pkts": "0", "openconfig-interfaces:in-octets": "0", "openconfig-interfaces:in-discards": "0",
				"openconfig-interfaces:out-pkts": "0", "openconfig-interfaces:out-octets": "0", "openconfig-interfaces:out-discards": "0",
			}},
		},
		{
			name: "ntp", paths: []string{"/system/ntp"}, enc: gpb.Encoding_JSON,
			want: map[string]any{"/system/ntp": map[string]any{"config": map[string]any{"enabled": false}, "state": map[string]any{"enabled": false}}},
		},
		{
			name: "chassis via ...", paths: []string{"/components/.../serial-no"}, enc: gpb.Encoding_PROTO,
			want: map[string]any{"/components/component[name=chassis]/state/serial-no": "SN-1"},
		},
		{
			name: "module-qualified path and origin", paths: []string{"openconfig:/openconfig-system:system/config/hostname"}, enc: gpb.Encoding_PROTO,
			want: map[string]any{"/system/config/hostname": "s1"},
		},
		{
			name: "config only", paths: []string{"/interfaces/interface[name=eth3]"}, enc: gpb.Encoding_PROTO,
			opts: []gnmiclient.GetOption{gnmiclient.GetType(gpb.GetRequest_CONFIG)},
			want: map[string]any{
				"/interfaces/interface[name=eth3]/name":           "eth3",
				"/interfaces/interface[name=eth3]/config/name":    "eth3",
				"/interfaces/interface[name=eth3]/config/enabled": true,
				"/interfaces/interface[name=eth3]/config/mtu":     uint64(1500),
			},
		},
		{
			name: "operational chassis", paths: []string{"/components/component[name=chassis]/state"}, enc: gpb.Encoding_PROTO,
			opts: []gnmiclient.GetOption{gnmiclient.GetType(gpb.GetRequest_OPERATIONAL)},
			want: map[string]any{
				"/components/component[name=chassis]/state/name": "chassis", "/components/component[name=chassis]/state/type": "CHASSIS",
				"/components/component[name=chassis]/state/description": "emulated-4x10G", "/components/component[name=chassis]/state/serial-no": "SN-1",
				"/components/component[name=chassis]/state/part-no": "PN-1", "/components/component[name=chassis]/state/mfg-name": "Fabric",
				"/components/component[name=chassis]/state/software-version": "1.2.3", "/components/component[name=chassis]/state/oper-status": "ACTIVE",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us, err := c.Get(ctx, tc.paths, append(tc.opts, gnmiclient.GetEncoding(tc.enc))...)
			if err != nil {
				t.Fatal(err)
			}
			got := byPath(us)
			if !reflect.DeepEqual(got, tc.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tc.want)
				t.Fatalf("got  %s\nwant %s", gj, wj)
			}
		})
	}

	t.Run("wildcard gives one update per node, naturally ordered", func(t *testing.T) {
		us, err := c.Get(ctx, []string{"/interfaces/interface[name=*]/state/mtu"})
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, u := range us {
			paths = append(paths, u.Path)
			if u.Value != int64(1500) {
				t.Errorf("%s = %v", u.Path, u.Value)
			}
		}
		if len(paths) != 10 || paths[1] != "/interfaces/interface[name=eth2]/state/mtu" || paths[9] != "/interfaces/interface[name=eth10]/state/mtu" {
			t.Fatalf("paths = %v", paths)
		}
	})
	t.Run("list as array of entries with keys", func(t *testing.T) {
		us, err := c.Get(ctx, []string{"/interfaces"})
		if err != nil || len(us) != 1 {
			t.Fatalf("get /interfaces: %v, %d records", err, len(us))
		}
		list := us[0].Value.(map[string]any)["interface"].([]any)
		if len(list) != 10 {
			t.Fatalf("%d interfaces", len(list))
		}
		e := list[9].(map[string]any)
		if e["name"] != "eth10" || e["state"].(map[string]any)["id"] != int64(10) {
			t.Fatalf("last entry = %v", e)
		}
	})
	t.Run("a notification per path", func(t *testing.T) {
		ns, err := c.GetNotifications(ctx, []string{"/system/state/hostname", "/system/config/hostname"})
		if err != nil || len(ns) != 2 {
			t.Fatalf("%v, %d notifications", err, len(ns))
		}
		if ns[0].GetTimestamp() == 0 {
			t.Error("no timestamp")
		}
	})

	errs := []struct {
		name  string
		paths []string
		opts  []gnmiclient.GetOption
		code  codes.Code
		msg   string
	}{
		{"unknown path", []string{"/interfaces/interface[name=eth1]/state/speed"}, nil, codes.InvalidArgument, "speed"},
		{"key on a container", []string{"/system[name=x]"}, nil, codes.InvalidArgument, "system"},
		{"other origin", []string{"cli:/show"}, nil, codes.InvalidArgument, "origin"},
		{"no such interface", []string{"/interfaces/interface[name=eth99]"}, nil, codes.NotFound, "eth99"},
		{"ascii", []string{"/system"}, []gnmiclient.GetOption{gnmiclient.GetEncoding(gpb.Encoding_ASCII)}, codes.Unimplemented, "ASCII"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Get(ctx, tc.paths, tc.opts...)
			if status.Code(err) != tc.code || !contains(err.Error(), tc.msg) {
				t.Fatalf("error = %v, want %v mentioning %q", err, tc.code, tc.msg)
			}
		})
	}
	t.Run("unknown model", func(t *testing.T) {
		_, err := c.Raw().Get(ctx, &gpb.GetRequest{Path: []*gpb.Path{{}}, UseModels: []*gpb.ModelData{{Name: "acme-widgets"}}})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("use_models filters", func(t *testing.T) {
		resp, err := c.Raw().Get(ctx, &gpb.GetRequest{Path: []*gpb.Path{{}}, Encoding: gpb.Encoding_PROTO, UseModels: []*gpb.ModelData{{Name: "openconfig-system"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range resp.GetNotification()[0].GetUpdate() {
			if top := u.GetPath().GetElem()[0].GetName(); top != "system" {
				t.Fatalf("update outside openconfig-system: %v", u.GetPath())
			}
		}
	})
	t.Run("target echoed", func(t *testing.T) {
		tc := dial(t, addr, gnmiclient.WithTarget("leaf7"))
		ns, err := tc.GetNotifications(ctx, []string{"/system/config/hostname"})
		if err != nil || ns[0].GetPrefix().GetTarget() != "leaf7" {
			t.Fatalf("%v, prefix %v", err, ns[0].GetPrefix())
		}
		ns, err = c.GetNotifications(ctx, []string{"/system/config/hostname"})
		if err != nil || ns[0].GetPrefix().GetTarget() != "" {
			t.Fatalf("%v: target set though the request had none: %v", err, ns[0].GetPrefix())
		}
	})
}

func TestSet(t *testing.T) {
	type check map[string]any // path -> PROTO value after the request
	tests := []struct {
		name string
		ops  []gnmiclient.SetOp
		enc  gpb.Encoding // of values built from Go values
		want check
	}{
		{
			name: "scalar leaf", enc: gpb.Encoding_PROTO,
			ops: []gnmiclient.SetOp{gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/enabled", false)},
			want: check{
				"/interfaces/interface[name=eth1]/config/enabled": false, "/interfaces/interface[name=eth1]/state/enabled": false,
				"/interfaces/interface[name=eth1]/state/admin-status": "DOWN",
			},
		},
		{
			name: "json subtree",
			ops: []gnmiclient.SetOp{gnmiclient.SetUpdate("/interfaces/interface[name=eth2]/config",
				map[string]any{"description": "uplink", "mtu": 9000, "name": "eth2"})},
			want: check{"/interfaces/interface[name=eth2]/state/description": "uplink", "/interfaces/interface[name=eth2]/state/mtu": uint64(9000)},
		},
		{
			name: "json list entries under a container", enc: gpb.Encoding_JSON_IETF,
			ops: []gnmiclient.SetOp{gnmiclient.SetUpdate("/", map[string]any{
				"openconfig-system:system": map[string]any{"ntp": map[string]any{
					"config":  map[string]any{"enabled": true},
					"servers": map[string]any{"server": []any{map[string]any{"address": "10.0.0.1", "config": map[string]any{"port": 1123}}}},
				}},
			})},
			want: check{
				"/system/ntp/state/enabled": true, "/system/ntp/servers/server[address=10.0.0.1]/state/port": uint64(1123),
				"/system/ntp/servers/server[address=10.0.0.1]/address": "10.0.0.1",
			},
		},
		{
			name: "delete, replace and update in one request",
			ops: []gnmiclient.SetOp{
				gnmiclient.SetUpdate("/interfaces/interface[name=eth3]/config/description", "x"),
				gnmiclient.SetDelete("/interfaces/interface[name=*]/config/description"),
				gnmiclient.SetReplace("/system/config", map[string]any{"hostname": "leaf-9"}),
			},
			// Deletes run first, so the update of eth3's description stays.
			want: check{"/interfaces/interface[name=eth3]/config/description": "x", "/system/state/hostname": "leaf-9"},
		},
		{
			name: "delete restores defaults",
			ops: []gnmiclient.SetOp{
				gnmiclient.SetUpdate("/interfaces/interface[name=eth4]/config", map[string]any{"enabled": false, "mtu": 2000}),
			},
			want: check{"/interfaces/interface[name=eth4]/config/mtu": uint64(2000)},
		},
	}
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(4))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr, gnmiclient.WithEncoding(tc.enc))
			resp, err := c.Set(ctx, tc.ops...)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetResponse()) != len(tc.ops) || resp.GetTimestamp() == 0 {
				t.Fatalf("response = %v", resp)
			}
			got := get(t, ctx, c, gpb.Encoding_PROTO, "/")
			for p, want := range tc.want {
				if !reflect.DeepEqual(got[p], want) {
					t.Errorf("%s = %#v, want %#v", p, got[p], want)
				}
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		c := dial(t, addr)
		if _, err := c.Set(ctx, gnmiclient.SetDelete("/interfaces/interface[name=eth4]"), gnmiclient.SetDelete("/system/ntp/servers/server[address=10.0.0.1]/config/address"),
			gnmiclient.SetDelete("/system/config/hostname"), gnmiclient.SetDelete("/system/ntp/servers/server[address=192.0.2.9]")); err != nil {
			t.Fatal(err)
		}
		got := get(t, ctx, c, gpb.Encoding_PROTO, "/")
		if got["/interfaces/interface[name=eth4]/config/mtu"] != uint64(1500) || got["/interfaces/interface[name=eth4]/config/enabled"] != true {
			t.Errorf("eth4 not reset: %v %v", got["/interfaces/interface[name=eth4]/config/mtu"], got["/interfaces/interface[name=eth4]/config/enabled"])
		}
		if _, ok := got["/system/ntp/servers/server[address=10.0.0.1]/state/port"]; ok {
			t.Error("NTP server still there")
		}
		if got["/system/config/hostname"] != "s1" {
			t.Errorf("hostname = %v, want the default s1", got["/system/config/hostname"])
		}
		cfg := srv.Config()
		if len(cfg.NTP.Servers) != 0 || cfg.Interfaces[0].Enabled {
			t.Errorf("config = %+v", cfg)
		}
	})
}

func TestSetErrors(t *testing.T) {
	ctx := testCtx(t)
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(2))
	c := dial(t, addr)
	good := gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/description", "changed")
	ascii := &gpb.TypedValue{Value: &gpb.TypedValue_AsciiVal{AsciiVal: "x"}}
	tests := []struct {
		name string
		op   gnmiclient.SetOp
		code codes.Code
		msg  string
	}{
		{"unknown leaf", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/speed", 1), codes.NotFound, "speed"},
		{"unknown interface", gnmiclient.SetUpdate("/interfaces/interface[name=eth9]/config/mtu", 1500), codes.NotFound, "eth9"},
		{"unknown member in JSON", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config", map[string]any{"colour": "red"}), codes.NotFound, "colour"},
		{"wrong type", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/enabled", "yes"), codes.InvalidArgument, "boolean"},
		{"out of range", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/mtu", 70000), codes.InvalidArgument, "mtu"},
		{"mtu below minimum", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/mtu", 10), codes.InvalidArgument, "MTU 10"},
		{"read-only leaf", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/state/oper-status", "UP"), codes.InvalidArgument, "read-only"},
		{"read-only subtree in JSON", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]", map[string]any{"state": map[string]any{"mtu": 1}}), codes.InvalidArgument, "read-only"},
		{"delete of state", gnmiclient.SetDelete("/components/component[name=chassis]/state"), codes.InvalidArgument, "read-only"},
		{"wildcard update", gnmiclient.SetUpdate("/interfaces/interface[name=*]/config/mtu", 1500), codes.InvalidArgument, "wildcards"},
		{"key contradicts path", gnmiclient.SetUpdate("/interfaces/interface[name=eth1]/config/name", "eth2"), codes.InvalidArgument, "contradicts"},
		{"bad hostname", gnmiclient.SetUpdate("/system/config/hostname", "no spaces"), codes.InvalidArgument, "hostname"},
		{"bad server", gnmiclient.SetUpdate("/system/ntp/servers/server[address=-x-]/config/port", 123), codes.InvalidArgument, "-x-"},
		{"unparsable JSON", gnmiclient.SetUpdate("/system/config/hostname", &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: []byte(`"a`)}}), codes.InvalidArgument, "JSON"},
		{"container needs JSON", gnmiclient.SetUpdate("/system/config", &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: "x"}}), codes.InvalidArgument, "container"},
		{"ascii encoding", gnmiclient.SetUpdate("/system/config/hostname", ascii), codes.Unimplemented, "not supported"},
		{"other origin", gnmiclient.SetUpdate("cli:/hostname", "x"), codes.InvalidArgument, "origin"},
	}
	before := srv.Config()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The bad operation comes after a good one: the request is
			// refused as a whole and changes nothing (section 3.4.3).
			_, err := c.Set(ctx, good, tc.op)
			if status.Code(err) != tc.code || !contains(err.Error(), tc.msg) {
				t.Fatalf("error = %v, want %v mentioning %q", err, tc.code, tc.msg)
			}
			if got := srv.Config(); !reflect.DeepEqual(got, before) {
				t.Fatalf("configuration changed by a refused request: %+v", got)
			}
		})
	}
	t.Run("union_replace", func(t *testing.T) {
		_, err := c.Raw().Set(ctx, &gpb.SetRequest{UnionReplace: []*gpb.Update{{Path: &gpb.Path{}}}})
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("empty request is fine", func(t *testing.T) {
		if _, err := c.Raw().Set(ctx, &gpb.SetRequest{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("delete of nothing is fine", func(t *testing.T) {
		if _, err := c.Set(ctx, gnmiclient.SetDelete("/system/ntp/servers/server[address=203.0.113.1]")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCredentials(t *testing.T) {
	ctx := testCtx(t)
	_, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(1), gnmisrv.WithCredentials("admin", "s3cret"))
	tests := []struct {
		name string
		opts []gnmiclient.Option
		code codes.Code
	}{
		{"none", nil, codes.Unauthenticated},
		{"wrong password", []gnmiclient.Option{gnmiclient.WithCredentials("admin", "guess")}, codes.Unauthenticated},
		{"wrong user", []gnmiclient.Option{gnmiclient.WithCredentials("root", "s3cret")}, codes.Unauthenticated},
		{"right", []gnmiclient.Option{gnmiclient.WithCredentials("admin", "s3cret")}, codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr, tc.opts...)
			_, err := c.Capabilities(ctx)
			if status.Code(err) != tc.code {
				t.Errorf("capabilities: %v, want %v", err, tc.code)
			}
			_, err = c.Get(ctx, []string{"/system"})
			if status.Code(err) != tc.code {
				t.Errorf("get: %v, want %v", err, tc.code)
			}
			_, err = c.Set(ctx, gnmiclient.SetUpdate("/system/config/hostname", "h"))
			if status.Code(err) != tc.code {
				t.Errorf("set: %v, want %v", err, tc.code)
			}
			// A refused STREAM subscription is not retried.
			st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{{Path: "/system", Mode: gnmiclient.OnChange}}})
			ev, err := st.Recv(ctx)
			if tc.code == codes.OK {
				if err != nil {
					t.Errorf("subscribe: %v", err)
				}
				return
			}
			if status.Code(err) != tc.code || ev.Disconnected != nil {
				t.Errorf("subscribe: event %+v, %v; want the stream to end with %v", ev, err, tc.code)
			}
		})
	}
	t.Run("CheckCredentials", func(t *testing.T) {
		in := metadata.NewIncomingContext(ctx, metadata.Pairs("username", "u", "password", "p"))
		if err := gnmisrv.CheckCredentials(in, "u", "p"); err != nil {
			t.Error(err)
		}
		if err := gnmisrv.CheckCredentials(ctx, "", ""); err != nil {
			t.Error(err)
		}
		if err := gnmisrv.CheckCredentials(in, "u", "q"); status.Code(err) != codes.Unauthenticated {
			t.Error(err)
		}
	})
}

// TestConcurrentUse runs every kind of request and every switch-side call
// at once, for the race detector.
func TestConcurrentUse(t *testing.T) {
	ctx := testCtx(t)
	var pkts atomic.Uint64
	srv, addr := serve(t, gnmisrv.WithName("s1"), gnmisrv.WithPorts(4),
		gnmisrv.WithCounters(func(uint32) gnmisrv.Counters { return gnmisrv.Counters{InPkts: pkts.Load()} }))
	c := dial(t, addr)
	st := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Subscriptions: []gnmiclient.Subscription{
		{Path: "/", Mode: gnmiclient.OnChange, Heartbeat: 5 * time.Millisecond},
		{Path: "/interfaces/interface/state/counters", Mode: gnmiclient.Sample, SampleInterval: 2 * time.Millisecond, SuppressRedundant: true},
	}})
	untilSync(t, st)
	var wg sync.WaitGroup
	run := func(f func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := f(i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	run(func(i int) error {
		_, err := c.Get(ctx, []string{"/interfaces", "/system"}, gnmiclient.GetEncoding(gpb.Encoding_JSON_IETF))
		return err
	})
	run(func(i int) error {
		_, err := c.Set(ctx, gnmiclient.SetUpdate("/interfaces/interface[name=eth2]/config/mtu", 1000+i),
			gnmiclient.SetReplace("/system/ntp/servers/server[address=192.0.2.1]/config", map[string]any{"port": 100 + i}))
		return err
	})
	run(func(i int) error {
		srv.SetOperStatus(uint32(i%4+1), i%2 == 0)
		pkts.Add(1)
		srv.CountersChanged(uint32(i%4 + 1))
		srv.Publish(gnmisrv.Message{Text: "m"})
		return srv.SetInterfaceEnabled(3, i%3 == 0)
	})
	run(func(i int) error {
		once := subscribe(t, ctx, c, gnmiclient.SubscribeRequest{Mode: gnmiclient.Once, Subscriptions: []gnmiclient.Subscription{{Path: "/interfaces/.../state"}}})
		for {
			if _, err := once.Recv(ctx); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	})
	wg.Wait()
	// The streaming subscription kept up all along.
	if _, err := c.Set(ctx, gnmiclient.SetUpdate(hostnamePath, "final")); err != nil {
		t.Fatal(err)
	}
	waitUpdate(t, st, "the final hostname", is(hostnamePath, "final"))
}
