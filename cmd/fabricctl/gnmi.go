package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	gnmiclient "github.com/p4fabric/fabric/driver/gnmi"
	"github.com/p4fabric/fabric/internal/certs"
)

// gnmiFlags are the connection flags every "fabricctl gnmi" command shares.
type gnmiFlags struct {
	target             string
	insecure           bool
	tlsCA              string
	tlsCert, tlsKey    string
	username, password string
	encoding           string
}

// client connects to --target as the flags say.
func (f *gnmiFlags) client() (*gnmiclient.Client, gpb.Encoding, error) {
	if f.target == "" {
		return nil, 0, errors.New("--target is required (host:port of the device)")
	}
	enc, err := gnmiclient.ParseEncoding(f.encoding)
	if err != nil {
		return nil, 0, fmt.Errorf("--encoding: %w", err)
	}
	opts := []gnmiclient.Option{gnmiclient.WithEncoding(enc)}
	switch {
	case f.insecure && (f.tlsCA != "" || f.tlsCert != "" || f.tlsKey != ""):
		return nil, 0, errors.New("--insecure and --tls-ca/--tls-cert/--tls-key are exclusive")
	case f.insecure:
		opts = append(opts, gnmiclient.WithInsecure())
	default:
		tlsConf, err := certs.LoadClientConfig(f.tlsCA, f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, 0, fmt.Errorf("TLS: %w", err)
		}
		opts = append(opts, gnmiclient.WithTLS(tlsConf))
	}
	if f.username != "" || f.password != "" {
		opts = append(opts, gnmiclient.WithCredentials(f.username, f.password))
	}
	c, err := gnmiclient.Dial(f.target, opts...)
	if err != nil {
		return nil, 0, err
	}
	return c, enc, nil
}

