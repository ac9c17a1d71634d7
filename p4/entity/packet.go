package entity

import (
	"errors"
	"fmt"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
)

func metaProto(pm *schema.PacketMetadata, id uint32) *p4configv1.ControllerPacketMetadata_Metadata {
	for _, m := range pm.Proto.GetMetadata() {
		if m.GetId() == id {
			return m
		}
	}
	return nil
}

// PacketOut builds a packet-out message: the payload and the values of
// the "packet_out" controller header's fields by name. Fields not given
// are sent as zero (padding fields, typically), so that targets that want
// every field accept the message; a field translated to an SDN string has
// no zero value and must be given.
func (b *Builder) PacketOut(payload []byte, meta ...PacketMeta) (*p4v1.PacketOut, error) {
	if b == nil || b.s == nil {
		return nil, errNoSchema
	}
	pm, err := b.s.PacketMetadata("packet_out")
	if err != nil {
		return nil, errAt(schema.KindPacketMetadata, "packet_out", "", "", "", err)
	}
	out := &p4v1.PacketOut{Payload: payload, Metadata: make([]*p4v1.PacketMetadata, len(pm.Fields))}
	for i := range meta {
		m := &meta[i]
		f, err := pm.Field(m.name)
		if err != nil {
			return nil, errAt(schema.KindPacketMetadata, pm.Name, m.name, "", "", err)
		}
		idx := 0
		for idx < len(pm.Fields) && pm.Fields[idx] != f {
			idx++
		}
		if out.Metadata[idx] != nil {
			return nil, errAt(schema.KindPacketMetadata, pm.Name, f.Name, "", "", errors.New("given twice"))
		}
		sp := metaSpec(f, metaProto(pm, f.ID))
		v, err := appendValue(nil, &m.v, &sp, b.pad)
		if err != nil {
			return nil, errAt(schema.KindPacketMetadata, pm.Name, f.Name, "", "", err)
		}
		out.Metadata[idx] = &p4v1.PacketMetadata{MetadataId: f.ID, Value: v}
	}
	for i, f := range pm.Fields {
		if out.Metadata[i] != nil {
			continue
		}
		if f.Translated != nil && f.Translated.SDNString {
			return nil, errAt(schema.KindPacketMetadata, pm.Name, f.Name, "", "", errors.New("missing: a field translated to an SDN string has no zero value"))
		}
		zero := []byte{0}
		if b.pad {
			zero = make([]byte, (f.Bitwidth+7)/8)
		}
		out.Metadata[i] = &p4v1.PacketMetadata{MetadataId: f.ID, Value: zero}
	}
	return out, nil
}

// Packet is a packet-in (or packet-out) message decoded by name.
type Packet struct {
	Payload  []byte
	Metadata []PacketField // in the order of the message
}

// PacketField is one decoded metadata field of a packet.
type PacketField struct {
	Name  string `json:"name"`
	Value string `json:"value"` // rendered like Describe renders values
	Raw   []byte `json:"-"`     // canonical bytestring (raw bytes for SDN strings)
	ID    uint32 `json:"id"`
}

// Field returns the metadata field of that name, or nil.
func (p *Packet) Field(name string) *PacketField {
	if p == nil {
		return nil
	}
	for i := range p.Metadata {
		if p.Metadata[i].Name == name {
			return &p.Metadata[i]
		}
	}
	return nil
}

// Uint returns the value of a numeric metadata field.
func (p *Packet) Uint(name string) (uint64, error) {
	f := p.Field(name)
	if f == nil {
		return 0, fmt.Errorf("packet has no metadata field %q", name)
	}
	v, err := codec.Uint(f.Raw)
	if err != nil {
		return 0, fmt.Errorf("metadata field %q: %w", name, err)
	}
	return v, nil
}

// String renders the packet on one line: its metadata and payload length.
func (p *Packet) String() string {
	if p == nil {
		return "<nil>"
	}
	var sb strings.Builder
	sb.WriteString("packet(")
	for i, f := range p.Metadata {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(f.Name)
		sb.WriteByte('=')
		sb.WriteString(f.Value)
	}
	fmt.Fprintf(&sb, ") payload=%d bytes", len(p.Payload))
	return sb.String()
}

// PacketIn decodes a packet-in message by the "packet_in" controller
// header of the P4Info. Values are checked against their field widths and
// returned canonical; unknown field IDs are an error, but the packet is
// still returned with them named by ID.
func PacketIn(s *schema.Schema, msg *p4v1.PacketIn) (*Packet, error) {
	return decodePacket(s, "packet_in", msg.GetPayload(), msg.GetMetadata())
}

// DecodePacketOut decodes a packet-out message by the "packet_out"
// controller header, for logs and tests.
func DecodePacketOut(s *schema.Schema, msg *p4v1.PacketOut) (*Packet, error) {
	return decodePacket(s, "packet_out", msg.GetPayload(), msg.GetMetadata())
}

func decodePacket(s *schema.Schema, header string, payload []byte, md []*p4v1.PacketMetadata) (*Packet, error) {
	p := &Packet{Payload: payload, Metadata: make([]PacketField, 0, len(md))}
	if s == nil {
		return p, errNoSchema
	}
	pm, err := s.PacketMetadata(header)
	if err != nil {
		return p, errAt(schema.KindPacketMetadata, header, "", "", "", err)
	}
	var errs []error
	for _, m := range md {
		f := pm.FieldByID(m.GetMetadataId())
		if f == nil {
			p.Metadata = append(p.Metadata, PacketField{Name: fmt.Sprintf("#%d", m.GetMetadataId()), ID: m.GetMetadataId(),
				Value: hexBytes(m.GetValue()), Raw: m.GetValue()})
			errs = append(errs, errAt(schema.KindPacketMetadata, pm.Name, "", "", "", fmt.Errorf("unknown metadata field ID %d", m.GetMetadataId())))
			continue
		}
		sp := metaSpec(f, metaProto(pm, f.ID))
		text, err := renderValue(m.GetValue(), &sp)
		raw := m.GetValue()
		if err != nil {
			errs = append(errs, errAt(schema.KindPacketMetadata, pm.Name, f.Name, "", "", err))
		} else if !sp.str {
			raw = trimZeros(raw)
		}
		p.Metadata = append(p.Metadata, PacketField{Name: f.Name, ID: f.ID, Value: text, Raw: raw})
	}
	return p, errors.Join(errs...)
}

func trimZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
