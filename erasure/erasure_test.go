package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

func TestOptionsDefaultsAndValidate(t *testing.T) {
	o := (*Options)(nil).EnsureDefaults()
	if o.ChunkSize != DefaultChunkSize || o.DataShards != DefaultDataShards || o.ParityShards != DefaultParityShards ||
		o.Concurrency != runtime.GOMAXPROCS(0) || o.CoderGoroutines != DefaultCoderGoroutines {
		t.Fatalf("defaults: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	set := Options{ChunkSize: 4096, DataShards: 3, ParityShards: 4, Concurrency: 3, CoderGoroutines: 2}
	got := set
	got.EnsureDefaults()
	if got.ChunkSize != set.ChunkSize || got.DataShards != set.DataShards || got.ParityShards != set.ParityShards ||
		got.Concurrency != set.Concurrency || got.CoderGoroutines != set.CoderGoroutines {
		t.Fatalf("EnsureDefaults changed set fields: %+v -> %+v", set, got)
	}
	bad := []Options{
		{ChunkSize: MinChunkSize - 1},
		{ChunkSize: MaxChunkSize + 1},
		{DataShards: -1},
		{ParityShards: -2},
		{DataShards: 200, ParityShards: 57},
		{DataShards: 257, ParityShards: 1},
		{Concurrency: -1},
		{Concurrency: MaxConcurrency + 1},
		{CoderGoroutines: -1},
	}
	for _, b := range bad {
		b.EnsureDefaults()
		if err := b.Validate(); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidParams", b, err)
		}
		if _, err := NewEncoder(&b); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("NewEncoder(%+v) = %v, want ErrInvalidParams", b, err)
		}
	}
	if err := (*Options)(nil).Validate(); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("nil Validate = %v", err)
	}
	edge := Options{DataShards: 255, ParityShards: 1, ChunkSize: MinChunkSize}
	edge.EnsureDefaults()
	if err := edge.Validate(); err != nil {
		t.Errorf("255+1 shards: %v", err)
	}
}

func TestCommitteeShards(t *testing.T) {
	for v := 2; v <= MaxShards; v++ {
		k, p, err := CommitteeShards(v)
		if err != nil {
			t.Fatalf("CommitteeShards(%d): %v", v, err)
		}
		f := 0
		for 3*(f+1) < v { // largest f with 3f < v
			f++
		}
		if k != f+1 || k+p != v {
			t.Fatalf("CommitteeShards(%d) = %d, %d; want k=%d n=%d", v, k, p, f+1, v)
		}
		// Any k of the n holders include an honest one's worth of shards:
		// the f faulty holders alone never reach k.
		if f >= k {
			t.Fatalf("f=%d faulty holders can reach k=%d", f, k)
		}
	}
	for _, v := range []int{-1, 0, 1, MaxShards + 1} {
		if _, _, err := CommitteeShards(v); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("CommitteeShards(%d) = %v, want ErrInvalidParams", v, err)
		}
	}
}

