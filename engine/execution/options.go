package execution

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/shard"
	"github.com/dagd/dagd/state"
)

// DefaultAdmissionNonceWindow is the default Options.AdmissionNonceWindow.
const DefaultAdmissionNonceWindow = 1024

// Options configures the node's executor: the token module run by package
// shard behind consensus, on the state kept in DataDir/state. Zero values
// mean defaults.
type Options struct {
	// Disabled runs consensus only: no state, no receipts. Default false.
	Disabled bool
	// Shards cuts the keyspace for the parallel schedule (shard.Options).
	// It changes no result. Default shard.DefaultShards.
	Shards int
	// Workers apply transactions in parallel. Default GOMAXPROCS.
	Workers int
	// VerifyWorkers batch-verify signatures. Default GOMAXPROCS.
	VerifyWorkers int
	// MaxTxLifetime bounds how far beyond a commit's consensus time a
	// transaction's expiry may be (later: dropped), and so the dedup
	// window. Every validator must use the same value. Default 2 minutes.
	MaxTxLifetime time.Duration
	// KeepVersions is how many recent state versions keep their tree
	// nodes, so that GET /v1/state?seq= can prove values at them.
	// Default 100.
	KeepVersions uint64
	// CacheSize is the state database's pebble block cache in bytes.
	// Default 64 MiB: every transaction reads its accounts and objects
	// through it, and with less the reads of a busy executor go to disk
	// blocks more often than not.
	CacheSize int64
	// MemTableSize is the state database's pebble memtable size in
	// bytes. Default 64 MiB (tree nodes are rewritten at every commit).
	MemTableSize uint64
	// NodeCacheSize is how many internal tree nodes the state keeps in
	// memory (about 300 bytes each; a tree has about 1.45 per key).
	// Default state.DefaultNodeCacheSize (131072, about 40 MB).
	NodeCacheSize int
	// Params are the token module's rules; every validator must use the
	// same. Zero fields take contracts' defaults.
	Params contracts.Params
	// SubscriptionBuffer is the default buffer of an execution
	// subscription (Executor.Subscribe, engine.Node.SubscribeExecution).
	// Default 1024 commits.
	SubscriptionBuffer int
	// AdmissionNonceWindow is how far beyond an account's next nonce (in
	// the last executed state) a submitted transaction's nonce may be:
	// one further is refused at admission (nonce_too_far), since it can
	// only be dropped at execution. It must cover how far a client's
	// transactions may run ahead of execution. Default
	// DefaultAdmissionNonceWindow (1024).
	AdmissionNonceWindow uint64 `toml:"admission_nonce_window"`
	// AdmitOpaque lets admission pass submitted bytes that do not decode
	// as a transaction, for consensus benchmarks and tests with opaque
	// load (the devnet sets it): they are ordered, then dropped at
	// execution as malformed, without a receipt. Bytes that decode are
	// checked all the same. Default false: refused (malformed).
	AdmitOpaque bool `toml:"admit_opaque"`
}

// EnsureDefaults fills the zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.MaxTxLifetime <= 0 {
		o.MaxTxLifetime = shard.DefaultMaxTxLifetime * time.Millisecond
	}
	if o.KeepVersions == 0 {
		o.KeepVersions = state.DefaultKeepVersions
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 64 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
	}
	if o.NodeCacheSize == 0 {
		o.NodeCacheSize = state.DefaultNodeCacheSize
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = 1024
	}
	if o.AdmissionNonceWindow == 0 {
		o.AdmissionNonceWindow = DefaultAdmissionNonceWindow
	}
	o.Params.EnsureDefaults()
}

// Validate checks the options (with defaults applied) of a node of chain
// chainID starting from genesis g (nil: none).
func (o *Options) Validate(chainID string, g *contracts.Genesis) error {
	if o.Disabled {
		return nil
	}
	var errs []error
	if o.MaxTxLifetime < time.Millisecond {
		errs = append(errs, fmt.Errorf("Execution.MaxTxLifetime %v below 1 ms", o.MaxTxLifetime))
	}
	if err := o.Params.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("Execution.Params: %w", err))
	}
	if g != nil {
		if g.ChainID != chainID {
			errs = append(errs, fmt.Errorf("Genesis is for chain %q, the node's is %q", g.ChainID, chainID))
		}
		if err := g.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stateDir is where a node keeps its state, beside the consensus store.
func stateDir(dataDir string) string { return filepath.Join(dataDir, "state") }
