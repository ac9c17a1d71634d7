package sntp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestTimestampRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{"unix epoch", time.Unix(0, 0)},
		{"now-ish", time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)},
		{"era 0 start", time.Date(1968, 1, 20, 3, 14, 8, 0, time.UTC)},
		{"just before era 1", time.Date(2036, 2, 7, 6, 28, 15, 999999999, time.UTC)},
		{"era 1 start", time.Date(2036, 2, 7, 6, 28, 16, 1, time.UTC)},
		{"late era 1", time.Date(2104, 2, 26, 9, 42, 23, 5, time.UTC)},
		{"nanosecond", time.Unix(1_700_000_000, 1)},
		{"almost a second", time.Unix(1_700_000_000, 999_999_999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := NewTimestamp(tt.t)
			got := ts.Time()
			if d := got.Sub(tt.t); d.Abs() > time.Nanosecond {
				t.Fatalf("NewTimestamp(%v).Time() = %v (%v off)", tt.t, got, d)
			}
		})
	}
}

func TestTimestampKnownValues(t *testing.T) {
	tests := []struct {
		t    time.Time
		want Timestamp
	}{
		// RFC 868/5905: the Unix epoch is 2,208,988,800 s after the NTP epoch.
		{time.Unix(0, 0), Timestamp(0x83AA7E80) << 32},
		{time.Unix(0, 500_000_000), Timestamp(0x83AA7E80)<<32 | 0x80000000},
		// Era 1 begins at 2036-02-07T06:28:16Z with seconds field 0.
		{time.Date(2036, 2, 7, 6, 28, 17, 0, time.UTC), Timestamp(1) << 32},
		{time.Time{}, 0},
	}
	for _, tt := range tests {
		if got := NewTimestamp(tt.t); got != tt.want {
			t.Errorf("NewTimestamp(%v) = %#x, want %#x", tt.t, uint64(got), uint64(tt.want))
		}
	}
	if !Timestamp(0).Time().IsZero() || !Timestamp(0).IsZero() || Timestamp(0).String() != "0" {
		t.Error("the zero Timestamp is not the zero time")
	}
}

func TestPacketRoundTrip(t *testing.T) {
	p := Packet{
		Leap: LeapAddSecond, Version: 4, Mode: ModeServer, Stratum: 2, Poll: 6, Precision: -20,
		RootDelay: -1500 * time.Millisecond, RootDispersion: 250 * time.Millisecond,
		ReferenceID: [4]byte{'G', 'P', 'S', 0},
		Reference:   NewTimestamp(time.Unix(1_700_000_000, 0)),
		Originate:   0x0123456789abcdef,
		Receive:     NewTimestamp(time.Unix(1_700_000_001, 250)),
		Transmit:    NewTimestamp(time.Unix(1_700_000_001, 999)),
	}
	b, err := p.MarshalBinary()
	if err != nil || len(b) != PacketSize {
		t.Fatalf("MarshalBinary = %d bytes, %v", len(b), err)
	}
	if b[0] != 1<<6|4<<3|4 {
		t.Errorf("first byte = %08b", b[0])
	}
	var q Packet
	if err := q.UnmarshalBinary(append(b, make([]byte, 20)...)); err != nil { // with an authenticator
		t.Fatal(err)
	}
	if q != p {
		t.Fatalf("decoded\n%+v\nwant\n%+v", q, p)
	}
	if _, err := Decode(b[:47]); !errors.Is(err, ErrShortPacket) {
		t.Fatalf("Decode(47 bytes) error = %v, want ErrShortPacket", err)
	}
}

func TestShortFormat(t *testing.T) {
	tests := []struct {
		name      string
		delay     time.Duration
		wantDelay uint32
		disp      time.Duration
		wantDisp  uint32
	}{
		{"zero", 0, 0, 0, 0},
		{"one second", time.Second, 1 << 16, time.Second, 1 << 16},
		{"half second", 500 * time.Millisecond, 1 << 15, 500 * time.Millisecond, 1 << 15},
		{"negative delay", -time.Second, 0xffff0000, -time.Second, 0},
		{"clamped", 100000 * time.Second, 0x7fffffff, 100000 * time.Second, 0xffffffff},
		{"clamped negative", -100000 * time.Second, 0x80000000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Packet{RootDelay: tt.delay, RootDispersion: tt.disp}
			b := p.Append(nil)
			if got := binary.BigEndian.Uint32(b[4:8]); got != tt.wantDelay {
				t.Errorf("root delay = %#x, want %#x", got, tt.wantDelay)
			}
			if got := binary.BigEndian.Uint32(b[8:12]); got != tt.wantDisp {
				t.Errorf("root dispersion = %#x, want %#x", got, tt.wantDisp)
			}
		})
	}
}

func TestKissCode(t *testing.T) {
	tests := []struct {
		p    Packet
		want string
	}{
		{Packet{Stratum: 0, ReferenceID: [4]byte{'D', 'E', 'N', 'Y'}}, "DENY"},
		{Packet{Stratum: 0, ReferenceID: [4]byte{'R', 'A', 'T', 'E'}}, "RATE"},
		{Packet{Stratum: 0, ReferenceID: [4]byte{'X', 0, 0, 0}}, "X"},
		{Packet{Stratum: 0, ReferenceID: [4]byte{1, 2, 3, 4}}, "01020304"},
		{Packet{Stratum: 1, ReferenceID: [4]byte{'L', 'O', 'C', 'L'}}, ""},
	}
	for _, tt := range tests {
		if got := tt.p.KissCode(); got != tt.want {
			t.Errorf("KissCode(%v) = %q, want %q", tt.p.ReferenceID, got, tt.want)
		}
	}
}

