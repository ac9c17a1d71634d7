package timesync_test

import (
	"net"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
)

// BenchmarkSampleRound measures one sample round of one box: a gNOI
// system.Time call to an emulated switch over loopback gRPC and the update
// of the estimate (window insert, drift fit over the window, clock filter,
// alarm check). "gnoi.Time" is the bare call through driver/gnoi on the
// same connection, the baseline to read the round's cost against.
func BenchmarkSampleRound(b *testing.B) {
	ctx := testContext(b)
	tb := startTestbed(b, "switches:\n  - {name: box, ports: 1, clock: {offset: 3ms, drift_ppm: 50}}\n")
	box := dialBox(b, tb, "box", 1)
	s := newService(b) // not started: only the benchmark samples
	if err := s.Add(box); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Sample(ctx, "box"); err != nil { // connect
		b.Fatal(err)
	}
	b.Run("gnoi.Time", func(b *testing.B) {
		for b.Loop() {
			if _, err := box.Time.Time(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Sample", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sample(ctx, "box"); err != nil {
				b.Fatal(err)
			}
		}
		e, _ := s.Estimate("box")
		b.ReportMetric(float64(e.ErrorBound.Microseconds()), "µs-bound")
	})
}

// BenchmarkSNTPServer measures the SNTP server's replies per second: every
// parallel client keeps one request in flight on its own UDP socket.
func BenchmarkSNTPServer(b *testing.B) {
	ctx := testContext(b)
	s := newService(b)
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	addr := s.Addr().String()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		req := sntp.Packet{Version: 4, Mode: sntp.ModeClient}
		in := make([]byte, 128)
		// exchange sends one request and reads its reply; false on a lost
		// datagram (the request is sent again).
		exchange := func() (bool, error) {
			req.Transmit = sntp.NewTimestamp(time.Now())
			out, _ := req.MarshalBinary()
			if _, err := conn.Write(out); err != nil {
				return false, err
			}
			if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
				return false, err
			}
			for {
				n, err := conn.Read(in)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return false, nil
				}
				if err != nil {
					return false, err
				}
				if p, err := sntp.Decode(in[:n]); err == nil && p.Originate == req.Transmit {
					return true, nil
				}
			}
		}
		for pb.Next() {
			for {
				ok, err := exchange()
				if err != nil {
					b.Error(err)
					return
				}
				if ok {
					break
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}
