package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// eventTimeLayout is how tables show event and log times: local time to the
// millisecond, the resolution at which ordering across boxes means anything.
const eventTimeLayout = "2006-01-02 15:04:05.000"

// Defaults of --replay and -n when not given: enough to see what just
// happened, as journalctl and tail do; following, only the last few before
// the live ones.
const (
	defaultBacklog       = 100
	defaultFollowBacklog = 10
)

// eventView is one event as fabricctl prints it; the JSON field names are
// those of events.Event, so scripts read "fabricctl events -o json" and the
// library's events alike.
type eventView struct {
	Seq          uint64            `json:"seq"`
	Kind         string            `json:"kind"`
	Module       uint32            `json:"module"`
	Serial       string            `json:"serial,omitempty"`
	Port         uint32            `json:"port,omitempty"`
	Op           string            `json:"op,omitempty"`
	SourceTime   *time.Time        `json:"source_time,omitempty"`
	ObservedTime *time.Time        `json:"observed_time,omitempty"`
	Attrs        map[string]string `json:"attrs,omitempty"`
	Message      string            `json:"message,omitempty"`
}

func newEventView(e *nbpb.Event) eventView {
	return eventView{Seq: e.GetSeq(), Kind: e.GetKind(), Module: e.GetModule(), Serial: e.GetSerial(),
		Port: e.GetPort(), Op: e.GetOp(), SourceTime: timeOf(e.GetSourceTime()),
		ObservedTime: timeOf(e.GetObservedTime()), Attrs: e.GetAttrs(), Message: e.GetMessage()}
}

// eventColumns are the columns of the events table.
var eventColumns = []liveColumn{
	{"SEQ", 5}, {"TIME", len(eventTimeLayout)}, {"KIND", 14}, {"MODULE", 6}, {"PORT", 4},
	{"SERIAL", 10}, {"OP", 19}, {"MESSAGE", 0},
}

// row is the event's table row. The message carries the attributes too,
// sorted, so that nothing the server sent is lost in table mode.
func (e eventView) row() []string {
	t := e.ObservedTime
	if e.SourceTime != nil {
		t = e.SourceTime
	}
	return []string{strconv.FormatUint(e.Seq, 10), eventTime(t), e.Kind, moduleCell(e.Module),
		portCell(e.Port), orDash(e.Serial), orDash(e.Op), withAttrs(e.Message, e.Attrs)}
}

// eventTime formats a time for a table cell.
func eventTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(eventTimeLayout)
}

// moduleCell shows module 0, which means chassis-wide, as "-".
func moduleCell(m uint32) string {
	if m == 0 {
		return "-"
	}
	return strconv.FormatUint(uint64(m), 10)
}

// portCell shows port 0, which means no port, as "-".
func portCell(p uint32) string { return moduleCell(p) }

// withAttrs appends k=v attributes, sorted, to a message.
func withAttrs(msg string, attrs map[string]string) string {
	if len(attrs) == 0 {
		return msg
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	if msg != "" {
		parts = append(parts, msg)
	}
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(attrs[k]))
	}
	return strings.Join(parts, " ")
}

// eventList is the result of "events" without -f.
type eventList []eventView

// TableHeaders implements output.Tabular.
func (eventList) TableHeaders() []string {
	hs := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		hs[i] = c.header
	}
	return hs
}

// TableRows implements output.Tabular.
func (l eventList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, e := range l {
		rows = append(rows, e.row())
	}
	return rows
}

// parseModules parses repeated --module flags.
func parseModules(ss []string) ([]uint32, error) {
	var out []uint32
	for _, s := range ss {
		m, err := parseModule(s)
		if err != nil {
			return nil, fmt.Errorf("--module: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// eventKindNames returns the names of the event kinds, for help and
// completion.
func eventKindNames() []string {
	var names []string
	for _, k := range events.Kinds() {
		names = append(names, k.String())
	}
	return names
}

// wrapList writes "prefix a, b, c." wrapped at 78 columns, for help texts
// that list names the code knows.
func wrapList(prefix string, names []string) string {
	var b strings.Builder
	line := prefix
	for i, n := range names {
		word := n + ","
		if i == len(names)-1 {
			word = n + "."
		}
		if len(line)+1+len(word) > 78 && line != prefix {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = ""
		}
		if line != "" && line != prefix {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// backlog resolves a --replay or -n value: when the flag was not given, the
// default depends on whether the command follows.
func backlog(cmd *cobra.Command, flag string, n int, follow bool) (int32, error) {
	switch {
	case cmd.Flags().Changed(flag) && n < 0:
		return 0, fmt.Errorf("--%s %d: want 0 or more", flag, n)
	case cmd.Flags().Changed(flag):
		return int32(min(n, 1<<30)), nil
	case follow:
		return defaultFollowBacklog, nil
	}
	return defaultBacklog, nil
}

func newEventsCmd(opts *globalOptions) *cobra.Command {
	var (
		follow      bool
		kinds, mods []string
		op          string
		replay      int
	)
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"event"},
		Short:   "Show the chassis events, and follow them with -f",
		Long: `Show the chassis's events (boxes connecting and disconnecting, ports and links
going up and down, commits, aborts, repaired drift, clock alarms): the last
--replay matching events (default ` + strconv.Itoa(defaultBacklog) + `), then, with -f, every new one as it
happens until interrupted (default backlog ` + strconv.Itoa(defaultFollowBacklog) + `).

Filters combine: --kind and --module may be repeated (any of them matches),
--op keeps the events of one operation. Following, the table prints a row per
event as it arrives and -o json prints one JSON object per line.

` + wrapList("Event kinds: ", eventKindNames()),
		Example: `  fabricctl events --kind committed --kind aborted
  fabricctl events -f --module 3 -o json | jq .message`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := backlog(cmd, "replay", replay, follow)
			if err != nil {
				return err
			}
			req := &nbpb.EventsRequest{Op: op, Replay: n, Follow: follow}
			for _, k := range kinds {
				kind, err := events.ParseKind(k)
				if err != nil {
					return fmt.Errorf("--kind %q: want one of %s", k, strings.Join(eventKindNames(), ", "))
				}
				req.Kinds = append(req.Kinds, kind.String())
			}
			if req.Modules, err = parseModules(mods); err != nil {
				return err
			}
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			stream, err := c.Events(ctx, req)
			if err != nil {
				return rpcError(err)
			}
			if !follow {
				l := eventList{}
				for {
					e, err := stream.Recv()
					if err != nil {
						if err := streamEnded(ctx, err); err != nil {
							return err
						}
						break
					}
					l = append(l, newEventView(e))
				}
				return opts.print(cmd, l)
			}
			live := &liveTable[eventView]{format: opts.output, w: cmd.OutOrStdout(), columns: eventColumns, row: eventView.row}
			for {
				e, err := stream.Recv()
				if err != nil {
					return streamEnded(ctx, err)
				}
				if err := live.print(newEventView(e)); err != nil {
					return err
				}
			}
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "after the backlog, print new events as they happen until interrupted")
	f.StringSliceVar(&kinds, "kind", nil, "only events of this kind (repeatable)")
	f.StringSliceVar(&mods, "module", nil, "only events of this module ID (repeatable)")
	f.StringVar(&op, "op", "", "only events of this operation ID")
	f.IntVar(&replay, "replay", 0, "how many past events to show first (default "+strconv.Itoa(defaultBacklog)+", "+strconv.Itoa(defaultFollowBacklog)+" with -f)")
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(eventKindNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("module", opts.completeModules())
	_ = cmd.RegisterFlagCompletionFunc("op", opts.completeOps())
	return cmd
}
