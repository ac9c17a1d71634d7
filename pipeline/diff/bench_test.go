package diff_test

import (
	"testing"

	"github.com/cespare/xxhash/v2"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4bench"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline/diff"
)

// Benchmark of issue 5: the diff of 100,000 desired against 100,000
// actual route entries with 1% differences (a third modified, a third
// only desired, a third only actual), against one pass that only hashes
// every entry of both sets — the entity.Key each entry needs anyway
// (Keys) or a hash of its whole encoding (Contents). Goal: the diff
// within 3× the Keys pass.
//
//	go test -run '^$' -bench Diff100k -benchmem ./pipeline/diff/

const benchN = 100_000

func benchSets() (desired, actual []*p4v1.Entity) {
	desired = make([]*p4v1.Entity, benchN)
	actual = make([]*p4v1.Entity, benchN)
	for i := range benchN {
		desired[i] = entity.Wrap(p4bench.RouteEntry(i))
		switch i % 300 {
		case 0: // modified: another port
			te := p4bench.RouteEntry(i)
			te.GetAction().GetAction().GetParams()[0].Value = []byte{0x1f}
			actual[i] = entity.Wrap(te)
		case 100: // only desired (actual has another route instead)
			actual[i] = entity.Wrap(p4bench.RouteEntry(benchN + i))
		case 200: // only actual... and only desired: a route replaced
			actual[i] = entity.Wrap(p4bench.RouteEntry(2*benchN + i))
		default:
			actual[i] = entity.Wrap(p4bench.RouteEntry(i)) // equal, built separately
		}
	}
	return desired, actual
}

var benchKeySink string
var benchHashSink uint64

func BenchmarkDiff100k(b *testing.B) {
	desired, actual := benchSets()
	b.Run("Diff", func(b *testing.B) {
		b.ReportAllocs()
		var plan *diff.Plan
		for b.Loop() {
			var err error
			plan, err = diff.Compute(desired, actual)
			if err != nil {
				b.Fatal(err)
			}
		}
		if len(plan.Modifies) != 334 || len(plan.Inserts) != 666 || len(plan.Deletes) != 666 {
			b.Fatalf("plan: %d inserts, %d modifies, %d deletes", len(plan.Inserts), len(plan.Modifies), len(plan.Deletes))
		}
	})
	b.Run("Keys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, set := range [2][]*p4v1.Entity{desired, actual} {
				for _, e := range set {
					benchKeySink = entity.Key(e)
				}
			}
		}
	})
	b.Run("Contents", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		opts := proto.MarshalOptions{Deterministic: true}
		for b.Loop() {
			for _, set := range [2][]*p4v1.Entity{desired, actual} {
				for _, e := range set {
					buf, _ = opts.MarshalAppend(buf[:0], e)
					benchHashSink = xxhash.Sum64(buf)
				}
			}
		}
	})
}
