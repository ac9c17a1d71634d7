package gnoi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	filepb "github.com/openconfig/gnoi/file"
	ospb "github.com/openconfig/gnoi/os"
	syspb "github.com/openconfig/gnoi/system"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/internal/certs"
	tgnoi "github.com/p4fabric/fabric/testbed/gnoi"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serve starts a gRPC server with the services register adds, on
// loopback, stopped at the end of the test.
func serve(t *testing.T, register func(*grpc.Server), opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	register(g)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func dial(t *testing.T, addr string, opts ...gnoi.Option) *gnoi.Client {
	t.Helper()
	c, err := gnoi.Dial(addr, append([]gnoi.Option{gnoi.WithInsecure()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// timeOnly implements system.Time and nothing else.
type timeOnly struct {
	syspb.UnimplementedSystemServer
}

func (timeOnly) Time(context.Context, *syspb.TimeRequest) (*syspb.TimeResponse, error) {
	return &syspb.TimeResponse{Time: uint64(time.Now().UnixNano())}, nil
}

// TestUnsupported: a device that implements system.Time only. Every other
// call fails with ErrUnsupported, naming the service and RPC.
func TestUnsupported(t *testing.T) {
	addr := serve(t, func(g *grpc.Server) { syspb.RegisterSystemServer(g, timeOnly{}) })
	c := dial(t, addr)
	ctx := testCtx(t)
	if _, err := c.Time(ctx); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		service, rpc string
		call         func() error
	}{
		{"system", "Reboot", func() error { return c.Reboot(ctx, gnoi.Cold, 0, "") }},
		{"system", "RebootStatus", func() error { _, err := c.RebootStatus(ctx); return err }},
		{"system", "CancelReboot", func() error { return c.CancelReboot(ctx, "") }},
		{"os", "Install", func() error { _, err := c.Install(ctx, "2.0.0", strings.NewReader("image")); return err }},
		{"os", "Activate", func() error { return c.Activate(ctx, "2.0.0", false) }},
		{"os", "Verify", func() error { _, err := c.Verify(ctx); return err }},
		{"os", "Verify", func() error { _, err := c.WaitVersion(ctx, "2.0.0"); return err }},
		{"healthz", "Get", func() error { _, err := c.HealthGet(ctx, gnoi.ComponentPath("chassis")); return err }},
		{"healthz", "List", func() error { _, err := c.HealthList(ctx, gnoi.ComponentPath("chassis"), false); return err }},
		{"healthz", "Acknowledge", func() error { _, err := c.HealthAcknowledge(ctx, gnoi.ComponentPath("chassis"), "1"); return err }},
		{"file", "Get", func() error { _, err := c.FileGet(ctx, "/x", io.Discard); return err }},
		{"file", "Put", func() error { _, err := c.FilePut(ctx, strings.NewReader("data"), "/x", 0o644); return err }},
		{"file", "Stat", func() error { _, err := c.FileStat(ctx, "/"); return err }},
		{"file", "Remove", func() error { return c.FileRemove(ctx, "/x") }},
	}
	for _, tt := range calls {
		t.Run(tt.service+"."+tt.rpc, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, gnoi.ErrUnsupported) {
				t.Fatalf("error = %v, want ErrUnsupported", err)
			}
			var rerr *gnoi.RPCError
			if !errors.As(err, &rerr) || rerr.Service != tt.service || rerr.RPC != tt.rpc {
				t.Fatalf("error %v does not name %s.%s", err, tt.service, tt.rpc)
			}
			if status.Code(err) != codes.Unimplemented {
				t.Fatalf("status.Code = %v", status.Code(err))
			}
			if want := "gnoi " + tt.service + "." + tt.rpc + ": not supported by the device"; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("message %q does not start with %q", err, want)
			}
		})
	}
	// Other failures are not ErrUnsupported.
	_, err := gnoi.New(nil).Time(ctx)
	if errors.Is(err, gnoi.ErrUnsupported) || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("nil connection: %v", err)
	}
}

func TestDial(t *testing.T) {
	tests := []struct {
		name string
		opts []gnoi.Option
		want error
	}{
		{"no security", nil, gnoi.ErrTransportSecurity},
		{"both", []gnoi.Option{gnoi.WithInsecure(), gnoi.WithTLS(&tls.Config{})}, gnoi.ErrTransportSecurity},
		{"nil tls", []gnoi.Option{gnoi.WithTLS(nil)}, gnoi.ErrTransportSecurity},
		{"insecure", []gnoi.Option{gnoi.WithInsecure(), nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := gnoi.Dial("127.0.0.1:1", tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Dial error = %v, want %v", err, tt.want)
			}
			if c != nil {
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(); err != nil {
					t.Fatal("second Close:", err)
				}
			}
		})
	}
}

