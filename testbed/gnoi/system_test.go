package gnoi_test

import (
	"testing"
	"time"

	syspb "github.com/openconfig/gnoi/system"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc/codes"

	dgnoi "github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed/clock"
	"github.com/p4fabric/fabric/testbed/gnoi"
)

// TestTimeShowsSkew: the offset of the emulated clock is visible through
// system.Time, within the error bound of the call (RTT/2).
func TestTimeShowsSkew(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		drift  float64
	}{
		{"in sync", 0, 0},
		{"250ms ahead", 250 * time.Millisecond, 0},
		{"2s behind", -2 * time.Second, 0},
		{"ahead and drifting", 40 * time.Millisecond, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk, err := clock.New(clock.WithOffset(tt.offset), clock.WithDrift(tt.drift))
			if err != nil {
				t.Fatal(err)
			}
			_, c := startBox(t, gnoi.LoopbackConfig{Clock: clk})
			ctx := testCtx(t)
			for range 3 {
				before := clk.Offset()
				res, err := c.Time(ctx)
				after := clk.Offset()
				if err != nil {
					t.Fatal(err)
				}
				if res.ErrorBound != res.RTT/2 || res.RTT <= 0 {
					t.Fatalf("RTT %v, bound %v", res.RTT, res.ErrorBound)
				}
				// The clock's offset moved from before to after during the
				// call (drift); the measurement must fall within the bound
				// of that range.
				lo, hi := before-res.ErrorBound, after+res.ErrorBound
				if res.Offset < lo-time.Microsecond || res.Offset > hi+time.Microsecond {
					t.Fatalf("measured offset %v outside [%v, %v] (clock offset %v..%v, rtt %v)", res.Offset, lo, hi, before, after, res.RTT)
				}
				if !res.Time.Equal(res.Local.Add(res.Offset)) {
					t.Fatalf("Time %v != Local %v + Offset %v", res.Time, res.Local, res.Offset)
				}
			}
		})
	}
}

func TestRebootMethods(t *testing.T) {
	tests := []struct {
		name     string
		req      *syspb.RebootRequest
		wantCode codes.Code
		comesUp  bool // the box reboots and comes back
		staysOff bool // the box reboots and stays down
	}{
		{name: "cold", req: &syspb.RebootRequest{Method: syspb.RebootMethod_COLD, Message: "test"}, comesUp: true},
		{name: "warm", req: &syspb.RebootRequest{Method: syspb.RebootMethod_WARM}, comesUp: true},
		{name: "powerdown", req: &syspb.RebootRequest{Method: syspb.RebootMethod_POWERDOWN}, staysOff: true},
		{name: "powerup is a no-op", req: &syspb.RebootRequest{Method: syspb.RebootMethod_POWERUP}},
		{name: "unknown", req: &syspb.RebootRequest{}, wantCode: codes.InvalidArgument},
		{name: "halt", req: &syspb.RebootRequest{Method: syspb.RebootMethod_HALT}, wantCode: codes.InvalidArgument},
		{name: "nsf", req: &syspb.RebootRequest{Method: syspb.RebootMethod_NSF}, wantCode: codes.InvalidArgument},
		{name: "subcomponents", req: &syspb.RebootRequest{Method: syspb.RebootMethod_COLD, Subcomponents: []*tpb.Path{dgnoi.ComponentPath("1")}}, wantCode: codes.InvalidArgument},
		{name: "delay out of range", req: &syspb.RebootRequest{Method: syspb.RebootMethod_COLD, Delay: 1 << 63}, wantCode: codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box, c := startBox(t, gnoi.LoopbackConfig{})
			ctx := testCtx(t)
			_, err := c.System().Reboot(ctx, tt.req)
			wantCode(t, err, tt.wantCode)
			switch {
			case tt.comesUp:
				if err := box.WaitBoots(ctx, 2); err != nil {
					t.Fatal(err)
				}
				if got := box.Reboots(); len(got) != 1 || got[0] != tt.req.GetMethod() {
					t.Fatalf("reboots %v", got)
				}
				st, err := c.RebootStatus(ctx) // through the reconnected channel
				if err != nil {
					t.Fatal(err)
				}
				if st.Active || st.Count != 1 || st.Method != tt.req.GetMethod() || st.Status != syspb.RebootStatus_STATUS_SUCCESS || st.Reason != tt.req.GetMessage() {
					t.Fatalf("status after reboot: %+v", st)
				}
			case tt.staysOff:
				if err := box.WaitDown(ctx, 1); err != nil {
					t.Fatal(err)
				}
				if err := box.PowerOn(); err != nil {
					t.Fatal(err)
				}
				if box.Boots() != 2 {
					t.Fatalf("boots %d", box.Boots())
				}
			default:
				st, err := c.RebootStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Active || st.Count != 0 {
					t.Fatalf("status after a refused or no-op reboot: %+v", st)
				}
			}
		})
	}
}

