package gnoi_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed/clock"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

// Example reads the clock of an emulated box that runs 300 ms ahead, then
// upgrades its software: install, activate (which reboots it), and wait
// until it runs the new version.
func Example() {
	clk, err := clock.New(clock.WithOffset(300 * time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	box, err := tgnoi.StartLoopbackBox(tgnoi.LoopbackConfig{Version: "1.0.0", Clock: clk, BootDelay: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer box.Close()

	c, err := gnoi.Dial(box.Addr(), gnoi.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t, err := c.Time(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("300ms ahead, within the error bound:", (t.Offset-clk.Offset()).Abs() <= t.ErrorBound)

	image, err := tgnoi.NewImage("2.0.0", bytes.Repeat([]byte("os"), 100_000))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Install(ctx, "2.0.0", bytes.NewReader(image))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("installed:", res.Version)
	if err := c.Activate(ctx, "2.0.0", false); err != nil {
		log.Fatal(err)
	}
	v, err := c.WaitVersion(ctx, "2.0.0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("running:", v.Version, "after", box.Boots()-1, "reboot")
	// Output:
	// 300ms ahead, within the error bound: true
	// installed: 2.0.0
	// running: 2.0.0 after 1 reboot
}