func TestTLSAndSharedConnection(t *testing.T) {
	ca, err := certs.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("box")
	if err != nil {
		t.Fatal(err)
	}
	box, err := tgnoi.StartLoopbackBox(tgnoi.LoopbackConfig{Version: "1.0.0", TLS: certs.ServerConfig(cert, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	ctx := testCtx(t)

	c, err := gnoi.Dial(box.Addr(), gnoi.WithTLS(certs.ClientConfig(ca.Pool(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Verify(ctx); err != nil || v.Version != "1.0.0" {
		t.Fatalf("Verify over TLS = %+v, %v", v, err)
	}

	plain := dial(t, box.Addr())
	if _, err := plain.Time(ctx); status.Code(err) != codes.Unavailable {
		t.Fatalf("plaintext to a TLS box: %v", err)
	}

	// New shares a connection the caller owns: Close leaves it open.
	conn, err := grpc.NewClient(box.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(certs.ClientConfig(ca.Pool(), nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	shared := gnoi.New(conn)
	if err := shared.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Time(ctx); err != nil {
		t.Fatalf("Time after closing a client that does not own the connection: %v", err)
	}
	if _, err := gnoi.New(conn).OS().Verify(ctx, &ospb.VerifyRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestParseRebootMethod(t *testing.T) {
	tests := []struct {
		in   string
		want gnoi.RebootMethod
		ok   bool
	}{
		{"cold", gnoi.Cold, true},
		{" WARM ", gnoi.Warm, true},
		{"PowerDown", gnoi.PowerDown, true},
		{"halt", gnoi.Halt, true},
		{"nsf", gnoi.NSF, true},
		{"powerup", gnoi.PowerUp, true},
		{"unknown", 0, false},
		{"reset", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := gnoi.ParseRebootMethod(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRebootMethod(%q) = %v, %v", tt.in, got, err)
		}
	}
	c := gnoi.New(nil)
	if err := c.Reboot(context.Background(), gnoi.Cold, -time.Second, ""); err == nil {
		t.Error("negative delay accepted")
	}
}

func TestFileModes(t *testing.T) {
	box, err := tgnoi.StartLoopbackBox(tgnoi.LoopbackConfig{Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	c := dial(t, box.Addr(), gnoi.WithChunkSize(3))
	ctx := testCtx(t)
	for _, mode := range []fs.FileMode{0o644, 0o755, 0o600, 0, 0o777 | fs.ModeSetuid | fs.ModeSticky} {
		if _, err := c.FilePut(ctx, strings.NewReader("some data"), "/m", mode); err != nil {
			t.Fatal(err)
		}
		st, err := c.FileStat(ctx, "/m")
		if err != nil || len(st) != 1 || st[0].Mode != mode || st[0].Size != 9 {
			t.Fatalf("mode %v: Stat = %+v, %v", mode, st, err)
		}
	}
}

// badFiles answers file.Get with contents and a hash that may be wrong.
type badFiles struct {
	filepb.UnimplementedFileServer
	hash *tpb.HashType
}

func (b badFiles) Get(_ *filepb.GetRequest, s filepb.File_GetServer) error {
	if err := s.Send(&filepb.GetResponse{Response: &filepb.GetResponse_Contents{Contents: []byte("data")}}); err != nil {
		return err
	}
	if b.hash == nil {
		return nil
	}
	return s.Send(&filepb.GetResponse{Response: &filepb.GetResponse_Hash{Hash: b.hash}})
}

func TestFileGetHash(t *testing.T) {
	tests := []struct {
		name string
		hash *tpb.HashType
		want error
	}{
		{"no hash", nil, gnoi.ErrHashMismatch},
		{"wrong hash", &tpb.HashType{Method: tpb.HashType_SHA512, Hash: []byte("x")}, gnoi.ErrHashMismatch},
		{"unknown method", &tpb.HashType{Method: tpb.HashType_UNSPECIFIED}, gnoi.ErrHashMismatch},
		{"md5", &tpb.HashType{Method: tpb.HashType_MD5, Hash: []byte{0x8d, 0x77, 0x7f, 0x38, 0x5d, 0x3d, 0xfe, 0xc8, 0x81, 0x5d, 0x20, 0xf7, 0x49, 0x60, 0x26, 0xdc}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, func(g *grpc.Server) { filepb.RegisterFileServer(g, badFiles{hash: tt.hash}) })
			var buf bytes.Buffer
			n, err := dial(t, addr).FileGet(testCtx(t), "/x", &buf)
			if !errors.Is(err, tt.want) || tt.want == nil && err != nil {
				t.Fatalf("FileGet error = %v, want %v", err, tt.want)
			}
			if n != 4 || buf.String() != "data" {
				t.Fatalf("FileGet wrote %d bytes %q", n, buf.String())
			}
		})
	}
}

// scriptedOS answers Install with fixed responses and Verify with a fixed
// answer.
type scriptedOS struct {
	ospb.UnimplementedOSServer
	install []*ospb.InstallResponse
	verify  *ospb.VerifyResponse
}

func (s scriptedOS) Install(stream ospb.OS_InstallServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	for _, r := range s.install {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	return nil
}

func (s scriptedOS) Verify(context.Context, *ospb.VerifyRequest) (*ospb.VerifyResponse, error) {
	return s.verify, nil
}

func TestInstallProtocolErrors(t *testing.T) {
	ready := &ospb.InstallResponse{Response: &ospb.InstallResponse_TransferReady{TransferReady: &ospb.TransferReady{}}}
	valid := &ospb.InstallResponse{Response: &ospb.InstallResponse_Validated{Validated: &ospb.Validated{Version: "2"}}}
	sync := &ospb.InstallResponse{Response: &ospb.InstallResponse_SyncProgress{SyncProgress: &ospb.SyncProgress{PercentageTransferred: 50}}}
	tests := []struct {
		name    string
		script  []*ospb.InstallResponse
		image   io.Reader
		want    error
		wantRes gnoi.InstallResult
	}{
		{"ends at once", nil, strings.NewReader("x"), gnoi.ErrProtocol, gnoi.InstallResult{}},
		{"empty response", []*ospb.InstallResponse{{}}, strings.NewReader("x"), gnoi.ErrProtocol, gnoi.InstallResult{}},
		{"validated during transfer", []*ospb.InstallResponse{ready, valid}, io.LimitReader(zeros{}, 1<<30), gnoi.ErrProtocol, gnoi.InstallResult{}},
		{"ready without image", []*ospb.InstallResponse{ready}, nil, nil, gnoi.InstallResult{}},
		{"synced from the other supervisor", []*ospb.InstallResponse{sync, valid}, nil, nil, gnoi.InstallResult{Version: "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, func(g *grpc.Server) { ospb.RegisterOSServer(g, scriptedOS{install: tt.script}) })
			var progress []gnoi.InstallProgress
			res, err := dial(t, addr).Install(testCtx(t), "2", tt.image, gnoi.WithProgress(func(p gnoi.InstallProgress) { progress = append(progress, p) }))
			switch {
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Install error = %v, want %v", err, tt.want)
			case tt.want == nil && tt.wantRes.Version == "" && err == nil:
				t.Fatal("Install without an image succeeded")
			case tt.want == nil && tt.wantRes.Version != "" && (err != nil || res != tt.wantRes || progress[0].SyncPercent != 50):
				t.Fatalf("Install = %+v, %v, progress %+v", res, err, progress)
			}
		})
	}
}

// zeros reads zeros without end.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestWaitVersion(t *testing.T) {
	t.Run("activation failed", func(t *testing.T) {
		addr := serve(t, func(g *grpc.Server) {
			ospb.RegisterOSServer(g, scriptedOS{verify: &ospb.VerifyResponse{Version: "1", ActivationFailMessage: "kernel panic"}})
		})
		_, err := dial(t, addr).WaitVersion(testCtx(t), "2")
		if !errors.Is(err, gnoi.ErrActivationFailed) || !strings.Contains(err.Error(), "kernel panic") {
			t.Fatalf("error = %v, want ErrActivationFailed", err)
		}
	})
	t.Run("never there", func(t *testing.T) {
		addr := serve(t, func(g *grpc.Server) {
			ospb.RegisterOSServer(g, scriptedOS{verify: &ospb.VerifyResponse{Version: "1"}})
		})
		ctx, cancel := context.WithTimeout(testCtx(t), time.Second)
		defer cancel()
		res, err := dial(t, addr).WaitVersion(ctx, "2")
		if !errors.Is(err, context.DeadlineExceeded) || res.Version != "1" || !strings.Contains(err.Error(), `still runs "1"`) {
			t.Fatalf("WaitVersion = %+v, %v", res, err)
		}
	})
	t.Run("device down", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close()
		ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
		defer cancel()
		_, err = dial(t, addr).WaitVersion(ctx, "2")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitVersion = %v", err)
		}
	})
}

func TestRPCError(t *testing.T) {
	inner := status.Error(codes.NotFound, "no such thing")
	err := &gnoi.RPCError{Service: "file", RPC: "Get", Err: inner}
	if status.Code(err) != codes.NotFound || !errors.Is(err, inner) || errors.Is(err, gnoi.ErrUnsupported) {
		t.Fatalf("RPCError does not expose its status: %v", err)
	}
	if err.Error() != "gnoi file.Get: rpc error: code = NotFound desc = no such thing" {
		t.Fatalf("message %q", err.Error())
	}
	plain := &gnoi.RPCError{Service: "os", RPC: "Install", Err: errors.New("boom")}
	if status.Code(plain) != codes.Unknown {
		t.Fatalf("code of a non-status error: %v", status.Code(plain))
	}
	_ = insecure.NewCredentials
}
