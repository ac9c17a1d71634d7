package p4rt_test

import (
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	"github.com/p4fabric/fabric/testbed/p4rt"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestArbitration_FirstControllerBecomesPrimary(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "", eid(1), nil)
	u := a.expectArb(codes.OK, eid(1))
	if u.GetRole() != nil {
		t.Errorf("default role notification carries a role: %v", u.GetRole())
	}
}

func TestArbitration_HigherElectionIDBecomesPrimary(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 1, codes.OK)
	b.arbitrate(deviceID, "", eid(2), nil)
	// Every controller of the role is told: the old primary that it is a
	// backup, the new one that it is primary; election_id is the highest.
	a.expectArb(codes.AlreadyExists, eid(2))
	b.expectArb(codes.OK, eid(2))
}

func TestArbitration_LowerElectionIDIsBackupAndOnlyItIsTold(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 5, codes.OK)
	b.arbitrate(deviceID, "", eid(3), nil)
	b.expectArb(codes.AlreadyExists, eid(5))
	a.expectQuiet()
}

func TestArbitration_WrongDeviceIDIsNotFound(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID+1, "", eid(1), nil)
	a.expectEnd(codes.NotFound)
}

func TestArbitration_DuplicateElectionIDIsInvalidArgument(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 7, codes.OK)
	b.arbitrate(deviceID, "", eid(7), nil)
	b.expectEnd(codes.InvalidArgument)
	a.expectQuiet() // the primary is unaffected
}

func TestArbitration_SameElectionIDInAnotherRoleIsAllowed(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 7, codes.OK)
	b.arbitrate(deviceID, "r1", eid(7), nil)
	b.expectArb(codes.OK, eid(7))
	a.expectQuiet()
}

func TestArbitration_SecondArbitrationOnStreamUpdatesElectionID(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 1, codes.OK)
	b.arbitrate(deviceID, "", eid(2), nil)
	a.expectArb(codes.AlreadyExists, eid(2))
	b.expectArb(codes.OK, eid(2))
	a.arbitrate(deviceID, "", eid(3), nil)
	a.expectArb(codes.OK, eid(3))
	b.expectArb(codes.AlreadyExists, eid(3))
	// The old election ID of a stream is free again after it changed.
	c := h.open(t)
	c.arbitrate(deviceID, "", eid(1), nil)
	c.expectArb(codes.AlreadyExists, eid(3))
}

func TestArbitration_PrimaryRearbitratingWithSameIDNotifiesEveryone(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 2, codes.OK)
	b.backup("", 1, 2)
	a.arbitrate(deviceID, "", eid(2), nil)
	a.expectArb(codes.OK, eid(2))
	b.expectArb(codes.AlreadyExists, eid(2))
}

func TestArbitration_PrimaryDowngradeLeavesNoPrimary(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 5, codes.OK)
	b.backup("", 1, 5)
	a.arbitrate(deviceID, "", eid(2), nil)
	// election_id stays the highest ever seen; nobody holds it.
	a.expectArb(codes.NotFound, eid(5))
	b.expectArb(codes.NotFound, eid(5))
	mustCode(t, h.write(t, "", eid(2)), codes.PermissionDenied)
}

func TestArbitration_PrimaryDisconnectNotifiesBackupsWithNotFound(t *testing.T) {
	h := start(t)
	a, b, c := h.open(t), h.open(t), h.open(t)
	a.become("", 3, codes.OK)
	b.backup("", 2, 3)
	c.backup("", 1, 3)
	a.close()
	b.expectArb(codes.NotFound, eid(3))
	c.expectArb(codes.NotFound, eid(3))
}

func TestArbitration_BackupIsNotPromotedWhenPrimaryLeaves(t *testing.T) {
	h, a := primaryWithPipeline(t, nil) // primary with election ID 10
	b := h.open(t)
	b.backup("", 5, 10)
	a.close()
	b.expectArb(codes.NotFound, eid(10))
	mustCode(t, h.write(t, "", eid(5), insert(table0Entry(0x800))), codes.PermissionDenied)
	// Re-arbitrating below the highest election ID ever seen stays backup.
	b.arbitrate(deviceID, "", eid(9), nil)
	b.expectArb(codes.NotFound, eid(10))
	// Reaching it makes the controller primary.
	b.arbitrate(deviceID, "", eid(10), nil)
	b.expectArb(codes.OK, eid(10))
}

