package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// boxView is a registered box as fabricctl prints it.
type boxView struct {
	Serial          string     `json:"serial"`
	Module          uint32     `json:"module"`
	Name            string     `json:"name"`
	Role            string     `json:"role"`
	Driver          string     `json:"driver"`
	Address         string     `json:"address"`
	DeviceID        uint64     `json:"device_id"`
	Vendor          string     `json:"vendor,omitempty"`
	Model           string     `json:"model,omitempty"`
	SoftwareVersion string     `json:"software_version,omitempty"`
	Connected       bool       `json:"connected"`
	Registered      *time.Time `json:"registered,omitempty"`
	Updated         *time.Time `json:"updated,omitempty"`
	Ports           []portView `json:"ports,omitempty"`
}

// portView is one port of a box with its chassis-wide interface name.
type portView struct {
	Interface string `json:"interface"`
	Name      string `json:"name"`
	ID        uint32 `json:"id"`
}

func newBoxView(b *nbpb.Box) boxView {
	v := boxView{
		Serial: b.GetSerial(), Module: b.GetModule(), Name: b.GetName(), Role: b.GetRole(),
		Driver: b.GetDriver(), Address: b.GetAddress(), DeviceID: b.GetDeviceId(),
		Vendor: b.GetVendor(), Model: b.GetModel(), SoftwareVersion: b.GetSoftwareVersion(),
		Connected: b.GetConnected(), Registered: timeOf(b.GetRegistered()), Updated: timeOf(b.GetUpdated()),
	}
	ifs := b.GetInterfaces()
	for i, p := range b.GetPorts() {
		pv := portView{Name: p.GetName(), ID: p.GetId()}
		if i < len(ifs) {
			pv.Interface = ifs[i]
		} else {
			// Older servers may not fill interfaces; the naming rule is fixed.
			pv.Interface = fmt.Sprintf("eth-%d/0/%d", b.GetModule(), p.GetId())
		}
		v.Ports = append(v.Ports, pv)
	}
	return v
}

// timeOf converts a protobuf timestamp, nil or unset staying nil so that
// JSON omits it.
func timeOf(ts *timestamppb.Timestamp) *time.Time {
	if ts == nil || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return nil
	}
	t := ts.AsTime()
	return &t
}

// timeCell formats an optional time for a table cell.
func timeCell(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

// boolCell is a table cell for a flag.
func boolCell(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// orDash shows an empty cell as "-" so that columns stay parseable by awk.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// boxList is the result of "device list".
type boxList []boxView

// TableHeaders implements output.Tabular.
func (boxList) TableHeaders() []string {
	return []string{"SERIAL", "MODULE", "NAME", "ROLE", "DRIVER", "ADDRESS", "VENDOR", "MODEL", "SOFTWARE", "CONNECTED"}
}

// TableRows implements output.Tabular.
func (l boxList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, b := range l {
		rows = append(rows, []string{b.Serial, strconv.FormatUint(uint64(b.Module), 10), b.Name, b.Role, b.Driver,
			b.Address, orDash(b.Vendor), orDash(b.Model), orDash(b.SoftwareVersion), boolCell(b.Connected)})
	}
	return rows
}

// boxResult is the result of "device register" and "device decommission":
// one box.
type boxResult boxView

// TableHeaders implements output.Tabular.
func (boxResult) TableHeaders() []string { return boxList(nil).TableHeaders() }

// TableRows implements output.Tabular.
func (b boxResult) TableRows() [][]string { return boxList{boxView(b)}.TableRows() }

// newDeviceCmd is "fabricctl device": the boxes registered with fabricd.
func newDeviceCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "device",
		Aliases: []string{"devices", "box"},
		Short:   "List, register and decommission the boxes of the chassis (fabricd)",
		Long: `List, register and decommission the boxes (white-box switches) that fabricd
makes into one chassis. Each box is known by its serial number and gets a
module ID: the N of its chassis-wide interface names eth-N/0/P.

Every fabricd command reaches the daemon at --server (env FABRIC_SERVER) over
TLS trusting --tls-ca, or in plaintext with --insecure, and presents the
bearer token of --token, --token-file or FABRIC_TOKEN. Listing needs a
read-only token, changing the chassis an admin token.`,
	}
	cmd.AddCommand(newDeviceListCmd(opts), newDeviceRegisterCmd(opts), newDeviceDecommissionCmd(opts), newDeviceReconcileCmd(opts))
	return cmd
}

func newDeviceListCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the registered boxes, by module ID",
		Example: `  fabricctl device list --server fabricd.example.net:9345 --tls-ca ca.pem --token-file ~/.fabric-token`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.ListBoxes, &nbpb.ListBoxesRequest{})
			if err != nil {
				return err
			}
			l := boxList{}
			for _, b := range resp.GetBoxes() {
				l = append(l, newBoxView(b))
			}
			return opts.print(cmd, l)
		},
	}
}

