// Fabricctl is the command-line tool of fabric: it drives white-box switches
// through the fabric SDK, runs emulated testbeds and talks to the fabricd
// orchestrator.
//
// Usage:
//
//	fabricctl [command] [flags]
//
// Every command prints one result in the format chosen with -o/--output:
// table (the default), json or yaml. Run "fabricctl help" for the list of
// commands and "fabricctl completion --help" to set up shell completion.
//
// The commands come in three groups:
//
//   - on switches directly: gnmi, gnoi, pipeline (list, show, translate,
//     push) and testbed (emulated switches);
//   - on the chassis, through fabricd's API: device, module, link, config
//     (apply, get, diff, history, rollback), operation, events, log, time and
//     backup. Their connection flags may stand anywhere on the line:
//     --server (or FABRIC_SERVER; default 127.0.0.1:9345), --token /
//     --token-file (or FABRIC_TOKEN), --tls-ca, --tls-cert/--tls-key,
//     --insecure, --timeout (under gnmi, gnoi and pipeline push, --insecure,
//     --tls-* and --timeout are the device's);
//   - demo: an emulated leaf-spine run as one chassis in process, with
//     nothing to install.
//
// Long work draws a progress bar on standard error when it is a terminal
// (--progress forces it): config apply and rollback over many boxes,
// pipeline push to many switches, gnoi install's transfer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx) // cobra prints the error to stderr
	stop()
	if err != nil {
		os.Exit(1)
	}
}
