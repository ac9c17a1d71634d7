package sai

import (
	"net/netip"
	"strconv"

	"github.com/p4fabric/fabric/pipeline/objective"
)

// The IDs of SAI objects are SDN strings the controller chooses. The
// pipeliner derives them from the objective alone, so that a next hop
// shared by several objectives yields the same entities from each of
// them and a switch read back can be matched with what was written:
//
//	router interface  "<port>/<src MAC>" or "<port>/<src MAC>/<VLAN>"  e.g. "1/00:aa:00:00:00:01"
//	neighbor          the IPv6 link-local address of the destination MAC (EUI-64), e.g. fe80::2bb:ff:fe00:2
//	next hop          the next hop's ID
//	WCMP group        the group's ID
//	VRF               the VRF name; "" is the default VRF
//
// The router interface ID is the one sonic-pins' own test entries use
// (egress port, "/", source MAC), and the neighbor ID the one PINS
// derives with MacAddress::ToLinkLocalIpv6Address.

// RouterInterfaceID returns the router_interface_id the pipeliner gives
// the router interface of a port, source MAC and VLAN (0 for none).
func RouterInterfaceID(port uint32, srcMAC objective.MAC, vlan uint16) string {
	var buf [48]byte
	return string(appendRIFID(buf[:0], port, srcMAC, vlan))
}

func appendRIFID(buf []byte, port uint32, mac objective.MAC, vlan uint16) []byte {
	buf = strconv.AppendUint(buf, uint64(port), 10)
	buf = append(buf, '/')
	buf = appendMAC(buf, mac)
	if vlan != 0 {
		buf = append(buf, '/')
		buf = strconv.AppendUint(buf, uint64(vlan), 10)
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// appendMAC appends a MAC address as net.HardwareAddr.String does.
func appendMAC(buf []byte, mac objective.MAC) []byte {
	for i, b := range mac {
		if i > 0 {
			buf = append(buf, ':')
		}
		buf = append(buf, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return buf
}

// NeighborID returns the neighbor_id the pipeliner gives the neighbor with
// a destination MAC: the IPv6 link-local address whose interface ID is the
// MAC's modified EUI-64 (RFC 4291 appendix A), as PINS derives it.
func NeighborID(dstMAC objective.MAC) netip.Addr {
	return netip.AddrFrom16(linkLocal(dstMAC))
}

func linkLocal(mac objective.MAC) [16]byte {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	if len(mac) == 6 {
		a[8], a[9], a[10] = mac[0]^0x02, mac[1], mac[2]
		a[11], a[12] = 0xff, 0xfe
		a[13], a[14], a[15] = mac[3], mac[4], mac[5]
	}
	return a
}

// macUint returns a 48-bit MAC address as an integer.
func macUint(mac objective.MAC) uint64 {
	var v uint64
	for _, b := range mac {
		v = v<<8 | uint64(b)
	}
	return v
}

// portID returns a port's port_id_t: its number in decimal, as PINS names
// ports (and as the emulated switch does).
func portID(port uint32) string { return strconv.FormatUint(uint64(port), 10) }
