package timesync_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// Example follows an emulated switch whose clock runs 250 ms ahead: the
// alarm is raised, the orchestrator points the switch's NTP client at its
// SNTP server, the switch converges and the alarm clears.
func Example() {
	topo, err := topology.Parse([]byte(`
switches:
  - {name: leaf1, ports: 4, clock: {offset: 250ms}}
`))
	if err != nil {
		log.Fatal(err)
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		log.Fatal(err)
	}
	defer tb.Close()
	addr := tb.Switch("leaf1").Addr()
	tc, err := gnoi.Dial(addr, gnoi.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close()
	cc, err := gnmi.Dial(addr, gnmi.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alarms := make(chan timesync.Alarm, 16)
	s, err := timesync.New(
		timesync.WithInterval(20*time.Millisecond),
		timesync.WithAlarm(func(a timesync.Alarm) { alarms <- a }),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Add(timesync.Box{Name: "leaf1", Module: 1, Time: tc, Config: cc}); err != nil {
		log.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		log.Fatal(err)
	}

	est, err := s.Wait(ctx, "leaf1", func(e timesync.Estimate) bool { return e.Samples >= 3 })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leaf1 is ahead by", est.Offset.Round(10*time.Millisecond))
	a := <-alarms
	fmt.Println("alarm raised:", a.Raised)

	if err := s.ConfigureNTP(ctx, "leaf1"); err != nil {
		log.Fatal(err)
	}
	if _, err := s.WaitConverged(ctx, "leaf1"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("leaf1 converged")
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	a = <-alarms
	fmt.Println("alarm raised:", a.Raised)
	// Output:
	// leaf1 is ahead by 250ms
	// alarm raised: true
	// leaf1 converged
	// alarm raised: false
}
