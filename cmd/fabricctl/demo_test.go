package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// runBounded is run with the command's context bounded by d.
func runBounded(t *testing.T, d time.Duration, args ...string) (stdout string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(ctx)
	return out.String(), err
}

// section returns the lines of the demo's step n, from its heading to the
// next one.
func section(out string, n int) []string {
	var lines []string
	in := false
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "[") {
			in = strings.HasPrefix(line, "["+string(rune('0'+n))+"/")
		}
		if in {
			lines = append(lines, strings.TrimRight(line, "\n"))
		}
	}
	return lines
}

// count counts the lines that match re.
func count(lines []string, re string) int {
	r := regexp.MustCompile(re)
	n := 0
	for _, l := range lines {
		if r.MatchString(l) {
			n++
		}
	}
	return n
}

// TestDemo runs "fabricctl demo" as a user would and reads its story: six
// modules, the commit, eight links, the clocks before and after NTP, and the
// reroute after leaf1's uplink goes down.
func TestDemo(t *testing.T) {
	out, err := runBounded(t, 60*time.Second, "demo")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)

	modules := section(out, 1)
	if n := count(modules, `^\d+\s+(spine|leaf)\d\s+EMU\d+\s+(fabric|forwarder)\s+fabric-v1model\s+\d\s+127\.0\.0\.1:\d+$`); n != 6 {
		t.Errorf("modules table has %d rows, want 6:\n%s", n, strings.Join(modules, "\n"))
	}
	commit := section(out, 2)
	if len(commit) == 0 || !strings.Contains(commit[0], "(version 1, op ") {
		t.Errorf("commit heading: %q", commit)
	}
	if n := count(commit, `^\d+\s+(spine|leaf)\d\s+yes\s+[1-9]\d*\s+[1-9]\d*$`); n != 6 {
		t.Errorf("commit table has %d rows with inserts and gNMI leaves, want 6:\n%s", n, strings.Join(commit, "\n"))
	}
	links := section(out, 3)
	if n := count(links, `^eth-[3-6]/0/[12] <-> eth-[12]/0/[1-4]\s+leaf\d:\d <-> spine\d:\d$`); n != 8 {
		t.Errorf("links table has %d rows, want 8:\n%s", n, strings.Join(links, "\n"))
	}
	before := section(out, 4)
	if n := count(before, `\syes$`); n != 3 {
		t.Errorf("clocks before NTP: %d alarms, want 3 (the skewed leaves):\n%s", n, strings.Join(before, "\n"))
	}
	if count(before, `^4\s+leaf2\s+\+40ms\s+\+(39|40)\.\d{3} ms`) != 1 {
		t.Errorf("clocks before NTP: leaf2 not shown 40ms ahead:\n%s", strings.Join(before, "\n"))
	}
	after := section(out, 5)
	if n := count(after, `^\d+\s+(spine|leaf)\d.*\sno$`); n != 6 {
		t.Errorf("clocks after NTP: %d boxes without alarm, want 6:\n%s", n, strings.Join(after, "\n"))
	}
	reroute := section(out, 6)
	for _, re := range []string{
		`^\+[\d.]+ ms\s+port-down\s+eth-3/0/1 \(leaf1:1\)`,
		`^\+[\d.]+ ms\s+port-down\s+eth-1/0/1 \(spine1:1\)`,
		`^\+[\d.]+ ms\s+link-lost\s+eth-`,
		`^\+[\d.]+ ms\s+committed\s+version 2: .*port-down eth-3/0/1`,
		`^leaf1\s+spines\s+3\s+eth-3/0/1, eth-3/0/2\s+eth-3/0/2\s+rerouted$`,
		`^leaf2\s+spines\s+3\s+eth-4/0/1, eth-4/0/2\s+eth-4/0/1, eth-4/0/2\s+unchanged$`,
		`^3\s+leaf1\s+\d+\s+\d+\s+\d+\s+\d+$`,
	} {
		if count(reroute, re) != 1 {
			t.Errorf("reroute section lacks a line matching %s:\n%s", re, strings.Join(reroute, "\n"))
		}
	}
	if count(reroute, `^\d+\s+leaf[234]\s+\d+`) != 0 {
		t.Errorf("the reroute changed leaves other than leaf1:\n%s", strings.Join(reroute, "\n"))
	}
	if !regexp.MustCompile(`(?m)^Done in [\d.]+m?s\.`).MatchString(out) {
		t.Errorf("no total time at the end:\n%s", out)
	}
}

