// Package digest is dagd's BLAKE3-256 digest type and hashing functions,
// without cgo: light clients (state/proof) build it for linux/arm64 with
// CGO_ENABLED=0, which the rest of package crypto (blst) does not allow.
// Package crypto re-exports everything here under its own names.
package digest

import (
	"encoding/hex"
	"fmt"

	"github.com/zeebo/blake3"
)

// Size is the length in bytes of a Digest.
const Size = 32

// Digest is a BLAKE3-256 hash. It names batches, headers, certificates,
// transactions and content everywhere in dagd.
type Digest [Size]byte

// Hash returns the BLAKE3-256 digest of the concatenation of parts.
func Hash(parts ...[]byte) Digest {
	h := blake3.New()
	for _, p := range parts {
		_, _ = h.Write(p) // blake3.Hasher.Write never fails
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// NewHasher returns a streaming BLAKE3-256 hasher whose Sum matches Hash.
func NewHasher() *blake3.Hasher { return blake3.New() }

// String returns the lower-case hex form of d.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Short returns the first eight hex characters of d, for logs.
func (d Digest) Short() string { return hex.EncodeToString(d[:4]) }

// IsZero reports whether d is the all-zero digest.
func (d Digest) IsZero() bool { return d == Digest{} }

// Parse parses the 64-character hex form produced by String.
func Parse(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*Size {
		return d, fmt.Errorf("crypto: digest must be %d hex characters, got %d", 2*Size, len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("crypto: parse digest: %w", err)
	}
	return d, nil
}