// withTimeout bounds ctx by d (0: no bound).
func withTimeout(cmd *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// newGnmiCmd is "fabricctl gnmi": configuration and telemetry over gNMI.
func newGnmiCmd(opts *globalOptions) *cobra.Command {
	f := &gnmiFlags{}
	cmd := &cobra.Command{
		Use:   "gnmi",
		Short: "Read, change and stream a switch's state over gNMI",
		Long: `Read, change and stream a switch's configuration and state over gNMI
(gRPC Network Management Interface), as gnmic does.

Every subcommand talks to the device at --target. Transport security is TLS
with the system roots by default; --tls-ca trusts another CA (such as the one
"fabricctl testbed up --ca-dir" writes), --tls-cert and --tls-key present a
client certificate, --insecure uses plaintext (the emulated switches serve
plaintext unless their topology asks for TLS). --username and --password are
sent as request metadata.

Paths use the gnmic syntax: /interfaces/interface[name=eth1]/state,
openconfig:/system, * for any element or key value, ... for any depth.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.target, "target", "", "device address, host:port (required)")
	pf.BoolVar(&f.insecure, "insecure", false, "connect in plaintext, without TLS")
	pf.StringVar(&f.tlsCA, "tls-ca", "", "PEM file of the CA the device's certificate chains to (default: system roots)")
	pf.StringVar(&f.tlsCert, "tls-cert", "", "PEM file of a client certificate, for mutual TLS")
	pf.StringVar(&f.tlsKey, "tls-key", "", "PEM file of the client certificate's key")
	pf.StringVar(&f.username, "username", "", "username sent in request metadata")
	pf.StringVar(&f.password, "password", "", "password sent in request metadata")
	pf.StringVar(&f.encoding, "encoding", "json", "value encoding: json, json_ietf or proto")
	for _, name := range []string{"tls-ca", "tls-cert", "tls-key"} {
		_ = cmd.MarkPersistentFlagFilename(name, "pem", "crt", "key")
	}
	_ = cmd.RegisterFlagCompletionFunc("encoding", cobra.FixedCompletions([]string{"json", "json_ietf", "proto"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(newGnmiGetCmd(opts, f), newGnmiSetCmd(opts, f), newGnmiSubscribeCmd(opts, f))
	return cmd
}

// gnmiRecord is one row of "gnmi get" and "gnmi subscribe".
type gnmiRecord struct {
	Timestamp time.Time `json:"timestamp"`
	Path      string    `json:"path"`
	Value     any       `json:"value,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
}

func records(us []gnmiclient.Update) []gnmiRecord {
	out := make([]gnmiRecord, 0, len(us))
	for _, u := range us {
		v := u.Value
		if tv, ok := v.(*gpb.TypedValue); ok { // not decodable: show it as sent
			v = tv.String()
		}
		out = append(out, gnmiRecord{Timestamp: u.Timestamp, Path: u.Path, Value: v, Deleted: u.Deleted})
	}
	return out
}

var recordHeaders = []string{"TIMESTAMP", "PATH", "VALUE"}

// stampLayout formats timestamps in UTC with a fixed width.
const stampLayout = "2006-01-02T15:04:05.000000000Z07:00"

// stampWidth is the width of a timestamp formatted in UTC.
var stampWidth = len(time.Unix(0, 0).UTC().Format(stampLayout))

func (r gnmiRecord) row() []string {
	return []string{r.Timestamp.UTC().Format(stampLayout), r.Path, valueText(r.Value, r.Deleted)}
}

// valueText shows a value in a table cell: scalars as they are, JSON
// objects and arrays compact.
func valueText(v any, deleted bool) string {
	switch x := v.(type) {
	case nil:
		if deleted {
			return "(deleted)"
		}
		return ""
	case string:
		return x
	case []byte:
		return fmt.Sprintf("%x", x)
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

func newGnmiGetCmd(opts *globalOptions, f *gnmiFlags) *cobra.Command {
	var (
		dataType string
		timeout  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "get PATH...",
		Short: "Get a snapshot of paths",
		Long: `Get a snapshot of one or more paths. With --encoding json or json_ietf a
container comes back as one row holding its JSON; with --encoding proto every
leaf is a row.`,
		Example: `  fabricctl gnmi get --target 127.0.0.1:9559 --insecure /interfaces/interface[name=eth1]/state
  fabricctl gnmi get --target 127.0.0.1:9559 --insecure --encoding proto --type config /interfaces`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			t, ok := gpb.GetRequest_DataType_value[strings.ToUpper(dataType)]
			if !ok {
				return fmt.Errorf("--type %q: want all, config, state or operational", dataType)
			}
			c, _, err := f.client()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			us, err := c.Get(ctx, paths, gnmiclient.GetType(gpb.GetRequest_DataType(t)))
			if err != nil {
				return err
			}
			p, err := opts.printer(cmd)
			if err != nil {
				return err
			}
			return output.List(p, records(us), recordHeaders, gnmiRecord.row)
		},
	}
	cmd.Flags().StringVar(&dataType, "type", "all", "data type: all, config, state or operational")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "bound on the request (0: none)")
	return cmd
}

// setResult is the output of "gnmi set".
type setResult struct {
	Timestamp  time.Time      `json:"timestamp"`
	Operations []setOperation `json:"operations"`
}

type setOperation struct {
	Op   string `json:"op"`
	Path string `json:"path"`
}

// TableHeaders implements output.Tabular.
func (setResult) TableHeaders() []string { return []string{"OP", "PATH", "TIMESTAMP"} }

// TableRows implements output.Tabular.
func (r setResult) TableRows() [][]string {
	rows := make([][]string, 0, len(r.Operations))
	for _, o := range r.Operations {
		rows = append(rows, []string{o.Op, o.Path, r.Timestamp.UTC().Format(stampLayout)})
	}
	return rows
}

// splitPathValue splits "PATH=VALUE" at the first '=' outside the path's
// key brackets.
func splitPathValue(s string) (string, string, error) {
	depth, escape := 0, false
	for i, r := range s {
		switch {
		case escape:
			escape = false
		case r == '\\':
			escape = true
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case r == '=' && depth == 0:
			if i == 0 {
				return "", "", fmt.Errorf("%q: empty path", s)
			}
			return s[:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("%q: want PATH=VALUE", s)
}

func newGnmiSetCmd(opts *globalOptions, f *gnmiFlags) *cobra.Command {
	var (
		updates, replaces, deletes []string
		timeout                    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change configuration in one transaction",
		Long: `Apply deletes, replaces and updates as one SetRequest: the device applies
all of them or none (deletes first, then replaces, then updates).

VALUE is JSON ("false", "1500", '{"enabled":false}') or, when it is not valid
JSON, a string ("uplink"). With --encoding proto scalar values are sent as
typed values instead (true/false, integers, floats, strings).`,
		Example: `  fabricctl gnmi set --target 127.0.0.1:9559 --insecure \
      --update /interfaces/interface[name=eth1]/config/enabled=false \
      --update /interfaces/interface[name=eth1]/config/description=uplink
  fabricctl gnmi set --target 127.0.0.1:9559 --insecure --delete /system/ntp/servers \
      --replace '/system/ntp/config={"enabled":true}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, enc, err := f.client()
			if err != nil {
				return err
			}
			defer c.Close()
			var ops []gnmiclient.SetOp
			for _, d := range deletes {
				ops = append(ops, gnmiclient.SetDelete(d))
			}
			for _, group := range []struct {
				flag string
				args []string
				op   func(string, any) gnmiclient.SetOp
			}{{"--replace", replaces, gnmiclient.SetReplace}, {"--update", updates, gnmiclient.SetUpdate}} {
				for _, a := range group.args {
					p, text, err := splitPathValue(a)
					if err != nil {
						return fmt.Errorf("%s %w", group.flag, err)
					}
					tv, err := gnmiclient.ParseValue(text, enc)
					if err != nil {
						return fmt.Errorf("%s %s: %w", group.flag, p, err)
					}
					ops = append(ops, group.op(p, tv))
				}
			}
			if len(ops) == 0 {
				return errors.New("nothing to do: give --update, --replace or --delete")
			}
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			resp, err := c.Set(ctx, ops...)
			if err != nil {
				return err
			}
			res := setResult{Timestamp: time.Unix(0, resp.GetTimestamp())}
			for _, r := range resp.GetResponse() {
				p, err := gnmiclient.PathString(r.GetPath())
				if err != nil {
					p = r.GetPath().String()
				}
				res.Operations = append(res.Operations, setOperation{Op: strings.ToLower(r.GetOp().String()), Path: p})
			}
			return opts.print(cmd, res)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&updates, "update", nil, "PATH=VALUE to merge (repeatable)")
	fl.StringArrayVar(&replaces, "replace", nil, "PATH=VALUE to replace (repeatable)")
	fl.StringArrayVar(&deletes, "delete", nil, "PATH to delete (repeatable)")
	fl.DurationVar(&timeout, "timeout", time.Minute, "bound on the request (0: none)")
	return cmd
}

func newGnmiSubscribeCmd(opts *globalOptions, f *gnmiFlags) *cobra.Command {
	var (
		mode, streamMode          string
		sampleInterval, heartbeat time.Duration
		updatesOnly, suppress     bool
		timeout                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "subscribe PATH...",
		Short: "Stream updates of paths until interrupted",
		Long: `Subscribe to paths and print one row per update as it arrives, until
interrupted (Ctrl-C), --timeout, or the end of a once subscription.

--mode stream (the default) streams with --stream-mode: on-change,
sample (every --sample-interval) or target-defined (the device chooses per
leaf); --heartbeat re-sends unchanged values that often, --suppress-redundant
holds back unchanged samples. A broken stream is re-established. --mode once
prints the current values and ends; --mode poll prints them now and again for
every line read from standard input, until it ends. --updates-only skips the
current values. Sync responses and reconnections are reported on standard
error.`,
		Example: `  fabricctl gnmi subscribe --target 127.0.0.1:9559 --insecure \
      --stream-mode on-change /interfaces/interface/state/oper-status /messages
  fabricctl gnmi subscribe --target 127.0.0.1:9559 --insecure -o json \
      --stream-mode sample --sample-interval 1s /interfaces/interface[name=eth1]/state/counters`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			req := gnmiclient.SubscribeRequest{UpdatesOnly: updatesOnly}
			switch mode {
			case "stream":
				req.Mode = gnmiclient.Stream
			case "once":
				req.Mode = gnmiclient.Once
			case "poll":
				req.Mode = gnmiclient.Poll
			default:
				return fmt.Errorf("--mode %q: want stream, once or poll", mode)
			}
			var sm gnmiclient.StreamMode
			switch streamMode {
			case "on-change", "on_change":
				sm = gnmiclient.OnChange
			case "sample":
				sm = gnmiclient.Sample
			case "target-defined", "target_defined":
				sm = gnmiclient.TargetDefined
			default:
				return fmt.Errorf("--stream-mode %q: want sample, on-change or target-defined", streamMode)
			}
			if sampleInterval < 0 || heartbeat < 0 {
				return errors.New("--sample-interval and --heartbeat must not be negative")
			}
			for _, p := range paths {
				req.Subscriptions = append(req.Subscriptions, gnmiclient.Subscription{
					Path: p, Mode: sm, SampleInterval: sampleInterval, Heartbeat: heartbeat, SuppressRedundant: suppress,
				})
			}
			c, enc, err := f.client()
			if err != nil {
				return err
			}
			defer c.Close()
			req.Encoding = enc
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			st, err := c.Subscribe(ctx, req)
			if err != nil {
				return err
			}
			defer st.Close()
			// Events and the end of the poll input arrive on channels, so
			// that the loop can stop after the answer to the last poll.
			type result struct {
				ev  gnmiclient.Event
				err error
			}
			events, stop := make(chan result), make(chan struct{})
			defer close(stop)
			go func() {
				for {
					ev, err := st.Recv(ctx)
					select {
					case events <- result{ev, err}:
					case <-stop:
						return
					}
					if err != nil {
						return
					}
				}
			}()
			var inputDone chan int
			if req.Mode == gnmiclient.Poll {
				inputDone = make(chan int, 1)
				go pollOnInput(ctx, cmd.InOrStdin(), st, inputDone)
			}
			// One row per update as it arrives, timestamps aligned.
			pr := &liveTable[gnmiRecord]{format: opts.output, w: cmd.OutOrStdout(), row: gnmiRecord.row,
				columns: []liveColumn{{recordHeaders[0], stampWidth}, {header: recordHeaders[1]}, {header: recordHeaders[2]}}}
			errw := cmd.ErrOrStderr()
			syncs, polls := 0, -1 // polls: sent when the input ended
			for {
				var r result
				select {
				case r = <-events:
				case n := <-inputDone:
					polls = n
					if syncs > polls {
						return nil
					}
					continue
				}
				ev, err := r.ev, r.err
				switch {
				case errors.Is(err, io.EOF):
					return nil // the end of a once (or poll) subscription
				case err != nil && ctx.Err() != nil:
					return nil // interrupted or --timeout
				case err != nil:
					return err
				}
				if ev.Disconnected != nil {
					fmt.Fprintf(errw, "disconnected (%v); resubscribing\n", ev.Disconnected)
				}
				if ev.DecodeErr != nil {
					fmt.Fprintf(errw, "warning: %v\n", ev.DecodeErr)
				}
				for _, r := range records(ev.Updates) {
					if err := pr.print(r); err != nil {
						return err
					}
				}
				if ev.Sync {
					fmt.Fprintln(errw, "sync: every value sent once")
					// The initial answer and one per poll: done when the
					// poll input has ended and the last poll is answered.
					if syncs++; polls >= 0 && syncs > polls {
						return nil
					}
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&mode, "mode", "stream", "subscription mode: stream, once or poll")
	fl.StringVar(&streamMode, "stream-mode", "target-defined", "stream mode: sample, on-change or target-defined")
	fl.DurationVar(&sampleInterval, "sample-interval", 0, "time between samples (0: the device's fastest)")
	fl.DurationVar(&heartbeat, "heartbeat", 0, "re-send unchanged values at least this often (0: never)")
	fl.BoolVar(&updatesOnly, "updates-only", false, "send only changes, not the current values")
	fl.BoolVar(&suppress, "suppress-redundant", false, "sample mode: send a value only when it changed")
	fl.DurationVar(&timeout, "timeout", 0, "stop after this long (0: until interrupted)")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"stream", "once", "poll"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("stream-mode", cobra.FixedCompletions([]string{"sample", "on-change", "target-defined"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// pollOnInput polls once per line of input and, when the input ends, says
// how many polls it sent.
func pollOnInput(ctx context.Context, in io.Reader, st *gnmiclient.SubscribeStream, done chan<- int) {
	n := 0
	defer func() { done <- n }()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if err := st.Poll(ctx); err != nil {
			return
		}
		n++
	}
}
