package state

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

func ip(a, b, c, d byte) []byte { return []byte{a, b, c, d} }

var mac1 = bs(0, 0, 0, 0, 0, 1)

// Entries of the features P4Info used by many cases.
func aclEntry(prio int32) *p4v1.TableEntry {
	return te(tACL, prio, direct(act(aDrop)), tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0)))
}

func tinyEntry(a, b, c, d byte, pl int32) *p4v1.TableEntry {
	return te(tTiny, 0, direct(act(aSetPort, prm(1, 1))), lp(1, pl, a, b, c, d))
}

func nexthop(port byte) *p4v1.Action { return act(aSetNexthop, prm(1, port), prm(2, port)) }

// TestWriteRules checks each validation rule of a write, one case per rule,
// on the real P4Infos and the hand-written features P4Info.
func TestWriteRules(t *testing.T) {
	cases := writeCases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			d := newDev(t, c.infoName())
			for i, u := range c.setup {
				if err := d.Write([]*p4v1.Update{u}, p4v1.WriteRequest_CONTINUE_ON_ERROR, nil); err != nil {
					t.Fatalf("setup #%d: %v", i, err)
				}
			}
			before := dump(t, d)
			got, err := writeCode(t, d, c.u)
			if got != c.want {
				t.Fatalf("code %v, want %v (%v)", got, c.want, err)
			}
			if got != codes.OK {
				// A failed update changes nothing.
				if after := dump(t, d); !equalStrings(before, after) {
					t.Errorf("failed update changed the state:\nbefore %v\nafter  %v", before, after)
				}
			}
		})
	}
}

// writeCase is one validation rule: after setup, update u answers want.
type writeCase struct {
	name  string
	info  string // "" is "features"
	setup []*p4v1.Update
	u     *p4v1.Update
	want  codes.Code
}

func (c writeCase) infoName() string {
	if c.info == "" {
		return "features"
	}
	return c.info
}