// checkObject checks the shape of a manifest and CID for data.
func checkObject(t *testing.T, data []byte, opts *Options, id interface{ Type() uint64 }, m *Manifest, store *memStore) {
	t.Helper()
	p := opts.Params()
	if m.Params() != p {
		t.Fatalf("manifest params %v, want %v", m.Params(), p)
	}
	if m.ContentSize() != uint64(len(data)) {
		t.Fatalf("content size %d, want %d", m.ContentSize(), len(data))
	}
	wantChunks := (len(data) + p.ChunkSize - 1) / p.ChunkSize
	if m.NumChunks() != wantChunks {
		t.Fatalf("%d chunks, want %d", m.NumChunks(), wantChunks)
	}
	if wantCodec := ManifestCodec; id.Type() != wantCodec {
		t.Fatalf("codec %#x, want %#x", id.Type(), wantCodec)
	}
	// Put came in chunk-major, shard-minor order, once per shard.
	n := p.TotalShards()
	if len(store.puts) != wantChunks*n {
		t.Fatalf("%d puts, want %d", len(store.puts), wantChunks*n)
	}
	for i, key := range store.puts {
		if key != (shardKey{i / n, i % n}) {
			t.Fatalf("put %d was %v, want chunk %d shard %d", i, key, i/n, i%n)
		}
	}
	// Each chunk's data shards are the chunk's bytes, zero padded, and the
	// hashes are the manifest's.
	for c := range wantChunks {
		chunk := data[c*p.ChunkSize : min(len(data), (c+1)*p.ChunkSize)]
		if m.ChunkLen(c) != len(chunk) {
			t.Fatalf("chunk %d len %d, want %d", c, m.ChunkLen(c), len(chunk))
		}
		if Sum(chunk) != m.ChunkHash(c) {
			t.Fatalf("chunk %d hash mismatch", c)
		}
		var joined []byte
		for s := range n {
			b, _ := store.get(c, s)
			if len(b) != m.ShardSize(c) {
				t.Fatalf("chunk %d shard %d: %d bytes, want %d", c, s, len(b), m.ShardSize(c))
			}
			if err := VerifyShard(m, c, s, b); err != nil {
				t.Fatalf("VerifyShard: %v", err)
			}
			if s < p.DataShards {
				joined = append(joined, b...)
			}
		}
		if !bytes.Equal(joined[:len(chunk)], chunk) || slices.ContainsFunc(joined[len(chunk):], func(b byte) bool { return b != 0 }) {
			t.Fatalf("chunk %d: data shards are not the chunk padded with zeros", c)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	chunkSizes := []int{MinChunkSize, 4 << 10, 64 << 10, 1 << 20}
	cases := 40
	if testing.Short() || raceEnabled {
		cases = 12
	}
	for c := range cases {
		k := 1 + rng.IntN(10)
		par := 1 + rng.IntN(6)
		cs := chunkSizes[rng.IntN(len(chunkSizes))]
		sizes := []int{0, 1, k - 1, k, k + 1, cs - 1, cs, cs + 1, 2*cs + rng.IntN(cs), 1 + rng.IntN(7*cs)}
		size := sizes[c%len(sizes)]
		opts := &Options{ChunkSize: cs, DataShards: k, ParityShards: par, Concurrency: 1 + rng.IntN(4)}
		opts.EnsureDefaults()
		t.Run(fmt.Sprintf("k=%d,n=%d,chunk=%d,size=%d", k, k+par, cs, size), func(t *testing.T) {
			data := randBytes(seed+uint64(c), size)
			id, m, store := encodeBytes(t, opts, data)
			checkObject(t, data, opts, id, m, store)
			if m.CID() != id {
				t.Fatalf("Manifest.CID %v != %v", m.CID(), id)
			}

			// The same content read in odd pieces and of unknown size
			// gives the same object.
			enc, err := NewEncoder(opts)
			if err != nil {
				t.Fatal(err)
			}
			id2, m2, err := enc.Encode(context.Background(), &choppyReader{bytes.NewReader(data), rng}, UnknownSize, newMemStore())
			if err != nil {
				t.Fatalf("Encode unknown size: %v", err)
			}
			if id2 != id || !bytes.Equal(m2.Encode(), m.Encode()) {
				t.Fatalf("unknown-size encode differs: %v vs %v", id2, id)
			}

			// All shards.
			out, st, err := decodeBytes(t, id, m, &testSource{store: store})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(out, data) {
				t.Fatalf("decoded %d bytes differ from %d", len(out), len(data))
			}
			if st.Chunks != int64(m.NumChunks()) || st.Bytes != int64(len(data)) || st.BadShards != 0 || st.ChunksRebuilt != 0 {
				t.Fatalf("stats %+v", st)
			}
			if st.ShardsFetched != int64(m.NumChunks()*k) {
				t.Fatalf("fetched %d shards, want k per chunk = %d", st.ShardsFetched, m.NumChunks()*k)
			}

			// n-k random shards of every chunk lost.
			lost := make(map[shardKey]bool)
			for ch := range m.NumChunks() {
				for _, s := range rng.Perm(k + par)[:par] {
					lost[shardKey{ch, s}] = true
				}
			}
			src := &testSource{store: store, serve: func(ch, s int, b []byte) ([]byte, error) {
				if lost[shardKey{ch, s}] {
					return nil, errors.New("holder down")
				}
				return b, nil
			}}
			out, _, err = decodeBytes(t, id, m, src)
			if err != nil {
				t.Fatalf("Decode with %d of %d shards per chunk: %v", k, k+par, err)
			}
			if !bytes.Equal(out, data) {
				t.Fatal("decoded bytes differ with lost shards")
			}
		})
	}
}

// TestRoundTripLarge streams tens of MB with random k and n.
func TestRoundTripLarge(t *testing.T) {
	size := 24<<20 + 12345
	if testing.Short() || raceEnabled {
		size = 3<<20 + 12345
	}
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	data := randBytes(7, size)
	opts := (&Options{DataShards: 1 + rng.IntN(10), ParityShards: 1 + rng.IntN(6)}).EnsureDefaults()
	t.Logf("k=%d n=%d", opts.DataShards, opts.DataShards+opts.ParityShards)
	id, m, store := encodeBytes(t, opts, data)
	checkObject(t, data, opts, id, m, store)
	// Lose a data shard of every other chunk, so half the chunks rebuild.
	src := &testSource{store: store, serve: func(ch, s int, b []byte) ([]byte, error) {
		if ch%2 == 0 && s == ch%opts.DataShards {
			return nil, errors.New("missing")
		}
		return b, nil
	}}
	out, st, err := decodeBytes(t, id, m, src)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !bytes.Equal(out, data) {
		t.Fatal("decoded content differs")
	}
	half := int64((m.NumChunks() + 1) / 2)
	if st.ChunksRebuilt != half || st.BadShards != half {
		t.Fatalf("stats %+v, want %d chunks rebuilt and %d bad shards", st, half, half)
	}
}

// combinations calls f with every k-subset of [0, n).
func combinations(n, k int, f func([]int)) {
	sub := make([]int, k)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == k {
			f(slices.Clone(sub))
			return
		}
		for i := start; i <= n-(k-depth); i++ {
			sub[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
}

func TestAnyKShardsSuffice(t *testing.T) {
	for _, kn := range [][2]int{{1, 3}, {2, 4}, {3, 6}, {4, 7}} {
		k, n := kn[0], kn[1]
		opts := &Options{ChunkSize: 4 << 10, DataShards: k, ParityShards: n - k}
		opts.EnsureDefaults()
		data := randBytes(uint64(k*100+n), 3*opts.ChunkSize+1234)
		id, m, store := encodeBytes(t, opts, data)
		subsets := 0
		combinations(n, k, func(keep []int) {
			subsets++
			src := &testSource{store: store, serve: func(_, s int, b []byte) ([]byte, error) {
				if !slices.Contains(keep, s) {
					return nil, errors.New("not a holder")
				}
				return b, nil
			}}
			out, st, err := decodeBytes(t, id, m, src)
			if err != nil {
				t.Fatalf("k=%d n=%d shards %v: %v", k, n, keep, err)
			}
			if !bytes.Equal(out, data) {
				t.Fatalf("k=%d n=%d shards %v: content differs", k, n, keep)
			}
			// Shards are tried in order: every missing one below the
			// highest kept index is skipped, and a chunk rebuilds unless
			// the kept shards are the data shards.
			skippedPerChunk := keep[k-1] + 1 - k
			chunks := int64(m.NumChunks())
			if st.BadShards != chunks*int64(skippedPerChunk) {
				t.Fatalf("shards %v: %d bad shards, want %d", keep, st.BadShards, chunks*int64(skippedPerChunk))
			}
			wantRebuilt := chunks
			if keep[k-1] == k-1 {
				wantRebuilt = 0
			}
			if st.ChunksRebuilt != wantRebuilt {
				t.Fatalf("shards %v: %d chunks rebuilt, want %d", keep, st.ChunksRebuilt, wantRebuilt)
			}
			if got := len(src.reported()); int64(got) != st.BadShards {
				t.Fatalf("%d reports for %d bad shards", got, st.BadShards)
			}
		})
		// n choose k subsets were tried.
		want := 1
		for i := range k {
			want = want * (n - i) / (i + 1)
		}
		if subsets != want {
			t.Fatalf("tried %d subsets, want %d", subsets, want)
		}
	}
}

func TestTooManyShardsMissing(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, DataShards: 3, ParityShards: 2, Concurrency: 2}
	opts.EnsureDefaults()
	data := randBytes(3, 6*opts.ChunkSize+100)
	id, m, store := encodeBytes(t, opts, data)
	const badChunk = 2
	// Chunk 2 keeps k-1 shards: 0 and 4.
	src := &testSource{store: store, serve: func(ch, s int, b []byte) ([]byte, error) {
		if ch == badChunk && s != 0 && s != 4 {
			return nil, fmt.Errorf("holder %d lost it", s)
		}
		return b, nil
	}}
	out, _, err := decodeBytes(t, id, m, src)
	if !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("err = %v, want ErrTooFewShards", err)
	}
	var ce *ChunkError
	if !errors.As(err, &ce) || ce.Chunk != badChunk {
		t.Fatalf("err = %v, want a *ChunkError for chunk %d", err, badChunk)
	}
	if len(ce.Shards) != 3 {
		t.Fatalf("chunk error lists %d shards, want 3: %v", len(ce.Shards), ce)
	}
	for i, se := range ce.Shards {
		if se.Chunk != badChunk || se.Shard != i+1 || !errors.Is(se, ErrShardUnavailable) {
			t.Fatalf("skipped shard %d: %+v", i, se)
		}
	}
	var se *ShardError
	if !errors.As(err, &se) || se.Chunk != badChunk || se.Shard != 1 {
		t.Fatalf("errors.As ShardError = %+v", se)
	}
	// Only whole verified chunks before the bad one reached the writer.
	if !bytes.Equal(out, data[:badChunk*opts.ChunkSize]) {
		t.Fatalf("wrote %d bytes, want the %d bytes of the chunks before chunk %d", len(out), badChunk*opts.ChunkSize, badChunk)
	}
}

func TestWrongShardDetectedAndSkipped(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, DataShards: 2, ParityShards: 2}
	opts.EnsureDefaults()
	data := randBytes(11, 3*opts.ChunkSize+777)
	id, m, store := encodeBytes(t, opts, data)
	other, _ := store.get(0, 1)
	corruptions := []struct {
		name string
		bad  func(b []byte) []byte
		want error
	}{
		{"bit flip", func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/2] ^= 4; return c }, ErrShardMismatch},
		{"short", func(b []byte) []byte { return b[:len(b)-1] }, ErrShardSize},
		{"long", func(b []byte) []byte { return append(bytes.Clone(b), 0) }, ErrShardSize},
		{"empty", func([]byte) []byte { return nil }, ErrShardSize},
		{"another shard", func([]byte) []byte { return other }, ErrShardMismatch},
		{"zeros", func(b []byte) []byte { return make([]byte, len(b)) }, ErrShardMismatch},
	}
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			src := &testSource{store: store, serve: func(ch, s int, b []byte) ([]byte, error) {
				if ch == 1 && s == 0 {
					return c.bad(b), nil
				}
				return b, nil
			}}
			out, st, err := decodeBytes(t, id, m, src)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(out, data) {
				t.Fatal("content differs")
			}
			reps := src.reported()
			if len(reps) != 1 || reps[0].Chunk != 1 || reps[0].Shard != 0 || !errors.Is(reps[0], c.want) {
				t.Fatalf("reports %v, want one for chunk 1 shard 0 wrapping %v", reps, c.want)
			}
			if st.BadShards != 1 || st.ChunksRebuilt != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}

	// A holder that serves garbage for every chunk is skipped every time.
	src := &testSource{store: store, serve: func(_, s int, b []byte) ([]byte, error) {
		if s == 1 {
			return randBytes(99, len(b)), nil
		}
		return b, nil
	}}
	out, _, err := decodeBytes(t, id, m, src)
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("Decode with a lying holder: %v", err)
	}
	reps := src.reported()
	if len(reps) != m.NumChunks() {
		t.Fatalf("%d reports, want one per chunk (%d)", len(reps), m.NumChunks())
	}
	for _, r := range reps {
		if r.Shard != 1 || !errors.Is(r, ErrShardMismatch) {
			t.Fatalf("report %v", r)
		}
	}

	// Too many wrong shards in one chunk: the error names them all.
	src = &testSource{store: store, serve: func(ch, s int, b []byte) ([]byte, error) {
		if ch == 0 && s >= 1 {
			return b[1:], nil
		}
		return b, nil
	}}
	out, _, err = decodeBytes(t, id, m, src)
	var ce *ChunkError
	if !errors.As(err, &ce) || ce.Chunk != 0 || len(ce.Shards) != 3 || !errors.Is(err, ErrTooFewShards) || !errors.Is(err, ErrShardSize) {
		t.Fatalf("err = %v, want ErrTooFewShards naming 3 short shards of chunk 0", err)
	}
	if len(out) != 0 {
		t.Fatalf("wrote %d bytes of an unverified chunk", len(out))
	}
}

