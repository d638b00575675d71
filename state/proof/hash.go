package proof

import (
	"hash"

	"github.com/dagd/dagd/crypto/digest"
)

// Domain-separation prefixes of the node hashes (see the package comment).
const (
	// LeafPrefix starts the preimage of a leaf hash.
	LeafPrefix byte = 0x00
	// InternalPrefix starts the preimage of an internal node hash.
	InternalPrefix byte = 0x01
	// EmptyPrefix is the whole preimage of the empty subtree hash.
	EmptyPrefix byte = 0x02
)

// PathBits is the length in bits of a key's path, the depth of the deepest
// possible node, and the largest number of siblings in a proof.
const PathBits = 8 * digest.Size

// emptyHash is computed once and never written again.
var emptyHash = digest.Hash([]byte{EmptyPrefix})

// EmptyHash returns the hash of an empty subtree, at any depth, which is also
// the root of the empty tree: BLAKE3-256(0x02).
func EmptyHash() digest.Digest { return emptyHash }

// KeyHash returns the path of key in the tree: BLAKE3-256(key).
func KeyHash(key []byte) digest.Digest { return digest.Hash(key) }

// ValueHash returns the hash of a value stored in a leaf: BLAKE3-256(value).
func ValueHash(value []byte) digest.Digest { return digest.Hash(value) }

// LeafHash returns BLAKE3-256(0x00 || keyHash || valueHash).
func LeafHash(keyHash, valueHash digest.Digest) digest.Digest {
	return digest.Hash([]byte{LeafPrefix}, keyHash[:], valueHash[:])
}

// InternalHash returns BLAKE3-256(0x01 || left || right).
func InternalHash(left, right digest.Digest) digest.Digest {
	return digest.Hash([]byte{InternalPrefix}, left[:], right[:])
}

// Bit returns bit i (0 = most significant bit of byte 0) of a path: 0 means
// the path goes left at depth i, 1 that it goes right. i must be below
// PathBits.
func Bit(path digest.Digest, i int) int {
	return int(path[i>>3]>>(7-uint(i&7))) & 1
}

// CommonPrefixBits returns the number of leading bits a and b share, from 0
// to PathBits.
func CommonPrefixBits(a, b digest.Digest) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			n := 0
			for x&0x80 == 0 {
				x <<= 1
				n++
			}
			return 8*i + n
		}
	}
	return PathBits
}

// Hasher computes the tree's hashes with one reused BLAKE3 state, which is
// much cheaper than the package functions when many nodes are hashed. It
// gives the same results as KeyHash, ValueHash, LeafHash and InternalHash.
// A Hasher is not safe for concurrent use; use one per goroutine.
type Hasher struct {
	h   hash.Hash
	buf [1 + 2*digest.Size]byte
	out [digest.Size]byte // Sum's destination: a local one would escape
}

// NewHasher returns a Hasher.
func NewHasher() *Hasher { return &Hasher{h: digest.NewHasher()} }

func (h *Hasher) sum(b []byte) digest.Digest {
	h.h.Reset()
	_, _ = h.h.Write(b) // a BLAKE3 hasher never fails to write
	h.h.Sum(h.out[:0])
	return digest.Digest(h.out)
}

// Key returns KeyHash(key).
func (h *Hasher) Key(key []byte) digest.Digest { return h.sum(key) }

// Value returns ValueHash(value).
func (h *Hasher) Value(value []byte) digest.Digest { return h.sum(value) }

// Leaf returns LeafHash(keyHash, valueHash).
func (h *Hasher) Leaf(keyHash, valueHash digest.Digest) digest.Digest {
	h.buf[0] = LeafPrefix
	copy(h.buf[1:], keyHash[:])
	copy(h.buf[1+digest.Size:], valueHash[:])
	return h.sum(h.buf[:])
}

// Internal returns InternalHash(left, right).
func (h *Hasher) Internal(left, right digest.Digest) digest.Digest {
	h.buf[0] = InternalPrefix
	copy(h.buf[1:], left[:])
	copy(h.buf[1+digest.Size:], right[:])
	return h.sum(h.buf[:])
}
