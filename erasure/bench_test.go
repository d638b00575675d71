package erasure

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"

	"github.com/dagd/dagd/internal/cputime"
)

// Results and the command that produced them are in bench/erasure.md.

var benchShapes = [][2]int{{2, 4}, {3, 7}, {4, 10}}

const benchChunk = 1 << 20

// cpuMeter reports throughput per second of CPU time used by the whole
// process ("MB/cpu-s") beside the wall-clock MB/s. On a machine shared with
// other work the wall clock measures the neighbours as much as the code;
// CPU time does not. A variant that spreads over c cores can reach about
// c × MB/cpu-s of wall-clock throughput on an idle machine.
type cpuMeter struct {
	start time.Duration
	bytes int64
}

func startCPU(b *testing.B, bytesPerOp int64) cpuMeter {
	b.SetBytes(bytesPerOp)
	return cpuMeter{start: cputime.Process(), bytes: bytesPerOp}
}

func (c cpuMeter) stop(b *testing.B) {
	used := cputime.Process() - c.start
	if used > 0 && c.start > 0 {
		b.ReportMetric(float64(c.bytes)*float64(b.N)/used.Seconds()/1e6, "MB/cpu-s")
	}
}

// libraryDefault undoes this package's choice of one goroutine per chunk:
// the library's own default is 384 goroutines (split by cache size).
var libraryDefault = []reedsolomon.Option{reedsolomon.WithMaxGoroutines(384)}

// rawShards splits chunk into k data shards and m parity shards the way
// this package does.
func rawShards(chunk []byte, k, m int) [][]byte {
	ss := ceilDiv(len(chunk), k)
	buf := make([]byte, (k+m)*ss)
	copy(buf, chunk)
	shards := make([][]byte, k+m)
	for s := range shards {
		shards[s] = buf[s*ss : (s+1)*ss : (s+1)*ss]
	}
	return shards
}

// BenchmarkEncodeChunk codes one 1 MiB chunk: the raw library with its
// default goroutines and with one, and this package's chunk path (the same
// coder plus BLAKE3 of the chunk and of its n shards). Throughput is of
// content bytes.
func BenchmarkEncodeChunk(b *testing.B) {
	chunk := randBytes(1, benchChunk)
	for _, kn := range benchShapes {
		k, m := kn[0], kn[1]-kn[0]
		name := fmt.Sprintf("k=%d,n=%d", k, k+m)
		b.Run(name+"/raw-library-default", func(b *testing.B) {
			rs, err := reedsolomon.New(k, m)
			if err != nil {
				b.Fatal(err)
			}
			shards := rawShards(chunk, k, m)
			meter := startCPU(b, benchChunk)
			for b.Loop() {
				if err := rs.Encode(shards); err != nil {
					b.Fatal(err)
				}
			}
			meter.stop(b)
		})
		b.Run(name+"/raw-1-goroutine", func(b *testing.B) {
			rs, err := reedsolomon.New(k, m, reedsolomon.WithMaxGoroutines(1))
			if err != nil {
				b.Fatal(err)
			}
			shards := rawShards(chunk, k, m)
			meter := startCPU(b, benchChunk)
			for b.Loop() {
				if err := rs.Encode(shards); err != nil {
					b.Fatal(err)
				}
			}
			meter.stop(b)
		})
		b.Run(name+"/erasure-with-hashes", func(b *testing.B) {
			o := (&Options{DataShards: k, ParityShards: m}).EnsureDefaults()
			rs, err := newRS(o, k, m)
			if err != nil {
				b.Fatal(err)
			}
			j := &encJob{chunkLen: benchChunk, buf: make([]byte, (k+m)*ceilDiv(benchChunk, k)), shards: make([][]byte, k+m), shardHashes: make([]Hash, k+m)}
			copy(j.buf, chunk)
			meter := startCPU(b, benchChunk)
			for b.Loop() {
				if err := encodeChunk(rs, k, k+m, j); err != nil {
					b.Fatal(err)
				}
			}
			meter.stop(b)
		})
	}
}

// sliceSource serves shards from memory without locks.
type sliceSource struct {
	n      int
	shards [][]byte // chunk*n + shard
	lost   func(chunk, shard int) bool
}

func (s *sliceSource) Get(_ context.Context, chunk, shard int) ([]byte, error) {
	if s.lost != nil && s.lost(chunk, shard) {
		return nil, ErrShardUnavailable
	}
	return s.shards[chunk*s.n+shard], nil
}

func newSliceSource(m *Manifest, store *memStore) *sliceSource {
	n := m.Params().TotalShards()
	src := &sliceSource{n: n, shards: make([][]byte, m.NumChunks()*n)}
	for c := range m.NumChunks() {
		for s := range n {
			src.shards[c*n+s], _ = store.get(c, s)
		}
	}
	return src
}

