package erasure

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of this package. Every error it returns wraps one of them (or
// ErrInvalidParams, or the error of a reader, writer, sink, source or
// context), so callers test them with errors.Is.
var (
	// ErrMalformedManifest: manifest bytes that do not decode.
	ErrMalformedManifest = errors.New("erasure: malformed manifest")
	// ErrMalformedCID: a CID that does not parse, or is not a CIDv1 with a
	// 32-byte BLAKE3 multihash and the raw or the manifest codec.
	ErrMalformedCID = errors.New("erasure: malformed CID")
	// ErrManifestMismatch: a manifest that the CID does not name.
	ErrManifestMismatch = errors.New("erasure: manifest does not match CID")
	// ErrShardUnavailable: the source could not serve a shard.
	ErrShardUnavailable = errors.New("erasure: shard unavailable")
	// ErrShardSize: a shard of the wrong length.
	ErrShardSize = errors.New("erasure: shard has the wrong size")
	// ErrShardMismatch: a shard whose BLAKE3 hash is not the manifest's.
	ErrShardMismatch = errors.New("erasure: shard does not match its manifest hash")
	// ErrShardIndex: a chunk or shard index outside the manifest.
	ErrShardIndex = errors.New("erasure: shard index out of range")
	// ErrTooFewShards: fewer than k shards of a chunk verified.
	ErrTooFewShards = errors.New("erasure: too few valid shards to rebuild chunk")
	// ErrChunkMismatch: shards that all match the manifest but decode to
	// bytes that do not match the chunk hash. The manifest itself is
	// inconsistent: its shards are not one Reed-Solomon code word of the
	// chunk it names.
	ErrChunkMismatch = errors.New("erasure: decoded chunk does not match its manifest hash")
	// ErrTruncated: the content ended before its declared size.
	ErrTruncated = errors.New("erasure: content truncated")
	// ErrTooLong: the content goes on past its declared size, or past
	// MaxChunks chunks.
	ErrTooLong = errors.New("erasure: content too long")
)

// ShardError names one shard that could not be used: missing at its source,
// of the wrong size, or not matching the manifest. Err wraps
// ErrShardUnavailable, ErrShardSize, ErrShardMismatch or ErrShardIndex.
type ShardError struct {
	// Chunk is the index of the chunk.
	Chunk int
	// Shard is the index of the shard in the chunk, in [0, n).
	Shard int
	// Err says what is wrong with the shard.
	Err error
}

// Error implements error.
func (e *ShardError) Error() string {
	return fmt.Sprintf("chunk %d shard %d: %v", e.Chunk, e.Shard, e.Err)
}

// Unwrap returns e.Err.
func (e *ShardError) Unwrap() error { return e.Err }

// ChunkError is returned when a chunk cannot be rebuilt. Err wraps
// ErrTooFewShards or ErrChunkMismatch; Shards lists the shards that were
// skipped. errors.As finds the first of them as a *ShardError.
type ChunkError struct {
	// Chunk is the index of the chunk.
	Chunk int
	// Err says why the chunk could not be rebuilt.
	Err error
	// Shards are the shards that were skipped, in shard order.
	Shards []*ShardError
}

// Error implements error.
func (e *ChunkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chunk %d: %v", e.Chunk, e.Err)
	if len(e.Shards) > 0 {
		b.WriteString(" (skipped:")
		for i, s := range e.Shards {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " shard %d: %v", s.Shard, s.Err)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns e.Err followed by the shard errors.
func (e *ChunkError) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Shards))
	errs = append(errs, e.Err)
	for _, s := range e.Shards {
		errs = append(errs, s)
	}
	return errs
}
