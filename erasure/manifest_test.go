package erasure

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/zeebo/blake3"
)

// expectedManifest builds the canonical manifest bytes of an encoded object
// from its parts, independently of Manifest.Encode: the header fields, then
// per chunk BLAKE3 of the chunk's bytes and of each stored shard.
func expectedManifest(t *testing.T, data []byte, p Params, store *memStore) []byte {
	t.Helper()
	var b []byte
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(len(data)))
	b = binary.BigEndian.AppendUint32(b, uint32(p.ChunkSize))
	b = binary.BigEndian.AppendUint16(b, uint16(p.DataShards))
	b = binary.BigEndian.AppendUint16(b, uint16(p.DataShards+p.ParityShards))
	for c := 0; c*p.ChunkSize < len(data); c++ {
		h := blake3.Sum256(data[c*p.ChunkSize : min(len(data), (c+1)*p.ChunkSize)])
		b = append(b, h[:]...)
		for s := range p.DataShards + p.ParityShards {
			shard, ok := store.get(c, s)
			if !ok {
				t.Fatalf("no shard %d/%d stored", c, s)
			}
			h := blake3.Sum256(shard)
			b = append(b, h[:]...)
		}
	}
	return b
}

func TestManifestEncoding(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		size int
	}{
		{Options{ChunkSize: 1024, DataShards: 1, ParityShards: 1}, 0},
		{Options{ChunkSize: 1024, DataShards: 3, ParityShards: 2}, 1},
		{Options{ChunkSize: 1024, DataShards: 3, ParityShards: 2}, 1024},
		{Options{ChunkSize: 1024, DataShards: 3, ParityShards: 2}, 5000},
		{Options{ChunkSize: 4096, DataShards: 10, ParityShards: 6}, 40000},
	} {
		opts := tc.opts
		opts.EnsureDefaults()
		data := randBytes(uint64(tc.size), tc.size)
		_, m, store := encodeBytes(t, &opts, data)
		enc := m.Encode()
		if want := expectedManifest(t, data, opts.Params(), store); !bytes.Equal(enc, want) {
			t.Fatalf("%+v size %d: encoding differs from the format:\n got %x\nwant %x", opts.Params(), tc.size, enc, want)
		}
		if m.EncodedLen() != len(enc) {
			t.Fatalf("EncodedLen %d, len %d", m.EncodedLen(), len(enc))
		}
		if mb, _ := m.MarshalBinary(); !bytes.Equal(mb, enc) {
			t.Fatal("MarshalBinary differs from Encode")
		}
		if app := m.AppendEncode([]byte("x")); !bytes.Equal(app[1:], enc) || app[0] != 'x' {
			t.Fatal("AppendEncode does not append")
		}
		if m.Digest() != Hash(blake3.Sum256(enc)) {
			t.Fatal("Digest is not BLAKE3 of the encoding")
		}
		back, err := DecodeManifest(enc)
		if err != nil {
			t.Fatalf("DecodeManifest: %v", err)
		}
		if !bytes.Equal(back.Encode(), enc) || back.Params() != m.Params() || back.ContentSize() != m.ContentSize() || back.NumChunks() != m.NumChunks() {
			t.Fatalf("round trip differs")
		}
		// The decoded manifest does not alias its input.
		clear(enc)
		if back.NumChunks() > 0 && back.ChunkHash(0) != m.ChunkHash(0) {
			t.Fatal("decoded manifest aliases its input")
		}
	}
}

// header returns a manifest header.
func header(version byte, size uint64, chunkSize uint32, k, n uint16) []byte {
	b := []byte{version}
	b = binary.BigEndian.AppendUint64(b, size)
	b = binary.BigEndian.AppendUint32(b, chunkSize)
	b = binary.BigEndian.AppendUint16(b, k)
	b = binary.BigEndian.AppendUint16(b, n)
	return b
}

