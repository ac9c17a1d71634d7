package goal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/goal"
)

// benchGoal compiles one box with an L3 interface and n routes (the goal a
// P5 commit writes to each box).
func benchGoal(tb testing.TB, n int) *goal.Goal {
	tb.Helper()
	var s strings.Builder
	s.WriteString("version: 1\nmodules:\n  \"1\":\n    pipeconf: fabric-v1model\n    objectives:\n")
	s.WriteString("      - l3-interface: {port: 1, router_mac: \"00:aa:00:00:00:01\"}\n")
	for r := range n {
		fmt.Fprintf(&s, "      - route: {prefix: 10.1.%d.%d/32, next_hop: {id: nh%d, port: %d, src_mac: \"00:aa:00:00:00:01\", dst_mac: \"00:bb:00:00:00:01\"}}\n", r/256, r%256, r%2, 2+r%2)
	}
	cfg, err := goal.Parse([]byte(s.String()))
	if err != nil {
		tb.Fatal(err)
	}
	goals, err := goal.Compile(cfg, []goal.Box{{Name: "box01", Module: 1, Role: "forwarder"}})
	if err != nil {
		tb.Fatal(err)
	}
	return goals["box01"]
}

// BenchmarkGoalMarshal encodes the goal of a box with ~100 entities, as
// the coordinator journals every box's goal with each commit.
func BenchmarkGoalMarshal(b *testing.B) {
	g := benchGoal(b, 96)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		data, err := g.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "bytes")
	b.ReportMetric(float64(len(g.Entities)), "entities")
}

// BenchmarkGoalUnmarshal decodes it back (a version read after a restart).
func BenchmarkGoalUnmarshal(b *testing.B) {
	data, err := benchGoal(b, 96).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var g goal.Goal
		if err := g.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
