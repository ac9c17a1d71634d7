package sntp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"time"
)

// DefaultTimeout bounds a Query whose context has no earlier deadline.
const DefaultTimeout = 5 * time.Second

// DefaultPort is the NTP port, used when a Query address has none.
const DefaultPort = "123"

// Errors a Query returns (wrapped) when the server's reply is not usable.
// Test for them with errors.Is.
var (
	// ErrKissOfDeath: the server answered with stratum 0 (RFC 4330 section
	// 8). The error names the kiss code; a client must stop sending to a
	// server that says "DENY" or "RSTR" and slow down on "RATE".
	ErrKissOfDeath = errors.New("sntp: kiss-o'-death")
	// ErrNotSynchronized: the server's leap indicator says its clock is not
	// synchronized (LI = 3).
	ErrNotSynchronized = errors.New("sntp: server clock not synchronized")
	// ErrBadReply: the reply fails the sanity checks of RFC 4330 section 5
	// (mode, version, stratum, transmit timestamp).
	ErrBadReply = errors.New("sntp: invalid server reply")
	// ErrNoReply: no acceptable reply arrived before the deadline.
	ErrNoReply = errors.New("sntp: no reply")
)

// Response is the outcome of one SNTP exchange, with the four timestamps
// named as in RFC 4330 section 5: T1 the client's transmit time, T2 the
// server's receive time, T3 the server's transmit time, T4 the client's
// receive time.
type Response struct {
	// Time is the server's transmit time T3.
	Time time.Time
	// Offset is the estimated offset of the server's clock from the
	// client's: ((T2 - T1) + (T3 - T4)) / 2. Add it to the client's clock to
	// read the server's.
	Offset time.Duration
	// RTT is the round-trip delay (T4 - T1) - (T3 - T2), the time the
	// request and the reply spent on the network. Offset is exact to within
	// RTT/2 whatever the asymmetry of the path.
	RTT time.Duration
	// Stratum is the server's stratum (1 for a primary server).
	Stratum uint8
	// Leap is the server's leap indicator.
	Leap LeapIndicator
	// Version is the protocol version of the reply.
	Version uint8
	// ReferenceID identifies the server's reference source.
	ReferenceID [4]byte
	// ReferenceTime is when the server's clock was last set.
	ReferenceTime time.Time
	// RootDelay and RootDispersion are the server's distance to its primary
	// reference source.
	RootDelay, RootDispersion time.Duration
	// Precision is the server clock's precision.
	Precision time.Duration
	// Poll is the polling interval the server suggests (2^poll seconds).
	Poll int8
}

// ErrorBound is half the round-trip delay: the largest possible error of
// Offset.
func (r Response) ErrorBound() time.Duration { return r.RTT / 2 }

// QueryOption configures a Query.
type QueryOption func(*queryConfig)

type queryConfig struct {
	now     func() time.Time
	version uint8
	timeout time.Duration
}

