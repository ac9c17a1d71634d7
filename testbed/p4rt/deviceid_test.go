package p4rt_test

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// TestSetDeviceID: after a change of device ID the controllers of the old
// ID are cut off (their streams end NOT_FOUND and requests naming the old
// ID are NOT_FOUND), arbitration for the new ID starts from scratch, a
// stream that had not arbitrated survives, and the pipeline is kept.
func TestSetDeviceID(t *testing.T) {
	const newID = deviceID + 6
	h, prim := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800))); err != nil {
		t.Fatal(err)
	}
	backup := h.open(t)
	backup.backup("", 5, 10)
	waiting := h.open(t)
	waiting.expectQuiet() // the stream is open before the change

	h.srv.SetDeviceID(newID)
	if got := h.srv.DeviceID(); got != newID {
		t.Fatalf("DeviceID() = %d, want %d", got, newID)
	}
	prim.expectEnd(codes.NotFound)
	backup.expectEnd(codes.NotFound)
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(0x806))), codes.NotFound)
	_, err := h.c.Capabilities(testCtx(t), &p4v1.CapabilitiesRequest{DeviceId: deviceID})
	mustCode(t, err, codes.NotFound)
	old := h.open(t)
	old.arbitrate(deviceID, "", eid(20), nil)
	old.expectEnd(codes.NotFound)

	// election_id_past starts over: 1 is lower than the old primary's 10
	// and still wins.
	waiting.arbitrate(newID, "", eid(1), nil)
	a := waiting.nextArb()
	if codes.Code(a.GetStatus().GetCode()) != codes.OK || a.GetDeviceId() != newID || a.GetElectionId().GetLow() != 1 {
		t.Fatalf("arbitration for the new ID: %v", a)
	}
	_, err = h.c.Write(testCtx(t), &p4v1.WriteRequest{DeviceId: newID, ElectionId: eid(1),
		Updates: []*p4v1.Update{insert(table0Entry(0x806))}})
	if err != nil {
		t.Fatalf("write under the new ID: %v", err)
	}
	resp, err := h.c.GetForwardingPipelineConfig(testCtx(t), &p4v1.GetForwardingPipelineConfigRequest{
		DeviceId: newID, ResponseType: p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY})
	if err != nil || resp.GetConfig().GetCookie().GetCookie() != 42 {
		t.Fatalf("pipeline under the new ID: %v, %v", resp, err)
	}

	// Setting the current ID again disturbs nobody.
	h.srv.SetDeviceID(newID)
	waiting.expectQuiet()
}
