package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// Open a store in a data directory, write, back it up and restore the
// backup into another directory.
func Example() {
	ctx := context.Background()
	base, err := os.MkdirTemp("", "bolt-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(base)

	s, err := bolt.Open(ctx, filepath.Join(base, "data"))
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := s.Put(ctx, "chassis/name", []byte("pod-1"))
	fmt.Println("put at revision", rev)

	var backup bytes.Buffer
	if err := s.Snapshot(ctx, &backup); err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Close()

	restored := filepath.Join(base, "restored")
	if err := bolt.Restore(ctx, &backup, restored); err != nil {
		fmt.Println(err)
		return
	}
	r, err := bolt.Open(ctx, restored)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	kv, _ := r.Get(ctx, "chassis/name")
	fmt.Printf("restored %s=%s (revision %d, version %d)\n", kv.Key, kv.Value, kv.ModRevision, kv.Version)
	// Output:
	// put at revision 2
	// restored chassis/name=pod-1 (revision 2, version 1)
}
