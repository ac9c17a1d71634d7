package gnoi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"

	filepb "github.com/openconfig/gnoi/file"
	hpb "github.com/openconfig/gnoi/healthz"
	ospb "github.com/openconfig/gnoi/os"
	syspb "github.com/openconfig/gnoi/system"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// nopBox is a Box that only counts reboots.
type nopBox struct {
	mu      sync.Mutex
	version string
	reboots int
}

func (b *nopBox) Reboot(syspb.RebootMethod, string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reboots++
	return nil
}

func (b *nopBox) SoftwareVersion() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

func (b *nopBox) SetSoftwareVersion(v string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.version = v
}

// fakeStream is a server stream fed from a slice, recording what the
// server sends.
type fakeStream[Req, Resp any] struct {
	in     []*Req
	out    []*Resp
	closed bool
}

func (f *fakeStream[Req, Resp]) Recv() (*Req, error) {
	if len(f.in) == 0 {
		return nil, io.EOF
	}
	r := f.in[0]
	f.in = f.in[1:]
	return r, nil
}

func (f *fakeStream[Req, Resp]) Send(r *Resp) error {
	if f.closed {
		return errors.New("send after close")
	}
	f.out = append(f.out, r)
	return nil
}

func (f *fakeStream[Req, Resp]) SendAndClose(r *Resp) error {
	err := f.Send(r)
	f.closed = true
	return err
}

func (f *fakeStream[Req, Resp]) SetHeader(metadata.MD) error  { return nil }
func (f *fakeStream[Req, Resp]) SendHeader(metadata.MD) error { return nil }
func (f *fakeStream[Req, Resp]) SetTrailer(metadata.MD)       {}
func (f *fakeStream[Req, Resp]) Context() context.Context     { return context.Background() }
func (f *fakeStream[Req, Resp]) SendMsg(any) error            { return errors.New("not used") }
func (f *fakeStream[Req, Resp]) RecvMsg(any) error            { return errors.New("not used") }

// splitMessages cuts data into messages, each preceded by a two-byte
// length, and decodes each into a new T; undecodable ones are skipped.
func splitMessages[T any, PT interface {
	*T
	proto.Message
}](data []byte) []*T {
	var out []*T
	for len(data) >= 2 && len(out) < 256 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		n = min(n, len(data))
		var m T
		if proto.Unmarshal(data[:n], PT(&m)) == nil {
			out = append(out, &m)
		}
		data = data[n:]
	}
	return out
}

