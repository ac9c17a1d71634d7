package discovery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
)

// OUI is the organisation identifier of the organisationally specific
// TLVs a probe carries: 02:66:62, in the locally administered range that
// the IEEE assigns to no one.
var OUI = [3]byte{0x02, 0x66, 0x62}

// Subtypes of the probe's organisationally specific TLVs.
const (
	// SubtypeProbe carries the fingerprint (8 bytes) and the send time
	// (Unix nanoseconds, 8 bytes), big-endian.
	SubtypeProbe = 1
	// SubtypeSignature carries the first 16 bytes of an HMAC-SHA256 of
	// the chassis ID, a zero byte, the port ID and the SubtypeProbe
	// information string, keyed with the discovery secret.
	SubtypeSignature = 2
)

const signatureLen = 16

// Errors ParseProbe wraps (besides the lldp package's ErrNotLLDP,
// ErrTruncated and ErrMalformed).
var (
	// ErrNotProbe: an LLDP frame without a probe TLV: LLDP from a host or
	// a switch's own agent.
	ErrNotProbe = errors.New("discovery: LLDP frame is not a probe")
	// ErrBadSignature: the probe's signature is missing or wrong for the
	// secret.
	ErrBadSignature = errors.New("discovery: probe signature does not verify")
)

// Probe is what a link-discovery probe tells the controller that receives
// it from another device: which device and port it left through, which
// Discovery sent it, and when. On the wire it is an LLDP frame: the chassis
// ID TLV holds Device (locally assigned), the port ID TLV the port in
// decimal (locally assigned), the TTL TLV the TTL in whole seconds, and an
// organisationally specific TLV (OUI, SubtypeProbe) the fingerprint and
// the send time; with a secret, a second one (SubtypeSignature) signs them.
type Probe struct {
	// Device is the ID of the device that sent the probe.
	Device string
	// Port is the port the probe left through.
	Port uint32
	// Fingerprint identifies the Discovery that sent the probe, so that a
	// Discovery ignores probes it did not send.
	Fingerprint uint64
	// Sent is when the probe was built.
	Sent time.Time
	// TTL is how long the receiver may trust the probe (whole seconds on
	// the wire, rounded up; at most 65535 s).
	TTL time.Duration
}

// Marshal encodes the probe as an LLDP frame from a locally administered
// MAC address derived from the fingerprint, signed when secret is not
// empty.
func (p Probe) Marshal(secret []byte) ([]byte, error) {
	if p.Device == "" || len(p.Device) > lldp.MaxID {
		return nil, fmt.Errorf("discovery: probe: device ID of %d bytes (want 1 to %d)", len(p.Device), lldp.MaxID)
	}
	ttl := math.Ceil(p.TTL.Seconds())
	ttl = min(max(ttl, 0), math.MaxUint16)
	chassis := []byte(p.Device)
	port := strconv.AppendUint(nil, uint64(p.Port), 10)
	info := binary.BigEndian.AppendUint64(nil, p.Fingerprint)
	info = binary.BigEndian.AppendUint64(info, uint64(p.Sent.UnixNano()))
	f := lldp.Frame{
		Dst:            lldp.NearestBridge,
		Src:            probeMAC(p.Fingerprint),
		ChassisSubtype: lldp.ChassisIDLocal, ChassisID: chassis,
		PortSubtype: lldp.PortIDLocal, PortID: port,
		TTL: uint16(ttl),
		Org: []lldp.OrgTLV{{OUI: OUI, Subtype: SubtypeProbe, Info: info}},
	}
	if len(secret) > 0 {
		f.Org = append(f.Org, lldp.OrgTLV{OUI: OUI, Subtype: SubtypeSignature, Info: sign(secret, chassis, port, info)})
	}
	b, err := f.Marshal()
	if err != nil {
		return nil, fmt.Errorf("discovery: probe: %w", err)
	}
	return b, nil
}

// probeMAC is the source address of a Discovery's probes: locally
// administered, unicast, the low 40 bits of the fingerprint.
func probeMAC(fp uint64) net.HardwareAddr {
	return net.HardwareAddr{0x02, byte(fp >> 32), byte(fp >> 24), byte(fp >> 16), byte(fp >> 8), byte(fp)}
}

func sign(secret, chassis, port, info []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(chassis)
	m.Write([]byte{0})
	m.Write(port)
	m.Write(info)
	return m.Sum(nil)[:signatureLen]
}

// ParseProbe decodes a probe from a frame. With a secret, the probe must
// carry a signature made with it (else ErrBadSignature); without one, a
// signature is ignored. LLDP that is not a probe is ErrNotProbe; a frame
// that is not LLDP or is malformed wraps the lldp package's errors.
func ParseProbe(frame []byte, secret []byte) (Probe, error) {
	f, err := lldp.Unmarshal(frame)
	if err != nil {
		return Probe{}, err
	}
	info, ok := f.FindOrg(OUI, SubtypeProbe)
	if !ok || len(info) != 16 || f.ChassisSubtype != lldp.ChassisIDLocal || f.PortSubtype != lldp.PortIDLocal {
		return Probe{}, ErrNotProbe
	}
	if len(secret) > 0 {
		sig, ok := f.FindOrg(OUI, SubtypeSignature)
		if !ok || !hmac.Equal(sig, sign(secret, f.ChassisID, f.PortID, info)) {
			return Probe{}, ErrBadSignature
		}
	}
	port, err := parsePort(f.PortID)
	if err != nil {
		return Probe{}, fmt.Errorf("%w: probe port ID %q: %v", lldp.ErrMalformed, f.PortID, err)
	}
	return Probe{
		Device:      string(f.ChassisID),
		Port:        port,
		Fingerprint: binary.BigEndian.Uint64(info),
		Sent:        time.Unix(0, int64(binary.BigEndian.Uint64(info[8:]))),
		TTL:         time.Duration(f.TTL) * time.Second,
	}, nil
}

// parsePort parses a port number in canonical decimal (no sign, no
// leading zeros), so that a port has exactly one encoding.
func parsePort(b []byte) (uint32, error) {
	if len(b) > 1 && b[0] == '0' {
		return 0, errors.New("leading zero")
	}
	n, err := strconv.ParseUint(string(b), 10, 32)
	if err != nil {
		return 0, errors.New("not a port number")
	}
	return uint32(n), nil
}
