package p4rt_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFault_RejectWritesFailsTheNextK(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	h.srv.RejectWrites(2, codes.Unavailable)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.Unavailable)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.Unavailable)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.OK)
	got, err := h.readTables(t, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("read %v, %v; rejected writes must not apply", got, err)
	}
}

func TestFault_RejectWritesWithOKLosesTheWrite(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	h.srv.RejectWrites(1, codes.OK)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.OK)
	got, err := h.readTables(t, "")
	if err != nil || len(got) != 0 {
		t.Fatalf("read %v, %v; the lost write must not apply", got, err)
	}
}

func TestFault_RejectWritesZeroCancels(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	h.srv.RejectWrites(5, codes.Internal)
	h.srv.RejectWrites(0, codes.Internal)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.OK)
}

func TestFault_SetDelayDelaysUnaryResponses(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	const d = 100 * time.Millisecond
	h.srv.SetDelay(d)
	start := time.Now()
	if _, err := h.c.Capabilities(testCtx(t), &p4v1.CapabilitiesRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := h.write(t, "", eid(10), insert(table0Entry(1))); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 2*d {
		t.Fatalf("two delayed RPCs took %v, want >= %v", el, 2*d)
	}
	// A deadline shorter than the delay expires.
	ctx, cancel := context.WithTimeout(context.Background(), d/4)
	defer cancel()
	_, err := h.c.Capabilities(ctx, &p4v1.CapabilitiesRequest{})
	mustCode(t, err, codes.DeadlineExceeded)
	h.srv.SetDelay(0)
	if _, err := h.c.Capabilities(testCtx(t), &p4v1.CapabilitiesRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestFault_DropStreamsEndsEveryStreamWithUnavailable(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	b, idle := h.open(t), h.open(t)
	b.backup("", 1, 10)
	idle.expectQuiet() // the server has registered the stream
	h.srv.DropStreams()
	a.expectEnd(codes.Unavailable)
	b.expectEnd(codes.Unavailable)
	idle.expectEnd(codes.Unavailable)
	// The primary is gone: writes are refused until one arbitrates again,
	// and the highest election ID is remembered.
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.PermissionDenied)
	c := h.open(t)
	c.arbitrate(deviceID, "", eid(9), nil)
	c.expectArb(codes.NotFound, eid(10))
	c.arbitrate(deviceID, "", eid(10), nil)
	c.expectArb(codes.OK, eid(10))
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(1))), codes.OK)
}

func TestConcurrent_WritesReadsAndArbitrationAreRaceFree(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	streams := []*ctrl{h.open(t), h.open(t), h.open(t)}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				err := h.write(t, "", eid(10), insert(table0Entry(uint16(w*100+i))))
				if c := status.Code(err); c != codes.OK && c != codes.PermissionDenied {
					t.Errorf("write: %v", err)
					return
				}
				if _, err := h.readTables(t, ""); err != nil {
					t.Errorf("read: %v", err)
					return
				}
			}
		}()
	}
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := streams[r]
			role := fmt.Sprintf("r%d", r)
			for i := range 10 {
				id := eid(uint64(i + 1))
				if err := c.s.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{
					DeviceId: deviceID, Role: &p4v1.Role{Name: role}, ElectionId: id,
				}}}); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				// Skip the packet-ins of the other goroutines.
				for {
					m, ok := <-c.msgs
					if !ok {
						t.Errorf("stream ended: %v", <-c.end)
						return
					}
					if a := m.GetArbitration(); a != nil {
						if codes.Code(a.GetStatus().GetCode()) != codes.OK || a.GetElectionId().GetLow() != id.GetLow() {
							t.Errorf("arbitration %v, want primary %v", a, id)
							return
						}
						break
					}
				}
				h.srv.SendPacketIn(&p4v1.PacketIn{Payload: []byte{byte(i)}})
			}
		}()
	}
	wg.Wait()
	if st := h.srv.Stats(); st.OpenStreams < 1 {
		t.Fatalf("stats %+v", st)
	}
}
