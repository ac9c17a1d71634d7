package entity_test

import (
	"errors"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/entity"
	e "github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
)

type errCase struct {
	name   string
	p4info string
	opts   []entity.BuilderOption
	build  func(b *entity.Builder) error
	want   string   // the whole message, or a prefix of it when wantIn is set
	wantIn []string // substrings the message must contain
	// what errors.As must find
	lookup *schema.LookupError // Kind, Name and whether Candidates contain its first candidate
	rangeE *codec.RangeError
	at     *entity.Error // the names the *entity.Error must carry
}

func errOf[M any](_ M, err error) error { return err }

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustBuilder(t, tc.p4info, tc.opts...)
			err := tc.build(b)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if tc.wantIn == nil && msg != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", msg, tc.want)
			}
			if tc.wantIn != nil && !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error %q does not start with %q", msg, tc.want)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			var ee *entity.Error
			if !errors.As(err, &ee) {
				t.Errorf("error %T is not an *entity.Error", err)
			} else if at := tc.at; at != nil {
				if ee.Kind != at.Kind || ee.Name != at.Name || ee.Field != at.Field || ee.Action != at.Action || ee.Param != at.Param {
					t.Errorf("error names %q %q field %q action %q param %q, want %q %q field %q action %q param %q",
						ee.Kind, ee.Name, ee.Field, ee.Action, ee.Param, at.Kind, at.Name, at.Field, at.Action, at.Param)
				}
			}
			if want := tc.lookup; want != nil {
				var le *schema.LookupError
				switch {
				case !errors.As(err, &le):
					t.Errorf("error does not wrap a *schema.LookupError")
				case le.Kind != want.Kind || le.Name != want.Name:
					t.Errorf("lookup error for %s %q, want %s %q", le.Kind, le.Name, want.Kind, want.Name)
				case len(want.Candidates) > 0 && !contains(le.Candidates, want.Candidates[0]):
					t.Errorf("candidates %v lack %q", le.Candidates, want.Candidates[0])
				}
			}
			if want := tc.rangeE; want != nil {
				var re *codec.RangeError
				if !errors.As(err, &re) || *re != *want {
					t.Errorf("error does not wrap %+v", want)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const routes = "ingress.routing.routes_v4"

func TestErrorsNames(t *testing.T) {
	runErrCases(t, []errCase{{
		name: "unknown table lists the tables", p4info: "bench",
		build:  func(b *e.Builder) error { return errOf(b.TableEntry("routes_v6")) },
		want:   `unknown table "routes_v6" (known: ingress.routing.routes_v4, ingress.routing.hosts)`,
		lookup: &schema.LookupError{Kind: schema.KindTable, Name: "routes_v6", Candidates: []string{routes}},
		at:     &e.Error{Kind: schema.KindTable, Name: "routes_v6"},
	}, {
		name: "unknown field lists the table's fields", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst", "10.0.0.0/8"))))
		},
		want:   `table "ingress.routing.routes_v4": unknown match field "hdr.ipv4.dst" in table ingress.routing.routes_v4 (known: hdr.ipv4.dst_addr)`,
		lookup: &schema.LookupError{Kind: schema.KindMatchField, Name: "hdr.ipv4.dst", Candidates: []string{"hdr.ipv4.dst_addr"}},
		at:     &e.Error{Kind: schema.KindTable, Name: routes, Field: "hdr.ipv4.dst"},
	}, {
		name: "unknown action lists the table's actions", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")), e.Action("forward")))
		},
		want:   `table "ingress.routing.routes_v4": unknown action "forward" in table ingress.routing.routes_v4 (known: ingress.routing.set_nexthop, ingress.routing.drop, NoAction)`,
		lookup: &schema.LookupError{Kind: schema.KindAction, Name: "forward", Candidates: []string{"ingress.routing.set_nexthop"}},
		at:     &e.Error{Kind: schema.KindTable, Name: routes, Action: "forward"},
	}, {
		name: "unknown param lists the action's params", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")),
				e.Action("set_nexthop", e.Param("port", 1), e.Param("mac", mac1))))
		},
		want:   `table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": unknown action parameter "mac" in action ingress.routing.set_nexthop (known: port, dmac)`,
		lookup: &schema.LookupError{Kind: schema.KindParam, Name: "mac", Candidates: []string{"dmac"}},
		at:     &e.Error{Kind: schema.KindTable, Name: routes, Action: "ingress.routing.set_nexthop", Param: "mac"},
	}, {
		name: "param of an action without params", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")), e.Action("drop", e.Param("port", 1))))
		},
		want:   `table "ingress.routing.routes_v4": action "ingress.routing.drop": unknown action parameter "port" in action ingress.routing.drop`,
		lookup: &schema.LookupError{Kind: schema.KindParam, Name: "port"},
	}, {
		name: "unknown profile", p4info: "onos-basic",
		build:  func(b *e.Builder) error { return errOf(b.Member("selector", 1, e.Action("set_egress_port"))) },
		want:   `unknown action profile "selector" (known: ingress.wcmp_control.wcmp_selector)`,
		lookup: &schema.LookupError{Kind: schema.KindActionProfile, Name: "selector", Candidates: []string{"ingress.wcmp_control.wcmp_selector"}},
	}, {
		name: "unknown counter", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.CounterEntry("port_counter", 1)) },
		want:  `unknown counter "port_counter" (known: ingress.port_counters_ingress.ingress_port_counter, egress.port_counters_egress.egress_port_counter)`,
	}, {
		name: "action not of the profile's tables", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.Member("wcmp_selector", 1, e.Action("drop"))) },
		want:  `action profile "ingress.wcmp_control.wcmp_selector": unknown action "drop" in table ingress.wcmp_control.wcmp_table (known: ingress.wcmp_control.set_egress_port, NoAction)`,
	}})
}

