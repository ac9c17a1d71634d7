package builtin_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

func registry(t testing.TB) *pipeline.Registry {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestBuiltins(t *testing.T) {
	tests := []struct {
		id      string
		targets string
		cpuPort uint32
		tables  int
	}{
		{"fabric-v1model", "bmv2,emulated", 255, 15},
		{"onos-basic", "bmv2,emulated", 255, 3},
		{"sai-middleblock", "emulated", 0, 25},
	}
	reg := registry(t)
	if got := strings.Join(reg.IDs(), ","); got != "fabric-v1model,onos-basic,sai-middleblock" {
		t.Fatalf("IDs = %s", got)
	}
	if !slices.Equal(builtin.IDs(), reg.IDs()) {
		t.Errorf("builtin.IDs = %v", builtin.IDs())
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			pc, err := builtin.Get(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pc.Targets(), ","); got != tt.targets {
				t.Errorf("targets = %s, want %s", got, tt.targets)
			}
			if pc.Options.CPUPort != tt.cpuPort {
				t.Errorf("CPU port = %d, want %d", pc.Options.CPUPort, tt.cpuPort)
			}
			if n := len(pc.Schema.Tables()); n != tt.tables {
				t.Errorf("%d tables, want %d", n, tt.tables)
			}
			if !strings.Contains(pc.Provenance, "Source repository") || !strings.Contains(pc.License, "Apache License") {
				t.Errorf("provenance or license missing")
			}
			p, err := pc.Pipeliner()
			if err != nil {
				t.Fatal(err)
			}
			if p.Program() != tt.id {
				t.Errorf("pipeliner writes for %q", p.Program())
			}
		})
	}
	// Registries are independent; the pipeconfs shared.
	a, b := registry(t), registry(t)
	pc, _ := a.Get("onos-basic")
	other := *pc
	other.ID = "mine"
	if err := a.Register(&other); err != nil {
		t.Fatal(err)
	}
	if len(b.IDs()) != 3 {
		t.Errorf("registering in one registry changed another: %v", b.IDs())
	}
	if _, err := builtin.Get("nope"); !errors.Is(err, pipeline.ErrUnknownPipeconf) {
		t.Errorf("Get(nope) = %v", err)
	}
}

// TestSupportMatrix checks that the support matrix in package pipeline's
// documentation says what every registered pipeliner's Supports says.
func TestSupportMatrix(t *testing.T) {
	f, err := os.Open("../doc.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header []string
	rows := map[objective.Kind][]string{}
	var order []objective.Kind
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "//\t") {
			if header != nil && len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Fields(strings.TrimPrefix(line, "//\t"))
		if len(cells) > 0 && cells[0] == "objective" {
			header = cells[1:]
			continue
		}
		if header != nil && len(cells) == len(header)+1 {
			k := objective.Kind(cells[0])
			rows[k] = cells[1:]
			order = append(order, k)
		}
	}
	if header == nil {
		t.Fatal("no support matrix in ../doc.go (a preformatted table whose header starts with \"objective\")")
	}
	if !slices.Equal(order, objective.Kinds()) {
		t.Errorf("matrix rows %v, want objective.Kinds() %v", order, objective.Kinds())
	}
	reg := registry(t)
	if cols := slices.Sorted(slices.Values(header)); !slices.Equal(cols, reg.IDs()) {
		t.Errorf("matrix columns %v, want the registered pipeconfs %v", header, reg.IDs())
	}
	for col, id := range header {
		pc, err := reg.Get(id)
		if err != nil {
			continue
		}
		p, err := pc.Pipeliner()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range objective.Kinds() {
			cell := rows[k]
			if cell == nil {
				continue
			}
			want := "no"
			if p.Supports(k) {
				want = "yes"
			}
			if cell[col] != want {
				t.Errorf("matrix says %s for %s on %s; Supports says %s", cell[col], k, id, want)
			}
		}
	}
}

