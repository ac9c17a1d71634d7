package entity_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/entity"
	e "github.com/p4fabric/fabric/p4/entity"
)

// buildCase builds an entity and checks its readable form (the round trip
// build → Describe → String) and, where given, its exact protobuf.
type buildCase struct {
	name   string
	p4info string
	opts   []entity.BuilderOption
	build  func(b *entity.Builder) (*p4v1.Entity, error)
	want   string // Describe(...).String()
	proto  string // prototext of the entity, when the bytes matter
}

func runBuildCases(t *testing.T, cases []buildCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchema(t, tc.p4info)
			b := entity.NewBuilder(s, tc.opts...)
			got, err := tc.build(b)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			r, err := entity.Describe(s, got)
			if err != nil {
				t.Errorf("Describe reports a problem with a built entity: %v", err)
			}
			if r.String() != tc.want {
				t.Errorf("readable form:\n got: %s\nwant: %s", r.String(), tc.want)
			}
			if tc.proto != "" {
				want := &p4v1.Entity{}
				if err := prototext.Unmarshal([]byte(tc.proto), want); err != nil {
					t.Fatalf("bad golden proto: %v", err)
				}
				if !proto.Equal(got, want) {
					t.Errorf("proto:\n got: %s\nwant: %s", prototext.Format(got), prototext.Format(want))
				}
			}
			// Built entities survive a marshal round trip unchanged.
			data, err := proto.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			back := &p4v1.Entity{}
			if err := proto.Unmarshal(data, back); err != nil || !proto.Equal(back, got) {
				t.Errorf("marshal round trip changed the entity (%v)", err)
			}
		})
	}
}

func TestBuildBench(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "lpm prefix, typed params", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("ingress.routing.routes_v4",
				e.Match(e.LPMPrefix("hdr.ipv4.dst_addr", netip.MustParsePrefix("10.0.0.0/24"))),
				e.Action("set_nexthop", e.ParamUint("port", 1), e.ParamMAC("dmac", mac1))))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/24) action=ingress.routing.set_nexthop(port=1, dmac=00:11:22:33:44:55)",
		proto: `table_entry {
			table_id: 33554433
			match { field_id: 1 lpm { value: "\x0a\x00\x00\x00" prefix_len: 24 } }
			action { action { action_id: 16777217
				params { param_id: 1 value: "\x01" }
				params { param_id: 2 value: "\x11\x22\x33\x44\x55" } } } }`,
	}, {
		name: "lpm addr and length, host bits cleared", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4",
				e.Match(e.LPM("hdr.ipv4.dst_addr", netip.MustParseAddr("10.1.2.3"), 16)),
				e.Action("drop")))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.1.0.0/16) action=ingress.routing.drop()",
		proto: `table_entry { table_id: 33554433
			match { field_id: 1 lpm { value: "\x0a\x01\x00\x00" prefix_len: 16 } }
			action { action { action_id: 16777218 } } }`,
	}, {
		name: "lpm text and string params parsed by width", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routing.routes_v4",
				e.Match(e.LPM("hdr.ipv4.dst_addr", "192.168.7.1/20")),
				e.Action("ingress.routing.set_nexthop", e.Param("dmac", "aa:bb:cc:dd:ee:ff"), e.Param("port", "0x1ff"))))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=192.168.0.0/20) action=ingress.routing.set_nexthop(port=511, dmac=aa:bb:cc:dd:ee:ff)",
	}, {
		name: "lpm MatchText", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4", e.Match(e.MatchText("hdr.ipv4.dst_addr", " 10.0.0.0/8 ")),
				e.Action("set_nexthop", e.Param("port", uint16(3)), e.Param("dmac", []byte{0, 0, 0, 0, 0, 1}))))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/8) action=ingress.routing.set_nexthop(port=3, dmac=00:00:00:00:00:01)",
	}, {
		name: "lpm value alone is the full width", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4", e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.1")), e.Action("drop")))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.1/32) action=ingress.routing.drop()",
	}, {
		name: "lpm /0 is don't care, omitted", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4", e.Match(e.LPM("hdr.ipv4.dst_addr", "0.0.0.0/0")), e.Action("drop")))
		},
		want:  "table_entry ingress.routing.routes_v4 match() action=ingress.routing.drop()",
		proto: `table_entry { table_id: 33554433 action { action { action_id: 16777218 } } }`,
	}, {
		name: "lpm uint with length", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4", e.Match(e.LPMUint("hdr.ipv4.dst_addr", 0x0a0000ff, 8)), e.Action("drop")))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/8) action=ingress.routing.drop()",
	}, {
		name: "default entry", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DefaultEntry("routes_v4", e.Action("NoAction")))
		},
		want:  "table_entry ingress.routing.routes_v4 default action=NoAction()",
		proto: `table_entry { table_id: 33554433 is_default_action: true action { action { action_id: 16777219 } } }`,
	}, {
		name: "default entry reset", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DefaultEntry("ingress.routing.hosts"))
		},
		want: "table_entry ingress.routing.hosts default",
	}, {
		name: "exact mac with metadata", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("hosts", e.Match(e.ExactBytes("hdr.ethernet.dst_addr", mac1)),
				e.Action("set_nexthop", e.ParamUint("port", 0), e.ParamMAC("dmac", mac1)), e.Metadata([]byte("cookie 1"))))
		},
		want: `table_entry ingress.routing.hosts match(hdr.ethernet.dst_addr=00:11:22:33:44:55) action=ingress.routing.set_nexthop(port=0, dmac=00:11:22:33:44:55) metadata="cookie 1"`,
	}, {
		name: "padded values", p4info: "bench", opts: []e.BuilderOption{e.PadValues()},
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routes_v4", e.Match(e.LPM("hdr.ipv4.dst_addr", "0.0.0.1/32")),
				e.Action("set_nexthop", e.ParamUint("port", 1), e.Param("dmac", "0x1"))))
		},
		want: "table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=0.0.0.1/32) action=ingress.routing.set_nexthop(port=1, dmac=00:00:00:00:00:01)",
		proto: `table_entry { table_id: 33554433
			match { field_id: 1 lpm { value: "\x00\x00\x00\x01" prefix_len: 32 } }
			action { action { action_id: 16777217
				params { param_id: 1 value: "\x00\x01" }
				params { param_id: 2 value: "\x00\x00\x00\x00\x00\x01" } } } }`,
	}, {
		name: "read all", p4info: "bench",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableReadAll("hosts"))
		},
		want:  "table_entry ingress.routing.hosts match()",
		proto: `table_entry { table_id: 33554434 }`,
	}})
}

