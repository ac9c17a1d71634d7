// Package lldp encodes and decodes LLDP frames (IEEE 802.1AB): an Ethernet
// header with ether type 0x88cc and an LLDPDU, a sequence of TLVs. The
// LLDPDU starts with the three mandatory TLVs — chassis ID, port ID and
// time to live, in that order — followed by optional TLVs
// (organisationally specific ones among them) and an End TLV.
//
// It is the small subset link discovery needs: Marshal builds a frame,
// Unmarshal parses one. Unmarshal accepts any input without panicking and
// returns an error wrapping ErrNotLLDP, ErrTruncated or ErrMalformed for
// what it does not accept; whatever it accepts, Marshal encodes back to a
// frame that Unmarshal decodes to the same Frame.
package lldp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
)

// EtherType is LLDP's ether type.
const EtherType = 0x88cc

// etherTypeVLAN is the ether type of an IEEE 802.1Q tag.
const etherTypeVLAN = 0x8100

// NearestBridge is the destination address of LLDP frames that no bridge
// forwards (01:80:c2:00:00:0e), the usual one for link discovery.
var NearestBridge = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// TLV types of the LLDPDU.
const (
	TypeEnd               = 0
	TypeChassisID         = 1
	TypePortID            = 2
	TypeTTL               = 3
	TypePortDescription   = 4
	TypeSystemName        = 5
	TypeSystemDescription = 6
	TypeOrgSpecific       = 127
)

// Subtypes of the chassis ID and port ID TLVs used by link discovery: the
// value is a locally assigned string (IEEE 802.1AB, chassis ID subtype 7
// and port ID subtype 7).
const (
	ChassisIDLocal = 7
	PortIDLocal    = 7
)

// Limits of the encoding: a TLV value is at most 511 bytes; chassis and
// port IDs are 1 to 255 bytes after their subtype; an organisationally
// specific TLV's information string is at most 507 bytes after its OUI and
// subtype.
const (
	MaxTLVValue = 511
	MaxID       = 255
	MaxOrgInfo  = MaxTLVValue - 4
)

// minFrame is the minimum Ethernet frame without its FCS: Marshal pads to
// it, as a NIC would.
const minFrame = 60

// Errors Unmarshal and Marshal wrap.
var (
	// ErrNotLLDP: the frame is not an LLDP frame (another ether type, or
	// too short for an Ethernet header).
	ErrNotLLDP = errors.New("lldp: not an LLDP frame")
	// ErrTruncated: a TLV runs past the end of the frame, or a mandatory
	// TLV is missing at the end.
	ErrTruncated = errors.New("lldp: truncated")
	// ErrMalformed: the LLDPDU breaks the encoding rules (mandatory TLVs
	// out of order or repeated, bad lengths, bad addresses).
	ErrMalformed = errors.New("lldp: malformed")
)

// Frame is an LLDP frame.
type Frame struct {
	// Dst and Src are the Ethernet addresses. Marshal sends to
	// NearestBridge when Dst is empty, and from 00:00:00:00:00:00 when Src
	// is empty.
	Dst, Src net.HardwareAddr
	// ChassisSubtype and ChassisID are the chassis ID TLV.
	ChassisSubtype byte
	ChassisID      []byte
	// PortSubtype and PortID are the port ID TLV.
	PortSubtype byte
	PortID      []byte
	// TTL is how long the receiver may keep the information, in seconds.
	TTL uint16
	// Org holds the organisationally specific TLVs, in frame order.
	Org []OrgTLV
	// Other holds the other optional TLVs (port description, system name,
	// ...), in frame order.
	Other []TLV
}

// OrgTLV is an organisationally specific TLV (type 127).
type OrgTLV struct {
	// OUI is the organisation's identifier.
	OUI [3]byte
	// Subtype is defined by the organisation.
	Subtype byte
	// Info is the information string.
	Info []byte
}

