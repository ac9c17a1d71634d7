package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// backupView is the result of "fabricctl backup".
type backupView struct {
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
}

// TableHeaders implements output.Tabular.
func (backupView) TableHeaders() []string { return []string{"FILE", "BYTES"} }

// TableRows implements output.Tabular.
func (v backupView) TableRows() [][]string { return [][]string{{v.File, countCell(v.Bytes)}} }

// writeAtomic writes what fill writes into name through a temporary file in
// the same directory, renamed over name only once complete and synced: an
// interrupted backup never leaves a truncated file where a good one was.
func writeAtomic(name string, fill func(io.Writer) (int64, error)) (n int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if n, err = fill(tmp); err != nil {
		return n, err
	}
	if err = tmp.Sync(); err != nil {
		return n, err
	}
	if err = tmp.Close(); err != nil {
		return n, err
	}
	// CreateTemp makes the file 0600, which suits a snapshot of the
	// chassis's state: leave it so.
	return n, os.Rename(tmp.Name(), name)
}

func newBackupCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Save a snapshot of fabricd's store (inventory, versions, journal) to a file",
		Long: `Save a snapshot of fabricd's store — the inventory with its module IDs, every
committed version and the transaction journal — to FILE, in the store
engine's own format (a bbolt database for the embedded store). The file is
written under a temporary name and renamed when complete, so FILE is never
left half-written. Needs an admin token.`,
		Example: `  fabricctl backup fabric-$(date +%F).db`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opts.dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context() // a large store takes longer than --timeout
			stream, err := c.Backup(ctx, &nbpb.BackupRequest{})
			if err != nil {
				return fmt.Errorf("backup: %w", rpcError(err))
			}
			n, err := writeAtomic(args[0], func(w io.Writer) (int64, error) {
				var n int64
				for {
					chunk, err := stream.Recv()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						return n, fmt.Errorf("backup: %w", rpcError(err))
					}
					m, err := w.Write(chunk.GetData())
					n += int64(m)
					if err != nil {
						return n, fmt.Errorf("backup: %w", err)
					}
				}
				if n == 0 {
					return 0, errors.New("backup: fabricd sent an empty snapshot")
				}
				return n, nil
			})
			if err != nil {
				return err
			}
			return opts.print(cmd, backupView{File: args[0], Bytes: n})
		},
	}
	return cmd
}