// TestDemoJSON: with -o json the demo prints one document with every
// section, and nothing else.
func TestDemoJSON(t *testing.T) {
	out, err := runBounded(t, 60*time.Second, "demo", "-o", "json", "--spines", "2", "--leaves", "3")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	var rep struct {
		Topology string       `json:"topology"`
		Modules  []demoModule `json:"modules"`
		Commit   demoCommit   `json:"commit"`
		Links    []demoLink   `json:"links"`
		Clocks   []demoClock  `json:"clocks"`
		After    []demoClock  `json:"clocks_after_ntp"`
		Reroute  demoReroute  `json:"reroute"`
		Elapsed  int64        `json:"elapsed_ms"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
	if len(rep.Modules) != 5 || len(rep.Commit.Boxes) != 5 || rep.Commit.Version != 1 || rep.Commit.Op == "" {
		t.Errorf("modules %d, commit %+v; want 5 modules committed as version 1", len(rep.Modules), rep.Commit)
	}
	if len(rep.Links) != 6 {
		t.Errorf("links = %v, want 6", rep.Links)
	}
	alarms := 0
	for _, c := range rep.Clocks {
		if c.Alarm {
			alarms++
		}
	}
	if alarms != 2 || len(rep.After) != 5 { // leaves 2 and 3 are skewed
		t.Errorf("clocks before NTP: %d alarms, want 2; %d clocks after", alarms, len(rep.After))
	}
	for _, c := range rep.After {
		if c.Alarm {
			t.Errorf("clock of %s after NTP: alarm raised", c.Name)
		}
	}
	r := rep.Reroute
	if r.Version != 2 || r.Interface != "eth-3/0/1" || !strings.Contains(r.Reason, "port-down eth-3/0/1") {
		t.Errorf("reroute %+v: want version 2 for eth-3/0/1", r)
	}
	var kinds []string
	for _, e := range r.Events {
		kinds = append(kinds, e.Kind)
	}
	for _, k := range []string{"port-down", "link-lost", "committed"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("reroute events %v lack %s", kinds, k)
		}
	}
	changed := 0
	for _, g := range r.Groups {
		if g.Changed {
			changed++
			if g.Box != "leaf1" || !slices.Equal(g.After, []string{"eth-3/0/2"}) {
				t.Errorf("group %+v changed; only leaf1's should, to eth-3/0/2", g)
			}
		}
	}
	if changed != 1 || len(r.Diff) != 1 || r.Diff[0].Name != "leaf1" {
		t.Errorf("groups %+v, diff %+v: want leaf1 alone rerouted", r.Groups, r.Diff)
	}
	if rep.Elapsed <= 0 {
		t.Errorf("elapsed_ms = %d", rep.Elapsed)
	}
}

// TestDemoFlags: flags out of range are refused before anything starts,
// and a timeout too short for the demo ends it with an error, not a hang.
func TestDemoFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"demo", "--spines", "1"}, "--spines 1: want 2 to 8"},
		{[]string{"demo", "--leaves", "40"}, "--leaves 40: want 2 to 32"},
		{[]string{"demo", "--timeout", "0s"}, "--timeout 0s: want a positive duration"},
		{[]string{"demo", "extra"}, `unknown command "extra"`},
		{[]string{"demo", "--timeout", "50ms"}, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := runBounded(t, 30*time.Second, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// ethPorts names port n "ethN", as the emulated switches do.
type ethPorts struct{}

func (ethPorts) Name(id uint32) (string, bool) {
	return "eth" + strconv.FormatUint(uint64(id), 10), true
}

// TestDemoConfig compiles the demo's config for a 2×4 leaf-spine: every
// box gets fabric-v1model; a leaf's routes to the other leaves share one
// ECMP group over its two uplinks, and a spine routes each leaf's subnet
// out of the port to that leaf.
func TestDemoConfig(t *testing.T) {
	var boxes []inventory.Box
	var gboxes []goal.Box
	for i, name := range []string{"spine1", "spine2", "leaf1", "leaf2", "leaf3", "leaf4"} {
		role := inventory.RoleForwarder
		if strings.HasPrefix(name, "spine") {
			role = inventory.RoleFabric
		}
		b := inventory.Box{Serial: name, Module: uint32(i + 1), Spec: inventory.BoxSpec{Name: name, Role: role}}
		boxes = append(boxes, b)
		gboxes = append(gboxes, goal.Box{Name: name, Module: int(b.Module), Role: string(role), Ports: ethPorts{}})
	}
	goals, err := goal.Compile(demoConfig(boxes, 2), gboxes)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		g := goals[b.Serial]
		if g == nil || g.Pipeconf != "fabric-v1model" || len(g.Entities) == 0 {
			t.Fatalf("goal of %s: %+v", b.Serial, g)
		}
	}
	leaf1 := demoGroups(goals["leaf1"])
	if len(leaf1) != 1 || leaf1["spines"].routes != 3 || len(leaf1["spines"].members) != 2 ||
		leaf1["spines"].members[0].Port != 1 || leaf1["spines"].members[1].Port != 2 {
		t.Errorf("groups of leaf1 = %+v, want spines over ports 1 and 2 for 3 routes", leaf1)
	}
	routes := map[string]uint32{} // prefix → port, on spine2
	for _, ob := range goals["spine2"].Objectives {
		if r, ok := objective.Value(ob).(objective.Route); ok && r.NextHop != nil {
			routes[r.Prefix.String()] = r.NextHop.Port
		}
	}
	want := map[string]uint32{"10.0.1.0/24": 1, "10.0.2.0/24": 2, "10.0.3.0/24": 3, "10.0.4.0/24": 4}
	if len(routes) != len(want) {
		t.Errorf("spine2 routes %v, want %v", routes, want)
	}
	for p, port := range want {
		if routes[p] != port {
			t.Errorf("spine2 routes %s to port %d, want %d", p, routes[p], port)
		}
	}
}