func TestArbitration_ReconnectWithSameElectionIDBecomesPrimaryAgain(t *testing.T) {
	h := start(t)
	a, observer := h.open(t), h.open(t)
	a.become("", 4, codes.OK)
	observer.backup("", 1, 4)
	a.close()
	observer.expectArb(codes.NotFound, eid(4)) // the server has seen a go
	a2 := h.open(t)
	a2.become("", 4, codes.OK)
	observer.expectArb(codes.AlreadyExists, eid(4))
}

func TestArbitration_NewControllerBelowHighestEverSeenIsBackupWithoutPrimary(t *testing.T) {
	h := start(t)
	a, observer := h.open(t), h.open(t)
	a.become("", 8, codes.OK)
	observer.backup("", 1, 8)
	a.close()
	observer.expectArb(codes.NotFound, eid(8))
	b := h.open(t)
	b.arbitrate(deviceID, "", eid(3), nil)
	b.expectArb(codes.NotFound, eid(8))
	observer.expectQuiet() // only the new backup is told
}

func TestArbitration_UnsetElectionIDNeverBecomesPrimary(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "", nil, nil)
	// No primary has ever been: election_id is left unset.
	a.expectArb(codes.NotFound, nil)
	// Any number of controllers may leave it unset.
	b := h.open(t)
	b.arbitrate(deviceID, "", nil, nil)
	b.expectArb(codes.NotFound, nil)
	a.expectQuiet()
}

func TestArbitration_ZeroElectionIDIsNotUnset(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "", &p4v1.Uint128{}, nil)
	a.expectArb(codes.OK, &p4v1.Uint128{})
}

func TestArbitration_ElectionIDComparesHighWordFirst(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	hi := &p4v1.Uint128{High: 1, Low: 0}
	a.arbitrate(deviceID, "", hi, nil)
	a.expectArb(codes.OK, hi)
	b.arbitrate(deviceID, "", &p4v1.Uint128{Low: ^uint64(0)}, nil)
	b.expectArb(codes.AlreadyExists, hi)
}

func TestArbitration_ChangingDeviceIDIsFailedPrecondition(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	a.arbitrate(deviceID+1, "", eid(1), nil)
	a.expectEnd(codes.FailedPrecondition)
}

func TestArbitration_ChangingRoleIsFailedPrecondition(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	a.arbitrate(deviceID, "other", eid(1), nil)
	a.expectEnd(codes.FailedPrecondition)
}

func TestArbitration_StreamWithoutArbitrationGetsNothing(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	idle := h.open(t)
	b := h.open(t)
	b.arbitrate(deviceID, "", eid(11), nil)
	a.expectArb(codes.AlreadyExists, eid(11))
	b.expectArb(codes.OK, eid(11))
	h.srv.SendPacketIn(&p4v1.PacketIn{Payload: []byte("x")})
	if m := b.next(); m.GetPacket() == nil {
		t.Fatalf("primary got %v, want the packet-in", m)
	}
	idle.expectQuiet()
}

func TestArbitration_RolesHaveIndependentPrimaries(t *testing.T) {
	h := start(t)
	d, r1, r2 := h.open(t), h.open(t), h.open(t)
	d.become("", 1, codes.OK)
	r1.become("r1", 1, codes.OK)
	r2.become("r2", 9, codes.OK)
	// A new primary of r2 does not affect the other roles.
	r2b := h.open(t)
	r2b.arbitrate(deviceID, "r2", eid(10), nil)
	r2.expectArb(codes.AlreadyExists, eid(10))
	r2b.expectArb(codes.OK, eid(10))
	d.expectQuiet()
	r1.expectQuiet()
}

