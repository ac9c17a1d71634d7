package clock_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/testbed/clock"
)

// Example skews a box clock by 50 ms and lets its NTP discipline slew it
// back to an SNTP server serving the host's time on a loopback port.
func Example() {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go sntp.Serve(ctx, conn, time.Now)

	c, err := clock.New(clock.WithOffset(50*time.Millisecond), clock.WithDrift(20))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("skewed by 50ms:", c.Offset() >= 50*time.Millisecond)

	if err := c.EnableNTP(conn.LocalAddr().String()); err != nil {
		log.Fatal(err)
	}
	st, err := c.WaitSynchronized(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", st.State)
	fmt.Println("within 10ms:", c.Offset().Abs() < 10*time.Millisecond)
	// Output:
	// skewed by 50ms: true
	// state: synchronized
	// within 10ms: true
}
