package state

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/cockroachdb/pebble/v2"
)

// Default values of Options, applied by EnsureDefaults to zero fields.
const (
	// DefaultKeepVersions is the default Options.KeepVersions.
	DefaultKeepVersions = 100
	// DefaultParallelThreshold is the default Options.ParallelThreshold.
	DefaultParallelThreshold = 256
	// DefaultNodeCacheSize is the default Options.NodeCacheSize.
	DefaultNodeCacheSize = 1 << 17
	// DefaultMaxKeySize is the default Options.MaxKeySize.
	DefaultMaxKeySize = 1 << 10
	// DefaultMaxValueSize is the default Options.MaxValueSize.
	DefaultMaxValueSize = 1 << 20
	// DefaultMaxUpdateLen is the default Options.MaxUpdateLen.
	DefaultMaxUpdateLen = 1 << 20
)

// Options configures a Store. The zero value is valid: EnsureDefaults fills
// in the defaults documented on each field.
type Options struct {
	// KeepVersions is how many of the most recent versions keep their tree
	// nodes, so that RootAt, Prove and GetWithProof work for versions
	// Version()-KeepVersions+1 to Version(). Older nodes are deleted as
	// commits move the window. Default DefaultKeepVersions (100); at least 1.
	KeepVersions uint64

	// NoSync makes Commit return without waiting for its batch to reach
	// stable storage. The default (false) syncs every commit, which the
	// node's crash safety depends on; set it only in tests and benchmarks.
	NoSync bool

	// Parallelism is the most goroutines that compute one commit's subtrees
	// at once. The root does not depend on it. Default
	// runtime.GOMAXPROCS(0); 1 computes sequentially.
	Parallelism int

	// ParallelThreshold is the smallest number of updates below a tree node
	// for which its two subtrees are computed in parallel. Default
	// DefaultParallelThreshold (256).
	ParallelThreshold int

	// NodeCacheSize is how many internal tree nodes are kept in memory
	// (about 300 bytes each). A commit reads the internal nodes on the paths
	// of its keys; a cache as large as the tree (about one internal node per
	// key) serves them all. Default DefaultNodeCacheSize (131072, about 40
	// MB); a negative value disables the cache.
	NodeCacheSize int

	// MaxKeySize is the largest key, of the tree or of a caller record, a
	// Commit accepts. Default DefaultMaxKeySize (1 KiB).
	MaxKeySize int

	// MaxValueSize is the largest value a Commit accepts. Default
	// DefaultMaxValueSize (1 MiB).
	MaxValueSize int

	// MaxUpdateLen is the largest number of entries (tree and caller
	// records together) one Commit accepts. Default DefaultMaxUpdateLen
	// (1,048,576).
	MaxUpdateLen int

	// Logger receives the Store's and, for Open, pebble's logs. Default: a
	// logger that discards everything.
	Logger *slog.Logger

	// Pebble are the options Open passes to pebble.Open (it clones them and
	// sets Logger when they have none). Default: DefaultPebbleOptions(). New
	// ignores this field.
	Pebble *pebble.Options
}

// EnsureDefaults sets every zero field of o to its documented default.
func (o *Options) EnsureDefaults() {
	if o.KeepVersions == 0 {
		o.KeepVersions = DefaultKeepVersions
	}
	if o.Parallelism == 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	if o.ParallelThreshold == 0 {
		o.ParallelThreshold = DefaultParallelThreshold
	}
	if o.NodeCacheSize == 0 {
		o.NodeCacheSize = DefaultNodeCacheSize
	}
	if o.MaxKeySize == 0 {
		o.MaxKeySize = DefaultMaxKeySize
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = DefaultMaxValueSize
	}
	if o.MaxUpdateLen == 0 {
		o.MaxUpdateLen = DefaultMaxUpdateLen
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first invalid setting of o. Call it after
// EnsureDefaults: zero values are invalid for most fields.
func (o *Options) Validate() error {
	var errs []error
	if o.KeepVersions < 1 {
		errs = append(errs, errors.New("KeepVersions must be at least 1"))
	}
	if o.Parallelism < 1 {
		errs = append(errs, fmt.Errorf("Parallelism must be at least 1, got %d", o.Parallelism))
	}
	if o.ParallelThreshold < 2 {
		errs = append(errs, fmt.Errorf("ParallelThreshold must be at least 2, got %d", o.ParallelThreshold))
	}
	if o.MaxKeySize < 1 {
		errs = append(errs, fmt.Errorf("MaxKeySize must be at least 1, got %d", o.MaxKeySize))
	}
	if o.MaxValueSize < 1 {
		errs = append(errs, fmt.Errorf("MaxValueSize must be at least 1, got %d", o.MaxValueSize))
	}
	if o.MaxUpdateLen < 1 {
		errs = append(errs, fmt.Errorf("MaxUpdateLen must be at least 1, got %d", o.MaxUpdateLen))
	}
	if o.Logger == nil {
		errs = append(errs, errors.New("Logger must be set"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("state: invalid options: %w", errors.Join(errs...))
	}
	return nil
}
