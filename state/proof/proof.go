package proof

import (
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto/digest"
)

// ErrInvalid is wrapped by every error VerifyProof returns: the proof does
// not show the claim under the root.
var ErrInvalid = errors.New("proof: invalid proof")

// Leaf is the leaf at the end of a proof's path: the key hash and value hash
// it commits to.
type Leaf struct {
	// KeyHash is the full 256-bit path of the leaf's key.
	KeyHash digest.Digest
	// ValueHash is ValueHash of the leaf's value.
	ValueHash digest.Digest
}

// Proof shows that a key holds a value (an inclusion proof) or holds nothing
// (a non-inclusion proof) in the tree of one root. See the package comment
// for its meaning and VerifyProof for its check.
type Proof struct {
	// Siblings holds, root first, the hashes of the subtrees beside the
	// key's path: Siblings[i] is the child at depth i+1 of the path's node
	// at depth i that is not on the path, EmptyHash() when it is empty. At
	// most PathBits entries.
	Siblings []digest.Digest
	// Leaf is the leaf where the path ends at depth len(Siblings): the key's
	// own leaf in an inclusion proof, or the leaf of another key that
	// occupies the key's place in a non-inclusion proof. Nil when the path
	// ends at an empty subtree (non-inclusion).
	Leaf *Leaf
}

// Inclusion reports whether p claims that key is present: its leaf carries
// key's own key hash.
func (p *Proof) Inclusion(key []byte) bool {
	return p != nil && p.Leaf != nil && p.Leaf.KeyHash == KeyHash(key)
}

// Equal reports whether p and q are the same proof.
func (p *Proof) Equal(q *Proof) bool {
	if p == nil || q == nil {
		return p == q
	}
	if len(p.Siblings) != len(q.Siblings) || (p.Leaf == nil) != (q.Leaf == nil) {
		return false
	}
	if p.Leaf != nil && *p.Leaf != *q.Leaf {
		return false
	}
	for i := range p.Siblings {
		if p.Siblings[i] != q.Siblings[i] {
			return false
		}
	}
	return true
}

// VerifyProof checks that, in the tree whose root is root, key holds value
// (value non-nil, possibly empty) or holds nothing (value nil). It needs
// nothing but its arguments and returns nil only when the proof shows the
// claim; every failure wraps ErrInvalid.
func VerifyProof(root digest.Digest, key []byte, value []byte, proof *Proof) error {
	if proof == nil {
		return fmt.Errorf("%w: no proof", ErrInvalid)
	}
	n := len(proof.Siblings)
	if n > PathBits {
		return fmt.Errorf("%w: %d siblings, at most %d", ErrInvalid, n, PathBits)
	}
	h := NewHasher()
	kh := h.Key(key)
	var cur digest.Digest
	switch {
	case value != nil:
		if proof.Leaf == nil {
			return fmt.Errorf("%w: inclusion claimed but the proof ends at an empty subtree", ErrInvalid)
		}
		if proof.Leaf.KeyHash != kh {
			return fmt.Errorf("%w: inclusion claimed but the proof's leaf holds another key", ErrInvalid)
		}
		vh := h.Value(value)
		if proof.Leaf.ValueHash != vh {
			return fmt.Errorf("%w: the proof's leaf holds another value", ErrInvalid)
		}
		cur = h.Leaf(kh, vh)
	case proof.Leaf == nil:
		cur = emptyHash
	default:
		if proof.Leaf.KeyHash == kh {
			return fmt.Errorf("%w: absence claimed but the proof's leaf holds the key", ErrInvalid)
		}
		if CommonPrefixBits(proof.Leaf.KeyHash, kh) < n {
			return fmt.Errorf("%w: the proof's leaf at depth %d is not on the key's path", ErrInvalid, n)
		}
		cur = h.Leaf(proof.Leaf.KeyHash, proof.Leaf.ValueHash)
	}
	for i := n - 1; i >= 0; i-- {
		if Bit(kh, i) == 0 {
			cur = h.Internal(cur, proof.Siblings[i])
		} else {
			cur = h.Internal(proof.Siblings[i], cur)
		}
	}
	if cur != root {
		return fmt.Errorf("%w: computed root %s, want %s", ErrInvalid, cur.Short(), root.Short())
	}
	return nil
}

// Verify is VerifyProof(root, key, value, p).
func (p *Proof) Verify(root digest.Digest, key, value []byte) error {
	return VerifyProof(root, key, value, p)
}
