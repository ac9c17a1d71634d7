package entity_test

import (
	"encoding/json"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/p4fabric/fabric/p4/entity"
	e "github.com/p4fabric/fabric/p4/entity"
)

// TestDescribeInvalid renders entities a builder would refuse (as a
// target or a fuzzer might send them): the readable form shows them raw
// and the error names each problem.
func TestDescribeInvalid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p4info string
		entity string // prototext
		want   string
		errs   []string
	}{{
		name: "unknown table", p4info: "bench",
		entity: `table_entry { table_id: 7 match { field_id: 1 exact { value: "\x01" } } }`,
		want:   "table_entry #7 match(#1=0x01)",
		errs:   []string{"unknown table ID 7", "table #7: unknown match field ID 1"},
	}, {
		name: "padded values are canonical in the readable form", p4info: "bench",
		entity: `table_entry { table_id: 33554433 match { field_id: 1 lpm { value: "\x00\x00\x0a\x00\x00\x00" prefix_len: 8 } }
			action { action { action_id: 16777217 params { param_id: 1 value: "\x00\x01" } params { param_id: 2 value: "\x00\x00\x00\x00\x00\x00\x01" } } } }`,
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/8) action=ingress.routing.set_nexthop(port=1, dmac=00:00:00:00:00:01)",
	}, {
		name: "values too wide, bits past prefix", p4info: "bench",
		entity: `table_entry { table_id: 33554433 match { field_id: 1 lpm { value: "\x0a\x00\x00\x01" prefix_len: 8 } }
			action { action { action_id: 16777217 params { param_id: 1 value: "\x02\x00" } params { param_id: 9 value: "\x01" } } } }`,
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.1/8) action=ingress.routing.set_nexthop(port=0x0200, #9=0x01)",
		errs: []string{"value has bits set past the prefix length 8", `param port: value needs 10 bits, does not fit in bit<9>`,
			"unknown parameter ID 9", "1 of 2 parameters given"},
	}, {
		name: "lpm prefix length out of range", p4info: "bench",
		entity: `table_entry { table_id: 33554433 match { field_id: 1 lpm { value: "\x0a" prefix_len: 40 } } }`,
		want:   "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=0.0.0.10/40)",
		errs:   []string{"prefix length 40 out of range 1..32"},
	}, {
		name: "ternary zero mask, value outside mask, missing priority", p4info: "onos-basic",
		entity: `table_entry { table_id: 33561568 match { field_id: 4 ternary { value: "\x08\x01" mask: "\xff\x00" } }
			match { field_id: 1 ternary { value: "\x01" mask: "\x00" } } }`,
		want: "table_entry ingress.table0_control.table0 match(hdr.ethernet.ether_type=0x0801&&&0xff00, standard_metadata.ingress_port=0x001&&&0x000)",
		errs: []string{"value has bits set outside the mask", "zero mask", "priority 0 must be > 0"},
	}, {
		name: "wrong match kind, missing exact field, priority on an LPM table", p4info: "bench",
		entity: `table_entry { table_id: 33554434 match { field_id: 1 lpm { value: "\x01" prefix_len: 48 } } priority: 3 }`,
		want:   "table_entry ingress.routing.hosts match(hdr.ethernet.dst_addr=00:00:00:00:00:01/48) priority=3",
		errs:   []string{"lpm match on an exact field", "the table takes no priority"},
	}, {
		name: "full range and empty match value", p4info: testFeatures,
		entity: `table_entry { table_id: 33554433 priority: 1 match { field_id: 1 exact { } }
			match { field_id: 3 range { low: "\x00" high: "\xff\xff" } } match { field_id: 4 } }`,
		want: `table_entry ingress.acl.acl match(standard_metadata.ingress_port="", local_metadata.l4_dst_port=0..65535, hdr.vlan.vid=) priority=1`,
		errs: []string{"empty bytestring", "full range", "no match value"},
	}, {
		name: "action not of the table, unknown action", p4info: "bench",
		entity: `table_entry { table_id: 33554434 match { field_id: 1 exact { value: "\x01" } } action { action { action_id: 16777218 } } }`,
		want:   "table_entry ingress.routing.hosts match(hdr.ethernet.dst_addr=00:00:00:00:00:01) action=ingress.routing.drop()",
		errs:   []string{"action ingress.routing.drop is not one of the table's actions"},
	}, {
		name: "unknown everything", p4info: "bench",
		entity: `counter_entry { counter_id: 5 index { index: 2 } }`,
		want:   "counter_entry #5 index=2",
		errs:   []string{"unknown counter ID 5"},
	}, {
		name: "extern", p4info: "bench",
		entity: `extern_entry { extern_type_id: 129 extern_id: 2 entry { type_url: "type.googleapis.com/x.Y" value: "\x01\x02" } }`,
		want:   "extern_entry type=129 id=2 entry=type.googleapis.com/x.Y 0x0102",
	}, {
		name: "empty entity", p4info: "bench",
		entity: ``,
		want:   "empty",
		errs:   []string{"empty entity"},
	}, {
		name: "empty table action and action set", p4info: "onos-basic",
		entity: `table_entry { table_id: 33594717 match { field_id: 1 exact { value: "\x01" } } action { action_profile_action_set { } } }`,
		want:   "table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=1) action_set()",
		errs:   []string{"empty action set"},
	}, {
		name: "register with P4Data of many kinds", p4info: testFeatures,
		entity: `register_entry { register_id: 369098754 data { tuple { members { bool: false } members { enum: "RED" } members { error: "NoMatch" }
			members { varbit { bitstring: "\x01" bitwidth: 3 } } members { header { is_valid: true bitstrings: "\x01" } } members { enum_value: "\x02" }
			members { header_stack { entries { is_valid: false } } } members { header_union { valid_header_name: "h" valid_header { is_valid: true } } }
			members { } } } }`,
		want: "register_entry ingress.flow_state index=* data=(false, RED, error.NoMatch, varbit<3>(0x01), valid(0x01), 0x02, [invalid], union(h: valid()), <empty>)",
		errs: []string{"empty P4Data"},
	}, {
		name: "legacy replica ports and watch ports", p4info: "onos-basic",
		entity: `packet_replication_engine_entry { multicast_group_entry { multicast_group_id: 3 replicas { egress_port: 7 instance: 1 } metadata: "\x01" } }`,
		want:   "multicast_group 3 replicas(port=7 instance=1) metadata=0x01",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchema(t, tc.p4info)
			in := &p4v1.Entity{}
			if err := prototext.Unmarshal([]byte(tc.entity), in); err != nil {
				t.Fatal(err)
			}
			r, err := entity.Describe(s, in)
			if r == nil {
				t.Fatal("nil Readable")
			}
			if got := r.String(); got != tc.want {
				t.Errorf("readable form:\n got: %s\nwant: %s", got, tc.want)
			}
			if len(tc.errs) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if len(tc.errs) > 0 && err == nil {
				t.Fatalf("no error, want %q", tc.errs)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if f := entity.Format(s, in); f != r.String() {
				t.Errorf("Format = %s, want %s", f, r.String())
			}
		})
	}
}

