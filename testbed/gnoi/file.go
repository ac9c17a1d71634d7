package gnoi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	filepb "github.com/openconfig/gnoi/file"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc/codes"
)

// fileServer implements gnoi.file.File over an in-memory file system: Get,
// Put, Stat and Remove. TransferToRemote is UNIMPLEMENTED.
type fileServer struct {
	filepb.UnimplementedFileServer
	s *Server
}

// memFile is a file of the in-memory file system. Directories are implied
// by the files under them.
type memFile struct {
	data     []byte
	perm     uint32 // octal digits written in decimal, as the proto has them
	modified time.Time
}

// maxPathLength bounds a file path.
const maxPathLength = 4096

// umask is what Stat reports, octal digits written in decimal (022).
const umask = 22

// cleanPath checks that p is an absolute path and returns it cleaned.
func cleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errorf(codes.InvalidArgument, "empty path")
	case len(p) > maxPathLength:
		return "", errorf(codes.InvalidArgument, "path longer than %d bytes", maxPathLength)
	case !strings.HasPrefix(p, "/"):
		return "", errorf(codes.InvalidArgument, "path %q is not absolute", p)
	case strings.IndexByte(p, 0) >= 0:
		return "", errorf(codes.InvalidArgument, "path %q contains a NUL byte", p)
	}
	return path.Clean(p), nil
}

// isDir reports whether p is a directory: the root, or a prefix of a file.
// The caller holds mu.
func (s *Server) isDir(p string) bool {
	if p == "/" {
		return true
	}
	prefix := p + "/"
	for name := range s.files {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// Get streams a file in chunks of ChunkSize followed by its SHA-256. A
// missing file is NOT_FOUND, a directory or a malformed path
// INVALID_ARGUMENT.
func (x *fileServer) Get(req *filepb.GetRequest, stream filepb.File_GetServer) error {
	s := x.s
	if err := s.authorize(stream.Context()); err != nil {
		return err
	}
	p, err := cleanPath(req.GetRemoteFile())
	if err != nil {
		return err
	}
	s.mu.Lock()
	f, ok := s.files[p]
	dir := !ok && s.isDir(p)
	var data []byte
	if ok {
		data = f.data // files are replaced, never modified in place
	}
	s.mu.Unlock()
	switch {
	case dir:
		return errorf(codes.InvalidArgument, "%s is a directory", p)
	case !ok:
		return errorf(codes.NotFound, "%s: no such file", p)
	}
	for off := 0; off < len(data); off += ChunkSize {
		end := min(off+ChunkSize, len(data))
		if err := stream.Send(&filepb.GetResponse{Response: &filepb.GetResponse_Contents{Contents: data[off:end]}}); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(data)
	return stream.Send(&filepb.GetResponse{Response: &filepb.GetResponse_Hash{
		Hash: &tpb.HashType{Method: tpb.HashType_SHA256, Hash: sum[:]},
	}})
}

// Put writes a file: an open message (absolute path, permissions as octal
// digits), contents, then the hash (MD5, SHA256 or SHA512) of the contents.
// The file replaces any file of that name once the hash matches; missing
// directories are implied. Errors: INVALID_ARGUMENT for messages out of
// order, a malformed path, a path that is a directory or lies under a file,
// permissions that are not octal, an unspecified hash method, or a stream
// that ends without a hash (nothing is written); DATA_LOSS when the hash
// does not match; RESOURCE_EXHAUSTED beyond the maximum file size.
func (x *fileServer) Put(stream filepb.File_PutServer) error {
	s := x.s
	if err := s.authorize(stream.Context()); err != nil {
		return err
	}
	req, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return errorf(codes.InvalidArgument, "stream ended before the open message")
	}
	if err != nil {
		return err
	}
	open := req.GetOpen()
	if open == nil {
		return errorf(codes.InvalidArgument, "the first message must be open, got %T", req.GetRequest())
	}
	p, err := cleanPath(open.GetRemoteFile())
	if err != nil {
		return err
	}
	if p == "/" {
		return errorf(codes.InvalidArgument, "/ is a directory")
	}
	perm := open.GetPermissions()
	if !octalDigits(perm) {
		return errorf(codes.InvalidArgument, "permissions %d are not octal digits (such as 644)", perm)
	}
	if err := s.checkPutPath(p); err != nil {
		return err
	}
	var data bytes.Buffer
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return errorf(codes.InvalidArgument, "stream ended without a hash after %d bytes; %s not written", data.Len(), p)
		}
		if err != nil {
			return err
		}
		switch r := req.GetRequest().(type) {
		case *filepb.PutRequest_Contents:
			if int64(data.Len())+int64(len(r.Contents)) > s.cfg.maxFileSize {
				return errorf(codes.ResourceExhausted, "%s: file larger than %d bytes", p, s.cfg.maxFileSize)
			}
			data.Write(r.Contents)
		case *filepb.PutRequest_Hash:
			if err := checkHash(r.Hash, data.Bytes()); err != nil {
				return err
			}
			if err := s.checkPutPath(p); err != nil { // the tree may have changed meanwhile
				return err
			}
			s.mu.Lock()
			s.files[p] = &memFile{data: bytes.Clone(data.Bytes()), perm: perm, modified: s.clock.Now()}
			s.mu.Unlock()
			return stream.SendAndClose(&filepb.PutResponse{})
		case *filepb.PutRequest_Open:
			return errorf(codes.InvalidArgument, "a second open message")
		default:
			return errorf(codes.InvalidArgument, "empty or unknown put request %T", r)
		}
	}
}

