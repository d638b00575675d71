package erasure

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/klauspost/reedsolomon"
)

// Limits of the coding parameters. They bound what an Options value and a
// decoded Manifest may ask for, so that bytes from the network can never
// make this package allocate more than a few chunks at a time.
const (
	// DefaultChunkSize is the default number of content bytes coded together.
	DefaultChunkSize = 1 << 20
	// MinChunkSize is the smallest chunk size accepted.
	MinChunkSize = 1 << 10
	// MaxChunkSize is the largest chunk size accepted.
	MaxChunkSize = 64 << 20
	// MaxShards is the largest total number of shards n per chunk: the
	// Reed-Solomon code works over GF(2^8).
	MaxShards = 256
	// MaxChunks is the largest number of chunks in one object: a 1 TiB
	// object at the default chunk size. It bounds the manifest.
	MaxChunks = 1 << 20
	// MaxConcurrency is the largest accepted Options.Concurrency.
	MaxConcurrency = 1024
)

// Defaults of Options. The default shard counts are those of a committee of
// four validators with equal stake: f = 1, so any k = f+1 = 2 of the n = 4
// shards rebuild a chunk (see CommitteeShards).
const (
	// DefaultDataShards is the default k.
	DefaultDataShards = 2
	// DefaultParityShards is the default n-k.
	DefaultParityShards = 2
	// DefaultCoderGoroutines is the default number of goroutines the
	// Reed-Solomon library may use on one chunk. On small machines the
	// library's own goroutines slow 1 MiB chunks down; this package runs
	// chunks in parallel instead (Options.Concurrency).
	DefaultCoderGoroutines = 1
)

// ErrInvalidParams is wrapped by every error about coding parameters or
// options that are out of range.
var ErrInvalidParams = errors.New("erasure: invalid parameters")

// Params are the coding parameters of one object. They are recorded in its
// Manifest and are part of what its CID names: the same bytes coded with
// other Params get another CID.
type Params struct {
	// ChunkSize is the number of content bytes coded together; the last
	// chunk may be shorter.
	ChunkSize int
	// DataShards is k: any k shards of a chunk rebuild it.
	DataShards int
	// ParityShards is n-k, the number of shards that may be lost.
	ParityShards int
}

// TotalShards returns n, the number of shards of each chunk.
func (p Params) TotalShards() int { return p.DataShards + p.ParityShards }

// Validate reports whether p is within the limits of this package.
func (p Params) Validate() error {
	switch {
	case p.ChunkSize < MinChunkSize || p.ChunkSize > MaxChunkSize:
		return fmt.Errorf("%w: chunk size %d outside [%d, %d]", ErrInvalidParams, p.ChunkSize, MinChunkSize, MaxChunkSize)
	case p.DataShards < 1:
		return fmt.Errorf("%w: data shards %d, need at least 1", ErrInvalidParams, p.DataShards)
	case p.ParityShards < 1:
		return fmt.Errorf("%w: parity shards %d, need at least 1", ErrInvalidParams, p.ParityShards)
	case p.DataShards > MaxShards || p.ParityShards > MaxShards || p.TotalShards() > MaxShards:
		return fmt.Errorf("%w: %d data + %d parity shards exceed %d", ErrInvalidParams, p.DataShards, p.ParityShards, MaxShards)
	}
	return nil
}

// String returns a short form of p for logs, such as "k=2 n=4 chunk=1048576".
func (p Params) String() string {
	return fmt.Sprintf("k=%d n=%d chunk=%d", p.DataShards, p.TotalShards(), p.ChunkSize)
}

// CommitteeShards returns the shard counts for a committee of the given
// number of validators of equal stake, one shard per validator: f is the
// largest number below one third of them, k = f+1 so that the shards of
// the honest validators always suffice, and n is the committee size. A
// committee needs at least two validators. With unequal stake the engine
// computes k itself and sets Options.DataShards.
func CommitteeShards(validators int) (dataShards, parityShards int, err error) {
	if validators < 2 || validators > MaxShards {
		return 0, 0, fmt.Errorf("%w: committee of %d validators, need 2 to %d", ErrInvalidParams, validators, MaxShards)
	}
	f := (validators - 1) / 3
	return f + 1, validators - (f + 1), nil
}

// Options configure an Encoder or a Decoder. The zero value of every field
// means its default; call EnsureDefaults, then Validate.
type Options struct {
	// ChunkSize is the number of content bytes coded together.
	// Default DefaultChunkSize (1 MiB); range [MinChunkSize, MaxChunkSize].
	// A Decoder takes the chunk size from the manifest instead.
	ChunkSize int
	// DataShards is k, the number of shards that rebuild a chunk.
	// Default DefaultDataShards (2, f+1 for a committee of four).
	// A Decoder takes it from the manifest instead.
	DataShards int
	// ParityShards is n-k. Default DefaultParityShards (2).
	// A Decoder takes it from the manifest instead.
	ParityShards int
	// Concurrency is the number of chunks coded at the same time, each on
	// its own goroutine. Memory in use is about 2×Concurrency chunks with
	// their parity. Default runtime.GOMAXPROCS(0) when EnsureDefaults runs;
	// range [1, MaxConcurrency].
	Concurrency int
	// CoderGoroutines is the number of goroutines the Reed-Solomon library
	// may use inside one chunk. Default DefaultCoderGoroutines (1): the
	// parallelism is across chunks. Range [1, MaxShards].
	CoderGoroutines int

	// libOptions are extra options for the Reed-Solomon library. Only the
	// tests set them, to compare its SIMD paths with its generic code.
	libOptions []reedsolomon.Option
}

// EnsureDefaults fills the zero fields of o with their defaults and returns
// o. A nil o is allocated.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.DataShards == 0 {
		o.DataShards = DefaultDataShards
	}
	if o.ParityShards == 0 {
		o.ParityShards = DefaultParityShards
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.CoderGoroutines == 0 {
		o.CoderGoroutines = DefaultCoderGoroutines
	}
	return o
}

// Validate reports whether every field of o is in range. Call it after
// EnsureDefaults.
func (o *Options) Validate() error {
	if o == nil {
		return fmt.Errorf("%w: nil options", ErrInvalidParams)
	}
	if err := o.Params().Validate(); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return fmt.Errorf("%w: concurrency %d outside [1, %d]", ErrInvalidParams, o.Concurrency, MaxConcurrency)
	}
	if o.CoderGoroutines < 1 || o.CoderGoroutines > MaxShards {
		return fmt.Errorf("%w: coder goroutines %d outside [1, %d]", ErrInvalidParams, o.CoderGoroutines, MaxShards)
	}
	return nil
}

// Params returns the coding parameters of o.
func (o *Options) Params() Params {
	return Params{ChunkSize: o.ChunkSize, DataShards: o.DataShards, ParityShards: o.ParityShards}
}

// prepare copies opts, fills its defaults and validates it.
func prepare(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}
