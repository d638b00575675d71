package proof_test

import (
	"fmt"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/state/proof"
)

// A light client holds a state root it trusts (from a certified checkpoint)
// and receives a key, a value and the encoded proof from any server.
func ExampleVerifyProof() {
	// A tree of two keys, built by hand for the example.
	ka, kb := proof.KeyHash([]byte("alice")), proof.KeyHash([]byte("bob"))
	la := proof.LeafHash(ka, proof.ValueHash([]byte("100")))
	lb := proof.LeafHash(kb, proof.ValueHash([]byte("7")))
	// Both leaves sit at depth 1 if their paths differ in bit 0.
	if proof.Bit(ka, 0) == proof.Bit(kb, 0) {
		fmt.Println("paths share bit 0; the example needs another pair of keys")
		return
	}
	root := proof.InternalHash(la, lb)
	if proof.Bit(ka, 0) == 1 {
		root = proof.InternalHash(lb, la)
	}

	// What the server sends for alice: her leaf and one sibling.
	sent := &proof.Proof{Siblings: []digest.Digest{lb}, Leaf: &proof.Leaf{KeyHash: ka, ValueHash: proof.ValueHash([]byte("100"))}}
	enc, _ := sent.MarshalBinary()

	// What the client does.
	p, err := proof.Unmarshal(enc)
	if err != nil {
		fmt.Println("malformed:", err)
		return
	}
	fmt.Println("alice holds 100:", proof.VerifyProof(root, []byte("alice"), []byte("100"), p) == nil)
	fmt.Println("alice holds 999:", proof.VerifyProof(root, []byte("alice"), []byte("999"), p) == nil)
	fmt.Println("alice is absent:", proof.VerifyProof(root, []byte("alice"), nil, p) == nil)
	fmt.Println("proof bytes:", len(enc))
	// Output:
	// alice holds 100: true
	// alice holds 999: false
	// alice is absent: false
	// proof bytes: 100
}