func TestTruncatedAndOverlongUpload(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, DataShards: 2, ParityShards: 1}
	enc, err := NewEncoder(opts)
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(5, 5*4096+10)
	readErr := errors.New("connection reset")
	cases := []struct {
		name string
		r    io.Reader
		size int64
		want error
	}{
		{"short by one", bytes.NewReader(data[:len(data)-1]), int64(len(data)), ErrTruncated},
		{"short at chunk boundary", bytes.NewReader(data[:2*4096]), int64(len(data)), ErrTruncated},
		{"empty but sized", bytes.NewReader(nil), 10, ErrTruncated},
		{"long by one", bytes.NewReader(data), int64(len(data) - 1), ErrTooLong},
		{"long at chunk boundary", bytes.NewReader(data), 4096, ErrTooLong},
		{"zero size with data", bytes.NewReader(data), 0, ErrTooLong},
		{"reader error", &errAfterReader{data: data[:3*4096+5], err: readErr}, UnknownSize, readErr},
		{"reader error sized", &errAfterReader{data: data[:100], err: readErr}, int64(len(data)), readErr},
		{"unexpected EOF from reader", &errAfterReader{data: data[:4096], err: io.ErrUnexpectedEOF}, int64(len(data)), ErrTruncated},
		{"unexpected EOF unsized", &errAfterReader{data: data[:4096+10], err: io.ErrUnexpectedEOF}, UnknownSize, io.ErrUnexpectedEOF},
		{"unexpected EOF unsized mid-chunk", &errAfterReader{data: data[:10], err: io.ErrUnexpectedEOF}, UnknownSize, ErrTruncated},
		{"no progress", &errAfterReader{data: data[:10], err: nil}, UnknownSize, io.ErrNoProgress},
		{"negative size", bytes.NewReader(data), -2, ErrInvalidParams},
		{"too many chunks", bytes.NewReader(nil), int64(MaxChunks)*4096 + 1, ErrTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, m, err := enc.Encode(context.Background(), c.r, c.size, newMemStore())
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if m != nil || id.Defined() {
				t.Fatalf("a failed Encode returned %v, %v", id, m)
			}
		})
	}
}

