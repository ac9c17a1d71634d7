package topology_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/p4fabric/fabric/testbed/topology"
)

// FuzzParse checks that Parse never panics and that whatever it accepts is
// valid, survives Marshal and Parse unchanged, and has symmetric links. The
// seed corpus lives in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "leafspine.yaml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := topology.Parse(data)
		if err != nil {
			if topo != nil {
				t.Fatalf("Parse returned both a topology and error %v", err)
			}
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		out, err := topo.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := topology.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v\nYAML:\n%s", err, out)
		}
		if !reflect.DeepEqual(back, topo) {
			t.Fatalf("round trip changed the topology\nbefore: %+v\nafter:  %+v\nYAML:\n%s", topo, back, out)
		}
		for _, l := range topo.Links {
			if p, ok := topo.Peer(l.A.Switch, l.A.Port); !ok || p != l.B {
				t.Fatalf("Peer(%v) = %v, %v; want %v", l.A, p, ok, l.B)
			}
			if p, ok := topo.Peer(l.B.Switch, l.B.Port); !ok || p != l.A {
				t.Fatalf("Peer(%v) = %v, %v; want %v", l.B, p, ok, l.A)
			}
		}
	})
}

// FuzzRoundTrip builds topologies from fuzzed field values, so that valid
// topologies with unusual names, strings and numbers are common, and checks
// that every valid one survives Marshal and Parse unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add("leaf1", uint64(1), uint32(4), "Fabric", "SN-1", "c.pem", "127.0.0.1:0", int64(150e6), 20.5, uint32(1), uint32(2))
	f.Add("y", uint64(1<<63), uint32(4096), "null", "0x1F", "", ":9559", int64(-1), -0.5, uint32(4096), uint32(1))
	f.Fuzz(func(t *testing.T, name string, id uint64, ports uint32, vendor, serial, cert, addr string, offset int64, drift float64, portA, portB uint32) {
		topo := &topology.Topology{
			Name: name,
			Switches: []topology.Switch{
				{
					Name: name, DeviceID: id, Ports: ports, Address: addr,
					Identity: topology.Identity{Vendor: vendor, Serial: serial, Model: cert, SoftwareVersion: addr},
					Clock:    &topology.Clock{Offset: time.Duration(offset), DriftPPM: drift},
				},
				{Name: "peer", Ports: ports},
			},
			Links: []topology.Link{{A: topology.Endpoint{Switch: name, Port: portA}, B: topology.Endpoint{Switch: "peer", Port: portB}}},
		}
		if cert != "" {
			topo.Switches[1].TLS = &topology.TLS{Cert: cert, Key: cert + ".key", CA: vendor}
		}
		topo.SetDefaults()
		if topo.Validate() != nil {
			return
		}
		out, err := topo.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := topology.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v\nYAML:\n%s", err, out)
		}
		if !reflect.DeepEqual(back, topo) {
			t.Fatalf("round trip changed the topology\nbefore: %+v\nafter:  %+v\nYAML:\n%s", topo, back, out)
		}
	})
}