func TestDecodeManifestStrict(t *testing.T) {
	_, m, _ := encodeBytes(t, &Options{ChunkSize: 1024, DataShards: 2, ParityShards: 2}, randBytes(1, 3000))
	good := m.Encode()
	body := func(chunks, n int) []byte { return make([]byte, chunks*(n+1)*HashSize) }
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", good[:manifestHeaderSize-1]},
		{"truncated body", good[:len(good)-1]},
		{"truncated by a chunk", good[:len(good)-5*HashSize]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"trailing chunk", append(bytes.Clone(good), body(1, 4)...)},
		{"version 0", append(header(0, 3000, 1024, 2, 4), body(3, 4)...)},
		{"version 2", append(header(2, 3000, 1024, 2, 4), body(3, 4)...)},
		{"k zero", append(header(1, 3000, 1024, 0, 4), body(3, 4)...)},
		{"n equals k", append(header(1, 3000, 1024, 2, 2), body(3, 2)...)},
		{"n below k", append(header(1, 3000, 1024, 3, 2), body(3, 2)...)},
		{"n above 256", append(header(1, 3000, 1024, 2, 257), body(3, 257)...)},
		{"chunk size small", append(header(1, 3000, MinChunkSize-1, 2, 4), body(4, 4)...)},
		{"chunk size large", append(header(1, 3000, MaxChunkSize+1, 2, 4), body(1, 4)...)},
		{"chunk size huge", append(header(1, 3000, 0xffffffff, 2, 4), body(1, 4)...)},
		{"size says more chunks", append(header(1, 4000, 1024, 2, 4), body(3, 4)...)},
		{"size says fewer chunks", append(header(1, 2000, 1024, 2, 4), body(3, 4)...)},
		{"zero size with a chunk", append(header(1, 0, 1024, 2, 4), body(1, 4)...)},
		{"too many chunks", header(1, uint64(MaxChunks)*1024+1, 1024, 2, 4)},
		{"max size", header(1, ^uint64(0), MinChunkSize, 1, 256)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := DecodeManifest(c.b)
			if !errors.Is(err, ErrMalformedManifest) || m != nil {
				t.Fatalf("DecodeManifest = %v, %v; want ErrMalformedManifest", m, err)
			}
		})
	}
	// Empty content has a header only.
	m0, err := DecodeManifest(header(1, 0, 1024, 2, 4))
	if err != nil || m0.NumChunks() != 0 || m0.ContentSize() != 0 {
		t.Fatalf("empty manifest: %v, %v", m0, err)
	}
}

// TestDecodeManifestAllocatesAfterChecks feeds headers that claim the most
// a manifest may hold with no body: they must fail without allocating it.
func TestDecodeManifestAllocatesAfterChecks(t *testing.T) {
	b := header(1, uint64(MaxChunks)*MinChunkSize, MinChunkSize, 1, 256) // claims 8.6 GB of hashes
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	for range 100 {
		if _, err := DecodeManifest(b); !errors.Is(err, ErrMalformedManifest) {
			t.Fatalf("err = %v", err)
		}
	}
	runtime.ReadMemStats(&ms)
	if got := ms.TotalAlloc - before; got > 1<<20 {
		t.Fatalf("100 failed decodes allocated %d bytes", got)
	}
}

func TestManifestAccessors(t *testing.T) {
	opts := &Options{ChunkSize: 1024, DataShards: 3, ParityShards: 2}
	data := randBytes(9, 2*1024+10)
	_, m, store := encodeBytes(t, opts, data)
	wantLens := []int{1024, 1024, 10}
	for i, l := range wantLens {
		if m.ChunkLen(i) != l || m.ShardSize(i) != (l+2)/3 {
			t.Fatalf("chunk %d: len %d shard %d", i, m.ChunkLen(i), m.ShardSize(i))
		}
		for s := range 5 {
			b, _ := store.get(i, s)
			if m.ShardHash(i, s) != Hash(blake3.Sum256(b)) {
				t.Fatalf("shard hash %d/%d", i, s)
			}
		}
	}
	for _, f := range []func(){
		func() { m.ChunkLen(3) },
		func() { m.ChunkHash(-1) },
		func() { m.ShardHash(0, 5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("out-of-range accessor did not panic")
				}
			}()
			f()
		}()
	}
	// VerifyShard never panics: indices from the network get errors.
	b, _ := store.get(1, 1)
	for _, ij := range [][2]int{{-1, 0}, {3, 0}, {0, -1}, {0, 5}} {
		err := VerifyShard(m, ij[0], ij[1], b)
		var se *ShardError
		if !errors.Is(err, ErrShardIndex) || !errors.As(err, &se) || se.Chunk != ij[0] || se.Shard != ij[1] {
			t.Fatalf("VerifyShard(%v) = %v", ij, err)
		}
	}
	if err := VerifyShard(m, 1, 1, b); err != nil {
		t.Fatalf("VerifyShard of a good shard: %v", err)
	}
	if err := VerifyShard(m, 1, 2, b); !errors.Is(err, ErrShardMismatch) {
		t.Fatalf("VerifyShard of another shard: %v", err)
	}
	if err := VerifyShard(m, 2, 1, b); !errors.Is(err, ErrShardSize) {
		t.Fatalf("VerifyShard of a shard of another size: %v", err)
	}
}
