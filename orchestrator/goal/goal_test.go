package goal_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/pipeline/diff"
)

func boxes(t *testing.T) []goal.Box {
	t.Helper()
	ports, err := driver.NewPortMap([]driver.Port{{Name: "eth1", ID: 1}, {Name: "eth2", ID: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return []goal.Box{
		{Name: "leaf1", Module: 1, Role: "forwarder", Ports: ports},
		{Name: "leaf2", Module: 2, Role: "forwarder", Ports: ports},
		{Name: "ctl", Module: 3, Role: "controller", Ports: ports},
	}
}

const route = `{prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 2, src_mac: "00:aa:00:00:00:01", dst_mac: "00:bb:00:00:00:01"}}`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no-version", "roles: {}", "version 0"},
		{"future-version", "version: 2", "version 2"},
		{"unknown-field", "version: 1\nintefaces: {}", "intefaces"},
		{"unknown-kind", "version: 1\nroles:\n  r:\n    objectives:\n      - rout: {}", "rout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := goal.Parse([]byte(tt.yaml))
			if !errors.Is(err, goal.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want are substrings of the error: box and item.
		want []string
	}{
		{"unknown-pipeconf", "version: 1\nroles:\n  forwarder:\n    pipeconf: nope\n    objectives:\n      - route: " + route,
			[]string{"box leaf1", "box leaf2", "nope"}},
		{"objectives-without-pipeconf", "version: 1\nmodules:\n  \"2\":\n    objectives:\n      - route: " + route,
			[]string{"box leaf2", "no pipeconf"}},
		{"unsupported-objective", "version: 1\nmodules:\n  \"1\":\n    pipeconf: onos-basic\n    objectives:\n      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}",
			[]string{"box leaf1", "l3-interface"}},
		{"conflicting-next-hops", "version: 1\nroles:\n  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n      - route: " + route +
			"\n      - route: {prefix: 10.0.2.0/24, next_hop: {id: nh1, port: 1, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:00:01\"}}",
			[]string{"box leaf1", "route", "10.0.2.0/24"}},
		{"unknown-module", "version: 1\nmodules:\n  \"9\": {pipeconf: fabric-v1model}", []string{"module 9"}},
		{"interface-bad-name", "version: 1\ninterfaces:\n  eth1: {mtu: 1500}", []string{"interface eth1"}},
		{"interface-unknown-module", "version: 1\ninterfaces:\n  eth-7/0/1: {mtu: 1500}", []string{"eth-7/0/1", "module 7"}},
		{"interface-unknown-port", "version: 1\ninterfaces:\n  eth-2/0/9: {mtu: 1500}", []string{"box leaf2", "eth-2/0/9", "port 9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := goal.Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			goals, err := goal.Compile(cfg, boxes(t))
			if err == nil {
				t.Fatalf("Compile = %v, want an error", goals)
			}
			var ge *goal.Error
			if !errors.As(err, &ge) {
				t.Errorf("error %v is not a *goal.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCompile(t *testing.T) {
	cfg, err := goal.Parse([]byte("version: 1\n" +
		"interfaces:\n  eth-1/0/1: {enabled: false}\n  eth-2/0/2: {description: x, mtu: 9000}\n" +
		"roles:\n  forwarder:\n    pipeconf: fabric-v1model\n    objectives:\n      - route: " + route + "\n" +
		"modules:\n  \"2\":\n    pipeconf: onos-basic\n    objectives:\n" +
		"      - route: {prefix: 10.0.1.0/24, next_hop: {id: nh1, port: 1}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	goals, err := goal.Compile(cfg, boxes(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		box, pipeconf string
		objectives    int
		leaves        []string
	}{
		{"leaf1", "fabric-v1model", 1, []string{"/interfaces/interface[name=eth1]/config/enabled"}},
		// The module's pipeconf overrides the role's; its route replaces
		// the role's (same key).
		{"leaf2", "onos-basic", 1, []string{"/interfaces/interface[name=eth2]/config/description", "/interfaces/interface[name=eth2]/config/mtu"}},
		{"ctl", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.box, func(t *testing.T) {
			g := goals[tt.box]
			if g == nil || g.Box != tt.box || g.Pipeconf != tt.pipeconf || len(g.Objectives) != tt.objectives || (tt.objectives > 0) != (len(g.Entities) > 0) {
				t.Fatalf("goal = %+v", g)
			}
			var paths []string
			for _, l := range g.Config {
				paths = append(paths, l.Path)
			}
			if strings.Join(paths, " ") != strings.Join(tt.leaves, " ") {
				t.Errorf("leaves = %v, want %v", paths, tt.leaves)
			}
			// The goal survives the journal (JSON) unchanged.
			data, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			var back goal.Goal
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if plan, err := diff.Compute(g.Entities, back.Entities); err != nil || !plan.Empty() || back.Pipeconf != g.Pipeconf || len(back.Config) != len(g.Config) {
				t.Errorf("round trip: %+v, %v", back, err)
			}
		})
	}
}

// TestGoalJSONFormats: a goal reads back whole from what MarshalJSON
// writes (the entities as one protobuf blob) and from what earlier
// versions wrote (a base64 string per entity), and MarshalJSON's object is
// what encoding/json makes of the same fields.
func TestGoalJSONFormats(t *testing.T) {
	cfg, err := goal.Parse([]byte("version: 1\n" +
		"interfaces:\n  eth-1/0/1: {enabled: false, description: \"<uplink> & \\\"x\\\" é\"}\n" +
		"modules:\n  \"1\":\n    pipeconf: fabric-v1model\n    objectives:\n      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\n      - route: " + route + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	goals, err := goal.Compile(cfg, boxes(t))
	if err != nil {
		t.Fatal(err)
	}
	g := goals["leaf1"]
	g.Box = "leaf1 \"<é>\"" // a name with characters JSON escapes
	if len(g.Entities) < 2 || len(g.Config) != 2 || len(g.Objectives) != 2 {
		t.Fatalf("goal = %+v; want entities, 2 leaves and 2 objectives", g)
	}
	// The form earlier versions wrote: every field through encoding/json,
	// each entity a base64 string of its binary protobuf.
	var old struct {
		Box        string      `json:"box"`
		Pipeconf   string      `json:"pipeconf,omitempty"`
		Objectives any         `json:"objectives,omitempty"`
		Entities   [][]byte    `json:"entities,omitempty"`
		Config     []goal.Leaf `json:"config,omitempty"`
	}
	old.Box, old.Pipeconf, old.Objectives, old.Config = g.Box, g.Pipeconf, g.Objectives, g.Config
	for _, e := range g.Entities {
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		old.Entities = append(old.Entities, b)
	}
	oldJSON, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	newJSON, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(newJSON) {
		t.Fatalf("MarshalJSON wrote invalid JSON: %s", newJSON)
	}
	// Apart from the entities, the same bytes as encoding/json's.
	var o, n map[string]json.RawMessage
	if err := json.Unmarshal(oldJSON, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(newJSON, &n); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"box", "pipeconf", "objectives", "config"} {
		if string(o[k]) != string(n[k]) {
			t.Errorf("%s = %s, want %s", k, n[k], o[k])
		}
	}
	if len(n["entities"]) == 0 || n["entities"][0] != '"' {
		t.Errorf("entities = %.40s..., want one base64 string", n["entities"])
	}
	for name, data := range map[string][]byte{"current": newJSON, "older": oldJSON} {
		t.Run(name, func(t *testing.T) {
			var back goal.Goal
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if back.Box != g.Box || back.Pipeconf != g.Pipeconf || len(back.Objectives) != len(g.Objectives) || len(back.Config) != len(g.Config) {
				t.Errorf("read back %+v, want %+v", back, g)
			}
			if len(back.Entities) != len(g.Entities) {
				t.Fatalf("%d entities read back, want %d", len(back.Entities), len(g.Entities))
			}
			for i := range g.Entities {
				if !proto.Equal(back.Entities[i], g.Entities[i]) {
					t.Errorf("entity %d = %v, want %v", i, back.Entities[i], g.Entities[i])
				}
			}
		})
	}
	// A goal without entities, objectives or leaves; and corrupt entities
	// are errors naming the box, not a goal without entities.
	empty, err := (&goal.Goal{Box: "ctl"}).MarshalJSON()
	if err != nil || string(empty) != `{"box":"ctl"}` {
		t.Errorf("empty goal = %s, %v", empty, err)
	}
	for _, bad := range []string{`{"box":"b","entities":"!!"}`, `{"box":"b","entities":"AAEC"}`, `{"box":"b","entities":["AAEC"]}`, `{"box":"b","entities":3}`} {
		var back goal.Goal
		if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "goal of b") {
			t.Errorf("Unmarshal(%s) = %v, want an error naming the goal", bad, err)
		}
	}
}