func writeCases() []writeCase {
	type tc = writeCase
	return []tc{
		// Bytestrings (spec "Bytestrings").
		{name: "exact_padded_value_accepted", u: ins(te(tConstDefault, 0, direct(act(aSetPort, prm(1, 0, 0, 1))), ex(1, 0, 0, 0, 0, 0, 0, 0, 1))), want: codes.OK},
		{name: "exact_empty_value_out_of_range", u: ins(te(tConstDefault, 0, direct(act(aDrop)), ex(1))), want: codes.OutOfRange},
		{name: "exact_too_wide_out_of_range", u: ins(te(tConstDefault, 0, direct(act(aDrop)), ex(1, 1, 0, 0, 0, 0, 0, 0))), want: codes.OutOfRange},
		{name: "param_too_wide_out_of_range", u: ins(te(tConstDefault, 0, direct(act(aSetPort, prm(1, 2, 0))), ex(1, mac1...))), want: codes.OutOfRange},
		{name: "param_empty_out_of_range", u: ins(te(tConstDefault, 0, direct(act(aSetPort, prm(1))), ex(1, mac1...))), want: codes.OutOfRange},
		{name: "ternary_mask_too_wide_out_of_range", u: ins(te(tACL, 1, direct(act(aDrop)), tn(1, ip(10, 0, 0, 0), bs(1, 255, 0, 0, 0)))), want: codes.OutOfRange},
		{name: "sdn_string_field_and_param_accepted", u: ins(te(tPorts, 1, direct(act(aSetPortName, []*p4v1.Action_Param{prm(1, []byte("Ethernet1/2/3")...)}...)), ex(1, []byte("Ethernet0 is a long name, no width applies")...))), want: codes.OK},
		{name: "sdn_string_field_empty_accepted", u: ins(te(tPorts, 1, direct(act(aDrop)), ex(1))), want: codes.OK}, // SAI-P4's default VRF is ""
		{name: "sdn_string_param_empty_accepted", u: ins(te(tPorts, 1, direct(act(aSetPortName, prm(1))), ex(1, 'e', '0'))), want: codes.OK},
		{name: "sai_string_vrf_and_nexthop_accepted", info: "sai-middleblock",
			u: ins(te(saiIPv4, 0, direct(act(saiSetNexthopID, prm(1, []byte("nexthop-1")...))), ex(1, []byte("vrf-1")...), lp(2, 8, 10, 0, 0, 0))), want: codes.OK},

		// Match format (spec "Match Format").
		{name: "ternary_mask_zero_must_be_omitted", u: ins(te(tACL, 1, direct(act(aDrop)), tn(1, bs(0), bs(0)))), want: codes.InvalidArgument},
		{name: "lpm_prefix_zero_must_be_omitted", u: ins(tinyEntry(0, 0, 0, 0, 0)), want: codes.InvalidArgument},
		{name: "range_covering_everything_must_be_omitted", u: ins(te(tACL, 1, direct(act(aDrop)), rg(2, bs(0), bs(255, 255)))), want: codes.InvalidArgument},
		{name: "range_padded_full_must_be_omitted", u: ins(te(tACL, 1, direct(act(aDrop)), rg(2, bs(0, 0), bs(0, 255, 255)))), want: codes.InvalidArgument},
		{name: "range_partial_accepted", u: ins(te(tACL, 1, direct(act(aDrop)), rg(2, bs(0), bs(255, 254)))), want: codes.OK},
		{name: "exact_field_missing", u: ins(te(tConstDefault, 0, direct(act(aDrop)))), want: codes.InvalidArgument},
		{name: "lpm_bits_past_prefix", u: ins(tinyEntry(10, 0, 0, 1, 8)), want: codes.InvalidArgument},
		{name: "ternary_value_bits_outside_mask", u: ins(te(tACL, 1, direct(act(aDrop)), tn(1, ip(10, 0, 0, 1), ip(255, 0, 0, 0)))), want: codes.InvalidArgument},
		{name: "range_low_above_high", u: ins(te(tACL, 1, direct(act(aDrop)), rg(2, bs(9), bs(8)))), want: codes.InvalidArgument},
		{name: "prefix_len_above_bitwidth", u: ins(tinyEntry(10, 0, 0, 0, 33)), want: codes.InvalidArgument},
		{name: "prefix_len_negative", u: ins(tinyEntry(10, 0, 0, 0, -1)), want: codes.InvalidArgument},
		{name: "unknown_match_field", u: ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 1))), lp(7, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "duplicate_match_field", u: ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 1))), lp(1, 8, 10, 0, 0, 0), lp(1, 16, 10, 1, 0, 0))), want: codes.InvalidArgument},
		{name: "wrong_match_kind", u: ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 1))), ex(1, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "optional_match_accepted", u: ins(te(tACL, 3, direct(act(aDrop)), op(3, 1))), want: codes.OK},

		// Priority (spec "TableEntry").
		{name: "priority_required", u: ins(aclEntry(0)), want: codes.InvalidArgument},
		{name: "priority_negative", u: ins(aclEntry(-4)), want: codes.InvalidArgument},
		{name: "priority_forbidden_without_ternary", u: ins(te(tTiny, 5, direct(act(aSetPort, prm(1, 1))), lp(1, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "onos_table0_ternary_with_priority", info: "onos-basic",
			u: ins(te(onosTable0, 10, direct(act(onosSetEgress, prm(1, 1))), tn(4, bs(8, 0), bs(255, 255)))), want: codes.OK},
		{name: "onos_table0_without_priority", info: "onos-basic",
			u: ins(te(onosTable0, 0, direct(act(onosSendToCPU)), tn(4, bs(8, 0), bs(255, 255)))), want: codes.InvalidArgument},
		{name: "fabric_routing_v4_lpm", info: "fabric-v1model",
			u: ins(te(fabRoutingV4, 0, direct(act(fabSetNextIDv4, prm(1, 7))), lp(1, 24, 10, 0, 1, 0))), want: codes.OK},

		// IDs and actions (spec "Action Specification").
		{name: "unknown_table", u: ins(te(0x02ffffff, 0, direct(act(aDrop)))), want: codes.InvalidArgument},
		{name: "table_id_zero", u: ins(te(0, 0, direct(act(aDrop)))), want: codes.InvalidArgument},
		{name: "unknown_action", u: ins(tinyEntryWith(act(0x01ffffff))), want: codes.InvalidArgument},
		{name: "action_not_in_table", u: ins(tinyEntryWith(nexthop(1))), want: codes.InvalidArgument},
		{name: "default_only_action_in_entry", u: ins(tinyEntryWith(act(aNoAction))), want: codes.PermissionDenied},
		{name: "table_only_action_as_default", u: mod(defEntry(tTiny, direct(act(aPunt)))), want: codes.PermissionDenied},
		{name: "unknown_param", u: ins(tinyEntryWith(act(aSetPort, prm(1, 1), prm(9, 1)))), want: codes.InvalidArgument},
		{name: "missing_param", u: ins(tinyEntryWith(act(aSetPort))), want: codes.InvalidArgument},
		{name: "duplicate_param", u: ins(tinyEntryWith(act(aSetPort, prm(1, 1), prm(1, 2)))), want: codes.InvalidArgument},
		{name: "insert_without_action", u: ins(te(tTiny, 0, nil, lp(1, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "is_const_in_write", u: ins(withConst(tinyEntry(10, 0, 0, 0, 8))), want: codes.InvalidArgument},
		{name: "update_type_unspecified", u: upd(p4v1.Update_UNSPECIFIED, tinyEntry(10, 0, 0, 0, 8)), want: codes.InvalidArgument},
		{name: "update_without_entity", u: &p4v1.Update{Type: p4v1.Update_INSERT}, want: codes.InvalidArgument},
		{name: "entity_oneof_unset", u: &p4v1.Update{Type: p4v1.Update_INSERT, Entity: &p4v1.Entity{}}, want: codes.InvalidArgument},
		{name: "extern_entry_unimplemented", u: ins(&p4v1.ExternEntry{ExternTypeId: 0x81, ExternId: 1}), want: codes.Unimplemented},

		// Existence and size (spec "Write RPC", "TableEntry").
		{name: "duplicate_insert", setup: []*p4v1.Update{ins(tinyEntry(10, 0, 0, 0, 8))}, u: ins(tinyEntry(10, 0, 0, 0, 8)), want: codes.AlreadyExists},
		{name: "duplicate_insert_padded_key", setup: []*p4v1.Update{ins(tinyEntry(10, 0, 0, 0, 8))},
			u: ins(te(tTiny, 0, direct(act(aSetPort, prm(1, 1))), lp(1, 8, 0, 0, 10, 0, 0, 0))), want: codes.AlreadyExists},
		{name: "same_match_other_priority_is_another_entry", setup: []*p4v1.Update{ins(aclEntry(1))}, u: ins(aclEntry(2)), want: codes.OK},
		{name: "modify_missing", u: mod(tinyEntry(10, 0, 0, 0, 8)), want: codes.NotFound},
		{name: "delete_missing", u: del(tinyEntry(10, 0, 0, 0, 8)), want: codes.NotFound},
		{name: "delete_ignores_non_key_fields", setup: []*p4v1.Update{ins(tinyEntry(10, 0, 0, 0, 8))},
			u: del(te(tTiny, 0, direct(act(0x01ffffff, prm(77))), lp(1, 8, 10, 0, 0, 0))), want: codes.OK},
		{name: "table_full", setup: []*p4v1.Update{ins(tinyEntry(10, 0, 0, 0, 8)), ins(tinyEntry(11, 0, 0, 0, 8))}, u: ins(tinyEntry(12, 0, 0, 0, 8)), want: codes.ResourceExhausted},
		{name: "keyless_table_insert", u: ins(te(tKeyless, 0, direct(act(aDrop)))), want: codes.InvalidArgument},
		{name: "keyless_table_default_modify", u: mod(defEntry(tKeyless, direct(act(aDrop)))), want: codes.OK},

		// Const tables and default entries (spec "Constant Tables", "Default Entry").
		{name: "const_table_insert", u: ins(te(tConst, 0, direct(act(aDrop)), ex(1, 8, 0))), want: codes.PermissionDenied},
		{name: "const_table_delete", u: del(te(tConst, 0, nil, ex(1, 8, 0))), want: codes.PermissionDenied},
		{name: "const_default_action_modify", u: mod(defEntry(tConstDefault, direct(act(aSetPort, prm(1, 1))))), want: codes.PermissionDenied},
		{name: "const_default_reset_without_action", u: mod(defEntry(tConstDefault, nil)), want: codes.OK},
		{name: "fabric_const_default_modify", info: "fabric-v1model", u: mod(defEntry(fabIngressPortVLAN, direct(act(17164167)))), want: codes.PermissionDenied},
		{name: "default_entry_insert", u: ins(defEntry(tTiny, direct(act(aNoAction)))), want: codes.InvalidArgument},
		{name: "default_entry_delete", u: del(defEntry(tTiny, nil)), want: codes.InvalidArgument},
		{name: "default_entry_with_match", u: mod(withMatch(defEntry(tTiny, direct(act(aNoAction))), lp(1, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "default_entry_with_priority", u: mod(withPriority(defEntry(tTiny, direct(act(aNoAction))), 3)), want: codes.InvalidArgument},
		{name: "default_entry_modify", u: mod(defEntry(tTiny, direct(act(aSetPort, prm(1, 3))))), want: codes.OK},
		{name: "default_entry_reset", setup: []*p4v1.Update{mod(defEntry(tTiny, direct(act(aSetPort, prm(1, 3)))))}, u: mod(defEntry(tTiny, nil)), want: codes.OK},
		{name: "default_entry_of_indirect_table", u: mod(defEntry(tECMP, direct(act(aNoAction)))), want: codes.PermissionDenied},
		{name: "default_entry_with_idle_timeout", u: mod(withIdle(defEntry(tIdle, direct(act(aNoAction))), 1000)), want: codes.InvalidArgument},

		// Idle timeout (spec "Idle-timeout").
		{name: "idle_timeout_unsupported", u: ins(withIdle(tinyEntry(10, 0, 0, 0, 8), 1e9)), want: codes.InvalidArgument},
		{name: "idle_timeout_supported", u: ins(withIdle(te(tIdle, 0, direct(act(aSetPort, prm(1, 1))), ex(1, mac1...)), 1e9)), want: codes.OK},
		{name: "idle_timeout_negative", u: ins(withIdle(te(tIdle, 0, direct(act(aSetPort, prm(1, 1))), ex(1, mac1...)), -1)), want: codes.InvalidArgument},
		{name: "time_since_last_hit_in_write", u: ins(withHit(te(tIdle, 0, direct(act(aSetPort, prm(1, 1))), ex(1, mac1...)))), want: codes.InvalidArgument},

		// Direct resources (spec "Direct Resources", "DirectCounterEntry", "DirectMeterEntry").
		{name: "counter_data_without_direct_counter", u: ins(withCounter(tinyEntry(10, 0, 0, 0, 8), 1, 1)), want: codes.InvalidArgument},
		{name: "meter_config_without_direct_meter", u: ins(withMeter(tinyEntry(10, 0, 0, 0, 8), &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 2, Pburst: 2})), want: codes.InvalidArgument},
		{name: "counter_and_meter_on_acl", u: ins(withMeter(withCounter(aclEntry(1), 5, 500), &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 2, Pburst: 2})), want: codes.OK},
		{name: "direct_meter_config_with_eburst", u: ins(withMeter(aclEntry(1), &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 2, Pburst: 2, Eburst: 3})), want: codes.InvalidArgument},
		{name: "meter_counter_data_nonzero", u: ins(withColors(aclEntry(1), 1)), want: codes.InvalidArgument},
		{name: "meter_counter_data_zero", u: ins(withColors(aclEntry(1), 0)), want: codes.OK},
		{name: "direct_counter_entry_modify", setup: []*p4v1.Update{ins(aclEntry(1))},
			u: mod(&p4v1.DirectCounterEntry{TableEntry: aclEntry(1), Data: &p4v1.CounterData{PacketCount: 3, ByteCount: 300}}), want: codes.OK},
		{name: "direct_counter_entry_missing_entry", u: mod(&p4v1.DirectCounterEntry{TableEntry: aclEntry(1), Data: &p4v1.CounterData{PacketCount: 3}}), want: codes.NotFound},
		{name: "direct_counter_entry_insert", setup: []*p4v1.Update{ins(aclEntry(1))}, u: ins(&p4v1.DirectCounterEntry{TableEntry: aclEntry(1)}), want: codes.InvalidArgument},
		{name: "direct_counter_entry_delete", setup: []*p4v1.Update{ins(aclEntry(1))}, u: del(&p4v1.DirectCounterEntry{TableEntry: aclEntry(1)}), want: codes.InvalidArgument},
		{name: "direct_counter_entry_table_without_counter", u: mod(&p4v1.DirectCounterEntry{TableEntry: tinyEntry(10, 0, 0, 0, 8)}), want: codes.InvalidArgument},
		{name: "direct_counter_entry_without_table_entry", u: mod(&p4v1.DirectCounterEntry{}), want: codes.InvalidArgument},
		{name: "direct_counter_of_default_entry", u: mod(&p4v1.DirectCounterEntry{TableEntry: defEntry(tACL, nil), Data: &p4v1.CounterData{PacketCount: 1}}), want: codes.OK},
		{name: "direct_meter_entry_modify", setup: []*p4v1.Update{ins(aclEntry(1))},
			u: mod(&p4v1.DirectMeterEntry{TableEntry: aclEntry(1), Config: &p4v1.MeterConfig{Cir: 10, Cburst: 10, Pir: 20, Pburst: 20}}), want: codes.OK},
		{name: "direct_meter_entry_missing_entry", u: mod(&p4v1.DirectMeterEntry{TableEntry: aclEntry(1)}), want: codes.NotFound},
		{name: "direct_meter_entry_insert", setup: []*p4v1.Update{ins(aclEntry(1))}, u: ins(&p4v1.DirectMeterEntry{TableEntry: aclEntry(1)}), want: codes.InvalidArgument},
		{name: "onos_direct_meter_entry", info: "onos-basic",
			setup: []*p4v1.Update{ins(te(onosHostMeter, 0, direct(act(onosReadMeter)), lp(1, 48, mac1...)))},
			u:     mod(&p4v1.DirectMeterEntry{TableEntry: te(onosHostMeter, 0, nil, lp(1, 48, mac1...)), Config: &p4v1.MeterConfig{Cir: 1, Cburst: 2, Pir: 3, Pburst: 4}}), want: codes.OK},

		// Action profiles (spec "ActionProfileMember & ActionProfileGroup").
		{name: "member_insert", u: ins(apMember(pSelector, 1, nexthop(1))), want: codes.OK},
		{name: "member_action_not_in_profile", u: ins(apMember(pSelector, 1, act(aSetPort, prm(1, 1)))), want: codes.InvalidArgument},
		{name: "member_default_only_action", u: ins(apMember(pSelector, 1, act(aNoAction))), want: codes.PermissionDenied},
		{name: "member_without_action", u: ins(apMember(pSelector, 1, nil)), want: codes.InvalidArgument},
		{name: "member_duplicate", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(apMember(pSelector, 1, nexthop(2))), want: codes.AlreadyExists},
		{name: "member_modify", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: mod(apMember(pSelector, 1, nexthop(2))), want: codes.OK},
		{name: "member_modify_missing", u: mod(apMember(pSelector, 1, nexthop(2))), want: codes.NotFound},
		{name: "member_delete_missing", u: del(apMember(pSelector, 1, nil)), want: codes.NotFound},
		{name: "member_unknown_profile", u: ins(apMember(0x11ffffff, 1, nexthop(1))), want: codes.InvalidArgument},
		{name: "member_id_zero", u: ins(apMember(pSelector, 0, nexthop(1))), want: codes.InvalidArgument},
		{name: "member_delete_in_group", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1))), ins(apGroup(pSelector, 1, 0, gm(1, 1)))},
			u: del(apMember(pSelector, 1, nil)), want: codes.FailedPrecondition},
		{name: "member_delete_in_entry", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1))), ins(te(tECMP, 0, mem(1), ex(1, 5)))},
			u: del(apMember(pSelector, 1, nil)), want: codes.FailedPrecondition},
		{name: "group_insert", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1))), ins(apMember(pSelector, 2, nexthop(2)))},
			u: ins(apGroup(pSelector, 1, 8, gm(1, 3), gm(2, 5))), want: codes.OK},
		{name: "group_member_missing", u: ins(apGroup(pSelector, 1, 0, gm(4, 1))), want: codes.NotFound},
		{name: "group_duplicate_member", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(apGroup(pSelector, 1, 0, gm(1, 1), gm(1, 2))), want: codes.InvalidArgument},
		{name: "group_weight_zero", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(apGroup(pSelector, 1, 0, gm(1, 0))), want: codes.InvalidArgument},
		{name: "group_max_size_above_max_group_size", u: ins(apGroup(pSelector, 1, 9)), want: codes.InvalidArgument},
		{name: "group_above_its_max_size", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(apGroup(pSelector, 1, 2, gm(1, 3))), want: codes.ResourceExhausted},
		{name: "group_above_max_group_size_sum_of_weights", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(apGroup(pSelector, 1, 0, gm(1, 9))), want: codes.ResourceExhausted},
		{name: "group_max_size_changed", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1))), ins(apGroup(pSelector, 1, 4, gm(1, 1)))},
			u: mod(apGroup(pSelector, 1, 5, gm(1, 1))), want: codes.InvalidArgument},
		{name: "group_duplicate", setup: []*p4v1.Update{ins(apGroup(pSelector, 1, 4))}, u: ins(apGroup(pSelector, 1, 4)), want: codes.AlreadyExists},
		{name: "group_modify_missing", u: mod(apGroup(pSelector, 1, 4)), want: codes.NotFound},
		{name: "group_delete_missing", u: del(apGroup(pSelector, 1, 0)), want: codes.NotFound},
		{name: "group_delete_in_use", setup: []*p4v1.Update{ins(apGroup(pSelector, 1, 4)), ins(te(tECMP, 0, grp(1), ex(1, 5)))},
			u: del(apGroup(pSelector, 1, 0)), want: codes.FailedPrecondition},
		{name: "group_on_profile_without_selector", u: ins(apGroup(pPlain, 1, 0)), want: codes.InvalidArgument},
		{name: "entry_member_missing", u: ins(te(tECMP, 0, mem(99), ex(1, 5))), want: codes.NotFound},
		{name: "entry_group_missing", u: ins(te(tECMP, 0, grp(99), ex(1, 5))), want: codes.NotFound},
		{name: "entry_group_on_profile_without_selector", u: ins(te(tProfiled, 0, grp(1), ex(1, 10, 0, 0, 1))), want: codes.InvalidArgument},
		{name: "entry_action_on_indirect_table", u: ins(te(tECMP, 0, direct(nexthop(1)), ex(1, 5))), want: codes.InvalidArgument},
		{name: "entry_member_on_direct_table", u: ins(te(tTiny, 0, mem(1), lp(1, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "entry_empty_table_action", u: ins(te(tTiny, 0, &p4v1.TableAction{}, lp(1, 8, 10, 0, 0, 0))), want: codes.InvalidArgument},
		{name: "plain_profile_member_entry", setup: []*p4v1.Update{ins(apMember(pPlain, 1, act(aSetPort, prm(1, 1))))}, u: ins(te(tProfiled, 0, mem(1), ex(1, 10, 0, 0, 1))), want: codes.OK},
		{name: "plain_profile_full", setup: []*p4v1.Update{ins(apMember(pPlain, 1, act(aDrop))), ins(apMember(pPlain, 2, act(aDrop))), ins(apMember(pPlain, 3, act(aDrop))), ins(apMember(pPlain, 4, act(aDrop)))},
			u: ins(apMember(pPlain, 5, act(aDrop))), want: codes.ResourceExhausted},
		{name: "oneshot", u: ins(te(tECMP, 0, oneShot(apa(nexthop(1), 1), apa(nexthop(2), 2)), ex(1, 5))), want: codes.OK},
		{name: "oneshot_weight_zero", u: ins(te(tECMP, 0, oneShot(apa(nexthop(1), 0)), ex(1, 5))), want: codes.InvalidArgument},
		{name: "oneshot_above_max_group_size", u: ins(te(tECMP, 0, oneShot(apa(nexthop(1), 4), apa(nexthop(2), 5)), ex(1, 5))), want: codes.InvalidArgument},
		{name: "oneshot_action_not_in_table", u: ins(te(tECMP, 0, oneShot(apa(act(aSetPort, prm(1, 1)), 1)), ex(1, 5))), want: codes.InvalidArgument},
		{name: "oneshot_mixed_with_members", setup: []*p4v1.Update{ins(apMember(pSelector, 1, nexthop(1)))}, u: ins(te(tECMP, 0, oneShot(apa(nexthop(1), 1)), ex(1, 5))), want: codes.InvalidArgument},
		{name: "member_after_oneshot", setup: []*p4v1.Update{ins(te(tECMP, 0, oneShot(apa(nexthop(1), 1)), ex(1, 5)))}, u: ins(apMember(pSelector, 1, nexthop(1))), want: codes.InvalidArgument},
		{name: "oneshot_on_profile_without_selector", u: ins(te(tProfiled, 0, oneShot(apa(act(aDrop), 1)), ex(1, 10, 0, 0, 1))), want: codes.InvalidArgument},
		{name: "selector_full", setup: []*p4v1.Update{
			ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 1))), ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 2))),
			ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 3))), ins(te(tECMP, 0, oneShot(apa(nexthop(1), 8)), ex(1, 4)))},
			u: ins(te(tECMP, 0, oneShot(apa(nexthop(1), 1)), ex(1, 5))), want: codes.ResourceExhausted},
		{name: "sai_wcmp_oneshot", info: "sai-middleblock",
			u: ins(te(saiWCMP, 0, oneShot(apa(act(saiSetNexthopID, prm(1, []byte("nh-1")...)), 3), apa(act(saiSetNexthopID, prm(1, []byte("nh-2")...)), 509)), ex(1, []byte("group-1")...))), want: codes.OK},
		{name: "sai_wcmp_oneshot_above_max_group_size", info: "sai-middleblock",
			u: ins(te(saiWCMP, 0, oneShot(apa(act(saiSetNexthopID, prm(1, []byte("nh-1")...)), 3), apa(act(saiSetNexthopID, prm(1, []byte("nh-2")...)), 510)), ex(1, []byte("group-1")...))), want: codes.InvalidArgument},
		{name: "fabric_hashed_group", info: "fabric-v1model",
			setup: []*p4v1.Update{ins(apMember(fabHashedSelector, 1, act(fabOutputHashed, prm(1, 1)))), ins(apMember(fabHashedSelector, 2, act(fabOutputHashed, prm(1, 2)))),
				ins(apGroup(fabHashedSelector, 10, 16, gm(1, 1), gm(2, 1)))},
			u: ins(te(fabHashed, 0, grp(10), ex(1, 0, 0, 0, 7))), want: codes.OK},
		{name: "onos_wcmp_oneshot", info: "onos-basic",
			u: ins(te(onosWCMP, 0, oneShot(apa(act(onosWCMPSetEgress, prm(1, 1)), 1), apa(act(onosWCMPSetEgress, prm(1, 2)), 1)), ex(1, 0, 1))), want: codes.OK},

		// Packet replication engine (spec "PacketReplicationEngineEntry").
		{name: "mcast_insert", u: ins(mcast(1, replica(bs(1), 1), replica(bs(2), 1))), want: codes.OK},
		{name: "mcast_id_zero", u: ins(mcast(0, replica(bs(1), 1))), want: codes.InvalidArgument},
		{name: "mcast_duplicate", setup: []*p4v1.Update{ins(mcast(1))}, u: ins(mcast(1)), want: codes.AlreadyExists},
		{name: "mcast_modify_missing", u: mod(mcast(1)), want: codes.NotFound},
		{name: "mcast_delete_missing", u: del(mcast(1)), want: codes.NotFound},
		{name: "mcast_duplicate_replica", u: ins(mcast(1, replica(bs(1), 1), replica(bs(1), 1))), want: codes.InvalidArgument},
		{name: "mcast_backup_with_primary_port", u: ins(mcast(1, &p4v1.Replica{PortKind: &p4v1.Replica_Port{Port: bs(1)}, BackupReplicas: []*p4v1.BackupReplica{{Port: bs(1), Instance: 2}}})), want: codes.InvalidArgument},
		{name: "mcast_replica_without_port", u: ins(mcast(1, &p4v1.Replica{Instance: 1})), want: codes.InvalidArgument},
		{name: "pre_entry_unset", u: ins(&p4v1.PacketReplicationEngineEntry{}), want: codes.InvalidArgument},
		{name: "clone_insert", u: ins(clone(100, replica(bs(0xff, 0xff, 0xff, 0xfd), 1))), want: codes.OK},
		{name: "clone_session_zero", u: ins(clone(0)), want: codes.InvalidArgument},
		{name: "clone_duplicate", setup: []*p4v1.Update{ins(clone(5))}, u: ins(clone(5)), want: codes.AlreadyExists},
		{name: "clone_delete_missing", u: del(clone(5)), want: codes.NotFound},
		{name: "clone_negative_length", u: ins(&p4v1.PacketReplicationEngineEntry{Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{CloneSessionEntry: &p4v1.CloneSessionEntry{SessionId: 1, PacketLengthBytes: -1}}}), want: codes.InvalidArgument},

		// Counters, meters, registers (spec "CounterEntry", "MeterEntry", "RegisterEntry").
		{name: "counter_modify", u: mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(3), Data: &p4v1.CounterData{PacketCount: 1, ByteCount: 64}}), want: codes.OK},
		{name: "counter_wildcard_modify", u: mod(&p4v1.CounterEntry{CounterId: cPort, Data: &p4v1.CounterData{}}), want: codes.OK},
		{name: "counter_insert", u: ins(&p4v1.CounterEntry{CounterId: cPort, Index: idx(3)}), want: codes.InvalidArgument},
		{name: "counter_delete", u: del(&p4v1.CounterEntry{CounterId: cPort, Index: idx(3)}), want: codes.InvalidArgument},
		{name: "counter_index_out_of_range", u: mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(16)}), want: codes.OutOfRange},
		{name: "counter_negative_index", u: mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(-1)}), want: codes.InvalidArgument},
		{name: "counter_unknown", u: mod(&p4v1.CounterEntry{CounterId: 0x12ffffff, Index: idx(0)}), want: codes.InvalidArgument},
		{name: "counter_negative_data", u: mod(&p4v1.CounterEntry{CounterId: cPort, Index: idx(0), Data: &p4v1.CounterData{PacketCount: -1}}), want: codes.InvalidArgument},
		{name: "meter_modify", u: mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(1), Config: &p4v1.MeterConfig{Cir: 100, Cburst: 10, Pir: 200, Pburst: 20}}), want: codes.OK},
		{name: "meter_trtcm_with_eburst", u: mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(1), Config: &p4v1.MeterConfig{Cir: 100, Cburst: 10, Pir: 200, Pburst: 20, Eburst: 5}}), want: codes.InvalidArgument},
		{name: "meter_single_rate_pir_not_cir", u: mod(&p4v1.MeterEntry{MeterId: mPolicer, Index: idx(1), Config: &p4v1.MeterConfig{Cir: 100, Cburst: 10, Pir: 200, Pburst: 10}}), want: codes.InvalidArgument},
		{name: "meter_single_rate", u: mod(&p4v1.MeterEntry{MeterId: mPolicer, Index: idx(1), Config: &p4v1.MeterConfig{Cir: 100, Cburst: 10, Pir: 100, Pburst: 10}}), want: codes.OK},
		{name: "meter_negative_rate", u: mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(1), Config: &p4v1.MeterConfig{Cir: -5}}), want: codes.InvalidArgument},
		{name: "meter_index_out_of_range", u: mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(8)}), want: codes.OutOfRange},
		{name: "meter_insert", u: ins(&p4v1.MeterEntry{MeterId: mPort, Index: idx(1)}), want: codes.InvalidArgument},
		{name: "meter_entry_counter_data_nonzero", u: mod(&p4v1.MeterEntry{MeterId: mPort, Index: idx(1), CounterData: &p4v1.MeterCounterData{Red: &p4v1.CounterData{PacketCount: 1}}}), want: codes.InvalidArgument},
		{name: "register_modify", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(15), Data: bitstring(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)}), want: codes.OK},
		{name: "register_too_wide", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(0), Data: bitstring(1, 0, 0, 0, 0)}), want: codes.OutOfRange},
		{name: "register_empty_bitstring", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(0), Data: bitstring()}), want: codes.OutOfRange},
		{name: "register_not_bitstring", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(0), Data: &p4v1.P4Data{Data: &p4v1.P4Data_Bool{Bool: true}}}), want: codes.InvalidArgument},
		{name: "register_missing_data", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(0)}), want: codes.InvalidArgument},
		{name: "register_index_out_of_range", u: mod(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(16), Data: bitstring(1)}), want: codes.OutOfRange},
		{name: "register_insert", u: ins(&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(1), Data: bitstring(1)}), want: codes.InvalidArgument},
		{name: "register_unknown", u: mod(&p4v1.RegisterEntry{RegisterId: 0x16ffffff, Index: idx(1), Data: bitstring(1)}), want: codes.InvalidArgument},

		// Digests (spec "DigestEntry").
		{name: "digest_insert", u: ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{MaxTimeoutNs: 1e6, MaxListSize: 10, AckTimeoutNs: 1e9}}), want: codes.OK},
		{name: "digest_duplicate_insert", setup: []*p4v1.Update{ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{}})},
			u: ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{}}), want: codes.AlreadyExists},
		{name: "digest_modify_not_enabled", u: mod(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{}}), want: codes.NotFound},
		{name: "digest_delete_not_enabled", u: del(&p4v1.DigestEntry{DigestId: dLearn}), want: codes.NotFound},
		{name: "digest_missing_config", u: ins(&p4v1.DigestEntry{DigestId: dLearn}), want: codes.InvalidArgument},
		{name: "digest_negative_config", u: ins(&p4v1.DigestEntry{DigestId: dLearn, Config: &p4v1.DigestEntry_Config{MaxListSize: -1}}), want: codes.InvalidArgument},
		{name: "digest_unknown", u: ins(&p4v1.DigestEntry{DigestId: 0x17ffffff, Config: &p4v1.DigestEntry_Config{}}), want: codes.InvalidArgument},

		// Value sets (spec "ValueSetEntry").
		{name: "value_set_modify", u: mod(valueSet(vsTrill, ex(1, 0x22, 0xf3), ex(1, 0x89, 0x3b))), want: codes.OK},
		{name: "value_set_insert", u: ins(valueSet(vsTrill, ex(1, 0x22, 0xf3))), want: codes.InvalidArgument},
		{name: "value_set_too_many_members", u: mod(valueSet(vsTrill, ex(1, 1), ex(1, 2), ex(1, 3), ex(1, 4), ex(1, 5))), want: codes.ResourceExhausted},
		{name: "value_set_duplicate_member", u: mod(valueSet(vsTrill, ex(1, 1), ex(1, 0, 1))), want: codes.AlreadyExists},
		{name: "value_set_ternary_mask_zero", u: mod(valueSet(vsTPIDs, tn(1, bs(0), bs(0)))), want: codes.InvalidArgument},
		{name: "value_set_ternary", u: mod(valueSet(vsTPIDs, tn(1, bs(0x81, 0), bs(0xff, 0xff)))), want: codes.OK},
		{name: "value_set_too_wide", u: mod(valueSet(vsTrill, ex(1, 1, 0, 0))), want: codes.OutOfRange},
		{name: "value_set_missing_exact", u: mod(&p4v1.ValueSetEntry{ValueSetId: vsTrill, Members: []*p4v1.ValueSetMember{{}}}), want: codes.InvalidArgument},
		{name: "value_set_unknown", u: mod(valueSet(0x03ffffff)), want: codes.InvalidArgument},
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func tinyEntryWith(a *p4v1.Action) *p4v1.TableEntry {
	return te(tTiny, 0, direct(a), lp(1, 8, 10, 0, 0, 0))
}

