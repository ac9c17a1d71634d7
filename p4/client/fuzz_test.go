package client

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fuzzSeeds are the stream messages the seed corpus in
// testdata/fuzz/FuzzDispatch was made from (see TestWriteFuzzCorpus).
func fuzzSeeds() map[string]*p4v1.StreamMessageResponse {
	other, _ := anypb.New(durationpb.New(3))
	noStatus := arbMsg(1, codes.OK, &ElectionID{0, 1})
	noStatus.GetArbitration().Status = nil
	withRole := arbMsg(1, codes.OK, &ElectionID{0, 1})
	withRole.GetArbitration().Role = &p4v1.Role{Name: "r", Config: other}
	return map[string]*p4v1.StreamMessageResponse{
		"arbitration-primary":      arbMsg(1, codes.OK, &ElectionID{0, 1}),
		"arbitration-backup":       arbMsg(1, codes.AlreadyExists, &ElectionID{1, 2}),
		"arbitration-no-primary":   arbMsg(1, codes.NotFound, nil),
		"arbitration-other-device": arbMsg(7, codes.OK, &ElectionID{0, 1}),
		"arbitration-no-status":    noStatus,
		"arbitration-other-role":   withRole,
		"arbitration-odd-code":     arbMsg(1, codes.Code(12345), &ElectionID{^uint64(0), ^uint64(0)}),
		"packet-in":                packetInMsg(300),
		"packet-in-empty":          {Update: &p4v1.StreamMessageResponse_Packet{Packet: &p4v1.PacketIn{}}},
		"digest":                   digestMsg(385000000, 9),
		"idle-timeout":             {Update: &p4v1.StreamMessageResponse_IdleTimeoutNotification{IdleTimeoutNotification: &p4v1.IdleTimeoutNotification{TableEntry: []*p4v1.TableEntry{{TableId: 33561568}}, Timestamp: 5}}},
		"stream-error-packet-out":  {Update: &p4v1.StreamMessageResponse_Error{Error: &p4v1.StreamError{CanonicalCode: 3, Message: "Unknown metadata field id 7.", Details: &p4v1.StreamError_PacketOut{PacketOut: &p4v1.PacketOutError{PacketOut: &p4v1.PacketOut{Payload: []byte{1}}}}}}},
		"stream-error-digest-ack":  {Update: &p4v1.StreamMessageResponse_Error{Error: &p4v1.StreamError{CanonicalCode: 3, Details: &p4v1.StreamError_DigestListAck{DigestListAck: &p4v1.DigestListAckError{}}}}},
		"other":                    {Update: &p4v1.StreamMessageResponse_Other{Other: other}},
		"empty":                    {},
	}
}

// TestWriteFuzzCorpus rewrites the committed seed corpus from fuzzSeeds when
// P4CLIENT_WRITE_CORPUS=1; otherwise it checks that every seed is there.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDispatch")
	write := os.Getenv("P4CLIENT_WRITE_CORPUS") == "1"
	for name, m := range fuzzSeeds() {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s missing from the corpus (run with P4CLIENT_WRITE_CORPUS=1): %v", name, err)
		}
	}
}

// FuzzDispatch feeds arbitrary StreamMessageResponse bytes to the stream
// dispatcher: whatever the switch sends, the client must not panic, must
// keep a consistent state and must not block.
func FuzzDispatch(f *testing.F) {
	for _, m := range fuzzSeeds() {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff})
	c, s := offlineClient(f, WithSchema(loadSchema(f)), WithPacketBuffer(1), WithNotificationBuffer(1))
	c.dispatch(s, arbMsg(1, codes.OK, &ElectionID{0, 1})) // connected: dispatch cannot disconnect it
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &p4v1.StreamMessageResponse{}
		if proto.Unmarshal(data, m) != nil {
			return
		}
		c.dispatch(s, m)
		st := c.Status()
		if st.State == Primary && st.Code != codes.OK || st.State == Disconnected {
			t.Fatalf("inconsistent status %+v after %v", st, m)
		}
		// Drain what was delivered, as a reader would.
		select {
		case p := <-c.PacketIn():
			_, _ = p.Uint("ingress_port")
		default:
		}
		select {
		case <-c.Digests():
		default:
		}
		select {
		case <-c.IdleTimeouts():
		default:
		}
		select {
		case <-c.StreamErrors():
		default:
		}
		select {
		case <-c.Other():
		default:
		}
		select {
		case <-s.ctrl:
		default:
		}
		select {
		case <-c.Mastership():
		default:
		}
	})
}