func TestBuildOnosBasic(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "ternary with priority and direct counter", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("table0",
				e.Match(e.Ternary("hdr.ethernet.ether_type", 0x0800, 0xffff), e.TernaryUint("standard_metadata.ingress_port", 1, 0x1ff)),
				e.Priority(10), e.Action("set_egress_port", e.Param("port", 2)), e.CounterData(0, 0)))
		},
		want: "table_entry ingress.table0_control.table0 match(standard_metadata.ingress_port=0x001&&&0x1ff, hdr.ethernet.ether_type=0x0800&&&0xffff) priority=10 action=ingress.table0_control.set_egress_port(port=2) bytes=0 packets=0",
		proto: `table_entry { table_id: 33561568
			match { field_id: 1 ternary { value: "\x01" mask: "\x01\xff" } }
			match { field_id: 4 ternary { value: "\x08\x00" mask: "\xff\xff" } }
			action { action { action_id: 16822046 params { param_id: 1 value: "\x02" } } }
			priority: 10 counter_data {} }`,
	}, {
		name: "ternary zero mask is don't care, value bits outside mask cleared", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("table0",
				e.Match(e.Ternary("hdr.ipv4.src_addr", "10.0.0.0", 0), e.TernaryUint("hdr.ethernet.ether_type", 0x0801, 0xff00)),
				e.Priority(1), e.Action("drop")))
		},
		want: "table_entry ingress.table0_control.table0 match(hdr.ethernet.ether_type=0x0800&&&0xff00) priority=1 action=ingress.table0_control.drop()",
		proto: `table_entry { table_id: 33561568
			match { field_id: 4 ternary { value: "\x08\x00" mask: "\xff\x00" } }
			action { action { action_id: 16815319 } } priority: 1 }`,
	}, {
		name: "ternary full mask, text forms", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("table0", e.Priority(3), e.Action("send_to_cpu"),
				e.Match(e.Ternary("hdr.ipv4.dst_addr", "10.0.0.1", nil),
					e.MatchText("hdr.ipv4.src_addr", "10.0.0.0/8"),
					e.MatchText("hdr.ethernet.src_addr", "00:11:22:00:00:00&&&ff:ff:ff:00:00:00"),
					e.MatchText("hdr.ipv4.protocol", "*"),
					e.MatchText("local_metadata.l4_dst_port", "0x50"))))
		},
		want: "table_entry ingress.table0_control.table0 match(hdr.ethernet.src_addr=00:11:22:00:00:00&&&ff:ff:ff:00:00:00, hdr.ipv4.src_addr=10.0.0.0&&&255.0.0.0, hdr.ipv4.dst_addr=10.0.0.1&&&255.255.255.255, local_metadata.l4_dst_port=0x0050&&&0xffff) priority=3 action=ingress.table0_control.send_to_cpu()",
	}, {
		name: "indirect member", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("wcmp_table", e.Match(e.ExactUint("local_metadata.next_hop_id", 7)), e.Member(5)))
		},
		want:  "table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=7) member=5",
		proto: `table_entry { table_id: 33594717 match { field_id: 1 exact { value: "\x07" } } action { action_profile_member_id: 5 } }`,
	}, {
		name: "indirect group", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 7)), e.Group(3)))
		},
		want: "table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=7) group=3",
	}, {
		name: "one-shot action set", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 7)),
				e.ActionSet(
					e.Weighted(1, 1, e.Action("set_egress_port", e.Param("port", 1))),
					e.Weighted(2, nil, e.Action("wcmp_control.set_egress_port", e.Param("port", 2))))))
		},
		want: "table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=7) action_set(weight=1 watch=1 ingress.wcmp_control.set_egress_port(port=1), weight=2 ingress.wcmp_control.set_egress_port(port=2))",
		proto: `table_entry { table_id: 33594717 match { field_id: 1 exact { value: "\x07" } }
			action { action_profile_action_set {
				action_profile_actions { action { action_id: 16796092 params { param_id: 1 value: "\x01" } } weight: 1 watch_port: "\x01" }
				action_profile_actions { action { action_id: 16796092 params { param_id: 1 value: "\x02" } } weight: 2 } } } }`,
	}, {
		name: "action profile member", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Member("wcmp_selector", 1, e.Action("set_egress_port", e.Param("port", 3))))
		},
		want: "action_profile_member ingress.wcmp_control.wcmp_selector member=1 action=ingress.wcmp_control.set_egress_port(port=3)",
	}, {
		name: "action profile member wildcard read", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Member("wcmp_selector", 0))
		},
		want: "action_profile_member ingress.wcmp_control.wcmp_selector member=0",
	}, {
		name: "action profile group", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Group("ingress.wcmp_control.wcmp_selector", 10, 0, e.WeightedMember(1, 2), e.WeightedMember(2, 1).Watch(2)))
		},
		want: "action_profile_group ingress.wcmp_control.wcmp_selector group=10 members(1 weight=2, 2 weight=1 watch=2)",
		proto: `action_profile_group { action_profile_id: 285253634 group_id: 10
			members { member_id: 1 weight: 2 } members { member_id: 2 weight: 1 watch_port: "\x02" } }`,
	}, {
		name: "direct meter config", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", "00:11:22:33:44:55", 24)),
				e.Action("read_meter"), e.MeterConfig(1000, 100, 2000, 200)))
		},
		want: "table_entry ingress.host_meter_control.host_meter_table match(hdr.ethernet.src_addr=00:11:22:00:00:00/24) action=ingress.host_meter_control.read_meter() cir=1000 cburst=100 pir=2000 pburst=200",
	}, {
		name: "counter cell", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.CounterEntry("ingress_port_counter", 3, e.CounterData(100, 1)))
		},
		want:  "counter_entry ingress.port_counters_ingress.ingress_port_counter index=3 bytes=100 packets=1",
		proto: `counter_entry { counter_id: 302004684 index { index: 3 } data { byte_count: 100 packet_count: 1 } }`,
	}, {
		name: "counter all cells", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.CounterEntry("egress.port_counters_egress.egress_port_counter", e.AllCells))
		},
		want: "counter_entry egress.port_counters_egress.egress_port_counter index=*",
	}, {
		name: "meter cell srTCM", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.MeterEntry("ingress_port_meter", 5, e.MeterConfigSrTCM(100, 10, 20)))
		},
		want: "meter_entry ingress.port_meters_ingress.ingress_port_meter index=5 cir=100 cburst=10 pir=100 pburst=10 eburst=20",
	}, {
		name: "meter cell reset counters", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.MeterEntry("ingress_port_meter", 5, e.MeterCounterData([2]int64{}, [2]int64{}, [2]int64{})))
		},
		want: "meter_entry ingress.port_meters_ingress.ingress_port_meter index=5 green=0/0 yellow=0/0 red=0/0",
	}, {
		name: "direct counter entry", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DirectCounterEntry("table0", e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x86dd, 0xffff)),
				e.Priority(1), e.CounterData(5, 1)))
		},
		want: "direct_counter_entry ingress.table0_control.table0 match(hdr.ethernet.ether_type=0x86dd&&&0xffff) priority=1 bytes=5 packets=1",
	}, {
		name: "direct counter entries of a table", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DirectCounterEntry("table0"))
		},
		want:  "direct_counter_entry ingress.table0_control.table0 match()",
		proto: `direct_counter_entry { table_entry { table_id: 33561568 } }`,
	}, {
		name: "direct meter entry", p4info: "onos-basic",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DirectMeterEntry("host_meter_table", e.Match(e.MatchText("hdr.ethernet.src_addr", "00:11:22:00:00:00/24")),
				e.MeterConfig(1, 2, 3, 4), e.MeterCounterData([2]int64{}, [2]int64{}, [2]int64{})))
		},
		want: "direct_meter_entry ingress.host_meter_control.host_meter_table match(hdr.ethernet.src_addr=00:11:22:00:00:00/24) cir=1 cburst=2 pir=3 pburst=4 green=0/0 yellow=0/0 red=0/0",
	}})
}

