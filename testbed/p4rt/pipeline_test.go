package p4rt_test

import (
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

type action = p4v1.SetForwardingPipelineConfigRequest_Action

const (
	verify             = p4v1.SetForwardingPipelineConfigRequest_VERIFY
	verifyAndSave      = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE
	verifyAndCommit    = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT
	commit             = p4v1.SetForwardingPipelineConfigRequest_COMMIT
	reconcileAndCommit = p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT
)

func basicConfig(t testing.TB, cookie uint64) *p4v1.ForwardingPipelineConfig {
	return &p4v1.ForwardingPipelineConfig{
		P4Info:         basicP4Info(t),
		P4DeviceConfig: []byte("bmv2 json"),
		Cookie:         &p4v1.ForwardingPipelineConfig_Cookie{Cookie: cookie},
	}
}

func (h *harness) getPipeline(t testing.TB, rt p4v1.GetForwardingPipelineConfigRequest_ResponseType) (*p4v1.GetForwardingPipelineConfigResponse, error) {
	t.Helper()
	return h.c.GetForwardingPipelineConfig(testCtx(t), &p4v1.GetForwardingPipelineConfigRequest{DeviceId: deviceID, ResponseType: rt})
}

func cookieOf(t testing.TB, h *harness) uint64 {
	t.Helper()
	r, err := h.getPipeline(t, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetConfig().GetCookie().GetCookie()
}

func TestSetPipeline_FromBackupIsPermissionDenied(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.become("", 2, codes.OK)
	b.backup("", 1, 2)
	mustCode(t, h.setPipeline(t, eid(1), "", verifyAndCommit, basicConfig(t, 1)), codes.PermissionDenied)
	mustCode(t, h.setPipeline(t, nil, "", verifyAndCommit, basicConfig(t, 1)), codes.PermissionDenied)
	mustCode(t, h.setPipeline(t, eid(2), "", verifyAndCommit, basicConfig(t, 1)), codes.OK)
}

func TestSetPipeline_WithoutAnyControllerIsPermissionDenied(t *testing.T) {
	h := start(t)
	mustCode(t, h.setPipeline(t, eid(1), "", verifyAndCommit, basicConfig(t, 1)), codes.PermissionDenied)
}

func TestSetPipeline_WrongDeviceIDIsNotFound(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	_, err := h.c.SetForwardingPipelineConfig(testCtx(t), &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: deviceID + 1, ElectionId: eid(1), Action: verifyAndCommit, Config: basicConfig(t, 1),
	})
	mustCode(t, err, codes.NotFound)
}

func TestSetPipeline_UnknownRoleIsNotFound(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	mustCode(t, h.setPipeline(t, eid(1), "nobody", verifyAndCommit, basicConfig(t, 1)), codes.NotFound)
}

func TestSetPipeline_RoleWithoutCanPushPipelineIsPermissionDenied(t *testing.T) {
	h := start(t)
	a, b := h.open(t), h.open(t)
	a.arbitrate(deviceID, "viewer", eid(1), &roleconfig.P4RoleConfig{SharedP4Ids: []uint32{table0ID}})
	a.expectArb(codes.OK, eid(1))
	mustCode(t, h.setPipeline(t, eid(1), "viewer", verifyAndCommit, basicConfig(t, 1)), codes.PermissionDenied)
	b.arbitrate(deviceID, "pusher", eid(1), &roleconfig.P4RoleConfig{CanPushPipeline: true})
	b.expectArb(codes.OK, eid(1))
	mustCode(t, h.setPipeline(t, eid(1), "pusher", verifyAndCommit, basicConfig(t, 1)), codes.OK)
}

func TestSetPipeline_NamedRoleWithoutConfigMayPush(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("ops", 1, codes.OK)
	mustCode(t, h.setPipeline(t, eid(1), "ops", verifyAndCommit, basicConfig(t, 1)), codes.OK)
}

func TestSetPipeline_MissingConfigIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	for _, act := range []action{verify, verifyAndSave, verifyAndCommit, reconcileAndCommit} {
		mustCode(t, h.setPipeline(t, eid(1), "", act, nil), codes.InvalidArgument)
		mustCode(t, h.setPipeline(t, eid(1), "", act, &p4v1.ForwardingPipelineConfig{P4DeviceConfig: []byte("x")}), codes.InvalidArgument)
	}
}

func TestSetPipeline_UnspecifiedActionIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	mustCode(t, h.setPipeline(t, eid(1), "", p4v1.SetForwardingPipelineConfigRequest_UNSPECIFIED, basicConfig(t, 1)), codes.InvalidArgument)
	mustCode(t, h.setPipeline(t, eid(1), "", action(99), basicConfig(t, 1)), codes.InvalidArgument)
}

