package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/builtin"
	"github.com/p4fabric/fabric/pipeline/objective"
)

// newPipelineCmd is "fabricctl pipeline": pipeconfs and what objectives
// become on them.
func newPipelineCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Inspect pipeconfs and translate forwarding objectives into their entities",
	}
	cmd.AddCommand(newPipelineListCmd(opts), newPipelineShowCmd(opts), newPipelineTranslateCmd(opts), newPipelinePushCmd(opts))
	return cmd
}

// pipeconfRow is one line of "pipeline list".
type pipeconfRow struct {
	ID        string   `json:"id"`
	Arch      string   `json:"arch"`
	Tables    int      `json:"tables"`
	Targets   []string `json:"targets"`
	CPUPort   uint32   `json:"cpu_port,omitempty"`
	Pipeliner bool     `json:"pipeliner"`
	Supports  []string `json:"supports"`
}

func newPipelineListCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in pipeconfs",
		Long: `List the pipeconfs built into fabricctl: their architecture, number of
tables, the targets they carry device configs for, the CPU port and the
kinds of objectives their pipeliner can express.`,
		Example: "  fabricctl pipeline list\n  fabricctl pipeline list -o yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := builtin.Registry()
			if err != nil {
				return err
			}
			var rows []pipeconfRow
			for _, pc := range reg.All() {
				row := pipeconfRow{ID: pc.ID, Arch: pc.Schema.Arch(), Tables: len(pc.Schema.Tables()), Targets: pc.Targets(), CPUPort: pc.Options.CPUPort}
				if p, err := pc.Pipeliner(); err == nil {
					row.Pipeliner = true
					for _, k := range objective.Kinds() {
						if p.Supports(k) {
							row.Supports = append(row.Supports, string(k))
						}
					}
				}
				rows = append(rows, row)
			}
			p, err := opts.printer(cmd)
			if err != nil {
				return err
			}
			return output.List(p, rows, []string{"ID", "ARCH", "TABLES", "TARGETS", "CPU PORT", "OBJECTIVES"}, func(r pipeconfRow) []string {
				cpu := ""
				if r.CPUPort != 0 {
					cpu = strconv.FormatUint(uint64(r.CPUPort), 10)
				}
				return []string{r.ID, r.Arch, strconv.Itoa(r.Tables), strings.Join(r.Targets, ","), cpu, strings.Join(r.Supports, ",")}
			})
		},
	}
}

// loadPipeconf returns the built-in pipeconf with that ID, or the
// pipeconf in that folder (with the pipeliner of the built-in pipeconf
// named pipeliner, or else of the one with the folder's name).
func loadPipeconf(idOrDir, pipeliner string) (*pipeline.Pipeconf, error) {
	reg, err := builtin.Registry()
	if err != nil {
		return nil, err
	}
	if pc, err := reg.Get(idOrDir); err == nil && pipeliner == "" {
		return pc, nil
	}
	st, statErr := os.Stat(idOrDir)
	if statErr != nil || !st.IsDir() {
		return nil, fmt.Errorf("%q is neither a built-in pipeconf (%s) nor a folder", idOrDir, strings.Join(reg.IDs(), ", "))
	}
	pc, err := pipeline.Load(idOrDir)
	if err != nil {
		return nil, err
	}
	name := pipeliner
	if name == "" {
		name = pc.ID
	}
	if b, err := reg.Get(name); err == nil {
		pc.Constructor = b.Constructor
		if pc.Options == (pipeline.DeviceOptions{}) {
			pc.Options = b.Options
		}
	} else if pipeliner != "" {
		return nil, fmt.Errorf("--pipeliner: %w", err)
	}
	return pc, nil
}

// pipeconfView is what "pipeline show" prints.
type pipeconfView struct {
	ID      string      `json:"id"`
	Arch    string      `json:"arch,omitempty"`
	Targets []string    `json:"targets"`
	CPUPort uint32      `json:"cpu_port,omitempty"`
	Tables  []tableView `json:"tables"`
}

