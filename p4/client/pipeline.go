package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/p4fabric/fabric/p4/schema"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// SetPipeline sends a SetForwardingPipelineConfig with the given action
// (spec "SetForwardingPipelineConfig RPC"):
//
//   - VERIFY checks that the switch can realize the config, changing nothing;
//   - VERIFY_AND_SAVE saves it: later reads and writes refer to it, the
//     forwarding state stays;
//   - VERIFY_AND_COMMIT saves and realizes it, clearing the forwarding state;
//   - COMMIT realizes the config saved last; it takes no config, so p4info
//     and deviceConfig must be nil;
//   - RECONCILE_AND_COMMIT realizes it keeping the forwarding state, where
//     the switch supports that.
//
// cookie, at most one, identifies the config (GetPipeline returns it). After
// VERIFY_AND_SAVE, VERIFY_AND_COMMIT and RECONCILE_AND_COMMIT succeed, the
// client's schema becomes p4info's, unless WithSchema fixed it. A refusal for
// lack of mastership matches ErrNotPrimary.
func (c *Client) SetPipeline(ctx context.Context, p4info *p4configv1.P4Info, deviceConfig []byte,
	action p4v1.SetForwardingPipelineConfigRequest_Action, cookie ...uint64) error {
	if len(cookie) > 1 {
		return fmt.Errorf("p4runtime set pipeline: %d cookies, want at most one", len(cookie))
	}
	req := &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId:   c.cfg.deviceID,
		Role:       c.cfg.roleName,
		ElectionId: c.electionID().Proto(),
		Action:     action,
	}
	var sch *schema.Schema
	switch action {
	case p4v1.SetForwardingPipelineConfigRequest_COMMIT:
		if p4info != nil || deviceConfig != nil || len(cookie) > 0 {
			return errors.New("p4runtime set pipeline: COMMIT realizes the saved config and takes none")
		}
	case p4v1.SetForwardingPipelineConfigRequest_VERIFY,
		p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE,
		p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT:
		if p4info == nil {
			return fmt.Errorf("p4runtime set pipeline: %s needs a P4Info", action)
		}
		req.Config = &p4v1.ForwardingPipelineConfig{P4Info: p4info, P4DeviceConfig: deviceConfig}
		if len(cookie) == 1 {
			req.Config.Cookie = &p4v1.ForwardingPipelineConfig_Cookie{Cookie: cookie[0]}
		}
		if action != p4v1.SetForwardingPipelineConfigRequest_VERIFY && !c.schemaPinned {
			var err error
			if sch, err = schema.New(p4info); err != nil {
				return fmt.Errorf("p4runtime set pipeline: %w", err)
			}
		}
	default:
		return fmt.Errorf("p4runtime set pipeline: invalid action %s", action)
	}
	cctx, cancel, err := c.callCtx(ctx, true)
	if err != nil {
		return err
	}
	defer cancel()
	// Whatever the answer, the config the switch runs may change.
	view := c.beginPipelineCall(action != p4v1.SetForwardingPipelineConfigRequest_VERIFY)
	if _, err := c.rpc.SetForwardingPipelineConfig(cctx, req, c.callOpts()...); err != nil {
		err = c.withCtxErr(cctx, err)
		if rpcNotPrimary(err) {
			return fmt.Errorf("p4runtime set pipeline %s: %w: %w", action, ErrNotPrimary, err)
		}
		return fmt.Errorf("p4runtime set pipeline %s: %w", action, err)
	}
	if sch != nil {
		c.schema.Store(sch)
	}
	if len(cookie) == 1 && (action == p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT ||
		action == p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT) {
		c.learnCookie(view, cookie[0], true)
	}
	return nil
}

// GetPipeline returns the switch's forwarding pipeline config, with the
// fields responseType asks for (spec "GetForwardingPipelineConfig RPC"): ALL, COOKIE_ONLY,
// P4INFO_AND_COOKIE or DEVICE_CONFIG_AND_COOKIE. It returns ErrNoPipeline
// when the switch has none. A P4Info in the answer becomes the client's
// schema, unless WithSchema fixed it.
func (c *Client) GetPipeline(ctx context.Context, responseType p4v1.GetForwardingPipelineConfigRequest_ResponseType) (*p4v1.ForwardingPipelineConfig, error) {
	if _, ok := p4v1.GetForwardingPipelineConfigRequest_ResponseType_name[int32(responseType)]; !ok {
		return nil, fmt.Errorf("p4runtime get pipeline: invalid response type %d", responseType)
	}
	cctx, cancel, err := c.callCtx(ctx, true)
	if err != nil {
		return nil, err
	}
	defer cancel()
	view := c.beginPipelineCall(false)
	resp, err := c.rpc.GetForwardingPipelineConfig(cctx, &p4v1.GetForwardingPipelineConfigRequest{
		DeviceId: c.cfg.deviceID, ResponseType: responseType,
	}, c.callOpts()...)
	if err != nil {
		return nil, fmt.Errorf("p4runtime get pipeline: %w", c.withCtxErr(cctx, err))
	}
	cfg := resp.GetConfig()
	ck := cfg.GetCookie()
	c.learnCookie(view, ck.GetCookie(), ck != nil)
	if cfg == nil {
		return nil, ErrNoPipeline
	}
	if info := cfg.GetP4Info(); info != nil && !c.schemaPinned {
		s, err := schema.New(info)
		if err != nil {
			return cfg, fmt.Errorf("p4runtime get pipeline: switch's P4Info: %w", err)
		}
		c.schema.Store(s)
	}
	return cfg, nil
}

// Capabilities asks the switch which P4Runtime version it implements (spec
// "Capabilities RPC"). A switch that answers UNIMPLEMENTED implements 1.0 or older.
func (c *Client) Capabilities(ctx context.Context) (*p4v1.CapabilitiesResponse, error) {
	cctx, cancel, err := c.callCtx(ctx, true)
	if err != nil {
		return nil, err
	}
	defer cancel()
	resp, err := c.rpc.Capabilities(cctx, &p4v1.CapabilitiesRequest{DeviceId: c.cfg.deviceID}, c.callOpts()...)
	if err != nil {
		return nil, fmt.Errorf("p4runtime capabilities: %w", c.withCtxErr(cctx, err))
	}
	return resp, nil
}