func TestErrorsValues(t *testing.T) {
	runErrCases(t, []errCase{{
		name: "value one bit too wide", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPMUint("hdr.ipv4.dst_addr", 1<<32, 32))))
		},
		want:   `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": value needs 33 bits, does not fit in bit<32>`,
		rangeE: &codec.RangeError{Bitwidth: 32, Bits: 33},
		at:     &e.Error{Kind: schema.KindTable, Name: routes, Field: "hdr.ipv4.dst_addr"},
	}, {
		name: "param too wide", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")),
				e.Action("set_nexthop", e.Param("port", 512), e.ParamMAC("dmac", mac1))))
		},
		want:   `table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": param "port": value needs 10 bits, does not fit in bit<9>`,
		rangeE: &codec.RangeError{Bitwidth: 9, Bits: 10},
		at:     &e.Error{Kind: schema.KindTable, Name: routes, Action: "ingress.routing.set_nexthop", Param: "port"},
	}, {
		name: "text too wide", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")),
				e.Action("set_nexthop", e.Param("port", "0x200"), e.ParamMAC("dmac", mac1))))
		},
		want: `table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": param "port": value needs 10 bits, does not fit in bit<9>`,
	}, {
		name: "mac too long", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.ExactBytes("hdr.ethernet.dst_addr", []byte{1, 2, 3, 4, 5, 6, 7}))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": value needs 49 bits, does not fit in bit<48>`,
	}, {
		name: "negative", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", -1))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": negative value -1`,
	}, {
		name: "unparsable text", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", "zz:00"))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": "zz:00" is not a MAC address`,
	}, {
		name: "ipv4 text for a 9-bit param", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", mac1)),
				e.Action("set_nexthop", e.Param("port", "10.0.0.1"), e.Param("dmac", mac1))))
		},
		want: `table "ingress.routing.hosts": action "ingress.routing.set_nexthop": param "port": "10.0.0.1": an IPv4 address is for 32-bit fields, not bit<9>`,
	}, {
		name: "unsupported Go type", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", 1.5))))
		},
		want:   `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": cannot use a float64 as a P4Runtime value`,
		wantIn: []string{"float64"},
	}, {
		name: "nil value", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", nil))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": no value`,
	}, {
		name: "negative big int", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", big.NewInt(-3)))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": negative value -3`,
	}, {
		name: "empty bytes", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.ExactBytes("hdr.ethernet.dst_addr", nil))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": empty bytestring`,
	}, {
		name: "number for an SDN string id", p4info: "sai-middleblock",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("ipv4_table", e.Match(e.Exact("vrf_id", 1), e.LPM("ipv4_dst", "10.0.0.0/8"))))
		},
		want: `table "ingress.routing_lookup.ipv4_table": field "vrf_id": the field's type vrf_id_t is translated to an SDN string: give a string, not a int`,
	}, {
		name: "ipv6 with bits below a 64-bit field", p4info: "sai-middleblock",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("acl_ingress_table", e.Priority(1), e.Match(e.Ternary("dst_ipv6", "2001:db8::1", nil))))
		},
		want: `table "ingress.acl_ingress.acl_ingress_table": field "dst_ipv6": value: IPv6 address 2001:db8::1 has bits set past the upper 64 bits that the field holds`,
	}})
}

