package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/p4fabric/fabric/p4/client"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// A controller that stays primary: it takes over whenever the switch reports
// that no controller is primary, and stops writing when it is demoted.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "127.0.0.1:9559", client.WithInsecure(), client.WithDeviceID(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	go func() {
		for ev := range c.Mastership() {
			if ev.State == client.Backup && !ev.PrimaryPresent {
				if err := c.TakeOver(context.Background()); err != nil {
					log.Print(err)
				}
			}
		}
	}()
	if _, err := c.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE); err != nil {
		log.Fatal(err)
	}
	for p := range c.PacketIn() {
		port, _ := p.Uint("ingress_port")
		err := c.PacketOut(ctx, p.Payload, map[string][]byte{"egress_port": {byte(port >> 8), byte(port)}})
		if err != nil {
			log.Print(err)
		}
	}
}

func ExampleClient_Write() {
	var c *client.Client   // from Dial
	var ups []*p4v1.Update // built with p4/builder or by hand
	ctx := context.Background()
	err := c.Write(ctx, ups, client.WithBatchSize(500), client.WithInFlight(4))
	var werr *client.WriteError
	switch {
	case err == nil:
	case errors.Is(err, client.ErrNotPrimary):
		fmt.Println("not primary: writes refused")
	case errors.As(err, &werr):
		for _, u := range werr.Updates {
			fmt.Printf("update %d (%v): %s: %s\n", u.Index, u.Update.GetType(), u.Code, u.Message)
		}
	}
}

func ExampleClient_Read() {
	var c *client.Client // from Dial
	ctx := context.Background()
	n := 0
	for e, err := range c.ReadTable(ctx, "table0") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.GetTableEntry().GetPriority())
		if n++; n == 10 {
			break // cancels the Read RPC
		}
	}
}
