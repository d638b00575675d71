package crypto

import (
	"github.com/dagd/dagd/crypto/digest"
	"github.com/zeebo/blake3"
)

// DigestSize is the length in bytes of a Digest.
const DigestSize = digest.Size

// Digest is a BLAKE3-256 hash. It names batches, headers, certificates,
// transactions and content everywhere in dagd. It is digest.Digest, which
// light clients use without cgo.
type Digest = digest.Digest

// Hash returns the BLAKE3-256 digest of the concatenation of parts.
func Hash(parts ...[]byte) Digest { return digest.Hash(parts...) }

// NewHasher returns a streaming BLAKE3-256 hasher whose Sum matches Hash.
func NewHasher() *blake3.Hasher { return digest.NewHasher() }

// ParseDigest parses the 64-character hex form produced by Digest.String.
func ParseDigest(s string) (Digest, error) { return digest.Parse(s) }
