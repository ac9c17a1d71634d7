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
