package erasure

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: from the clock)")

// testSeed returns the seed of a randomized test and logs it, so that a
// failure replays with -seed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", seed, seed)
	return seed
}

// randBytes returns n pseudo-random bytes from seed.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(seed >> 32)})
	_, _ = r.Read(b)
	return b
}

// shardKey names one shard.
type shardKey struct{ chunk, shard int }

// memStore is a ShardSink that keeps copies of every shard and checks that
// Put comes in chunk then shard order.
type memStore struct {
	mu     sync.Mutex
	shards map[shardKey][]byte
	puts   []shardKey
}

func newMemStore() *memStore { return &memStore{shards: make(map[shardKey][]byte)} }

func (s *memStore) Put(_ context.Context, chunk, shard int, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[shardKey{chunk, shard}] = bytes.Clone(data)
	s.puts = append(s.puts, shardKey{chunk, shard})
	return nil
}

func (s *memStore) get(chunk, shard int) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[shardKey{chunk, shard}]
	return b, ok
}

// testSource serves shards from a memStore through an optional filter, and
// records the Get calls and the reported bad shards.
type testSource struct {
	store *memStore
	// serve, when set, returns the bytes to serve for a shard, or an error.
	serve func(chunk, shard int, stored []byte) ([]byte, error)

	mu      sync.Mutex
	gets    int
	reports []*ShardError
}

func (s *testSource) Get(_ context.Context, chunk, shard int) ([]byte, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	b, ok := s.store.get(chunk, shard)
	if !ok {
		return nil, fmt.Errorf("no shard %d/%d", chunk, shard)
	}
	if s.serve != nil {
		return s.serve(chunk, shard, b)
	}
	return b, nil
}

func (s *testSource) ReportBadShard(_ context.Context, err *ShardError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = append(s.reports, err)
}

func (s *testSource) reported() []*ShardError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*ShardError(nil), s.reports...)
}

// encodeBytes encodes data with opts into a new memStore.
func encodeBytes(t testing.TB, opts *Options, data []byte) (cid.Cid, *Manifest, *memStore) {
	t.Helper()
	enc, err := NewEncoder(opts)
	if err != nil {
		t.Fatalf("NewEncoder: %v", err)
	}
	store := newMemStore()
	id, m, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), store)
	if err != nil {
		t.Fatalf("Encode %d bytes with %+v: %v", len(data), opts, err)
	}
	return id, m, store
}

// decodeBytes decodes the object from src with default options.
func decodeBytes(t testing.TB, id cid.Cid, m *Manifest, src ShardSource) ([]byte, Stats, error) {
	t.Helper()
	dec, err := NewDecoder(&Options{Concurrency: 2})
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	var out bytes.Buffer
	st, err := dec.Decode(context.Background(), id, m, src, &out)
	return out.Bytes(), st, err
}

// choppyReader returns short reads of varying length.
type choppyReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *choppyReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+c.rng.IntN(min(len(p), 3000))]
	}
	return c.r.Read(p)
}

// errAfterReader returns err after n bytes.
type errAfterReader struct {
	data []byte
	err  error
}

func (e *errAfterReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}
