package erasure

import (
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// maxCachedCoders bounds the Reed-Solomon coders a Decoder keeps, one per
// (k, n) it has met. Manifests come from the network; beyond this many
// shapes a coder is built for the call and dropped.
const maxCachedCoders = 16

// newRS returns a Reed-Solomon coder for k data and m parity shards with
// the options of o. The coding matrix is the library's default (a
// Vandermonde matrix made systematic), which is part of the manifest
// format: shard hashes, and so CIDs, depend on it.
func newRS(o *Options, k, m int) (reedsolomon.Encoder, error) {
	opts := []reedsolomon.Option{
		reedsolomon.WithMaxGoroutines(o.CoderGoroutines),
		reedsolomon.WithInversionCache(true),
	}
	opts = append(opts, o.libOptions...)
	rs, err := reedsolomon.New(k, m, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: reed-solomon k=%d m=%d: %w", ErrInvalidParams, k, m, err)
	}
	return rs, nil
}

// coderCache keeps one coder per shape, so that each keeps its inversion
// cache (the decoding matrices of the patterns of missing shards it met).
type coderCache struct {
	opts *Options
	mu   sync.Mutex
	rs   map[[2]int]reedsolomon.Encoder
}

func newCoderCache(o *Options) *coderCache {
	return &coderCache{opts: o, rs: make(map[[2]int]reedsolomon.Encoder)}
}

func (c *coderCache) get(p Params) (reedsolomon.Encoder, error) {
	key := [2]int{p.DataShards, p.ParityShards}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs, ok := c.rs[key]; ok {
		return rs, nil
	}
	rs, err := newRS(c.opts, p.DataShards, p.ParityShards)
	if err != nil {
		return nil, err
	}
	if len(c.rs) < maxCachedCoders {
		c.rs[key] = rs
	}
	return rs, nil
}
