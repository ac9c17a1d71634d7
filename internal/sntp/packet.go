package sntp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// PacketSize is the size of an SNTP header without the optional
// authenticator (RFC 4330 section 4). Decode accepts longer packets and
// ignores what follows the header (authenticator or NTPv4 extension fields).
const PacketSize = 48

// ntpEpochOffset is the number of seconds from the NTP prime epoch
// (1900-01-01T00:00:00Z) to the Unix epoch (1970-01-01T00:00:00Z).
const ntpEpochOffset = 2208988800

// ErrShortPacket is wrapped by the error Decode returns for a packet shorter
// than PacketSize.
var ErrShortPacket = errors.New("sntp: packet shorter than 48 bytes")

// LeapIndicator warns of an impending leap second, or that the sender's
// clock is not synchronized (RFC 4330 section 4, LI field).
type LeapIndicator uint8

// Leap indicator values.
const (
	LeapNone          LeapIndicator = 0 // no warning
	LeapAddSecond     LeapIndicator = 1 // last minute of the day has 61 seconds
	LeapDelSecond     LeapIndicator = 2 // last minute of the day has 59 seconds
	LeapNotInSync     LeapIndicator = 3 // alarm condition: clock not synchronized
	leapIndicatorMask               = 3
)

// String names the leap indicator.
func (l LeapIndicator) String() string {
	switch l {
	case LeapNone:
		return "none"
	case LeapAddSecond:
		return "add-second"
	case LeapDelSecond:
		return "delete-second"
	case LeapNotInSync:
		return "not-synchronized"
	}
	return fmt.Sprintf("leap(%d)", uint8(l))
}

// Mode is the association mode of a packet (RFC 4330 section 4).
type Mode uint8

// Modes.
const (
	ModeReserved         Mode = 0
	ModeSymmetricActive  Mode = 1
	ModeSymmetricPassive Mode = 2
	ModeClient           Mode = 3
	ModeServer           Mode = 4
	ModeBroadcast        Mode = 5
	ModeControl          Mode = 6 // reserved for NTP control messages
	ModePrivate          Mode = 7 // reserved for private use
)

