package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// bbolt maps its file into memory and trusts what it reads there: a file
// shorter than its meta page says makes it fault (SIGBUS) past the end, and
// a damaged page can send it far outside the file, or round in a loop. So
// before bbolt opens a file it did not write itself, this package reads
// the file's structure on its own, with bounds on everything:
//
//   - checkSize (every Open): the newest valid meta page, and a file long
//     enough for it;
//   - checkStructure (Restore): every page reachable from the root bucket
//     and the freelist is inside the file, referenced once and of the type
//     its place calls for (bbolt compares page flags for equality), every
//     element of every page lies inside its page.
//
// Layout (bbolt v1.x, machine byte order): a page is a 16-byte header
// id(8) flags(2) count(2) overflow(4) followed by count elements and spans
// overflow+1 pages. A meta page holds magic(4) version(4) pageSize(4)
// flags(4) root(8) sequence(8) freelist(8) pgid(8) txid(8) checksum(8),
// the checksum being FNV-1a 64 of the 56 bytes before it and pgid the
// number of pages in use. A branch element is pos(4) ksize(4) pgid(8), a
// leaf element flags(4) pos(4) ksize(4) vsize(4), pos counting from the
// element; a leaf whose flags have bit 0 set is a bucket: root(8)
// sequence(8), then, for root 0, an inline leaf page.
const (
	pageHeaderSize = 16
	elementSize    = 16
	metaSize       = 64
	boltMagic      = 0xED0CDAED
	boltVersion    = 2

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
	flagBucket   = 0x01

	noFreelist = ^uint64(0)
	maxPage    = 1 << 16 // the largest page size looked for
)

var ne = binary.NativeEndian

type metaPage struct {
	pageSize uint64
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

func parseMeta(b []byte) (metaPage, bool) {
	if len(b) < pageHeaderSize+metaSize {
		return metaPage{}, false
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if ne.Uint32(m[0:]) != boltMagic || ne.Uint32(m[4:]) != boltVersion || ne.Uint64(m[56:]) != h.Sum64() {
		return metaPage{}, false
	}
	p := metaPage{pageSize: uint64(ne.Uint32(m[8:])), root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]),
		pgid: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}
	if p.pageSize < 512 || p.pageSize > maxPage || p.pageSize&(p.pageSize-1) != 0 {
		return metaPage{}, false
	}
	return p, true
}

// newestMeta picks the meta page bbolt would use from the head of a file:
// the valid one of the two with the higher transaction ID.
func newestMeta(head []byte) (metaPage, error) {
	best, found := parseMeta(head)
	sizes := []uint64{4096, 512, 1024, 2048, 8192, 16384, 32768, 65536}
	if found {
		sizes = []uint64{best.pageSize}
	}
	for _, ps := range sizes {
		if uint64(len(head)) <= ps {
			continue
		}
		if m, ok := parseMeta(head[ps:]); ok && (!found || m.txid > best.txid) {
			best, found = m, true
			break
		}
	}
	if !found {
		return metaPage{}, fmt.Errorf("no valid bbolt meta page: %w", ErrCorrupt)
	}
	return best, nil
}

// checkSize returns an error wrapping ErrCorrupt if the bbolt file at path
// is non-empty and shorter than its newest valid meta page says, or has no
// valid meta page. An empty or missing file passes: bbolt initialises it.
func checkSize(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return nil
	}
	head := make([]byte, maxPage+pageHeaderSize+metaSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	m, err := newestMeta(head[:n])
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if m.pgid > uint64(st.Size())/m.pageSize {
		return fmt.Errorf("%s: truncated: %d bytes, its meta page needs %d pages of %d: %w",
			path, st.Size(), m.pgid, m.pageSize, ErrCorrupt)
	}
	return nil
}

// structure walks the pages of a bbolt file held in memory.
type structure struct {
	b    []byte
	meta metaPage
	seen map[uint64]bool
}

// checkStructure returns an error wrapping ErrCorrupt if the bbolt file b
// is not sound (see the top of this file).
func checkStructure(b []byte) error {
	m, err := newestMeta(b)
	if err != nil {
		return err
	}
	if m.pgid > uint64(len(b))/m.pageSize || m.pgid < 3 {
		return fmt.Errorf("%d bytes for %d pages of %d: %w", len(b), m.pgid, m.pageSize, ErrCorrupt)
	}
	s := &structure{b: b, meta: m, seen: map[uint64]bool{0: true, 1: true}}
	if err := s.tree(m.root, 0); err != nil {
		return err
	}
	if m.freelist == noFreelist {
		return nil
	}
	p, flags, count, err := s.page(m.freelist)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	if flags != flagFreelist {
		return fmt.Errorf("freelist page %d has flags %#x: %w", m.freelist, flags, ErrCorrupt)
	}
	ids := p[pageHeaderSize:]
	n := uint64(count)
	if count == 0xFFFF {
		if len(ids) < 8 {
			return fmt.Errorf("freelist page %d too short: %w", m.freelist, ErrCorrupt)
		}
		n, ids = ne.Uint64(ids), ids[8:]
	}
	if n > uint64(len(ids))/8 {
		return fmt.Errorf("freelist page %d: %d IDs do not fit: %w", m.freelist, n, ErrCorrupt)
	}
	for i := range n {
		if id := ne.Uint64(ids[i*8:]); id < 2 || id >= m.pgid || (s.seen[id] && id != m.freelist) {
			return fmt.Errorf("freelist page %d frees page %d, in use or out of range: %w", m.freelist, id, ErrCorrupt)
		}
	}
	return nil
}

