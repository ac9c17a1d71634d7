package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
)

// newTestbedCmd is "fabricctl testbed": emulated switches for labs and tests.
func newTestbedCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testbed",
		Short: "Run emulated switches that speak P4Runtime, gNMI and gNOI",
	}
	cmd.AddCommand(newTestbedUpCmd(opts))
	return cmd
}

// switchRow is one line of the table "testbed up" prints.
type switchRow struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	DeviceID uint64 `json:"device_id"`
	Ports    int    `json:"ports"`
	TLS      bool   `json:"tls"`
	Serial   string `json:"serial"`
}

func newTestbedUpCmd(opts *globalOptions) *cobra.Command {
	var (
		file      string
		leafSpine string
		caDir     string
		verbose   bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a topology of emulated switches and serve until interrupted",
		Long: `Start every switch of a topology on its loopback address, wire the links,
print the switches and serve until interrupted (Ctrl-C).

The topology comes from a YAML file (-f, see package testbed/topology for the
format) or from --leaf-spine SPINES,LEAVES. Every switch serves P4Runtime, gNMI
and gNOI on the address in the table. Point any P4Runtime client at it, with
the device ID shown, for example p4runtime-shell:

  python3 -m p4runtime_sh --grpc-addr 127.0.0.1:PORT --device-id 1 --election-id 0,1 \
      --config p4info.txt,bmv2.json

or gnmic, or fabricctl itself:

  gnmic -a 127.0.0.1:PORT --insecure get --path /interfaces
  fabricctl gnmi get --target 127.0.0.1:PORT --insecure /system/state
  fabricctl gnoi time --target 127.0.0.1:PORT --insecure

Switches with tls.generate serve certificates from an in-memory CA; --ca-dir
writes that CA (ca.pem) so that clients can trust it.`,
		Example: `  fabricctl testbed up -f testbed/topology/testdata/leafspine.yaml
  fabricctl testbed up --leaf-spine 2,4 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			topo, err := loadTopology(file, leafSpine)
			if err != nil {
				return err
			}
			var tbOpts []testbed.Option
			if verbose {
				tbOpts = append(tbOpts, testbed.WithLogger(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))))
			}
			tb, err := testbed.Start(topo, tbOpts...)
			if err != nil {
				return err
			}
			defer tb.Close()
			if caDir != "" {
				if tb.CA() == nil {
					return fmt.Errorf("--ca-dir: no switch of the topology uses tls.generate")
				}
				if err := os.MkdirAll(caDir, 0o755); err != nil {
					return err
				}
				if err := tb.CA().WritePEM(caDir); err != nil {
					return err
				}
			}
			p, err := opts.printer(cmd)
			if err != nil {
				return err
			}
			rows := make([]switchRow, 0, len(tb.Switches()))
			for _, sw := range tb.Switches() {
				rows = append(rows, switchRow{Name: sw.Name(), Address: sw.Addr(), DeviceID: sw.DeviceID(), Ports: sw.Ports(), TLS: sw.TLS(), Serial: sw.Identity().Serial})
			}
			err = output.List(p, rows, []string{"NAME", "ADDRESS", "DEVICE ID", "PORTS", "TLS", "SERIAL"}, func(r switchRow) []string {
				return []string{r.Name, r.Address, strconv.FormatUint(r.DeviceID, 10), strconv.Itoa(r.Ports), strconv.FormatBool(r.TLS), r.Serial}
			})
			if err != nil {
				return err
			}
			if p.Format() == output.FormatTable {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d switches, %d links; serving until interrupted\n", len(rows), len(tb.Topology().Links))
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "topology YAML file")
	f.StringVar(&leafSpine, "leaf-spine", "", "generate a leaf-spine topology: SPINES,LEAVES (e.g. 2,4)")
	f.StringVar(&caDir, "ca-dir", "", "write the generated CA certificate (ca.pem) into this folder")
	f.BoolVarP(&verbose, "verbose", "v", false, "log the switches' activity to standard error")
	cmd.MarkFlagsMutuallyExclusive("file", "leaf-spine")
	cmd.MarkFlagsOneRequired("file", "leaf-spine")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	return cmd
}

// loadTopology reads -f or builds --leaf-spine.
func loadTopology(file, leafSpine string) (*topology.Topology, error) {
	if file != "" {
		return topology.Load(file)
	}
	s, l, ok := strings.Cut(leafSpine, ",")
	spines, err1 := strconv.Atoi(strings.TrimSpace(s))
	leaves, err2 := strconv.Atoi(strings.TrimSpace(l))
	if !ok || err1 != nil || err2 != nil || spines < 1 || leaves < 1 || spines > 64 || leaves > 256 {
		return nil, fmt.Errorf("--leaf-spine %q: want SPINES,LEAVES with 1..64 spines and 1..256 leaves", leafSpine)
	}
	return topology.LeafSpine(spines, leaves), nil
}
