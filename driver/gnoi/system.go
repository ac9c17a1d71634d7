package gnoi

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	syspb "github.com/openconfig/gnoi/system"
)

// TimeResult is a device's time as gNOI system.Time reports it, placed
// against the local clock.
type TimeResult struct {
	// Time is the device's time.
	Time time.Time
	// Local is the local time half-way through the call: the best local
	// estimate of when the device read its clock.
	Local time.Time
	// Offset is Time - Local: how far the device's clock is ahead of the
	// local one.
	Offset time.Duration
	// RTT is the round-trip time of the call.
	RTT time.Duration
	// ErrorBound is RTT/2: the device read its clock at some instant of the
	// call, so the true offset lies within Offset ± ErrorBound (as long as
	// the two clocks tick at the same rate during the call).
	ErrorBound time.Duration
}

// Time asks the device for its time (gNOI system.Time) and measures the
// round trip of the call.
func (c *Client) Time(ctx context.Context) (TimeResult, error) {
	ctx = c.Context(ctx)
	t0 := time.Now()
	resp, err := c.sys.Time(ctx, &syspb.TimeRequest{})
	t1 := time.Now()
	if err != nil {
		return TimeResult{}, rpcErr("system", "Time", err)
	}
	if resp.GetTime() > math.MaxInt64 {
		return TimeResult{}, rpcErr("system", "Time", fmt.Errorf("device time %d ns since the epoch is out of range", resp.GetTime()))
	}
	rtt := t1.Sub(t0)
	dev := time.Unix(0, int64(resp.GetTime()))
	local := t0.Add(rtt / 2).Round(0)
	return TimeResult{Time: dev, Local: local, Offset: dev.Sub(local), RTT: rtt, ErrorBound: rtt / 2}, nil
}

// RebootMethod is how a device reboots (gnoi.system.RebootMethod).
type RebootMethod = syspb.RebootMethod

// Reboot methods. Only Cold is guaranteed to be supported by every target.
const (
	Cold      = syspb.RebootMethod_COLD
	Warm      = syspb.RebootMethod_WARM
	PowerDown = syspb.RebootMethod_POWERDOWN
	Halt      = syspb.RebootMethod_HALT
	NSF       = syspb.RebootMethod_NSF
	PowerUp   = syspb.RebootMethod_POWERUP
)

// ParseRebootMethod returns the method named s, case-insensitively
// ("cold", "WARM", "powerdown", ...).
func ParseRebootMethod(s string) (RebootMethod, error) {
	v, ok := syspb.RebootMethod_value[strings.ToUpper(strings.TrimSpace(s))]
	if !ok || v == int32(syspb.RebootMethod_UNKNOWN) {
		return 0, fmt.Errorf("gnoi: unknown reboot method %q (want cold, warm, powerdown, halt, nsf or powerup)", s)
	}
	return RebootMethod(v), nil
}

// Reboot asks the device to reboot with method after delay, giving message
// as the reason. A negative delay is an error.
func (c *Client) Reboot(ctx context.Context, method RebootMethod, delay time.Duration, message string) error {
	if delay < 0 {
		return rpcErr("system", "Reboot", fmt.Errorf("negative delay %v", delay))
	}
	_, err := c.sys.Reboot(c.Context(ctx), &syspb.RebootRequest{Method: method, Delay: uint64(delay), Message: message})
	return rpcErr("system", "Reboot", err)
}

// CancelReboot cancels a pending reboot.
func (c *Client) CancelReboot(ctx context.Context, message string) error {
	_, err := c.sys.CancelReboot(c.Context(ctx), &syspb.CancelRebootRequest{Message: message})
	return rpcErr("system", "CancelReboot", err)
}

// RebootStatus is a device's answer to gNOI system.RebootStatus.
type RebootStatus struct {
	// Active reports a pending or ongoing reboot.
	Active bool
	// Wait is the time left until the reboot.
	Wait time.Duration
	// When is the time of the reboot (device clock); zero when unknown.
	When time.Time
	// Reason is the message of the reboot request.
	Reason string
	// Count is the number of reboots the device reports.
	Count uint32
	// Method is the method of the pending or last reboot.
	Method RebootMethod
	// Status is the outcome of the last reboot when none is active
	// (SUCCESS, RETRIABLE_FAILURE, FAILURE; UNKNOWN when not reported).
	Status syspb.RebootStatus_Status
	// StatusMessage details Status.
	StatusMessage string
}

// RebootStatus asks the device about its pending or last reboot.
func (c *Client) RebootStatus(ctx context.Context) (RebootStatus, error) {
	resp, err := c.sys.RebootStatus(c.Context(ctx), &syspb.RebootStatusRequest{})
	if err != nil {
		return RebootStatus{}, rpcErr("system", "RebootStatus", err)
	}
	rs := RebootStatus{
		Active:        resp.GetActive(),
		Wait:          time.Duration(min(resp.GetWait(), math.MaxInt64)),
		Reason:        resp.GetReason(),
		Count:         resp.GetCount(),
		Method:        resp.GetMethod(),
		Status:        resp.GetStatus().GetStatus(),
		StatusMessage: resp.GetStatus().GetMessage(),
	}
	if w := resp.GetWhen(); w > 0 && w <= math.MaxInt64 {
		rs.When = time.Unix(0, int64(w))
	}
	return rs, nil
}
