package state

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// bench P4Info: ingress.routing.routes_v4 (LPM on a bit<32>) and the
// set_nexthop(port bit<9>, dmac bit<48>) action.
const (
	benchRoutes     uint32 = 33554433
	benchSetNexthop uint32 = 16777217
)

// benchRoute is the i-th /32 route 10.0.0.0 + i, with a canonical action.
func benchRoute(i int) *p4v1.TableEntry {
	a := uint32(10<<24 + i)
	return te(benchRoutes, 0,
		direct(act(benchSetNexthop, prm(1, byte(i%255+1)), prm(2, 0x02, 0, 0, byte(i>>16), byte(i>>8), byte(i)))),
		lp(1, 32, byte(a>>24), byte(a>>16), byte(a>>8), byte(a)))
}

const benchBatch = 500

// benchUpdates returns n INSERT updates of distinct routes, as a gRPC
// server has them after decoding a WriteRequest.
func benchUpdates(n int) []*p4v1.Update {
	us := make([]*p4v1.Update, n)
	for i := range us {
		us[i] = ins(benchRoute(i))
	}
	return us
}

// maxPool bounds the number of distinct updates built ahead; past it the
// benchmark starts over with an empty device (outside the timer).
const maxPool = 1 << 20

// BenchmarkWriteInsert measures validated inserts into the bench LPM table
// in batches of 500 (one op is one entry).
func BenchmarkWriteInsert(b *testing.B) {
	s := loadSchema(b, "bench")
	pool := benchUpdates(min(b.N, maxPool))
	d := New(s)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		if done > 0 && done%len(pool) == 0 {
			b.StopTimer()
			d = New(s)
			b.StartTimer()
		}
		off := done % len(pool)
		n := min(benchBatch, b.N-done, len(pool)-off)
		if err := d.Write(pool[off:off+n], p4v1.WriteRequest_CONTINUE_ON_ERROR, nil); err != nil {
			b.Fatal(err)
		}
		done += n
	}
}

// BenchmarkBareMapInsert is what a server that does not validate does with
// the same batches: store each table entry in a map keyed by its marshalled
// match.
func BenchmarkBareMapInsert(b *testing.B) {
	pool := benchUpdates(min(b.N, maxPool))
	m := map[string]*p4v1.TableEntry{}
	var buf []byte
	opts := proto.MarshalOptions{Deterministic: true}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		if done > 0 && done%len(pool) == 0 {
			b.StopTimer()
			m = map[string]*p4v1.TableEntry{}
			b.StartTimer()
		}
		off := done % len(pool)
		n := min(benchBatch, b.N-done, len(pool)-off)
		for _, u := range pool[off : off+n] {
			e := u.GetEntity().GetTableEntry()
			buf = buf[:0]
			for _, fm := range e.GetMatch() {
				var err error
				if buf, err = opts.MarshalAppend(buf, fm); err != nil {
					b.Fatal(err)
				}
			}
			m[string(buf)] = e
		}
		done += n
	}
}

// BenchmarkReadAll measures a wildcard read of 100k entries (one op is one
// entry read).
func BenchmarkReadAll(b *testing.B) {
	d := newDev(b, "bench")
	const n = 100000
	us := benchUpdates(n)
	for i := 0; i < n; i += benchBatch {
		if err := d.Write(us[i:i+benchBatch], p4v1.WriteRequest_CONTINUE_ON_ERROR, nil); err != nil {
			b.Fatal(err)
		}
	}
	q := []*p4v1.Entity{ent(&p4v1.TableEntry{})}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += n {
		if err := d.Read(q, func([]*p4v1.Entity) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