func TestSetPipeline_InconsistentP4InfoIsInvalidArgument(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	info := basicP4Info(t)
	// Two objects with one ID.
	info.Actions[1].Preamble.Id = info.Actions[0].Preamble.Id
	cfg := &p4v1.ForwardingPipelineConfig{P4Info: info}
	for _, act := range []action{verify, verifyAndSave, verifyAndCommit, reconcileAndCommit} {
		err := h.setPipeline(t, eid(1), "", act, cfg)
		mustCode(t, err, codes.InvalidArgument)
	}
	r, err := h.getPipeline(t, p4v1.GetForwardingPipelineConfigRequest_ALL)
	if err != nil || r.GetConfig() != nil {
		t.Fatalf("a rejected config was set: %v, %v", r, err)
	}
}

func TestSetPipeline_VerifyDoesNotChangeConfig(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil) // cookie 42
	mustCode(t, h.setPipeline(t, eid(10), "", verify, basicConfig(t, 7)), codes.OK)
	if c := cookieOf(t, h); c != 42 {
		t.Fatalf("cookie %d after VERIFY, want 42", c)
	}
}

func TestSetPipeline_VerifyAndCommitClearsForwardingState(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800))); err != nil {
		t.Fatal(err)
	}
	mustCode(t, h.setPipeline(t, eid(10), "", verifyAndCommit, basicConfig(t, 43)), codes.OK)
	got, err := h.readTables(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("entries survived VERIFY_AND_COMMIT: %v", got)
	}
	if c := cookieOf(t, h); c != 43 {
		t.Fatalf("cookie %d, want 43", c)
	}
}

func TestSetPipeline_VerifyAndSaveThenCommit(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800))); err != nil {
		t.Fatal(err)
	}
	committed := h.srv.Schema()
	digest := &p4v1.ForwardingPipelineConfig{P4Info: digestP4Info(t), Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 99}}
	mustCode(t, h.setPipeline(t, eid(10), "", verifyAndSave, digest), codes.OK)
	// The data plane still runs the committed program...
	if h.srv.Schema() != committed {
		t.Fatal("VERIFY_AND_SAVE changed the committed pipeline")
	}
	// ...but Read, Write and Get refer to the saved one, with fresh state.
	if c := cookieOf(t, h); c != 99 {
		t.Fatalf("cookie %d after VERIFY_AND_SAVE, want 99", c)
	}
	got, err := h.readTables(t, "")
	if err != nil || len(got) != 0 {
		t.Fatalf("read after save: %v, %v", got, err)
	}
	smac := &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: smacTable,
		Match:   []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{2, 0, 0, 0, 0, 1}}}}},
		Action:  &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: noActionID}}},
	}}}
	if err := h.write(t, "", eid(10), insert(smac)); err != nil {
		t.Fatal(err)
	}
	mustCode(t, h.setPipeline(t, eid(10), "", commit, nil), codes.OK)
	if s := h.srv.Schema(); s == committed || s.TableByID(smacTable) == nil {
		t.Fatal("COMMIT did not realise the saved pipeline")
	}
	got, err = h.readTables(t, "")
	if err != nil || len(got) != 1 || got[0].GetTableId() != smacTable {
		t.Fatalf("after COMMIT read %v, %v; want the entry written since the save", got, err)
	}
	// The saved config is consumed.
	mustCode(t, h.setPipeline(t, eid(10), "", commit, nil), codes.NotFound)
}

func TestSetPipeline_CommitWithoutSavedConfigFails(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	mustCode(t, h.setPipeline(t, eid(10), "", commit, nil), codes.NotFound)
}

func TestSetPipeline_CommitWithConfigIsInvalidArgument(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	mustCode(t, h.setPipeline(t, eid(10), "", verifyAndSave, basicConfig(t, 5)), codes.OK)
	mustCode(t, h.setPipeline(t, eid(10), "", commit, basicConfig(t, 5)), codes.InvalidArgument)
}

func TestSetPipeline_ReconcileAndCommitKeepsState(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil)
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800)), insert(table0Entry(0x806))); err != nil {
		t.Fatal(err)
	}
	mustCode(t, h.setPipeline(t, eid(10), "", reconcileAndCommit, basicConfig(t, 44)), codes.OK)
	got, err := h.readTables(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("after RECONCILE_AND_COMMIT read %d entries, want 2: %v", len(got), got)
	}
	if c := cookieOf(t, h); c != 44 {
		t.Fatalf("cookie %d, want 44", c)
	}
}

