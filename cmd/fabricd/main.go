// Fabricd is the Fabric orchestrator daemon: it runs an orchestrator
// (package orchestrator) over a store and serves its northbound gRPC API
// (package orchestrator/northbound, service fabric.northbound.v1.Chassis)
// to fabricctl and other clients, with Prometheus metrics on the side.
//
// Usage:
//
//	fabricd --tls-cert server.pem --tls-key server-key.pem --admin-token-file admin.tokens [flags]
//	fabricd restore --data-dir DIR --from BACKUP
//	fabricd restore --etcd-data-dir DIR --etcd-name NAME --etcd-peer-url URL --from SNAPSHOT
//
// The store is bbolt in --data-dir (default ./fabricd-data), or an etcd
// cluster with --etcd host:port,... . The API listens on --listen (default
// 127.0.0.1:9345, loopback only: pass a management address to expose it)
// over TLS (--tls-cert/--tls-key, --tls-client-ca for mutual TLS); fabricd
// refuses to serve in plaintext unless --insecure. Every call needs a bearer
// token from --admin-token-file or --read-token-file (one token per line,
// blank lines and # comments ignored); --no-auth serves without tokens and
// must be asked for. Boxes registered over the API without "insecure" are
// reached over TLS trusting --box-ca.
//
// With --etcd, --etcd-ca connects over TLS trusting those CAs (https://
// endpoints alone trust the system's), --etcd-cert and --etcd-key present
// a client certificate (mutual TLS), --etcd-user authenticates with the
// password in --etcd-password-file or else $FABRIC_ETCD_PASSWORD (never a
// flag: any user of the host can read a command line), --etcd-namespace
// keeps every key under a prefix ending in / so that several chassis share
// one cluster without seeing each other, and --etcd-dial-timeout bounds
// the first connection (default 5s). These flags are refused without
// --etcd. A backup of an etcd store is a snapshot of the whole cluster,
// which etcd gives only to a user with its root role.
//
// When the API and metrics listeners are up, fabricd prints their addresses
// on stdout ("fabricd: api 127.0.0.1:9345", "fabricd: metrics
// http://127.0.0.1:9346/metrics"), so that a script started with port 0
// learns them. It logs to stderr. SIGINT or SIGTERM stops it gracefully:
// streams end, running commits get --shutdown-timeout to finish, calls in
// flight as long, then the orchestrator and the store close.
//
// "fabricd restore" installs a backup (the Backup RPC's stream, as
// "fabricctl backup" saves it), offline: as a new bbolt data directory
// (--data-dir), or, for an etcd store, as the data directory of a new etcd
// member (--etcd-data-dir, --etcd-name, --etcd-peer-url), as etcdutl
// snapshot restore does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "fabricd:", err)
		os.Exit(1)
	}
}
