package testbed_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// controller is a bare P4Runtime controller over raw protos: one stream,
// arbitrated as primary with election ID 1.
type controller struct {
	t      *testing.T
	dev    uint64
	client p4v1.P4RuntimeClient
	stream p4v1.P4Runtime_StreamChannelClient
}

func connect(t *testing.T, ctx context.Context, sw *testbed.Switch, creds grpc.DialOption) *controller {
	t.Helper()
	conn, err := grpc.NewClient(sw.Addr(), creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &controller{t: t, dev: sw.DeviceID(), client: p4v1.NewP4RuntimeClient(conn)}
	c.stream, err = c.client.StreamChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = c.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: c.dev, ElectionId: &p4v1.Uint128{Low: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.stream.Recv()
	if err != nil {
		t.Fatalf("arbitration on %s: %v", sw.Name(), err)
	}
	if code := codes.Code(resp.GetArbitration().GetStatus().GetCode()); code != codes.OK {
		t.Fatalf("arbitration on %s: not primary (%v)", sw.Name(), code)
	}
	return c
}

func (c *controller) setPipeline(ctx context.Context, program string) {
	c.t.Helper()
	_, err := c.client.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: c.dev, ElectionId: &p4v1.Uint128{Low: 1},
		Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: p4infos.MustInfo(program)},
	})
	if err != nil {
		c.t.Fatalf("set pipeline %s: %v", program, err)
	}
}

// close half-closes the stream and waits until the switch has ended it, so
// that its election ID is free for the next controller (the switch forgets
// a controller only when its stream handler returns).
func (c *controller) close() {
	c.t.Helper()
	_ = c.stream.CloseSend()
	for {
		if _, err := c.stream.Recv(); err != nil {
			return
		}
	}
}

// packetIn waits for the next packet-in on the stream.
func (c *controller) packetIn() *p4v1.PacketIn {
	c.t.Helper()
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			c.t.Fatalf("waiting for a packet-in: %v", err)
		}
		if pi := resp.GetPacket(); pi != nil {
			return pi
		}
	}
}

func TestPacketOutArrivesAtLinkedPeerAsPacketIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())

	tests := []struct {
		program  string
		egress   []byte // packet_out egress_port value for port 1
		wantPort []byte // packet_in ingress_port value expected at spine1
	}{
		{"onos-basic", []byte{1}, []byte{1}},
		{"fabric-v1model", []byte{1}, []byte{1}},
		{"sai-middleblock", []byte("1"), []byte("1")}, // port_id_t is an SDN string
	}
	for _, tc := range tests {
		t.Run(tc.program, func(t *testing.T) {
			leaf := connect(t, ctx, tb.Switch("leaf1"), creds)
			spine := connect(t, ctx, tb.Switch("spine1"), creds)
			leaf.setPipeline(ctx, tc.program)
			spine.setPipeline(ctx, tc.program)
			info := p4infos.MustInfo(tc.program)
			// The spec wants one value per packet_out field: the egress
			// port, and zero for the rest (padding, submit_to_ingress...).
			var out []*p4v1.PacketMetadata
			var ingressID uint32
			for _, m := range info.GetControllerPacketMetadata() {
				for _, f := range m.GetMetadata() {
					switch {
					case m.GetPreamble().GetName() == "packet_out" && f.GetName() == "egress_port":
						out = append(out, &p4v1.PacketMetadata{MetadataId: f.GetId(), Value: tc.egress})
					case m.GetPreamble().GetName() == "packet_out":
						out = append(out, &p4v1.PacketMetadata{MetadataId: f.GetId(), Value: []byte{0}})
					case m.GetPreamble().GetName() == "packet_in" && f.GetName() == "ingress_port":
						ingressID = f.GetId()
					}
				}
			}
			payload := []byte("probe " + tc.program)
			// leaf1 port 1 is cabled to spine1 port 1 (LeafSpine numbering).
			err := leaf.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
				Payload: payload, Metadata: out,
			}}})
			if err != nil {
				t.Fatal(err)
			}
			pi := spine.packetIn()
			if !bytes.Equal(pi.GetPayload(), payload) {
				t.Fatalf("payload = %q, want %q", pi.GetPayload(), payload)
			}
			var got []byte
			for _, m := range pi.GetMetadata() {
				if m.GetMetadataId() == ingressID {
					got = m.GetValue()
				}
			}
			if !bytes.Equal(got, tc.wantPort) {
				t.Fatalf("packet-in metadata = %v, want ingress_port %x", pi.GetMetadata(), tc.wantPort)
			}
			leaf.close()
			spine.close()
		})
	}
	st, err := tb.Switch("leaf1").PortStats(1)
	if err != nil || st.TxPackets != 3 {
		t.Errorf("leaf1 port 1 stats = %+v, %v; want 3 packets sent", st, err)
	}
	st, err = tb.Switch("spine1").PortStats(1)
	if err != nil || st.RxPackets != 3 {
		t.Errorf("spine1 port 1 stats = %+v, %v; want 3 packets received", st, err)
	}
}

