package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/internal/certs"
)

// gnoiFlags are the connection flags every "fabricctl gnoi" command shares.
type gnoiFlags struct {
	target             string
	insecure           bool
	tlsCA              string
	tlsCert, tlsKey    string
	username, password string
	timeout            time.Duration
}

// dial connects to --target as the flags say, and returns the context the
// command runs in (bounded by --timeout).
func (f *gnoiFlags) dial(cmd *cobra.Command) (*gnoi.Client, context.Context, context.CancelFunc, error) {
	if f.target == "" {
		return nil, nil, nil, errors.New("--target is required (host:port of the device)")
	}
	var opts []gnoi.Option
	switch {
	case f.insecure && (f.tlsCA != "" || f.tlsCert != "" || f.tlsKey != ""):
		return nil, nil, nil, errors.New("--insecure and --tls-ca/--tls-cert/--tls-key are exclusive")
	case f.insecure:
		opts = append(opts, gnoi.WithInsecure())
	default:
		tlsConf, err := certs.LoadClientConfig(f.tlsCA, f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("TLS: %w", err)
		}
		opts = append(opts, gnoi.WithTLS(tlsConf))
	}
	if f.username != "" || f.password != "" {
		opts = append(opts, gnoi.WithCredentials(f.username, f.password))
	}
	c, err := gnoi.Dial(f.target, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := cmd.Context(), context.CancelFunc(func() {})
	if ctx == nil {
		ctx = context.Background()
	}
	if f.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
	}
	return c, ctx, cancel, nil
}