// String names the mode.
func (m Mode) String() string {
	names := [...]string{"reserved", "symmetric-active", "symmetric-passive", "client", "server", "broadcast", "control", "private"}
	if int(m) < len(names) {
		return names[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Timestamp is an NTP timestamp: 32 bits of seconds since the NTP epoch and
// 32 bits of fraction of a second (RFC 4330 section 3). The zero Timestamp
// means "unknown" (for instance the originate timestamp of a client
// request).
//
// The seconds field wraps every 2^32 seconds (136 years). Following RFC 4330
// section 3, a timestamp whose most significant bit is set is read in
// 1968–2036 (era 0), and one whose most significant bit is clear in
// 2036–2104 (era 1), so times from 1968-01-20 to 2104-02-26 round-trip.
// Times outside that window are stored modulo 2^32 seconds and read back
// inside it.
type Timestamp uint64

// NewTimestamp returns the NTP timestamp of t (nanoseconds are rounded down
// to the fraction's resolution, about 233 picoseconds). The zero time.Time
// gives the zero Timestamp.
func NewTimestamp(t time.Time) Timestamp {
	if t.IsZero() {
		return 0
	}
	secs := uint64(t.Unix() + ntpEpochOffset) // wraps modulo 2^64; only the low 32 bits are kept
	frac := (uint64(t.Nanosecond()) << 32) / 1e9
	return Timestamp(secs<<32 | frac&0xffffffff)
}

// Time returns the time the timestamp stands for, in UTC, or the zero
// time.Time for the zero Timestamp.
func (ts Timestamp) Time() time.Time {
	if ts == 0 {
		return time.Time{}
	}
	secs := int64(ts >> 32)
	if secs&0x80000000 == 0 {
		secs += 1 << 32 // era 1: 2036-02-07T06:28:16Z and later
	}
	frac := uint64(ts & 0xffffffff)
	nsec := int64((frac*1e9 + 1<<31) >> 32) // rounded; 1e9 is normalised by time.Unix
	return time.Unix(secs-ntpEpochOffset, nsec).UTC()
}

// IsZero reports whether ts is the zero ("unknown") timestamp.
func (ts Timestamp) IsZero() bool { return ts == 0 }

// String formats the timestamp as an RFC 3339 time with nanoseconds.
func (ts Timestamp) String() string {
	if ts == 0 {
		return "0"
	}
	return ts.Time().Format(time.RFC3339Nano)
}

// Packet is an SNTP/NTP header (RFC 4330 section 4).
type Packet struct {
	// Leap is the leap indicator.
	Leap LeapIndicator
	// Version is the NTP version number, 1 to 4 in practice (3 bits).
	Version uint8
	// Mode is the association mode (3 bits).
	Mode Mode
	// Stratum is 0 in a kiss-o'-death message, 1 for a primary server, 2 to
	// 15 for secondary servers.
	Stratum uint8
	// Poll is the maximum interval between messages, log2 seconds.
	Poll int8
	// Precision is the precision of the sender's clock, log2 seconds.
	Precision int8
	// RootDelay is the round-trip delay to the primary reference source
	// (signed 16.16 fixed-point seconds on the wire).
	RootDelay time.Duration
	// RootDispersion is the nominal error relative to the primary reference
	// source (unsigned 16.16 fixed-point seconds on the wire).
	RootDispersion time.Duration
	// ReferenceID identifies the reference source: four ASCII characters
	// for stratum 0 (the kiss code) and 1, an address or hash for higher
	// strata.
	ReferenceID [4]byte
	// Reference is when the sender's clock was last set or corrected.
	Reference Timestamp
	// Originate is the client's transmit time, copied by the server.
	Originate Timestamp
	// Receive is when the request arrived at the server.
	Receive Timestamp
	// Transmit is when the packet left its sender.
	Transmit Timestamp
}

// Append appends the 48-byte wire form of p to b. Fields wider than their
// wire fields are truncated (Version and Mode to 3 bits, Leap to 2);
// RootDelay and RootDispersion are clamped to what 16.16 fixed point holds.
func (p *Packet) Append(b []byte) []byte {
	b = append(b,
		byte(p.Leap&leapIndicatorMask)<<6|(p.Version&7)<<3|byte(p.Mode&7),
		p.Stratum, byte(p.Poll), byte(p.Precision))
	b = binary.BigEndian.AppendUint32(b, uint32(shortSigned(p.RootDelay)))
	b = binary.BigEndian.AppendUint32(b, shortUnsigned(p.RootDispersion))
	b = append(b, p.ReferenceID[:]...)
	for _, ts := range [...]Timestamp{p.Reference, p.Originate, p.Receive, p.Transmit} {
		b = binary.BigEndian.AppendUint64(b, uint64(ts))
	}
	return b
}

// MarshalBinary returns the 48-byte wire form of p. It never fails.
func (p *Packet) MarshalBinary() ([]byte, error) {
	return p.Append(make([]byte, 0, PacketSize)), nil
}

// UnmarshalBinary decodes data into p; see Decode.
func (p *Packet) UnmarshalBinary(data []byte) error {
	q, err := Decode(data)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Decode parses the header at the start of b. Bytes after the first 48
// (authenticator, extension fields) are ignored. Decode checks only the
// length: any 48 bytes are a Packet. Whether a packet is an acceptable reply
// is for the client to judge (see Query).
func Decode(b []byte) (Packet, error) {
	if len(b) < PacketSize {
		return Packet{}, fmt.Errorf("%w: got %d", ErrShortPacket, len(b))
	}
	p := Packet{
		Leap:           LeapIndicator(b[0] >> 6),
		Version:        (b[0] >> 3) & 7,
		Mode:           Mode(b[0] & 7),
		Stratum:        b[1],
		Poll:           int8(b[2]),
		Precision:      int8(b[3]),
		RootDelay:      fromShort(int64(int32(binary.BigEndian.Uint32(b[4:8])))),
		RootDispersion: fromShort(int64(binary.BigEndian.Uint32(b[8:12]))),
		Reference:      Timestamp(binary.BigEndian.Uint64(b[16:24])),
		Originate:      Timestamp(binary.BigEndian.Uint64(b[24:32])),
		Receive:        Timestamp(binary.BigEndian.Uint64(b[32:40])),
		Transmit:       Timestamp(binary.BigEndian.Uint64(b[40:48])),
	}
	copy(p.ReferenceID[:], b[12:16])
	return p, nil
}

// fromShort converts 16.16 fixed-point seconds to a duration.
func fromShort(v int64) time.Duration {
	// |v| < 2^32, so v*1e9 < 2^62: no overflow.
	return time.Duration((v * int64(time.Second)) >> 16)
}

// shortSigned converts d to signed 16.16 fixed-point seconds, clamped.
func shortSigned(d time.Duration) int32 {
	v := toShort(d)
	return int32(max(min(v, math.MaxInt32), math.MinInt32))
}

// shortUnsigned converts d to unsigned 16.16 fixed-point seconds, clamped.
func shortUnsigned(d time.Duration) uint32 {
	v := toShort(d)
	return uint32(max(min(v, math.MaxUint32), 0))
}

// toShort converts d to 16.16 fixed-point seconds, rounding to the nearest
// unit (half away from zero), so that toShort(fromShort(v)) == v.
func toShort(d time.Duration) int64 {
	// Split to avoid overflowing d<<16 for large durations.
	secs := int64(d / time.Second)
	rem := int64(d%time.Second) << 16 // |rem| < 1e9·2^16 < 2^46
	half := int64(time.Second) / 2
	if rem < 0 {
		half = -half
	}
	return secs<<16 + (rem+half)/int64(time.Second)
}

// KissCode returns the kiss code of a kiss-o'-death packet (stratum 0): its
// reference ID as ASCII, such as "DENY", "RSTR" or "RATE", with trailing NUL
// bytes removed. It returns "" for other packets.
func (p *Packet) KissCode() string {
	if p.Stratum != 0 {
		return ""
	}
	code := p.ReferenceID[:]
	for len(code) > 0 && code[len(code)-1] == 0 {
		code = code[:len(code)-1]
	}
	for _, c := range code {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", p.ReferenceID)
		}
	}
	return string(code)
}
