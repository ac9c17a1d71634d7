package gnoi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	filepb "github.com/openconfig/gnoi/file"
	hpb "github.com/openconfig/gnoi/healthz"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dgnoi "github.com/p4fabric/fabric/driver/gnoi"
	"github.com/p4fabric/fabric/testbed/gnoi"
)

// ports is a health source: a chassis and ports, some of them down.
type ports struct {
	mu   sync.Mutex
	down map[string]bool
}

func (p *ports) set(name string, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down[name] = down
}

func (p *ports) components() []gnoi.Component {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []gnoi.Component{{Name: "chassis", Healthy: true}}
	for _, n := range []string{"1", "2", "3"} {
		out = append(out, gnoi.Component{Name: n, Parent: "chassis", Healthy: !p.down[n]})
	}
	return out
}

func TestHealthz(t *testing.T) {
	p := &ports{down: map[string]bool{"2": true}}
	_, c := startBox(t, gnoi.LoopbackConfig{Options: []gnoi.Option{gnoi.WithHealth(p.components)}})
	ctx := testCtx(t)

	chassis, err := c.HealthGet(ctx, dgnoi.ComponentPath("chassis"))
	if err != nil {
		t.Fatal(err)
	}
	if !chassis.Healthy || chassis.Path != "/components/component[name=chassis]" || len(chassis.Subcomponents) != 3 || chassis.Created.IsZero() {
		t.Fatalf("chassis %+v", chassis)
	}
	for i, sub := range chassis.Subcomponents {
		want := i != 1 // port 2 is down
		if sub.Healthy != want {
			t.Errorf("port %s healthy = %v, want %v", sub.Path, sub.Healthy, want)
		}
	}
	port2, err := c.HealthGet(ctx, dgnoi.ComponentPath("2"))
	if err != nil || port2.Status != hpb.Status_STATUS_UNHEALTHY || port2.ID == "" {
		t.Fatalf("port 2: %+v, %v", port2, err)
	}

	// The port comes up: a new event replaces the old one.
	p.set("2", false)
	up, err := c.HealthGet(ctx, dgnoi.ComponentPath("2"))
	if err != nil || !up.Healthy || up.ID == port2.ID {
		t.Fatalf("port 2 after coming up: %+v, %v (old id %s)", up, err, port2.ID)
	}

	// List, Acknowledge, and List again.
	list, err := c.HealthList(ctx, dgnoi.ComponentPath("2"), false)
	if err != nil || len(list) != 1 || list[0].ID != up.ID {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, err := c.HealthAcknowledge(ctx, dgnoi.ComponentPath("2"), "bogus"); err == nil {
		t.Fatal("acknowledged an unknown event")
	}
	acked, err := c.HealthAcknowledge(ctx, dgnoi.ComponentPath("2"), up.ID)
	if err != nil || !acked.Acknowledged {
		t.Fatalf("Acknowledge = %+v, %v", acked, err)
	}
	if list, err := c.HealthList(ctx, dgnoi.ComponentPath("2"), false); err != nil || len(list) != 0 {
		t.Fatalf("List without acknowledged = %+v, %v", list, err)
	}
	if list, err := c.HealthList(ctx, dgnoi.ComponentPath("2"), true); err != nil || len(list) != 1 || !list[0].Acknowledged {
		t.Fatalf("List with acknowledged = %+v, %v", list, err)
	}
	if resp, err := c.Healthz().Check(ctx, &hpb.CheckRequest{Path: dgnoi.ComponentPath("3")}); err != nil || resp.GetStatus().GetStatus() != hpb.Status_STATUS_HEALTHY {
		t.Fatalf("Check = %v, %v", resp, err)
	}

	bad := []struct {
		name string
		path *tpb.Path
		code codes.Code
	}{
		{"unknown component", dgnoi.ComponentPath("99"), codes.NotFound},
		{"no path", nil, codes.InvalidArgument},
		{"not a component", &tpb.Path{Elem: []*tpb.PathElem{{Name: "interfaces"}}}, codes.InvalidArgument},
		{"other origin", &tpb.Path{Origin: "cli", Elem: dgnoi.ComponentPath("chassis").Elem}, codes.InvalidArgument},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := c.HealthGet(ctx, b.path)
			wantCode(t, err, b.code)
		})
	}
	stream, err := c.Healthz().Artifact(ctx, &hpb.ArtifactRequest{Id: "x"})
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.Unimplemented)
}

