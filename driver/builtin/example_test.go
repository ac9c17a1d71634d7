package builtin_test

import (
	"fmt"
	"log"

	"github.com/p4fabric/fabric/driver/builtin"
)

// The registry of built-in drivers, to which plugin drivers can be added.
func Example() {
	reg, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reg.Names())
	// Output:
	// [bmv2 emulated stratum]
}