func TestSetPipeline_ReconcileAndCommitThatCannotKeepStateIsInvalidArgument(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil) // cookie 42
	if err := h.write(t, "", eid(10), insert(table0Entry(0x800))); err != nil {
		t.Fatal(err)
	}
	before := h.srv.Schema()
	// The same program with ether_type narrowed to 8 bits: 0x0800 no
	// longer fits, so the entry cannot be kept.
	info := basicP4Info(t)
	for _, mf := range info.GetTables()[0].GetMatchFields() {
		if mf.GetId() == 4 {
			mf.Bitwidth = 8
		}
	}
	err := h.setPipeline(t, eid(10), "", reconcileAndCommit, &p4v1.ForwardingPipelineConfig{P4Info: info, Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 45}})
	mustCode(t, err, codes.InvalidArgument)
	// Nothing changed.
	if h.srv.Schema() != before {
		t.Fatal("the failed reconcile changed the committed pipeline")
	}
	if c := cookieOf(t, h); c != 42 {
		t.Fatalf("cookie %d after a failed reconcile, want 42", c)
	}
	if got, err := h.readTables(t, ""); err != nil || len(got) != 1 {
		t.Fatalf("read %v, %v; want the entry kept", got, err)
	}
}

func TestSetPipeline_ReconcileAndCommitAsFirstPipeline(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	mustCode(t, h.setPipeline(t, eid(1), "", reconcileAndCommit, basicConfig(t, 3)), codes.OK)
	if h.srv.Schema() == nil {
		t.Fatal("no pipeline committed")
	}
}

func TestGetPipeline_BeforeAnyPipelineHasNoConfig(t *testing.T) {
	h := start(t)
	r, err := h.getPipeline(t, p4v1.GetForwardingPipelineConfigRequest_ALL)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetConfig() != nil {
		t.Fatalf("config %v before any pipeline, want unset", r.GetConfig())
	}
}

func TestGetPipeline_WrongDeviceIDIsNotFound(t *testing.T) {
	h := start(t)
	_, err := h.c.GetForwardingPipelineConfig(testCtx(t), &p4v1.GetForwardingPipelineConfigRequest{DeviceId: deviceID + 1})
	mustCode(t, err, codes.NotFound)
}

func TestGetPipeline_UnknownResponseTypeIsInvalidArgument(t *testing.T) {
	h := start(t)
	_, err := h.getPipeline(t, p4v1.GetForwardingPipelineConfigRequest_ResponseType(17))
	mustCode(t, err, codes.InvalidArgument)
}

func TestGetPipeline_ResponseTypes(t *testing.T) {
	h, _ := primaryWithPipeline(t, nil) // device config "device-config", cookie 42
	info := basicP4Info(t)
	cookie := &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 42}
	for _, tc := range []struct {
		rt   p4v1.GetForwardingPipelineConfigRequest_ResponseType
		want *p4v1.ForwardingPipelineConfig
	}{
		{p4v1.GetForwardingPipelineConfigRequest_ALL, &p4v1.ForwardingPipelineConfig{P4Info: info, P4DeviceConfig: []byte("device-config"), Cookie: cookie}},
		{p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY, &p4v1.ForwardingPipelineConfig{Cookie: cookie}},
		{p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE, &p4v1.ForwardingPipelineConfig{P4Info: info, Cookie: cookie}},
		{p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE, &p4v1.ForwardingPipelineConfig{P4DeviceConfig: []byte("device-config"), Cookie: cookie}},
	} {
		r, err := h.getPipeline(t, tc.rt)
		if err != nil {
			t.Fatalf("%v: %v", tc.rt, err)
		}
		if !proto.Equal(r.GetConfig(), tc.want) {
			t.Errorf("%v: got a config that differs from what was set", tc.rt)
		}
	}
}

func TestGetPipeline_NoCookieWhenNoneSet(t *testing.T) {
	h := start(t)
	a := h.open(t)
	a.become("", 1, codes.OK)
	mustCode(t, h.setPipeline(t, eid(1), "", verifyAndCommit, &p4v1.ForwardingPipelineConfig{P4Info: basicP4Info(t)}), codes.OK)
	r, err := h.getPipeline(t, p4v1.GetForwardingPipelineConfigRequest_ALL)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetConfig().GetCookie() != nil {
		t.Fatalf("cookie %v, want none", r.GetConfig().GetCookie())
	}
	if !proto.Equal(r.GetConfig().GetP4Info(), basicP4Info(t)) {
		t.Fatal("P4Info differs from what was set")
	}
}

func TestGetPipeline_DoesNotNeedArbitration(t *testing.T) {
	h, a := primaryWithPipeline(t, nil)
	a.close()
	if c := cookieOf(t, h); c != 42 {
		t.Fatalf("cookie %d, want 42", c)
	}
}