func TestRebootPendingAndCancel(t *testing.T) {
	clk, err := clock.New(clock.WithOffset(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	box, c := startBox(t, gnoi.LoopbackConfig{Clock: clk})
	ctx := testCtx(t)
	if err := c.Reboot(ctx, dgnoi.Cold, time.Hour, "maintenance"); err != nil {
		t.Fatal(err)
	}
	st, err := c.RebootStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Active || st.Reason != "maintenance" || st.Method != dgnoi.Cold || st.Wait <= 59*time.Minute || st.Wait > time.Hour {
		t.Fatalf("pending status %+v", st)
	}
	// When is on the box clock, an hour ahead of the host's.
	if d := st.When.Sub(time.Now().Add(2 * time.Hour)); d.Abs() > time.Minute {
		t.Fatalf("When = %v, want about two hours from now", st.When)
	}
	for _, m := range []dgnoi.RebootMethod{dgnoi.Cold, dgnoi.Warm, dgnoi.PowerDown} {
		err := c.Reboot(ctx, m, 0, "second")
		wantCode(t, err, codes.FailedPrecondition)
	}
	if err := c.CancelReboot(ctx, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelReboot(ctx, "nothing pending"); err != nil {
		t.Fatal(err)
	}
	if st, err := c.RebootStatus(ctx); err != nil || st.Active {
		t.Fatalf("status after cancel: %+v, %v", st, err)
	}
	// A reboot is possible again, and happens.
	if err := c.Reboot(ctx, dgnoi.Cold, 10*time.Millisecond, "now"); err != nil {
		t.Fatal(err)
	}
	if err := box.WaitBoots(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(box.Reboots()); n != 1 {
		t.Fatalf("%d reboots, want 1 (the cancelled one must not happen)", n)
	}
	_, err = c.System().CancelReboot(ctx, &syspb.CancelRebootRequest{Subcomponents: []*tpb.Path{{}}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.System().RebootStatus(ctx, &syspb.RebootStatusRequest{Subcomponents: []*tpb.Path{{}}})
	wantCode(t, err, codes.InvalidArgument)
}

func TestSystemUnimplemented(t *testing.T) {
	_, c := startBox(t, gnoi.LoopbackConfig{})
	_, err := c.System().KillProcess(testCtx(t), &syspb.KillProcessRequest{Pid: 1})
	wantCode(t, err, codes.Unimplemented)
}

func TestCloseCancelsPendingReboot(t *testing.T) {
	box, c := startBox(t, gnoi.LoopbackConfig{})
	ctx := testCtx(t)
	if err := c.Reboot(ctx, dgnoi.Cold, time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	box.Server().Close()
	if st, err := c.RebootStatus(ctx); err != nil || st.Active {
		t.Fatalf("status after Close: %+v, %v", st, err)
	}
	wantCode(t, c.Reboot(ctx, dgnoi.Cold, 0, ""), codes.Unavailable)
}
