package txn

import (
	"context"
	"errors"
	"fmt"

	"github.com/p4fabric/fabric/orchestrator/store"
)

// Pending returns the ID of the transaction a coordinator left pending
// (PREPARED or APPLYING): the one Recover would resolve. It returns ""
// when there is none. A caller that must reach the boxes before Recover
// (the orchestrator, on start) asks it first.
func (c *Coordinator) Pending(ctx context.Context) (string, error) {
	kv, err := c.st.Get(ctx, c.keyPending())
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("txn: pending: %w", err)
	}
	return string(kv.Value), nil
}
