package clock_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/p4fabric/fabric/internal/sntp"
	"github.com/p4fabric/fabric/testbed/clock"
)

// startSNTP serves now on a loopback UDP port until the test ends.
func startSNTP(t *testing.T, now func() time.Time) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sntp.Serve(ctx, conn, now) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sntp.Serve: %v", err)
		}
		conn.Close()
	})
	return conn.LocalAddr().String()
}

// TestNTPConvergesOverUDP disciplines skewed clocks to a real SNTP server
// on 127.0.0.1 with the default poll interval and slew rate.
func TestNTPConvergesOverUDP(t *testing.T) {
	tests := []struct {
		name   string
		skew   time.Duration
		drift  float64
		server time.Duration // the server's offset from the host clock
	}{
		{"50ms ahead", 50 * time.Millisecond, 0, 0},
		{"50ms behind with drift", -50 * time.Millisecond, 50, 0},
		{"server 120ms ahead", 0, 0, 120 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startSNTP(t, func() time.Time { return time.Now().Add(tt.server) })
			c, err := clock.New(clock.WithOffset(tt.skew), clock.WithDrift(tt.drift))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.EnableNTP(addr); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			start := time.Now()
			st, err := c.WaitSynchronized(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("synchronized after %v, %d polls, last offset %v, rtt %v", time.Since(start), st.Polls, st.Offset, st.RTT)
			if st.Stratum != 1 || st.Server != addr {
				t.Errorf("status %+v", st)
			}
			// Within the sync threshold of the server, plus the measurement
			// error (half the round trip) and what can be slewed since.
			limit := clock.DefaultSyncThreshold + st.RTT + time.Millisecond
			if d := c.Offset() - tt.server; d.Abs() > limit {
				t.Fatalf("clock is %v from the server after synchronizing, want within %v", d, limit)
			}
		})
	}
}