func TestBuildFabric(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "acl", p4info: "fabric-v1model",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("FabricIngress.acl.acl",
				e.Match(e.Ternary("eth_type", "0x0800", "0xffff"), e.Ternary("ig_port", 1, nil), e.Ternary("eth_dst", mac1, "ff:ff:ff:ff:ff:ff")),
				e.Priority(100), e.Action("punt_to_cpu")))
		},
		want: "table_entry FabricIngress.acl.acl match(ig_port=0x001&&&0x1ff, eth_dst=00:11:22:33:44:55&&&ff:ff:ff:ff:ff:ff, eth_type=0x0800&&&0xffff) priority=100 action=FabricIngress.acl.punt_to_cpu()",
	}, {
		name: "hashed selector group", p4info: "fabric-v1model",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Group("hashed_selector", 1, 16, e.WeightedMember(1, 8), e.WeightedMember(2, 8)))
		},
		want: "action_profile_group FabricIngress.next.hashed_selector group=1 members(1 weight=8, 2 weight=8) max_size=16",
	}, {
		name: "hashed selector member", p4info: "fabric-v1model",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Member("hashed_selector", 1, e.Action("routing_hashed",
				e.Param("port_num", 4), e.Param("smac", "00:00:00:00:00:aa"), e.ParamMAC("dmac", mac1))))
		},
		want: "action_profile_member FabricIngress.next.hashed_selector member=1 action=FabricIngress.next.routing_hashed(port_num=4, smac=00:00:00:00:00:aa, dmac=00:11:22:33:44:55)",
	}, {
		name: "routing v4", p4info: "fabric-v1model",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("routing_v4", e.Match(e.LPM("ipv4_dst", netip.MustParsePrefix("10.0.0.0/8"))),
				e.Action("set_next_id_routing_v4", e.Param("next_id", 9))))
		},
		want: "table_entry FabricIngress.forwarding.routing_v4 match(ipv4_dst=10.0.0.0/8) action=FabricIngress.forwarding.set_next_id_routing_v4(next_id=9)",
	}})
}