// TLV is an optional TLV other than an organisationally specific one.
type TLV struct {
	// Type is between 4 and 126.
	Type byte
	// Value is at most MaxTLVValue bytes.
	Value []byte
}

// Marshal encodes the frame, padded to the minimum Ethernet frame size. It
// refuses what the encoding cannot carry: IDs that are empty or longer
// than MaxID, optional TLVs of a reserved type or too long, addresses that
// are not 6 bytes.
func (f *Frame) Marshal() ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil frame", ErrMalformed)
	}
	dst, src := f.Dst, f.Src
	if len(dst) == 0 {
		dst = NearestBridge
	}
	if len(src) == 0 {
		src = make(net.HardwareAddr, 6)
	}
	if len(dst) != 6 || len(src) != 6 {
		return nil, fmt.Errorf("%w: Ethernet addresses must be 6 bytes", ErrMalformed)
	}
	if err := checkID("chassis ID", f.ChassisID); err != nil {
		return nil, err
	}
	if err := checkID("port ID", f.PortID); err != nil {
		return nil, err
	}
	size := 14 + 2 + 1 + len(f.ChassisID) + 2 + 1 + len(f.PortID) + 2 + 2 + 2
	for i, o := range f.Org {
		if len(o.Info) > MaxOrgInfo {
			return nil, fmt.Errorf("%w: organisationally specific TLV %d: information string of %d bytes (at most %d)", ErrMalformed, i, len(o.Info), MaxOrgInfo)
		}
		size += 2 + 4 + len(o.Info)
	}
	for i, t := range f.Other {
		if t.Type <= TypeTTL || t.Type >= TypeOrgSpecific {
			return nil, fmt.Errorf("%w: optional TLV %d has type %d (want 4 to 126)", ErrMalformed, i, t.Type)
		}
		if len(t.Value) > MaxTLVValue {
			return nil, fmt.Errorf("%w: optional TLV %d: value of %d bytes (at most %d)", ErrMalformed, i, len(t.Value), MaxTLVValue)
		}
		size += 2 + len(t.Value)
	}
	b := make([]byte, 0, max(size, minFrame))
	b = append(b, dst...)
	b = append(b, src...)
	b = binary.BigEndian.AppendUint16(b, EtherType)
	b = appendTLV(b, TypeChassisID, append([]byte{f.ChassisSubtype}, f.ChassisID...))
	b = appendTLV(b, TypePortID, append([]byte{f.PortSubtype}, f.PortID...))
	b = appendTLV(b, TypeTTL, binary.BigEndian.AppendUint16(nil, f.TTL))
	for _, t := range f.Other {
		b = appendTLV(b, t.Type, t.Value)
	}
	for _, o := range f.Org {
		v := make([]byte, 0, 4+len(o.Info))
		v = append(v, o.OUI[:]...)
		v = append(v, o.Subtype)
		v = append(v, o.Info...)
		b = appendTLV(b, TypeOrgSpecific, v)
	}
	b = appendTLV(b, TypeEnd, nil)
	for len(b) < minFrame {
		b = append(b, 0)
	}
	return b, nil
}

func checkID(what string, id []byte) error {
	if len(id) == 0 || len(id) > MaxID {
		return fmt.Errorf("%w: %s of %d bytes (want 1 to %d)", ErrMalformed, what, len(id), MaxID)
	}
	return nil
}

// appendTLV appends a TLV header (7-bit type, 9-bit length) and value; the
// caller has checked that the value fits.
func appendTLV(b []byte, typ byte, v []byte) []byte {
	h := uint16(typ)<<9 | uint16(len(v))&0x1ff
	b = binary.BigEndian.AppendUint16(b, h)
	return append(b, v...)
}

