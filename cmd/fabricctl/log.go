package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// logView is one record of the chassis log as fabricctl prints it; the
// JSON field names are those of logbook.Record.
type logView struct {
	Seq          uint64            `json:"seq"`
	Time         *time.Time        `json:"time,omitempty"`
	Source       string            `json:"source"`
	Kind         string            `json:"kind"`
	Severity     string            `json:"severity"`
	Module       uint32            `json:"module"`
	Serial       string            `json:"serial,omitempty"`
	Port         uint32            `json:"port,omitempty"`
	Op           string            `json:"op,omitempty"`
	Message      string            `json:"message,omitempty"`
	Attrs        map[string]string `json:"attrs,omitempty"`
	SourceTime   *time.Time        `json:"source_time,omitempty"`
	OffsetNS     int64             `json:"offset_ns,omitempty"`
	ErrorBoundNS int64             `json:"error_bound_ns,omitempty"`
	Late         bool              `json:"late,omitempty"`
}

func newLogView(r *nbpb.LogRecord) logView {
	return logView{Seq: r.GetSeq(), Time: timeOf(r.GetTime()), Source: r.GetSource(), Kind: r.GetKind(),
		Severity: r.GetSeverity(), Module: r.GetModule(), Serial: r.GetSerial(), Port: r.GetPort(), Op: r.GetOp(),
		Message: r.GetMessage(), Attrs: r.GetAttrs(), SourceTime: timeOf(r.GetSourceTime()),
		OffsetNS: int64(r.GetOffset().AsDuration()), ErrorBoundNS: int64(r.GetErrorBound().AsDuration()), Late: r.GetLate()}
}

// logColumns are the columns of the log table.
var logColumns = []liveColumn{
	{"TIME", len(eventTimeLayout)}, {"SEVERITY", 8}, {"SOURCE", 9}, {"KIND", 14}, {"MODULE", 6},
	{"PORT", 4}, {"OP", 19}, {"MESSAGE", 0},
}

// row is the record's table row. A record that arrived too late to be put
// in order is marked, since its time is then out of sequence.
func (r logView) row() []string {
	t := eventTime(r.Time)
	if r.Late {
		t += " (late)"
	}
	return []string{t, r.Severity, r.Source, r.Kind, moduleCell(r.Module), portCell(r.Port), orDash(r.Op), withAttrs(r.Message, r.Attrs)}
}

// logList is the result of "log" without -f.
type logList []logView

// TableHeaders implements output.Tabular.
func (logList) TableHeaders() []string {
	hs := make([]string, len(logColumns))
	for i, c := range logColumns {
		hs[i] = c.header
	}
	return hs
}

// TableRows implements output.Tabular.
func (l logList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, r := range l {
		rows = append(rows, r.row())
	}
	return rows
}

// logSourceNames and logSeverityNames list the names the log filters take.
func logSourceNames() []string {
	var names []string
	for s := logbook.Source(1); s.Valid(); s++ {
		names = append(names, s.String())
	}
	return names
}

func logSeverityNames() []string {
	var names []string
	for s := logbook.Debug; s.Valid(); s++ {
		names = append(names, s.String())
	}
	return names
}

func newLogCmd(opts *globalOptions) *cobra.Command {
	var (
		follow               bool
		mods, sources, kinds []string
		op, severity         string
		limit                int
	)
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the chassis log (every box and fabricd as one log), and follow it with -f",
		Long: `Show the chassis log: the events, the boxes' system messages and fabricd's
own operation logs merged into one log ordered by corrected time (each box's
timestamps corrected by its clock offset). Shows the last -n matching records
(default ` + strconv.Itoa(defaultBacklog) + `, 0 for all retained), then, with -f, every new one until
interrupted (default backlog ` + strconv.Itoa(defaultFollowBacklog) + `).

Filters combine: --module, --source and --kind may be repeated (any of them
matches), --op keeps the records of one operation (a commit's ID shows the
whole transaction across all boxes), --severity keeps that severity and worse.
Following, the table prints a row per record as it arrives and -o json prints
one JSON object per line.

` + wrapList("Sources: ", logSourceNames()) + "\n" + wrapList("Severities: ", logSeverityNames()),
		Example: `  fabricctl log --op op-3f2a9c0d1e2b4f60
  fabricctl log -f --severity warning --module 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := backlog(cmd, "lines", limit, follow)
			if err != nil {
				return err
			}
			req := &nbpb.LogRequest{Op: op, Limit: n, Follow: follow, Kinds: kinds}
			if req.Modules, err = parseModules(mods); err != nil {
				return err
			}
			for _, s := range sources {
				if strings.EqualFold(s, logbook.KindMessage) {
					// System messages have the kind "message": accept it
					// for their source too.
					s = logbook.SourceSystem.String()
				}
				src, err := logbook.ParseSource(s)
				if err != nil {
					return fmt.Errorf("--source %q: want one of %s", s, strings.Join(logSourceNames(), ", "))
				}
				req.Sources = append(req.Sources, src.String())
			}
			if severity != "" {
				sev, err := logbook.ParseSeverity(severity)
				if err != nil {
					return fmt.Errorf("--severity %q: want one of %s", severity, strings.Join(logSeverityNames(), ", "))
				}
				req.MinSeverity = sev.String()
			}
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			stream, err := c.Log(ctx, req)
			if err != nil {
				return rpcError(err)
			}
			if !follow {
				l := logList{}
				for {
					r, err := stream.Recv()
					if err != nil {
						if err := streamEnded(ctx, err); err != nil {
							return err
						}
						break
					}
					l = append(l, newLogView(r))
				}
				return opts.print(cmd, l)
			}
			live := &liveTable[logView]{format: opts.output, w: cmd.OutOrStdout(), columns: logColumns, row: logView.row}
			for {
				r, err := stream.Recv()
				if err != nil {
					return streamEnded(ctx, err)
				}
				if err := live.print(newLogView(r)); err != nil {
					return err
				}
			}
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "after the backlog, print new records as they are logged until interrupted")
	f.StringSliceVar(&mods, "module", nil, "only records of this module ID (repeatable)")
	f.StringSliceVar(&sources, "source", nil, "only records from this source (repeatable)")
	f.StringSliceVar(&kinds, "kind", nil, "only records of this kind: an event kind, \"message\" or \"log\" (repeatable)")
	f.StringVar(&op, "op", "", "only records of this operation ID")
	f.StringVar(&severity, "severity", "", "only records of this severity or worse")
	f.IntVarP(&limit, "lines", "n", 0, "how many past records to show first (default "+strconv.Itoa(defaultBacklog)+", "+
		strconv.Itoa(defaultFollowBacklog)+" with -f; 0: all retained)")
	_ = cmd.RegisterFlagCompletionFunc("module", opts.completeModules())
	_ = cmd.RegisterFlagCompletionFunc("source", cobra.FixedCompletions(logSourceNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(logSeverityNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(append(eventKindNames(), logbook.KindMessage, logbook.KindLog), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("op", opts.completeOps())
	return cmd
}