func TestBuildSAI(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "string ids", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("ipv4_table", e.Match(e.Exact("vrf_id", "vrf-1"), e.LPM("ipv4_dst", "10.0.0.0/8")),
				e.Action("set_nexthop_id", e.Param("nexthop_id", "nh-1"))))
		},
		want: `table_entry ingress.routing_lookup.ipv4_table match(vrf_id="vrf-1", ipv4_dst=10.0.0.0/8) action=set_nexthop_id(nexthop_id="nh-1")`,
		proto: `table_entry { table_id: 33554500
			match { field_id: 1 exact { value: "vrf-1" } }
			match { field_id: 2 lpm { value: "\x0a\x00\x00\x00" prefix_len: 8 } }
			action { action { action_id: 16777221 params { param_id: 1 value: "nh-1" } } } }`,
	}, {
		name: "string that looks like a number stays a string", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("ipv4_table", e.Match(e.MatchText("vrf_id", "0x10"), e.LPMPrefix("ipv4_dst", netip.MustParsePrefix("10.1.0.0/16"))),
				e.Action("set_nexthop_id", e.ParamBytes("nexthop_id", []byte("7")))))
		},
		want: `table_entry ingress.routing_lookup.ipv4_table match(vrf_id="0x10", ipv4_dst=10.1.0.0/16) action=set_nexthop_id(nexthop_id="7")`,
	}, {
		name: "one-shot with string watch ports", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("wcmp_group_table", e.Match(e.Exact("wcmp_group_id", "group-1")),
				e.ActionSet(
					e.Weighted(3, "Ethernet1", e.Action("set_nexthop_id", e.Param("nexthop_id", "nh-1"))),
					e.Weighted(1, "Ethernet2", e.Action("set_nexthop_id", e.Param("nexthop_id", "nh-2"))))))
		},
		want: `table_entry ingress.routing_resolution.wcmp_group_table match(wcmp_group_id="group-1") action_set(weight=3 watch="Ethernet1" set_nexthop_id(nexthop_id="nh-1"), weight=1 watch="Ethernet2" set_nexthop_id(nexthop_id="nh-2"))`,
	}, {
		name: "acl with @format(IPV6_ADDRESS) on 64 bits", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("acl_ingress_table",
				e.Match(e.Optional("is_ipv6", 1), e.Ternary("dst_ipv6", "2001:db8::", "ffff:ffff:ffff:ffff::"),
					e.MatchText("dst_mac", "02:00:00:00:00:00&&&02:00:00:00:00:00"), e.Ternary("ttl", 1, 0xff)),
				e.Priority(10), e.Action("acl_trap", e.Param("qos_queue", "0x1"))))
		},
		want: `table_entry ingress.acl_ingress.acl_ingress_table match(is_ipv6=1, dst_mac=02:00:00:00:00:00&&&02:00:00:00:00:00, dst_ipv6=2001:db8::&&&ffff:ffff:ffff:ffff::, ttl=0x01&&&0xff) priority=10 action=ingress.acl_ingress.acl_trap(qos_queue="0x1")`,
	}, {
		name: "acl in_port optional string, dont care", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("acl_pre_ingress_table",
				e.Match(e.Optional("in_port", "Ethernet8"), e.DontCare("is_ip"), e.MatchText("dst_ip", "10.0.0.0&&&255.0.0.0")),
				e.Priority(1), e.Action("set_vrf", e.Param("vrf_id", "vrf-2"))))
		},
		want: `table_entry ingress.acl_pre_ingress.acl_pre_ingress_table match(dst_ip=10.0.0.0&&&255.0.0.0, in_port="Ethernet8") priority=1 action=ingress.acl_pre_ingress.set_vrf(vrf_id="vrf-2")`,
	}, {
		name: "multicast with string ports", p4info: "sai-middleblock",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.MulticastGroup(1, e.NewReplica("Ethernet1", 0), e.NewReplica("Ethernet2", 1)))
		},
		want: `multicast_group 1 replicas(port="Ethernet1" instance=0, port="Ethernet2" instance=1)`,
		proto: `packet_replication_engine_entry { multicast_group_entry { multicast_group_id: 1
			replicas { port: "Ethernet1" instance: 0 } replicas { port: "Ethernet2" instance: 1 } } }`,
	}})
}