// failingSink fails at one shard.
type failingSink struct {
	memStore
	failAt shardKey
	err    error
}

func (f *failingSink) Put(ctx context.Context, chunk, shard int, data []byte) error {
	if (shardKey{chunk, shard}) == f.failAt {
		return f.err
	}
	return f.memStore.Put(ctx, chunk, shard, data)
}

func TestSinkErrorStopsEncode(t *testing.T) {
	enc, err := NewEncoder(&Options{ChunkSize: 4 << 10, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	sinkErr := errors.New("disk full")
	sink := &failingSink{memStore: *newMemStore(), failAt: shardKey{3, 1}, err: sinkErr}
	_, m, err := enc.Encode(context.Background(), bytes.NewReader(randBytes(1, 40<<10)), UnknownSize, sink)
	if !errors.Is(err, sinkErr) || m != nil {
		t.Fatalf("err = %v, manifest %v; want the sink's error", err, m)
	}
	// Nothing was put after the failing shard.
	if len(sink.puts) != 3*4+1 || sink.puts[len(sink.puts)-1] != (shardKey{3, 0}) {
		t.Fatalf("puts after failure: %v", sink.puts)
	}
}

// blockingSource blocks every Get of chunks from `from` on until ctx ends.
type blockingSource struct {
	testSource
	from    int
	blocked chan struct{}
}

func (b *blockingSource) Get(ctx context.Context, chunk, shard int) ([]byte, error) {
	if chunk >= b.from {
		select {
		case b.blocked <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return b.testSource.Get(ctx, chunk, shard)
}

func TestCancel(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, Concurrency: 2}
	data := randBytes(2, 20*4096)
	id, m, store := encodeBytes(t, opts, data)
	before := runtime.NumGoroutine()

	dec, err := NewDecoder(opts)
	if err != nil {
		t.Fatal(err)
	}
	src := &blockingSource{testSource: testSource{store: store}, from: 5, blocked: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-src.blocked
		cancel()
	}()
	var out bytes.Buffer
	_, err = dec.Decode(ctx, id, m, src, &out)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Decode err = %v, want context.Canceled", err)
	}
	if out.Len()%4096 != 0 || out.Len() > 5*4096 || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
		t.Fatalf("wrote %d bytes: not a prefix of whole chunks before chunk 5", out.Len())
	}
	if len(src.reported()) != 0 {
		t.Fatalf("cancellation reported as bad shards: %v", src.reported())
	}

	// Cancelling from the sink stops Encode.
	enc, err := NewEncoder(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	sink := &cancelSink{cancel: cancel, at: 4}
	_, _, err = enc.Encode(ctx, bytes.NewReader(data), UnknownSize, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Encode err = %v, want context.Canceled", err)
	}

	// Every goroutine has returned.
	testwait.For(t, 5*time.Second, func() error {
		if g := runtime.NumGoroutine(); g > before {
			return fmt.Errorf("%d goroutines after cancel, %d before", g, before)
		}
		return nil
	})
}

type cancelSink struct {
	cancel context.CancelFunc
	at     int
}

func (c *cancelSink) Put(ctx context.Context, chunk, _ int, _ []byte) error {
	if chunk == c.at {
		c.cancel()
	}
	return ctx.Err()
}

// writerFunc adapts a function to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestWriterErrorStopsDecode(t *testing.T) {
	data := randBytes(4, 10*4096)
	id, m, store := encodeBytes(t, &Options{ChunkSize: 4096}, data)
	dec, err := NewDecoder(nil)
	if err != nil {
		t.Fatal(err)
	}
	wErr := errors.New("pipe closed")
	written := 0
	w := writerFunc(func(p []byte) (int, error) {
		if written >= 3*4096 {
			return 0, wErr
		}
		written += len(p)
		return len(p), nil
	})
	_, err = dec.Decode(context.Background(), id, m, &testSource{store: store}, w)
	if !errors.Is(err, wErr) {
		t.Fatalf("err = %v, want the writer's", err)
	}
}

// repeatReader repeats block until n bytes are read.
type repeatReader struct {
	block []byte
	off   int
	n     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.n)]
	total := 0
	for len(p) > 0 {
		c := copy(p, r.block[r.off:])
		r.off = (r.off + c) % len(r.block)
		p = p[c:]
		total += c
	}
	r.n -= total
	return total, nil
}

