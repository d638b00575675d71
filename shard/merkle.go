package shard

import (
	"github.com/dagd/dagd/crypto"
)

// Domain bytes of the per-commit Merkle trees (see MerkleRoot).
const (
	merkleLeaf     = 0x00
	merkleInternal = 0x01
)

// MerkleRoot returns the root of the binary Merkle tree over leaves, in
// order, as RFC 6962 defines it with BLAKE3-256 for SHA-256:
//
//	root()            = BLAKE3()                          no leaves: the hash of nothing
//	root(d)           = BLAKE3(0x00 || d)                 one leaf
//	root(d[0:n])      = BLAKE3(0x01 || root(d[0:k]) || root(d[k:n]))
//	                    k is the largest power of two below n
//
// The domain bytes keep a leaf from passing for an internal node, so an
// inclusion proof (the siblings along the path, as in RFC 6962) proves one
// leaf at one position. The commit's transactions root is MerkleRoot of
// the 32-byte digests of the transactions that got a receipt, in
// execution order; its receipts root is MerkleRoot of their encoded
// receipts, in the same order.
func MerkleRoot(leaves [][]byte) crypto.Digest {
	if len(leaves) == 0 {
		return crypto.Hash()
	}
	h := crypto.NewHasher()
	level := make([]crypto.Digest, len(leaves))
	for i, l := range leaves {
		h.Reset()
		_, _ = h.Write([]byte{merkleLeaf})
		_, _ = h.Write(l)
		h.Sum(level[i][:0])
	}
	// Pairing neighbours level by level and carrying an odd last node up
	// unchanged builds exactly the RFC 6962 tree.
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i+1 < len(level); i += 2 {
			var d crypto.Digest
			h.Reset()
			_, _ = h.Write([]byte{merkleInternal})
			_, _ = h.Write(level[i][:])
			_, _ = h.Write(level[i+1][:])
			h.Sum(d[:0])
			next = append(next, d)
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
}

// digestLeaves returns the digests as Merkle leaves.
func digestLeaves(ds []crypto.Digest) [][]byte {
	out := make([][]byte, len(ds))
	for i := range ds {
		out[i] = ds[i][:]
	}
	return out
}
