package sntp

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// listen opens a UDP socket on loopback, closed at the end of the test.
func listen(t *testing.T) net.PacketConn {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// serve runs Serve on a fresh loopback socket until the test ends and
// returns its address.
func serve(t *testing.T, now func() time.Time, opts ...ServerOption) string {
	t.Helper()
	conn := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, conn, now, opts...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return conn.LocalAddr().String()
}

func TestQueryRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		opts   []QueryOption
	}{
		{"in sync", 0, nil},
		{"server ahead", 250 * time.Millisecond, nil},
		{"server behind", -3 * time.Second, nil},
		{"an hour ahead", time.Hour, nil},
		{"version 3", 40 * time.Millisecond, []QueryOption{WithVersion(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, func() time.Time { return time.Now().Add(tt.offset) }, WithReferenceID("FABR"))
			resp, err := Query(testCtx(t), addr, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if d := resp.Offset - tt.offset; d.Abs() > resp.ErrorBound()+time.Microsecond {
				t.Errorf("Offset = %v, want %v ± %v", resp.Offset, tt.offset, resp.ErrorBound())
			}
			if resp.RTT <= 0 || resp.RTT > 5*time.Second {
				t.Errorf("RTT = %v", resp.RTT)
			}
			if resp.Stratum != 1 || resp.Leap != LeapNone || string(resp.ReferenceID[:]) != "FABR" {
				t.Errorf("response %+v", resp)
			}
			if want := uint8(4); len(tt.opts) > 0 {
				want = 3
				if resp.Version != want {
					t.Errorf("Version = %d, want %d", resp.Version, want)
				}
			}
			if d := time.Since(resp.Time.Add(-tt.offset)); d < 0 || d > 5*time.Second {
				t.Errorf("server time %v is not the server's clock (%v off)", resp.Time, d)
			}
		})
	}
}

// TestQueryWithClock measures an emulated client clock against a server
// on the host clock: the offset is the opposite of the client's skew.
func TestQueryWithClock(t *testing.T) {
	addr := serve(t, nil)
	skew := -75 * time.Millisecond
	resp, err := Query(testCtx(t), addr, WithClock(func() time.Time { return time.Now().Add(skew) }))
	if err != nil {
		t.Fatal(err)
	}
	if d := resp.Offset + skew; d.Abs() > resp.ErrorBound()+time.Microsecond {
		t.Fatalf("Offset = %v, want %v ± %v", resp.Offset, -skew, resp.ErrorBound())
	}
}

