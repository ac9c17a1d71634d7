package sai_test

import (
	"context"
	"net/netip"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/pipeline/sai"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

func saiInfo() *p4configv1.P4Info { return p4infos.MustInfo("sai-middleblock") }

func saiSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New(saiInfo())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPipeliner(t testing.TB) *sai.Pipeliner {
	t.Helper()
	p, err := sai.NewWithConfig(saiSchema(t), pipeline.DeviceOptions{}, sai.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	routerMAC = objective.MustMAC("00:aa:00:00:00:01")
	leaf2     = objective.NextHop{ID: "leaf2", Port: 1, SrcMAC: routerMAC, DstMAC: objective.MustMAC("00:bb:00:00:00:02")}
	leaf3     = objective.NextHop{ID: "leaf3", Port: 2, SrcMAC: routerMAC, DstMAC: objective.MustMAC("00:bb:00:00:00:03")}
	leaf4     = objective.NextHop{ID: "leaf4", Port: 2, SrcMAC: routerMAC, DstMAC: objective.MustMAC("00:bb:00:00:00:04")}
	spines    = objective.NextHopGroup{ID: "spines", Members: []objective.Weighted{
		{NextHop: leaf2, Weight: 3}, {NextHop: leaf3}, {NextHop: leaf4, Weight: 2}}}
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func hop(nh objective.NextHop) *objective.NextHop { return &nh }

// supported lists objectives of every kind the program can express, with
// the variants that exercise each branch of the translation. Every route
// is in a named VRF: the default VRF is tested apart (see
// TestDefaultVRFRoute).
func supported() []objective.Objective {
	return []objective.Objective{
		objective.L3Interface{Port: 1, RouterMAC: routerMAC},
		objective.L3Interface{Port: 2, RouterMAC: routerMAC, VRF: "blue"},
		objective.NextHop{ID: "solo", Port: 3, SrcMAC: routerMAC, DstMAC: objective.MustMAC("00:cc:00:00:00:01")},
		spines,
		objective.Route{VRF: "blue", Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: hop(leaf2)}},
		objective.Route{VRF: "blue", Prefix: pfx("10.0.3.0/24"), Target: objective.Target{NextHop: hop(leaf2)}},
		objective.Route{VRF: "red", Prefix: pfx("10.0.0.0/8"), Target: objective.Target{Group: &spines}},
		objective.Route{VRF: "blue", Prefix: pfx("2001:db8:2::/48"), Target: objective.Target{NextHop: hop(leaf3)}},
		objective.Route{VRF: "red", Prefix: pfx("2001:db8::/32"), Target: objective.Target{Group: &spines}},
		objective.ACL{Name: "drop-telnet", Priority: 100, Action: objective.ACLDrop,
			Match: objective.ACLMatch{EtherType: 0x0800, DstIP: pfx("10.0.0.0/8"), IPProto: 6, L4Dst: 23}},
		objective.ACL{Name: "punt-ssh6", Priority: 90, Action: objective.ACLPunt,
			Match: objective.ACLMatch{EtherType: 0x86dd, SrcIP: pfx("2001:db8::/32"), IPProto: 6, L4Dst: 22}},
		objective.ACL{Name: "permit-arp", Priority: 80, Action: objective.ACLPermit,
			Match: objective.ACLMatch{EtherType: 0x0806, DstMAC: objective.MustMAC("ff:ff:ff:ff:ff:ff"),
				Fields: map[string]objective.Ternary{"arp_tpa": {Value: 0x0a000001, Mask: 0xffffffff}}}},
		objective.ACL{Name: "redirect-web", Priority: 70, Action: objective.ACLRedirect,
			Target: &objective.Target{NextHop: hop(leaf4)},
			Match: objective.ACLMatch{EtherType: 0x0800, SrcIP: pfx("192.168.0.0/16"), IPProto: 17, L4Src: 53,
				Fields: map[string]objective.Ternary{"ttl": {Value: 1, Mask: 0xff}, "dscp": {Value: 8, Mask: 0x3c}}}},
		objective.ACL{Name: "drop-all", Priority: 1, Action: objective.ACLDrop},
		objective.Punt{Protocol: objective.LLDP},
		objective.Punt{Protocol: objective.ARP},
		objective.Punt{EtherType: 0x0800},
		objective.Multicast{GroupID: 7, Ports: []uint32{1, 2, 3}},
		objective.Multicast{GroupID: 8, Ports: []uint32{2, 4}},
	}
}

func testCtx(t testing.TB) context.Context { return pipelinetest.Context(t) }

// startSwitch starts an emulated switch with SAI-P4 middleblock's P4Info
// and returns a primary client.
func startSwitch(t *testing.T) *client.Client {
	t.Helper()
	return pipelinetest.Start(t, saiInfo(), []byte("emulated"))
}

// readAll reads everything the switch holds back.
func readAll(t *testing.T, c *client.Client) []*p4v1.Entity { return pipelinetest.ReadAll(t, c) }

func clone(e *p4v1.Entity) *p4v1.Entity { return proto.Clone(e).(*p4v1.Entity) }