func TestDescribeJSON(t *testing.T) {
	b := mustBuilder(t, "onos-basic")
	te, err := b.TableEntry("table0", e.Priority(10), e.Match(e.MatchText("hdr.ethernet.ether_type", "0x0800&&&0xffff")),
		e.Action("set_egress_port", e.Param("port", 2)), e.CounterData(10, 1))
	if err != nil {
		t.Fatal(err)
	}
	r, err := entity.Describe(b.Schema(), te)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"table_entry","name":"ingress.table0_control.table0","match":[{"field":"hdr.ethernet.ether_type","kind":"ternary","value":"0x0800\u0026\u0026\u00260xffff"}],"priority":10,"action":{"name":"ingress.table0_control.set_egress_port","params":[{"name":"port","value":"2"}]},"counter":{"bytes":10,"packets":1}}`
	if string(got) != want {
		t.Errorf("JSON:\n got: %s\nwant: %s", got, want)
	}
	var back entity.Readable
	if err := json.Unmarshal(got, &back); err != nil || back.String() != r.String() {
		t.Errorf("JSON round trip: %v, %s", err, back.String())
	}

	g, _ := b.Group("wcmp_selector", 1, 0, e.WeightedMember(2, 3).Watch(4))
	r, _ = entity.Describe(b.Schema(), g)
	got, _ = json.Marshal(r)
	want = `{"kind":"action_profile_group","name":"ingress.wcmp_control.wcmp_selector","group_id":1,"members":[{"member_id":2,"weight":3,"watch_port":"4"}]}`
	if string(got) != want {
		t.Errorf("JSON:\n got: %s\nwant: %s", got, want)
	}
}

func TestPacketIO(t *testing.T) {
	b := mustBuilder(t, "bench")
	out, err := b.PacketOut([]byte{1, 2, 3}, e.Meta("egress_port", "7"))
	if err != nil {
		t.Fatal(err)
	}
	want := &p4v1.PacketOut{}
	_ = prototext.Unmarshal([]byte(`payload: "\x01\x02\x03" metadata { metadata_id: 1 value: "\x07" } metadata { metadata_id: 2 value: "\x00" }`), want)
	if prototext.Format(out) != prototext.Format(want) {
		t.Errorf("PacketOut:\n got: %s\nwant: %s", prototext.Format(out), prototext.Format(want))
	}
	p, err := entity.DecodePacketOut(b.Schema(), out)
	if err != nil || p.String() != "packet(egress_port=7, _pad=0) payload=3 bytes" {
		t.Errorf("DecodePacketOut = %s, %v", p, err)
	}

	in := &p4v1.PacketIn{Payload: []byte{9}, Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{0, 5}}, {MetadataId: 2, Value: []byte{0}}}}
	p, err = entity.PacketIn(b.Schema(), in)
	if err != nil {
		t.Fatal(err)
	}
	if port, err := p.Uint("ingress_port"); err != nil || port != 5 {
		t.Errorf("ingress_port = %d, %v", port, err)
	}
	if f := p.Field("ingress_port"); f == nil || f.Value != "5" || len(f.Raw) != 1 {
		t.Errorf("Field(ingress_port) = %+v", f)
	}
	if _, err := p.Uint("egress_port"); err == nil {
		t.Error("Uint of a missing field: no error")
	}
	if p.String() != "packet(ingress_port=5, _pad=0) payload=1 bytes" {
		t.Errorf("String = %s", p)
	}

	// Unknown and too wide metadata are reported, not dropped.
	in.Metadata = append(in.Metadata, &p4v1.PacketMetadata{MetadataId: 9, Value: []byte{1}})
	in.Metadata[0].Value = []byte{4, 0}
	p, err = entity.PacketIn(b.Schema(), in)
	if err == nil || !strings.Contains(err.Error(), "unknown metadata field ID 9") || !strings.Contains(err.Error(), "does not fit in bit<9>") {
		t.Errorf("PacketIn error = %v", err)
	}
	if p.String() != "packet(ingress_port=0x0400, _pad=0, #9=0x01) payload=1 bytes" {
		t.Errorf("String = %s", p)
	}

	// SAI-P4: string ports, a padding field filled with zero.
	sai := mustBuilder(t, "sai-middleblock")
	out, err = sai.PacketOut([]byte("x"), e.Meta("egress_port", "Ethernet1"), e.MetaUint("submit_to_ingress", 0))
	if err != nil {
		t.Fatal(err)
	}
	p, err = entity.DecodePacketOut(sai.Schema(), out)
	if err != nil || p.String() != `packet(egress_port="Ethernet1", submit_to_ingress=0, unused_pad=0) payload=1 bytes` {
		t.Errorf("SAI packet out = %s, %v", p, err)
	}
	p, err = entity.PacketIn(sai.Schema(), &p4v1.PacketIn{Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte("Ethernet3")}}})
	if err != nil || p.Field("ingress_port").Value != `"Ethernet3"` || string(p.Field("ingress_port").Raw) != "Ethernet3" {
		t.Errorf("SAI packet in = %s, %v", p, err)
	}
}

func TestDescribeDigestList(t *testing.T) {
	for _, tc := range []struct {
		p4info string
		list   string
		want   string
		err    string
	}{{
		p4info: "bmv2-digest",
		list: `digest_id: 385912120 list_id: 7 timestamp: 1000000000
			data { struct { members { bitstring: "\x00\x11\x22\x33\x44\x55" } members { bitstring: "\x03" } } }
			data { struct { members { bitstring: "\x01" } members { bitstring: "\x00\x04" } } }`,
		want: "digest_list L2_digest list=7 entries({smac=00:11:22:33:44:55, ig_port=3}, {smac=00:00:00:00:00:01, ig_port=4})",
	}, {
		p4info: testFeatures,
		list:   `digest_id: 385875969 list_id: 1 data { struct { members { bitstring: "\x01\x00\x00\x00\x00\x00\x00" } members { bitstring: "\x02" } } }`,
		want:   "digest_list learn_t list=1 entries({src_mac=0x01000000000000, in_port=2})",
		err:    "member src_mac: value needs 49 bits",
	}, {
		p4info: "bmv2-digest",
		list:   `digest_id: 1 list_id: 2 data { bitstring: "\x05" }`,
		want:   "digest_list #1 list=2 entries(5)",
		err:    "unknown digest ID 1",
	}} {
		l := &p4v1.DigestList{}
		if err := prototext.Unmarshal([]byte(tc.list), l); err != nil {
			t.Fatal(err)
		}
		r, err := entity.DescribeDigestList(mustSchema(t, tc.p4info), l)
		if r.String() != tc.want {
			t.Errorf("digest list:\n got: %s\nwant: %s", r, tc.want)
		}
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("error = %v, want %q", err, tc.err)
		}
		if tc.p4info == "bmv2-digest" && tc.err == "" && r.Timestamp != "1970-01-01T00:00:01Z" {
			t.Errorf("timestamp = %s", r.Timestamp)
		}
	}
}

func TestDescribeNil(t *testing.T) {
	s := mustSchema(t, "bench")
	var te *p4v1.TableEntry
	if r, err := entity.Describe(s, te); r == nil || err == nil {
		t.Errorf("Describe(nil) = %v, %v", r, err)
	}
	if r, err := entity.Describe(nil, &p4v1.TableEntry{TableId: 5}); r == nil || err == nil || r.String() != "table_entry #5 match()" {
		t.Errorf("Describe without schema = %v, %v", r, err)
	}
	var r *entity.Readable
	if r.String() != "<nil>" {
		t.Error("nil Readable String")
	}
	if _, err := entity.DescribeDigestList(nil, nil); err == nil {
		t.Error("DescribeDigestList(nil, nil): no error")
	}
}