func TestFiles(t *testing.T) {
	box, c := startBox(t, gnoi.LoopbackConfig{Options: []gnoi.Option{gnoi.WithMaxFileSize(200_000)}}, dgnoi.WithChunkSize(1000))
	ctx := testCtx(t)
	data := bytes.Repeat([]byte("0123456789"), 15000) // 150 KB: three Get chunks
	n, err := c.FilePut(ctx, bytes.NewReader(data), "/etc/sonic/config.json", 0o640)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("FilePut = %d, %v", n, err)
	}
	if _, err := c.FilePut(ctx, strings.NewReader(""), "/etc/empty", 0o600); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if n, err := c.FileGet(ctx, "/etc/sonic/../sonic/config.json", &got); err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("FileGet = %d bytes, %v", n, err)
	}
	st, err := c.FileStat(ctx, "/etc/sonic/config.json")
	if err != nil || len(st) != 1 || st[0].Size != uint64(len(data)) || st[0].Mode != 0o640 || st[0].Modified.IsZero() || st[0].Umask != 0o22 {
		t.Fatalf("Stat file = %+v, %v", st, err)
	}
	st, err = c.FileStat(ctx, "/etc")
	if err != nil || len(st) != 2 || st[0].Path != "/etc/empty" || st[1].Path != "/etc/sonic" || st[1].Mode != 0o755 {
		t.Fatalf("Stat dir = %+v, %v", st, err)
	}
	// Files survive a reboot, as flash does.
	if err := c.Reboot(ctx, dgnoi.Cold, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := box.WaitBoots(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.FileRemove(ctx, "/etc/empty"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.FileRemove(ctx, "/etc/empty"), codes.NotFound)
	wantCode(t, c.FileRemove(ctx, "/etc"), codes.InvalidArgument)
	_, err = c.FileGet(ctx, "/etc/empty", io.Discard)
	wantCode(t, err, codes.NotFound)
	_, err = c.FileGet(ctx, "/etc", io.Discard)
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.FileGet(ctx, "relative", io.Discard)
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.FileStat(ctx, "/nowhere")
	wantCode(t, err, codes.NotFound)
	if st, err := c.FileStat(ctx, "/"); err != nil || len(st) != 1 || st[0].Path != "/etc" {
		t.Fatalf("Stat / = %+v, %v", st, err)
	}

	putErrors := []struct {
		name   string
		remote string
		perm   fs.FileMode
		data   []byte
		code   codes.Code
	}{
		{"directory", "/etc/sonic", 0o644, nil, codes.InvalidArgument},
		{"root", "/", 0o644, nil, codes.InvalidArgument},
		{"under a file", "/etc/sonic/config.json/x", 0o644, nil, codes.InvalidArgument},
		{"relative", "etc/x", 0o644, nil, codes.InvalidArgument},
		{"too large", "/big", 0o644, make([]byte, 200_001), codes.ResourceExhausted},
	}
	for _, tt := range putErrors {
		t.Run("put "+tt.name, func(t *testing.T) {
			_, err := c.FilePut(ctx, bytes.NewReader(tt.data), tt.remote, tt.perm)
			wantCode(t, err, tt.code)
		})
	}
}

// TestFilePutProtocol drives Put with the raw protos.
func TestFilePutProtocol(t *testing.T) {
	_, c := startBox(t, gnoi.LoopbackConfig{})
	ctx := testCtx(t)
	open := func(perm uint32) *filepb.PutRequest {
		return &filepb.PutRequest{Request: &filepb.PutRequest_Open{Open: &filepb.PutRequest_Details{RemoteFile: "/f", Permissions: perm}}}
	}
	contents := &filepb.PutRequest{Request: &filepb.PutRequest_Contents{Contents: []byte("abc")}}
	sum := md5.Sum([]byte("abc"))
	hash := func(m tpb.HashType_HashMethod, h []byte) *filepb.PutRequest {
		return &filepb.PutRequest{Request: &filepb.PutRequest_Hash{Hash: &tpb.HashType{Method: m, Hash: h}}}
	}
	tests := []struct {
		name string
		msgs []*filepb.PutRequest
		code codes.Code
	}{
		{"md5", []*filepb.PutRequest{open(644), contents, hash(tpb.HashType_MD5, sum[:])}, codes.OK},
		{"wrong hash", []*filepb.PutRequest{open(644), contents, hash(tpb.HashType_MD5, []byte("nope"))}, codes.DataLoss},
		{"unspecified hash", []*filepb.PutRequest{open(644), contents, hash(tpb.HashType_UNSPECIFIED, nil)}, codes.InvalidArgument},
		{"no hash", []*filepb.PutRequest{open(644), contents}, codes.InvalidArgument},
		{"no open", []*filepb.PutRequest{contents}, codes.InvalidArgument},
		{"nothing", nil, codes.InvalidArgument},
		{"two opens", []*filepb.PutRequest{open(644), open(644)}, codes.InvalidArgument},
		{"empty message", []*filepb.PutRequest{open(644), {}}, codes.InvalidArgument},
		{"not octal", []*filepb.PutRequest{open(648), contents, hash(tpb.HashType_MD5, sum[:])}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, err := c.File().Put(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.msgs {
				if err := stream.Send(m); err != nil {
					break // the server ended the RPC; CloseAndRecv says why
				}
			}
			_, err = stream.CloseAndRecv()
			wantCode(t, err, tt.code)
		})
	}
	var got bytes.Buffer
	if _, err := c.FileGet(ctx, "/f", &got); err != nil || got.String() != "abc" {
		t.Fatalf("the file the md5 case wrote: %q, %v", got.String(), err)
	}
}

func TestCredentials(t *testing.T) {
	box, good := startBox(t, gnoi.LoopbackConfig{Options: []gnoi.Option{gnoi.WithCredentials("admin", "s3cret")}}, dgnoi.WithCredentials("admin", "s3cret"))
	ctx := testCtx(t)
	if _, err := good.Time(ctx); err != nil {
		t.Fatal(err)
	}
	clients := map[string][]dgnoi.Option{
		"none":           {dgnoi.WithInsecure()},
		"wrong password": {dgnoi.WithInsecure(), dgnoi.WithCredentials("admin", "guess")},
		"wrong user":     {dgnoi.WithInsecure(), dgnoi.WithCredentials("root", "s3cret")},
	}
	for name, opts := range clients {
		t.Run(name, func(t *testing.T) {
			c, err := dgnoi.Dial(box.Addr(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			calls := map[string]error{}
			_, calls["Time"] = c.Time(ctx)
			_, calls["Verify"] = c.Verify(ctx)
			_, calls["HealthGet"] = c.HealthGet(ctx, dgnoi.ComponentPath("chassis"))
			_, calls["FileStat"] = c.FileStat(ctx, "/")
			_, calls["FileGet"] = c.FileGet(ctx, "/x", io.Discard)
			_, calls["FilePut"] = c.FilePut(ctx, strings.NewReader("x"), "/x", 0o644)
			_, calls["RebootStatus"] = c.RebootStatus(ctx)
			calls["Reboot"] = c.Reboot(ctx, dgnoi.Cold, 0, "")
			calls["CancelReboot"] = c.CancelReboot(ctx, "")
			calls["Activate"] = c.Activate(ctx, "1.0.0", true)
			calls["FileRemove"] = c.FileRemove(ctx, "/x")
			_, calls["HealthList"] = c.HealthList(ctx, dgnoi.ComponentPath("chassis"), true)
			_, calls["HealthAcknowledge"] = c.HealthAcknowledge(ctx, dgnoi.ComponentPath("chassis"), "x")
			for call, err := range calls {
				var rerr *dgnoi.RPCError
				if !errors.As(err, &rerr) {
					t.Errorf("%s: error %v is not an RPCError", call, err)
				}
				if code := statusCode(err); code != codes.Unauthenticated {
					t.Errorf("%s: error %v, want UNAUTHENTICATED", call, err)
				}
			}
		})
	}
	if box.Boots() != 1 {
		t.Fatal("an unauthenticated Reboot rebooted the box")
	}
}

func TestWithAuth(t *testing.T) {
	tests := []struct {
		name string
		auth func(context.Context) error
		want codes.Code
	}{
		{"allowed", func(context.Context) error { return nil }, codes.OK},
		{"plain error", func(context.Context) error { return errors.New("who are you") }, codes.Unauthenticated},
		{"status error", func(context.Context) error { return status.Error(codes.PermissionDenied, "read-only user") }, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := startBox(t, gnoi.LoopbackConfig{Options: []gnoi.Option{gnoi.WithAuth(tt.auth), gnoi.WithAuth(nil)}})
			_, err := c.Time(testCtx(t))
			wantCode(t, err, tt.want)
		})
	}
}