func TestPacketOutOnUnlinkedPortIsDroppedAndCounted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1, topology.WithHostPorts(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	leaf := connect(t, ctx, tb.Switch("leaf1"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	leaf.setPipeline(ctx, "onos-basic")
	// Port 2 of leaf1 faces a host, with no cable in the testbed. A second
	// packet-out on the linked port 1 gives a point after which the first
	// must have been handled (the stream is processed in order).
	for _, port := range []byte{2, 1} {
		err := leaf.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
			Payload: []byte{port}, Metadata: []*p4v1.PacketMetadata{{MetadataId: 1, Value: []byte{port}}, {MetadataId: 2, Value: []byte{0}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// spine1 has no pipeline: the packet arriving there is not punted.
	sw := tb.Switch("leaf1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		s1, _ := sw.PortStats(1)
		if s1.TxPackets == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("packet-out on port 1 never handled")
		}
		// The stream has no acknowledgement for packet-outs; poll the
		// counter the switch exposes, bounded by the deadline.
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	s2, _ := sw.PortStats(2)
	if s2.TxPackets != 1 || s2.Drops != 1 {
		t.Fatalf("port 2 stats = %+v, want 1 sent and 1 dropped", s2)
	}
	if _, err := sw.PortStats(9); err == nil {
		t.Fatal("PortStats(9) on a 2-port switch: want error")
	}
}

func TestRestartLosesStateAndKeepsAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	sw := tb.Switch("leaf1")
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	c := connect(t, ctx, sw, creds)
	c.setPipeline(ctx, "onos-basic")
	addr := sw.Addr()

	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	if sw.Addr() != addr || sw.Boots() != 2 {
		t.Fatalf("after restart: addr %s (was %s), boots %d", sw.Addr(), addr, sw.Boots())
	}
	// The old stream is gone with the old process.
	if _, err := c.stream.Recv(); err == nil {
		t.Fatal("stream survived a power cycle")
	}
	c2 := connect(t, ctx, sw, creds)
	resp, err := c2.client.GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{DeviceId: c2.dev})
	if err == nil && resp.GetConfig().GetP4Info() != nil {
		t.Fatal("pipeline survived a power cycle")
	}
}

func TestGeneratedTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := testbed.Start(topology.LeafSpine(1, 1, topology.WithGeneratedTLS()))
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	sw := tb.Switch("spine1")
	if !sw.TLS() || tb.CA() == nil {
		t.Fatal("switch should serve TLS with the testbed's CA")
	}
	tlsCreds := grpc.WithTransportCredentials(credentials.NewTLS(certs.ClientConfig(tb.CA().Pool(), nil)))
	connect(t, ctx, sw, tlsCreds)

	// A client that does not trust the CA fails the handshake.
	conn, err := grpc.NewClient(sw.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = p4v1.NewP4RuntimeClient(conn).Capabilities(ctx, &p4v1.CapabilitiesRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("untrusted client: %v, want UNAVAILABLE", err)
	}
}

func TestStartRejectsInvalidTopology(t *testing.T) {
	topo := &topology.Topology{Switches: []topology.Switch{{Name: "a", Ports: 1}}, Links: []topology.Link{{A: topology.Endpoint{Switch: "a", Port: 1}, B: topology.Endpoint{Switch: "b", Port: 1}}}}
	if _, err := testbed.Start(topo); err == nil {
		t.Fatal("link to an unknown switch: want error")
	}
	if _, err := testbed.Start(nil); err == nil {
		t.Fatal("nil topology: want error")
	}
}
