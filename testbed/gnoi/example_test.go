package gnoi_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/p4fabric/fabric/testbed/clock"
	"github.com/p4fabric/fabric/testbed/gnoi"
)

// exampleBox is the smallest Box: it reports a version and tells when it is
// asked to reboot. A switch closes its listener there and starts again.
type exampleBox struct {
	version  string
	rebooted chan string
}

func (b *exampleBox) Reboot(m syspb.RebootMethod, reason string) error {
	b.rebooted <- m.String() + " (" + reason + ")"
	return nil
}
func (b *exampleBox) SoftwareVersion() string     { return b.version }
func (b *exampleBox) SetSoftwareVersion(v string) { b.version = v }

// Example serves the gNOI services of a box whose clock is 150 ms behind,
// reads its time and reboots it.
func Example() {
	clk, err := clock.New(clock.WithOffset(-150 * time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	box := &exampleBox{version: "1.0.0", rebooted: make(chan string, 1)}
	srv, err := gnoi.New(box, clk)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g) // on every grpc.Server the box starts
	go g.Serve(lis)
	defer g.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	sys := syspb.NewSystemClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t, err := sys.Time(ctx, &syspb.TimeRequest{})
	if err != nil {
		log.Fatal(err)
	}
	behind := time.Since(time.Unix(0, int64(t.GetTime())))
	fmt.Println("box clock about 150ms behind:", behind > 149*time.Millisecond && behind < time.Second)

	_, err = sys.Reboot(ctx, &syspb.RebootRequest{Method: syspb.RebootMethod_COLD, Message: "maintenance"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("box:", <-box.rebooted)
	// Output:
	// box clock about 150ms behind: true
	// box: COLD (maintenance)
}
