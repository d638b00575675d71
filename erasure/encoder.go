package erasure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"
)

// UnknownSize tells Encoder.Encode to read the content until io.EOF.
const UnknownSize int64 = -1

// ShardSink receives the shards an Encoder makes.
//
// Put is called from one goroutine at a time, in order: the n shards of
// chunk 0 in shard order, then those of chunk 1, and so on. data is only
// valid during the call: the Encoder reuses its memory afterwards, so a
// sink that keeps the bytes must copy them. A sink's error stops Encode.
//
// The shards are provisional until Encode returns the manifest: when it
// fails, no manifest names them and the sink should discard what it has
// received. A holder that receives a shard over the network checks it
// with VerifyShard against the manifest before it stores it for good.
type ShardSink interface {
	Put(ctx context.Context, chunk, shard int, data []byte) error
}

// Encoder cuts content into chunks and codes each into n shards, any k of
// which rebuild it, streaming: it holds about 2×Concurrency chunks (with
// their parity) whatever the length of the content, plus the manifest
// (32×(n+1) bytes per chunk). An Encoder is safe for concurrent use.
type Encoder struct {
	opts   Options
	params Params
	rs     reedsolomon.Encoder
	// fullBuf is the size of the buffer of a full chunk and its parity.
	fullBuf int
	// bufs recycles buffers of fullBuf bytes between calls.
	bufs sync.Pool
}

// NewEncoder returns an Encoder with the given options; nil means all
// defaults. The options are copied.
func NewEncoder(opts *Options) (*Encoder, error) {
	o, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	p := o.Params()
	rs, err := newRS(&o, p.DataShards, p.ParityShards)
	if err != nil {
		return nil, err
	}
	return &Encoder{
		opts:    o,
		params:  p,
		rs:      rs,
		fullBuf: p.TotalShards() * ceilDiv(p.ChunkSize, p.DataShards),
	}, nil
}

// Params returns the coding parameters of e.
func (e *Encoder) Params() Params { return e.params }

// encJob is one chunk in flight: its bytes, parity and hashes.
type encJob struct {
	index    int
	chunkLen int
	// buf holds the chunk's n shards back to back: the content, the zero
	// padding of the last data shard, then the parity shards.
	buf         []byte
	shards      [][]byte
	chunkHash   Hash
	shardHashes []Hash
}

// Encode reads the content from r chunk by chunk, hands each chunk's n
// shards to sink, and returns the object's CID and Manifest.
//
// size is the length of the content, or UnknownSize to read until io.EOF.
// With a size, content that ends early fails with ErrTruncated and content
// that goes on fails with ErrTooLong; either way no manifest is returned.
// An error of r fails Encode too, wrapped: a truncated upload never yields
// a CID. Content of more than MaxChunks chunks fails with ErrTooLong.
//
// Cancelling ctx stops Encode between reads of r; a Read that blocks is
// waited for, since Encode never returns while it still uses r.
func (e *Encoder) Encode(ctx context.Context, r io.Reader, size int64, sink ShardSink) (cid.Cid, *Manifest, error) {
	if size < 0 && size != UnknownSize {
		return cid.Undef, nil, fmt.Errorf("%w: content size %d", ErrInvalidParams, size)
	}
	if size > 0 {
		if _, ok := numChunks(uint64(size), e.params.ChunkSize); !ok {
			return cid.Undef, nil, fmt.Errorf("%w: %d bytes need more than %d chunks of %d bytes", ErrTooLong, size, MaxChunks, e.params.ChunkSize)
		}
	}
	k, n := e.params.DataShards, e.params.TotalShards()
	builder := newManifestBuilder(e.params, size)
	var jobs []*encJob
	defer func() {
		for _, j := range jobs {
			if cap(j.buf) == e.fullBuf {
				b := j.buf[:e.fullBuf]
				e.bufs.Put(&b)
			}
		}
	}()

	var (
		index int
		read  int64
		atEOF bool
		one   [1]byte
	)
	// atEnd reports whether the content is over, and fails if the reader
	// holds more than it may.
	atEnd := func() (bool, error) {
		if atEOF {
			return true, nil
		}
		if size >= 0 && read < size {
			return false, nil
		}
		if size < 0 && index < MaxChunks {
			return false, nil
		}
		// Exactly size bytes (or MaxChunks chunks) are read: the reader
		// must be at its end.
		nr, err := readChunk(r, one[:])
		switch {
		case nr > 0:
			if size >= 0 {
				return false, fmt.Errorf("%w: more than the declared %d bytes", ErrTooLong, size)
			}
			return false, fmt.Errorf("%w: more than %d chunks of %d bytes", ErrTooLong, MaxChunks, e.params.ChunkSize)
		case err == io.EOF:
			return true, nil
		default:
			return false, readError(err, index, read)
		}
	}

	err := runOrdered(ctx, e.opts.Concurrency, window(e.opts.Concurrency), stages[encJob]{
		newJob: func() *encJob {
			j := &encJob{shards: make([][]byte, n), shardHashes: make([]Hash, n)}
			jobs = append(jobs, j)
			return j
		},
		next: func(ctx context.Context, j *encJob) (bool, error) {
			end, err := atEnd()
			if err != nil || end {
				return false, err
			}
			want := e.params.ChunkSize
			if size >= 0 {
				want = int(min(int64(want), size-read))
			}
			e.ensureBuf(j, n*ceilDiv(want, k))
			nr, err := readChunk(r, j.buf[:want])
			read += int64(nr)
			switch {
			case err == io.EOF:
				atEOF = true
			case err != nil:
				return false, readError(err, index, read)
			}
			if nr < want {
				if size >= 0 {
					return false, fmt.Errorf("%w: read %d of %d bytes", ErrTruncated, read, size)
				}
				if nr == 0 {
					return false, nil // the content ended on a chunk boundary
				}
			}
			j.index, j.chunkLen = index, nr
			index++
			return true, nil
		},
		work: func(_ context.Context, j *encJob) error {
			return encodeChunk(e.rs, k, n, j)
		},
		emit: func(ctx context.Context, j *encJob) error {
			for s, data := range j.shards {
				if err := sink.Put(ctx, j.index, s, data); err != nil {
					return fmt.Errorf("erasure: put chunk %d shard %d: %w", j.index, s, err)
				}
			}
			builder.add(j.chunkLen, j.chunkHash, j.shardHashes)
			return nil
		},
	})
	if err != nil {
		return cid.Undef, nil, err
	}
	m := builder.manifest()
	return m.CID(), m, nil
}

