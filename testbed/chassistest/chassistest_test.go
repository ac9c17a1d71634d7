package chassistest_test

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/testbed/chassistest"
	"github.com/p4fabric/fabric/testbed/pipelinetest"
)

// readBack fails unless every switch holds exactly its goal in want (keyed
// by serial), read straight from the switch and not through the
// orchestrator: the P4 entities over a P4Runtime client of its own, and the
// interface description the config gives port 1 from the switch's gNMI
// configuration.
func readBack(t *testing.T, c *chassistest.Chassis, want map[string]*goal.Goal, v int) {
	t.Helper()
	ctx := chassistest.Context(t, chassistest.Timeout)
	for _, sw := range c.Switches() {
		g := want[sw.Identity().Serial]
		if g == nil || len(g.Entities) == 0 {
			t.Fatalf("%s: goal %v, want entities", sw.Name(), g)
		}
		// A controller of another role does not contend for the
		// orchestrator's mastership (P4Runtime spec, "Client Arbitration
		// and Controller Replication"), and reads need none ("Read RPC").
		p4, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()),
			client.WithRole("chassistest-reader", nil))
		if err != nil {
			t.Fatalf("%s: %v", sw.Name(), err)
		}
		got := pipelinetest.ReadAll(t, p4)
		_ = p4.Close()
		pipelinetest.SameSet(t, sw.P4Runtime().Schema(), got, g.Entities)
		if d := sw.GNMI().Config().Interfaces[0].Description; d != fmt.Sprintf("v%d", v) {
			t.Errorf("%s: eth1 description %q, want v%d", sw.Name(), d, v)
		}
	}
}

// TestChassis: the fixture on its own, through the library: modules 1..4
// with their roles, ConfigYAML(1, 0) committed, on every switch, and read
// back as the current config.
func TestChassis(t *testing.T) {
	c := chassistest.Start(t)
	o := c.Open(t)
	ctx := chassistest.Context(t, chassistest.Timeout)
	boxes := c.RegisterAll(t, o)
	wantRoles := []inventory.Role{inventory.RoleFabric, inventory.RoleFabric, inventory.RoleForwarder, inventory.RoleForwarder}
	if len(boxes) != len(wantRoles) {
		t.Fatalf("%d boxes registered, want %d", len(boxes), len(wantRoles))
	}
	for i, b := range boxes {
		if b.Spec.Role != wantRoles[i] || !o.Connected(b.Serial) {
			t.Fatalf("module %d: role %s connected %v, want %s and connected", b.Module, b.Spec.Role, o.Connected(b.Serial), wantRoles[i])
		}
	}

	cfg, err := goal.Parse(chassistest.ConfigYAML(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	res, err := o.Commit(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 1 || len(res.Changes) != 4 {
		t.Fatalf("commit: version %d with changes on %d boxes, want version 1 on 4", res.Version, len(res.Changes))
	}
	goals, err := o.Compile(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, c, goals, 1)
	got, n, err := o.Config(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("current config: version %d, %v; want version 1", n, err)
	}
	back, err := o.Compile(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	for serial, g := range goals {
		if b := back[serial]; b == nil || b.Pipeconf != g.Pipeconf || len(b.Entities) != len(g.Entities) {
			t.Fatalf("box %s: the current config compiles to %v, the committed one to %v", serial, b, g)
		}
	}
}

// TestSized: another size and host ports: the config follows the
// chassis (a spine with three leaves, leaves with a host port), extra
// routes included.
func TestSized(t *testing.T) {
	c := chassistest.Start(t, chassistest.WithSize(1, 3), chassistest.WithHostPorts(1))
	o := c.Open(t)
	ctx := chassistest.Context(t, chassistest.Timeout)
	boxes := c.RegisterAll(t, o)
	if len(boxes) != 4 || boxes[0].Spec.Role != inventory.RoleFabric || boxes[3].Spec.Name != "leaf3" {
		t.Fatalf("boxes %+v, want spine1 then leaf1..leaf3", boxes)
	}
	cfg, err := goal.Parse(c.ConfigYAML(2, 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Commit(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	goals, err := o.Compile(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, c, goals, 2)
}

// TestConfigYAML: versions differ, the same version is the same bytes, and
// routes adds routes to every module.
func TestConfigYAML(t *testing.T) {
	if !bytes.Equal(chassistest.ConfigYAML(3, 2), chassistest.ConfigYAML(3, 2)) {
		t.Fatal("ConfigYAML is not deterministic")
	}
	if bytes.Equal(chassistest.ConfigYAML(1, 0), chassistest.ConfigYAML(2, 0)) {
		t.Fatal("versions 1 and 2 are the same config")
	}
	for _, tc := range []struct{ routes, want int }{{0, 3 * 4}, {97, 100 * 4}} {
		cfg := chassistest.ConfigYAML(1, tc.routes)
		if n := bytes.Count(cfg, []byte("- route:")); n != tc.want {
			t.Errorf("ConfigYAML(1, %d): %d routes, want %d", tc.routes, n, tc.want)
		}
		if _, err := goal.Parse(cfg); err != nil {
			t.Errorf("ConfigYAML(1, %d): %v", tc.routes, err)
		}
	}
}

// TestAPI: the same through the northbound API: tokens, registration,
// a commit watched to its end, a backup.
func TestAPI(t *testing.T) {
	c := chassistest.Start(t)
	o := c.Open(t)
	api := c.Serve(t, o)
	ctx := chassistest.Context(t, chassistest.Timeout)
	admin := api.Dial(t, chassistest.AdminToken)
	reader := api.Dial(t, chassistest.ReadToken)

	boxes := c.RegisterAllAPI(t, admin)
	if len(boxes) != 4 || boxes[0].Role != string(inventory.RoleFabric) || boxes[2].Role != string(inventory.RoleForwarder) {
		t.Fatalf("boxes %v", boxes)
	}
	if _, err := reader.Commit(ctx, &nbpb.CommitRequest{Config: chassistest.ConfigYAML(1, 0)}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("commit with the read-only token: %v, want PermissionDenied", err)
	}
	if _, err := api.Dial(t, "").ListBoxes(ctx, &nbpb.ListBoxesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("call without a token: %v, want Unauthenticated", err)
	}
	op, err := admin.Commit(ctx, &nbpb.CommitRequest{Config: chassistest.ConfigYAML(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	end, states := chassistest.Watch(t, ctx, reader, op.Id)
	if end.State != nbpb.Operation_COMMITTED || end.Version != 1 || len(states) < 2 {
		t.Fatalf("commit ended %v after %d states, want COMMITTED version 1 after RUNNING", end, len(states))
	}
	goals, err := o.Compile(ctx, mustParse(t, chassistest.ConfigYAML(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, c, goals, 1)
	if snap := chassistest.Backup(t, ctx, admin); len(snap) == 0 {
		t.Fatal("empty backup")
	}
	// CAFile is what fabricctl's --tls-ca reads: it must verify the server.
	tlsCfg, err := certs.LoadClientConfig(api.CAFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := northbound.Dial(ctx, api.Addr, northbound.WithTLS(tlsCfg), northbound.WithToken(chassistest.ReadToken))
	if err != nil {
		t.Fatal(err)
	}
	defer fromFile.Close()
	if h, err := fromFile.History(ctx, &nbpb.HistoryRequest{}); err != nil || len(h.Versions) != 1 {
		t.Fatalf("history through the CA file: %v, %v", h, err)
	}
}

func mustParse(t *testing.T, y []byte) *goal.Config {
	t.Helper()
	cfg, err := goal.Parse(y)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
