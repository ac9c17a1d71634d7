package gnoi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strconv"
	"time"

	filepb "github.com/openconfig/gnoi/file"
	tpb "github.com/openconfig/gnoi/types"
)

// ErrHashMismatch: the file the device sent does not match the hash it sent
// with it, or it sent no usable hash.
var ErrHashMismatch = errors.New("gnoi: file hash mismatch")

// FileInfo describes a file on the device (gNOI file.Stat).
type FileInfo struct {
	// Path is the file's path on the device.
	Path string
	// Modified is the time of the last modification (device clock).
	Modified time.Time
	// Mode holds the permission bits.
	Mode fs.FileMode
	// Size is the size in bytes.
	Size uint64
	// Umask is the device's file creation mask.
	Umask fs.FileMode
}

// octalToMode turns the proto's permissions, octal digits written as a
// decimal number (644), into a FileMode (0o644). Digits above 7 make the
// value unusable: it is returned as 0.
func octalToMode(v uint32) fs.FileMode {
	m, err := strconv.ParseUint(strconv.FormatUint(uint64(v), 10), 8, 32)
	if err != nil {
		return 0
	}
	mode := fs.FileMode(m) & fs.ModePerm
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// modeToOctal is the reverse of octalToMode: 0o755 → 755. The setuid,
// setgid and sticky bits become the fourth digit.
func modeToOctal(m fs.FileMode) uint32 {
	v := uint64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	d, _ := strconv.ParseUint(strconv.FormatUint(v, 8), 10, 32) // at most 4 octal digits
	return uint32(d)
}

// FileGet copies the file at remote on the device to w (gNOI file.Get) and
// checks the hash the device sends last (MD5, SHA256 or SHA512); a mismatch
// or a missing hash is ErrHashMismatch, after the bytes were written to w.
// It returns the number of bytes written.
func (c *Client) FileGet(ctx context.Context, remote string, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(c.Context(ctx))
	defer cancel()
	stream, err := c.file.Get(ctx, &filepb.GetRequest{RemoteFile: remote})
	if err != nil {
		return 0, rpcErr("file", "Get", err)
	}
	hashes := map[tpb.HashType_HashMethod]hash.Hash{
		tpb.HashType_MD5: md5.New(), tpb.HashType_SHA256: sha256.New(), tpb.HashType_SHA512: sha512.New(),
	}
	var n int64
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, rpcErr("file", "Get", fmt.Errorf("%w: %s: stream ended without a hash", ErrHashMismatch, remote))
		}
		if err != nil {
			return n, rpcErr("file", "Get", err)
		}
		switch r := resp.GetResponse().(type) {
		case *filepb.GetResponse_Contents:
			for _, h := range hashes {
				h.Write(r.Contents)
			}
			m, err := w.Write(r.Contents)
			n += int64(m)
			if err != nil {
				return n, rpcErr("file", "Get", fmt.Errorf("write %s locally: %w", remote, err))
			}
		case *filepb.GetResponse_Hash:
			h, ok := hashes[r.Hash.GetMethod()]
			if !ok {
				return n, rpcErr("file", "Get", fmt.Errorf("%w: %s: unsupported hash method %s", ErrHashMismatch, remote, r.Hash.GetMethod()))
			}
			if !bytes.Equal(h.Sum(nil), r.Hash.GetHash()) {
				return n, rpcErr("file", "Get", fmt.Errorf("%w: %s: %s of the %d bytes received differs", ErrHashMismatch, remote, r.Hash.GetMethod(), n))
			}
			return n, nil
		default:
			return n, rpcErr("file", "Get", fmt.Errorf("%w: empty or unknown get response %T", ErrProtocol, r))
		}
	}
}

// FilePut writes r to the file at remote on the device with permissions
// perm (gNOI file.Put), in chunks (WithChunkSize), followed by the SHA-256
// of the contents. It returns the number of bytes sent.
func (c *Client) FilePut(ctx context.Context, r io.Reader, remote string, perm fs.FileMode) (int64, error) {
	ctx, cancel := context.WithCancel(c.Context(ctx))
	defer cancel()
	stream, err := c.file.Put(ctx)
	if err != nil {
		return 0, rpcErr("file", "Put", err)
	}
	// A send that fails with io.EOF means the device ended the RPC: its
	// status, from CloseAndRecv, says why.
	fail := func(n int64, err error) (int64, error) {
		if errors.Is(err, io.EOF) {
			_, err = stream.CloseAndRecv()
		}
		return n, rpcErr("file", "Put", err)
	}
	err = stream.Send(&filepb.PutRequest{Request: &filepb.PutRequest_Open{Open: &filepb.PutRequest_Details{
		RemoteFile: remote, Permissions: modeToOctal(perm),
	}}})
	if err != nil {
		return fail(0, err)
	}
	h := sha256.New()
	buf := make([]byte, c.o.chunkSize)
	var n int64
	for {
		m, rerr := io.ReadFull(r, buf)
		if m > 0 {
			h.Write(buf[:m])
			if err := stream.Send(&filepb.PutRequest{Request: &filepb.PutRequest_Contents{Contents: buf[:m]}}); err != nil {
				return fail(n, err)
			}
			n += int64(m)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return n, rpcErr("file", "Put", fmt.Errorf("read local data after %d bytes: %w", n, rerr))
		}
	}
	err = stream.Send(&filepb.PutRequest{Request: &filepb.PutRequest_Hash{Hash: &tpb.HashType{Method: tpb.HashType_SHA256, Hash: h.Sum(nil)}}})
	if err != nil {
		return fail(n, err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return n, rpcErr("file", "Put", err)
	}
	return n, nil
}

// FileStat describes the file at path, or the entries of the directory at
// path (gNOI file.Stat).
func (c *Client) FileStat(ctx context.Context, path string) ([]FileInfo, error) {
	resp, err := c.file.Stat(c.Context(ctx), &filepb.StatRequest{Path: path})
	if err != nil {
		return nil, rpcErr("file", "Stat", err)
	}
	out := make([]FileInfo, 0, len(resp.GetStats()))
	for _, st := range resp.GetStats() {
		fi := FileInfo{Path: st.GetPath(), Mode: octalToMode(st.GetPermissions()), Size: st.GetSize(), Umask: octalToMode(st.GetUmask())}
		if lm := st.GetLastModified(); lm > 0 && lm <= 1<<63-1 {
			fi.Modified = time.Unix(0, int64(lm))
		}
		out = append(out, fi)
	}
	return out, nil
}

// FileRemove removes the file at remote (gNOI file.Remove).
func (c *Client) FileRemove(ctx context.Context, remote string) error {
	_, err := c.file.Remove(c.Context(ctx), &filepb.RemoveRequest{RemoteFile: remote})
	return rpcErr("file", "Remove", err)
}