func TestErrorsMatch(t *testing.T) {
	runErrCases(t, []errCase{{
		name: "exact helper on an lpm field", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.Exact("hdr.ipv4.dst_addr", "10.0.0.1"))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": is an LPM field, not exact: use entity.LPM (or entity.MatchText)`,
		at:   &e.Error{Kind: schema.KindTable, Name: routes, Field: "hdr.ipv4.dst_addr"},
	}, {
		name: "ternary helper on a range field", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("acl", e.Priority(1), e.Match(e.ExactUint("standard_metadata.ingress_port", 1),
				e.TernaryUint("local_metadata.l4_dst_port", 1, 1))))
		},
		want: `table "ingress.acl.acl": field "local_metadata.l4_dst_port": is a range field, not ternary: use entity.Range (or entity.MatchText)`,
	}, {
		name: "dont care on an exact field", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.DontCare("hdr.ethernet.dst_addr"))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": an exact field has no "don't care" value`,
	}, {
		name: "* on an exact field", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.MatchText("hdr.ethernet.dst_addr", "*"))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": cannot parse "*" as a bit<48> value: want an unsigned number (decimal, 0x hex, 0b binary, 0o octal) or a MAC address`,
	}, {
		name: "missing exact field", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry("hosts", e.Action("NoAction"))) },
		want:  `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": missing: an exact field must be given (it has no "don't care" value)`,
	}, {
		name: "field twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8")), e.Match(e.LPM("hdr.ipv4.dst_addr", "11.0.0.0/8"))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": given twice`,
	}, {
		name: "lpm host bits rejected when strict", p4info: "bench", opts: []e.BuilderOption{e.Strict()},
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.1/24"))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": value has bits set past the prefix length 24`,
	}, {
		name: "lpm prefix host bits rejected when strict", p4info: "bench", opts: []e.BuilderOption{e.Strict()},
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPMPrefix("hdr.ipv4.dst_addr", netip.MustParsePrefix("10.0.0.1/24")))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": prefix 10.0.0.1/24 has bits set past its length`,
	}, {
		name: "ternary value outside mask rejected when strict", p4info: "onos-basic", opts: []e.BuilderOption{e.Strict()},
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("table0", e.Priority(1), e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x0801, 0xff00))))
		},
		want: `table "ingress.table0_control.table0": field "hdr.ethernet.ether_type": value has bits set outside the mask`,
	}, {
		name: "prefix too long", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0", 33))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": prefix length 33 is longer than bit<32>`,
	}, {
		name: "negative prefix length", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0", -1))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": negative prefix length`,
	}, {
		name: "prefix length twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPM("hdr.ipv4.dst_addr", netip.MustParsePrefix("10.0.0.0/8"), 8))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": prefix length given twice (with the prefix and apart)`,
	}, {
		name: "ipv6 prefix for a 32-bit field", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, e.Match(e.LPMPrefix("hdr.ipv4.dst_addr", netip.MustParsePrefix("2001:db8::/32")))))
		},
		want: `table "ingress.routing.routes_v4": field "hdr.ipv4.dst_addr": IPv6 prefix 2001:db8::/32 for bit<32>`,
	}, {
		name: "prefix on an exact field", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("hosts", e.Match(e.Exact("hdr.ethernet.dst_addr", netip.MustParsePrefix("10.0.0.0/8")))))
		},
		want: `table "ingress.routing.hosts": field "hdr.ethernet.dst_addr": a prefix is only for an LPM field`,
	}, {
		name: "range low above high", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("acl", e.Priority(1), e.Match(e.ExactUint("standard_metadata.ingress_port", 1), e.RangeUint("local_metadata.l4_dst_port", 20, 10))))
		},
		want: `table "ingress.acl.acl": field "local_metadata.l4_dst_port": low bound is greater than the high bound`,
	}})
}

func TestErrorsEntry(t *testing.T) {
	lpm := e.Match(e.LPM("hdr.ipv4.dst_addr", "10.0.0.0/8"))
	runErrCases(t, []errCase{{
		name: "priority missing", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("table0", e.Match(e.TernaryUint("hdr.ethernet.ether_type", 0x800, 0xffff))))
		},
		want: `table "ingress.table0_control.table0": needs a priority > 0 (entity.Priority): the table has ternary, range or optional fields`,
	}, {
		name: "priority zero", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.TableEntry("table0", e.Priority(0))) },
		want:  `table "ingress.table0_control.table0": priority 0: must be > 0`,
	}, {
		name: "priority forbidden", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.Priority(10))) },
		want:  `table "ingress.routing.routes_v4": priority 10: the table takes no priority (it has no ternary, range or optional field)`,
	}, {
		name: "default-only action in an entry", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.Action("NoAction"))) },
		want:  `table "ingress.routing.routes_v4": action "NoAction": is @defaultonly: it can only be the default action (use DefaultEntry)`,
	}, {
		name: "table-only action as default", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.DefaultEntry("acl", e.Action("permit"))) },
		want:  `table "ingress.acl.acl": action "ingress.acl.permit": is @tableonly: it cannot be the default action`,
	}, {
		name: "default entry with a match", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.DefaultEntry(routes, lpm, e.Action("drop"))) },
		want:  `table "ingress.routing.routes_v4": a default entry has no match`,
	}, {
		name: "const default action", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.DefaultEntry("table0", e.Action("drop"))) },
		want:  `table "ingress.table0_control.table0": the default action is const`,
	}, {
		name: "default of an indirect table", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.DefaultEntry("members_only", e.Member(1))) },
		want:  `table "ingress.members_only.t": the default action of an indirect table (action profile ingress.members_only.profile) is const NoAction`,
	}, {
		name: "direct action on an indirect table", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)), e.Action("set_egress_port", e.Param("port", 1))))
		},
		want: `table "ingress.wcmp_control.wcmp_table": action "set_egress_port": the table is indirect (action profile ingress.wcmp_control.wcmp_selector): use entity.Member, entity.Group or entity.ActionSet`,
	}, {
		name: "member on a direct table", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.Member(1))) },
		want:  `table "ingress.routing.routes_v4": entity.Member: the table is direct (no action profile): use entity.Action`,
	}, {
		name: "group without selector", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("members_only", e.Match(e.ExactUint("local_metadata.nexthop", 1)), e.Group(1)))
		},
		want: `table "ingress.members_only.t": entity.Group: the table is not implemented with an action selector`,
	}, {
		name: "action set without selector", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("members_only", e.Match(e.ExactUint("local_metadata.nexthop", 1)),
				e.ActionSet(e.Weighted(1, nil, e.Action("set_port", e.Param("port", 1))))))
		},
		want: `table "ingress.members_only.t": entity.ActionSet: the table is not implemented with an action selector`,
	}, {
		name: "action set weight zero", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)),
				e.ActionSet(e.Weighted(0, nil, e.Action("set_egress_port", e.Param("port", 1))))))
		},
		want: `table "ingress.wcmp_control.wcmp_table": action "set_egress_port": entity.ActionSet: weight 0 must be > 0`,
	}, {
		name: "action set empty", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)), e.ActionSet()))
		},
		want: `table "ingress.wcmp_control.wcmp_table": entity.ActionSet: empty action set`,
	}, {
		name: "action set member not an action", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)), e.ActionSet(e.Weighted(1, nil, e.Priority(1)))))
		},
		want: `table "ingress.wcmp_control.wcmp_table": want entity.Action, got entity.Priority`,
	}, {
		name: "action set over max group size", p4info: testFeatures,
		build: func(b *e.Builder) error {
			a := e.Action("set_port", e.Param("port", 1))
			return errOf(b.TableEntry("ecmp", e.Match(e.ExactUint("local_metadata.nexthop", 1)),
				e.ActionSet(e.Weighted(1, nil, a), e.Weighted(1, nil, a), e.Weighted(1, nil, a), e.Weighted(1, nil, a), e.Weighted(1, nil, a))))
		},
		want: `table "ingress.ecmp.ecmp": entity.ActionSet: number of members 5 exceeds the selector's max_group_size 4`,
	}, {
		name: "member id zero", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)), e.Member(0)))
		},
		want: `table "ingress.wcmp_control.wcmp_table": entity.Member: member ID 0 is not valid`,
	}, {
		name: "two actions", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.Action("drop"), e.Action("drop"))) },
		want:  `table "ingress.routing.routes_v4": two actions: entity.Action and entity.Action`,
	}, {
		name: "option twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, lpm, e.Metadata(nil), e.Metadata([]byte{1})))
		},
		want: `table "ingress.routing.routes_v4": entity.Metadata given twice`,
	}, {
		name: "empty option", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.Option{})) },
		want:  `table "ingress.routing.routes_v4": empty entity.Option (use the option functions)`,
	}, {
		name: "param twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, lpm, e.Action("set_nexthop", e.Param("port", 1), e.Param("port", 2))))
		},
		want: `table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": param "port": given twice`,
	}, {
		name: "param missing", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry(routes, lpm, e.Action("set_nexthop", e.Param("port", 1))))
		},
		want: `table "ingress.routing.routes_v4": action "ingress.routing.set_nexthop": missing parameter(s) dmac: every parameter needs a value`,
		at:   &e.Error{Kind: schema.KindTable, Name: routes, Action: "ingress.routing.set_nexthop"},
	}, {
		name: "idle timeout unsupported", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.IdleTimeout(time.Second))) },
		want:  `table "ingress.routing.routes_v4": the table does not support idle timeout`,
	}, {
		name: "idle timeout on a default entry", p4info: "bmv2-digest",
		build: func(b *e.Builder) error { return errOf(b.DefaultEntry("smac", e.IdleTimeout(time.Second))) },
		want:  `table "ingress.smac": idle timeout is not supported for default entries`,
	}, {
		name: "counter data without direct counter", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.TableEntry(routes, lpm, e.CounterData(1, 1))) },
		want:  `table "ingress.routing.routes_v4": the table has no direct counter for entity.CounterData`,
	}, {
		name: "meter config without direct meter", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("wcmp_table", e.Match(e.Exact("local_metadata.next_hop_id", 1)), e.MeterConfig(1, 1, 1, 1)))
		},
		want: `table "ingress.wcmp_control.wcmp_table": the table has no direct meter for entity.MeterConfig or entity.MeterCounterData`,
	}, {
		name: "const table write", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.TableEntry("consts", e.Match(e.ExactUint("hdr.ethernet.ether_type", 1)), e.Action("NoAction")))
		},
		want: `table "ingress.consts": the table is const: its entries cannot be written, only their direct resources modified (without an action)`,
	}, {
		name: "keyless table entry", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.TableEntry("keyless", e.Action("drop"))) },
		want:  `table "ingress.keyless": the table has no match key: only its default entry can be written (use DefaultEntry)`,
	}, {
		name: "direct counter entry on a table without one", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.DirectCounterEntry(routes, lpm)) },
		want:  `table "ingress.routing.routes_v4": the table has no direct counter`,
	}, {
		name: "direct counter entry with an action", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.DirectCounterEntry("table0", e.Priority(1), e.Action("drop")))
		},
		want: `table "ingress.table0_control.table0": entity.Action: a direct resource entry names its table entry by match and priority only`,
	}, {
		name: "direct meter entry with counter data", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.DirectMeterEntry("host_meter_table", e.Match(e.LPM("hdr.ethernet.src_addr", mac1, 48)), e.CounterData(1, 1)))
		},
		want: `table "ingress.host_meter_control.host_meter_table": entity.CounterData does not apply to a direct meter entry`,
	}})
}

