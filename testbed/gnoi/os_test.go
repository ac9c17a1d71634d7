package gnoi_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	ospb "github.com/openconfig/gnoi/os"
	"google.golang.org/grpc/codes"

	dgnoi "github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed/gnoi"
)

func image(t *testing.T, version string, size int) []byte {
	t.Helper()
	img, err := gnoi.NewImage(version, bytes.Repeat([]byte("fabric"), size/6+1)[:size])
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestInstallActivateReboot is the upgrade: install 2.0.0 on a box running
// 1.0.0, activate it, and the box reboots into 2.0.0.
func TestInstallActivateReboot(t *testing.T) {
	box, c := startBox(t, gnoi.LoopbackConfig{
		Version: "1.0.0",
		Options: []gnoi.Option{gnoi.WithProgressInterval(16 << 10)},
	}, dgnoi.WithChunkSize(4<<10))
	ctx := testCtx(t)
	img := image(t, "2.0.0", 100<<10)

	var progress []dgnoi.InstallProgress
	res, err := c.Install(ctx, "2.0.0", bytes.NewReader(img), dgnoi.WithPackageSize(uint64(len(img))),
		dgnoi.WithProgress(func(p dgnoi.InstallProgress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "2.0.0" || !res.Transferred || res.BytesSent != uint64(len(img)) {
		t.Fatalf("install result %+v", res)
	}
	var received uint64
	for _, p := range progress {
		received = max(received, p.BytesReceived)
	}
	if received < 96<<10 || progress[len(progress)-1].BytesSent != uint64(len(img)) {
		t.Fatalf("progress %+v: want device reports up to 96 KiB and all bytes sent", progress)
	}
	if v, err := c.Verify(ctx); err != nil || v.Version != "1.0.0" {
		t.Fatalf("Verify before activation = %+v, %v", v, err)
	}
	// Installing again transfers nothing.
	res, err = c.Install(ctx, "2.0.0", nil)
	if err != nil || res.Transferred || res.Version != "2.0.0" {
		t.Fatalf("second install = %+v, %v", res, err)
	}

	if err := c.Activate(ctx, "2.0.0", false); err != nil {
		t.Fatal(err)
	}
	v, err := c.WaitVersion(ctx, "2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if v.ActivationFailMessage != "" || box.Boots() != 2 || box.SoftwareVersion() != "2.0.0" {
		t.Fatalf("after activation: %+v, boots %d, version %s", v, box.Boots(), box.SoftwareVersion())
	}
	st, err := c.RebootStatus(ctx)
	if err != nil || st.Count != 1 || st.Method != dgnoi.Cold || st.Active {
		t.Fatalf("reboot status %+v, %v", st, err)
	}
	// The old version is still installed: rolling back is an activation.
	if err := c.Activate(ctx, "1.0.0", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitVersion(ctx, "1.0.0"); err != nil {
		t.Fatal(err)
	}
}

// TestActivateNoReboot: with no_reboot the version waits for the next
// reboot, which any reboot through gNOI provides.
func TestActivateNoReboot(t *testing.T) {
	box, c := startBox(t, gnoi.LoopbackConfig{Version: "1.0.0"})
	ctx := testCtx(t)
	if _, err := c.Install(ctx, "1.1.0", bytes.NewReader(image(t, "1.1.0", 1000))); err != nil {
		t.Fatal(err)
	}
	if err := c.Activate(ctx, "1.1.0", true); err != nil {
		t.Fatal(err)
	}
	if st, err := c.RebootStatus(ctx); err != nil || st.Active {
		t.Fatalf("a reboot is pending after no_reboot: %+v, %v", st, err)
	}
	if v, err := c.Verify(ctx); err != nil || v.Version != "1.0.0" {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
	// Activating the running version cancels the activation...
	if err := c.Activate(ctx, "1.0.0", false); err != nil {
		t.Fatal(err)
	}
	if st, err := c.RebootStatus(ctx); err != nil || st.Active {
		t.Fatalf("activating the running version scheduled a reboot: %+v, %v", st, err)
	}
	// ...and activating again, then rebooting, boots the new version.
	if err := c.Activate(ctx, "1.1.0", true); err != nil {
		t.Fatal(err)
	}
	if err := c.Reboot(ctx, dgnoi.Warm, 0, "pick up 1.1.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitVersion(ctx, "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if box.Boots() != 2 {
		t.Fatalf("boots %d", box.Boots())
	}
}

func TestInstallErrors(t *testing.T) {
	good := image(t, "2.0.0", 5000)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-1] ^= 1
	running := image(t, "1.0.0", 100)
	tests := []struct {
		name     string
		version  string
		image    []byte
		opts     []dgnoi.InstallOption
		wantType ospb.InstallError_Type
		wantErr  error
	}{
		{name: "parse failure", version: "2.0.0", image: []byte("not a package\nat all"), wantType: ospb.InstallError_PARSE_FAIL},
		{name: "no header line", version: "2.0.0", image: bytes.Repeat([]byte("x"), 2000), wantType: ospb.InstallError_PARSE_FAIL},
		{name: "integrity failure", version: "2.0.0", image: corrupt, wantType: ospb.InstallError_INTEGRITY_FAIL},
		{name: "announced too large", version: "2.0.0", image: good, opts: []dgnoi.InstallOption{dgnoi.WithPackageSize(1 << 20)}, wantType: ospb.InstallError_TOO_LARGE},
		{name: "too large", version: "2.0.0", image: image(t, "2.0.0", 70000), wantType: ospb.InstallError_TOO_LARGE},
		{name: "forced transfer of the running version", version: "", image: running, wantType: ospb.InstallError_INSTALL_RUN_PACKAGE},
		{name: "standby supervisor", version: "2.0.0", image: good, opts: []dgnoi.InstallOption{dgnoi.WithStandbySupervisor()}, wantType: ospb.InstallError_NOT_SUPPORTED_ON_BACKUP},
		{name: "bad version string", version: "2.0 0", image: good, wantType: ospb.InstallError_UNSPECIFIED},
		{name: "version mismatch", version: "3.0.0", image: good, wantErr: dgnoi.ErrVersionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := startBox(t, gnoi.LoopbackConfig{Version: "1.0.0", Options: []gnoi.Option{gnoi.WithMaxPackageSize(64 << 10)}})
			ctx := testCtx(t)
			// The running version is known: asking for it transfers nothing.
			if res, err := c.Install(ctx, "1.0.0", nil); err != nil || res.Transferred {
				t.Fatalf("install of the running version = %+v, %v", res, err)
			}
			_, err := c.Install(ctx, tt.version, bytes.NewReader(tt.image), tt.opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			var ie *dgnoi.InstallError
			if !errors.As(err, &ie) || ie.Type != tt.wantType {
				t.Fatalf("error = %v, want InstallError %v", err, tt.wantType)
			}
			// Nothing was installed.
			var ae *dgnoi.ActivateError
			if err := c.Activate(ctx, "2.0.0", true); !errors.As(err, &ae) || ae.Type != ospb.ActivateError_NON_EXISTENT_VERSION {
				t.Fatalf("Activate after a failed install = %v", err)
			}
		})
	}
}

func TestActivateErrors(t *testing.T) {
	_, c := startBox(t, gnoi.LoopbackConfig{})
	ctx := testCtx(t)
	tests := []struct {
		name string
		req  *ospb.ActivateRequest
		want ospb.ActivateError_Type
	}{
		{"unknown version", &ospb.ActivateRequest{Version: "9.9.9"}, ospb.ActivateError_NON_EXISTENT_VERSION},
		{"empty version", &ospb.ActivateRequest{}, ospb.ActivateError_NON_EXISTENT_VERSION},
		{"standby", &ospb.ActivateRequest{Version: "1.0.0", StandbySupervisor: true}, ospb.ActivateError_NOT_SUPPORTED_ON_BACKUP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.OS().Activate(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetActivateError().GetType(); resp.GetActivateError() == nil || got != tt.want {
				t.Fatalf("response %v, want ActivateError %v", resp, tt.want)
			}
		})
	}
	v, err := c.OS().Verify(ctx, &ospb.VerifyRequest{})
	if err != nil || v.GetVersion() != "1.0.0" || v.GetVerifyStandby().GetStandbyState().GetState() != ospb.StandbyState_UNSUPPORTED {
		t.Fatalf("Verify = %v, %v", v, err)
	}
}

// TestInstallProtocol drives Install with the raw protos: messages out of
// order, a stream that ends early, and a concurrent Install.
func TestInstallProtocol(t *testing.T) {
	box, _ := startBox(t, gnoi.LoopbackConfig{})
	client := ospb.NewOSClient(rawConn(t, box.Addr()))
	ctx := testCtx(t)
	transferRequest := &ospb.InstallRequest{Request: &ospb.InstallRequest_TransferRequest{TransferRequest: &ospb.TransferRequest{Version: "2.0.0"}}}
	content := &ospb.InstallRequest{Request: &ospb.InstallRequest_TransferContent{TransferContent: []byte("x")}}

	// expectError sends msgs, closes, and expects exactly an InstallError
	// of type want, then the end of the stream without a gRPC error.
	expectError := func(t *testing.T, want ospb.InstallError_Type, msgs ...*ospb.InstallRequest) {
		t.Helper()
		stream, err := client.Install(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if err := stream.Send(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var got []*ospb.InstallResponse
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("gRPC error %v after %v", err, got)
			}
			got = append(got, resp)
		}
		last := got[len(got)-1].GetInstallError()
		if last == nil || last.GetType() != want {
			t.Fatalf("responses %v, want the last to be InstallError %v", got, want)
		}
	}
	t.Run("content first", func(t *testing.T) { expectError(t, ospb.InstallError_UNSPECIFIED, content) })
	t.Run("empty stream", func(t *testing.T) { expectError(t, ospb.InstallError_UNSPECIFIED) })
	t.Run("empty request", func(t *testing.T) {
		expectError(t, ospb.InstallError_UNSPECIFIED, transferRequest, &ospb.InstallRequest{})
	})
	t.Run("ends before transfer_end", func(t *testing.T) { expectError(t, ospb.InstallError_UNSPECIFIED, transferRequest, content) })
	t.Run("second transfer_request", func(t *testing.T) {
		expectError(t, ospb.InstallError_UNSPECIFIED, transferRequest, content, transferRequest)
	})
	t.Run("concurrent install", func(t *testing.T) {
		first, err := client.Install(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Send(transferRequest); err != nil {
			t.Fatal(err)
		}
		if resp, err := first.Recv(); err != nil || resp.GetTransferReady() == nil {
			t.Fatalf("first install: %v, %v", resp, err)
		}
		expectError(t, ospb.InstallError_INSTALL_IN_PROGRESS, transferRequest)
		first.CloseSend()
		if resp, err := first.Recv(); err != nil || resp.GetInstallError() == nil {
			t.Fatalf("first install after CloseSend: %v, %v", resp, err)
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		box, _ := startBox(t, gnoi.LoopbackConfig{Options: []gnoi.Option{gnoi.WithCredentials("u", "p")}})
		stream, err := ospb.NewOSClient(rawConn(t, box.Addr())).Install(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		wantCode(t, err, codes.Unauthenticated)
	})
}

func TestImage(t *testing.T) {
	img, err := gnoi.NewImage("2.0.0-rc1+build.7", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := gnoi.ImageVersion(img); err != nil || v != "2.0.0-rc1+build.7" {
		t.Fatalf("ImageVersion = %q, %v", v, err)
	}
	for _, bad := range []string{"", "has space", "semi;colon", string(bytes.Repeat([]byte("v"), 129))} {
		if _, err := gnoi.NewImage(bad, nil); err == nil {
			t.Errorf("NewImage(%q) accepted", bad)
		}
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, gnoi.ErrImageParse},
		{"no newline", []byte("FABRIC-OS/1 version=1 sha256=00"), gnoi.ErrImageParse},
		{"wrong magic", []byte("FABRIC-OS/2 version=1 sha256=00\n"), gnoi.ErrImageParse},
		{"bad digest", []byte("FABRIC-OS/1 version=1 sha256=zz\n"), gnoi.ErrImageParse},
		{"no version", append([]byte("FABRIC-OS/1 v=1 "), img[len("FABRIC-OS/1 version=2.0.0-rc1+build.7 "):]...), gnoi.ErrImageParse},
		{"truncated", img[:len(img)-1], gnoi.ErrImageIntegrity},
		{"extended", append(bytes.Clone(img), 'x'), gnoi.ErrImageIntegrity},
		{"long header", append(bytes.Repeat([]byte("x"), 600), '\n'), gnoi.ErrImageParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gnoi.ImageVersion(tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("ImageVersion error = %v, want %v", err, tt.want)
			}
		})
	}
}
