package gnoi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// imageMagic starts the header of an emulated OS package.
const imageMagic = "FABRIC-OS/1"

// maxImageHeader bounds the header line of an emulated OS package.
const maxImageHeader = 512

// maxVersionLength bounds a software version string.
const maxVersionLength = 128

// Errors of the emulated OS package format.
var (
	// ErrImageParse: the data is not an emulated OS package (Install
	// answers PARSE_FAIL).
	ErrImageParse = errors.New("not a FABRIC-OS/1 package")
	// ErrImageIntegrity: the payload does not match the header's digest
	// (Install answers INTEGRITY_FAIL).
	ErrImageIntegrity = errors.New("package payload does not match its sha256")
)

// NewImage returns an emulated OS package for version carrying payload (any
// bytes). Its format is one header line followed by the payload:
//
//	FABRIC-OS/1 version=<version> sha256=<hex SHA-256 of the payload>\n
//
// A version is 1 to 128 characters among letters, digits and ._+-:~.
func NewImage(version string, payload []byte) ([]byte, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	header := fmt.Sprintf("%s version=%s sha256=%s\n", imageMagic, version, hex.EncodeToString(sum[:]))
	return append([]byte(header), payload...), nil
}

// ImageVersion returns the version of an emulated OS package after checking
// its digest; the error wraps ErrImageParse or ErrImageIntegrity.
func ImageVersion(image []byte) (string, error) {
	var r imageReader
	_, _ = r.Write(image)
	return r.finish()
}

func checkVersion(v string) error {
	if v == "" || len(v) > maxVersionLength {
		return fmt.Errorf("version %q: want 1 to %d characters", v, maxVersionLength)
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._+-:~", c):
		default:
			return fmt.Errorf("version %q: character %q not allowed (letters, digits and ._+-:~ are)", v, c)
		}
	}
	return nil
}

// imageReader parses an emulated OS package as it streams in, keeping only
// the header and a running digest of the payload.
type imageReader struct {
	header  []byte
	parsed  bool
	version string
	want    []byte
	h       hash.Hash
	n       uint64 // bytes written, header included
	err     error
}

// Write consumes the next bytes of the package. It never fails: errors are
// reported by finish.
func (r *imageReader) Write(p []byte) (int, error) {
	r.n += uint64(len(p))
	if r.err != nil {
		return len(p), nil
	}
	if !r.parsed {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(r.header)+len(p) > maxImageHeader {
				r.err = fmt.Errorf("%w: no header line in the first %d bytes", ErrImageParse, maxImageHeader)
				return len(p), nil
			}
			r.header = append(r.header, p...)
			return len(p), nil
		}
		if len(r.header)+i > maxImageHeader {
			r.err = fmt.Errorf("%w: header longer than %d bytes", ErrImageParse, maxImageHeader)
			return len(p), nil
		}
		r.header = append(r.header, p[:i]...)
		if r.err = r.parseHeader(); r.err != nil {
			return len(p), nil
		}
		r.parsed = true
		r.h.Write(p[i+1:])
		return len(p), nil
	}
	r.h.Write(p)
	return len(p), nil
}

func (r *imageReader) parseHeader() error {
	fields := strings.Fields(string(r.header))
	if len(fields) != 3 || fields[0] != imageMagic {
		return fmt.Errorf("%w: header %.80q", ErrImageParse, r.header)
	}
	v, ok := strings.CutPrefix(fields[1], "version=")
	if !ok {
		return fmt.Errorf("%w: no version= in the header", ErrImageParse)
	}
	if err := checkVersion(v); err != nil {
		return fmt.Errorf("%w: %w", ErrImageParse, err)
	}
	sum, ok := strings.CutPrefix(fields[2], "sha256=")
	if !ok {
		return fmt.Errorf("%w: no sha256= in the header", ErrImageParse)
	}
	want, err := hex.DecodeString(sum)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("%w: sha256 %.80q is not 64 hex digits", ErrImageParse, sum)
	}
	r.version, r.want, r.h = v, want, sha256.New()
	return nil
}

// finish returns the package's version once all of it has been written.
func (r *imageReader) finish() (string, error) {
	if r.err != nil {
		return "", r.err
	}
	if !r.parsed {
		return "", fmt.Errorf("%w: %d bytes without a header line", ErrImageParse, r.n)
	}
	if !bytes.Equal(r.h.Sum(nil), r.want) {
		return "", fmt.Errorf("%w (version %s)", ErrImageIntegrity, r.version)
	}
	return r.version, nil
}
