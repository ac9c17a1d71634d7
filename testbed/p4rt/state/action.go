package state

import (
	"strconv"

	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

func quote(s string) string { return strconv.Quote(s) }

// checkAction validates an action specification for a table or action
// profile (spec "Action Specification"): ref is the scope's reference to
// the action, nil when the scope cannot use it. asDefault tells whether the
// action is for a default entry. dirty is set when a parameter value is
// valid but not canonical.
//
//   - an unknown action ID, or one the table cannot use: INVALID_ARGUMENT;
//   - a TABLE_ONLY action as default action or a DEFAULT_ONLY action in an
//     entry: PERMISSION_DENIED (the spec's code for a scope violation);
//   - a missing, unknown or repeated parameter: INVALID_ARGUMENT;
//   - a value that is not a valid bytestring for the parameter: OUT_OF_RANGE.
func (d *Device) checkAction(a *p4v1.Action, ref *schema.ActionRef, scope string, asDefault bool) (dirty bool, oe *opError) {
	if a == nil {
		return false, errf(codes.InvalidArgument, "%s: missing action", scope)
	}
	if ref == nil {
		if act := d.s.ActionByID(a.GetActionId()); act != nil {
			return false, errf(codes.InvalidArgument, "%s cannot use action %s", scope, quote(act.Name))
		}
		return false, errf(codes.InvalidArgument, "unknown action ID %d", a.GetActionId())
	}
	act := ref.Action
	if asDefault && ref.TableOnly() {
		return false, errf(codes.PermissionDenied, "%s: action %s is TABLE_ONLY and cannot be the default action", scope, quote(act.Name))
	}
	if !asDefault && ref.DefaultOnly() {
		return false, errf(codes.PermissionDenied, "%s: action %s is DEFAULT_ONLY and can only be the default action", scope, quote(act.Name))
	}
	var seen uint64
	var seenBig []bool
	if len(act.Params) > 64 {
		seenBig = make([]bool, len(act.Params))
	}
	for _, p := range a.GetParams() {
		i := paramIndex(act, p.GetParamId())
		if i < 0 {
			return false, errf(codes.InvalidArgument, "action %s has no parameter with ID %d", quote(act.Name), p.GetParamId())
		}
		if seenBig != nil {
			if seenBig[i] {
				return false, errf(codes.InvalidArgument, "action %s: parameter %s given twice", quote(act.Name), quote(act.Params[i].Name))
			}
			seenBig[i] = true
		} else {
			if seen&(1<<i) != 0 {
				return false, errf(codes.InvalidArgument, "action %s: parameter %s given twice", quote(act.Name), quote(act.Params[i].Name))
			}
			seen |= 1 << i
		}
		prm := act.Params[i]
		c, code, why := canonical(p.GetValue(), prm.Bitwidth, isString(prm.Translated))
		if code != codes.OK {
			return false, errf(code, "action %s parameter %s: %s", quote(act.Name), quote(prm.Name), why)
		}
		if len(c) != len(p.GetValue()) {
			dirty = true
		}
	}
	if len(a.GetParams()) != len(act.Params) {
		for i, prm := range act.Params {
			if (seenBig != nil && !seenBig[i]) || (seenBig == nil && seen&(1<<i) == 0) {
				return false, errf(codes.InvalidArgument, "action %s: parameter %s is missing", quote(act.Name), quote(prm.Name))
			}
		}
	}
	return dirty, nil
}

func paramIndex(act *schema.Action, id uint32) int {
	if len(act.Params) > 8 {
		p := act.ParamByID(id)
		if p == nil {
			return -1
		}
		for i, q := range act.Params {
			if q == p {
				return i
			}
		}
		return -1
	}
	for i, p := range act.Params {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// canonAction returns a copy of a validated action with canonical
// parameter values.
func (d *Device) canonAction(a *p4v1.Action) *p4v1.Action {
	act := d.s.ActionByID(a.GetActionId())
	out := &p4v1.Action{ActionId: a.GetActionId(), Params: make([]*p4v1.Action_Param, len(a.GetParams()))}
	for i, p := range a.GetParams() {
		v := p.GetValue()
		if act != nil {
			if prm := act.ParamByID(p.GetParamId()); prm != nil && !isString(prm.Translated) {
				v = trimZ(v)
			}
		}
		out.Params[i] = &p4v1.Action_Param{ParamId: p.GetParamId(), Value: v}
	}
	return out
}

// canonTableAction returns a copy of a validated table action with
// canonical parameter values.
func (d *Device) canonTableAction(ta *p4v1.TableAction) *p4v1.TableAction {
	switch x := ta.GetType().(type) {
	case *p4v1.TableAction_Action:
		return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: d.canonAction(x.Action)}}
	case *p4v1.TableAction_ActionProfileActionSet:
		set := &p4v1.ActionProfileActionSet{
			ActionSelectionMode: x.ActionProfileActionSet.GetActionSelectionMode(),
			SizeSemantics:       x.ActionProfileActionSet.GetSizeSemantics(),
		}
		for _, apa := range x.ActionProfileActionSet.GetActionProfileActions() {
			c := &p4v1.ActionProfileAction{Action: d.canonAction(apa.GetAction()), Weight: apa.GetWeight()}
			switch w := apa.GetWatchKind().(type) {
			case *p4v1.ActionProfileAction_Watch:
				c.WatchKind = &p4v1.ActionProfileAction_Watch{Watch: w.Watch}
			case *p4v1.ActionProfileAction_WatchPort:
				c.WatchKind = &p4v1.ActionProfileAction_WatchPort{WatchPort: w.WatchPort}
			}
			set.ActionProfileActions = append(set.ActionProfileActions, c)
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: set}}
	}
	return ta
}