func TestBuildFeatures(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "range and optional", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("acl", e.Priority(5), e.Action("drop"),
				e.Match(e.Range("local_metadata.l4_dst_port", 1024, 2048), e.Optional("hdr.vlan.vid", 10), e.ExactUint("standard_metadata.ingress_port", 1))))
		},
		want: "table_entry ingress.acl.acl match(standard_metadata.ingress_port=1, local_metadata.l4_dst_port=1024..2048, hdr.vlan.vid=10) priority=5 action=ingress.acl.drop()",
		proto: `table_entry { table_id: 33554433
			match { field_id: 1 exact { value: "\x01" } }
			match { field_id: 3 range { low: "\x04\x00" high: "\x08\x00" } }
			match { field_id: 4 optional { value: "\x0a" } }
			action { action { action_id: 16777217 } } priority: 5 }`,
	}, {
		name: "full range and wildcard optional omitted", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("acl", e.Priority(5), e.Action("permit"),
				e.Match(e.ExactUint("standard_metadata.ingress_port", 2), e.RangeUint("local_metadata.l4_dst_port", 0, 65535), e.MatchText("hdr.vlan.vid", "*"))))
		},
		want: "table_entry ingress.acl.acl match(standard_metadata.ingress_port=2) priority=5 action=ingress.acl.permit()",
	}, {
		name: "range and ipv6 text", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("acl", e.Priority(1), e.Action("drop"),
				e.Match(e.ExactUint("standard_metadata.ingress_port", 2), e.MatchText("local_metadata.l4_dst_port", "80..90"),
					e.MatchText("hdr.ipv6.dst_addr", "2001:db8::/32"), e.MatchText("hdr.vlan.vid", "0x7"))))
		},
		want: "table_entry ingress.acl.acl match(standard_metadata.ingress_port=2, local_metadata.l4_dst_port=80..90, hdr.vlan.vid=7, hdr.ipv6.dst_addr=2001:db8::&&&ffff:ffff::) priority=1 action=ingress.acl.drop()",
	}, {
		name: "idle timeout, translated bit width, direct meter", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("fwd", e.Match(e.ExactBytes("hdr.ethernet.dst_addr", mac1), e.ExactUint("meta.port32", 0xffffffff)),
				e.Action("set_port", e.ParamUint("port", 5)), e.IdleTimeout(10*time.Second), e.MeterConfig(10, 1, 20, 2)))
		},
		want: "table_entry ingress.fwd.fwd match(hdr.ethernet.dst_addr=00:11:22:33:44:55, meta.port32=4294967295) action=ingress.set_port(port=5) cir=10 cburst=1 pir=20 pburst=2 idle_timeout=10s",
	}, {
		name: "keyless table default", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DefaultEntry("keyless", e.Action("drop")))
		},
		want: "table_entry ingress.keyless default action=ingress.acl.drop()",
	}, {
		name: "const table direct resources only", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("consts", e.Match(e.Exact("hdr.ethernet.ether_type", "0x0800"))))
		},
		want: "table_entry ingress.consts match(hdr.ethernet.ether_type=2048)",
	}, {
		name: "sdn strings with bytes, ipv4 param by name", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("strings", e.Priority(1), e.Match(e.Optional("meta.in_port", "eth0"), e.Exact("meta.vrf", []byte("vrf"))),
				e.Action("redirect", e.Param("port", "eth1"), e.Param("ip", "10.0.0.1"))))
		},
		want: `table_entry ingress.strings.t match(meta.in_port="eth0", meta.vrf="vrf") priority=1 action=ingress.strings.redirect(port="eth1", ip=10.0.0.1)`,
	}, {
		name: "register cell", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.RegisterEntry("flow_bytes", 3, uint32(1000)))
		},
		want:  "register_entry ingress.flow_bytes index=3 data=1000",
		proto: `register_entry { register_id: 369098753 index { index: 3 } data { bitstring: "\x03\xe8" } }`,
	}, {
		name: "register struct cell", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.RegisterEntry("flow_state", 1, &p4v1.P4Data{Data: &p4v1.P4Data_Struct{Struct: &p4v1.P4StructLike{Members: []*p4v1.P4Data{
				{Data: &p4v1.P4Data_Bitstring{Bitstring: []byte{5}}}, {Data: &p4v1.P4Data_Bool{Bool: true}}}}}}))
		},
		want: "register_entry ingress.flow_state index=1 data={5, true}",
	}, {
		name: "register read all", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.RegisterEntry("flow_bytes", e.AllCells, nil))
		},
		want: "register_entry ingress.flow_bytes index=*",
	}, {
		name: "value set", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.ValueSetEntry("trill_types", e.Values(e.Exact("ether_type", 0x22f3)), e.Values(e.MatchText("ether_type", "0x893b"))))
		},
		want: "value_set_entry parser.trill_types members((ether_type=8947), (ether_type=35131))",
		proto: `value_set_entry { value_set_id: 50331649
			members { match { field_id: 1 exact { value: "\x22\xf3" } } }
			members { match { field_id: 1 exact { value: "\x89\x3b" } } } }`,
	}, {
		name: "value set ternary member, empty set", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.ValueSetEntry("ports", e.Values(e.Exact("proto", 6), e.TernaryUint("port", 80, 0xfff0))))
		},
		want: "value_set_entry parser.ports members((port=0x0050&&&0xfff0, proto=6))",
	}, {
		name: "value set emptied", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.ValueSetEntry("ports"))
		},
		want: "value_set_entry parser.ports members()",
	}, {
		name: "digest config", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DigestEntry("learn_t", &e.DigestConfig{MaxTimeout: time.Millisecond, MaxListSize: 10, AckTimeout: time.Second}))
		},
		want: "digest_entry learn_t max_timeout=1ms max_list_size=10 ack_timeout=1s",
	}, {
		name: "clone session", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.CloneSession(100, 2, 4096, e.NewReplica(0xfffffffd, 1)))
		},
		want: "clone_session 100 replicas(port=4294967293 instance=1) class_of_service=2 truncate=4096",
		proto: `packet_replication_engine_entry { clone_session_entry { session_id: 100 class_of_service: 2 packet_length_bytes: 4096
			replicas { port: "\xff\xff\xff\xfd" instance: 1 } } }`,
	}, {
		name: "multicast with backups", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.MulticastGroup(7, e.NewReplica(1, 0).Backup(2, 0).Backup(3, 1), e.NewReplica(uint32(4), 0)))
		},
		want: "multicast_group 7 replicas(port=1 instance=0 backups(port=2 instance=0, port=3 instance=1), port=4 instance=0)",
	}, {
		name: "multicast legacy egress_port", p4info: testFeatures, opts: []e.BuilderOption{e.LegacyReplicaPorts()},
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.MulticastGroup(7, e.NewReplica(5, 1)))
		},
		want:  "multicast_group 7 replicas(port=5 instance=1)",
		proto: `packet_replication_engine_entry { multicast_group_entry { multicast_group_id: 7 replicas { egress_port: 5 instance: 1 } } }`,
	}, {
		name: "members-only profile", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Member("profile", 9, e.Action("set_port", e.Param("port", 1))))
		},
		want: "action_profile_member ingress.members_only.profile member=9 action=ingress.set_port(port=1)",
	}, {
		name: "sum_of_members selector at its limits", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.Group("selector", 1, 4, e.WeightedMember(1, 8), e.WeightedMember(2, 8), e.WeightedMember(3, 1), e.WeightedMember(4, 1)))
		},
		want: "action_profile_group ingress.ecmp.selector group=1 members(1 weight=8, 2 weight=8, 3 weight=1, 4 weight=1) max_size=4",
	}, {
		name: "meter counters on a table entry", p4info: testFeatures,
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("fwd", e.Match(e.MatchText("hdr.ethernet.dst_addr", "00:00:00:00:00:01"), e.ExactUint("meta.port32", 1)),
				e.MeterCounterData([2]int64{}, [2]int64{}, [2]int64{})))
		},
		want: "table_entry ingress.fwd.fwd match(hdr.ethernet.dst_addr=00:00:00:00:00:01, meta.port32=1) green=0/0 yellow=0/0 red=0/0",
	}})
}

