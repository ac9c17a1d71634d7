package lldp_test

import (
	"fmt"
	"net"

	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
)

// Build a probe naming its device and port, and parse it back as the
// receiving side does.
func Example() {
	f := lldp.Frame{
		Src:            net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		ChassisSubtype: lldp.ChassisIDLocal, ChassisID: []byte("leaf1"),
		PortSubtype: lldp.PortIDLocal, PortID: []byte("3"),
		TTL: 120,
		Org: []lldp.OrgTLV{{OUI: [3]byte{0x02, 0x66, 0x62}, Subtype: 1, Info: []byte("nonce")}},
	}
	b, err := f.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := lldp.Unmarshal(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	info, _ := got.FindOrg([3]byte{0x02, 0x66, 0x62}, 1)
	fmt.Printf("%d bytes from %s: chassis %s, port %s, ttl %ds, org %q\n", len(b), got.Src, got.ChassisID, got.PortID, got.TTL, info)
	// Output:
	// 60 bytes from 02:00:00:00:00:01: chassis leaf1, port 3, ttl 120s, org "nonce"
}