// chunkZeroSource serves the stored shards of chunk 0 for every chunk: the
// content repeats one chunk, so every chunk has the same shards.
type chunkZeroSource struct{ store *memStore }

func (s chunkZeroSource) Get(_ context.Context, _, shard int) ([]byte, error) {
	b, _ := s.store.get(0, shard)
	return b, nil
}

// TestBoundedMemory checks that encoding and decoding allocate about the
// same whether the content is 4 or 16 (or 64) chunks long: memory is
// bounded by the chunks in flight, not by the content.
func TestBoundedMemory(t *testing.T) {
	const chunk = 1 << 20
	opts := &Options{Concurrency: 2}
	block := randBytes(8, chunk)
	small, large := 4*chunk, 64*chunk
	if testing.Short() || raceEnabled {
		large = 16 * chunk
	}
	// One stored chunk serves every chunk of the repeated content.
	id0, m0, store := encodeBytes(t, opts, block)
	_ = id0
	_ = m0

	measure := func(size int) (encAlloc, decAlloc uint64) {
		enc, err := NewEncoder(opts)
		if err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		start := ms.TotalAlloc
		id, m, err := enc.Encode(context.Background(), &repeatReader{block: block, n: size}, UnknownSize, discardSink{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		encAlloc = ms.TotalAlloc - start

		dec, err := NewDecoder(opts)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		start = ms.TotalAlloc
		var n countWriter
		if _, err := dec.Decode(context.Background(), id, m, chunkZeroSource{store}, &n); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		decAlloc = ms.TotalAlloc - start
		if int(n) != size {
			t.Fatalf("decoded %d bytes, want %d", n, size)
		}
		return encAlloc, decAlloc
	}
	encSmall, decSmall := measure(small)
	encLarge, decLarge := measure(large)
	t.Logf("encode allocs: %d MiB content %d KiB, %d MiB content %d KiB", small>>20, encSmall>>10, large>>20, encLarge>>10)
	t.Logf("decode allocs: %d MiB content %d KiB, %d MiB content %d KiB", small>>20, decSmall>>10, large>>20, decLarge>>10)
	// The large content is 4–16 times the small one; what is allocated
	// beyond the small run's (the manifest, per-chunk bookkeeping) must
	// stay well below one chunk.
	if encLarge > encSmall+chunk/2 {
		t.Errorf("encode allocates with the content: %d bytes for %d MiB, %d for %d MiB", encSmall, small>>20, encLarge, large>>20)
	}
	if decLarge > decSmall+chunk/2 {
		t.Errorf("decode allocates with the content: %d bytes for %d MiB, %d for %d MiB", decSmall, small>>20, decLarge, large>>20)
	}
}

type discardSink struct{}

func (discardSink) Put(context.Context, int, int, []byte) error { return nil }

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