// WithClock makes Query read the client's clock (T1 and T4) from now
// instead of time.Now: an emulated box measures its own clock's offset this
// way. A nil now is ignored.
func WithClock(now func() time.Time) QueryOption {
	return func(c *queryConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// WithVersion sets the version number of the request (default 4). Values
// outside 1..4 are ignored.
func WithVersion(v uint8) QueryOption {
	return func(c *queryConfig) {
		if v >= 1 && v <= 4 {
			c.version = v
		}
	}
}

// WithTimeout bounds the query when the context has no earlier deadline
// (default DefaultTimeout). A non-positive d is ignored.
func WithTimeout(d time.Duration) QueryOption {
	return func(c *queryConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// Query sends one SNTP client request to addr ("host:port", or "host" for
// port 123) over UDP and returns the server's time and the offset and
// round-trip delay computed as RFC 4330 section 5 says. Replies that do not
// answer this request (originate timestamp different from the request's
// transmit timestamp) are discarded, and Query keeps waiting; a reply that
// answers it but fails the sanity checks is an error wrapping ErrBadReply,
// ErrKissOfDeath or ErrNotSynchronized. The context bounds the whole
// exchange.
func Query(ctx context.Context, addr string, opts ...QueryOption) (Response, error) {
	cfg := queryConfig{now: time.Now, version: 4, timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if addr == "" {
		return Response{}, errors.New("sntp: query: empty server address")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, DefaultPort)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Response{}, fmt.Errorf("sntp: query %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	resp, err := exchange(conn, cfg)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, ErrNoReply) || isTimeout(err)) {
			return Response{}, fmt.Errorf("sntp: query %s: %w: %w", addr, ErrNoReply, ctxErr)
		}
		return Response{}, fmt.Errorf("sntp: query %s: %w", addr, err)
	}
	return resp, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// exchange sends a request on conn and waits for the reply that answers it.
func exchange(conn net.Conn, cfg queryConfig) (Response, error) {
	t1 := cfg.now()
	req := Packet{Version: cfg.version, Mode: ModeClient, Transmit: requestStamp(t1)}
	buf, _ := req.MarshalBinary()
	if _, err := conn.Write(buf); err != nil {
		return Response{}, fmt.Errorf("send request: %w", err)
	}
	in := make([]byte, 512)
	var discarded error
	for {
		n, err := conn.Read(in)
		t4 := cfg.now()
		if err != nil {
			if discarded != nil && isTimeout(err) {
				return Response{}, fmt.Errorf("%w (last reply discarded: %v): %w", ErrNoReply, discarded, err)
			}
			return Response{}, fmt.Errorf("read reply: %w", err)
		}
		p, err := Decode(in[:n])
		if err != nil {
			discarded = err
			continue
		}
		if p.Originate != req.Transmit {
			discarded = fmt.Errorf("originate timestamp %s does not match the request's %s", p.Originate, req.Transmit)
			continue
		}
		if err := CheckReply(&p); err != nil {
			return Response{}, err
		}
		return response(&p, t1, t4), nil
	}
}

// requestStamp is the transmit timestamp of a request sent at t1: t1 with
// its lowest 16 fraction bits (about 15 µs) replaced by random bits, so that
// a reply can be matched to its request even when two requests leave within
// the same fraction (RFC 5905 section 9.1 recommends such randomisation).
func requestStamp(t1 time.Time) Timestamp {
	var r [2]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	ts := NewTimestamp(t1)&^0xffff | Timestamp(binary.BigEndian.Uint16(r[:]))
	if ts == 0 {
		ts = 1
	}
	return ts
}

// CheckReply applies the sanity checks of RFC 4330 section 5 to a server
// reply: mode 4 (server) or 5 (broadcast), a non-zero version, a stratum
// from 1 to 15 (0 is a kiss-o'-death), a non-zero transmit timestamp, and a
// leap indicator other than 3 (not synchronized).
func CheckReply(p *Packet) error {
	switch {
	case p.Stratum == 0:
		return fmt.Errorf("%w: kiss code %q", ErrKissOfDeath, p.KissCode())
	case p.Leap == LeapNotInSync:
		return fmt.Errorf("%w (leap indicator 3, stratum %d)", ErrNotSynchronized, p.Stratum)
	case p.Mode != ModeServer && p.Mode != ModeBroadcast:
		return fmt.Errorf("%w: mode %s, want server or broadcast", ErrBadReply, p.Mode)
	case p.Version == 0:
		return fmt.Errorf("%w: version 0", ErrBadReply)
	case p.Stratum > 15:
		return fmt.Errorf("%w: stratum %d above 15", ErrBadReply, p.Stratum)
	case p.Transmit == 0:
		return fmt.Errorf("%w: zero transmit timestamp", ErrBadReply)
	}
	return nil
}

// response computes the offset and delay of an exchange. T1 and T4 are the
// client's own readings; the request carries a randomised copy of T1, so
// the exact t1 is used rather than the echoed originate timestamp.
func response(p *Packet, t1, t4 time.Time) Response {
	t2, t3 := p.Receive.Time(), p.Transmit.Time()
	if p.Receive == 0 {
		t2 = t3 // a server that does not fill the receive timestamp
	}
	// Differences first, as RFC 4330 recommends, so that no sum of two
	// absolute times overflows.
	rtt := t4.Sub(t1) - t3.Sub(t2)
	offset := t2.Sub(t1)/2 + t3.Sub(t4)/2
	if rtt < 0 {
		rtt = 0 // clock granularity, or a server whose T3 precedes T2
	}
	prec := time.Duration(0)
	if p.Precision > -64 && p.Precision < 32 {
		prec = time.Duration(math.Ldexp(float64(time.Second), int(p.Precision)))
	}
	return Response{
		Time:           t3,
		Offset:         offset,
		RTT:            rtt,
		Stratum:        p.Stratum,
		Leap:           p.Leap,
		Version:        p.Version,
		ReferenceID:    p.ReferenceID,
		ReferenceTime:  p.Reference.Time(),
		RootDelay:      p.RootDelay,
		RootDispersion: p.RootDispersion,
		Precision:      prec,
		Poll:           p.Poll,
	}
}
