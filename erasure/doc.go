// Package erasure is the leaf of dagd's content-addressed storage: it cuts
// content into chunks, codes each chunk with Reed-Solomon into n shards any
// k of which rebuild it, commits to every shard in a Manifest, and names
// the content with a CIDv1 whose multihash is BLAKE3. It does no I/O of its
// own: an Encoder reads an io.Reader and hands shards to a ShardSink; a
// Decoder takes shards from a ShardSource and writes an io.Writer. Moving
// shards between holders is the engine's job.
//
// # Chunks and shards
//
// Content is cut into chunks of Params.ChunkSize bytes (1 MiB by default);
// the last may be shorter. Chunk i of length L is split into k data shards
// of ceil(L/k) bytes (the last padded with zeros) and coded into n-k parity
// shards with klauspost/reedsolomon: GF(2^8), the library's default
// systematic Vandermonde matrix, on its SIMD paths. k defaults to f+1 for a
// committee of four (CommitteeShards computes it for other sizes), so the
// honest holders' shards always suffice.
//
// The library's coder runs on one goroutine per chunk by default
// (Options.CoderGoroutines) and chunks run in parallel
// (Options.Concurrency): on small machines the library's own goroutines
// slow 1 MiB chunks down. Each coder keeps its inversion cache. The
// measurements behind these defaults are in bench/erasure.md.
//
// # Manifest
//
// A Manifest holds the Params, the content size and, per chunk, the BLAKE3
// hash of the chunk's plain bytes and of each of its n shards. Its binary
// encoding is canonical (fixed-width fields; see Manifest) and its decoder,
// DecodeManifest, is strict: an unknown version, parameters out of range,
// a length that does not match the counts, or trailing bytes all fail, and
// counts are checked before anything is allocated.
//
// # Identifiers
//
// Every CID is version 1 with a BLAKE3-256 multihash (code 0x1e). The hash
// is computed with zeebo/blake3 and wrapped with multihash.Encode, and CIDs
// are built and parsed with go-cid:
//
//   - Every stored object, of any size (empty content and content of one
//     chunk included), gets ManifestCodec (0x30dad0, from the multicodec
//     range reserved for private use, 0x300000–0x3fffff) over the BLAKE3
//     hash of the canonical manifest encoding (Manifest.Digest), so the
//     CID commits to k, n and every shard hash.
//   - RawCID gives the ordinary IPFS raw CID (codec 0x55) of bytes; it
//     names bytes, never a stored object.
//
// The same bytes always give the same CID on every machine: every step is
// deterministic and the SIMD paths of the coder give the same parity as its
// generic code (the tests check this against a plain reference coder). The
// CID also depends on the Params, since
// the manifest records them and its shard hashes follow from them: a
// network fixes its chunk size, k and n, and content stored with other
// Params has another CID. The Reed-Solomon matrix is part of the format
// (ManifestVersion 1); a change of coder would need a new version.
//
// # What is checked, and against what
//
// A manifest is checked against a CID with VerifyManifest (OpenManifest
// decodes and checks). For a manifest CID the digest must be the hash of
// the manifest, so all of it, shard hashes included, is authentic. A raw
// CID is refused: it would fix the content bytes but not the shard hashes,
// and whoever knew small content could then register it first with
// garbage shards that no holder can decode.
//
// The Decoder checks each shard against the manifest before use (a wrong
// or missing shard is skipped, reported as a *ShardError naming chunk and
// shard, and replaced by another holder's), rebuilds the chunk from k good
// shards, checks the chunk hash and only then writes the chunk. So a
// reader gets the content the CID names, or an error; never other bytes,
// even from a manifest whose shards are not one code word (whoever made it
// can only cause ErrChunkMismatch). Reconstruct, the repair path, rebuilds
// all n shards of a chunk and checks each against the manifest, so what it
// returns is fit to store, and a manifest that is not a code word is caught
// there.
//
// On the write side, VerifyShard is what a holder runs before it keeps a
// shard, and a failed Encode (a truncated or overlong upload, a reader or
// sink error) returns no manifest and no CID: nothing names the shards
// already handed to the sink.
//
// # Memory
//
// Encoding and decoding stream: about 2×Concurrency chunks with their
// parity are in memory at once, whatever the size of the content, plus the
// manifest itself (32×(n+1) bytes per chunk, 160 bytes per MiB with the
// defaults). MaxChunks bounds the manifest; no input from the network can
// make this package allocate more than its limits.
//
// Importing go-multihash registers that library's own hash functions; this
// package never calls multihash.Sum, so zeebo/blake3 is its only BLAKE3.
package erasure