func TestCheckReply(t *testing.T) {
	good := Packet{Version: 4, Mode: ModeServer, Stratum: 1, Transmit: 1}
	tests := []struct {
		name   string
		modify func(*Packet)
		want   error
	}{
		{"good", func(*Packet) {}, nil},
		{"broadcast", func(p *Packet) { p.Mode = ModeBroadcast }, nil},
		{"kiss of death", func(p *Packet) { p.Stratum = 0; p.ReferenceID = [4]byte{'D', 'E', 'N', 'Y'} }, ErrKissOfDeath},
		{"not synchronized", func(p *Packet) { p.Leap = LeapNotInSync }, ErrNotSynchronized},
		{"client mode", func(p *Packet) { p.Mode = ModeClient }, ErrBadReply},
		{"version 0", func(p *Packet) { p.Version = 0 }, ErrBadReply},
		{"stratum 16", func(p *Packet) { p.Stratum = 16 }, ErrBadReply},
		{"zero transmit", func(p *Packet) { p.Transmit = 0 }, ErrBadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.modify(&p)
			err := CheckReply(&p)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckReply = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestResponseComputation(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The server is 1 s ahead; 10 ms out, 30 ms back, 5 ms in the server.
	t1 := base
	t2 := base.Add(time.Second + 10*time.Millisecond)
	t3 := t2.Add(5 * time.Millisecond)
	t4 := base.Add(45 * time.Millisecond)
	p := Packet{Version: 4, Mode: ModeServer, Stratum: 1, Precision: -10, Receive: NewTimestamp(t2), Transmit: NewTimestamp(t3)}
	r := response(&p, t1, t4)
	if d := r.RTT - 40*time.Millisecond; d.Abs() > 2*time.Nanosecond {
		t.Errorf("RTT = %v, want 40ms", r.RTT)
	}
	// ((10ms + 1s) + (1s + 15ms - 45ms)) / 2 = 990ms: 10 ms off the true
	// 1 s, within the RTT/2 = 20 ms bound.
	if d := r.Offset - 990*time.Millisecond; d.Abs() > 2*time.Nanosecond {
		t.Errorf("Offset = %v, want 990ms", r.Offset)
	}
	if (r.Offset - time.Second).Abs() > r.ErrorBound() {
		t.Errorf("true offset outside the error bound")
	}
	if r.Precision != time.Second/1024 {
		t.Errorf("Precision = %v", r.Precision)
	}
}

func FuzzDecode(f *testing.F) {
	p := Packet{Version: 4, Mode: ModeClient, Transmit: NewTimestamp(time.Unix(1_700_000_000, 42))}
	f.Add(p.Append(nil))
	p = Packet{Leap: LeapNotInSync, Version: 3, Mode: ModeServer, Stratum: 1, RootDelay: -time.Second, RootDispersion: time.Millisecond}
	f.Add(p.Append(nil))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 68))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			if len(b) >= PacketSize {
				t.Fatalf("Decode(%d bytes) failed: %v", len(b), err)
			}
			return
		}
		// Decoding is exact: encoding the packet gives the header back.
		if got := p.Append(nil); !bytes.Equal(got, b[:PacketSize]) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", got, b[:PacketSize])
		}
		_ = CheckReply(&p)
		_ = p.KissCode()
		_ = p.Transmit.Time()
		_ = p.Reference.String()
	})
}

func FuzzServerReply(f *testing.F) {
	p := Packet{Version: 4, Mode: ModeClient, Poll: 4, Transmit: NewTimestamp(time.Unix(1_700_000_000, 42))}
	f.Add(p.Append(nil))
	p = Packet{Version: 1, Mode: ModeSymmetricActive}
	f.Add(p.Append(nil))
	p = Packet{Version: 4, Mode: ModeServer}
	f.Add(p.Append(nil))
	f.Add([]byte("not an ntp packet"))
	cfg := newServerConfig(nil)
	rx := time.Unix(1_800_000_000, 0)
	now := func() time.Time { return rx.Add(time.Microsecond) }
	f.Fuzz(func(t *testing.T, b []byte) {
		reply, ok := cfg.reply(b, rx, now)
		if !ok {
			return
		}
		req, err := Decode(b)
		if err != nil {
			t.Fatalf("answered an undecodable request: %v", err)
		}
		if reply.Originate != req.Transmit || reply.Version != req.Version || reply.Stratum != 1 {
			t.Fatalf("reply %+v does not answer %+v", reply, req)
		}
		if reply.Mode != ModeServer && reply.Mode != ModeSymmetricPassive {
			t.Fatalf("reply mode %v", reply.Mode)
		}
		// A client accepts what the server sends.
		if reply.Mode == ModeServer {
			if err := CheckReply(&reply); err != nil {
				t.Fatalf("own reply rejected: %v", err)
			}
		}
	})
}
