package entity_test

import (
	"net"
	"net/netip"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
)

// Benchmark P1: build one LPM entry of the "bench" P4Info by name and
// marshal it, against the same entry built by hand with known IDs.

func benchBuilder(b *testing.B) *entity.Builder {
	b.Helper()
	s, err := schema.New(p4infos.MustInfo("bench"))
	if err != nil {
		b.Fatal(err)
	}
	return entity.NewBuilder(s)
}

var (
	benchPrefix = netip.MustParsePrefix("10.0.0.0/24")
	benchMAC    = net.HardwareAddr{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	benchSink   []byte
)

// BenchmarkP1_BuildLPMByName uses the typed helpers (no boxing).
func BenchmarkP1_BuildLPMByName(b *testing.B) {
	bld := benchBuilder(b)
	b.ReportAllocs()
	for b.Loop() {
		te, err := bld.TableEntry("ingress.routing.routes_v4",
			entity.Match(entity.LPMPrefix("hdr.ipv4.dst_addr", benchPrefix)),
			entity.Action("set_nexthop", entity.ParamUint("port", 1), entity.ParamMAC("dmac", benchMAC)))
		if err != nil {
			b.Fatal(err)
		}
		out, err := proto.Marshal(te)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = out
	}
}

// BenchmarkP1_BuildLPMByNameAny uses the generic helpers (values boxed in
// interfaces), for comparison.
func BenchmarkP1_BuildLPMByNameAny(b *testing.B) {
	bld := benchBuilder(b)
	b.ReportAllocs()
	for b.Loop() {
		te, err := bld.TableEntry("ingress.routing.routes_v4",
			entity.Match(entity.LPM("hdr.ipv4.dst_addr", benchPrefix)),
			entity.Action("set_nexthop", entity.Param("port", 1), entity.Param("dmac", benchMAC)))
		if err != nil {
			b.Fatal(err)
		}
		out, err := proto.Marshal(te)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = out
	}
}

// BenchmarkP1_HandBuiltProto builds the same entry with the IDs known and
// the values encoded by hand.
func BenchmarkP1_HandBuiltProto(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		addr := benchPrefix.Addr().As4()
		te := &p4v1.TableEntry{
			TableId: 33554433,
			Match: []*p4v1.FieldMatch{{
				FieldId: 1,
				FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{
					Value:     []byte{addr[0], addr[1], addr[2], addr[3]},
					PrefixLen: int32(benchPrefix.Bits()),
				}},
			}},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{
				ActionId: 16777217,
				Params: []*p4v1.Action_Param{
					{ParamId: 1, Value: []byte{1}},
					{ParamId: 2, Value: []byte(benchMAC)},
				},
			}}},
		}
		out, err := proto.Marshal(te)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = out
	}
}

// BenchmarkKey measures Key on the same entry.
func BenchmarkKey(b *testing.B) {
	bld := benchBuilder(b)
	te, err := bld.TableEntry("routes_v4",
		entity.Match(entity.LPMPrefix("hdr.ipv4.dst_addr", benchPrefix)),
		entity.Action("set_nexthop", entity.ParamUint("port", 1), entity.ParamMAC("dmac", benchMAC)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var k string
	for b.Loop() {
		k = entity.Key(te)
	}
	_ = k
}
