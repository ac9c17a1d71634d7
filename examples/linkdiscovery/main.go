// Linkdiscovery: find the cables between switches with LLDP probes, using
// the SDK alone (no orchestrator).
//
// It becomes primary on every switch, pushes a program, installs the
// program's punt-to-controller rule for LLDP through its pipeliner, sends an
// LLDP probe as a packet-out on every port, and learns the links from the
// packet-ins: a probe that leaves switch A on port p and comes back from
// switch B on port q proves the cable A:p → B:q. A link is printed when
// both directions are proven. By default it starts an emulated leaf-spine
// in this process:
//
//	go run ./examples/linkdiscovery -spines 2 -leaves 3
//
// Point it at running switches instead (a testbed, bmv2, Stratum), one
// -switch name,address,device-id,ports per switch:
//
//	go run ./examples/linkdiscovery -target bmv2 \
//		-switch s1,127.0.0.1:50001,1,4 -switch s2,127.0.0.1:50002,2,4
//
// The orchestrator's package orchestrator/discovery does the same for good:
// probes every interval, link loss, port events, signed probes.
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// target is a switch to probe.
type target struct {
	name, addr string
	deviceID   uint64
	ports      int
}

// config is what the flags say.
type config struct {
	program, deviceTarget string
	spines, leaves        int
	switches              []target
	interval, wait        time.Duration
	expect                int // stop once this many links are known (0: wait the full time)
}

// end is one end of a link, "switch:port".
type end struct {
	sw   string
	port uint32
}

func (e end) String() string { return fmt.Sprintf("%s:%d", e.sw, e.port) }

func main() {
	cfg := config{}
	flag.StringVar(&cfg.program, "program", builtin.FabricV1Model, "program to push: "+strings.Join(builtin.IDs(), ", "))
	flag.StringVar(&cfg.deviceTarget, "target", pipeline.TargetEmulated, "device config to push: emulated or bmv2")
	flag.IntVar(&cfg.spines, "spines", 2, "spines of the emulated leaf-spine")
	flag.IntVar(&cfg.leaves, "leaves", 3, "leaves of the emulated leaf-spine")
	flag.DurationVar(&cfg.interval, "interval", time.Second, "time between two rounds of probes")
	flag.DurationVar(&cfg.wait, "wait", 3*time.Second, "how long to listen for probes")
	flag.IntVar(&cfg.expect, "expect", 0, "stop as soon as this many links are known")
	flag.Func("switch", "a running switch: name,address,device-id,ports (repeat; default: start a testbed)", func(s string) error {
		f := strings.Split(s, ",")
		if len(f) != 4 {
			return fmt.Errorf("want name,address,device-id,ports, got %q", s)
		}
		id, err1 := strconv.ParseUint(f[2], 10, 64)
		n, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || n < 1 {
			return fmt.Errorf("bad device ID or port count in %q", s)
		}
		cfg.switches = append(cfg.switches, target{f[0], f[1], id, n})
		return nil
	})
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.wait+30*time.Second)
	defer cancel()
	if _, err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "linkdiscovery:", err)
		os.Exit(1)
	}
}

