package erasure

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ManifestVersion is the version byte of the manifest encoding this package
// writes and the only one it reads.
const ManifestVersion = 1

// manifestHeaderSize is the length of the fixed part of an encoded
// manifest: version (1), content size (8), chunk size (4), k (2), n (2).
const manifestHeaderSize = 1 + 8 + 4 + 2 + 2

// Manifest commits to every shard of an object: for each chunk, the BLAKE3
// hash of its plain bytes and the BLAKE3 hashes of its n shards, with the
// Params and the content size. A Manifest comes from an Encoder or from
// DecodeManifest and is immutable, so it is safe for concurrent use.
//
// The canonical encoding (Encode) is, with big-endian integers:
//
//	version      uint8   ManifestVersion (1)
//	content size uint64  bytes of content
//	chunk size   uint32  Params.ChunkSize
//	k            uint16  Params.DataShards
//	n            uint16  Params.TotalShards()
//	then for each of the ceil(content size / chunk size) chunks:
//	  chunk hash [32]byte  BLAKE3-256 of the chunk's plain bytes
//	  shard hash [n][32]byte  BLAKE3-256 of each shard, in shard order
//
// Every field is fixed-width and the chunk count follows from the sizes,
// so each manifest has exactly one encoding.
type Manifest struct {
	params Params
	size   uint64
	chunks int
	// hashes holds, per chunk, the chunk hash then its n shard hashes.
	hashes []Hash
}

// Params returns the coding parameters of the object.
func (m *Manifest) Params() Params { return m.params }

// ContentSize returns the length of the content in bytes.
func (m *Manifest) ContentSize() uint64 { return m.size }

// NumChunks returns the number of chunks: 0 for empty content.
func (m *Manifest) NumChunks() int { return m.chunks }

// ChunkLen returns the number of content bytes of chunk i. It panics if i
// is out of range, as slice indexing does; check indices that come from
// the network with VerifyShard or against NumChunks.
func (m *Manifest) ChunkLen(i int) int {
	m.checkChunk(i)
	if i < m.chunks-1 {
		return m.params.ChunkSize
	}
	return int(m.size - uint64(m.chunks-1)*uint64(m.params.ChunkSize))
}

// ShardSize returns the length of each shard of chunk i: the chunk length
// divided by k, rounded up (the last data shard is padded with zeros).
func (m *Manifest) ShardSize(i int) int {
	return (m.ChunkLen(i) + m.params.DataShards - 1) / m.params.DataShards
}

// ChunkHash returns the BLAKE3 hash of the plain bytes of chunk i.
func (m *Manifest) ChunkHash(i int) Hash {
	m.checkChunk(i)
	return m.hashes[i*(m.params.TotalShards()+1)]
}

// ShardHash returns the BLAKE3 hash of shard j of chunk i.
func (m *Manifest) ShardHash(i, j int) Hash {
	m.checkChunk(i)
	n := m.params.TotalShards()
	if j < 0 || j >= n {
		panic(fmt.Sprintf("erasure: shard %d out of range [0, %d)", j, n))
	}
	return m.hashes[i*(n+1)+1+j]
}

func (m *Manifest) checkChunk(i int) {
	if i < 0 || i >= m.chunks {
		panic(fmt.Sprintf("erasure: chunk %d out of range [0, %d)", i, m.chunks))
	}
}

// EncodedLen returns the length of the canonical encoding of m.
func (m *Manifest) EncodedLen() int { return manifestHeaderSize + len(m.hashes)*HashSize }

// Encode returns the canonical encoding of m.
func (m *Manifest) Encode() []byte {
	return m.AppendEncode(make([]byte, 0, m.EncodedLen()))
}

// AppendEncode appends the canonical encoding of m to dst.
func (m *Manifest) AppendEncode(dst []byte) []byte {
	dst = append(dst, ManifestVersion)
	dst = binary.BigEndian.AppendUint64(dst, m.size)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.params.ChunkSize))
	dst = binary.BigEndian.AppendUint16(dst, uint16(m.params.DataShards))
	dst = binary.BigEndian.AppendUint16(dst, uint16(m.params.TotalShards()))
	for i := range m.hashes {
		dst = append(dst, m.hashes[i][:]...)
	}
	return dst
}

// MarshalBinary returns the canonical encoding of m; it never fails.
func (m *Manifest) MarshalBinary() ([]byte, error) { return m.Encode(), nil }

// Digest returns the BLAKE3-256 hash of the canonical encoding of m: the
// multihash digest of the object's CID.
func (m *Manifest) Digest() Hash { return Sum(m.Encode()) }

// numChunks returns ceil(size / chunkSize) and whether it is at most
// MaxChunks. chunkSize must be positive.
func numChunks(size uint64, chunkSize int) (int, bool) {
	cs := uint64(chunkSize)
	c := size / cs
	if size%cs != 0 {
		c++
	}
	if c > MaxChunks {
		return 0, false
	}
	return int(c), true
}

