package sntp_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
)

// Example serves a clock that runs 250 ms ahead of the host's on a loopback
// port and measures its offset with a query.
func Example() {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ahead := func() time.Time { return time.Now().Add(250 * time.Millisecond) }
	go sntp.Serve(ctx, conn, ahead)

	resp, err := sntp.Query(ctx, conn.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stratum:", resp.Stratum)
	// The offset is exact to within half the round trip.
	diff := resp.Offset - 250*time.Millisecond
	fmt.Println("offset within bound:", diff.Abs() <= resp.ErrorBound()+time.Microsecond)
	// Output:
	// stratum: 1
	// offset within bound: true
}
