package erasure

import (
	"encoding/hex"

	"github.com/zeebo/blake3"
)

// HashSize is the length in bytes of a Hash.
const HashSize = 32

// Hash is a BLAKE3-256 digest: of a chunk's plain bytes, of a shard, or of
// a canonical manifest. It is the same function as dagd's crypto.Digest;
// this package computes it with zeebo/blake3 itself to stay a leaf.
type Hash [HashSize]byte

// String returns the lower-case hex form of h.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Sum returns the BLAKE3-256 hash of b.
func Sum(b []byte) Hash { return Hash(blake3.Sum256(b)) }
