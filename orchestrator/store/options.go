package store

import "fmt"

// PutOption configures a Put or an OpPut.
type PutOption func(*PutConfig)

// PutConfig is what PutOptions set; engines read it through NewPutConfig.
type PutConfig struct {
	// Lease is the lease to attach the key to, or NoLease.
	Lease LeaseID
}

// WithLease attaches the key to a lease: when the lease expires or is
// revoked, the key is deleted.
func WithLease(id LeaseID) PutOption {
	return func(c *PutConfig) { c.Lease = id }
}

// NewPutConfig applies opts, skipping nil ones.
func NewPutConfig(opts ...PutOption) PutConfig {
	var c PutConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Validate returns an error wrapping ErrInvalid for a negative lease ID.
func (c PutConfig) Validate() error {
	if c.Lease < 0 {
		return fmt.Errorf("lease %d: %w", c.Lease, ErrInvalid)
	}
	return nil
}

// RangeOption configures a Range.
type RangeOption func(*RangeConfig)

// RangeConfig is what RangeOptions set; engines read it through
// NewRangeConfig.
type RangeConfig struct {
	// Limit is the most keys returned; 0 means no limit.
	Limit int
	// Start is the first key considered (inclusive); keys before it are
	// skipped. Empty means the prefix itself.
	Start string
}

// WithLimit returns at most n keys; RangeResult.More tells if there are more.
// Zero means no limit; a negative n makes Range fail with ErrInvalid.
func WithLimit(n int) RangeOption {
	return func(c *RangeConfig) { c.Limit = n }
}

// WithStart skips the keys sorted before key. To read the page after a
// RangeResult, pass its last key followed by "\x00".
func WithStart(key string) RangeOption {
	return func(c *RangeConfig) { c.Start = key }
}

// NewRangeConfig applies opts, skipping nil ones.
func NewRangeConfig(opts ...RangeOption) RangeConfig {
	var c RangeConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Validate returns an error wrapping ErrInvalid for a negative limit or an
// oversized start key.
func (c RangeConfig) Validate() error {
	if c.Limit < 0 {
		return fmt.Errorf("limit %d: %w", c.Limit, ErrInvalid)
	}
	if len(c.Start) > MaxKeySize {
		return fmt.Errorf("start key of %d bytes: %w", len(c.Start), ErrInvalid)
	}
	return nil
}

// WatchOption configures a Watch.
type WatchOption func(*WatchConfig)

// WatchConfig is what WatchOptions set; engines read it through
// NewWatchConfig.
type WatchConfig struct {
	// StartRevision is the first revision reported; 0 means the revision
	// after the current one.
	StartRevision int64
}

// WithStartRevision replays the changes from rev on before reporting new
// ones. If rev is older than the history an engine keeps, the watch yields
// one EventError wrapping ErrCompacted.
func WithStartRevision(rev int64) WatchOption {
	return func(c *WatchConfig) { c.StartRevision = rev }
}

// NewWatchConfig applies opts, skipping nil ones.
func NewWatchConfig(opts ...WatchOption) WatchConfig {
	var c WatchConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Validate returns an error wrapping ErrInvalid for a negative start
// revision.
func (c WatchConfig) Validate() error {
	if c.StartRevision < 0 {
		return fmt.Errorf("start revision %d: %w", c.StartRevision, ErrInvalid)
	}
	return nil
}

// ValidPrefix returns an error wrapping ErrInvalid for a prefix longer than
// MaxKeySize. The empty prefix is valid and matches every key.
func ValidPrefix(prefix string) error {
	if len(prefix) > MaxKeySize {
		return fmt.Errorf("prefix of %d bytes: %w", len(prefix), ErrInvalid)
	}
	return nil
}
