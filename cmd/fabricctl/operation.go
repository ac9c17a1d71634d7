package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// changesView is what an operation changed on one box.
type changesView struct {
	Inserts     int32 `json:"inserts"`
	Modifies    int32 `json:"modifies"`
	Deletes     int32 `json:"deletes"`
	GNMI        int32 `json:"gnmi"`
	PipelineSet bool  `json:"pipeline_set"`
}

func newChangesView(c *nbpb.Changes) changesView {
	return changesView{Inserts: c.GetInserts(), Modifies: c.GetModifies(), Deletes: c.GetDeletes(),
		GNMI: c.GetGnmi(), PipelineSet: c.GetPipelineSet()}
}

// opView is a long-running operation (a commit or a rollback) as fabricctl
// prints it.
type opView struct {
	ID       string                 `json:"id"`
	Kind     string                 `json:"kind"`
	State    string                 `json:"state"`
	Version  int64                  `json:"version,omitempty"`
	Comment  string                 `json:"comment,omitempty"`
	Started  *time.Time             `json:"started,omitempty"`
	Ended    *time.Time             `json:"ended,omitempty"`
	Error    string                 `json:"error,omitempty"`
	Reasons  map[string]string      `json:"reasons,omitempty"`
	Restored bool                   `json:"restored,omitempty"`
	Phase    string                 `json:"phase,omitempty"`
	Done     int32                  `json:"done,omitempty"`
	Total    int32                  `json:"total,omitempty"`
	Changes  map[string]changesView `json:"changes,omitempty"`
}

func newOpView(op *nbpb.Operation) opView {
	v := opView{
		ID: op.GetId(), Kind: op.GetKind(), State: op.GetState().String(), Version: op.GetVersion(),
		Comment: op.GetComment(), Started: timeOf(op.GetStarted()), Ended: timeOf(op.GetEnded()),
		Error: op.GetError(), Reasons: op.GetReasons(), Restored: op.GetRestored(),
		Phase: op.GetPhase(), Done: op.GetDone(), Total: op.GetTotal(),
	}
	if len(op.GetChanges()) > 0 {
		v.Changes = make(map[string]changesView, len(op.GetChanges()))
		for serial, c := range op.GetChanges() {
			v.Changes[serial] = newChangesView(c)
		}
	}
	return v
}

// duration is how long the operation ran, or has run so far.
func (v opView) duration() string {
	if v.Started == nil {
		return "-"
	}
	end := time.Now()
	if v.Ended != nil {
		end = *v.Ended
	}
	return end.Sub(*v.Started).Round(time.Millisecond).String()
}

// version is the version cell: empty until committed.
func (v opView) version() string {
	if v.Version == 0 {
		return "-"
	}
	return strconv.FormatInt(v.Version, 10)
}

// TableHeaders implements output.Tabular.
func (opView) TableHeaders() []string {
	return []string{"OP", "KIND", "STATE", "VERSION", "BOX", "INSERTS", "MODIFIES", "DELETES", "GNMI", "PIPELINE", "REASON"}
}

// TableRows implements output.Tabular: one row per box the operation
// changed or failed on, the operation's columns repeated on each so that
// every row stands alone under grep; one row with box "-" when no box is
// named.
func (v opView) TableRows() [][]string {
	serials := make([]string, 0, len(v.Changes)+len(v.Reasons))
	seen := map[string]bool{}
	for s := range v.Changes {
		serials, seen[s] = append(serials, s), true
	}
	for s := range v.Reasons {
		if !seen[s] {
			serials = append(serials, s)
		}
	}
	sort.Strings(serials)
	head := []string{v.ID, v.Kind, v.State, v.version()}
	if len(serials) == 0 {
		return [][]string{append(head, "-", "-", "-", "-", "-", "-", orDash(v.Error))}
	}
	rows := make([][]string, 0, len(serials))
	for _, s := range serials {
		row := append(append([]string(nil), head...), s)
		if c, ok := v.Changes[s]; ok {
			row = append(row, countCell(c.Inserts), countCell(c.Modifies), countCell(c.Deletes), countCell(c.GNMI), boolCell(c.PipelineSet))
		} else {
			row = append(row, "-", "-", "-", "-", "-")
		}
		rows = append(rows, append(row, orDash(v.Reasons[s])))
	}
	return rows
}