func TestBuildBMv2(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "idle timeout", p4info: "bmv2-digest",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("smac", e.Match(e.Exact("h.ethernet.smac", mac1)), e.Action("NoAction"), e.IdleTimeout(1500*time.Millisecond)))
		},
		want:  "table_entry ingress.smac match(h.ethernet.smac=00:11:22:33:44:55) action=NoAction() idle_timeout=1.5s",
		proto: `table_entry { table_id: 33610141 match { field_id: 1 exact { value: "\x11\x22\x33\x44\x55" } } action { action { action_id: 16800567 } } idle_timeout_ns: 1500000000 }`,
	}, {
		name: "digest config", p4info: "bmv2-digest",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.DigestEntry("L2_digest", &e.DigestConfig{MaxTimeout: 0, MaxListSize: 1, AckTimeout: time.Second}))
		},
		want: "digest_entry L2_digest max_timeout=0s max_list_size=1 ack_timeout=1s",
	}, {
		name: "simple router names", p4info: "bmv2-simple_router",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("ipv4_lpm", e.Match(e.LPM("ipv4.dstAddr", "10.0.1.0/24")),
				e.Action("set_nhop", e.Param("nhop_ipv4", "10.0.1.1"), e.Param("port", 1))))
		},
		want: "table_entry ipv4_lpm match(ipv4.dstAddr=10.0.1.0/24) action=set_nhop(nhop_ipv4=10.0.1.1, port=1)",
	}, {
		name: "simple router forward", p4info: "bmv2-simple_router",
		build: func(b *e.Builder) (*p4v1.Entity, error) {
			return ent(b.TableEntry("forward", e.Match(e.ExactAddr("routing_metadata.nhop_ipv4", netip.MustParseAddr("10.0.1.1"))),
				e.Action("set_dmac", e.Param("dmac", mac1))))
		},
		want: "table_entry forward match(routing_metadata.nhop_ipv4=10.0.1.1) action=set_dmac(dmac=00:11:22:33:44:55)",
	}})
}

