package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/internal/p4infos"
	"sigs.k8s.io/yaml"
)

const testObjectives = `
- route: {prefix: 10.0.1.0/24, next_hop: {id: "1", port: 1}}
- route: {prefix: 10.0.2.0/24, next_hop: {id: "1", port: 1}}
- punt: {protocol: lldp}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// basicFolder writes a pipeconf folder named like the built-in basic one.
func basicFolder(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := p4infos.Text("onos-basic")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p4info.txt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPipelineCommands(t *testing.T) {
	objs := writeFile(t, "objs.yaml", testObjectives)
	unsupported := writeFile(t, "l3.yaml", `- l3-interface: {port: 1, router_mac: "00:aa:00:00:00:01"}`)
	conflict := writeFile(t, "conflict.yaml", `
- route: {prefix: 10.0.1.0/24, next_hop: {id: "1", port: 1}}
- route: {prefix: 10.0.2.0/24, next_hop: {id: "1", port: 2}}`)
	typo := writeFile(t, "typo.yaml", `- route: {prefix: 10.0.1.0/24, nexthop: {id: "1", port: 1}}`)
	invalid := writeFile(t, "invalid.yaml", `- route: {prefix: 10.0.1.0/24}`)
	folder := basicFolder(t, "onos-basic")
	other := basicFolder(t, "my-build")
	tests := []struct {
		name       string
		args       []string
		wantErr    string
		wantStdout []string
		notStdout  []string
	}{
		{name: "list", args: []string{"pipeline", "list"}, wantStdout: []string{
			"ID                ARCH      TABLES   TARGETS         CPU PORT   OBJECTIVES\n",
			"onos-basic        v1model   3        bmv2,emulated   255        bridging,route,next-hop,next-hop-group,acl,punt\n",
			"sai-middleblock   v1model   25       emulated",
			"fabric-v1model",
		}},
		{name: "show a built-in", args: []string{"pipeline", "show", "onos-basic"}, wantStdout: []string{
			"TABLE                                         SIZE   MATCH                                      ACTIONS\n",
			"ingress.table0_control.table0                 1024   standard_metadata.ingress_port ternary/9   table0_control.set_egress_port\n",
			"hdr.ipv4.dst_addr ternary/32",
			"ingress.wcmp_control.wcmp_table               1024   local_metadata.next_hop_id exact/16        wcmp_control.set_egress_port\n",
			"NoAction (default only)\n",
			"(via ingress.wcmp_control.wcmp_selector)\n",
		}},
		{name: "show SDN strings", args: []string{"pipeline", "show", "sai-middleblock"}, wantStdout: []string{"vrf_id exact/string", "ipv4_dst lpm/32"}},
		{name: "show a folder", args: []string{"pipeline", "show", other}, wantStdout: []string{"ingress.table0_control.table0"}},
		{name: "show unknown", args: []string{"pipeline", "show", "tofino-magic"}, wantErr: `"tofino-magic" is neither a built-in pipeconf (fabric-v1model, onos-basic, sai-middleblock) nor a folder`},
		{name: "show needs an argument", args: []string{"pipeline", "show"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "translate", args: []string{"pipeline", "translate", "onos-basic", objs}, wantStdout: []string{
			"OBJECTIVE                       ENTITY                  NAME                                 MATCH",
			"route vrf=,prefix=10.0.1.0/24   action_profile_member   ingress.wcmp_control.wcmp_selector   member=",
			"ingress.wcmp_control.set_egress_port(port=1)\n",
			"table_entry             ingress.wcmp_control.wcmp_table      local_metadata.next_hop_id=1",
			"hdr.ethernet.ether_type=0x0800&&&0xffff, hdr.ipv4.dst_addr=10.0.2.0&&&255.255.255.0   1024       ingress.table0_control.set_next_hop_id(next_hop_id=1)\n",
			"punt ether_type=0x88cc          table_entry             ingress.table0_control.table0        hdr.ethernet.ether_type=0x88cc&&&0xffff",
			"30000      ingress.table0_control.send_to_cpu()\n",
		}},
		{name: "translate unique", args: []string{"pipeline", "translate", "--unique", "onos-basic", objs}, wantStdout: []string{
			"ENTITY                  NAME                                 MATCH",
		}, notStdout: []string{"OBJECTIVE"}},
		{name: "translate on fabric.p4", args: []string{"pipeline", "translate", "fabric-v1model", objs}, wantStdout: []string{"FabricIngress.forwarding.routing_v4", "FabricIngress.acl.acl"}},
		{name: "translate with a folder named like a built-in", args: []string{"pipeline", "translate", folder, objs}, wantStdout: []string{"ingress.table0_control.table0"}},
		{name: "translate with a folder and --pipeliner", args: []string{"pipeline", "translate", other, objs, "--pipeliner", "onos-basic"}, wantStdout: []string{"ingress.table0_control.table0"}},
		{name: "translate with a folder without pipeliner", args: []string{"pipeline", "translate", other, objs}, wantErr: `pipeconf "my-build": pipeconf has no pipeliner`},
		{name: "translate with an unknown --pipeliner", args: []string{"pipeline", "translate", other, objs, "--pipeliner", "nope"}, wantErr: "--pipeliner: pipeline: unknown pipeconf"},
		{name: "unsupported objective", args: []string{"pipeline", "translate", "onos-basic", unsupported}, wantErr: "l3-interface port=1,vlan=0: program onos-basic cannot express it: basic.p4 has no router MAC"},
		{name: "conflicting objectives", args: []string{"pipeline", "translate", "onos-basic", conflict}, wantErr: "route vrf=,prefix=10.0.2.0/24 conflicts with route vrf=,prefix=10.0.1.0/24"},
		{name: "typo in the file", args: []string{"pipeline", "translate", "onos-basic", typo}, wantErr: `typo.yaml: objectives: item 0 (route): json: unknown field "nexthop"`},
		{name: "invalid objective", args: []string{"pipeline", "translate", "onos-basic", invalid}, wantErr: "invalid.yaml: objectives: item 0: route 10.0.1.0/24: no next_hop or group"},
		{name: "missing file", args: []string{"pipeline", "translate", "onos-basic", filepath.Join(t.TempDir(), "none.yaml")}, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := run(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, stdout)
				}
			}
			for _, bad := range tt.notStdout {
				if strings.Contains(stdout, bad) {
					t.Errorf("stdout contains %q:\n%s", bad, stdout)
				}
			}
		})
	}
}

func TestPipelineJSONAndYAML(t *testing.T) {
	objs := writeFile(t, "objs.yaml", testObjectives)

	out, _, err := run(t, "pipeline", "list", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []pipeconfRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 || rows[1].ID != "onos-basic" || !rows[1].Pipeliner || rows[1].Tables != 3 || rows[2].CPUPort != 0 {
		t.Errorf("rows = %+v", rows)
	}

	out, _, err = run(t, "pipeline", "show", "onos-basic", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var view pipeconfView
	if err := yaml.Unmarshal([]byte(out), &view); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if view.ID != "onos-basic" || len(view.Tables) != 3 || view.Tables[0].Match[5].Name != "hdr.ipv4.dst_addr" || view.Tables[0].Match[5].Bitwidth != 32 ||
		view.Tables[0].Match[5].Kind != "ternary" || view.Tables[2].ActionProfile != "ingress.wcmp_control.wcmp_selector" {
		t.Errorf("view = %+v", view)
	}

	out, _, err = run(t, "pipeline", "translate", "onos-basic", objs, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var tr translation
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if tr.Pipeconf != "onos-basic" || len(tr.Objectives) != 3 || len(tr.Objectives[0].Entities) != 3 || len(tr.Objectives[2].Entities) != 1 {
		t.Fatalf("translation = %+v", tr)
	}
	e := tr.Objectives[2].Entities[0]
	if e.Kind != "table_entry" || e.Name != "ingress.table0_control.table0" || e.Priority != 30000 || e.Action.Name != "ingress.table0_control.send_to_cpu" {
		t.Errorf("punt entity = %+v", e)
	}

	out, _, err = run(t, "pipeline", "translate", "onos-basic", objs, "--unique", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	tr = translation{}
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatal(err)
	}
	// The shared next hop once: member, wcmp entry, two routes, the punt.
	if len(tr.Entities) != 5 || tr.Entities[0].Kind != "action_profile_member" {
		t.Errorf("unique entities = %+v", tr.Entities)
	}
}

func TestPipelineTranslateStdin(t *testing.T) {
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs([]string{"pipeline", "translate", "onos-basic", "-"})
	root.SetIn(strings.NewReader(`[{"punt": {"ether_type": 2054}}]`))
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "hdr.ethernet.ether_type=0x0806&&&0xffff") {
		t.Errorf("stdout:\n%s", out.String())
	}
}

func TestPipelineCompletion(t *testing.T) {
	out, _, err := run(t, "__complete", "pipeline", "show", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "fabric-v1model\nonos-basic\nsai-middleblock\n") {
		t.Errorf("completion:\n%s", out)
	}
}
