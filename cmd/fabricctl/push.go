package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/driver"
	drvbuiltin "github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/p4/client"
	"github.com/p4fabric/fabric/pipeline"
)

// pushTarget is one device of "pipeline push": host:port[/device-id].
type pushTarget struct {
	addr     string
	deviceID uint64
}

// parsePushTarget parses host:port[/device-id] (device ID 1 when left out).
func parsePushTarget(s string) (pushTarget, error) {
	addr, id, hasID := strings.Cut(s, "/")
	t := pushTarget{addr: addr, deviceID: 1}
	if addr == "" || !strings.Contains(addr, ":") {
		return t, fmt.Errorf("--target %q: want host:port[/device-id]", s)
	}
	if hasID {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return t, fmt.Errorf("--target %q: device ID %q: %w", s, id, err)
		}
		t.deviceID = n
	}
	return t, nil
}

// pushResult is what "pipeline push" did on one device.
type pushResult struct {
	Target     string `json:"target"`
	DeviceID   uint64 `json:"device_id"`
	Pipeconf   string `json:"pipeconf"`
	Result     string `json:"result"` // set, verified, unchanged or failed
	Cookie     string `json:"cookie,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// pushResults is the table of "pipeline push".
type pushResults []pushResult

// TableHeaders implements output.Tabular.
func (pushResults) TableHeaders() []string {
	return []string{"TARGET", "DEVICE ID", "PIPECONF", "RESULT", "COOKIE", "TIME", "ERROR"}
}

// TableRows implements output.Tabular.
func (r pushResults) TableRows() [][]string {
	rows := make([][]string, 0, len(r))
	for _, x := range r {
		errText := x.Error
		if errText == "" {
			errText = "-"
		}
		rows = append(rows, []string{x.Target, strconv.FormatUint(x.DeviceID, 10), x.Pipeconf, x.Result, x.Cookie,
			(time.Duration(x.DurationMS) * time.Millisecond).String(), errText})
	}
	return rows
}

func newPipelinePushCmd(opts *globalOptions) *cobra.Command {
	var (
		targets         []string
		drv             string
		insecure        bool
		tlsCA           string
		tlsCert, tlsKey string
		electionID      uint64
		verifyOnly      bool
		force           bool
		takeOver        bool
		parallel        int
		timeout         time.Duration
		showProgress    bool
	)
	cmd := &cobra.Command{
		Use:   "push PIPECONF --target HOST:PORT[/DEVICE-ID]...",
		Short: "Set a pipeconf on one or many switches (P4Runtime SetForwardingPipelineConfig)",
		Long: `Push a pipeconf (a built-in ID or a folder) to every --target: the driver
packages it for the device (bmv2 JSON for bmv2 and Stratum-bmv2), fabricctl
becomes primary with --election-id, and sets it with VERIFY_AND_COMMIT and
the pipeconf's cookie. A device whose pipeline already has that cookie is
left alone ("unchanged") unless --force; --verify-only asks the device to
check the pipeconf (VERIFY) without applying it.

Targets are pushed --parallel at a time, with a progress bar on standard
error when it is a terminal (--progress forces it). The command fails if any
target failed; the table says which and why.`,
		Example: `  fabricctl pipeline push onos-basic --driver emulated --insecure --target 127.0.0.1:9559/1
  fabricctl pipeline push fabric-v1model --driver stratum --tls-ca ca.pem \
      --target 10.0.0.11:9559/1 --target 10.0.0.12:9559/1 --target 10.0.0.13:9559/1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(targets) == 0 {
				return errors.New("--target is required (host:port[/device-id], repeatable)")
			}
			if parallel < 1 {
				return fmt.Errorf("--parallel %d: want at least 1", parallel)
			}
			var ts []pushTarget
			for _, s := range targets {
				t, err := parsePushTarget(s)
				if err != nil {
					return err
				}
				ts = append(ts, t)
			}
			pc, err := loadPipeconf(args[0], "")
			if err != nil {
				return err
			}
			spec := driver.Spec{Driver: drv, ElectionID: client.ElectionID{Low: electionID}, Insecure: insecure}
			switch {
			case insecure && (tlsCA != "" || tlsCert != "" || tlsKey != ""):
				return errors.New("--insecure and --tls-ca/--tls-cert/--tls-key are exclusive")
			case !insecure:
				if spec.TLS, err = certs.LoadClientConfig(tlsCA, tlsCert, tlsKey); err != nil {
					return fmt.Errorf("TLS: %w", err)
				}
			}
			reg, err := drvbuiltin.Registry()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			b := newBar(cmd, showProgress, int64(len(ts)), "push", "switches", false)
			results := make(pushResults, len(ts))
			sem := make(chan struct{}, parallel)
			var wg sync.WaitGroup
			for i, t := range ts {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					s := spec.Clone()
					s.Name, s.Address, s.DeviceID = t.addr, t.addr, t.deviceID
					results[i] = push(ctx, reg, s, pc, verifyOnly, force, takeOver)
					b.add(1)
				})
			}
			wg.Wait()
			if err := opts.print(cmd, results); err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Result == "failed" {
					failed++
				}
			}
			if failed > 0 {
				return fmt.Errorf("pipeline push: %d of %d targets failed", failed, len(results))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&targets, "target", nil, "switch to push to, host:port[/device-id] (repeatable; device ID 1 when left out)")
	f.StringVar(&drv, "driver", drvbuiltin.Stratum, "driver of the switches: emulated, bmv2 or stratum")
	f.BoolVar(&insecure, "insecure", false, "connect in plaintext, without TLS")
	f.StringVar(&tlsCA, "tls-ca", "", "PEM file of the CA the switches' certificates chain to (default: system roots)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM file of a client certificate, for mutual TLS")
	f.StringVar(&tlsKey, "tls-key", "", "PEM file of the client certificate's key")
	f.Uint64Var(&electionID, "election-id", 1, "P4Runtime election ID (low 64 bits) to become primary with")
	f.BoolVar(&verifyOnly, "verify-only", false, "only ask the switches to verify the pipeconf (VERIFY)")
	f.BoolVar(&force, "force", false, "push even to switches that already run the pipeconf")
	f.BoolVar(&takeOver, "take-over", false, "become primary even where another controller is (arbitrate above the highest election ID)")
	f.IntVar(&parallel, "parallel", 8, "how many switches are pushed to at once")
	f.DurationVar(&timeout, "timeout", time.Minute, "bound on the whole push (0: none)")
	f.BoolVar(&showProgress, "progress", false, "draw the progress bar even when standard error is not a terminal")
	_ = cmd.RegisterFlagCompletionFunc("driver", cobra.FixedCompletions([]string{drvbuiltin.Emulated, drvbuiltin.BMv2, drvbuiltin.Stratum}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// push sets pc on the device spec describes, and says what it did.
func push(ctx context.Context, reg *driver.Registry, spec driver.Spec, pc *pipeline.Pipeconf, verifyOnly, force, takeOver bool) pushResult {
	start := time.Now()
	r := pushResult{Target: spec.Address, DeviceID: spec.DeviceID, Pipeconf: pc.ID}
	err := func() error {
		dev, err := reg.Open(ctx, spec)
		if err != nil {
			return err
		}
		defer dev.Close()
		cl, err := dev.P4Runtime()
		if err != nil {
			return err
		}
		if takeOver {
			if err := cl.TakeOver(ctx); err != nil {
				return fmt.Errorf("taking over as primary: %w", err)
			}
		}
		// A backup is never promoted by itself (spec "Rules for Handling
		// MasterArbitrationUpdate Messages"): once the switch has said so,
		// do not wait out --timeout.
		if st := cl.Status(); st.State == client.Backup {
			return fmt.Errorf("not primary: election ID %v is below the switch's %v (--election-id or --take-over)", st.ElectionID, st.PrimaryElectionID)
		}
		if err := cl.WaitPrimary(ctx); err != nil {
			return fmt.Errorf("becoming primary: %w", err)
		}
		cfg, err := dev.PackagePipeconf(ctx, pc)
		if err != nil {
			return err
		}
		ck := driver.Cookie(pc, cfg)
		r.Cookie = fmt.Sprintf("%#016x", ck)
		if verifyOnly {
			r.Result = "verified"
			return cl.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY)
		}
		if !force {
			// The spec's cookie (GetForwardingPipelineConfig COOKIE_ONLY)
			// says what the device runs without fetching the whole config.
			got, err := cl.GetPipeline(ctx, p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY)
			if err != nil && !errors.Is(err, client.ErrNoPipeline) {
				return fmt.Errorf("get pipeline: %w", err)
			}
			if err == nil && got.GetCookie().GetCookie() == ck {
				r.Result = "unchanged"
				return nil
			}
		}
		r.Result = "set"
		return cl.SetPipeline(ctx, pc.Schema.P4Info(), cfg, p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, ck)
	}()
	r.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		r.Result, r.Error = "failed", err.Error()
	}
	return r
}
