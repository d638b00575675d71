package shard

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state"
)

// Defaults of Options.
const (
	// DefaultShards is the default Options.Shards.
	DefaultShards = 64
	// DefaultMaxTxLifetime is the default Options.MaxTxLifetime: two
	// minutes of consensus time.
	DefaultMaxTxLifetime = 120_000
	// DefaultValueCacheSize is the default Options.ValueCacheSize.
	DefaultValueCacheSize = 1 << 17
	// MaxShards bounds Options.Shards.
	MaxShards = 1 << 16
	// MaxWorkers bounds Options.Workers and Options.VerifyWorkers.
	MaxWorkers = 1024
	// parallelMin is the fewest transactions a commit needs before it is
	// executed and decoded on several goroutines; smaller commits run on
	// the caller's goroutine. The result does not depend on it.
	parallelMin = 64
)

// VerifiedSet is a set of transaction digests whose signatures verified
// (Options.Verified). It must be safe for concurrent use.
type VerifiedSet interface {
	// Take removes d and reports whether it was present.
	Take(d crypto.Digest) bool
}

// Options configures an Executor. The zero value is valid but for ChainID:
// EnsureDefaults fills in the defaults documented on each field.
type Options struct {
	// ChainID is the chain the transactions are for, passed to the
	// Machine in Env. Required.
	ChainID string

	// Shards is the number of shards the keyspace is cut into (see
	// ShardOf). Shards are the unit of the schedule: each belongs to one
	// worker's lane. The results do not depend on it. Default
	// DefaultShards (64); 1 to MaxShards.
	Shards int

	// Workers is the number of goroutines that apply transactions, one
	// lane each. The results do not depend on it; 1 executes serially in
	// consensus order. Default runtime.GOMAXPROCS(0).
	Workers int

	// VerifyWorkers is the number of goroutines that batch-verify a
	// commit's signatures (crypto.VerifyAccountBatch). Default
	// runtime.GOMAXPROCS(0).
	VerifyWorkers int

	// MaxTxLifetime bounds, in consensus milliseconds, how far beyond the
	// commit's time a transaction's expiry may be: a transaction with a
	// later expiry is dropped (no receipt). It bounds how long the
	// executor must remember an executed digest to drop its duplicates,
	// and so the memory and disk of the dedup window. Default
	// DefaultMaxTxLifetime (two minutes).
	MaxTxLifetime uint64

	// ValueCacheSize is how many state values (the latest of each key)
	// the executor keeps in memory, so that a key used again does not
	// cost a pebble read. The executor is the store's only writer, so the
	// cache never goes stale; it changes no result. When it outgrows the
	// bound it is emptied. Default DefaultValueCacheSize; negative
	// disables it.
	ValueCacheSize int

	// Genesis, when set, writes the initial state: it runs once, on the
	// empty state, before the transactions of commit 1 and in the same
	// version. Its Store accepts any key. Default nil: the state starts
	// empty.
	Genesis func(st Store) error

	// Verified, when set, holds digests of transactions whose signatures
	// are known to verify (the node's admission verified them): the
	// executor takes each candidate's digest out of it and verifies the
	// others only. Validity is a function of a transaction's bytes, which
	// its digest names, so no result depends on it. Default nil: every
	// signature is verified.
	Verified VerifiedSet

	// GenesisID names the genesis (for instance the hash of its file). It
	// is recorded with commit 1, and New refuses a store that recorded
	// another one. Default zero (no check when both are zero).
	GenesisID crypto.Digest

	// Logger receives the executor's logs. Default: discard.
	Logger *slog.Logger

	// skipVerify treats every signature as valid (benchmarks of the
	// scheduler in this package's tests only).
	skipVerify bool
}

// EnsureDefaults sets every zero field of o to its documented default and
// returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Shards == 0 {
		o.Shards = DefaultShards
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.VerifyWorkers == 0 {
		o.VerifyWorkers = runtime.GOMAXPROCS(0)
	}
	if o.MaxTxLifetime == 0 {
		o.MaxTxLifetime = DefaultMaxTxLifetime
	}
	if o.ValueCacheSize == 0 {
		o.ValueCacheSize = DefaultValueCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports the settings that cannot work. Call EnsureDefaults
// first.
func (o *Options) Validate() error {
	var errs []error
	if o.ChainID == "" {
		errs = append(errs, errors.New("ChainID is required"))
	}
	if o.Shards < 1 || o.Shards > MaxShards {
		errs = append(errs, fmt.Errorf("Shards %d: want 1 to %d", o.Shards, MaxShards))
	}
	if o.Workers < 1 || o.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("Workers %d: want 1 to %d", o.Workers, MaxWorkers))
	}
	if o.VerifyWorkers < 1 || o.VerifyWorkers > MaxWorkers {
		errs = append(errs, fmt.Errorf("VerifyWorkers %d: want 1 to %d", o.VerifyWorkers, MaxWorkers))
	}
	if o.MaxTxLifetime == 0 {
		errs = append(errs, errors.New("MaxTxLifetime must be positive"))
	}
	if o.Logger == nil {
		errs = append(errs, errors.New("call EnsureDefaults before Validate"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shard: invalid options: %w", err)
	}
	return nil
}

// StateStore is the versioned state the executor commits to, as
// *state.Store implements it. Commit versions are commit sequence
// numbers: version s is the state after commit s.
type StateStore interface {
	// Get returns the value of key at the latest version.
	Get(key []byte) ([]byte, bool, error)
	// GetMeta returns a caller record written by an earlier Commit.
	GetMeta(key []byte) ([]byte, bool, error)
	// Version returns the latest committed version.
	Version() uint64
	// Root returns the state root of the latest version.
	Root() crypto.Digest
	// Commit atomically applies upd as version.
	Commit(version uint64, upd *state.Update) (crypto.Digest, error)
}

// MetaReader reads the executor's records (see ReadReceipt and
// ReadCommitRecord); *state.Store implements it.
type MetaReader interface {
	// GetMeta returns a caller record and whether it exists.
	GetMeta(key []byte) ([]byte, bool, error)
	// RootAt returns the state root of a recent version.
	RootAt(version uint64) (crypto.Digest, error)
}
