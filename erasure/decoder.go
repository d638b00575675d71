package erasure

import (
	"context"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"
)

// ShardSource serves the shards of an object, perhaps from several holders.
//
// Get returns shard `shard` of chunk `chunk`, or an error when it has none.
// The Decoder calls Get from several goroutines at once (one per chunk in
// flight), so it must be safe for concurrent use. The Decoder only reads
// the returned bytes and keeps them until the chunk is written; the source
// must not change them before Decode returns.
//
// A source that also implements ShardReporter learns of every shard the
// Decoder skips, so that it can tell which holder served it.
type ShardSource interface {
	Get(ctx context.Context, chunk, shard int) ([]byte, error)
}

// ShardReporter is implemented by a ShardSource that wants to know of the
// shards a Decoder skipped: missing, of the wrong size, or not matching the
// manifest. ReportBadShard is called from several goroutines at once.
type ShardReporter interface {
	ReportBadShard(ctx context.Context, err *ShardError)
}

// Stats count what a Decode did.
type Stats struct {
	// Chunks is the number of chunks written.
	Chunks int64
	// Bytes is the number of content bytes written.
	Bytes int64
	// ShardsFetched is the number of Get calls.
	ShardsFetched int64
	// BadShards is the number of shards skipped: missing, of the wrong
	// size, or not matching the manifest.
	BadShards int64
	// ChunksRebuilt is the number of chunks that needed Reed-Solomon
	// decoding because a data shard was skipped.
	ChunksRebuilt int64
}

// Decoder rebuilds content from the shards of any k holders per chunk,
// streaming, with about 2×Concurrency chunks in memory. It keeps one
// Reed-Solomon coder (and its cache of decoding matrices) per shape of
// manifest it meets. A Decoder is safe for concurrent use.
type Decoder struct {
	opts   Options
	coders *coderCache
}

// NewDecoder returns a Decoder with the given options; nil means all
// defaults. Only Concurrency and CoderGoroutines matter: the coding
// parameters come from each manifest. The options are copied.
func NewDecoder(opts *Options) (*Decoder, error) {
	o, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	d := &Decoder{opts: o}
	d.coders = newCoderCache(&d.opts)
	return d, nil
}

// decJob is one chunk in flight.
type decJob struct {
	index  int
	shards [][]byte
	// scratch holds the data shards that had to be rebuilt.
	scratch []byte
	hasher  *blake3.Hasher
	stats   Stats
}

// Decode writes the content named by id to w.
//
// It first checks m against id (VerifyManifest). Then, for each chunk, it
// fetches shards from src, data shards first. When the k data shards make
// the chunk the manifest's chunk hash names, that check covers them all;
// otherwise each shard is checked against the manifest before use, and a
// missing or wrong shard is skipped, reported to src if it is a
// ShardReporter, and replaced by the next one, until k shards verify. It rebuilds missing data shards, checks the chunk against its
// hash in the manifest, and only then writes it, in order. Bytes reach w
// only once they have verified: after an error, w holds a verified prefix
// of the content, whole chunks.
//
// The check of the CID is complete when Decode returns nil: every chunk
// matched a manifest that matched the CID (a raw CID is refused before
// anything is read).
//
// A chunk with fewer than k good shards fails with a *ChunkError wrapping
// ErrTooFewShards that lists the skipped shards; shards that verify but
// decode to a wrong chunk (a manifest that is not a code word) fail with
// ErrChunkMismatch. Errors of w and of ctx stop Decode; errors of Get are
// skipped shards.
func (d *Decoder) Decode(ctx context.Context, id cid.Cid, m *Manifest, src ShardSource, w io.Writer) (Stats, error) {
	var total Stats
	if err := VerifyManifest(id, m); err != nil {
		return total, err
	}
	if m.NumChunks() == 0 {
		return total, nil
	}
	rs, err := d.coders.get(m.Params())
	if err != nil {
		return total, err
	}
	reporter, _ := src.(ShardReporter)
	n := m.Params().TotalShards()
	next := 0
	err = runOrdered(ctx, d.opts.Concurrency, window(d.opts.Concurrency), stages[decJob]{
		newJob: func() *decJob {
			return &decJob{shards: make([][]byte, n), hasher: blake3.New()}
		},
		next: func(_ context.Context, j *decJob) (bool, error) {
			if next == m.NumChunks() {
				return false, nil
			}
			j.index = next
			next++
			return true, nil
		},
		work: func(ctx context.Context, j *decJob) error {
			return decodeChunk(ctx, rs, m, src, reporter, j)
		},
		emit: func(_ context.Context, j *decJob) error {
			k, rem := m.Params().DataShards, m.ChunkLen(j.index)
			for s := 0; s < k && rem > 0; s++ {
				part := j.shards[s][:min(rem, len(j.shards[s]))]
				if _, err := w.Write(part); err != nil {
					return fmt.Errorf("erasure: write chunk %d: %w", j.index, err)
				}
				rem -= len(part)
			}
			clear(j.shards) // let the source's buffers go
			total.Chunks++
			total.Bytes += int64(m.ChunkLen(j.index))
			total.ShardsFetched += j.stats.ShardsFetched
			total.BadShards += j.stats.BadShards
			total.ChunksRebuilt += j.stats.ChunksRebuilt
			return nil
		},
	})
	return total, err
}

