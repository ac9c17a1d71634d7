package sntp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// DefaultReferenceID is the reference ID a Server reports unless told
// otherwise: "LOCL", an uncalibrated local clock (RFC 4330 section 4), which
// is what a chassis time base driven by the host clock is.
const DefaultReferenceID = "LOCL"

// DefaultPrecision is the clock precision a Server reports: 2^-20 s, about
// one microsecond.
const DefaultPrecision = -20

// ServerOption configures Serve.
type ServerOption func(*serverConfig)

type serverConfig struct {
	stratum   uint8
	refID     [4]byte
	precision int8
}

// WithStratum sets the stratum the server reports (default 1, a primary
// server). Values outside 1..15 are ignored.
func WithStratum(s uint8) ServerOption {
	return func(c *serverConfig) {
		if s >= 1 && s <= 15 {
			c.stratum = s
		}
	}
}

// WithReferenceID sets the reference ID (default DefaultReferenceID): up to
// four ASCII characters, zero-padded on the wire. Longer or non-ASCII
// strings are ignored.
func WithReferenceID(id string) ServerOption {
	return func(c *serverConfig) {
		if len(id) == 0 || len(id) > 4 {
			return
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x20 || id[i] > 0x7e {
				return
			}
		}
		c.refID = [4]byte{}
		copy(c.refID[:], id)
	}
}

// WithPrecision sets the precision the server reports, log2 seconds
// (default DefaultPrecision).
func WithPrecision(p int8) ServerOption { return func(c *serverConfig) { c.precision = p } }

func newServerConfig(opts []ServerOption) serverConfig {
	cfg := serverConfig{stratum: 1, precision: DefaultPrecision}
	copy(cfg.refID[:], DefaultReferenceID)
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// Serve answers SNTP requests arriving on conn with the time read from now,
// as a primary (stratum 1) server does (RFC 4330 section 6): a client
// request (mode 3) gets a server reply (mode 4), a symmetric-active one
// (mode 1) a symmetric-passive reply (mode 2), in the request's version,
// with the request's transmit timestamp as originate timestamp and now()
// as receive and transmit timestamps. Packets of other modes, of version 0
// or above 4, and packets shorter than a header are dropped without a
// reply.
//
// Serve returns nil when ctx ends or conn is closed, and an error for any
// other failure to read. The caller owns conn: Serve does not close it, but
// leaves its read deadline in the past when ctx ends. A nil now means
// time.Now.
func Serve(ctx context.Context, conn net.PacketConn, now func() time.Time, opts ...ServerOption) error {
	if conn == nil {
		return errors.New("sntp: serve: nil connection")
	}
	if now == nil {
		now = time.Now
	}
	cfg := newServerConfig(opts)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	buf := make([]byte, 1024)
	out := make([]byte, 0, PacketSize)
	for {
		n, from, err := conn.ReadFrom(buf)
		received := now()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("sntp: serve on %s: %w", conn.LocalAddr(), err)
		}
		reply, ok := cfg.reply(buf[:n], received, now)
		if !ok {
			continue
		}
		out = reply.Append(out[:0])
		// A failed send (the client went away) only loses this reply.
		_, _ = conn.WriteTo(out, from)
	}
}

// reply builds the answer to request, received at received; ok is false
// when the request must be dropped. The transmit timestamp is read from now
// last, as late as possible.
func (cfg *serverConfig) reply(request []byte, received time.Time, now func() time.Time) (Packet, bool) {
	req, err := Decode(request)
	if err != nil || req.Version < 1 || req.Version > 4 {
		return Packet{}, false
	}
	var mode Mode
	switch req.Mode {
	case ModeClient:
		mode = ModeServer
	case ModeSymmetricActive:
		mode = ModeSymmetricPassive
	default:
		return Packet{}, false
	}
	rx := NewTimestamp(received)
	p := Packet{
		Leap:        LeapNone,
		Version:     req.Version,
		Mode:        mode,
		Stratum:     cfg.stratum,
		Poll:        req.Poll,
		Precision:   cfg.precision,
		ReferenceID: cfg.refID,
		Reference:   rx,
		Originate:   req.Transmit,
		Receive:     rx,
	}
	p.Transmit = NewTimestamp(now())
	return p, true
}
