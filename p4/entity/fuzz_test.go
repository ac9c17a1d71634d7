package entity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/entity"
	e "github.com/p4fabric/fabric/p4/entity"
)

// FuzzParseValue checks that ParseValue never panics, returns canonical
// values that fit their width, and reads back what FormatValue renders.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"0", "1024", "0x0800", "0b1", "0o7", "10.0.0.1", "aa:bb:cc:dd:ee:ff", "2001:db8::1", "-1", "", "Ethernet1"} {
		f.Add(s, uint16(32))
	}
	f.Fuzz(func(t *testing.T, text string, w uint16) {
		width := int(w % 300)
		v, err := entity.ParseValue(text, width)
		if err != nil {
			return
		}
		if width == 0 {
			if string(v) != text {
				t.Fatalf("SDN string %q became %q", text, v)
			}
			return
		}
		if !codec.IsCanonical(v) {
			t.Fatalf("ParseValue(%q, %d) = %x: not canonical", text, width, v)
		}
		if n := codec.BitLen(v); n > width {
			t.Fatalf("ParseValue(%q, %d) = %x: %d bits", text, width, v, n)
		}
		s := entity.FormatValue(v, width)
		back, err := entity.ParseValue(s, width)
		if err != nil || !bytes.Equal(back, v) {
			t.Fatalf("ParseValue(%q, %d) = %x, formatted %q, parsed back %x (%v)", text, width, v, s, back, err)
		}
	})
}

var fuzzSchemas = []string{"bench", "onos-basic", "fabric-v1model", "sai-middleblock", testFeatures, "bmv2-digest"}

// FuzzDescribe decodes arbitrary bytes as an Entity (and as a digest list
// and a packet-in) and checks that describing, formatting, keying and
// marshalling them never panics.
func FuzzDescribe(f *testing.F) {
	for i, m := range fuzzSeeds(f) {
		data, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		s := mustSchema(t, fuzzSchemas[int(which)%len(fuzzSchemas)])
		ent := &p4v1.Entity{}
		if err := proto.Unmarshal(data, ent); err == nil {
			r, _ := entity.Describe(s, ent)
			_ = r.String()
			_ = entity.Format(s, ent)
			_ = entity.Key(ent)
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("json: %v", err)
			}
			// Describing without a schema must not panic either.
			_, _ = entity.Describe(nil, ent)
		}
		dl := &p4v1.DigestList{}
		if err := proto.Unmarshal(data, dl); err == nil {
			r, _ := entity.DescribeDigestList(s, dl)
			_ = r.String()
		}
		pin := &p4v1.PacketIn{}
		if err := proto.Unmarshal(data, pin); err == nil {
			p, _ := entity.PacketIn(s, pin)
			_ = p.String()
		}
	})
}

