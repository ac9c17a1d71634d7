package etcd_test

import (
	"context"
	"fmt"
	"time"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
	"github.com/p4fabric/fabric/orchestrator/store/etcd/etcdtest"
)

// Two orchestrators on one etcd cluster create the same key; exactly one
// compare-and-swap wins.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := etcdtest.New(ctx) // stands for a real cluster
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	var wins int
	for _, name := range []string{"orchestrator-a", "orchestrator-b"} {
		s, err := etcd.New(ctx, srv.Endpoints(), etcd.WithNamespace("/fabric/"))
		if err != nil {
			fmt.Println(err)
			return
		}
		_, err = store.CompareAndSwap(ctx, s, "modules/1", 0, []byte(name))
		if err == nil {
			wins++
		}
		_ = s.Close()
	}
	fmt.Println("winners:", wins)
	// Output: winners: 1
}