// newGnoiCmd is "fabricctl gnoi": operations on a device over gNOI.
func newGnoiCmd(opts *globalOptions) *cobra.Command {
	f := &gnoiFlags{}
	cmd := &cobra.Command{
		Use:   "gnoi",
		Short: "Operate a switch over gNOI: time, reboot, software install",
		Long: `Operate a switch over gNOI (gRPC Network Operations Interface).

Every subcommand talks to the device at --target. Transport security is TLS
with the system roots by default; --tls-ca trusts another CA (such as the one
"fabricctl testbed up --ca-dir" writes), --tls-cert and --tls-key present a
client certificate, --insecure uses plaintext. --username and --password are
sent as request metadata.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.target, "target", "", "device address, host:port (required)")
	pf.BoolVar(&f.insecure, "insecure", false, "connect in plaintext, without TLS")
	pf.StringVar(&f.tlsCA, "tls-ca", "", "PEM file of the CA the device's certificate chains to (default: system roots)")
	pf.StringVar(&f.tlsCert, "tls-cert", "", "PEM file of a client certificate, for mutual TLS")
	pf.StringVar(&f.tlsKey, "tls-key", "", "PEM file of the client certificate's key")
	pf.StringVar(&f.username, "username", "", "username sent in request metadata")
	pf.StringVar(&f.password, "password", "", "password sent in request metadata")
	pf.DurationVar(&f.timeout, "timeout", time.Minute, "bound on the whole command (0: none)")
	for _, name := range []string{"tls-ca", "tls-cert", "tls-key"} {
		_ = cmd.MarkPersistentFlagFilename(name, "pem", "crt", "key")
	}
	cmd.AddCommand(
		newGnoiTimeCmd(opts, f),
		newGnoiRebootCmd(opts, f),
		newGnoiRebootStatusCmd(opts, f),
		newGnoiInstallCmd(opts, f),
	)
	return cmd
}

// gnoiTime is the result of "gnoi time".
type gnoiTime struct {
	Target string `json:"target"`
	// Time is the device's time, RFC 3339 with nanoseconds.
	Time string `json:"time"`
	// Offset is the device's clock minus the local one, in nanoseconds.
	OffsetNS int64 `json:"offset_ns"`
	// RTTNS is the round trip of the call, in nanoseconds.
	RTTNS int64 `json:"rtt_ns"`
	// ErrorBoundNS is half the round trip: the offset is exact to within it.
	ErrorBoundNS int64 `json:"error_bound_ns"`
}

// TableHeaders implements output.Tabular.
func (r gnoiTime) TableHeaders() []string {
	return []string{"TARGET", "TIME", "OFFSET", "RTT", "ERROR BOUND"}
}

// TableRows implements output.Tabular.
func (r gnoiTime) TableRows() [][]string {
	return [][]string{{r.Target, r.Time, time.Duration(r.OffsetNS).String(),
		time.Duration(r.RTTNS).String(), "±" + time.Duration(r.ErrorBoundNS).String()}}
}

func newGnoiTimeCmd(opts *globalOptions, f *gnoiFlags) *cobra.Command {
	var samples int
	cmd := &cobra.Command{
		Use:   "time",
		Short: "Read the device's clock and its offset from the local one",
		Long: `Read the device's clock (gNOI system.Time) and compare it with the local clock
at the middle of the call: the offset is exact to within half the round trip.
Of --samples calls, the one with the shortest round trip is shown (the first
call also sets up the connection, so it is the slowest).`,
		Example: `  fabricctl gnoi time --target 127.0.0.1:9559 --insecure`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if samples < 1 || samples > 1000 {
				return fmt.Errorf("--samples %d: want 1 to 1000", samples)
			}
			c, ctx, cancel, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer c.Close()
			var best gnoi.TimeResult
			for i := range samples {
				t, err := c.Time(ctx)
				if err != nil {
					return err
				}
				if i == 0 || t.RTT < best.RTT {
					best = t
				}
			}
			return opts.print(cmd, gnoiTime{
				Target: f.target, Time: best.Time.UTC().Format(time.RFC3339Nano),
				OffsetNS: int64(best.Offset), RTTNS: int64(best.RTT), ErrorBoundNS: int64(best.ErrorBound),
			})
		},
	}
	cmd.Flags().IntVar(&samples, "samples", 3, "number of calls; the one with the shortest round trip is shown")
	return cmd
}

// gnoiReboot is the result of "gnoi reboot".
type gnoiReboot struct {
	Target  string `json:"target"`
	Method  string `json:"method"`
	DelayNS int64  `json:"delay_ns"`
	Message string `json:"message,omitempty"`
}

// TableHeaders implements output.Tabular.
func (r gnoiReboot) TableHeaders() []string {
	return []string{"TARGET", "METHOD", "DELAY", "MESSAGE", "RESULT"}
}

// TableRows implements output.Tabular.
func (r gnoiReboot) TableRows() [][]string {
	return [][]string{{r.Target, r.Method, time.Duration(r.DelayNS).String(), r.Message, "accepted"}}
}

func newGnoiRebootCmd(opts *globalOptions, f *gnoiFlags) *cobra.Command {
	var (
		method  string
		delay   time.Duration
		message string
	)
	cmd := &cobra.Command{
		Use:   "reboot",
		Short: "Reboot the device",
		Long: `Ask the device to reboot (gNOI system.Reboot) with a method (cold, warm,
powerdown, halt, nsf, powerup: only cold is guaranteed to be supported), after
a delay. The command returns once the device has accepted the request; follow
the reboot with "fabricctl gnoi reboot-status".`,
		Example: `  fabricctl gnoi reboot --target 127.0.0.1:9559 --insecure
  fabricctl gnoi reboot --target 10.0.0.1:9339 --method warm --delay 30s --message "maintenance"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gnoi.ParseRebootMethod(method)
			if err != nil {
				return fmt.Errorf("--method: %w", err)
			}
			if delay < 0 {
				return fmt.Errorf("--delay %v is negative", delay)
			}
			c, ctx, cancel, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer c.Close()
			if err := c.Reboot(ctx, m, delay, message); err != nil {
				return err
			}
			return opts.print(cmd, gnoiReboot{Target: f.target, Method: strings.ToLower(m.String()), DelayNS: int64(delay), Message: message})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&method, "method", "cold", "reboot method: cold, warm, powerdown, halt, nsf or powerup")
	fl.DurationVar(&delay, "delay", 0, "delay before the reboot")
	fl.StringVar(&message, "message", "", "reason for the reboot")
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(
		[]string{"cold", "warm", "powerdown", "halt", "nsf", "powerup"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// gnoiRebootStatus is the result of "gnoi reboot-status".
type gnoiRebootStatus struct {
	Target        string `json:"target"`
	Active        bool   `json:"active"`
	WaitNS        int64  `json:"wait_ns"`
	When          string `json:"when,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Count         uint32 `json:"count"`
	Method        string `json:"method"`
	Status        string `json:"status"`
	StatusMessage string `json:"status_message,omitempty"`
}

// TableHeaders implements output.Tabular.
func (r gnoiRebootStatus) TableHeaders() []string {
	return []string{"TARGET", "ACTIVE", "WAIT", "WHEN", "REASON", "COUNT", "METHOD", "STATUS"}
}

// TableRows implements output.Tabular.
func (r gnoiRebootStatus) TableRows() [][]string {
	st := r.Status
	if r.StatusMessage != "" {
		st += ": " + r.StatusMessage
	}
	return [][]string{{r.Target, strconv.FormatBool(r.Active), time.Duration(r.WaitNS).String(), r.When, r.Reason,
		strconv.FormatUint(uint64(r.Count), 10), r.Method, st}}
}

func newGnoiRebootStatusCmd(opts *globalOptions, f *gnoiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "reboot-status",
		Short:   "Show the device's pending or last reboot",
		Long:    `Show the device's pending reboot, or the outcome of its last one (gNOI system.RebootStatus).`,
		Example: `  fabricctl gnoi reboot-status --target 127.0.0.1:9559 --insecure -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, cancel, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer c.Close()
			st, err := c.RebootStatus(ctx)
			if err != nil {
				return err
			}
			r := gnoiRebootStatus{
				Target: f.target, Active: st.Active, WaitNS: int64(st.Wait), Reason: st.Reason, Count: st.Count,
				Method: strings.ToLower(st.Method.String()), Status: strings.ToLower(strings.TrimPrefix(st.Status.String(), "STATUS_")),
				StatusMessage: st.StatusMessage,
			}
			if !st.When.IsZero() {
				r.When = st.When.UTC().Format(time.RFC3339Nano)
			}
			return opts.print(cmd, r)
		},
	}
}

// gnoiInstall is the result of "gnoi install".
type gnoiInstall struct {
	Target      string `json:"target"`
	Version     string `json:"version"`
	Transferred bool   `json:"transferred"`
	Bytes       uint64 `json:"bytes"`
	Activated   bool   `json:"activated"`
	Rebooted    bool   `json:"rebooted"`
	// Running is the version the device runs at the end, when --wait asked
	// to find out.
	Running string `json:"running,omitempty"`
}

// TableHeaders implements output.Tabular.
func (r gnoiInstall) TableHeaders() []string {
	return []string{"TARGET", "VERSION", "TRANSFERRED", "BYTES", "ACTIVATED", "REBOOTED", "RUNNING"}
}

// TableRows implements output.Tabular.
func (r gnoiInstall) TableRows() [][]string {
	running := r.Running
	if running == "" {
		running = "-"
	}
	return [][]string{{r.Target, r.Version, strconv.FormatBool(r.Transferred), strconv.FormatUint(r.Bytes, 10),
		strconv.FormatBool(r.Activated), strconv.FormatBool(r.Rebooted), running}}
}

func newGnoiInstallCmd(opts *globalOptions, f *gnoiFlags) *cobra.Command {
	var (
		version  string
		file     string
		activate bool
		noReboot bool
		wait     bool

		showProgress bool
	)
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install a software image on the device, and optionally activate it",
		Long: `Transfer a software image to the device (gNOI os.Install) and wait until the
device has validated it. A device that already has the version is not sent the
image (--file may then be left out).

--activate then makes the version the one the device boots (gNOI os.Activate)
and reboots it, unless --no-reboot is given; --wait waits until the device runs
the new version (gNOI os.Verify, retried through the reboot, bounded by
--timeout).

The emulated switches of "fabricctl testbed up" accept FABRIC-OS/1 images: a
first line "FABRIC-OS/1 version=V sha256=HEX" (the SHA-256 of the rest) and any
payload after it.`,
		Example: `  fabricctl gnoi install --target 127.0.0.1:9559 --insecure --version 2.0.0 --file os-2.0.0.img
  fabricctl gnoi install --target 10.0.0.1:9339 --tls-ca ca.pem --version 2.0.0 --file os.img --activate --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if version == "" {
				return errors.New("--version is required")
			}
			if (noReboot || wait) && !activate {
				return errors.New("--no-reboot and --wait apply to --activate")
			}
			if noReboot && wait {
				return errors.New("--wait waits for the reboot that --no-reboot prevents")
			}
			var image io.Reader
			if file != "" {
				fh, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("--file: %w", err)
				}
				defer fh.Close()
				image = fh
			}
			c, ctx, cancel, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer c.Close()
			var iopts []gnoi.InstallOption
			if fh, ok := image.(*os.File); ok {
				if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
					iopts = append(iopts, gnoi.WithPackageSize(uint64(fi.Size())))
					// Bytes sent, on standard error: an image is often
					// hundreds of megabytes.
					b := newBar(cmd, showProgress, fi.Size(), "transfer", "", true)
					iopts = append(iopts, gnoi.WithProgress(func(p gnoi.InstallProgress) { b.set(int64(p.BytesSent)) }))
				}
			}
			res, err := c.Install(ctx, version, image, iopts...)
			if err != nil {
				return err
			}
			out := gnoiInstall{Target: f.target, Version: res.Version, Transferred: res.Transferred, Bytes: res.BytesSent}
			if activate {
				if err := c.Activate(ctx, version, noReboot); err != nil {
					return err
				}
				out.Activated, out.Rebooted = true, !noReboot
			}
			if wait {
				v, err := c.WaitVersion(ctx, version)
				if err != nil {
					return err
				}
				out.Running = v.Version
			}
			return opts.print(cmd, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&version, "version", "", "version of the image (required)")
	fl.StringVarP(&file, "file", "f", "", "image file to transfer")
	fl.BoolVar(&activate, "activate", false, "activate the version once installed (reboots the device)")
	fl.BoolVar(&noReboot, "no-reboot", false, "with --activate: do not reboot; the version runs after the next reboot")
	fl.BoolVar(&wait, "wait", false, "with --activate: wait until the device runs the version")
	fl.BoolVar(&showProgress, "progress", false, "draw the transfer's progress bar even when standard error is not a terminal")
	_ = cmd.MarkFlagFilename("file")
	return cmd
}
