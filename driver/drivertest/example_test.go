package drivertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/drivertest"
)

// WaitAll waits for an event of a kind from each protocol, in any order.
func ExampleWaitAll() {
	events := make(chan driver.Event, 4)
	events <- driver.Event{Device: "leaf1", Kind: driver.Connected, Protocol: driver.GNMI}
	events <- driver.Event{Device: "leaf1", Kind: driver.Disconnected, Protocol: driver.GNOI}
	events <- driver.Event{Device: "leaf1", Kind: driver.Connected, Protocol: driver.P4Runtime}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := drivertest.WaitAll(ctx, events, driver.Connected, driver.P4Runtime, driver.GNMI)
	fmt.Println(err)
	// Output:
	// <nil>
}