// fuzzSeeds builds one entity of each kind, valid, to seed FuzzDescribe.
func fuzzSeeds(tb testing.TB) []*p4v1.Entity {
	tb.Helper()
	var out []*p4v1.Entity
	add := func(m *p4v1.Entity, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	bench := mustBuilder(tb, "bench")
	onos := mustBuilder(tb, "onos-basic")
	fabric := mustBuilder(tb, "fabric-v1model")
	sai := mustBuilder(tb, "sai-middleblock")
	feat := mustBuilder(tb, testFeatures)
	dig := mustBuilder(tb, "bmv2-digest")
	// The index of each seed selects its schema (fuzzSchemas[i%6]).
	add(ent(bench.TableEntry("routes_v4", e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/24")),
		e.Action("set_nexthop", e.Param("port", 1), e.Param("dmac", mac1)))))
	add(ent(onos.TableEntry("table0", e.Priority(10), e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x800, 0xffff)),
		e.Action("set_egress_port", e.Param("port", 2)), e.CounterData(1, 2))))
	add(ent(fabric.Group("hashed_selector", 1, 16, e.WeightedMember(1, 2), e.WeightedMember(2, 1).Watch(3))))
	add(ent(sai.TableEntry("wcmp_group_table", e.Match(e.Exact("wcmp_group_id", "g")),
		e.ActionSet(e.Weighted(1, "Ethernet1", e.Action("set_nexthop_id", e.Param("nexthop_id", "nh")))))))
	add(ent(feat.TableEntry("acl", e.Priority(1), e.Match(e.ExactUint("standard_metadata.ingress_port", 1),
		e.RangeUint("local_metadata.l4_dst_port", 10, 20), e.Optional("hdr.vlan.vid", 3), e.MatchText("hdr.ipv6.dst_addr", "2001:db8::/32")))))
	add(ent(dig.TableEntry("smac", e.Match(e.Exact("h.ethernet.smac", mac1)), e.Action("NoAction"), e.IdleTimeout(time.Second))))
	add(ent(bench.MulticastGroup(1, e.NewReplica(1, 0).Backup(2, 0))))
	add(ent(onos.Member("wcmp_selector", 1, e.Action("set_egress_port", e.Param("port", 3)))))
	add(ent(fabric.CounterEntry("ingress_port_counter", 3, e.CounterData(100, 1))))
	add(ent(sai.TableEntry("ipv4_table", e.Match(e.Exact("vrf_id", "vrf"), e.LPM("ipv4_dst", "10.0.0.0/8")),
		e.Action("set_nexthop_id", e.Param("nexthop_id", "nh")))))
	add(ent(feat.RegisterEntry("flow_bytes", 3, 1000)))
	add(ent(dig.DigestEntry("L2_digest", &e.DigestConfig{MaxTimeout: time.Millisecond, MaxListSize: 1, AckTimeout: time.Second})))
	add(ent(bench.CloneSession(5, 1, 128, e.NewReplica(0xfffffffd, 1))))
	add(ent(onos.MeterEntry("ingress_port_meter", 1, e.MeterConfig(1, 2, 3, 4))))
	add(ent(fabric.TableEntry("acl", e.Priority(5), e.Match(e.Ternary("eth_dst", mac1, nil)), e.Action("drop"))))
	add(ent(sai.MulticastGroup(2, e.NewReplica("Ethernet1", 0))))
	add(ent(feat.ValueSetEntry("ports", e.Values(e.Exact("proto", 6), e.TernaryUint("port", 80, 0xfff0)))))
	add(ent(dig.DefaultEntry("smac", e.Action("NoAction"))))
	add(ent(bench.DefaultEntry("routes_v4")))
	add(ent(onos.DirectMeterEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", mac1, 24)), e.MeterConfig(1, 1, 2, 2))))
	return out
}

// TestWriteFuzzCorpus regenerates the committed seed corpus in
// testdata/fuzz when ENTITY_WRITE_CORPUS is set.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("ENTITY_WRITE_CORPUS") == "" {
		t.Skip("set ENTITY_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	write := func(name, file, content string) {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte("go test fuzz v1\n"+content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range fuzzSeeds(t) {
		data, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzDescribe", fmt.Sprintf("seed-%02d", i), fmt.Sprintf("[]byte(%s)\nbyte(%s)\n", strconv.Quote(string(data)), strconv.QuoteRune(rune(i))))
	}
	digest := &p4v1.DigestList{DigestId: 385912120, ListId: 1, Data: []*p4v1.P4Data{{Data: &p4v1.P4Data_Struct{Struct: &p4v1.P4StructLike{
		Members: []*p4v1.P4Data{{Data: &p4v1.P4Data_Bitstring{Bitstring: mac1}}, {Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{3}}}}}}}}}
	data, _ := proto.Marshal(digest)
	write("FuzzDescribe", "seed-digest-list", fmt.Sprintf("[]byte(%s)\nbyte(%s)\n", strconv.Quote(string(data)), strconv.QuoteRune(5)))
	pin := &p4v1.PacketIn{Payload: []byte{1}, Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{5}}, {MetadataId: 2, Value: []byte{0}}}}
	data, _ = proto.Marshal(pin)
	write("FuzzDescribe", "seed-packet-in", fmt.Sprintf("[]byte(%s)\nbyte(%s)\n", strconv.Quote(string(data)), strconv.QuoteRune(0)))
	for i, tc := range []struct {
		text  string
		width uint16
	}{{"1024", 16}, {"0x0800", 16}, {"0b101", 3}, {"0o17", 8}, {"10.0.0.1", 32}, {"aa:bb:cc:dd:ee:ff", 48},
		{"00-11-22-33-44-55", 48}, {"2001:db8::1", 128}, {"::ffff:10.0.0.1", 128}, {"18446744073709551616", 65},
		{"0xffffffffffffffffffffffffffffffff", 128}, {"Ethernet1", 0}, {"-1", 8}, {" 7 ", 9}, {"512", 9}} {
		write("FuzzParseValue", fmt.Sprintf("seed-%02d", i), fmt.Sprintf("string(%s)\nuint16(%d)\n", strconv.Quote(tc.text), tc.width))
	}
}

// FuzzBuildText builds entries of real tables from arbitrary text (every
// field by MatchText, every parameter by the same text parsed by its
// width) and checks that the builder never panics and that what it
// accepts Describe finds valid.
func FuzzBuildText(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "0x800&&&0xfff", "1..2", "*", "aa:bb:cc:dd:ee:ff", "7", "Ethernet1", "2001:db8::/32"} {
		f.Add(uint8(0), uint8(0), s, "1")
	}
	f.Fuzz(func(t *testing.T, which, tableIx uint8, text, param string) {
		name := fuzzSchemas[int(which)%len(fuzzSchemas)]
		s := mustSchema(t, name)
		tables := s.Tables()
		tb := tables[int(tableIx)%len(tables)]
		var fields []e.Field
		for _, fl := range tb.Fields {
			fields = append(fields, e.MatchText(fl.Name, text))
		}
		opts := []e.Option{e.Match(fields...)}
		if tb.NeedsPriority {
			opts = append(opts, e.Priority(1))
		}
		switch {
		case tb.ActionProfile != nil:
			opts = append(opts, e.Member(1))
		default:
			for _, r := range tb.Actions {
				if r.DefaultOnly() {
					continue
				}
				var ps []e.ParamValue
				for _, p := range r.Action.Params {
					ps = append(ps, e.Param(p.Name, param))
				}
				opts = append(opts, e.Action(r.Action.Name, ps...))
				break
			}
		}
		for _, b := range fuzzBuilders(t, name) {
			te, err := b.TableEntry(tb.Name, opts...)
			if err != nil {
				continue
			}
			if _, err := entity.Describe(s, te); err != nil {
				t.Fatalf("%s: built %v, Describe: %v", name, te, err)
			}
			if len(te.GetMatch()) > 0 && entity.Key(te) == "" {
				t.Fatal("no key")
			}
		}
	})
}

var (
	fuzzBuildersMu sync.Mutex
	fuzzBuilderSet = map[string][]*entity.Builder{}
)

// fuzzBuilders returns a plain, a strict and a padding builder for a
// schema, made once.
func fuzzBuilders(t *testing.T, name string) []*entity.Builder {
	s := mustSchema(t, name)
	fuzzBuildersMu.Lock()
	defer fuzzBuildersMu.Unlock()
	bs := fuzzBuilderSet[name]
	if bs == nil {
		bs = []*entity.Builder{entity.NewBuilder(s), entity.NewBuilder(s, e.Strict()), entity.NewBuilder(s, e.PadValues())}
		fuzzBuilderSet[name] = bs
	}
	return bs
}