type tableView struct {
	Name          string      `json:"name"`
	ID            uint32      `json:"id"`
	Match         []fieldView `json:"match"`
	Actions       []string    `json:"actions"`
	Size          int64       `json:"size"`
	ActionProfile string      `json:"action_profile,omitempty"`
	Const         bool        `json:"const,omitempty"`
}

type fieldView struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Bitwidth int    `json:"bitwidth,omitempty"` // 0 for SDN strings
	Type     string `json:"type,omitempty"`     // the translated type, if any
}

func (f fieldView) String() string {
	w := strconv.Itoa(f.Bitwidth)
	if f.Bitwidth == 0 {
		w = "string"
	}
	return fmt.Sprintf("%s %s/%s", f.Name, f.Kind, w)
}

// TableHeaders implements output.Tabular.
func (v pipeconfView) TableHeaders() []string {
	return []string{"TABLE", "SIZE", "MATCH", "ACTIONS"}
}

// TableRows implements output.Tabular: a table spans one row per match
// field or action, whichever it has more of.
func (v pipeconfView) TableRows() [][]string {
	var rows [][]string
	for _, t := range v.Tables {
		name := t.Name
		if t.Const {
			name += " (const)"
		}
		actions := slices.Clone(t.Actions)
		if t.ActionProfile != "" {
			actions = append(actions, "(via "+t.ActionProfile+")")
		}
		n := max(1, len(t.Match), len(actions))
		for i := range n {
			row := []string{"", "", "", ""}
			if i == 0 {
				row[0], row[1] = name, strconv.FormatInt(t.Size, 10)
			}
			if i < len(t.Match) {
				row[2] = t.Match[i].String()
			}
			if i < len(actions) {
				row[3] = actions[i]
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func describePipeconf(pc *pipeline.Pipeconf) pipeconfView {
	v := pipeconfView{ID: pc.ID, Arch: pc.Schema.Arch(), Targets: pc.Targets(), CPUPort: pc.Options.CPUPort, Tables: []tableView{}}
	for _, t := range pc.Schema.Tables() {
		tv := tableView{Name: t.Name, ID: t.ID, Size: t.Size, Const: t.IsConst, Match: []fieldView{}, Actions: []string{}}
		for _, f := range t.Fields {
			fv := fieldView{Name: f.Name, Kind: matchKind(f), Bitwidth: f.Bitwidth}
			if f.Translated != nil {
				fv.Type = f.Translated.TypeName
			}
			tv.Match = append(tv.Match, fv)
		}
		for _, a := range t.Actions {
			name := a.Action.Alias
			if name == "" {
				name = a.Action.Name
			}
			if a.DefaultOnly() {
				name += " (default only)"
			}
			tv.Actions = append(tv.Actions, name)
		}
		if t.ActionProfile != nil {
			tv.ActionProfile = t.ActionProfile.Name
		}
		v.Tables = append(v.Tables, tv)
	}
	return v
}

func matchKind(f *schema.MatchField) string {
	if f.OtherKind != "" {
		return f.OtherKind
	}
	switch f.Kind {
	case schema.Exact:
		return "exact"
	case schema.LPM:
		return "lpm"
	case schema.Ternary:
		return "ternary"
	case schema.Range:
		return "range"
	case schema.Optional:
		return "optional"
	}
	return strings.ToLower(f.Kind.String())
}

func newPipelineShowCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID|DIR",
		Short: "Show a pipeconf's tables: match fields with kinds and widths, actions, size",
		Long: `Show the tables of a built-in pipeconf (see "fabricctl pipeline list") or of
a pipeconf folder (a P4Info as *p4info*.txt, .pb or .json, optionally the
bmv2 JSON and cpu_port.txt): each table's size, match fields with their
kinds and widths ("string" for SDN strings) and actions.`,
		Example:           "  fabricctl pipeline show onos-basic\n  fabricctl pipeline show ./my-program -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeBuiltins,
		RunE: func(cmd *cobra.Command, args []string) error {
			pc, err := loadPipeconf(args[0], "")
			if err != nil {
				return err
			}
			return opts.print(cmd, describePipeconf(pc))
		},
	}
}

// translation is what "pipeline translate" prints: each objective with
// the entities it becomes.
type translation struct {
	Pipeconf   string                `json:"pipeconf"`
	Objectives []translatedObjective `json:"objectives,omitempty"`
	Entities   []*entity.Readable    `json:"entities,omitempty"` // --unique
	unique     bool
}

type translatedObjective struct {
	Kind     objective.Kind     `json:"kind"`
	Key      string             `json:"key"`
	Entities []*entity.Readable `json:"entities"`
}

// TableHeaders implements output.Tabular.
func (t translation) TableHeaders() []string {
	if t.unique {
		return []string{"ENTITY", "NAME", "MATCH", "PRIORITY", "ACTION"}
	}
	return []string{"OBJECTIVE", "ENTITY", "NAME", "MATCH", "PRIORITY", "ACTION"}
}

// TableRows implements output.Tabular.
func (t translation) TableRows() [][]string {
	var rows [][]string
	if t.unique {
		for _, r := range t.Entities {
			rows = append(rows, readableRow(r))
		}
		return rows
	}
	for _, o := range t.Objectives {
		for i, r := range o.Entities {
			obj := ""
			if i == 0 {
				obj = string(o.Kind) + " " + o.Key
			}
			rows = append(rows, append([]string{obj}, readableRow(r)...))
		}
	}
	return rows
}

// readableRow renders an entity as ENTITY, NAME, MATCH, PRIORITY, ACTION.
func readableRow(r *entity.Readable) []string {
	var match []string
	switch {
	case r.Default:
		match = append(match, "default")
	case r.Kind == "action_profile_member":
		match = append(match, fmt.Sprintf("member=%d", r.MemberID))
	case r.Kind == "action_profile_group":
		match = append(match, fmt.Sprintf("group=%d", r.GroupID))
	case r.Kind == "multicast_group" || r.Kind == "clone_session":
		match = append(match, fmt.Sprintf("id=%d", r.ID))
	}
	for _, m := range r.Match {
		match = append(match, m.Field+"="+m.Value)
	}
	prio := ""
	if r.Priority != 0 {
		prio = strconv.Itoa(int(r.Priority))
	}
	var action string
	switch {
	case r.Action != nil:
		action = readableAction(r.Action)
	case len(r.Members) > 0:
		ms := make([]string, len(r.Members))
		for i, m := range r.Members {
			ms[i] = fmt.Sprintf("%d×%d", m.MemberID, m.Weight)
		}
		action = "members " + strings.Join(ms, ", ")
	case len(r.Replicas) > 0:
		rs := make([]string, len(r.Replicas))
		for i, rep := range r.Replicas {
			rs[i] = fmt.Sprintf("%s#%d", rep.Port, rep.Instance)
		}
		action = "replicas " + strings.Join(rs, ", ")
	}
	return []string{r.Kind, r.Name, strings.Join(match, ", "), prio, action}
}

func readableAction(a *entity.ReadableAction) string {
	switch {
	case a.MemberID != 0:
		return fmt.Sprintf("member %d", a.MemberID)
	case a.GroupID != 0:
		return fmt.Sprintf("group %d", a.GroupID)
	case len(a.ActionSet) > 0:
		parts := make([]string, len(a.ActionSet))
		for i, w := range a.ActionSet {
			parts[i] = fmt.Sprintf("%d×%s", w.Weight, readableAction(&w.Action))
		}
		return strings.Join(parts, " + ")
	}
	params := make([]string, len(a.Params))
	for i, p := range a.Params {
		params[i] = p.Name + "=" + p.Value
	}
	return a.Name + "(" + strings.Join(params, ", ") + ")"
}

func newPipelineTranslateCmd(opts *globalOptions) *cobra.Command {
	var (
		unique    bool
		pipeliner string
	)
	cmd := &cobra.Command{
		Use:   "translate ID|DIR OBJECTIVES.yaml",
		Short: "Print the entities forwarding objectives become on a pipeconf",
		Long: `Translate a list of forwarding objectives (YAML or JSON; "-" reads standard
input) with a pipeconf's pipeliner and print the entities each becomes:
entity kind, table or action profile, match, priority and action.

The file is a list of one-key maps naming each objective's kind:

  - route: {prefix: 10.0.2.0/24, next_hop: {id: "7", port: 2}}
  - punt: {protocol: lldp}

The objectives are checked together as a device would hold them: an
objective the program cannot express, or two that need the same entity
with different contents, is an error naming them. --unique prints each
entity once, in the order it would be written.`,
		Example: `  fabricctl pipeline translate onos-basic routes.yaml
  fabricctl pipeline translate fabric-v1model routes.yaml --unique -o json
  fabricctl pipeline translate ./my-basic-build routes.yaml --pipeliner onos-basic`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeBuiltins,
		RunE: func(cmd *cobra.Command, args []string) error {
			pc, err := loadPipeconf(args[0], pipeliner)
			if err != nil {
				return err
			}
			p, err := pc.Pipeliner()
			if err != nil {
				return err
			}
			var data []byte
			if args[1] == "-" {
				data, err = readAllLimited(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[1])
			}
			if err != nil {
				return err
			}
			objs, err := objective.ParseList(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			if err := objs.Validate(); err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			// Through a State: conflicts between objectives are errors.
			st := pipeline.NewState(p)
			if _, err := st.Add(objs...); err != nil {
				return err
			}
			out := translation{Pipeconf: pc.ID, unique: unique}
			describe := func(e *p4v1.Entity) (*entity.Readable, error) {
				r, err := entity.Describe(pc.Schema, e)
				if err != nil {
					return nil, fmt.Errorf("pipeconf %s: %s: %w", pc.ID, r, err)
				}
				return r, nil
			}
			if unique {
				out.Entities = []*entity.Readable{}
				for _, e := range st.Entities() {
					r, err := describe(e)
					if err != nil {
						return err
					}
					out.Entities = append(out.Entities, r)
				}
				return opts.print(cmd, out)
			}
			out.Objectives = []translatedObjective{}
			for _, o := range objs {
				o = objective.Value(o)
				es, err := p.Translate(o)
				if err != nil {
					return err
				}
				t := translatedObjective{Kind: o.Kind(), Key: o.Key(), Entities: []*entity.Readable{}}
				for _, e := range es {
					r, err := describe(e)
					if err != nil {
						return err
					}
					t.Entities = append(t.Entities, r)
				}
				out.Objectives = append(out.Objectives, t)
			}
			return opts.print(cmd, out)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&unique, "unique", false, "print each entity once, in write order, instead of per objective")
	f.StringVar(&pipeliner, "pipeliner", "", "for a pipeconf folder: the built-in pipeconf whose pipeliner to use (default: the folder's name)")
	_ = cmd.RegisterFlagCompletionFunc("pipeliner", completeBuiltins)
	return cmd
}

// maxObjectivesFile bounds what translate reads from standard input.
const maxObjectivesFile = 64 << 20

var errTooLarge = errors.New("objectives: more than 64 MiB on standard input")

// readAllLimited reads r up to maxObjectivesFile bytes.
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxObjectivesFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxObjectivesFile {
		return nil, errTooLarge
	}
	return b, nil
}

// completeBuiltins completes the IDs of the built-in pipeconfs (and, for
// the first argument, folder names).
func completeBuiltins(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return builtin.IDs(), cobra.ShellCompDirectiveDefault
}
