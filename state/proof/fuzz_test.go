package proof_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/dagd/dagd/state/proof"
)

// fuzzTree is the fixed tree FuzzVerify attacks: keys k0..k63 hold v0..v63.
func fuzzTree() (map[string][]byte, *refTree) {
	m := make(map[string][]byte, 64)
	for i := 0; i < 64; i++ {
		m[fmt.Sprintf("k%d", i)] = []byte(fmt.Sprintf("v%d", i))
	}
	return m, newRefTree(m)
}

// FuzzVerify decodes arbitrary bytes as a proof and verifies an arbitrary
// claim with it against the root of a fixed tree. The decoder must never
// panic, must accept only canonical encodings, and a proof may pass only if
// the claim is true of the tree; the spec reimplementation must agree.
func FuzzVerify(f *testing.F) {
	m, tree := fuzzTree()
	root := tree.root()
	for _, k := range []string{"k0", "k7", "k63", "absent", "k64", ""} {
		enc, err := tree.prove([]byte(k)).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		v, ok := m[k]
		f.Add(enc, []byte(k), v, ok)
	}
	f.Add([]byte{}, []byte("k1"), []byte("v1"), true)
	f.Add([]byte{1, 0, 0}, []byte("k1"), []byte("v1"), true)
	f.Fuzz(func(t *testing.T, enc, key, value []byte, present bool) {
		p, err := proof.Unmarshal(enc)
		if err != nil {
			if !errors.Is(err, proof.ErrMalformed) {
				t.Fatalf("decode error does not wrap ErrMalformed: %v", err)
			}
			if lightVerify(root, key, nil, enc) || lightVerify(root, key, value, enc) {
				t.Fatalf("the spec reimplementation accepts bytes the decoder rejects")
			}
			return
		}
		again, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("decoded proof re-encodes differently (%v):\n in  %x\n out %x", err, enc, again)
		}
		var claim []byte
		if present {
			claim = append([]byte{}, value...)
		}
		err = proof.VerifyProof(root, key, claim, p)
		if err != nil && !errors.Is(err, proof.ErrInvalid) {
			t.Fatalf("verify error does not wrap ErrInvalid: %v", err)
		}
		if light := lightVerify(root, key, claim, enc); light != (err == nil) {
			t.Fatalf("VerifyProof (%v) and the spec reimplementation (%v) disagree", err, light)
		}
		if err != nil {
			return
		}
		want, ok := m[string(key)]
		if present != ok || (ok && !bytes.Equal(want, claim)) {
			t.Fatalf("proof of a false claim accepted: key %q present=%v value %q; tree has present=%v value %q",
				key, present, claim, ok, want)
		}
	})
}
