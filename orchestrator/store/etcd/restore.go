package etcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"

	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/store/internal/zapslog"
)

// DefaultClusterToken is etcd's default --initial-cluster-token, used by
// Restore when RestoreConfig.InitialClusterToken is empty.
const DefaultClusterToken = "etcd-cluster"

// RestoreConfig names the member that will run on a restored data
// directory; it must match the member's flags (or embed.Config).
type RestoreConfig struct {
	// Name is the member's name (--name; embed.NewConfig's is "default").
	Name string
	// PeerURLs are the member's advertised peer URLs
	// (--initial-advertise-peer-urls).
	PeerURLs []string
	// InitialCluster lists every member as name=peerURL,... when a
	// cluster of several is restored (each member from the same snapshot);
	// empty means the single member Name=PeerURLs.
	InitialCluster string
	// InitialClusterToken is the new cluster's token; empty means
	// DefaultClusterToken.
	InitialClusterToken string
}

// Restore makes dataDir (which must not exist, or be empty) the data
// directory of a member that starts with the keyspace of snapshot, as
// written by Snapshot or `etcdctl snapshot save`: keys, revisions and
// leases, checked against the snapshot's SHA-256. It is what
//
//	etcdutl snapshot restore snap.db --name NAME --data-dir DIR \
//	    --initial-advertise-peer-urls URL --initial-cluster NAME=URL
//
// does, done in process through etcdutl's library; the cluster gets a new
// identity. Start an etcd member (or an embedded server, see
// etcdtest.WithSnapshot) with that name on the directory. Only WithLogger
// applies of opts. ctx is checked before the restore, which then runs to
// its end.
func Restore(ctx context.Context, snap io.Reader, dataDir string, cfg RestoreConfig, opts ...Option) (err error) {
	if err := store.ValidContext(ctx); err != nil {
		return fmt.Errorf("etcd: restore into %q: %w", dataDir, err)
	}
	if snap == nil || dataDir == "" || cfg.Name == "" || len(cfg.PeerURLs) == 0 {
		return fmt.Errorf("etcd: restore into %q: need a snapshot, a directory, a member name and peer URLs: %w",
			dataDir, store.ErrInvalid)
	}
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("etcd: restore into %q: directory not empty: %w", dataDir, fs.ErrExist)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("etcd: restore: %w", err)
	}
	o := newOptions(opts)
	f, err := os.CreateTemp("", "etcd-restore-*.db")
	if err != nil {
		return fmt.Errorf("etcd: restore into %q: %w", dataDir, err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	if _, err := io.Copy(f, snap); err != nil {
		return fmt.Errorf("etcd: restore into %q: reading the snapshot: %w", dataDir, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("etcd: restore into %q: %w", dataDir, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcd: restore into %q: %w", dataDir, err)
	}
	initial := cfg.InitialCluster
	if initial == "" {
		parts := make([]string, len(cfg.PeerURLs))
		for i, u := range cfg.PeerURLs {
			parts[i] = cfg.Name + "=" + u
		}
		initial = strings.Join(parts, ",")
	}
	token := cfg.InitialClusterToken
	if token == "" {
		token = DefaultClusterToken
	}
	_, statErr := os.Stat(dataDir)
	createdDir := errors.Is(statErr, fs.ErrNotExist)
	defer func() {
		if err == nil {
			return
		}
		if createdDir {
			_ = os.RemoveAll(dataDir)
			return
		}
		entries, _ := os.ReadDir(dataDir) // it was empty: remove what the restore left
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(dataDir, e.Name()))
		}
	}()
	err = snapshot.NewV3(zapslog.New(o.logger)).Restore(snapshot.RestoreConfig{
		SnapshotPath:        f.Name(),
		Name:                cfg.Name,
		OutputDataDir:       dataDir,
		PeerURLs:            cfg.PeerURLs,
		InitialCluster:      initial,
		InitialClusterToken: token,
	})
	if err != nil {
		return fmt.Errorf("etcd: restore into %q: %w", dataDir, err)
	}
	return nil
}
