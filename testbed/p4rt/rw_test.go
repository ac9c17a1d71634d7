package p4rt_test

import (
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func TestWrite_BeforePipelineIsFailedPrecondition(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	mustCode(t, h.write(t, "", eid(1), insert(table0Entry(0x800))), codes.FailedPrecondition)
}

func TestWrite_FromBackupIsPermissionDenied(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	b := h.open(t)
	b.backup("", 3, 10)
	mustCode(t, h.write(t, "", eid(3), insert(table0Entry(0x800))), codes.PermissionDenied)
}

func TestWrite_WithoutElectionIDIsPermissionDenied(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	mustCode(t, h.write(t, "", nil, insert(table0Entry(0x800))), codes.PermissionDenied)
}

func TestWrite_UnknownElectionIDIsPermissionDenied(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	mustCode(t, h.write(t, "", eid(11), insert(table0Entry(0x800))), codes.PermissionDenied)
}

func TestWrite_WrongDeviceIDIsNotFound(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	_, err := h.c.Write(testCtx(t), &p4v1.WriteRequest{DeviceId: deviceID + 1, ElectionId: eid(10), Updates: []*p4v1.Update{insert(table0Entry(1))}})
	mustCode(t, err, codes.NotFound)
}

func TestWrite_UnknownRoleIsNotFound(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	mustCode(t, h.write(t, "no-such-role", eid(10), insert(table0Entry(0x800))), codes.NotFound)
}

func TestWrite_ChecksInSpecOrder(t *testing.T) {
	h := start(t)
	// Unknown device before anything else, even with no primary.
	_, err := h.c.Write(testCtx(t), &p4v1.WriteRequest{DeviceId: deviceID + 1})
	mustCode(t, err, codes.NotFound)
	// Not the primary before "no pipeline".
	a, b := h.open(t), h.open(t)
	a.become("", 2, codes.OK)
	b.backup("", 1, 2)
	mustCode(t, h.write(t, "", eid(1)), codes.PermissionDenied)
	mustCode(t, h.write(t, "", eid(2)), codes.FailedPrecondition)
}

func TestWrite_PrimaryInsertIsReadBack(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	e := table0Entry(0x800)
	if err := h.write(t, "", eid(10), insert(e)); err != nil {
		t.Fatal(err)
	}
	got, err := h.readTables(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !proto.Equal(got[0], e.GetTableEntry()) {
		t.Fatalf("read %v, want %v", got, e.GetTableEntry())
	}
}

func TestWrite_BatchErrorsAreReportedPerUpdateInOrder(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(1))); err != nil {
		t.Fatal(err)
	}
	err := h.write(t, "", eid(10), insert(table0Entry(1)), insert(table0Entry(2)), insert(table0Entry(1)))
	mustCode(t, err, codes.Unknown)
	errs := writeErrors(t, err)
	want := []codes.Code{codes.AlreadyExists, codes.OK, codes.AlreadyExists}
	if len(errs) != len(want) {
		t.Fatalf("%d details, want one per update (%d): %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if got := codes.Code(errs[i].GetCanonicalCode()); got != w {
			t.Errorf("update %d: %v, want %v", i, got, w)
		}
	}
}

func TestWrite_RoleConfigLimitsWritesPerUpdate(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	r := h.open(t)
	r.arbitrate(deviceID, "acl", eid(1), &roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0ID}})
	r.expectArb(codes.OK, eid(1))
	err := h.write(t, "acl", eid(1), insert(table0Entry(0x800)), insert(hostMeterEntry(1)))
	mustCode(t, err, codes.Unknown)
	errs := writeErrors(t, err)
	if len(errs) != 2 || codes.Code(errs[0].GetCanonicalCode()) != codes.OK || codes.Code(errs[1].GetCanonicalCode()) != codes.PermissionDenied {
		t.Fatalf("per-update errors %v, want [OK PERMISSION_DENIED]", errs)
	}
	// A role without config has full access.
	f := h.open(t)
	f.become("full", 1, codes.OK)
	if err := h.write(t, "full", eid(1), insert(hostMeterEntry(2))); err != nil {
		t.Fatal(err)
	}
}

func TestWrite_OldPrimaryIsPermissionDeniedAfterPrimaryChange(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	b := h.open(t)
	b.become("", 20, codes.OK)
	a.expectArb(codes.AlreadyExists, eid(20))
	mustCode(t, h.write(t, "", eid(10), insert(table0Entry(0x800))), codes.PermissionDenied)
	mustCode(t, h.write(t, "", eid(20), insert(table0Entry(0x800))), codes.OK)
}

func TestWrite_RoleWithSameElectionIDAsOtherRolePrimaryIsChecked(t *testing.T) {
	// (device_id, role, election_id) identifies the writer, not the
	// election ID alone.
	h, _ := primaryWithPipeline(t, nil) // default role primary: 10
	r := h.open(t)
	r.become("r", 5, codes.OK)
	mustCode(t, h.write(t, "r", eid(10), insert(table0Entry(1))), codes.PermissionDenied)
	mustCode(t, h.write(t, "", eid(5), insert(table0Entry(1))), codes.PermissionDenied)
	mustCode(t, h.write(t, "r", eid(5), insert(table0Entry(1))), codes.OK)
}

func TestRead_BeforePipelineIsFailedPrecondition(t *testing.T) {
	h := start(t)
	_, err := h.readTables(t, "")
	mustCode(t, err, codes.FailedPrecondition)
}

func TestRead_WrongDeviceIDIsNotFound(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	rc, err := h.c.Read(testCtx(t), &p4v1.ReadRequest{DeviceId: deviceID + 1})
	if err == nil {
		_, err = rc.Recv()
	}
	mustCode(t, err, codes.NotFound)
}

func TestRead_UnknownRoleIsNotFound(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	_, err := h.readTables(t, "nobody")
	mustCode(t, err, codes.NotFound)
}

func TestRead_DoesNotNeedArbitration(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800))); err != nil {
		t.Fatal(err)
	}
	a.close()
	got, err := h.readTables(t, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("read %v, %v; want the entry", got, err)
	}
}

func TestRead_RoleActsAsFilter(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800)), insert(hostMeterEntry(1))); err != nil {
		t.Fatal(err)
	}
	r := h.open(t)
	r.arbitrate(deviceID, "meters", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{hostMeterTable}})
	r.expectArb(codes.OK, eid(1))
	got, err := h.readTables(t, "meters")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetTableId() != hostMeterTable {
		t.Fatalf("role read %v, want only the host_meter_table entry", got)
	}
	all, err := h.readTables(t, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("default role read %v, %v; want both entries", all, err)
	}
}