func withConst(e *p4v1.TableEntry) *p4v1.TableEntry { e.IsConst = true; return e }

func withMatch(e *p4v1.TableEntry, ms ...*p4v1.FieldMatch) *p4v1.TableEntry {
	e.Match = ms
	return e
}

func withPriority(e *p4v1.TableEntry, p int32) *p4v1.TableEntry { e.Priority = p; return e }

func withIdle(e *p4v1.TableEntry, ns int64) *p4v1.TableEntry { e.IdleTimeoutNs = ns; return e }

func withHit(e *p4v1.TableEntry) *p4v1.TableEntry {
	e.TimeSinceLastHit = &p4v1.TableEntry_IdleTimeout{}
	return e
}

func withCounter(e *p4v1.TableEntry, packets, bytes int64) *p4v1.TableEntry {
	e.CounterData = &p4v1.CounterData{PacketCount: packets, ByteCount: bytes}
	return e
}

func withMeter(e *p4v1.TableEntry, c *p4v1.MeterConfig) *p4v1.TableEntry { e.MeterConfig = c; return e }

func withColors(e *p4v1.TableEntry, n int64) *p4v1.TableEntry {
	e.MeterCounterData = &p4v1.MeterCounterData{Green: &p4v1.CounterData{PacketCount: n}}
	return e
}

func valueSet(id uint32, ms ...*p4v1.FieldMatch) *p4v1.ValueSetEntry {
	v := &p4v1.ValueSetEntry{ValueSetId: id}
	for _, m := range ms {
		v.Members = append(v.Members, &p4v1.ValueSetMember{Match: []*p4v1.FieldMatch{m}})
	}
	return v
}