// maxEmptyReads is how many reads in a row may return nothing and no error
// before the reader is deemed broken.
const maxEmptyReads = 100

// readChunk reads into buf until it is full or r fails. Unlike io.ReadFull
// it returns io.EOF only when r does, so that an io.ErrUnexpectedEOF from r
// (a body cut short) is never taken for the end of the content.
func readChunk(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		nr, err := r.Read(buf[n:])
		if nr < 0 || nr > len(buf)-n {
			return n, fmt.Errorf("erasure: reader returned %d bytes for a %d-byte read", nr, len(buf)-n)
		}
		n += nr
		if err != nil {
			return n, err
		}
		if nr == 0 {
			if empty++; empty >= maxEmptyReads {
				return n, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return n, nil
}

// readError wraps an error of the content's reader.
func readError(err error, chunk int, read int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: read chunk %d after %d bytes: %w", ErrTruncated, chunk, read, err)
	}
	return fmt.Errorf("erasure: read chunk %d after %d bytes: %w", chunk, read, err)
}

// ensureBuf gives j a buffer of need bytes, from the pool when it is the
// size of a full chunk.
func (e *Encoder) ensureBuf(j *encJob, need int) {
	if cap(j.buf) < need {
		if need == e.fullBuf {
			if b, ok := e.bufs.Get().(*[]byte); ok {
				j.buf = *b
			} else {
				j.buf = make([]byte, e.fullBuf)
			}
		} else {
			j.buf = make([]byte, need)
		}
	}
	j.buf = j.buf[:need]
}

// encodeChunk pads j's chunk, computes its parity and hashes the chunk and
// its shards.
func encodeChunk(rs reedsolomon.Encoder, k, n int, j *encJob) error {
	ss := ceilDiv(j.chunkLen, k)
	buf := j.buf[:n*ss]
	clear(buf[j.chunkLen : k*ss])
	for s := range n {
		j.shards[s] = buf[s*ss : (s+1)*ss : (s+1)*ss]
	}
	j.chunkHash = Sum(buf[:j.chunkLen])
	if err := rs.Encode(j.shards); err != nil {
		return fmt.Errorf("erasure: encode chunk %d: %w", j.index, err)
	}
	for s, data := range j.shards {
		j.shardHashes[s] = Sum(data)
	}
	return nil
}

// window is the number of chunks in flight for a concurrency: one being
// read or written besides each being coded, and some slack.
func window(concurrency int) int { return 2*concurrency + 1 }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
