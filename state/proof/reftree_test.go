package proof_test

import (
	"bytes"
	"slices"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/state/proof"
)

// refTree is a plain, non-incremental model of the compressed sparse Merkle
// tree of the package comment, built from scratch from a map. It gives the
// roots and proofs the tests check VerifyProof and the codec against.
type refTree struct {
	leaves []refLeaf // sorted by key hash
}

type refLeaf struct {
	kh, vh digest.Digest
}

func newRefTree(m map[string][]byte) *refTree {
	t := &refTree{}
	for k, v := range m {
		t.leaves = append(t.leaves, refLeaf{proof.KeyHash([]byte(k)), proof.ValueHash(v)})
	}
	slices.SortFunc(t.leaves, func(a, b refLeaf) int { return bytes.Compare(a.kh[:], b.kh[:]) })
	return t
}

func split(ls []refLeaf, depth int) ([]refLeaf, []refLeaf) {
	i := 0
	for i < len(ls) && proof.Bit(ls[i].kh, depth) == 0 {
		i++
	}
	return ls[:i], ls[i:]
}

func subtreeHash(ls []refLeaf, depth int) digest.Digest {
	switch len(ls) {
	case 0:
		return proof.EmptyHash()
	case 1:
		return proof.LeafHash(ls[0].kh, ls[0].vh)
	}
	l, r := split(ls, depth)
	return proof.InternalHash(subtreeHash(l, depth+1), subtreeHash(r, depth+1))
}

func (t *refTree) root() digest.Digest { return subtreeHash(t.leaves, 0) }

// prove walks down the key's path as the package comment describes.
func (t *refTree) prove(key []byte) *proof.Proof {
	kh := proof.KeyHash(key)
	p := &proof.Proof{}
	ls := t.leaves
	for depth := 0; ; depth++ {
		switch len(ls) {
		case 0:
			return p
		case 1:
			p.Leaf = &proof.Leaf{KeyHash: ls[0].kh, ValueHash: ls[0].vh}
			return p
		}
		l, r := split(ls, depth)
		if proof.Bit(kh, depth) == 0 {
			p.Siblings = append(p.Siblings, subtreeHash(r, depth+1))
			ls = l
		} else {
			p.Siblings = append(p.Siblings, subtreeHash(l, depth+1))
			ls = r
		}
	}
}