// TestFieldOrder checks that the order of fields and params does not
// change the entity.
func TestFieldOrder(t *testing.T) {
	b := mustBuilder(t, "onos-basic")
	a, err := b.TableEntry("table0", e.Priority(1),
		e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x800, 0xffff)), e.Match(e.TernaryUint("standard_metadata.ingress_port", 1, 0x1ff)),
		e.Action("set_egress_port", e.ParamUint("port", 1)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.TableEntry("table0", e.Action("set_egress_port", e.ParamUint("port", 1)),
		e.Match(e.TernaryUint("standard_metadata.ingress_port", 1, 0x1ff), e.TernaryUint("hdr.ethernet.ether_type", 0x800, 0xffff)), e.Priority(1))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(a, c) {
		t.Errorf("field order changes the entity:\n%v\n%v", a, c)
	}
	if entity.Key(a) != entity.Key(c) {
		t.Error("field order changes the key")
	}
}

// TestValuesNotAliased checks that the builder copies the caller's bytes.
func TestValuesNotAliased(t *testing.T) {
	b := mustBuilder(t, "bench")
	mac := append([]byte(nil), mac1...)
	meta := []byte("m")
	te, err := b.TableEntry("hosts", e.Match(e.ExactBytes("hdr.ethernet.dst_addr", mac)),
		e.Action("set_nexthop", e.ParamUint("port", 1), e.ParamBytes("dmac", mac)), e.Metadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	mac[5], meta[0] = 0xff, 'x'
	canonical := mac1[1:] // without its leading zero byte
	if !bytes.Equal(te.GetMatch()[0].GetExact().GetValue(), canonical) || !bytes.Equal(te.GetAction().GetAction().GetParams()[1].GetValue(), canonical) ||
		string(te.GetMetadata()) != "m" {
		t.Error("entity shares the caller's slices")
	}
	// Values share one buffer but cannot overwrite each other.
	v := te.GetMatch()[0].GetExact().GetValue()
	_ = append(v, 0xaa)
	if !bytes.Equal(te.GetAction().GetAction().GetParams()[0].GetValue(), []byte{1}) {
		t.Error("appending to one value overwrote another")
	}
}

// TestConcurrentBuild runs builders from many goroutines (go test -race).
func TestConcurrentBuild(t *testing.T) {
	b := mustBuilder(t, "bench")
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				_, err = b.TableEntry("routes_v4", e.Match(e.LPMUint("hdr.ipv4.dst_addr", uint64(g<<24|i<<8), 24)),
					e.Action("set_nexthop", e.ParamUint("port", uint64(i%512)), e.ParamMAC("dmac", mac1)))
			}
			done <- err
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
