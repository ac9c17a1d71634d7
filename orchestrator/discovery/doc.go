// Package discovery finds the links between devices with LLDP probes, as
// ONOS's LLDP link provider does, over P4Runtime packet I/O.
//
// The caller adds devices, each with an ID (its module ID or name), a
// connected primary P4Runtime client with the device's pipeline set, the
// ports to probe and the pipeliner of its program. For each device, Add
// writes the punt rule for LLDP (objective.Punt for ether type 0x88cc,
// translated by the pipeliner) unless the device already has it, reads
// the device's packet-ins, and sends a probe out of every port. Then,
// every interval, a probe goes out of every port of every device.
//
// A probe (type Probe) is an LLDP frame whose chassis ID is the device ID
// and whose port ID is the port, with an organisationally specific TLV
// carrying the Discovery's fingerprint and the send time, and optionally
// an HMAC signature (WithSecret). The packet_out metadata comes from the
// program's P4Info, generically: the port goes in the egress port field
// (the port's name for SAI-P4's string port IDs), padding is left to the
// client, every other field is zero (fabric.p4's do_forwarding, SAI-P4's
// submit_to_ingress).
//
// A probe from port (A, p) that arrives as a packet-in on port (B, q)
// proves the direction (A, p) → (B, q). A Link is up when both directions
// are proven; it is lost when either direction goes without a probe for
// the link age (interval × WithMissedProbes), when PortDown is called for
// one of its ports (from gNMI on-change notifications of the port's
// operational state), when a probe from another port arrives at one of
// its ports, or when Remove is called for one of its devices. A probe
// whose other direction is not known yet is answered at once with a probe
// back, so links come up within one round trip instead of one interval.
// LLDP from others (hosts, switch agents, other controllers: no probe TLV
// or another fingerprint) is ignored and counted.
//
// Events reports LinkDiscovered and LinkLost in order; Links is the
// current set. Stop stops probing and deletes the punt rules Add wrote.
//
//	d, err := discovery.Start(ctx, []discovery.Device{
//		{ID: "leaf1", Client: leaf1, Ports: []uint32{1, 2}, Pipeliner: pl},
//		{ID: "spine1", Client: spine1, Ports: []uint32{1, 2}, Pipeliner: pl},
//	}, discovery.WithInterval(time.Second))
//	if err != nil {
//		return err
//	}
//	defer d.Stop(ctx)
//	for ev := range d.Events() {
//		fmt.Println(ev) // link-discovered leaf1:1 <-> spine1:1
//	}
//
// Package lldp encodes and decodes the frames.
package discovery
