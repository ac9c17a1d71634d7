package client_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// TestPacketOutPacketInAcrossLinkedSwitches sends packet-outs through the
// SDK on every leaf uplink of a leaf-spine testbed and receives each as a
// packet-in on the spine at the other end of the cable, with the ingress
// port decoded by name: link discovery's building block.
func TestPacketOutPacketInAcrossLinkedSwitches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()

	clients := map[string]*client.Client{}
	for _, sw := range tb.Switches() {
		c, err := client.Dial(ctx, sw.Addr(), client.WithInsecure(), client.WithDeviceID(sw.DeviceID()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.WaitPrimary(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.SetPipeline(ctx, p4infos.MustInfo("fabric-v1model"), nil, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
			t.Fatal(err)
		}
		clients[sw.Name()] = c
	}
	// LeafSpine numbering: leaf j port i is cabled to spine i port j.
	tests := []struct {
		leaf      string
		port      byte
		spine     string
		spinePort uint64
	}{
		{"leaf1", 1, "spine1", 1},
		{"leaf1", 2, "spine2", 1},
		{"leaf2", 1, "spine1", 2},
		{"leaf2", 2, "spine2", 2},
	}
	for _, tc := range tests {
		payload := []byte(tc.leaf + " probe")
		// fabric.p4's packet_out has egress_port, do_forwarding and _pad:
		// padding may be left out, the rest is given.
		err := clients[tc.leaf].PacketOut(ctx, payload, map[string][]byte{"egress_port": {tc.port}, "do_forwarding": {0}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case pi := <-clients[tc.spine].PacketIn():
			port, err := pi.Uint("ingress_port")
			if err != nil || port != tc.spinePort || !bytes.Equal(pi.Payload, payload) {
				t.Fatalf("%s:%d → %s: packet-in %q on port %d (%v), want %q on port %d", tc.leaf, tc.port, tc.spine, pi.Payload, port, err, payload, tc.spinePort)
			}
		case <-ctx.Done():
			t.Fatalf("%s:%d → %s: no packet-in", tc.leaf, tc.port, tc.spine)
		}
	}
}
