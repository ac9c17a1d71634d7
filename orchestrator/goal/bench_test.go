package goal_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

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

// TestMarshalJSONEncoded: MarshalJSONEncoded writes what MarshalJSON
// writes (the entities as proto.Marshal encodes a p4.v1.ReadResponse of
// them, as journals have held them), and gives each entity's encoding
// inside it.
func TestMarshalJSONEncoded(t *testing.T) {
	for _, n := range []int{0, 1, 96} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := benchGoal(t, n)
			data, enc, err := g.MarshalJSONEncoded()
			if err != nil {
				t.Fatal(err)
			}
			plain, err := g.MarshalJSON()
			if err != nil || !bytes.Equal(data, plain) {
				t.Fatalf("MarshalJSONEncoded differs from MarshalJSON (%v)", err)
			}
			ents, err := proto.Marshal(&p4v1.ReadResponse{Entities: g.Entities})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(ents))) {
				t.Error("the entities are not proto.Marshal's encoding of a ReadResponse")
			}
			for i, e := range g.Entities {
				b := enc(e)
				want, err := proto.Marshal(e)
				if err != nil || !bytes.Equal(b, want) {
					t.Fatalf("entity %d: encoding %x, want %x (%v)", i, b, want, err)
				}
			}
			if enc(&p4v1.Entity{}) != nil {
				t.Error("an entity not of the goal has an encoding")
			}
			var back goal.Goal
			if err := back.UnmarshalJSON(data); err != nil || len(back.Entities) != len(g.Entities) {
				t.Fatalf("decodes to %d entities, %v", len(back.Entities), err)
			}
		})
	}
}
