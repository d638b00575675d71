package state

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/internal/cputime"
	"github.com/dagd/dagd/state/proof"
)

// benchSizes are the tree sizes of the benchmarks: 100,000 keys (10,000
// with -short); the environment variable DAGD_STATE_BENCH_SIZE sets another
// one, e.g. 1000000.
func benchSizes() []int {
	if s := os.Getenv("DAGD_STATE_BENCH_SIZE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return []int{n}
		}
	}
	if testing.Short() {
		return []int{10_000}
	}
	return []int{100_000}
}

// benchFixture is a store directory holding n keys, built once per size and
// reused by every benchmark of the run.
type benchFixture struct {
	dir  string
	n    int
	next uint64 // a counter for fresh values
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*benchFixture{}
)

func benchKey(i int) []byte { return []byte(fmt.Sprintf("account/%09d", i)) }

func benchValue(b *benchFixture) []byte {
	b.next++
	v := make([]byte, 48) // an account record: balance, nonce, flags
	binary.BigEndian.PutUint64(v, b.next)
	return v
}

func fixture(tb testing.TB, n int) *benchFixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	dir, err := os.MkdirTemp("", "dagd-state-bench-")
	if err != nil {
		tb.Fatal(err)
	}
	f := &benchFixture{dir: filepath.Join(dir, "db"), n: n}
	s, err := Open(f.dir, Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	const chunk = 50_000
	for i := 0; i < n; i += chunk {
		u := NewUpdate()
		for j := i; j < min(i+chunk, n); j++ {
			u.Set(benchKey(j), benchValue(f))
		}
		if _, err := s.Commit(s.Version()+1, u); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built a tree of %d keys in %v", n, time.Since(start))
	fixtures[n] = f
	return f
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		_ = os.RemoveAll(filepath.Dir(f.dir))
	}
	os.Exit(code)
}

// warmNodeCache loads every internal node of the latest tree into the node
// cache, as the cache of a node that has run for a while would hold them.
func warmNodeCache(tb testing.TB, s *Store) {
	var walk func(r ref, depth int, path crypto.Digest)
	walk = func(r ref, depth int, path crypto.Digest) {
		if r.kind != kindInternal {
			return
		}
		n, err := s.loadInternal(makeNodeKey(r.ver, depth, path))
		if err != nil {
			tb.Fatal(err)
		}
		walk(n.child[0], depth+1, path)
		path[depth/8] |= 0x80 >> uint(depth%8)
		walk(n.child[1], depth+1, path)
	}
	walk(s.root, 0, crypto.Digest{})
}

// BenchmarkCommit commits batches of overwrites of random existing keys
// (the ledger's common case: balances change) into a tree of n keys, synced
// to disk unless the name says nosync; par is Options.Parallelism. With
// cache=tree the node cache holds every internal node (2n entries) and is
// warmed by a walk of the tree; with cache=default it has
// DefaultNodeCacheSize entries and starts cold.
func BenchmarkCommit(b *testing.B) {
	for _, n := range benchSizes() {
		for _, batch := range []int{1_000, 10_000} {
			for _, c := range []struct {
				par       int
				sync      bool
				fullCache bool
			}{{1, true, true}, {2, true, true}, {2, false, true}, {2, true, false}} {
				name := fmt.Sprintf("tree=%d/batch=%d/par=%d", n, batch, c.par)
				if c.fullCache {
					name += "/cache=tree"
				} else {
					name += "/cache=default"
				}
				if !c.sync {
					name += "/nosync"
				}
				b.Run(name, func(b *testing.B) {
					f := fixture(b, n)
					o := Options{Parallelism: c.par, NoSync: !c.sync}
					if c.fullCache {
						o.NodeCacheSize = 2 * n
					}
					s, err := Open(f.dir, o)
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					if c.fullCache {
						warmNodeCache(b, s)
					}
					rng := rand.New(rand.NewPCG(uint64(batch), uint64(c.par)))
					upds := make([]*Update, 4)
					for i := range upds {
						upds[i] = NewUpdate()
					}
					for i := 0; i < 3; i++ {
						u := NewUpdate()
						for j := 0; j < batch; j++ {
							u.Set(benchKey(rng.IntN(n)), benchValue(f))
						}
						if _, err := s.Commit(s.Version()+1, u); err != nil {
							b.Fatal(err)
						}
					}
					var cpu time.Duration
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						u := upds[i%len(upds)]
						u.Reset()
						for j := 0; j < batch; j++ {
							u.Set(benchKey(rng.IntN(n)), benchValue(f))
						}
						c0 := cputime.Process()
						b.StartTimer()
						if _, err := s.Commit(s.Version()+1, u); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						cpu += cputime.Process() - c0
						b.StartTimer()
					}
					b.StopTimer()
					b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
					// CPU time of the whole process (pebble's background work
					// included) while commits ran: on a shared machine the
					// wall time above also counts other programs' turns.
					b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				})
			}
		}
	}
}

// BenchmarkProve proves random keys, half present and half absent, at the
// latest version of a tree of n keys, with a node cache holding the tree
// (the leaf is still read from pebble), and reports the mean encoded proof
// size.
func BenchmarkProve(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("tree=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			s, err := Open(f.dir, Options{NodeCacheSize: 2 * n})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			warmNodeCache(b, s)
			rng := rand.New(rand.NewPCG(1, 2))
			v := s.Version()
			size := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				key := benchKey(rng.IntN(2 * n))
				p, err := s.Prove(key, v)
				if err != nil {
					b.Fatal(err)
				}
				size += p.EncodedSize()
			}
			b.ReportMetric(float64(size)/float64(b.N), "proof-bytes")
		})
	}
}

// BenchmarkVerifyProof verifies proofs of random keys of a tree of n keys,
// half inclusion and half non-inclusion.
func BenchmarkVerifyProof(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("tree=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			s, err := Open(f.dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			type claim struct {
				key, value []byte
				enc        []byte
			}
			rng := rand.New(rand.NewPCG(3, 4))
			claims := make([]claim, 1024)
			for i := range claims {
				key := benchKey(rng.IntN(2 * n))
				value, p, err := s.GetWithProof(key, s.Version())
				if err != nil {
					b.Fatal(err)
				}
				enc, err := p.MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				claims[i] = claim{key, value, enc}
			}
			root := s.Root()
			b.Run("verify", func(b *testing.B) {
				ps := make([]*proof.Proof, len(claims))
				for i, c := range claims {
					ps[i], _ = proof.Unmarshal(c.enc)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c := claims[i%len(claims)]
					if err := proof.VerifyProof(root, c.key, c.value, ps[i%len(ps)]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("decode+verify", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					c := claims[i%len(claims)]
					p, err := proof.Unmarshal(c.enc)
					if err != nil {
						b.Fatal(err)
					}
					if err := proof.VerifyProof(root, c.key, c.value, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkGet reads random present keys at the latest version.
func BenchmarkGet(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("tree=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			s, err := Open(f.dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(5, 6))
			for i := 0; i < b.N; i++ {
				if _, ok, err := s.Get(benchKey(rng.IntN(n))); err != nil || !ok {
					b.Fatalf("Get: %v %v", ok, err)
				}
			}
		})
	}
}
