package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// maxConfigFile bounds a chassis config read from a file or standard input;
// fabricd's gRPC server takes 4 MiB messages by default.
const maxConfigFile = 4 << 20

// readConfigFile reads a chassis config, "-" meaning standard input.
func readConfigFile(cmd *cobra.Command, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if len(b) > maxConfigFile {
		return nil, fmt.Errorf("config %s: larger than %d bytes", name, maxConfigFile)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("config %s: empty", name)
	}
	return b, nil
}

// newConfigCmd is "fabricctl config": the chassis config and its versions.
func newConfigCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Apply, show, compare and roll back the chassis config (fabricd)",
		Long: `Apply, show, compare and roll back the chassis config: one declarative file
(YAML or JSON) that fabricd compiles into each box's goal state and commits to
every box as one transaction — all boxes or none. Each commit is a version;
versions can be compared and rolled back to.`,
	}
	cmd.AddCommand(newConfigApplyCmd(opts), newConfigGetCmd(opts), newConfigDiffCmd(opts),
		newConfigHistoryCmd(opts), newConfigRollbackCmd(opts))
	return cmd
}

func newConfigApplyCmd(opts *globalOptions) *cobra.Command {
	var (
		comment              string
		noWait, showProgress bool
	)
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Commit a chassis config to every box as one transaction",
		Long: `Commit a chassis config (FILE, or - for standard input) to every box as one
transaction and follow it to its end: a progress bar per phase (prepare,
apply, restore) on standard error when it is a terminal, then the operation
with what it changed on each box.

If any box fails, every box is restored to the previous version; the command
then prints each failed box's reason and exits non-zero. A config that does
not parse or compile is refused before any box is touched. --no-wait prints
the operation as soon as it has started ("fabricctl operation watch ID"
follows it). Needs an admin token.`,
		Example: `  fabricctl config apply chassis.yaml --comment "add 10.1.0.0/16"
  fabricctl config apply chassis.yaml --no-wait -o json | jq -r .id`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := readConfigFile(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := c.call(cmd)
			defer cancel()
			op, err := c.Commit(ctx, &nbpb.CommitRequest{Config: cfg, Comment: comment})
			if err != nil {
				return fmt.Errorf("commit %s: %w", args[0], rpcError(err))
			}
			return opts.finishOp(cmd, c, op, noWait, showProgress)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&comment, "comment", "m", "", "comment recorded with the version")
	f.BoolVar(&noWait, "no-wait", false, "print the operation once started instead of waiting for its end")
	f.BoolVar(&showProgress, "progress", false, "draw the progress bar even when standard error is not a terminal")
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml", "json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return cmd
}

func newConfigRollbackCmd(opts *globalOptions) *cobra.Command {
	var noWait, showProgress bool
	cmd := &cobra.Command{
		Use:   "rollback VERSION",
		Short: "Commit the config of an earlier version again, as a new version",
		Long: `Commit the goal state of an earlier version ("fabricctl config history") to
every box as a new transaction, followed as "config apply" does. Needs an
admin token.`,
		Example: `  fabricctl config rollback 3`,
		Args:    cobra.ExactArgs(1),
		ValidArgsFunction: completeFirst(opts.completeWith(func(ctx context.Context, c *chassis) []string {
			resp, err := c.History(ctx, &nbpb.HistoryRequest{})
			if err != nil {
				return nil
			}
			var out []string
			for i := len(resp.GetVersions()) - 1; i >= 0; i-- {
				v := resp.GetVersions()[i]
				out = append(out, fmt.Sprintf("%d\t%s", v.GetNumber(), v.GetComment()))
			}
			return out
		})),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := c.call(cmd)
			defer cancel()
			op, err := c.Rollback(ctx, &nbpb.RollbackRequest{Version: v})
			if err != nil {
				return fmt.Errorf("rollback to version %d: %w", v, rpcError(err))
			}
			return opts.finishOp(cmd, c, op, noWait, showProgress)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noWait, "no-wait", false, "print the operation once started instead of waiting for its end")
	f.BoolVar(&showProgress, "progress", false, "draw the progress bar even when standard error is not a terminal")
	return cmd
}

// parseVersion parses a version argument; 0 is the empty chassis.
func parseVersion(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("version %q: want a version number (see \"fabricctl config history\")", s)
	}
	return n, nil
}

// configView is the result of "config get" in JSON and YAML: the config as
// an object, not as a string, so that jq can reach into it.
type configView struct {
	Version int64           `json:"version"`
	Config  json.RawMessage `json:"config"`
}

func newConfigGetCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get",
		Short: "Print the committed chassis config",
		Long: `Print the chassis config of the last commit through fabricd, as YAML (the
default) that "config apply" takes back, or as an object under "config"
with -o json or -o yaml.`,
		Example: `  fabricctl config get > chassis.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.GetConfig, &nbpb.GetConfigRequest{})
			if err != nil {
				return err
			}
			if opts.output == output.FormatTable {
				w := cmd.OutOrStdout()
				if _, err := fmt.Fprintf(w, "# chassis config, version %d\n", resp.GetVersion()); err != nil {
					return err
				}
				_, err = w.Write(resp.GetConfig())
				return err
			}
			j, err := yaml.YAMLToJSON(resp.GetConfig())
			if err != nil {
				return fmt.Errorf("config version %d from fabricd: %w", resp.GetVersion(), err)
			}
			if len(j) == 0 || string(j) == "null" {
				j = []byte("{}")
			}
			return opts.print(cmd, configView{Version: resp.GetVersion(), Config: j})
		},
	}
}

// diffView is the result of "config diff".
type diffView struct {
	From  int64         `json:"from"`
	To    int64         `json:"to"`
	Boxes []boxDiffView `json:"boxes"`
}

// boxDiffView is what changes on one box between two versions.
type boxDiffView struct {
	Serial       string `json:"serial"`
	Module       uint32 `json:"module"`
	PipeconfFrom string `json:"pipeconf_from,omitempty"`
	PipeconfTo   string `json:"pipeconf_to,omitempty"`
	Inserts      int32  `json:"inserts"`
	Modifies     int32  `json:"modifies"`
	Deletes      int32  `json:"deletes"`
	GNMI         int32  `json:"gnmi"`
}

// TableHeaders implements output.Tabular.
func (diffView) TableHeaders() []string {
	return []string{"MODULE", "SERIAL", "PIPECONF", "INSERTS", "MODIFIES", "DELETES", "GNMI"}
}

// TableRows implements output.Tabular.
func (d diffView) TableRows() [][]string {
	rows := make([][]string, 0, len(d.Boxes))
	for _, b := range d.Boxes {
		pc := orDash(b.PipeconfTo)
		if b.PipeconfFrom != b.PipeconfTo {
			pc = orDash(b.PipeconfFrom) + " -> " + orDash(b.PipeconfTo)
		}
		rows = append(rows, []string{strconv.FormatUint(uint64(b.Module), 10), b.Serial, pc,
			countCell(b.Inserts), countCell(b.Modifies), countCell(b.Deletes), countCell(b.GNMI)})
	}
	return rows
}

func newConfigDiffCmd(opts *globalOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "diff FROM TO | diff -f FILE",
		Short: "Compare two versions, or a candidate config with the committed one",
		Long: `Compare two committed versions (0 is the empty chassis), or, with -f, a
candidate config with the committed version: the candidate is compiled by
fabricd, nothing is sent to any box. Shows per box the pipeconf change and
how many P4Runtime entities would be inserted, modified and deleted and how
many gNMI updates sent.`,
		Example: `  fabricctl config diff 2 3
  fabricctl config diff -f chassis.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				return cobra.NoArgs(cmd, args)
			}
			if len(args) != 2 {
				return fmt.Errorf("want FROM and TO versions, or -f FILE; got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var req nbpb.DiffRequest
			if file != "" {
				cfg, err := readConfigFile(cmd, file)
				if err != nil {
					return err
				}
				req.Candidate = cfg
			} else {
				var err error
				if req.From, err = parseVersion(args[0]); err != nil {
					return err
				}
				if req.To, err = parseVersion(args[1]); err != nil {
					return err
				}
			}
			resp, err := unary(cmd, opts, nbpb.ChassisClient.Diff, &req)
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			d := diffView{From: resp.GetFrom(), To: resp.GetTo(), Boxes: []boxDiffView{}}
			for _, b := range resp.GetBoxes() {
				d.Boxes = append(d.Boxes, boxDiffView{Serial: b.GetSerial(), Module: b.GetModule(),
					PipeconfFrom: b.GetPipeconfFrom(), PipeconfTo: b.GetPipeconfTo(), Inserts: b.GetInserts(),
					Modifies: b.GetModifies(), Deletes: b.GetDeletes(), GNMI: b.GetGnmi()})
			}
			return opts.print(cmd, d)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "candidate config to compare with the committed version (- for standard input)")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	return cmd
}

// versionView is one committed version.
type versionView struct {
	Number  int64      `json:"number"`
	Txn     string     `json:"txn"`
	Time    *time.Time `json:"time,omitempty"`
	Comment string     `json:"comment,omitempty"`
}

// versionList is the result of "config history".
type versionList []versionView

// TableHeaders implements output.Tabular.
func (versionList) TableHeaders() []string { return []string{"VERSION", "OP", "TIME", "COMMENT"} }

// TableRows implements output.Tabular.
func (l versionList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, v := range l {
		rows = append(rows, []string{strconv.FormatInt(v.Number, 10), v.Txn, timeCell(v.Time), orDash(v.Comment)})
	}
	return rows
}

func newConfigHistoryCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "history",
		Short: "List the committed versions, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.History, &nbpb.HistoryRequest{})
			if err != nil {
				return err
			}
			l := versionList{}
			for _, v := range resp.GetVersions() {
				l = append(l, versionView{Number: v.GetNumber(), Txn: v.GetTxn(), Time: timeOf(v.GetTime()), Comment: v.GetComment()})
			}
			return opts.print(cmd, l)
		},
	}
}
