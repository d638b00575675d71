package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// chunkShards returns copies of the stored shards of chunk c.
func chunkShards(store *memStore, c, n int) [][]byte {
	out := make([][]byte, n)
	for s := range out {
		b, _ := store.get(c, s)
		out[s] = bytes.Clone(b)
	}
	return out
}

func TestReconstruct(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	dec, err := NewDecoder(nil)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 30 {
		k, par := 1+rng.IntN(8), 1+rng.IntN(6)
		n := k + par
		opts := &Options{ChunkSize: 4 << 10, DataShards: k, ParityShards: par}
		data := randBytes(seed+uint64(round), 1+rng.IntN(3*opts.ChunkSize))
		_, m, store := encodeBytes(t, opts, data)
		for c := range m.NumChunks() {
			want := chunkShards(store, c, n)
			got := chunkShards(store, c, n)
			// Lose up to n-k shards: some missing, some corrupt.
			lose := rng.Perm(n)[:rng.IntN(par+1)]
			var corrupt []int
			for _, s := range lose {
				switch rng.IntN(3) {
				case 0:
					got[s] = nil
				case 1:
					got[s] = got[s][:0]
				default:
					got[s][rng.IntN(len(got[s]))] ^= 1 << rng.IntN(8)
					corrupt = append(corrupt, s)
				}
			}
			rep, err := dec.Reconstruct(m, c, got)
			if err != nil {
				t.Fatalf("k=%d n=%d chunk %d losing %v: %v", k, n, c, lose, err)
			}
			slices.Sort(lose)
			slices.Sort(corrupt)
			if !slices.Equal(rep.Rebuilt, lose) && !(len(lose) == 0 && len(rep.Rebuilt) == 0) {
				t.Fatalf("rebuilt %v, want %v", rep.Rebuilt, lose)
			}
			var bad []int
			for _, se := range rep.Bad {
				if se.Chunk != c || !errors.Is(se, ErrShardMismatch) {
					t.Fatalf("bad shard report %v", se)
				}
				bad = append(bad, se.Shard)
			}
			if !slices.Equal(bad, corrupt) && !(len(bad) == 0 && len(corrupt) == 0) {
				t.Fatalf("reported bad %v, want %v", bad, corrupt)
			}
			for s := range n {
				if !bytes.Equal(got[s], want[s]) {
					t.Fatalf("shard %d differs after Reconstruct", s)
				}
			}
		}
	}
}

func TestReconstructErrors(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, DataShards: 3, ParityShards: 2}
	data := randBytes(61, 2*opts.ChunkSize+99)
	_, m, store := encodeBytes(t, opts, data)
	dec, err := NewDecoder(nil)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing to do.
	got := chunkShards(store, 0, 5)
	if rep, err := dec.Reconstruct(m, 0, got); err != nil || len(rep.Rebuilt) != 0 || len(rep.Bad) != 0 {
		t.Fatalf("complete chunk: %+v, %v", rep, err)
	}

	// Too many lost: two missing and one corrupt leaves k-1.
	got = chunkShards(store, 1, 5)
	got[0], got[3] = nil, nil
	got[4][0] ^= 1
	_, err = dec.Reconstruct(m, 1, got)
	var ce *ChunkError
	if !errors.Is(err, ErrTooFewShards) || !errors.As(err, &ce) || ce.Chunk != 1 || len(ce.Shards) != 1 || ce.Shards[0].Shard != 4 {
		t.Fatalf("too few: %v", err)
	}

	// Bad arguments.
	if _, err := dec.Reconstruct(m, 3, chunkShards(store, 0, 5)); !errors.Is(err, ErrShardIndex) {
		t.Fatalf("chunk out of range: %v", err)
	}
	if _, err := dec.Reconstruct(m, -1, chunkShards(store, 0, 5)); !errors.Is(err, ErrShardIndex) {
		t.Fatalf("negative chunk: %v", err)
	}
	if _, err := dec.Reconstruct(m, 0, chunkShards(store, 0, 4)); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("four shards for n=5: %v", err)
	}

	// A rebuilt shard reuses an empty entry's capacity.
	got = chunkShards(store, 0, 5)
	buf := make([]byte, 0, m.ShardSize(0))
	got[1] = buf
	if _, err := dec.Reconstruct(m, 0, got); err != nil {
		t.Fatal(err)
	}
	want, _ := store.get(0, 1)
	if !bytes.Equal(got[1], want) || &got[1][0] != &buf[:1][0] {
		t.Fatal("shard 1 was not rebuilt into the given buffer")
	}

	// A manifest whose parity is not the code word of its data: rebuilding
	// the parity shows it.
	forged := forge(t, m, 0, 1+4, Sum([]byte("not the parity")))
	got = chunkShards(store, 0, 5)
	got[4] = nil
	if _, err := dec.Reconstruct(forged, 0, got); !errors.Is(err, ErrChunkMismatch) {
		t.Fatalf("inconsistent manifest: %v", err)
	}

	// The package-level function.
	got = chunkShards(store, 2, 5)
	got[0], got[2] = nil, nil
	if rep, err := Reconstruct(m, 2, got); err != nil || !slices.Equal(rep.Rebuilt, []int{0, 2}) {
		t.Fatalf("Reconstruct: %+v, %v", rep, err)
	}
	for s, w := range chunkShards(store, 2, 5) {
		if !bytes.Equal(got[s], w) {
			t.Fatalf("shard %d", s)
		}
	}
}

// TestDecodeDetectsInconsistentManifest: an uploader can sign a manifest
// whose shards are not one code word. Readers then get the content or an
// error, never other bytes.
func TestDecodeDetectsInconsistentManifest(t *testing.T) {
	opts := &Options{ChunkSize: 1024, DataShards: 2, ParityShards: 2}
	data := randBytes(71, 3000)
	_, m, store := encodeBytes(t, opts, data)
	// Chunk 1's shard 2 replaced by garbage, with a manifest that lists it.
	garbage := randBytes(72, m.ShardSize(1))
	forged := forge(t, m, 1, 1+2, Sum(garbage))
	id := forged.CID()
	serve := func(lost int) *testSource {
		return &testSource{store: store, serve: func(c, s int, b []byte) ([]byte, error) {
			if c == 1 && s == 2 {
				return garbage, nil
			}
			if c == 1 && s == lost {
				return nil, fmt.Errorf("lost")
			}
			return b, nil
		}}
	}
	// From the data shards the chunk is right.
	out, _, err := decodeBytes(t, id, forged, serve(-1))
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("from data shards: %v", err)
	}
	// Through the garbage parity it is caught.
	out, _, err = decodeBytes(t, id, forged, serve(0))
	if !errors.Is(err, ErrChunkMismatch) || !bytes.Equal(out, data[:1024]) {
		t.Fatalf("through forged parity: %v, %d bytes", err, len(out))
	}
}
