package discovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
)

// Names of the port fields of the controller headers, as the shipped
// programs (ONOS basic, fabric.p4, SAI-P4) and the p4lang tutorials call
// them.
var (
	egressPortNames  = []string{"egress_port", "out_port"}
	ingressPortNames = []string{"ingress_port", "in_port"}
)

// packetIO is how probes travel through one program: the packet_out
// metadata to send them with and the packet_in field that says where they
// arrived. It is derived from the schema, generically: the egress port
// goes in the egress port field (an integer, or the port's name for a
// field translated to an SDN string, as SAI-P4's port_id_t), padding is
// left to the client, and every other field is zero (an empty string when
// translated), which means "no special treatment" in the shipped programs
// (fabric.p4's do_forwarding, SAI-P4's submit_to_ingress).
type packetIO struct {
	schema  *schema.Schema
	egress  *schema.MetadataField
	ingress *schema.MetadataField
	fixed   map[string][]byte // every non-padding field but the egress port
}

func findField(pm *schema.PacketMetadata, names []string) *schema.MetadataField {
	for _, n := range names {
		if f, err := pm.Field(n); err == nil {
			return f
		}
	}
	return nil
}

func sdnString(f *schema.MetadataField) bool { return f.Translated != nil && f.Translated.SDNString }

func newPacketIO(s *schema.Schema) (*packetIO, error) {
	if s == nil {
		return nil, errors.New("no pipeline: set the device's pipeline first")
	}
	out, err := s.PacketMetadata("packet_out")
	if err != nil {
		return nil, fmt.Errorf("the program cannot send probes: %w", err)
	}
	in, err := s.PacketMetadata("packet_in")
	if err != nil {
		return nil, fmt.Errorf("the program cannot receive probes: %w", err)
	}
	io := &packetIO{schema: s, egress: findField(out, egressPortNames), ingress: findField(in, ingressPortNames), fixed: map[string][]byte{}}
	if io.egress == nil {
		return nil, fmt.Errorf("packet_out has no egress port field (looked for %v)", egressPortNames)
	}
	if io.ingress == nil {
		return nil, fmt.Errorf("packet_in has no ingress port field (looked for %v)", ingressPortNames)
	}
	for _, f := range out.Fields {
		switch {
		case f == io.egress || f.Padding:
		case sdnString(f):
			io.fixed[f.Name] = []byte{}
		default:
			io.fixed[f.Name] = []byte{0}
		}
	}
	return io, nil
}

// metadata returns the packet_out metadata that sends a probe out of a
// port.
func (io *packetIO) metadata(port uint32, name string) map[string][]byte {
	m := make(map[string][]byte, len(io.fixed)+1)
	maps.Copy(m, io.fixed)
	if sdnString(io.egress) {
		m[io.egress.Name] = []byte(name)
	} else {
		m[io.egress.Name] = binary.BigEndian.AppendUint32(nil, port)
	}
	return m
}

// ingressPort returns the port a packet-in arrived on; byName maps the
// names of a translated port field back to ports (a decimal name that is
// not in it is taken as the port number).
func (io *packetIO) ingressPort(pi *client.PacketIn, byName map[string]uint32) (uint32, error) {
	v, ok := pi.MetadataByID[io.ingress.ID]
	if !ok {
		return 0, fmt.Errorf("packet-in without %s", io.ingress.Name)
	}
	if sdnString(io.ingress) {
		if p, ok := byName[string(v)]; ok {
			return p, nil
		}
		return parsePort(v)
	}
	n, err := codec.Uint(v)
	if err != nil || n > 1<<32-1 {
		return 0, fmt.Errorf("%s 0x%x is not a port", io.ingress.Name, v)
	}
	return uint32(n), nil
}

func decimal(port uint32) string { return strconv.FormatUint(uint64(port), 10) }