// parseOptions parses repeated --option k=v flags.
func parseOptions(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--option %q: want KEY=VALUE", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

func newDeviceRegisterCmd(opts *globalOptions) *cobra.Command {
	var (
		req      nbpb.RegisterBoxRequest
		options  []string
		insecure bool
	)
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a box with the chassis and give it a module ID",
		Long: `Register a box: fabricd opens it with the driver, reads its identity and
gives it a module ID (the lowest free one unless --module asks for one). The
box is reached in plaintext with --box-insecure, otherwise over TLS trusting
fabricd's --box-ca. Needs an admin token.`,
		Example: `  fabricctl device register --name leaf1 --driver emulated --address 10.0.0.11:9559 \
      --role forwarder --device-id 1 --box-insecure`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ name, val string }{{"name", req.Name}, {"driver", req.Driver}, {"address", req.Address}, {"role", req.Role}} {
				if f.val == "" {
					return fmt.Errorf("--%s is required", f.name)
				}
			}
			if !cmd.Flags().Changed("device-id") {
				return fmt.Errorf("--device-id is required (the box's P4Runtime device ID)")
			}
			o, err := parseOptions(options)
			if err != nil {
				return err
			}
			req.Options, req.Insecure = o, insecure
			box, err := unary(cmd, opts, nbpb.ChassisClient.RegisterBox, &req)
			if err != nil {
				return fmt.Errorf("register %s: %w", req.Name, err)
			}
			return opts.print(cmd, boxResult(newBoxView(box)))
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "name of the box (required)")
	f.StringVar(&req.Driver, "driver", "", "driver that opens the box: emulated, bmv2, stratum, ... (required)")
	f.StringVar(&req.Address, "address", "", "the box's gRPC address, host:port (required)")
	f.StringVar(&req.Role, "role", "", "role of the box: controller, forwarder or fabric (required)")
	f.Uint64Var(&req.DeviceId, "device-id", 0, "the box's P4Runtime device ID (required)")
	f.Uint32Var(&req.Module, "module", 0, "module ID to ask for (0: the lowest free one)")
	// Not --insecure: that flag already says how fabricctl reaches fabricd.
	f.BoolVar(&insecure, "box-insecure", false, "fabricd reaches the box in plaintext, without TLS")
	f.StringArrayVar(&options, "option", nil, "driver option KEY=VALUE (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"controller", "forwarder", "fabric"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("driver", cobra.FixedCompletions([]string{"emulated", "bmv2", "stratum"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newDeviceDecommissionCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "decommission SERIAL",
		Short: "Remove a box from the chassis and free its module ID",
		Long: `Remove a box from the chassis: fabricd closes it and frees its module ID
for the next box. Needs an admin token.`,
		Example:           `  fabricctl device decommission LEAF-0001`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeFirst(opts.completeSerials()),
		RunE: func(cmd *cobra.Command, args []string) error {
			box, err := unary(cmd, opts, nbpb.ChassisClient.DecommissionBox, &nbpb.DecommissionBoxRequest{Serial: args[0]})
			if err != nil {
				return fmt.Errorf("decommission %s: %w", args[0], err)
			}
			return opts.print(cmd, boxResult(newBoxView(box)))
		},
	}
}

// reconcileView is the result of "device reconcile".
type reconcileView struct {
	Serial   string      `json:"serial"`
	Op       string      `json:"op"`
	Changes  changesView `json:"changes"`
	Replayed bool        `json:"replayed"`
	Duration string      `json:"duration"`
	Error    string      `json:"error,omitempty"`
}

// TableHeaders implements output.Tabular.
func (reconcileView) TableHeaders() []string {
	return []string{"SERIAL", "OP", "INSERTS", "MODIFIES", "DELETES", "GNMI", "PIPELINE", "REPLAYED", "DURATION", "ERROR"}
}

// TableRows implements output.Tabular.
func (r reconcileView) TableRows() [][]string {
	ch := r.Changes
	return [][]string{{r.Serial, r.Op, countCell(ch.Inserts), countCell(ch.Modifies), countCell(ch.Deletes), countCell(ch.GNMI),
		boolCell(ch.PipelineSet), boolCell(r.Replayed), r.Duration, orDash(r.Error)}}
}

func newDeviceReconcileCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reconcile SERIAL",
		Short: "Bring a box back to its committed goal state now",
		Long: `Run one reconcile pass of a box now: fabricd reads the box back, compares it
with its committed goal state and corrects any drift (a box that lost its
state is replayed in full). Prints the pass's operation ID and what it
changed. Needs an admin token.`,
		Example:           `  fabricctl device reconcile LEAF-0001`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeFirst(opts.completeSerials()),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.Reconcile, &nbpb.ReconcileRequest{Serial: args[0]})
			if err != nil {
				return fmt.Errorf("reconcile %s: %w", args[0], err)
			}
			v := reconcileView{Serial: args[0], Op: resp.GetOp(), Changes: newChangesView(resp.GetChanges()),
				Replayed: resp.GetReplayed(), Duration: resp.GetDuration().AsDuration().String(), Error: resp.GetError()}
			if err := opts.print(cmd, v); err != nil {
				return err
			}
			if v.Error != "" {
				return fmt.Errorf("reconcile %s (op %s): %s", args[0], v.Op, v.Error)
			}
			return nil
		},
	}
}

// countCell formats a count for a table cell.
func countCell[T ~int32 | ~int | ~int64 | ~uint32 | ~uint64](n T) string {
	return strconv.FormatInt(int64(n), 10)
}
