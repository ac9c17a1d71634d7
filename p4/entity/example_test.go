package entity_test

import (
	"encoding/json"
	"fmt"
	"net/netip"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
)

func exampleSchema(name string) *schema.Schema {
	s, err := schema.New(p4infos.MustInfo(name))
	if err != nil {
		panic(err)
	}
	return s
}

// Build a route by name, wrap it into an update and render it back.
func Example() {
	s := exampleSchema("bench")
	b := entity.NewBuilder(s)

	te, err := b.TableEntry("ingress.routing.routes_v4",
		entity.Match(entity.LPM("hdr.ipv4.dst_addr", netip.MustParsePrefix("10.0.0.0/24"))),
		entity.Action("set_nexthop", entity.Param("port", 1), entity.Param("dmac", "00:00:00:00:00:01")))
	if err != nil {
		fmt.Println(err)
		return
	}
	u := entity.Insert(te)
	fmt.Println(u.GetType(), entity.Format(s, u.GetEntity()))

	// Mistakes name the table, field or parameter at fault.
	_, err = b.TableEntry("routes_v4", entity.Match(entity.LPM("hdr.ipv4.dst_addr", "10.0.0.0/33")))
	fmt.Println(err)
	_, err = b.TableEntry("routes_v4", entity.Match(entity.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")),
		entity.Action("set_nexthop", entity.Param("port", 1024), entity.Param("dmac", 1)))
	fmt.Println(err)
	// Output:
	// INSERT table_entry ingress.routing.routes_v4 match(hdr.ipv4.dst_addr=10.0.0.0/24) action=ingress.routing.set_nexthop(port=1, dmac=00:00:00:00:00:01)
	// table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": prefix length 33 is longer than bit<32>
	// table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": param "port": value needs 11 bits, does not fit in bit<9>
}

// A ternary ACL entry needs a priority; "don't care" fields are left out.
func ExampleBuilder_TableEntry() {
	s := exampleSchema("onos-basic")
	b := entity.NewBuilder(s)
	te, err := b.TableEntry("table0",
		entity.Match(
			entity.Ternary("hdr.ethernet.ether_type", 0x0800, 0xffff),
			entity.MatchText("hdr.ipv4.dst_addr", "10.0.0.0/8"),
			entity.Ternary("hdr.ipv4.src_addr", "0.0.0.0", "0.0.0.0"), // mask 0: don't care
		),
		entity.Priority(100),
		entity.Action("send_to_cpu"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(te.GetMatch()), "fields")
	fmt.Println(entity.Format(s, te))
	// Output:
	// 2 fields
	// table_entry ingress.table0_control.table0 match(hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.dst_addr=10.0.0.0&&&255.0.0.0) priority=100 action=ingress.table0_control.send_to_cpu()
}

// SAI-P4 identifies objects by strings: they travel byte for byte.
func ExampleBuilder_TableEntry_sdnStrings() {
	s := exampleSchema("sai-middleblock")
	b := entity.NewBuilder(s)
	te, err := b.TableEntry("ipv4_table",
		entity.Match(entity.Exact("vrf_id", "vrf-1"), entity.LPM("ipv4_dst", "10.1.0.0/16")),
		entity.Action("set_nexthop_id", entity.Param("nexthop_id", "nexthop-7")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", te.GetMatch()[0].GetExact().GetValue())
	fmt.Println(entity.Format(s, te))
	// Output:
	// "vrf-1"
	// table_entry ingress.routing_lookup.ipv4_table match(vrf_id="vrf-1", ipv4_dst=10.1.0.0/16) action=set_nexthop_id(nexthop_id="nexthop-7")
}

// Describe gives the readable form of an entity read from a target, as
// one line or as JSON.
func ExampleDescribe() {
	s := exampleSchema("bench")
	read := &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: 33554434,
		Match:   []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{0xaa, 0, 0, 0, 0, 1}}}}},
		Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 16777217, Params: []*p4v1.Action_Param{
			{ParamId: 1, Value: []byte{0, 3}}, {ParamId: 2, Value: []byte{0xaa, 0, 0, 0, 0, 2}}}}}},
	}}}
	r, err := entity.Describe(s, read)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(r)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	// Output:
	// table_entry ingress.routing.hosts match(hdr.ethernet.dst_addr=aa:00:00:00:00:01) action=ingress.routing.set_nexthop(port=3, dmac=aa:00:00:00:00:02)
	// {"kind":"table_entry","name":"ingress.routing.hosts","match":[{"field":"hdr.ethernet.dst_addr","kind":"exact","value":"aa:00:00:00:00:01"}],"action":{"name":"ingress.routing.set_nexthop","params":[{"name":"port","value":"3"},{"name":"dmac","value":"aa:00:00:00:00:02"}]}}
}

// Key identifies an entity whatever its action: a diff pairs desired and
// actual entities by key, then compares them.
func ExampleKey() {
	b := entity.NewBuilder(exampleSchema("bench"))
	match := entity.Match(entity.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8"))
	a, _ := b.TableEntry("routes_v4", match, entity.Action("drop"))
	c, _ := b.TableEntry("routes_v4", match, entity.Action("set_nexthop", entity.Param("port", 1), entity.Param("dmac", 1)))
	d, _ := b.TableEntry("routes_v4", entity.Match(entity.LPM("hdr.ipv4.dst_addr", "10.0.0.0/16")), entity.Action("drop"))
	fmt.Println(entity.Key(a) == entity.Key(c), entity.Key(a) == entity.Key(d))
	// Output:
	// true false
}

func ExampleParseValue() {
	for _, text := range []string{"0x0800", "10.0.0.1", "aa:bb:cc:dd:ee:ff", "300"} {
		v, err := entity.ParseValue(text, 32)
		fmt.Printf("%x %v\n", v, err)
	}
	// Output:
	// 0800 <nil>
	// 0a000001 <nil>
	//  "aa:bb:cc:dd:ee:ff": a MAC address is for 48-bit fields and an IPv6 address for 128-bit fields, not bit<32>
	// 012c <nil>
}

// Packet-out metadata by name; packet-in metadata decoded by name.
func ExampleBuilder_PacketOut() {
	s := exampleSchema("bench")
	b := entity.NewBuilder(s)
	out, err := b.PacketOut([]byte("frame"), entity.Meta("egress_port", 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out.GetMetadata()), "metadata fields")

	in := &p4v1.PacketIn{Payload: []byte("frame"), Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{7}}}}
	p, err := entity.PacketIn(s, in)
	if err != nil {
		fmt.Println(err)
		return
	}
	port, _ := p.Uint("ingress_port")
	fmt.Println(port, p)
	// Output:
	// 2 metadata fields
	// 7 packet(ingress_port=7) payload=5 bytes
}

// One-shot programming of a table implemented with an action selector.
func ExampleActionSet() {
	s := exampleSchema("onos-basic")
	b := entity.NewBuilder(s)
	te, err := b.TableEntry("wcmp_table",
		entity.Match(entity.Exact("local_metadata.next_hop_id", 1)),
		entity.ActionSet(
			entity.Weighted(3, 1, entity.Action("set_egress_port", entity.Param("port", 1))),
			entity.Weighted(1, 2, entity.Action("set_egress_port", entity.Param("port", 2)))))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(entity.Format(s, te))
	// Output:
	// table_entry ingress.wcmp_control.wcmp_table match(local_metadata.next_hop_id=1) action_set(weight=3 watch=1 ingress.wcmp_control.set_egress_port(port=1), weight=1 watch=2 ingress.wcmp_control.set_egress_port(port=2))
}