func TestErrorsOther(t *testing.T) {
	runErrCases(t, []errCase{{
		name: "group weight zero", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.Group("wcmp_selector", 1, 0, e.WeightedMember(1, 0))) },
		want:  `action profile "ingress.wcmp_control.wcmp_selector": member 1: weight 0 must be > 0`,
	}, {
		name: "group member twice", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.Group("wcmp_selector", 1, 0, e.WeightedMember(1, 1), e.WeightedMember(1, 2)))
		},
		want: `action profile "ingress.wcmp_control.wcmp_selector": member 1 given twice (use its weight instead)`,
	}, {
		name: "group over max size", p4info: "fabric-v1model",
		build: func(b *e.Builder) error {
			return errOf(b.Group("hashed_selector", 1, 0, e.WeightedMember(1, 10), e.WeightedMember(2, 7)))
		},
		want: `action profile "FabricIngress.next.hashed_selector": sum of weights 17 exceeds the selector's max_group_size 16`,
	}, {
		name: "group max size over the P4Info's", p4info: "fabric-v1model",
		build: func(b *e.Builder) error { return errOf(b.Group("hashed_selector", 1, 17)) },
		want:  `action profile "FabricIngress.next.hashed_selector": max size 17 exceeds the selector's max_group_size 16`,
	}, {
		name: "group member weight over max_member_weight", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.Group("selector", 1, 0, e.WeightedMember(1, 9))) },
		want:  `action profile "ingress.ecmp.selector": weight 9 exceeds the selector's max_member_weight 8`,
	}, {
		name: "group on a profile without selector", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.Group("profile", 1, 0)) },
		want:  `action profile "ingress.members_only.profile": is not an action selector: it has members only`,
	}, {
		name: "group bad watch port", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.Group("wcmp_selector", 1, 0, e.WeightedMember(1, 1).Watch(-1)))
		},
		want: `action profile "ingress.wcmp_control.wcmp_selector": member 1: watch port: negative value -1`,
	}, {
		name: "member with default-only action", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.Member("wcmp_selector", 1, e.Action("NoAction"))) },
		want:  `action profile "ingress.wcmp_control.wcmp_selector": action "NoAction": is @defaultonly: it can only be the default action of the table`,
	}, {
		name: "member id zero with action", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.Member("wcmp_selector", 0, e.Action("set_egress_port", e.Param("port", 1))))
		},
		want: `action profile "ingress.wcmp_control.wcmp_selector": member ID 0 is not valid`,
	}, {
		name: "counter index out of range", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.CounterEntry("ingress_port_counter", 511)) },
		want:  `counter "ingress.port_counters_ingress.ingress_port_counter": index 511 out of range: the array has 511 cells`,
	}, {
		name: "counter negative index", p4info: "onos-basic",
		build: func(b *e.Builder) error { return errOf(b.CounterEntry("ingress_port_counter", -2)) },
		want:  `counter "ingress.port_counters_ingress.ingress_port_counter": negative index -2 (use entity.AllCells for every cell)`,
	}, {
		name: "counter with a meter option", p4info: "onos-basic",
		build: func(b *e.Builder) error {
			return errOf(b.CounterEntry("ingress_port_counter", 1, e.MeterConfig(1, 1, 1, 1)))
		},
		want: `counter "ingress.port_counters_ingress.ingress_port_counter": entity.MeterConfig does not apply here`,
	}, {
		name: "register struct needs P4Data", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.RegisterEntry("flow_state", 1, 5)) },
		want:  `register "ingress.flow_state": the register's elements are not bit<W>: give a *p4v1.P4Data`,
	}, {
		name: "register value too wide", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.RegisterEntry("flow_bytes", 1, uint64(1)<<40)) },
		want:  `register "ingress.flow_bytes": value needs 41 bits, does not fit in bit<32>`,
	}, {
		name: "register index", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.RegisterEntry("flow_bytes", 16, 1)) },
		want:  `register "ingress.flow_bytes": index 16 out of range: the array has 16 cells`,
	}, {
		name: "value set too many members", p4info: testFeatures,
		build: func(b *e.Builder) error {
			m := e.Values(e.Exact("ether_type", 1))
			return errOf(b.ValueSetEntry("trill_types", m, m, m, m, m))
		},
		want: `value set "parser.trill_types": 5 members exceed the value set's size 4`,
	}, {
		name: "value set unknown field", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.ValueSetEntry("trill_types", e.Values(e.Exact("type", 1)))) },
		want:  `value set "parser.trill_types": member 0: unknown match field "type" in value set parser.trill_types (known: ether_type)`,
		at:    &e.Error{Kind: schema.KindValueSet, Name: "parser.trill_types", Field: "type"},
	}, {
		name: "value set missing exact", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.ValueSetEntry("ports", e.Values(e.TernaryUint("port", 1, 1))))
		},
		want: `value set "parser.ports": field "proto": member 0: missing: an exact field must be given (it has no "don't care" value)`,
	}, {
		name: "digest negative config", p4info: testFeatures,
		build: func(b *e.Builder) error {
			return errOf(b.DigestEntry("learn_t", &e.DigestConfig{MaxTimeout: -1}))
		},
		want: `digest "learn_t": negative digest configuration`,
	}, {
		name: "multicast group zero", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.MulticastGroup(0, e.NewReplica(1, 0))) },
		want:  `packet replication engine "multicast group 0": multicast group ID 0 is not valid`,
	}, {
		name: "multicast replica twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.MulticastGroup(1, e.NewReplica(1, 0), e.NewReplica(uint8(1), 0)))
		},
		want: `packet replication engine: multicast group 1: replica 1: port 1 instance 0 given twice`,
	}, {
		name: "backup on the replica's port", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.MulticastGroup(1, e.NewReplica(1, 0).Backup(1, 1))) },
		want:  `packet replication engine: multicast group 1: replica 0: backup 0 has the replica's own port`,
	}, {
		name: "replica without port", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.CloneSession(1, 0, 0, e.NewReplica(nil, 0))) },
		want:  `packet replication engine: clone session 1: replica 0: port: no port`,
	}, {
		name: "replica port too wide", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.CloneSession(1, 0, 0, e.NewReplica(uint64(1)<<32, 0))) },
		want:  `packet replication engine: clone session 1: replica 0: port: value needs 33 bits, does not fit in bit<32>`,
	}, {
		name: "clone session negative truncation", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.CloneSession(1, 0, -1)) },
		want:  `packet replication engine: clone session 1: negative truncation length -1`,
	}, {
		name: "packet out unknown field", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.PacketOut(nil, e.Meta("port", 1))) },
		want:  `controller packet metadata "packet_out": unknown metadata field "port" in controller packet metadata packet_out (known: egress_port, _pad)`,
		at:    &e.Error{Kind: schema.KindPacketMetadata, Name: "packet_out", Field: "port"},
	}, {
		name: "packet out value too wide", p4info: "bench",
		build: func(b *e.Builder) error { return errOf(b.PacketOut(nil, e.MetaUint("egress_port", 512))) },
		want:  `controller packet metadata "packet_out": field "egress_port": value needs 10 bits, does not fit in bit<9>`,
	}, {
		name: "packet out SDN string missing", p4info: testFeatures,
		build: func(b *e.Builder) error { return errOf(b.PacketOut(nil, e.Meta("egress_port", 1))) },
		want:  `controller packet metadata "packet_out": field "queue": missing: a field translated to an SDN string has no zero value`,
	}, {
		name: "packet out field twice", p4info: "bench",
		build: func(b *e.Builder) error {
			return errOf(b.PacketOut(nil, e.Meta("egress_port", 1), e.Meta("egress_port", 2)))
		},
		want: `controller packet metadata "packet_out": field "egress_port": given twice`,
	}})
}

