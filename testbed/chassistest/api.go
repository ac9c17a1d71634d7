package chassistest

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// The tokens Serve accepts. Tests that check a wrong token derive it from
// these, so that it differs by as little as possible.
const (
	AdminToken = "admin-token-for-tests"
	ReadToken  = "read-token-for-tests"
)

// API is a northbound server of an orchestrator, serving on a loopback
// port over TLS from a CA of its own.
type API struct {
	// Server is the northbound server; Close ends its streams.
	Server *northbound.Server
	// Addr is the host:port it serves on.
	Addr string
	// CA signed the server's certificate; Pool() is what clients trust.
	CA *certs.CA
	// CAFile is the CA certificate in PEM, as fabricctl's --tls-ca takes
	// it (certs.CAFile in a temporary directory).
	CAFile string
}

// Serve serves o's northbound API on 127.0.0.1:0 over TLS, with AdminToken
// and ReadToken; opts come after the tokens, so they override. The server
// is closed at cleanup, before the orchestrator. Serving the same
// orchestrator twice gives two servers that share only what the
// orchestrator holds (its journal, not the operation table). The server
// always has tokens: northbound.WithoutAuth in opts makes NewServer, and
// so the test, fail.
func (c *Chassis) Serve(t testing.TB, o *orchestrator.Orchestrator, opts ...northbound.Option) *API {
	t.Helper()
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatalf("chassistest: CA: %v", err)
	}
	dir := t.TempDir()
	if err := ca.WritePEM(dir); err != nil {
		t.Fatalf("chassistest: CA PEM: %v", err)
	}
	opts = append([]northbound.Option{northbound.WithTokens(northbound.Tokens{
		Admin: []string{AdminToken}, ReadOnly: []string{ReadToken}})}, opts...)
	srv, err := northbound.NewServer(o, opts...)
	if err != nil {
		t.Fatalf("chassistest: northbound server: %v", err)
	}
	a := &API{Server: srv, CA: ca, CAFile: filepath.Join(dir, certs.CAFile)}
	a.Addr = a.Listen(t, nil)
	// Registered after Listen's, so it runs first: closing the server ends
	// its streams, and the gRPC server's Stop, which waits for handlers,
	// does not wait on them.
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

// Listen serves the same server on another loopback port, asking for
// client certificates signed by clientCAs when it is not nil (mutual TLS),
// and returns the address. The listener stops at t's cleanup.
func (a *API) Listen(t testing.TB, clientCAs *x509.CertPool) string {
	t.Helper()
	cert, err := a.CA.Issue("fabricd")
	if err != nil {
		t.Fatalf("chassistest: server certificate: %v", err)
	}
	gs := grpc.NewServer(append(a.Server.ServerOptions(), grpc.Creds(credentials.NewTLS(certs.ServerConfig(cert, clientCAs))))...)
	a.Server.Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chassistest: listen: %v", err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// Dial connects to the API over TLS, sending token ("" sends none). The
// client is closed at cleanup.
func (a *API) Dial(t testing.TB, token string) *northbound.Client {
	t.Helper()
	return DialAPI(t, a.Addr, a.CA.Pool(), token)
}

// DialAPI connects to a northbound API at addr over TLS, trusting roots
// and sending token ("" sends none): for servers the fixture did not start
// (fabricd run in process). The client is closed at cleanup.
func DialAPI(t testing.TB, addr string, roots *x509.CertPool, token string) *northbound.Client {
	t.Helper()
	opts := []northbound.DialOption{northbound.WithTLS(certs.ClientConfig(roots, nil))}
	if token != "" {
		opts = append(opts, northbound.WithToken(token))
	}
	c, err := northbound.Dial(Context(t, Timeout), addr, opts...)
	if err != nil {
		t.Fatalf("chassistest: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RegisterAllAPI registers every switch through the API with cl (an admin
// client) in testbed order, and fails unless switch i became module i+1
// with its own serial, as RegisterAll does through the library.
func (c *Chassis) RegisterAllAPI(t testing.TB, cl *northbound.Client) []*nbpb.Box {
	t.Helper()
	ctx := Context(t, Timeout)
	var boxes []*nbpb.Box
	for i, sw := range c.Switches() {
		box, err := cl.RegisterBox(ctx, &nbpb.RegisterBoxRequest{Name: sw.Name(), Driver: builtin.Emulated,
			Address: sw.Addr(), Role: string(Role(sw)), DeviceId: sw.DeviceID(), Insecure: true})
		if err != nil {
			t.Fatalf("chassistest: register %s over the API: %v", sw.Name(), err)
		}
		checkModule(t, sw, i, box.Module, box.Serial)
		boxes = append(boxes, box)
	}
	return boxes
}

// Watch follows operation id until the server ends the stream and returns
// its final state and every state seen, in order. The stream must carry
// at least one state and end cleanly (io.EOF) before ctx does.
func Watch(t testing.TB, ctx context.Context, cl *northbound.Client, id string) (*nbpb.Operation, []*nbpb.Operation) {
	t.Helper()
	st, err := cl.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: id})
	if err != nil {
		t.Fatalf("chassistest: watch %s: %v", id, err)
	}
	var seen []*nbpb.Operation
	for {
		op, err := st.Recv()
		if err != nil {
			if len(seen) > 0 && errors.Is(err, io.EOF) {
				return seen[len(seen)-1], seen
			}
			t.Fatalf("chassistest: watch %s: %v (after %d states)", id, err, len(seen))
		}
		seen = append(seen, op)
	}
}

// Backup streams a backup of the store through cl (an admin client) and
// returns it whole, failing if a chunk is larger than the server promises
// (northbound.BackupChunkSize).
func Backup(t testing.TB, ctx context.Context, cl *northbound.Client) []byte {
	t.Helper()
	st, err := cl.Backup(ctx, &nbpb.BackupRequest{})
	if err != nil {
		t.Fatalf("chassistest: backup: %v", err)
	}
	var snap bytes.Buffer
	for {
		ch, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return snap.Bytes()
		}
		if err != nil {
			t.Fatalf("chassistest: backup after %d bytes: %v", snap.Len(), err)
		}
		if len(ch.Data) > northbound.BackupChunkSize {
			t.Fatalf("chassistest: backup chunk of %d bytes, more than %d", len(ch.Data), northbound.BackupChunkSize)
		}
		snap.Write(ch.Data)
	}
}