func TestArbitration_NamedRoleNotificationCarriesRoleAndConfig(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	cfg := &roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0ID}, ReceivesPacketIns: true}
	a.arbitrate(deviceID, "r1", eid(2), cfg)
	u := a.expectArb(codes.OK, eid(2))
	if u.GetRole().GetName() != "r1" {
		t.Fatalf("role %v, want r1", u.GetRole())
	}
	// A backup learns the config most recently received from a primary.
	b.arbitrate(deviceID, "r1", eid(1), nil)
	u = b.expectArb(codes.AlreadyExists, eid(2))
	got := &roleconfig.P4RoleConfig{}
	if err := u.GetRole().GetConfig().UnmarshalTo(got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, cfg) {
		t.Fatalf("role config %v, want %v", got, cfg)
	}
	if u.GetRole().GetConfig().GetTypeUrl() != roleconfig.TypeURL {
		t.Fatalf("type URL %q", u.GetRole().GetConfig().GetTypeUrl())
	}
}

func TestArbitration_UnknownRoleIsNotFoundWithFixedRoles(t *testing.T) {
	h := start(t, p4rt.WithRoles("known"))
	a := h.open(t)
	a.arbitrate(deviceID, "unknown", eid(1), nil)
	a.expectEnd(codes.NotFound)
	b := h.open(t)
	b.become("known", 1, codes.OK)
	c := h.open(t)
	c.become("", 1, codes.OK) // the default role always exists
}

func TestArbitration_AnyRoleNameIsAcceptedByDefault(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("whatever-role", 1, codes.OK)
}

func TestArbitration_RoleConfigOfUnknownTypeIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "r1", eid(1), wrapperspb.String("not a role config"))
	a.expectEnd(codes.InvalidArgument)
}

func TestArbitration_MalformedRoleConfigIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{
		DeviceId: deviceID, ElectionId: eid(1),
		Role: &p4v1.Role{Name: "r1", Config: &anypb.Any{TypeUrl: roleconfig.TypeURL, Value: []byte{0xff, 0xff, 0xff}}},
	}}})
	a.expectEnd(codes.InvalidArgument)
}

func TestArbitration_DefaultRoleWithConfigIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "", eid(1), &roleconfig.P4RoleConfig{CanPushPipeline: true})
	a.expectEnd(codes.InvalidArgument)
}

func TestArbitration_OverlappingExclusiveIDsAreInvalidArgument(t *testing.T) {
	h := start(t)
	a, b, c := h.open(t), h.open(t), h.open(t)
	a.arbitrate(deviceID, "r1", eid(1), &roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0ID}})
	a.expectArb(codes.OK, eid(1))
	b.arbitrate(deviceID, "r2", eid(1), &roleconfig.P4RoleConfig{ExclusiveP4Ids: []uint32{table0ID}})
	b.expectEnd(codes.InvalidArgument)
	c.arbitrate(deviceID, "r3", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{table0ID}})
	c.expectEnd(codes.InvalidArgument)
	d := h.open(t)
	d.arbitrate(deviceID, "r4", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{hostMeterTable}})
	d.expectArb(codes.OK, eid(1))
}

func TestArbitration_PacketInFilterWithoutReceivesPacketInsIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.arbitrate(deviceID, "r1", eid(1), &roleconfig.P4RoleConfig{
		PacketInFilter: &roleconfig.P4RoleConfig_PacketFilter{MetadataId: 1, Value: []byte{1}},
	})
	a.expectEnd(codes.InvalidArgument)
}

func TestArbitration_TooManyControllersIsResourceExhausted(t *testing.T) {
	h := start(t, p4rt.WithMaxStreamsPerRole(2))
	a, b, c := h.open(t), h.open(t), h.open(t)
	a.become("", 1, codes.OK)
	b.become("", 2, codes.OK)
	a.expectArb(codes.AlreadyExists, eid(2))
	c.arbitrate(deviceID, "", eid(3), nil)
	c.expectEnd(codes.ResourceExhausted)
}
