package gnoi_test

import (
	"context"
	"testing"
	"time"

	dgnoi "github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed/gnoi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startBox starts a loopback box and a client for it, both closed at the
// end of the test.
func startBox(t *testing.T, cfg gnoi.LoopbackConfig, opts ...dgnoi.Option) (*gnoi.LoopbackBox, *dgnoi.Client) {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "1.0.0"
	}
	if cfg.BootDelay == 0 {
		cfg.BootDelay = 50 * time.Millisecond
	}
	box, err := gnoi.StartLoopbackBox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	c, err := dgnoi.Dial(box.Addr(), append([]dgnoi.Option{dgnoi.WithInsecure()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return box, c
}

// rawConn dials addr in plaintext for the generated clients.
func rawConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("error = %v (code %v), want code %v", err, got, want)
	}
}

func statusCode(err error) codes.Code { return status.Code(err) }