// run discovers the links and prints them; it returns them as
// "a:p <-> b:q", sorted.
func run(ctx context.Context, w io.Writer, cfg config) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx) // ends the packet-in readers
	defer cancel()
	pc, err := builtin.Get(cfg.program)
	if err != nil {
		return nil, err
	}
	devConfig, err := pc.DeviceConfig(cfg.deviceTarget)
	if err != nil {
		return nil, err
	}
	if len(cfg.switches) == 0 {
		tb, err := testbed.Start(topology.LeafSpine(cfg.spines, cfg.leaves))
		if err != nil {
			return nil, err
		}
		defer tb.Close()
		for _, sw := range tb.Switches() {
			cfg.switches = append(cfg.switches, target{sw.Name(), sw.Addr(), sw.DeviceID(), sw.Ports()})
		}
		fmt.Fprintf(w, "started %d emulated switches running %s\n", len(cfg.switches), cfg.program)
	}

	// Probes carry a random source MAC: LLDP from anyone else is ignored.
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce)
	nonce[0] = 0x02 // locally administered, unicast

	// Become primary, push the program, install the punt rule, and read
	// the packet-ins of every switch into one channel.
	type arrival struct {
		from, to end
	}
	arrivals := make(chan arrival, 1024)
	clients := map[string]*client.Client{}
	for _, t := range cfg.switches {
		c, err := client.Dial(ctx, t.addr, client.WithInsecure(), client.WithDeviceID(t.deviceID),
			client.WithElectionID(client.ElectionID{Low: 10}))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		defer c.Close()
		if err := c.WaitPrimary(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if err := c.SetPipeline(ctx, pc.Schema.P4Info(), devConfig, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		pl, err := pc.Pipeliner()
		if err != nil {
			return nil, err
		}
		punt, err := pipeline.NewState(pl).Add(objective.Punt{Protocol: objective.LLDP})
		if err != nil {
			return nil, err
		}
		if err := c.Write(ctx, punt); err != nil {
			return nil, fmt.Errorf("%s: punt rule: %w", t.name, err)
		}
		clients[t.name] = c
		go func() {
			for pi := range c.PacketIn() {
				sw, port, ok := parseProbe(pi.Payload, nonce)
				in, err := ingressPort(c, pi)
				if ok && err == nil {
					select {
					case arrivals <- arrival{from: end{sw, port}, to: end{t.name, in}}:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}

	// Send probes every interval; learn from what comes back.
	probeAll := func() error {
		for _, t := range cfg.switches {
			if err := sendProbes(ctx, clients[t.name], t, nonce); err != nil {
				return err
			}
		}
		return nil
	}
	if err := probeAll(); err != nil {
		return nil, err
	}
	seen := map[end]end{} // receiving end → sending end
	var links []string
	ticker := time.NewTicker(cfg.interval)
	defer ticker.Stop()
	timeout := time.After(cfg.wait)
listen:
	for cfg.expect == 0 || len(links) < cfg.expect {
		select {
		case a := <-arrivals:
			seen[a.to] = a.from
			if back, ok := seen[a.from]; ok && back == a.to {
				if l := linkName(a.from, a.to); !slices.Contains(links, l) {
					links = append(links, l)
				}
			}
		case <-ticker.C:
			if err := probeAll(); err != nil {
				return nil, err
			}
		case <-timeout:
			break listen
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	slices.Sort(links)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SWITCH\tPORT\tPEER\tPEER PORT")
	for _, l := range links {
		a, b, _ := strings.Cut(l, " <-> ")
		fmt.Fprintln(tw, strings.ReplaceAll(a, ":", "\t")+"\t"+strings.ReplaceAll(b, ":", "\t"))
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%d links\n", len(links))
	return links, nil
}

// sendProbes sends an LLDP probe out of every port of a switch as a
// packet-out. The builder fills the program's other packet_out fields
// with zero (fabric.p4's do_forwarding, SAI-P4's submit_to_ingress), and
// the port given as text suits both numeric ports and SAI-P4's string
// port IDs.
func sendProbes(ctx context.Context, c *client.Client, t target, nonce []byte) error {
	b := entity.NewBuilder(c.Schema())
	for p := 1; p <= t.ports; p++ {
		po, err := b.PacketOut(lldpFrame(t.name, uint32(p), nonce), entity.Meta("egress_port", strconv.Itoa(p)))
		if err != nil {
			return err
		}
		if err := c.SendPacketOut(ctx, po); err != nil {
			return fmt.Errorf("%s: packet-out on port %d: %w", t.name, p, err)
		}
	}
	return nil
}

// lldpFrame builds an LLDP frame: chassis ID = switch name, port ID = port
// number (both "locally assigned", subtype 7), TTL 120 s, End.
func lldpFrame(sw string, port uint32, nonce []byte) []byte {
	tlv := func(b []byte, typ int, v []byte) []byte {
		return append(binary.BigEndian.AppendUint16(b, uint16(typ<<9|len(v))), v...)
	}
	b := append([]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, nonce...) // nearest bridge ← us
	b = append(b, 0x88, 0xcc)
	b = tlv(b, 1, append([]byte{7}, sw...))
	b = tlv(b, 2, append([]byte{7}, strconv.FormatUint(uint64(port), 10)...))
	b = tlv(b, 3, []byte{0, 120})
	return tlv(b, 0, nil)
}

// parseProbe reads the chassis and port IDs of an LLDP frame we sent.
func parseProbe(b []byte, nonce []byte) (sw string, port uint32, ok bool) {
	if len(b) < 14 || string(b[6:12]) != string(nonce) || b[12] != 0x88 || b[13] != 0xcc {
		return "", 0, false
	}
	var chassis, portID []byte
	for rest := b[14:]; len(rest) >= 2; {
		typ, n := rest[0]>>1, int(binary.BigEndian.Uint16(rest)&0x1ff)
		if typ == 0 || len(rest) < 2+n || n < 1 {
			break
		}
		switch typ {
		case 1:
			chassis = rest[3 : 2+n]
		case 2:
			portID = rest[3 : 2+n]
		}
		rest = rest[2+n:]
	}
	p, err := strconv.ParseUint(string(portID), 10, 32)
	return string(chassis), uint32(p), len(chassis) > 0 && err == nil
}

// ingressPort reads the port a packet-in arrived on: an integer, or the
// port's name in decimal for SAI-P4's string port IDs.
func ingressPort(c *client.Client, pi *client.PacketIn) (uint32, error) {
	if pm, err := c.Schema().PacketMetadata("packet_in"); err == nil {
		if f, err := pm.Field("ingress_port"); err == nil && f.Translated != nil && f.Translated.SDNString {
			p, err := strconv.ParseUint(string(pi.Metadata["ingress_port"]), 10, 32)
			return uint32(p), err
		}
	}
	p, err := pi.Uint("ingress_port")
	return uint32(p), err
}

// linkName names a link with its ends in order.
func linkName(a, b end) string {
	if b.String() < a.String() {
		a, b = b, a
	}
	return a.String() + " <-> " + b.String()
}
