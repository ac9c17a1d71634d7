package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// Restore makes dir a data directory holding the store that snapshot (the
// output of Snapshot) was taken from: data, revisions, history and leases.
// It refuses a directory that already holds a store (the error wraps
// fs.ErrExist), checks the snapshot is a store of this format before
// putting it in place, and leaves nothing behind when it fails. Open the
// directory afterwards; the leases restart their TTL then.
func Restore(ctx context.Context, snapshot io.Reader, dir string) (err error) {
	if err := store.ValidContext(ctx); err != nil {
		return fmt.Errorf("bolt: restore into %q: %w", dir, err)
	}
	if snapshot == nil || dir == "" {
		return fmt.Errorf("bolt: restore into %q: nil snapshot or empty directory: %w", dir, store.ErrInvalid)
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("bolt: restore into %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bolt: restore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bolt: restore: %w", err)
	}
	f, err := os.CreateTemp(dir, FileName+".restore-*")
	if err != nil {
		return fmt.Errorf("bolt: restore: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(ctxWriter{ctx, f}, snapshot); err != nil {
		return fmt.Errorf("bolt: restore into %s: copy: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bolt: restore into %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bolt: restore into %s: %w", path, err)
	}
	if err := checkFile(tmp); err != nil {
		return fmt.Errorf("bolt: restore into %s: snapshot: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("bolt: restore: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
