// Package etcd is the clustered engine of store.Store, on an etcd cluster
// through go.etcd.io/etcd/client/v3: orchestrators that share one cluster
// see one store, and its compare-and-swap arbitrates between them.
//
//	s, err := etcd.New(ctx, []string{"10.0.0.1:2379", "10.0.0.2:2379"},
//		etcd.WithNamespace("/fabric/"), etcd.WithTLS(tlsConf))
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//
// Every method maps onto one etcd request: a Txn is one etcd transaction,
// revisions are etcd's (shared by every namespace of the cluster), leases
// are etcd leases (TTLs in whole seconds, at least the cluster's minimum)
// and a watch is an etcd watch. History is kept until the cluster compacts
// it (etcd's --auto-compaction-*); a watch from a compacted revision ends
// with an error event wrapping store.ErrCompacted.
//
// # TLS
//
// WithTLS connects over TLS (and mutual TLS, with a client certificate in
// the configuration). The etcd client retries a failed handshake until the
// dial timeout and reports only that time ran out; when New fails, it
// makes one handshake of its own with the first endpoint to say why:
//
//	etcd: connect to [https://10.0.0.1:2379]: etcd: revision: context deadline exceeded
//	(TLS handshake with 10.0.0.1:2379: tls: failed to verify certificate: x509: certificate signed by unknown authority)
//
// It also names a client certificate the cluster refused ("remote error:
// tls: certificate required"), an https endpoint given no TLS, and a
// server that answers TLS to a client configured without it.
//
// # Backup and restore
//
// Snapshot streams etcd's maintenance snapshot (what `etcdctl snapshot
// save` writes). Restore turns one into the data directory of a new
// member, as `etcdutl snapshot restore` does; start etcd, or an embedded
// server (etcdtest.WithSnapshot), on it.
//
// Package etcdtest starts an embedded server in process for tests.
package etcd
