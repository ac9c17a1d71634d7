package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// configPrefix is where the chassis config of each committed version is
// kept (the versions themselves keep only the compiled goals).
const configPrefix = "/fabric/config/versions/"

func configKey(version int64) string { return fmt.Sprintf("%s%020d", configPrefix, version) }

// configYAML returns the YAML of version's config, nil when it was not
// recorded (a version committed by txn directly, or before configs were
// kept).
func (o *Orchestrator) configYAML(ctx context.Context, version int64) ([]byte, error) {
	kv, err := o.st.Get(ctx, configKey(version))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("orchestrator: config of version %d: %w", version, err)
	}
	return kv.Value, nil
}

// ErrNoConfig: the version has no recorded chassis config.
var ErrNoConfig = errors.New("orchestrator: no config recorded for the version")

// Config returns the chassis config committed as version (0: the current
// version) and that version's number: the config as given to Commit, before
// any reroute pruned it (reroutes and rollbacks record the config they
// committed from). The error wraps txn.ErrNoVersion when there is no such
// version (or none yet for 0) and ErrNoConfig when the version has no
// recorded config.
func (o *Orchestrator) Config(ctx context.Context, version int64) (*goal.Config, int64, error) {
	if err := o.check(); err != nil {
		return nil, 0, err
	}
	if version == 0 {
		cur, err := o.coord.Current(ctx)
		if err != nil {
			return nil, 0, err
		}
		if cur == nil {
			return nil, 0, fmt.Errorf("orchestrator: config: nothing committed yet: %w", txn.ErrNoVersion)
		}
		version = cur.Number
	}
	y, err := o.configYAML(ctx, version)
	if err != nil {
		return nil, 0, err
	}
	if y == nil {
		if _, err := o.coord.Version(ctx, version); err != nil {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("orchestrator: config of version %d: %w", version, ErrNoConfig)
	}
	cfg, err := goal.Parse(y)
	if err != nil {
		return nil, 0, fmt.Errorf("orchestrator: config of version %d: %w", version, err)
	}
	return cfg, version, nil
}

// Transaction returns the journal record of the transaction (operation)
// id, whatever its state; the error wraps store.ErrNotFound when the
// journal has no such transaction.
func (o *Orchestrator) Transaction(ctx context.Context, id string) (*txn.Record, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.coord.Transaction(ctx, id)
}

// Connected reports whether the orchestrator holds an open device for the
// box with serial.
func (o *Orchestrator) Connected(serial string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	_, ok := o.conns[serial]
	return ok
}