// Unmarshal decodes an LLDP frame: an Ethernet header (one 802.1Q tag is
// skipped), then the chassis ID, port ID and TTL TLVs in that order, then
// optional TLVs up to an End TLV or the end of the frame. Bytes after the
// End TLV (padding) are ignored. The Frame's byte slices are copies.
func Unmarshal(b []byte) (*Frame, error) {
	if len(b) < 14 {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotLLDP, len(b))
	}
	f := &Frame{Dst: slices.Clone(net.HardwareAddr(b[0:6])), Src: slices.Clone(net.HardwareAddr(b[6:12]))}
	et := binary.BigEndian.Uint16(b[12:14])
	rest := b[14:]
	if et == etherTypeVLAN {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: 802.1Q tag cut short", ErrNotLLDP)
		}
		et = binary.BigEndian.Uint16(rest[2:4])
		rest = rest[4:]
	}
	if et != EtherType {
		return nil, fmt.Errorf("%w: ether type 0x%04x", ErrNotLLDP, et)
	}
	for i := 0; ; i++ {
		if len(rest) == 0 {
			if i < 3 {
				return nil, fmt.Errorf("%w: %s TLV missing", ErrTruncated, mandatory[i])
			}
			return f, nil
		}
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: TLV header cut short", ErrTruncated)
		}
		h := binary.BigEndian.Uint16(rest)
		typ, n := byte(h>>9), int(h&0x1ff)
		if len(rest)-2 < n {
			return nil, fmt.Errorf("%w: TLV %d (type %d) of %d bytes, %d left", ErrTruncated, i, typ, n, len(rest)-2)
		}
		v := rest[2 : 2+n]
		rest = rest[2+n:]
		if i < 3 {
			if want := byte(i + 1); typ != want {
				return nil, fmt.Errorf("%w: TLV %d has type %d, want the %s TLV (type %d)", ErrMalformed, i, typ, mandatory[i], want)
			}
		}
		switch typ {
		case TypeEnd:
			if n != 0 {
				return nil, fmt.Errorf("%w: End TLV of length %d", ErrMalformed, n)
			}
			return f, nil
		case TypeChassisID, TypePortID:
			if i >= 3 {
				return nil, fmt.Errorf("%w: second %s TLV", ErrMalformed, mandatory[typ-1])
			}
			if n < 2 || n > 1+MaxID {
				return nil, fmt.Errorf("%w: %s TLV of length %d (want 2 to %d)", ErrMalformed, mandatory[typ-1], n, 1+MaxID)
			}
			if typ == TypeChassisID {
				f.ChassisSubtype, f.ChassisID = v[0], slices.Clone(v[1:])
			} else {
				f.PortSubtype, f.PortID = v[0], slices.Clone(v[1:])
			}
		case TypeTTL:
			if i >= 3 {
				return nil, fmt.Errorf("%w: second %s TLV", ErrMalformed, mandatory[2])
			}
			if n != 2 {
				return nil, fmt.Errorf("%w: TTL TLV of length %d (want 2)", ErrMalformed, n)
			}
			f.TTL = binary.BigEndian.Uint16(v)
		case TypeOrgSpecific:
			if n < 4 {
				return nil, fmt.Errorf("%w: organisationally specific TLV of length %d (want at least 4)", ErrMalformed, n)
			}
			f.Org = append(f.Org, OrgTLV{OUI: [3]byte{v[0], v[1], v[2]}, Subtype: v[3], Info: slices.Clone(v[4:])})
		default:
			f.Other = append(f.Other, TLV{Type: typ, Value: slices.Clone(v)})
		}
	}
}

var mandatory = [3]string{"chassis ID", "port ID", "TTL"}

// FindOrg returns the information string of the first organisationally
// specific TLV with that OUI and subtype.
func (f *Frame) FindOrg(oui [3]byte, subtype byte) ([]byte, bool) {
	if f == nil {
		return nil, false
	}
	for _, o := range f.Org {
		if o.OUI == oui && o.Subtype == subtype {
			return o.Info, true
		}
	}
	return nil, false
}
