package main

import (
	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
)

// globalOptions holds the values of the root command's persistent flags. The
// root command owns it and hands it to every subcommand constructor, so that
// tests can build as many independent command trees as they like.
type globalOptions struct {
	output output.Format
	// server says how to reach fabricd; its flags are the root's
	// persistent flags (see addServerFlags).
	server serverOptions
}

// printer returns a printer for the --output format writing to the command's
// standard output.
func (g *globalOptions) printer(cmd *cobra.Command) (*output.Printer, error) {
	return output.New(g.output, cmd.OutOrStdout())
}

// print writes v, which should implement output.Tabular for a table form, in
// the --output format. It is the one-liner that ends most commands:
//
//	return opts.print(cmd, result)
func (g *globalOptions) print(cmd *cobra.Command, v any) error {
	p, err := g.printer(cmd)
	if err != nil {
		return err
	}
	return p.Print(v)
}

// newRootCmd builds the fabricctl command tree.
func newRootCmd() *cobra.Command {
	opts := &globalOptions{output: output.FormatTable}

	root := &cobra.Command{
		Use:   "fabricctl",
		Short: "Drive white-box switches, testbeds and the fabric orchestrator",
		Long: `fabricctl drives white-box switches through P4Runtime, gNMI and gNOI,
runs emulated testbeds and talks to the fabricd orchestrator.

Every command prints its result in the format chosen with --output:
an aligned table (the default), indented JSON or YAML.`,
		SilenceUsage: true, // usage on a runtime error buries the error
		// No Args validator: cobra's default for a root command without Run
		// reports unknown subcommands (with suggestions).
	}

	// Errors read "fabricctl: NOT_FOUND: ..." as other Unix tools' do,
	// rather than cobra's "Error: ...".
	root.SetErrPrefix("fabricctl:")

	flags := root.PersistentFlags()
	flags.VarP(&opts.output, "output", "o", "output format: table, json or yaml")
	// fabricd's connection flags, anywhere on the line. The device
	// commands (gnmi, gnoi, pipeline push) define their own --insecure,
	// --tls-* and --timeout for the device, which take their place there.
	opts.addServerFlags(root)
	_ = root.RegisterFlagCompletionFunc("output",
		cobra.FixedCompletions(output.FormatNames(), cobra.ShellCompDirectiveNoFileComp))

	// Subcommands, one constructor per file. Cobra adds "completion" and
	// "help" itself.
	root.AddCommand(
		newVersionCmd(opts),
		newTestbedCmd(opts),
		newGnoiCmd(opts),
		newGnmiCmd(opts),
		newPipelineCmd(opts),
		newDemoCmd(opts),
		// fabricd's northbound API.
		newDeviceCmd(opts),
		newModuleCmd(opts),
		newLinkCmd(opts),
		newConfigCmd(opts),
		newOperationCmd(opts),
		newEventsCmd(opts),
		newLogCmd(opts),
		newTimeCmd(opts),
		newBackupCmd(opts),
	)
	return root
}
