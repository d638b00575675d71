package proof_test

import (
	"fmt"
	"testing"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/state/proof"
)

// syntheticProof returns an inclusion proof of key=value with depth
// non-empty siblings and the root it leads to.
func syntheticProof(depth int) (digest.Digest, []byte, []byte, *proof.Proof) {
	key, value := []byte("account/000000042"), make([]byte, 48)
	kh, vh := proof.KeyHash(key), proof.ValueHash(value)
	p := &proof.Proof{Leaf: &proof.Leaf{KeyHash: kh, ValueHash: vh}}
	h := proof.LeafHash(kh, vh)
	sib := make([]digest.Digest, depth)
	for i := depth - 1; i >= 0; i-- {
		sib[i] = digest.Hash([]byte(fmt.Sprint(i)))
		if proof.Bit(kh, i) == 0 {
			h = proof.InternalHash(h, sib[i])
		} else {
			h = proof.InternalHash(sib[i], h)
		}
	}
	p.Siblings = sib
	return h, key, value, p
}

// BenchmarkVerifyProof verifies an inclusion proof of 20 non-empty siblings
// (a tree of about a million keys).
func BenchmarkVerifyProof(b *testing.B) {
	root, key, value, p := syntheticProof(20)
	b.ReportAllocs()
	for b.Loop() {
		if err := proof.VerifyProof(root, key, value, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshal decodes the same proof.
func BenchmarkUnmarshal(b *testing.B) {
	_, _, _, p := syntheticProof(20)
	enc, err := p.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := proof.Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
}