// decodeChunk fetches and verifies k shards of chunk j.index, rebuilds the
// missing data shards and checks the chunk hash. On success j.shards[:k]
// hold the chunk's data shards.
func decodeChunk(ctx context.Context, rs reedsolomon.Encoder, m *Manifest, src ShardSource, reporter ShardReporter, j *decJob) error {
	i := j.index
	p := m.Params()
	k, n := p.DataShards, p.TotalShards()
	j.stats = Stats{}
	clear(j.shards)
	var bad []*ShardError
	skip := func(se *ShardError) {
		bad = append(bad, se)
		j.stats.BadShards++
		if reporter != nil {
			reporter.ReportBadShard(ctx, se)
		}
	}
	// The data shards first, unchecked: when all k are there, the chunk
	// they make is checked against its hash in the manifest, which proves
	// every byte; hashing each shard as well would hash the chunk twice.
	// Only when a data shard is missing or the chunk does not match is
	// each shard checked against the manifest, to skip and report the bad
	// ones and rebuild from parity.
	ss := m.ShardSize(i)
	allData := true
	for s := range k {
		data, err := src.Get(ctx, i, s)
		j.stats.ShardsFetched++
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			skip(&ShardError{Chunk: i, Shard: s, Err: fmt.Errorf("%w: %w", ErrShardUnavailable, err)})
			allData = false
			continue
		}
		if len(data) != ss {
			skip(verifyShard(m, i, s, data))
			allData = false
			continue
		}
		j.shards[s] = data
	}
	if allData && checkChunk(m, i, j.shards[:k], j.hasher) == nil {
		return nil
	}
	good := 0
	for s := range k {
		if j.shards[s] == nil {
			continue
		}
		if se := verifyShard(m, i, s, j.shards[s]); se != nil {
			j.shards[s] = nil
			skip(se)
			continue
		}
		good++
	}
	for s := k; s < n && good < k; s++ {
		data, err := src.Get(ctx, i, s)
		j.stats.ShardsFetched++
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			skip(&ShardError{Chunk: i, Shard: s, Err: fmt.Errorf("%w: %w", ErrShardUnavailable, err)})
			continue
		}
		if se := verifyShard(m, i, s, data); se != nil {
			skip(se)
			continue
		}
		j.shards[s] = data
		good++
	}
	if good < k {
		return &ChunkError{Chunk: i, Err: fmt.Errorf("%w: %d of %d shards verified, need %d", ErrTooFewShards, good, n, k), Shards: bad}
	}
	rebuild := false
	for s := range k {
		if j.shards[s] == nil {
			if !rebuild {
				if cap(j.scratch) < k*ss {
					j.scratch = make([]byte, k*ss)
				}
				rebuild = true
			}
			j.shards[s] = j.scratch[s*ss : s*ss : (s+1)*ss]
		}
	}
	if rebuild {
		if err := rs.ReconstructData(j.shards); err != nil {
			return &ChunkError{Chunk: i, Err: fmt.Errorf("%w: reed-solomon: %w", ErrTooFewShards, err), Shards: bad}
		}
		j.stats.ChunksRebuilt++
	}
	if err := checkChunk(m, i, j.shards[:k], j.hasher); err != nil {
		return &ChunkError{Chunk: i, Err: err, Shards: bad}
	}
	return nil
}