// page returns page id with its overflow pages, after checking they are
// inside the file and not referenced before.
func (s *structure) page(id uint64) (p []byte, flags, count uint16, err error) {
	if id < 2 || id >= s.meta.pgid {
		return nil, 0, 0, fmt.Errorf("page %d out of range [2, %d): %w", id, s.meta.pgid, ErrCorrupt)
	}
	off := id * s.meta.pageSize
	h := s.b[off : off+pageHeaderSize]
	overflow := uint64(ne.Uint32(h[12:]))
	if ne.Uint64(h) != id || overflow >= s.meta.pgid-id {
		return nil, 0, 0, fmt.Errorf("page %d: header id %d, overflow %d: %w", id, ne.Uint64(h), overflow, ErrCorrupt)
	}
	for i := id; i <= id+overflow; i++ {
		if s.seen[i] {
			return nil, 0, 0, fmt.Errorf("page %d referenced twice: %w", i, ErrCorrupt)
		}
		s.seen[i] = true
	}
	return s.b[off : off+(overflow+1)*s.meta.pageSize], ne.Uint16(h[8:]), ne.Uint16(h[10:]), nil
}

// tree checks the b-tree rooted at page id.
func (s *structure) tree(id uint64, depth int) error {
	if depth > 64 {
		return fmt.Errorf("b-tree deeper than 64 at page %d: %w", id, ErrCorrupt)
	}
	p, flags, count, err := s.page(id)
	if err != nil {
		return err
	}
	switch {
	case flags == flagBranch:
		for i := range uint64(count) {
			e, eoff, err := element(p, i)
			if err != nil {
				return fmt.Errorf("branch page %d: %w", id, err)
			}
			if _, err := span(p, eoff, uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))); err != nil {
				return fmt.Errorf("branch page %d: %w", id, err)
			}
			if err := s.tree(ne.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	case flags == flagLeaf:
		return s.leaf(p, count, depth)
	default:
		return fmt.Errorf("page %d in a b-tree has flags %#x: %w", id, flags, ErrCorrupt)
	}
}

// leaf checks the elements of a leaf page (or inline page) p.
func (s *structure) leaf(p []byte, count uint16, depth int) error {
	for i := range uint64(count) {
		e, eoff, err := element(p, i)
		if err != nil {
			return err
		}
		ksize, vsize := uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
		kv, err := span(p, eoff, uint64(ne.Uint32(e[4:])), ksize+vsize)
		if err != nil {
			return fmt.Errorf("leaf element at %d: %w", eoff, err)
		}
		if ne.Uint32(e[0:])&flagBucket == 0 {
			continue
		}
		v := kv[ksize:]
		if len(v) < 16 {
			return fmt.Errorf("bucket value of %d bytes: %w", len(v), ErrCorrupt)
		}
		if root := ne.Uint64(v); root != 0 {
			if err := s.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[16:]
		if len(inline) < pageHeaderSize || ne.Uint16(inline[8:]) != flagLeaf {
			return fmt.Errorf("inline bucket page: %w", ErrCorrupt)
		}
		if err := s.leaf(inline, ne.Uint16(inline[10:]), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// element returns element i of page p and its offset.
func element(p []byte, i uint64) ([]byte, uint64, error) {
	off := pageHeaderSize + i*elementSize
	if off+elementSize > uint64(len(p)) {
		return nil, 0, fmt.Errorf("element %d beyond its page: %w", i, ErrCorrupt)
	}
	return p[off : off+elementSize], off, nil
}

// span returns the n bytes at pos from the element at offset eoff of page p.
func span(p []byte, eoff, pos, n uint64) ([]byte, error) {
	start := eoff + pos // both below 2^33: no overflow
	if start > uint64(len(p)) || n > uint64(len(p))-start {
		return nil, fmt.Errorf("key or value beyond its page: %w", ErrCorrupt)
	}
	return p[start : start+n], nil
}

// checkFile checks that the file at path is a sound bbolt file holding a
// store of this format whose records all decode.
func checkFile(path string) (err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return fmt.Errorf("empty file: %w", ErrCorrupt)
	}
	if err := checkStructure(b); err != nil {
		return err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w (%w)", ErrCorrupt, err)
	}
	defer db.Close()
	// Belt and braces: should bbolt still trip on the file, fail, not crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bbolt: %v: %w", r, ErrCorrupt)
		}
	}()
	return db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("no meta bucket: %w", ErrCorrupt)
		}
		if f, ok := readU64(meta.Get(metaFormat)); !ok || f != formatVersion {
			return fmt.Errorf("format %x, want %d: %w", meta.Get(metaFormat), formatVersion, ErrCorrupt)
		}
		for _, k := range [][]byte{metaRev, metaCompact, metaLease} {
			if _, ok := readU64(meta.Get(k)); !ok {
				return fmt.Errorf("meta %s missing: %w", k, ErrCorrupt)
			}
		}
		for _, name := range [][]byte{bucketKV, bucketHistory, bucketLeases, bucketLeaseKeys} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("no %s bucket: %w", name, ErrCorrupt)
			}
		}
		err := tx.Bucket(bucketKV).ForEach(func(k, v []byte) error {
			_, err := decodeRecord(string(k), v)
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketHistory).ForEach(func(k, v []byte) error {
			if _, ok := historyRev(k); !ok {
				return fmt.Errorf("history key %x: %w", k, ErrCorrupt)
			}
			_, err := decodeEvent(v)
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketLeases).ForEach(func(k, v []byte) error {
			_, ok1 := readU64(k)
			_, ok2 := readU64(v)
			if !ok1 || !ok2 {
				return fmt.Errorf("lease record %x: %w", k, ErrCorrupt)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLeaseKeys).ForEach(func(k, _ []byte) error {
			if len(k) < 8 {
				return fmt.Errorf("lease key %x: %w", k, ErrCorrupt)
			}
			return nil
		})
	})
}