// BenchmarkReconstructChunk rebuilds one 1 MiB chunk from k shards, the
// worst case: min(k, n-k) data shards lost, the rest of the n-k lost shards
// parity. The raw library rebuilds the data shards; this package's chunk
// path also checks the k shards against the manifest and the chunk hash.
func BenchmarkReconstructChunk(b *testing.B) {
	chunk := randBytes(2, benchChunk)
	for _, kn := range benchShapes {
		k, n := kn[0], kn[1]
		m := n - k
		lost := func(s int) bool { // the first data shards, then the last parity shards
			lostData := min(k, m)
			return s < lostData || s >= n-(m-lostData)
		}
		name := fmt.Sprintf("k=%d,n=%d", k, n)
		for _, variant := range []struct {
			name string
			opts []reedsolomon.Option
		}{
			{"raw-library-default", nil},
			{"raw-1-goroutine", []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1)}},
		} {
			b.Run(name+"/"+variant.name, func(b *testing.B) {
				rs, err := reedsolomon.New(k, m, variant.opts...)
				if err != nil {
					b.Fatal(err)
				}
				full := rawShards(chunk, k, m)
				if err := rs.Encode(full); err != nil {
					b.Fatal(err)
				}
				shards := make([][]byte, n)
				meter := startCPU(b, benchChunk)
				for b.Loop() {
					for s := range shards {
						if lost(s) {
							shards[s] = full[s][:0] // rebuilt in place
						} else {
							shards[s] = full[s]
						}
					}
					if err := rs.ReconstructData(shards); err != nil {
						b.Fatal(err)
					}
				}
				meter.stop(b)
			})
		}
		b.Run(name+"/erasure-verified", func(b *testing.B) {
			opts := (&Options{DataShards: k, ParityShards: m}).EnsureDefaults()
			_, man, store := encodeBytes(b, opts, chunk)
			src := newSliceSource(man, store)
			src.lost = func(_, s int) bool { return lost(s) }
			rs, err := newRS(opts, k, m)
			if err != nil {
				b.Fatal(err)
			}
			j := &decJob{shards: make([][]byte, n), hasher: blake3.New()}
			meter := startCPU(b, benchChunk)
			for b.Loop() {
				if err := decodeChunk(context.Background(), rs, man, src, nil, j); err != nil {
					b.Fatal(err)
				}
			}
			meter.stop(b)
		})
	}
}

// BenchmarkBLAKE3 is the hashing throughput of zeebo/blake3 as this package
// calls it.
func BenchmarkBLAKE3(b *testing.B) {
	for _, size := range []int{512, 4 << 10, 64 << 10, 512 << 10, 1 << 20} {
		data := randBytes(3, size)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			meter := startCPU(b, int64(size))
			for b.Loop() {
				_ = Sum(data)
			}
			meter.stop(b)
		})
	}
}

const streamSize = 64 << 20

// streamVariants are the parallelism settings compared by the streaming
// benchmarks: chunks in parallel × goroutines inside the library.
var streamVariants = []struct {
	name string
	opts Options
}{
	{"conc=1,coder=1", Options{Concurrency: 1, CoderGoroutines: 1}},
	{"conc=1,coder=lib", Options{Concurrency: 1, libOptions: libraryDefault}},
	{"conc=2,coder=1", Options{Concurrency: 2, CoderGoroutines: 1}},
	{"conc=2,coder=2", Options{Concurrency: 2, CoderGoroutines: 2}},
	{"conc=2,coder=lib", Options{Concurrency: 2, libOptions: libraryDefault}},
	{"conc=4,coder=1", Options{Concurrency: 4, CoderGoroutines: 1}},
}

// BenchmarkStreamEncode64MiB is the whole put path of this package: read
// 64 MiB, code and hash each 1 MiB chunk, hand the shards to a sink that
// drops them, build the manifest and the CID. k=2, n=4.
func BenchmarkStreamEncode64MiB(b *testing.B) {
	data := randBytes(4, streamSize)
	for _, v := range streamVariants {
		b.Run(v.name, func(b *testing.B) {
			o := v.opts
			enc, err := NewEncoder(&o)
			if err != nil {
				b.Fatal(err)
			}
			meter := startCPU(b, streamSize)
			for b.Loop() {
				if _, _, err := enc.Encode(context.Background(), bytes.NewReader(data), streamSize, discardSink{}); err != nil {
					b.Fatal(err)
				}
			}
			meter.stop(b)
		})
	}
}

// BenchmarkStreamDecode64MiB is the whole get path of this package: fetch
// and verify k shards of each 1 MiB chunk from memory, check each chunk,
// write 64 MiB. "all" has every shard; "rebuild" has lost data shard 0 of
// every chunk, so each chunk is rebuilt from parity. k=2, n=4.
func BenchmarkStreamDecode64MiB(b *testing.B) {
	data := randBytes(5, streamSize)
	id, m, store := encodeBytes(b, nil, data)
	for _, lost := range []string{"all", "rebuild"} {
		src := newSliceSource(m, store)
		if lost == "rebuild" {
			src.lost = func(_, s int) bool { return s == 0 }
		}
		for _, v := range streamVariants {
			b.Run(lost+"/"+v.name, func(b *testing.B) {
				o := v.opts
				dec, err := NewDecoder(&o)
				if err != nil {
					b.Fatal(err)
				}
				meter := startCPU(b, streamSize)
				for b.Loop() {
					var w countWriter
					if _, err := dec.Decode(context.Background(), id, m, src, &w); err != nil {
						b.Fatal(err)
					}
					if int(w) != streamSize {
						b.Fatalf("decoded %d bytes", w)
					}
				}
				meter.stop(b)
			})
		}
	}
}