// opList is the result of "operation list".
type opList []opView

// TableHeaders implements output.Tabular.
func (opList) TableHeaders() []string {
	return []string{"OP", "KIND", "STATE", "VERSION", "STARTED", "DURATION", "COMMENT", "ERROR"}
}

// TableRows implements output.Tabular.
func (l opList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, v := range l {
		rows = append(rows, []string{v.ID, v.Kind, v.State, v.version(), timeCell(v.Started), v.duration(), orDash(v.Comment), orDash(v.Error)})
	}
	return rows
}

// opFinished reports whether an operation has reached its final state.
func opFinished(op *nbpb.Operation) bool {
	switch op.GetState() {
	case nbpb.Operation_COMMITTED, nbpb.Operation_ABORTED, nbpb.Operation_FAILED:
		return true
	}
	return false
}

// errOperationFailed is wrapped by the error of a command whose operation
// ended ABORTED or FAILED, so that fabricctl exits non-zero.
var errOperationFailed = errors.New("operation did not commit")

// opOutcome returns nil for a committed operation and otherwise an error
// naming the operation, its state and each failed box's reason.
func opOutcome(op *nbpb.Operation) error {
	switch op.GetState() {
	case nbpb.Operation_COMMITTED:
		return nil
	case nbpb.Operation_ABORTED, nbpb.Operation_FAILED:
	default:
		return fmt.Errorf("operation %s: %w: still %s", op.GetId(), errOperationFailed, op.GetState())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "operation %s %s", op.GetId(), op.GetState())
	// The error repeats the boxes' reasons, listed one per line below;
	// it says more only when there are none or the restore failed.
	if op.GetError() != "" && (len(op.GetReasons()) == 0 || !op.GetRestored()) {
		fmt.Fprintf(&b, ": %s", op.GetError())
	}
	serials := make([]string, 0, len(op.GetReasons()))
	for s := range op.GetReasons() {
		serials = append(serials, s)
	}
	sort.Strings(serials)
	for _, s := range serials {
		fmt.Fprintf(&b, "\n  box %s: %s", s, op.GetReasons()[s])
	}
	if op.GetState() == nbpb.Operation_ABORTED {
		if op.GetRestored() {
			b.WriteString("\n  every box was restored to the previous version")
		} else {
			b.WriteString("\n  the restore of some box failed; fabricd keeps recovering it")
		}
	}
	return fmt.Errorf("%w: %s", errOperationFailed, b.String())
}

// watchOp follows an operation to its final state, drawing its progress,
// and returns that state. The wait is bounded only by the command's
// context: a commit to many boxes may take longer than --timeout, which
// bounds single requests.
func watchOp(cmd *cobra.Command, c *chassis, id string, prog *progress) (*nbpb.Operation, error) {
	ctx := cmd.Context()
	stream, err := c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: id})
	if err != nil {
		return nil, watchError(ctx, id, err)
	}
	var last *nbpb.Operation
	for {
		op, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			prog.end()
			return last, watchError(ctx, id, err)
		}
		last = op
		prog.update(op)
		if opFinished(op) {
			break // the server ends the stream after the final state
		}
	}
	prog.end()
	if last == nil || !opFinished(last) {
		// The stream ended early; ask once more rather than guess.
		cctx, cancel := c.call(cmd)
		defer cancel()
		op, err := c.GetOperation(cctx, &nbpb.GetOperationRequest{Id: id})
		if err != nil {
			return last, fmt.Errorf("operation %s: %w", id, rpcError(err))
		}
		last = op
	}
	return last, nil
}

