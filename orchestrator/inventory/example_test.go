package inventory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
)

// Register an emulated switch (started here; in a lab, any switch) and name
// its ports chassis-wide.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sw, err := testbed.NewSwitch(testbed.SwitchConfig{Name: "leaf1", DeviceID: 1, Ports: 2,
		Identity: testbed.Identity{Serial: "SN-0042"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sw.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer sw.Stop()

	dir, err := os.MkdirTemp("", "inventory-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, err := inventory.New(st, drivers)
	if err != nil {
		fmt.Println(err)
		return
	}

	box, err := inv.Register(ctx, inventory.BoxSpec{
		Name: "leaf1", Driver: builtin.Emulated, Address: sw.Addr(),
		Role: inventory.RoleForwarder, DeviceID: 1, Insecure: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(box.Serial, "is module", box.Module)
	ifs, err := inv.Interfaces(ctx, box.Serial)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ifc := range ifs {
		fmt.Println(ifc.Name, "=", ifc.DeviceName)
	}
	ifc, err := inv.Resolve(ctx, "eth-1/0/2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("eth-1/0/2 is port", ifc.Port, "of", ifc.Serial)
	// Output:
	// SN-0042 is module 1
	// eth-1/0/1 = eth1
	// eth-1/0/2 = eth2
	// eth-1/0/2 is port 2 of SN-0042
}
