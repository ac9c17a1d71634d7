package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// Allocate module IDs to boxes by compare-and-swap, watch the allocations,
// and keep a counter with Update.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	s, err := bolt.Open(ctx, dir) // or etcd.New(ctx, endpoints)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	events, err := s.Watch(ctx, "modules/")
	if err != nil {
		fmt.Println(err)
		return
	}

	// The first box to claim module 1 gets it; the second is refused.
	for _, serial := range []string{"SN-A", "SN-B"} {
		_, err := store.CompareAndSwap(ctx, s, "modules/1", 0, []byte(serial))
		switch {
		case errors.Is(err, store.ErrCompareFailed):
			fmt.Println(serial, "refused: module 1 is taken")
		case err != nil:
			fmt.Println(err)
			return
		default:
			fmt.Println(serial, "got module 1")
		}
	}
	ev := <-events
	fmt.Printf("watch: %s %s=%s at revision %d\n", ev.Type, ev.KV.Key, ev.KV.Value, ev.Revision)

	for range 3 {
		_, err := store.Update(ctx, s, "counters/commits", func(cur store.KeyValue, found bool) ([]byte, error) {
			n := 0
			if found {
				n, _ = strconv.Atoi(string(cur.Value))
			}
			return []byte(strconv.Itoa(n + 1)), nil
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	kv, _ := s.Get(ctx, "counters/commits")
	fmt.Printf("%s=%s version %d\n", kv.Key, kv.Value, kv.Version)
	// Output:
	// SN-A got module 1
	// SN-B refused: module 1 is taken
	// watch: put modules/1=SN-A at revision 2
	// counters/commits=3 version 3
}