// fakeServer answers each request with the packets reply returns.
func fakeServer(t *testing.T, reply func(req Packet) []Packet) string {
	t.Helper()
	conn := listen(t)
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := Decode(buf[:n])
			if err != nil {
				continue
			}
			for _, p := range reply(req) {
				_, _ = conn.WriteTo(p.Append(nil), from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

func goodReply(req Packet) Packet {
	now := NewTimestamp(time.Now())
	return Packet{Version: req.Version, Mode: ModeServer, Stratum: 1, Originate: req.Transmit, Receive: now, Transmit: now}
}

func TestQueryDiscardsForeignReplies(t *testing.T) {
	addr := fakeServer(t, func(req Packet) []Packet {
		stale := goodReply(req)
		stale.Originate++ // answers another request
		kod := goodReply(req)
		kod.Originate = 0
		kod.Stratum = 0 // would be fatal if it were accepted as the answer
		return []Packet{stale, kod, goodReply(req)}
	})
	resp, err := Query(testCtx(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stratum != 1 {
		t.Fatalf("accepted the wrong reply: %+v", resp)
	}
}

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply func(Packet) []Packet
		want  error
	}{
		// The cases that answer return as soon as the answer arrives; the
		// others wait for the deadline, kept short.
		{"kiss of death", func(req Packet) []Packet {
			p := goodReply(req)
			p.Stratum, p.ReferenceID = 0, [4]byte{'R', 'A', 'T', 'E'}
			return []Packet{p}
		}, ErrKissOfDeath},
		{"not synchronized", func(req Packet) []Packet {
			p := goodReply(req)
			p.Leap = LeapNotInSync
			return []Packet{p}
		}, ErrNotSynchronized},
		{"wrong mode", func(req Packet) []Packet {
			p := goodReply(req)
			p.Mode = ModeSymmetricPassive
			return []Packet{p}
		}, ErrBadReply},
		{"only foreign replies", func(req Packet) []Packet {
			p := goodReply(req)
			p.Originate = ^req.Transmit
			return []Packet{p}
		}, ErrNoReply},
		{"silent server", func(Packet) []Packet { return nil }, ErrNoReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, tt.reply)
			timeout := 10 * time.Second
			if errors.Is(tt.want, ErrNoReply) {
				timeout = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(testCtx(t), timeout)
			defer cancel()
			_, err := Query(ctx, addr)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Query error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestQueryBadAddress(t *testing.T) {
	ctx := testCtx(t)
	if _, err := Query(ctx, ""); err == nil {
		t.Error("empty address accepted")
	}
	if _, err := Query(ctx, "256.0.0.1:123"); err == nil {
		t.Error("bad address accepted")
	}
}

func TestQueryTimeoutOption(t *testing.T) {
	addr := fakeServer(t, func(Packet) []Packet { return nil })
	start := time.Now()
	_, err := Query(testCtx(t), addr, WithTimeout(100*time.Millisecond))
	if !errors.Is(err, ErrNoReply) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrNoReply and DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("Query took %v despite a 100ms timeout", el)
	}
}

// TestServeDropsInvalidRequests sends requests the server must ignore, then
// a valid one: the first reply to arrive answers the valid one.
func TestServeDropsInvalidRequests(t *testing.T) {
	addr := serve(t, nil)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bad := []Packet{
		{Version: 4, Mode: ModeServer, Transmit: 11},
		{Version: 0, Mode: ModeClient, Transmit: 12},
		{Version: 5, Mode: ModeClient, Transmit: 13},
		{Version: 4, Mode: ModeBroadcast, Transmit: 14},
		{Version: 4, Mode: ModeControl, Transmit: 15},
	}
	for _, p := range bad {
		if _, err := c.Write(p.Append(nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write([]byte("short")); err != nil {
		t.Fatal(err)
	}
	good := Packet{Version: 2, Mode: ModeSymmetricActive, Poll: 7, Transmit: 42}
	if _, err := c.Write(good.Append(nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := Decode(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if reply.Originate != 42 || reply.Mode != ModeSymmetricPassive || reply.Version != 2 || reply.Poll != 7 {
		t.Fatalf("first reply %+v does not answer the valid request", reply)
	}
}

func TestServeStops(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		conn := listen(t)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, conn, nil) }()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
		case <-testCtx(t).Done():
			t.Fatal("Serve did not return after cancel")
		}
	})
	t.Run("close", func(t *testing.T) {
		conn := listen(t)
		done := make(chan error, 1)
		go func() { done <- Serve(context.Background(), conn, nil) }()
		conn.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
		case <-testCtx(t).Done():
			t.Fatal("Serve did not return after Close")
		}
	})
	t.Run("nil conn", func(t *testing.T) {
		if err := Serve(context.Background(), nil, nil); err == nil {
			t.Fatal("nil conn accepted")
		}
	})
}

func TestServerOptions(t *testing.T) {
	cfg := newServerConfig([]ServerOption{WithStratum(3), WithReferenceID("GPS"), WithPrecision(-6), WithStratum(0), WithReferenceID("TOOLONG"), WithReferenceID("\x00ab"), nil})
	if cfg.stratum != 3 || cfg.refID != [4]byte{'G', 'P', 'S', 0} || cfg.precision != -6 {
		t.Fatalf("config %+v", cfg)
	}
}
