// Package northbound is the gRPC API of a Fabric orchestrator (the Chassis
// service of package nbpb), served by fabricd and spoken by fabricctl: a
// thin adapter over package orchestrator, in the way gobgp's gRPC server
// adapts its library. Each RPC converts its request, calls one library
// function, and converts the answer; the server's own logic is limited to
// three things:
//
//   - Authentication. Every call carries "authorization: Bearer <token>".
//     Tokens are admin or read-only (Tokens); methods are classified in one
//     table (AdminMethod) and a method missing from it is refused. A missing
//     or unknown token is UNAUTHENTICATED, a read-only token on an admin
//     RPC (Commit, Rollback, RegisterBox, DecommissionBox, Reconcile, Backup)
//     PERMISSION_DENIED. Tokens are compared in constant time. A server
//     without tokens must be asked for (WithoutAuth). The checks run in the
//     interceptors of ServerOptions; a grpc.Server built without them refuses
//     every call instead of serving it unauthenticated.
//   - Operations. Commit parses and compiles the config first
//     (orchestrator.PrepareYAML: INVALID_ARGUMENT, and nothing starts, when
//     that fails), and the operation commits what was compiled
//     (Prepared.Commit, which compiles again only if the boxes changed in
//     between); Rollback checks the version exists. Both then start the
//     transaction on the server's own context with an operation ID
//     (orchestrator.OpID, txn.WithID) and return it RUNNING at once. A
//     bounded in-memory table follows each operation through its progress
//     reports (txn.WithProgress) to COMMITTED, ABORTED (*txn.AbortError:
//     reasons, restored) or FAILED; WatchOperation streams it without
//     polling. GetOperation falls back to the transaction journal for IDs
//     the table does not hold (another daemon's, or from before a restart).
//   - Error mapping: library errors become gRPC codes in one function
//     (NOT_FOUND for an unknown box, version or operation, INVALID_ARGUMENT
//     for an invalid config or filter, UNAVAILABLE for a box not connected
//     or a closed orchestrator, ABORTED for a concurrent transaction, ...),
//     with messages that name the entity.
//
// Dial is the Go client. It needs TLS (WithTLS) or an explicit WithInsecure,
// and sends a token (WithToken) only over TLS unless WithTokenOverPlaintext
// says otherwise.
//
// A server on a listener, and a client that registers two boxes, commits a
// config and watches the commit to its end:
//
//	srv, err := northbound.NewServer(o, northbound.WithTokens(northbound.Tokens{Admin: []string{token}}))
//	if err != nil { ... }
//	defer srv.Close()
//	gs := grpc.NewServer(append(srv.ServerOptions(), grpc.Creds(credentials.NewTLS(serverTLS)))...)
//	srv.Register(gs)
//	go gs.Serve(lis)
//
//	c, err := northbound.Dial(ctx, lis.Addr().String(), northbound.WithTLS(clientTLS), northbound.WithToken(token))
//	if err != nil { ... }
//	defer c.Close()
//	op, err := c.Commit(ctx, &nbpb.CommitRequest{Config: yaml, Comment: "first"})
//	w, err := c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: op.Id})
//	for { op, err := w.Recv(); if err == io.EOF { break }; ... }
//
// The package example runs this against emulated switches.
package northbound