// joinMessages is the reverse of splitMessages, for seeds.
func joinMessages(msgs ...proto.Message) []byte {
	var out []byte
	for _, m := range msgs {
		b, _ := proto.Marshal(m)
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

func newFuzzServer(t *testing.T) (*Server, *nopBox) {
	box := &nopBox{version: "1.0.0"}
	s, err := New(box, nil, WithMaxPackageSize(4096), WithProgressInterval(64), WithMaxFileSize(4096), WithRebootGrace(0),
		WithHealth(func() []Component {
			return []Component{{Name: "chassis", Healthy: true}, {Name: "1", Parent: "chassis"}, {Name: "x", Parent: "x"}, {Name: "a", Parent: "b"}, {Name: "b", Parent: "a"}}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, box
}

func FuzzInstall(f *testing.F) {
	img, _ := NewImage("2.0.0", []byte("payload"))
	tr := func(v string) *ospb.InstallRequest {
		return &ospb.InstallRequest{Request: &ospb.InstallRequest_TransferRequest{TransferRequest: &ospb.TransferRequest{Version: v}}}
	}
	content := func(b []byte) *ospb.InstallRequest {
		return &ospb.InstallRequest{Request: &ospb.InstallRequest_TransferContent{TransferContent: b}}
	}
	end := &ospb.InstallRequest{Request: &ospb.InstallRequest_TransferEnd{TransferEnd: &ospb.TransferEnd{}}}
	f.Add(joinMessages(tr("2.0.0"), content(img[:10]), content(img[10:]), end))
	f.Add(joinMessages(tr("1.0.0")))
	f.Add(joinMessages(tr(""), content(img), end))
	f.Add(joinMessages(content(img), end))
	f.Add(joinMessages(tr("2.0.0"), content(bytes.Repeat([]byte{'x'}, 5000)), end))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := newFuzzServer(t)
		stream := &fakeStream[ospb.InstallRequest, ospb.InstallResponse]{in: splitMessages[ospb.InstallRequest](data)}
		if err := (&osServer{s: s}).Install(stream); err != nil {
			t.Fatalf("Install returned a gRPC error %v; the proto wants InstallError", err)
		}
		if len(stream.out) == 0 {
			t.Fatal("Install answered nothing")
		}
		for i, r := range stream.out {
			final := r.GetValidated() != nil || r.GetInstallError() != nil
			if final != (i == len(stream.out)-1) {
				t.Fatalf("response %d of %d: %v", i, len(stream.out), r)
			}
		}
		if v := stream.out[len(stream.out)-1].GetValidated(); v != nil {
			resp, err := (&osServer{s: s}).Activate(context.Background(), &ospb.ActivateRequest{Version: v.GetVersion(), NoReboot: true})
			if err != nil || resp.GetActivateOk() == nil {
				t.Fatalf("validated version %q cannot be activated: %v, %v", v.GetVersion(), resp, err)
			}
		}
	})
}

func FuzzFilePut(f *testing.F) {
	open := func(p string, perm uint32) *filepb.PutRequest {
		return &filepb.PutRequest{Request: &filepb.PutRequest_Open{Open: &filepb.PutRequest_Details{RemoteFile: p, Permissions: perm}}}
	}
	content := &filepb.PutRequest{Request: &filepb.PutRequest_Contents{Contents: []byte("abc")}}
	sum := sha256.Sum256([]byte("abc"))
	hash := &filepb.PutRequest{Request: &filepb.PutRequest_Hash{Hash: &tpb.HashType{Method: tpb.HashType_SHA256, Hash: sum[:]}}}
	f.Add(joinMessages(open("/a/b", 644), content, hash))
	f.Add(joinMessages(open("/a/../b", 7777), hash))
	f.Add(joinMessages(open("rel", 644), content, hash))
	f.Add(joinMessages(content, hash))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := newFuzzServer(t)
		msgs := splitMessages[filepb.PutRequest](data)
		stream := &fakeStream[filepb.PutRequest, filepb.PutResponse]{in: msgs}
		err := (&fileServer{s: s}).Put(stream)
		if _, ok := status.FromError(err); !ok {
			t.Fatalf("Put error %v is not a gRPC status", err)
		}
		if err != nil {
			return
		}
		name, _ := cleanPath(msgs[0].GetOpen().GetRemoteFile())
		var want []byte
		for _, m := range msgs[1:] {
			want = append(want, m.GetContents()...)
		}
		got := &fakeStream[filepb.GetRequest, filepb.GetResponse]{}
		if err := (&fileServer{s: s}).Get(&filepb.GetRequest{RemoteFile: name}, got); err != nil {
			t.Fatalf("Get %s after Put: %v", name, err)
		}
		var back []byte
		for _, r := range got.out {
			back = append(back, r.GetContents()...)
		}
		if !bytes.HasPrefix(want, back) {
			t.Fatalf("Get %s = %q, not what was put (%q)", name, back, want)
		}
	})
}

// FuzzUnary calls the unary RPCs with arbitrary requests.
func FuzzUnary(f *testing.F) {
	seed := func(kind byte, m proto.Message) {
		b, _ := proto.Marshal(m)
		f.Add(kind, b)
	}
	seed(0, &syspb.RebootRequest{Method: syspb.RebootMethod_COLD, Delay: 1e9, Message: "m"})
	seed(0, &syspb.RebootRequest{Method: syspb.RebootMethod_POWERUP})
	seed(1, &syspb.RebootStatusRequest{})
	seed(2, &syspb.CancelRebootRequest{Message: "x"})
	seed(3, &ospb.ActivateRequest{Version: "1.0.0"})
	seed(4, &hpb.GetRequest{Path: componentPath("chassis")})
	seed(4, &hpb.GetRequest{Path: componentPath("a")})
	seed(5, &hpb.ListRequest{Path: componentPath("1"), IncludeAcknowledged: true})
	seed(6, &hpb.AcknowledgeRequest{Path: componentPath("1"), Id: "1#1"})
	seed(7, &hpb.CheckRequest{Path: componentPath("x")})
	seed(8, &filepb.StatRequest{Path: "/"})
	seed(9, &filepb.RemoveRequest{RemoteFile: "/a"})
	seed(10, &syspb.TimeRequest{})
	f.Fuzz(func(t *testing.T, kind byte, msg []byte) {
		s, _ := newFuzzServer(t)
		ctx := context.Background()
		sys, osrv, hz, fs := &systemServer{s: s}, &osServer{s: s}, &healthzServer{s: s}, &fileServer{s: s}
		var resp proto.Message
		var err error
		unmarshal := func(m proto.Message) bool { return proto.Unmarshal(msg, m) == nil }
		switch kind % 12 {
		case 0:
			var r syspb.RebootRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = sys.Reboot(ctx, &r)
		case 1:
			var r syspb.RebootStatusRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = sys.RebootStatus(ctx, &r)
		case 2:
			var r syspb.CancelRebootRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = sys.CancelReboot(ctx, &r)
		case 3:
			var r ospb.ActivateRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = osrv.Activate(ctx, &r)
		case 4:
			var r hpb.GetRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = hz.Get(ctx, &r)
		case 5:
			var r hpb.ListRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = hz.List(ctx, &r)
		case 6:
			var r hpb.AcknowledgeRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = hz.Acknowledge(ctx, &r)
		case 7:
			var r hpb.CheckRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = hz.Check(ctx, &r)
		case 8:
			var r filepb.StatRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = fs.Stat(ctx, &r)
		case 9:
			var r filepb.RemoveRequest
			if !unmarshal(&r) {
				return
			}
			resp, err = fs.Remove(ctx, &r)
		case 10:
			resp, err = sys.Time(ctx, &syspb.TimeRequest{})
		case 11:
			resp, err = osrv.Verify(ctx, &ospb.VerifyRequest{})
		}
		if err != nil {
			st, ok := status.FromError(err)
			if !ok || st.Code() == codes.OK || st.Code() == codes.Unknown || st.Code() == codes.Internal {
				t.Fatalf("error %v is not a meaningful gRPC status", err)
			}
			return
		}
		if resp == nil {
			t.Fatal("nil response without an error")
		}
	})
}

func FuzzImage(f *testing.F) {
	img, _ := NewImage("1.2.3", []byte("payload"))
	f.Add(img, 5)
	f.Add([]byte("FABRIC-OS/1 version=x sha256=00\n"), 0)
	f.Add([]byte("\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		v, err := ImageVersion(data)
		if err == nil {
			if checkVersion(v) != nil {
				t.Fatalf("accepted version %q", v)
			}
			again, err := NewImage(v, data[bytes.IndexByte(data, '\n')+1:])
			if err != nil {
				t.Fatal(err)
			}
			if v2, err := ImageVersion(again); err != nil || v2 != v {
				t.Fatalf("rebuilt image: %q, %v", v2, err)
			}
		}
		// Streaming in two writes gives the same answer as one.
		if split < 0 {
			split = -split
		}
		if len(data) > 0 {
			split %= len(data) + 1
		} else {
			split = 0
		}
		var r imageReader
		_, _ = r.Write(data[:split])
		_, _ = r.Write(data[split:])
		v2, err2 := r.finish()
		if v2 != v || (err == nil) != (err2 == nil) {
			t.Fatalf("split at %d: %q, %v; whole: %q, %v", split, v2, err2, v, err)
		}
	})
}
