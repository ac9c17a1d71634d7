package discovery_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/p4fabric/fabric/orchestrator/discovery"
	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
)

func TestProbeRoundTrip(t *testing.T) {
	sent := time.Unix(1_700_000_000, 123456789)
	tests := []struct {
		name   string
		p      discovery.Probe
		secret []byte
		ttl    time.Duration // as decoded
	}{
		{"plain", discovery.Probe{Device: "leaf1", Port: 3, Fingerprint: 0xfeedface, Sent: sent, TTL: 9 * time.Second}, nil, 9 * time.Second},
		{"signed", discovery.Probe{Device: "spine-2", Port: 511, Fingerprint: 1, Sent: sent, TTL: 1500 * time.Millisecond}, []byte("k"), 2 * time.Second},
		{"largest", discovery.Probe{Device: strings.Repeat("m", lldp.MaxID), Port: 1<<32 - 1, Fingerprint: 1<<64 - 1, Sent: sent, TTL: 100 * time.Hour}, nil, 65535 * time.Second},
		{"port zero", discovery.Probe{Device: "x", Port: 0, Sent: sent}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal(tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			got, err := discovery.ParseProbe(b, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.p
			want.TTL = tc.ttl
			if got.Device != want.Device || got.Port != want.Port || got.Fingerprint != want.Fingerprint || !got.Sent.Equal(want.Sent) || got.TTL != want.TTL {
				t.Fatalf("ParseProbe = %+v, want %+v", got, want)
			}
			f, err := lldp.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if string(f.ChassisID) != tc.p.Device || f.ChassisSubtype != lldp.ChassisIDLocal || f.PortSubtype != lldp.PortIDLocal {
				t.Fatalf("LLDP frame %+v", f)
			}
		})
	}
}

func TestProbeErrors(t *testing.T) {
	p := discovery.Probe{Device: "leaf1", Port: 1, Fingerprint: 7, Sent: time.Now()}
	signed, err := p.Marshal([]byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := p.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	host, err := (&lldp.Frame{ChassisID: []byte("h"), PortID: []byte("1")}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		frame  []byte
		secret []byte
		want   error
	}{
		{"wrong secret", signed, []byte("b"), discovery.ErrBadSignature},
		{"unsigned", plain, []byte("a"), discovery.ErrBadSignature},
		{"host LLDP", host, nil, discovery.ErrNotProbe},
		{"not LLDP", []byte{1, 2, 3}, nil, lldp.ErrNotLLDP},
		{"truncated", plain[:33], nil, lldp.ErrTruncated},
		{"mandatory TLVs only", plain[:30], nil, discovery.ErrNotProbe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := discovery.ParseProbe(tc.frame, tc.secret); !errors.Is(err, tc.want) {
				t.Fatalf("ParseProbe = %v, want %v", err, tc.want)
			}
		})
	}
	// A signature is ignored without a secret.
	if _, err := discovery.ParseProbe(signed, nil); err != nil {
		t.Fatalf("signed probe without a secret: %v", err)
	}
	for _, dev := range []string{"", strings.Repeat("x", lldp.MaxID+1)} {
		if _, err := (discovery.Probe{Device: dev}).Marshal(nil); err == nil {
			t.Errorf("Marshal with a device ID of %d bytes succeeded", len(dev))
		}
	}
}

// FuzzParseProbe checks that ParseProbe never panics, and that a probe it
// accepts encodes back to one it parses the same. The seed corpus lives in
// testdata/fuzz/FuzzParseProbe.
func FuzzParseProbe(f *testing.F) {
	for _, secret := range [][]byte{nil, []byte("s")} {
		b, err := discovery.Probe{Device: "leaf1", Port: 2, Fingerprint: 42, Sent: time.Unix(0, 1), TTL: time.Second}.Marshal(secret)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, secret)
	}
	f.Fuzz(func(t *testing.T, frame, secret []byte) {
		p, err := discovery.ParseProbe(frame, secret)
		if err != nil {
			return
		}
		b, err := p.Marshal(secret)
		if err != nil {
			t.Fatalf("Marshal of a parsed probe %+v: %v", p, err)
		}
		back, err := discovery.ParseProbe(b, secret)
		if err != nil {
			t.Fatalf("ParseProbe(Marshal()) = %v", err)
		}
		if back.Device != p.Device || back.Port != p.Port || back.Fingerprint != p.Fingerprint || !back.Sent.Equal(p.Sent) || back.TTL != p.TTL {
			t.Fatalf("round trip changed the probe\nbefore: %+v\nafter:  %+v", p, back)
		}
	})
}
