package client

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/p4fabric/fabric/p4/codec"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// PacketOut sends a packet to the switch with the metadata of the P4Info's
// "packet_out" controller header, given by field name. A value is a
// big-endian integer, padded or not: it is checked against the field's bit
// width and sent in canonical form (spec "Bytestrings"); a field whose type
// is translated to an SDN string is sent as given. Every field must be given
// (spec "Packet I/O": exactly one metadata per field), except padding fields
// (annotated @padding, or named with a leading "_"), which default to zero.
//
//	err := c.PacketOut(ctx, frame, map[string][]byte{"egress_port": {0, 3}})
func (c *Client) PacketOut(ctx context.Context, payload []byte, metadata map[string][]byte) error {
	p, err := c.BuildPacketOut(payload, metadata)
	if err != nil {
		return err
	}
	return c.SendPacketOut(ctx, p)
}

// BuildPacketOut builds the packet-out that PacketOut sends.
func (c *Client) BuildPacketOut(payload []byte, metadata map[string][]byte) (*p4v1.PacketOut, error) {
	s := c.schema.Load()
	if s == nil {
		return nil, fmt.Errorf("p4runtime packet-out: %w", ErrNoSchema)
	}
	pm, err := s.PacketMetadata("packet_out")
	if err != nil {
		return nil, fmt.Errorf("p4runtime packet-out: %w", err)
	}
	for name := range metadata {
		if _, err := pm.Field(name); err != nil {
			return nil, fmt.Errorf("p4runtime packet-out: %w", err)
		}
	}
	out := &p4v1.PacketOut{Payload: payload, Metadata: make([]*p4v1.PacketMetadata, 0, len(pm.Fields))}
	var missing []string
	for _, f := range pm.Fields {
		v, ok := metadata[f.Name]
		if !ok {
			if !f.Padding {
				missing = append(missing, f.Name)
				continue
			}
			v = []byte{0}
		}
		if f.Translated != nil && f.Translated.SDNString {
			out.Metadata = append(out.Metadata, &p4v1.PacketMetadata{MetadataId: f.ID, Value: slices.Clone(v)})
			continue
		}
		cv, err := codec.Canonical(v, f.Bitwidth)
		if err != nil {
			return nil, fmt.Errorf("p4runtime packet-out: metadata %s (bit<%d>): %w", f.Name, f.Bitwidth, err)
		}
		out.Metadata = append(out.Metadata, &p4v1.PacketMetadata{MetadataId: f.ID, Value: slices.Clone(cv)})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("p4runtime packet-out: missing metadata %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Uint returns a packet-in metadata value, by field name, as an integer.
func (p *PacketIn) Uint(name string) (uint64, error) {
	v, ok := p.Metadata[name]
	if !ok {
		return 0, fmt.Errorf("packet-in has no metadata %q", name)
	}
	return codec.Uint(v)
}