// Candidate objectives of every kind, in variants that suit different
// programs (with and without MAC rewrite, VLANs, ...). Each pipeliner
// must accept at least one variant of every kind it supports.
func candidates() map[objective.Kind][]objective.Objective {
	mac := objective.MustMAC
	withMAC := func(id string, port uint32) *objective.NextHop {
		return &objective.NextHop{ID: id, Port: port, SrcMAC: mac("00:aa:00:00:00:01"), DstMAC: mac(fmt.Sprintf("00:bb:00:00:00:%02x", port))}
	}
	plain := func(id string, port uint32) *objective.NextHop { return &objective.NextHop{ID: id, Port: port} }
	group := func(id string, nh func(string, uint32) *objective.NextHop, base uint32) *objective.NextHopGroup {
		return &objective.NextHopGroup{ID: id, Members: []objective.Weighted{
			{NextHop: *nh(fmt.Sprint(base), base)}, {NextHop: *nh(fmt.Sprint(base+1), base+1), Weight: 2}}}
	}
	pfx := netip.MustParsePrefix
	return map[objective.Kind][]objective.Objective{
		objective.KindL3Interface: {
			objective.L3Interface{Port: 1, RouterMAC: mac("00:aa:00:00:00:01")},
			objective.L3Interface{Port: 2, VLAN: 10, RouterMAC: mac("00:aa:00:00:00:01")},
		},
		objective.KindBridging: {
			objective.Bridging{MAC: mac("00:00:00:00:01:01"), Port: 3},
			objective.Bridging{VLAN: 10, MAC: mac("00:00:00:00:01:02"), Port: 3},
			objective.Bridging{MAC: mac("00:00:00:00:01:03"), NextHop: plain("10", 4)},
			objective.Bridging{VLAN: 10, MAC: mac("00:00:00:00:01:04"), NextHop: withMAC("11", 4)},
		},
		objective.KindNextHop: {
			*plain("20", 5), *withMAC("21", 5),
			objective.NextHop{ID: "22", Port: 6, SrcMAC: mac("00:aa:00:00:00:01"), DstMAC: mac("00:bb:00:00:00:22"), VLAN: 20},
		},
		objective.KindNextHopGroup: {
			*group("30", plain, 100), *group("31", withMAC, 102),
		},
		objective.KindRoute: {
			objective.Route{Prefix: pfx("10.0.1.0/24"), Target: objective.Target{NextHop: plain("40", 7)}},
			objective.Route{Prefix: pfx("10.0.2.0/24"), Target: objective.Target{NextHop: withMAC("41", 7)}},
			objective.Route{Prefix: pfx("10.0.3.0/24"), Target: objective.Target{Group: group("42", plain, 104)}},
			objective.Route{Prefix: pfx("10.0.4.0/24"), Target: objective.Target{Group: group("43", withMAC, 106)}},
			objective.Route{Prefix: pfx("2001:db8::/32"), Target: objective.Target{NextHop: withMAC("45", 7)}},
			objective.Route{Prefix: pfx("0.0.0.0/0"), Target: objective.Target{NextHop: withMAC("46", 8)}},
		},
		objective.KindACL: {
			objective.ACL{Name: "drop-telnet", Priority: 10, Action: objective.ACLDrop,
				Match: objective.ACLMatch{EtherType: 0x0800, DstIP: pfx("10.9.0.0/16"), IPProto: 6, L4Dst: 23}},
			objective.ACL{Name: "punt-bcast", Priority: 11, Action: objective.ACLPunt,
				Match: objective.ACLMatch{EtherType: 0x0806, DstMAC: mac("ff:ff:ff:ff:ff:ff")}},
			objective.ACL{Name: "permit-ssh", Priority: 12, Action: objective.ACLPermit,
				Match: objective.ACLMatch{EtherType: 0x0800, IPProto: 6, L4Dst: 22}},
			objective.ACL{Name: "redirect-plain", Priority: 13, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: plain("50", 9)},
				Match: objective.ACLMatch{EtherType: 0x0800, SrcIP: pfx("10.8.0.0/16")}},
			objective.ACL{Name: "redirect-mac", Priority: 14, Action: objective.ACLRedirect, Target: &objective.Target{NextHop: withMAC("51", 9)},
				Match: objective.ACLMatch{EtherType: 0x0800, SrcIP: pfx("10.7.0.0/16")}},
		},
		objective.KindMulticast: {
			objective.Multicast{GroupID: 1, Ports: []uint32{1, 2, 3}},
		},
		objective.KindPunt: {
			objective.Punt{Protocol: objective.LLDP},
			objective.Punt{Protocol: objective.ARP},
		},
	}
}