func TestNoSchema(t *testing.T) {
	var nilBuilder *entity.Builder
	for _, b := range []*entity.Builder{nilBuilder, entity.NewBuilder(nil)} {
		if _, err := b.TableEntry("t"); err == nil {
			t.Error("TableEntry without schema: no error")
		}
		if _, err := b.Member("p", 1); err == nil {
			t.Error("Member without schema: no error")
		}
		if _, err := b.CounterEntry("c", 1); err == nil {
			t.Error("CounterEntry without schema: no error")
		}
		if _, err := b.PacketOut(nil); err == nil {
			t.Error("PacketOut without schema: no error")
		}
		if _, err := b.RegisterEntry("r", 1, nil); err == nil {
			t.Error("RegisterEntry without schema: no error")
		}
	}
	if _, err := entity.PacketIn(nil, &p4v1.PacketIn{}); err == nil {
		t.Error("PacketIn without schema: no error")
	}
}

// SAI-P4 names its default VRF "": an empty SDN string is a value, not a
// missing one.
func TestEmptySDNStringIsAValue(t *testing.T) {
	info, err := p4infos.Info("sai-middleblock")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.New(info)
	if err != nil {
		t.Fatal(err)
	}
	te, err := e.NewBuilder(s).TableEntry("ipv4_table", e.Match(e.Exact("vrf_id", ""), e.LPM("ipv4_dst", "10.0.0.0/8")),
		e.Action("set_nexthop_id", e.Param("nexthop_id", "nh1")))
	if err != nil {
		t.Fatal(err)
	}
	if len(te.GetMatch()) != 2 || te.GetMatch()[0].GetExact() == nil || len(te.GetMatch()[0].GetExact().GetValue()) != 0 {
		t.Fatalf("vrf_id should be an exact match on the empty string: %v", te.GetMatch())
	}
}