// checkChunk checks that the data shards of chunk i hold the bytes the
// manifest's chunk hash names, followed by zero padding.
func checkChunk(m *Manifest, i int, data [][]byte, h *blake3.Hasher) error {
	h.Reset()
	rem := m.ChunkLen(i)
	for _, part := range data {
		if rem < len(part) {
			for _, b := range part[rem:] {
				if b != 0 {
					return fmt.Errorf("%w: non-zero padding", ErrChunkMismatch)
				}
			}
			part = part[:rem]
		}
		_, _ = h.Write(part) // blake3.Hasher.Write never fails
		rem -= len(part)
	}
	var got Hash
	h.Sum(got[:0])
	if want := m.ChunkHash(i); got != want {
		return fmt.Errorf("%w: hash %s, want %s", ErrChunkMismatch, got, want)
	}
	return nil
}

// Repair says what Reconstruct did.
type Repair struct {
	// Rebuilt are the indices of the shards rebuilt: those missing and
	// those that did not verify, in order.
	Rebuilt []int
	// Bad are the shards that were given but did not verify.
	Bad []*ShardError
}

// Reconstruct rebuilds the missing shards of chunk i of m: the repair path.
// shards has one entry per shard (n); an empty entry is missing. Every
// given shard is checked against the manifest first, and one that does not
// verify is replaced too. Rebuilt shards reuse the memory of an empty
// entry with enough capacity, or are allocated.
//
// Every rebuilt shard, and the chunk they make, is checked against the
// manifest before Reconstruct returns nil, so the shards are then fit to
// store. Fewer than k good shards fail with ErrTooFewShards; shards that
// rebuild to something else than the manifest says fail with
// ErrChunkMismatch. After an error the rebuilt entries are unspecified.
func (d *Decoder) Reconstruct(m *Manifest, i int, shards [][]byte) (Repair, error) {
	var rep Repair
	p := m.Params()
	k, n := p.DataShards, p.TotalShards()
	if i < 0 || i >= m.NumChunks() {
		return rep, fmt.Errorf("%w: chunk %d, manifest has %d", ErrShardIndex, i, m.NumChunks())
	}
	if len(shards) != n {
		return rep, fmt.Errorf("%w: reconstruct chunk %d: %d shards given, want %d", ErrInvalidParams, i, len(shards), n)
	}
	for s, data := range shards {
		if len(data) == 0 {
			rep.Rebuilt = append(rep.Rebuilt, s)
			continue
		}
		if se := verifyShard(m, i, s, data); se != nil {
			rep.Bad = append(rep.Bad, se)
			rep.Rebuilt = append(rep.Rebuilt, s)
			shards[s] = nil // never write into memory that held a bad shard
		}
	}
	if len(rep.Rebuilt) == 0 {
		return rep, nil
	}
	if good := n - len(rep.Rebuilt); good < k {
		return rep, &ChunkError{Chunk: i, Err: fmt.Errorf("%w: %d of %d shards verified, need %d", ErrTooFewShards, good, n, k), Shards: rep.Bad}
	}
	rs, err := d.coders.get(p)
	if err != nil {
		return rep, err
	}
	if err := rs.Reconstruct(shards); err != nil {
		return rep, &ChunkError{Chunk: i, Err: fmt.Errorf("%w: reed-solomon: %w", ErrTooFewShards, err), Shards: rep.Bad}
	}
	for _, s := range rep.Rebuilt {
		if se := verifyShard(m, i, s, shards[s]); se != nil {
			return rep, &ChunkError{Chunk: i, Err: fmt.Errorf("%w: rebuilt %w", ErrChunkMismatch, se), Shards: rep.Bad}
		}
	}
	if err := checkChunk(m, i, shards[:k], blake3.New()); err != nil {
		return rep, &ChunkError{Chunk: i, Err: err, Shards: rep.Bad}
	}
	return rep, nil
}

// Reconstruct is Decoder.Reconstruct with a Decoder of default options. A
// node that repairs often keeps a Decoder instead, which keeps its coders.
func Reconstruct(m *Manifest, i int, shards [][]byte) (Repair, error) {
	d, err := NewDecoder(nil)
	if err != nil {
		return Repair{}, err
	}
	return d.Reconstruct(m, i, shards)
}
