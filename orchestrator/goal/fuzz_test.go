package goal_test

import (
	"encoding/json"
	"testing"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/goal"
)

// FuzzParse: a chassis config from anywhere (fabricd's Commit takes one
// from the network) never panics the parser, and one that parses marshals
// to a config that parses to the same bytes again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"version: 1\nroles:\n  forwarder: {pipeconf: fabric-v1model}\n",
		"version: 1\ninterfaces:\n  eth-1/0/1: {enabled: true, description: uplink, mtu: 9000}\n",
		"version: 1\nmodules:\n  \"1\":\n    pipeconf: fabric-v1model\n    objectives:\n      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\n      - route: " + route + "\n",
		`{"version":1,"roles":{"fabric":{"pipeconf":"onos-basic"}}}`,
		"version: 2\n",
		"version: 1\nbogus: 1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := goal.Parse(data)
		if err != nil {
			return
		}
		y, err := cfg.Marshal()
		if err != nil {
			t.Fatalf("a parsed config does not marshal: %v", err)
		}
		again, err := goal.Parse(y)
		if err != nil {
			t.Fatalf("a marshalled config does not parse: %v\n%s", err, y)
		}
		y2, err := again.Marshal()
		if err != nil || string(y2) != string(y) {
			t.Fatalf("round trip changed the config:\n%s\n---\n%s", y, y2)
		}
	})
}

// FuzzGoalJSON: a journaled goal (what a store holds, possibly written by
// an older version or damaged) never panics the decoder, and one that
// decodes encodes to JSON that decodes to the same encoding.
func FuzzGoalJSON(f *testing.F) {
	cfg, err := goal.Parse([]byte("version: 1\ninterfaces:\n  eth-1/0/1: {description: up}\nmodules:\n  \"1\":\n    pipeconf: fabric-v1model\n    objectives:\n      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\n      - route: " + route + "\n"))
	if err != nil {
		f.Fatal(err)
	}
	ports, err := driver.NewPortMap([]driver.Port{{Name: "eth1", ID: 1}, {Name: "eth2", ID: 2}})
	if err != nil {
		f.Fatal(err)
	}
	goals, err := goal.Compile(cfg, []goal.Box{{Name: "leaf1", Module: 1, Role: "forwarder", Ports: ports}})
	if err != nil {
		f.Fatal(err)
	}
	seed, err := json.Marshal(goals["leaf1"])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"box":"b","entities":["AAAA"]}`))
	f.Add([]byte(`{"box":"b","entities":"not base64"}`))
	f.Add([]byte(`{"box":"b","objectives":[{"kind":"route"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var g goal.Goal
		if err := json.Unmarshal(data, &g); err != nil {
			return
		}
		b, err := json.Marshal(&g)
		if err != nil {
			t.Fatalf("a decoded goal does not encode: %v", err)
		}
		var again goal.Goal
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("an encoded goal does not decode: %v\n%s", err, b)
		}
		b2, err := json.Marshal(&again)
		if err != nil || string(b2) != string(b) {
			t.Fatalf("round trip changed the goal:\n%s\n---\n%s", b, b2)
		}
	})
}
