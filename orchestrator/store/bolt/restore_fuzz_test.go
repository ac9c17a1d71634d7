package bolt_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// Restore refuses a damaged snapshot with an error; it never crashes, and
// what it accepts opens and reads.
func FuzzRestore(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	s, err := bolt.Open(ctx, dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{"a", "b/c", "b/d"} {
		if _, err := s.Put(ctx, k, bytes.Repeat([]byte(k), 100)); err != nil {
			f.Fatal(err)
		}
	}
	var snap bytes.Buffer
	if err := s.Snapshot(ctx, &snap); err != nil {
		f.Fatal(err)
	}
	s.Close()
	f.Add(snap.Bytes(), 0, byte(0))
	f.Add(snap.Bytes(), 4096+40, byte(0xff)) // second meta page
	f.Add(snap.Bytes(), 3*4096+20, byte(1))
	f.Fuzz(func(t *testing.T, b []byte, at int, x byte) {
		b = bytes.Clone(b)
		if at >= 0 && at < len(b) {
			b[at] ^= x
		}
		dir := t.TempDir()
		if err := bolt.Restore(ctx, bytes.NewReader(b), dir); err != nil {
			return
		}
		r, err := bolt.Open(ctx, dir)
		if err != nil {
			return
		}
		defer r.Close()
		_, _ = r.Range(ctx, "")
		// Read the history: the watch ends at once, after what it read.
		wctx, cancel := context.WithCancel(ctx)
		ch, err := r.Watch(wctx, "", store.WithStartRevision(1))
		cancel()
		if err == nil {
			for range ch {
			}
		}
	})
}