// checkPutPath checks that a file may be written at p: p is not a
// directory and no parent of p is a file.
func (s *Server) checkPutPath(p string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isDir(p) {
		return errorf(codes.InvalidArgument, "%s is a directory", p)
	}
	for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
		if _, ok := s.files[dir]; ok {
			return errorf(codes.InvalidArgument, "%s: parent %s is a file", p, dir)
		}
	}
	return nil
}

func octalDigits(v uint32) bool {
	if v > 7777 {
		return false
	}
	for ; v > 0; v /= 10 {
		if v%10 > 7 {
			return false
		}
	}
	return true
}

func checkHash(h *tpb.HashType, data []byte) error {
	var f hash.Hash
	switch h.GetMethod() {
	case tpb.HashType_MD5:
		f = md5.New()
	case tpb.HashType_SHA256:
		f = sha256.New()
	case tpb.HashType_SHA512:
		f = sha512.New()
	default:
		return errorf(codes.InvalidArgument, "hash method %s is not supported (MD5, SHA256, SHA512 are)", h.GetMethod())
	}
	f.Write(data)
	if !bytes.Equal(f.Sum(nil), h.GetHash()) {
		return errorf(codes.DataLoss, "%s hash of the %d bytes received does not match", h.GetMethod(), len(data))
	}
	return nil
}

// Stat describes a file, or the entries directly in a directory (files,
// and subdirectories with size 0 and permissions 755). A path that is
// neither is NOT_FOUND.
func (x *fileServer) Stat(ctx context.Context, req *filepb.StatRequest) (*filepb.StatResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	p, err := cleanPath(req.GetPath())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[p]; ok {
		return &filepb.StatResponse{Stats: []*filepb.StatInfo{statInfo(p, f)}}, nil
	}
	if !s.isDir(p) {
		return nil, errorf(codes.NotFound, "%s: no such file or directory", p)
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	entries := map[string]*filepb.StatInfo{}
	for name, f := range s.files {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if child, _, deeper := strings.Cut(rest, "/"); deeper {
			if _, seen := entries[child]; !seen {
				entries[child] = &filepb.StatInfo{Path: prefix + child, Permissions: 755, Umask: umask}
			}
		} else {
			entries[child] = statInfo(name, f)
		}
	}
	resp := &filepb.StatResponse{}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		resp.Stats = append(resp.Stats, entries[name])
	}
	return resp, nil
}

func statInfo(p string, f *memFile) *filepb.StatInfo {
	return &filepb.StatInfo{
		Path:         p,
		LastModified: nonNegativeNanos(f.modified),
		Permissions:  f.perm,
		Size:         uint64(len(f.data)),
		Umask:        umask,
	}
}

// Remove deletes a file. A missing file is NOT_FOUND, a directory
// INVALID_ARGUMENT.
func (x *fileServer) Remove(ctx context.Context, req *filepb.RemoveRequest) (*filepb.RemoveResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	p, err := cleanPath(req.GetRemoteFile())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[p]; !ok {
		if s.isDir(p) {
			return nil, errorf(codes.InvalidArgument, "%s is a directory", p)
		}
		return nil, errorf(codes.NotFound, "%s: no such file", p)
	}
	delete(s.files, p)
	return &filepb.RemoveResponse{}, nil
}
