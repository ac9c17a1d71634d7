package fabric

// Next IDs: see "Next IDs" in the package documentation. The scheme is
// part of the pipeliner's output: changing it renumbers installed next
// hops.

const (
	classNextHopNum  = 1 << 29
	classNextHopHash = 2 << 29
	classGroupNum    = 3 << 29
	classGroupHash   = 4 << 29
	classPort        = 5 << 29
	classMulticast   = 6 << 29
	lowMask          = 1<<29 - 1
)

// NextHopNextID returns the next_id (and action profile member and group
// ID) of a next hop with this ID.
func NextHopNextID(id string) uint32 {
	if n, ok := numericID(id); ok {
		return classNextHopNum | n
	}
	return classNextHopHash | hash29(id)
}

// GroupNextID returns the next_id (and selector group ID) of a next-hop
// group with this ID.
func GroupNextID(id string) uint32 {
	if n, ok := numericID(id); ok {
		return classGroupNum | n
	}
	return classGroupHash | hash29(id)
}

// PortNextID returns the next_id (and member and group ID) of the next
// that outputs to a port in a VLAN (0: untagged), as bridging to a port
// uses. port must fit fabric.p4's 9-bit ports and vlan 12 bits.
func PortNextID(port uint32, vlan uint16) uint32 {
	return classPort | uint32(vlan&0xfff)<<9 | port&0x1ff
}

// MulticastNextID returns the next_id that next.multicast maps to a PRE
// multicast group (16-bit group IDs).
func MulticastNextID(group uint32) uint32 {
	return classMulticast | group&0xffff
}

// numericID parses a canonical decimal ID (no sign, no leading zero, not
// zero) below 2^29, without allocating.
func numericID(id string) (uint32, bool) {
	if id == "" || len(id) > 9 || id[0] == '0' {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	if n > lowMask {
		return 0, false
	}
	return n, true
}

// hash29 is 64-bit FNV-1a folded to 29 bits. It is part of the next-ID
// scheme: changing it renumbers every hashed next hop.
func hash29(s string) uint32 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	h ^= h >> 29
	h ^= h >> 58
	return uint32(h) & lowMask
}