// accepted returns the candidates p translates, by kind; a supported
// kind without any is a test failure, an unsupported kind must refuse
// them all with an UnsupportedError.
func accepted(t *testing.T, p pipeline.Pipeliner) []objective.Objective {
	t.Helper()
	var out []objective.Objective
	cands := candidates()
	for _, k := range objective.Kinds() {
		n := 0
		for _, o := range cands[k] {
			_, err := p.Translate(o)
			switch {
			case err == nil:
				if !p.Supports(k) {
					t.Errorf("%s: translates %s %s but does not support %s", p.Program(), k, o.Key(), k)
				}
				out = append(out, o)
				n++
			case errors.Is(err, objective.ErrUnsupported):
				var ue *objective.UnsupportedError
				if !errors.As(err, &ue) || ue.Program != p.Program() || ue.Kind != k || ue.Key != o.Key() || ue.Reason == "" {
					t.Errorf("%s: %s %s: the error does not name the objective, program and reason: %#v", p.Program(), k, o.Key(), ue)
				}
			default:
				t.Errorf("%s: %s %s: %v (want success or an UnsupportedError)", p.Program(), k, o.Key(), err)
			}
		}
		if p.Supports(k) && n == 0 {
			t.Errorf("%s supports %s but refuses every candidate", p.Program(), k)
		}
	}
	return out
}

// TestEveryPipelinerOnSwitch runs State add → remove for every objective
// kind each registered pipeliner supports, against an emulated switch with
// the program's P4Info: each objective alone, then all together (sharing
// next hops), checking after every write that the switch holds exactly the
// State's entities, validated by the schema.
func TestEveryPipelinerOnSwitch(t *testing.T) {
	for _, pc := range registry(t).All() {
		t.Run(pc.ID, func(t *testing.T) {
			p, err := pc.Pipeliner()
			if err != nil {
				t.Fatal(err)
			}
			objs := accepted(t, p)
			c := startSwitch(t, pc)
			st := pipeline.NewState(p)
			ctx := testCtx(t)
			reported := map[string]bool{} // schema problems, once per entity
			apply := func(what string, o objective.Objective, ups []*p4v1.Update, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s %s %s: %v", what, o.Kind(), o.Key(), err)
				}
				for _, u := range ups {
					if _, err := entity.Describe(pc.Schema, u.GetEntity()); err != nil && !reported[entity.Key(u.GetEntity())] {
						reported[entity.Key(u.GetEntity())] = true
						t.Errorf("%s %s: the schema does not resolve %s: %v", o.Kind(), o.Key(), entity.Format(pc.Schema, u.GetEntity()), err)
					}
				}
				// One write per update: the order is what the switch checks.
				for i, u := range ups {
					if err := c.Write(ctx, []*p4v1.Update{u}); err != nil {
						t.Fatalf("%s %s %s: update %d (%v %s) refused: %v", what, o.Kind(), o.Key(), i, u.GetType(), entity.Format(pc.Schema, u.GetEntity()), err)
					}
				}
				sameSet(t, pc.Schema, readAll(t, c), st.Entities())
			}
			for _, o := range objs {
				ups, err := st.Add(o)
				apply("add", o, ups, err)
				if len(ups) == 0 {
					t.Errorf("%s %s: no entities", o.Kind(), o.Key())
				}
				ups, err = st.Remove(o)
				apply("remove", o, ups, err)
			}
			for _, o := range objs {
				ups, err := st.Add(o)
				apply("add", o, ups, err)
			}
			for i := len(objs) - 1; i >= 0; i-- {
				ups, err := st.Remove(objs[i])
				apply("remove", objs[i], ups, err)
			}
			if n := len(readAll(t, c)); n != 0 {
				t.Errorf("%d entities left on the switch", n)
			}
		})
	}
}

func testCtx(t *testing.T) context.Context { return pipelinetest.Context(t) }

// startSwitch starts an emulated switch with the pipeconf's P4Info and
// returns a primary client.
func startSwitch(t *testing.T, pc *pipeline.Pipeconf) *client.Client {
	t.Helper()
	cfg, err := pc.ForwardingPipelineConfig(pipeline.TargetEmulated)
	if err != nil {
		t.Fatal(err)
	}
	return pipelinetest.Start(t, cfg.GetP4Info(), cfg.GetP4DeviceConfig(), cfg.GetCookie().GetCookie())
}

func readAll(t *testing.T, c *client.Client) []*p4v1.Entity { return pipelinetest.ReadAll(t, c) }

func sameSet(t *testing.T, s *schema.Schema, got, want []*p4v1.Entity) {
	t.Helper()
	pipelinetest.SameSet(t, s, got, want)
}