// DecodeManifest decodes the canonical encoding of a manifest. It is strict:
// an unknown version, parameters out of range, more than MaxChunks chunks,
// a body shorter or longer than the sizes say, all fail with an error that
// wraps ErrMalformedManifest. It checks every count before it allocates,
// and never allocates more than len(b). The result does not alias b.
//
// A manifest that decodes is well formed, not authentic: check it against
// the object's CID with VerifyManifest (or use OpenManifest).
func DecodeManifest(b []byte) (*Manifest, error) {
	if len(b) < manifestHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformedManifest, len(b), manifestHeaderSize)
	}
	if v := b[0]; v != ManifestVersion {
		return nil, fmt.Errorf("%w: unknown version %d (want %d)", ErrMalformedManifest, v, ManifestVersion)
	}
	size := binary.BigEndian.Uint64(b[1:9])
	chunkSize := binary.BigEndian.Uint32(b[9:13])
	k := int(binary.BigEndian.Uint16(b[13:15]))
	n := int(binary.BigEndian.Uint16(b[15:17]))
	if uint64(chunkSize) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: chunk size %d too large", ErrMalformedManifest, chunkSize)
	}
	p := Params{ChunkSize: int(chunkSize), DataShards: k, ParityShards: n - k}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedManifest, err)
	}
	chunks, ok := numChunks(size, p.ChunkSize)
	if !ok {
		return nil, fmt.Errorf("%w: content size %d at chunk size %d needs more than %d chunks", ErrMalformedManifest, size, p.ChunkSize, MaxChunks)
	}
	// chunks <= 2^20 and n+1 <= 257: the product fits in 64 bits.
	want := uint64(chunks) * uint64(n+1) * HashSize
	have := uint64(len(b) - manifestHeaderSize)
	switch {
	case have < want:
		return nil, fmt.Errorf("%w: truncated: %d chunks of %d shards need %d bytes of hashes, have %d", ErrMalformedManifest, chunks, n, want, have)
	case have > want:
		return nil, fmt.Errorf("%w: %d trailing bytes after %d chunks of %d shards", ErrMalformedManifest, have-want, chunks, n)
	}
	m := &Manifest{params: p, size: size, chunks: chunks, hashes: make([]Hash, chunks*(n+1))}
	body := b[manifestHeaderSize:]
	for i := range m.hashes {
		copy(m.hashes[i][:], body[i*HashSize:])
	}
	return m, nil
}

// VerifyShard checks that data is shard j of chunk i of m: that the indices
// are in range, the length is the chunk's shard size and the BLAKE3 hash
// is the manifest's. A holder calls it before it stores a shard; the
// decoder calls it on every shard before use. The error is a *ShardError.
func VerifyShard(m *Manifest, i, j int, data []byte) error {
	if se := verifyShard(m, i, j, data); se != nil {
		return se
	}
	return nil
}

func verifyShard(m *Manifest, i, j int, data []byte) *ShardError {
	if i < 0 || i >= m.chunks || j < 0 || j >= m.params.TotalShards() {
		return &ShardError{Chunk: i, Shard: j, Err: fmt.Errorf("%w: manifest has %d chunks of %d shards", ErrShardIndex, m.chunks, m.params.TotalShards())}
	}
	if ss := m.ShardSize(i); len(data) != ss {
		return &ShardError{Chunk: i, Shard: j, Err: fmt.Errorf("%w: %d bytes, want %d", ErrShardSize, len(data), ss)}
	}
	if got, want := Sum(data), m.ShardHash(i, j); got != want {
		return &ShardError{Chunk: i, Shard: j, Err: fmt.Errorf("%w: hash %s, want %s", ErrShardMismatch, got, want)}
	}
	return nil
}

// manifestBuilder accumulates the hashes of an object chunk by chunk.
type manifestBuilder struct {
	m Manifest
}

func newManifestBuilder(p Params, sizeHint int64) *manifestBuilder {
	b := &manifestBuilder{m: Manifest{params: p}}
	if sizeHint > 0 {
		if c, ok := numChunks(uint64(sizeHint), p.ChunkSize); ok {
			b.m.hashes = make([]Hash, 0, c*(p.TotalShards()+1))
		}
	}
	return b
}

// add appends one chunk of chunkLen bytes with its chunk and shard hashes.
func (b *manifestBuilder) add(chunkLen int, chunkHash Hash, shardHashes []Hash) {
	b.m.hashes = append(b.m.hashes, chunkHash)
	b.m.hashes = append(b.m.hashes, shardHashes...)
	b.m.chunks++
	b.m.size += uint64(chunkLen)
}

func (b *manifestBuilder) manifest() *Manifest {
	m := b.m
	return &m
}
