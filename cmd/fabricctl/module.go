package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// moduleList is the result of "module list": the chassis seen by slot.
type moduleList []boxView

// TableHeaders implements output.Tabular.
func (moduleList) TableHeaders() []string {
	return []string{"MODULE", "SERIAL", "NAME", "ROLE", "PORTS", "CONNECTED"}
}

// TableRows implements output.Tabular.
func (l moduleList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, b := range l {
		rows = append(rows, []string{strconv.FormatUint(uint64(b.Module), 10), b.Serial, b.Name, b.Role,
			strconv.Itoa(len(b.Ports)), boolCell(b.Connected)})
	}
	return rows
}

// moduleShow is the result of "module show": one box and its interfaces.
type moduleShow boxView

// TableHeaders implements output.Tabular.
func (moduleShow) TableHeaders() []string {
	return []string{"INTERFACE", "PORT", "PORT ID", "MODULE", "SERIAL", "NAME"}
}

// TableRows implements output.Tabular: one row per interface, the box's
// identity repeated so that every row stands alone under grep.
func (m moduleShow) TableRows() [][]string {
	rows := make([][]string, 0, len(m.Ports))
	for _, p := range m.Ports {
		rows = append(rows, []string{p.Interface, p.Name, strconv.FormatUint(uint64(p.ID), 10),
			strconv.FormatUint(uint64(m.Module), 10), m.Serial, m.Name})
	}
	return rows
}

// newModuleCmd is "fabricctl module": the chassis by module ID.
func newModuleCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "module",
		Aliases: []string{"modules"},
		Short:   "Show the chassis by module: which box is in which slot, and its interfaces",
		Long: `Show the chassis by module ID, the way a chassis router shows its line
cards: module N is a registered box, and its port P is the interface
eth-N/0/P in configs, events and logs.`,
	}
	cmd.AddCommand(newModuleListCmd(opts), newModuleShowCmd(opts))
	return cmd
}

// listBoxes fetches the registered boxes.
func listBoxes(cmd *cobra.Command, c *chassis) ([]boxView, error) {
	ctx, cancel := c.call(cmd)
	defer cancel()
	resp, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
	if err != nil {
		return nil, rpcError(err)
	}
	out := make([]boxView, 0, len(resp.GetBoxes()))
	for _, b := range resp.GetBoxes() {
		out = append(out, newBoxView(b))
	}
	return out, nil
}

func newModuleListCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the modules: module ID, box, role, ports, connected",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			boxes, err := listBoxes(cmd, c)
			if err != nil {
				return err
			}
			return opts.print(cmd, moduleList(boxes))
		},
	}
}

// parseModule parses a module ID argument.
func parseModule(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("module %q: want a module ID, a positive integer", s)
	}
	return uint32(n), nil
}

func newModuleShowCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:               "show MODULE",
		Short:             "Show a module's interfaces (eth-N/0/P) and the box's port names",
		Example:           `  fabricctl module show 3`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeFirst(opts.completeModules()),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := parseModule(args[0])
			if err != nil {
				return err
			}
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			boxes, err := listBoxes(cmd, c)
			if err != nil {
				return err
			}
			for _, b := range boxes {
				if b.Module == m {
					return opts.print(cmd, moduleShow(b))
				}
			}
			return fmt.Errorf("module %d: no box has this module ID (see \"fabricctl module list\")", m)
		},
	}
}
