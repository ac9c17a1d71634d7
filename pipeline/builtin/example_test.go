package builtin_test

import (
	"fmt"
	"log"

	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// The built-in pipeconfs, the targets they carry device configs for, and
// whether their programs can express multicast.
func Example() {
	reg, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	for _, pc := range reg.All() {
		p, err := pc.Pipeliner()
		if err != nil {
			log.Fatal(err)
		}
		_, bmv2 := pc.DeviceConfigs[pipeline.TargetBMv2]
		fmt.Printf("%s: bmv2 %v, multicast %v\n", pc.ID, bmv2, p.Supports(objective.KindMulticast))
	}
	// Output:
	// fabric-v1model: bmv2 true, multicast true
	// onos-basic: bmv2 true, multicast false
	// sai-middleblock: bmv2 false, multicast true
}