// watchError explains why following an operation stopped. The operation
// itself goes on in fabricd whatever happens to the watch.
func watchError(ctx context.Context, id string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("stopped waiting for operation %s, which goes on in fabricd (fabricctl operation watch %s): %w", id, id, ctx.Err())
	case status.Code(err) == codes.Unavailable:
		return fmt.Errorf("watch operation %s: %w (it may still be running: fabricctl operation watch %s)", id, rpcError(err), id)
	}
	return fmt.Errorf("watch operation %s: %w", id, rpcError(err))
}

// finishOp waits for an operation started by this command (unless noWait),
// prints it and turns its outcome into the command's error.
func (g *globalOptions) finishOp(cmd *cobra.Command, c *chassis, op *nbpb.Operation, noWait, forceProgress bool) error {
	if noWait {
		return g.print(cmd, newOpView(op))
	}
	if !opFinished(op) {
		var err error
		if op, err = watchOp(cmd, c, op.GetId(), newProgress(cmd, forceProgress)); err != nil {
			return err
		}
	}
	if err := g.print(cmd, newOpView(op)); err != nil {
		return err
	}
	return opOutcome(op)
}

// newOperationCmd is "fabricctl operation": fabricd's long-running
// operations.
func newOperationCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "operation",
		Aliases: []string{"operations", "op"},
		Short:   "List, show and follow fabricd's operations (commits and rollbacks)",
		Long: `List, show and follow fabricd's long-running operations: each commit and
rollback has an operation ID, which events and log records carry too
("fabricctl log --op ID").`,
	}
	cmd.AddCommand(newOperationListCmd(opts), newOperationGetCmd(opts), newOperationWatchCmd(opts))
	return cmd
}

func newOperationListCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the operations this fabricd started, oldest first",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.ListOperations, &nbpb.ListOperationsRequest{})
			if err != nil {
				return err
			}
			l := opList{}
			for _, op := range resp.GetOperations() {
				l = append(l, newOpView(op))
			}
			return opts.print(cmd, l)
		},
	}
}

// completeOps offers the IDs of the operations fabricd started, newest
// first, each with its kind and state.
func (g *globalOptions) completeOps() cobra.CompletionFunc {
	return completeFirst(g.completeWith(func(ctx context.Context, c *chassis) []string {
		resp, err := c.ListOperations(ctx, &nbpb.ListOperationsRequest{})
		if err != nil {
			return nil
		}
		ops := resp.GetOperations()
		out := make([]string, 0, len(ops))
		for i := len(ops) - 1; i >= 0; i-- {
			out = append(out, fmt.Sprintf("%s\t%s %s", ops[i].GetId(), ops[i].GetKind(), ops[i].GetState()))
		}
		return out
	}))
}

func newOperationGetCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:               "get ID",
		Short:             "Show an operation: state, version, per-box changes and reasons",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: opts.completeOps(),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, err := unary(cmd, opts, nbpb.ChassisClient.GetOperation, &nbpb.GetOperationRequest{Id: args[0]})
			if err != nil {
				return fmt.Errorf("operation %s: %w", args[0], err)
			}
			return opts.print(cmd, newOpView(op))
		},
	}
}

func newOperationWatchCmd(opts *globalOptions) *cobra.Command {
	var forceProgress bool
	cmd := &cobra.Command{
		Use:   "watch ID",
		Short: "Follow an operation to its end with a progress bar, then show it",
		Long: `Follow an operation to its end, drawing its progress (phase prepare, apply
or restore; boxes done of total) on standard error when it is a terminal,
then show it as "operation get" does. Exits non-zero when the operation
ends ABORTED or FAILED.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: opts.completeOps(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			op, err := watchOp(cmd, c, args[0], newProgress(cmd, forceProgress))
			if err != nil {
				return err
			}
			if err := opts.print(cmd, newOpView(op)); err != nil {
				return err
			}
			return opOutcome(op)
		},
	}
	cmd.Flags().BoolVar(&forceProgress, "progress", false, "draw the progress bar even when standard error is not a terminal")
	return cmd
}
