package proof_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	lblake3 "lukechampine.com/blake3"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/state/proof"
)

// The hashing rules, recomputed with an independent BLAKE3 implementation.
func TestHashRulesMatchSpec(t *testing.T) {
	kh := lblake3.Sum256([]byte("alice"))
	vh := lblake3.Sum256([]byte("100"))
	if got := proof.KeyHash([]byte("alice")); got != digest.Digest(kh) {
		t.Fatalf("KeyHash = %x, want %x", got, kh)
	}
	if got := proof.ValueHash([]byte("100")); got != digest.Digest(vh) {
		t.Fatalf("ValueHash = %x, want %x", got, vh)
	}
	if got, want := proof.EmptyHash(), lblake3.Sum256([]byte{0x02}); got != digest.Digest(want) {
		t.Fatalf("EmptyHash = %x, want %x", got, want)
	}
	leaf := lblake3.Sum256(append(append([]byte{0x00}, kh[:]...), vh[:]...))
	if got := proof.LeafHash(kh, vh); got != digest.Digest(leaf) {
		t.Fatalf("LeafHash = %x, want %x", got, leaf)
	}
	node := lblake3.Sum256(append(append([]byte{0x01}, leaf[:]...), kh[:]...))
	if got := proof.InternalHash(leaf, kh); got != digest.Digest(node) {
		t.Fatalf("InternalHash = %x, want %x", got, node)
	}
	h := proof.NewHasher()
	if h.Key([]byte("alice")) != kh || h.Value([]byte("100")) != vh || h.Leaf(kh, vh) != leaf || h.Internal(leaf, kh) != node {
		t.Fatal("Hasher disagrees with the package functions")
	}
	if proof.LeafHash(kh, vh) == proof.InternalHash(kh, vh) {
		t.Fatal("leaf and internal hashes of the same children must differ")
	}
}

func TestBitsAndPrefix(t *testing.T) {
	var d digest.Digest
	d[0] = 0b1010_0000
	d[31] = 0x01
	for i, want := range map[int]int{0: 1, 1: 0, 2: 1, 3: 0, 255: 1, 254: 0} {
		if got := proof.Bit(d, i); got != want {
			t.Errorf("Bit(%d) = %d, want %d", i, got, want)
		}
	}
	e := d
	if got := proof.CommonPrefixBits(d, e); got != 256 {
		t.Errorf("CommonPrefixBits(equal) = %d, want 256", got)
	}
	e[0] = 0b1011_0000
	if got := proof.CommonPrefixBits(d, e); got != 3 {
		t.Errorf("CommonPrefixBits = %d, want 3", got)
	}
	e = d
	e[31] = 0
	if got := proof.CommonPrefixBits(d, e); got != 255 {
		t.Errorf("CommonPrefixBits = %d, want 255", got)
	}
}

func randomMap(rng *rand.Rand, n int) map[string][]byte {
	m := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		v := make([]byte, rng.IntN(40))
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		m[fmt.Sprintf("key-%d-%d", i, rng.Uint64())] = v
	}
	return m
}

// lightVerify is a second, literal reading of the package comment's
// verification steps with an independent BLAKE3, as a light client would
// write it.
func lightVerify(root [32]byte, key, value []byte, enc []byte) bool {
	if len(enc) < 3 || enc[0]&^1 != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(enc[1:3]))
	if n > 256 {
		return false
	}
	bm := enc[3:]
	if len(bm) < (n+7)/8 {
		return false
	}
	rest := bm[(n+7)/8:]
	if n%8 != 0 && bm[(n+7)/8-1]&(0xff>>(n%8)) != 0 {
		return false // padding bits must be zero
	}
	empty := lblake3.Sum256([]byte{2})
	sib := make([][32]byte, n)
	for i := 0; i < n; i++ {
		if bm[i/8]&(0x80>>(i%8)) == 0 {
			sib[i] = empty
			continue
		}
		if len(rest) < 32 {
			return false
		}
		copy(sib[i][:], rest)
		rest = rest[32:]
		if sib[i] == empty {
			return false // an empty sibling goes in the bitmap only
		}
	}
	hasLeaf := enc[0]&1 == 1
	var lk, lv [32]byte
	if hasLeaf {
		if len(rest) != 64 {
			return false
		}
		copy(lk[:], rest)
		copy(lv[:], rest[32:])
	} else if len(rest) != 0 {
		return false
	}
	kh := lblake3.Sum256(key)
	bit := func(i int) byte { return kh[i/8] >> (7 - i%8) & 1 }
	cat := func(p byte, a, b [32]byte) [32]byte {
		return lblake3.Sum256(append(append([]byte{p}, a[:]...), b[:]...))
	}
	var h [32]byte
	switch {
	case value != nil:
		if !hasLeaf || lk != kh || lv != lblake3.Sum256(value) {
			return false
		}
		h = cat(0, kh, lv)
	case !hasLeaf:
		h = empty
	default:
		if lk == kh {
			return false
		}
		for i := 0; i < n; i++ {
			if lk[i/8]>>(7-i%8)&1 != bit(i) {
				return false
			}
		}
		h = cat(0, lk, lv)
	}
	for i := n - 1; i >= 0; i-- {
		if bit(i) == 0 {
			h = cat(1, h, sib[i])
		} else {
			h = cat(1, sib[i], h)
		}
	}
	return h == root
}

func mustEncode(t testing.TB, p *proof.Proof) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	if len(b) != p.EncodedSize() {
		t.Fatalf("EncodedSize = %d, encoding has %d bytes", p.EncodedSize(), len(b))
	}
	return b
}

func TestProofsOfRandomKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 17, 300} {
		m := randomMap(rng, n)
		tree := newRefTree(m)
		root := tree.root()
		if n == 0 && root != proof.EmptyHash() {
			t.Fatalf("empty tree root = %x, want EmptyHash", root)
		}
		var present, absent int
		check := func(key, value []byte) {
			p := tree.prove(key)
			if err := proof.VerifyProof(root, key, value, p); err != nil {
				t.Fatalf("n=%d key %q: valid proof rejected: %v", n, key, err)
			}
			enc := mustEncode(t, p)
			q, err := proof.Unmarshal(enc)
			if err != nil {
				t.Fatalf("Unmarshal of an encoded proof: %v", err)
			}
			if !q.Equal(p) {
				t.Fatalf("round trip changed the proof")
			}
			if !lightVerify(root, key, value, enc) {
				t.Fatalf("n=%d key %q: the spec reimplementation rejects a valid proof", n, key)
			}
			if got := p.Inclusion(key); got != (value != nil) {
				t.Fatalf("Inclusion = %v for value %v", got, value != nil)
			}
			// The opposite claim must fail.
			var other []byte
			if value == nil {
				other = []byte{}
			}
			if err := proof.VerifyProof(root, key, other, p); !errors.Is(err, proof.ErrInvalid) {
				t.Fatalf("opposite claim accepted: %v", err)
			}
			if lightVerify(root, key, other, enc) {
				t.Fatalf("the spec reimplementation accepts the opposite claim")
			}
		}
		for k, v := range m {
			check([]byte(k), v)
			present++
		}
		for i := 0; i < 50; i++ {
			key := []byte(fmt.Sprintf("absent-%d", i))
			p := tree.prove(key)
			if p.Leaf != nil {
				absent++ // a non-inclusion proof ending at another leaf
			}
			check(key, nil)
		}
		if n >= 17 && absent == 0 {
			t.Errorf("n=%d: no non-inclusion proof ended at another leaf", n)
		}
	}
}

// tamper returns the ways to corrupt a valid proof p.
func tamper(p *proof.Proof) map[string]*proof.Proof {
	clone := func() *proof.Proof {
		q := &proof.Proof{Siblings: append([]digest.Digest(nil), p.Siblings...)}
		if p.Leaf != nil {
			l := *p.Leaf
			q.Leaf = &l
		}
		return q
	}
	out := map[string]*proof.Proof{}
	for i := range p.Siblings {
		q := clone()
		q.Siblings[i][i%32] ^= 1
		out[fmt.Sprintf("flipped sibling %d", i)] = q
	}
	if len(p.Siblings) > 0 {
		q := clone()
		q.Siblings = q.Siblings[:len(q.Siblings)-1]
		out["dropped last sibling"] = q
		q = clone()
		q.Siblings = q.Siblings[1:]
		out["dropped first sibling"] = q
		q = clone()
		q.Siblings[0], q.Siblings[len(q.Siblings)-1] = q.Siblings[len(q.Siblings)-1], q.Siblings[0]
		if len(q.Siblings) > 1 && q.Siblings[0] != q.Siblings[len(q.Siblings)-1] {
			out["swapped siblings"] = q
		}
	}
	q := clone()
	q.Siblings = append(q.Siblings, proof.EmptyHash())
	out["extra empty sibling"] = q
	if p.Leaf != nil {
		q = clone()
		q.Leaf.ValueHash[0] ^= 1
		out["leaf value hash"] = q
		q = clone()
		q.Leaf.KeyHash[31] ^= 1
		out["leaf key hash"] = q
		q = clone()
		q.Leaf = nil
		out["leaf removed"] = q
	} else {
		q = clone()
		q.Leaf = &proof.Leaf{}
		out["leaf added"] = q
	}
	return out
}

func TestTamperedProofsAreRejected(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := randomMap(rng, 200)
	tree := newRefTree(m)
	root := tree.root()
	other := newRefTree(randomMap(rng, 200)).root()
	n := 0
	for k, v := range m {
		if n++; n > 40 {
			break
		}
		key := []byte(k)
		p := tree.prove(key)
		for name, q := range tamper(p) {
			if err := proof.VerifyProof(root, key, v, q); !errors.Is(err, proof.ErrInvalid) {
				t.Errorf("%s: inclusion proof accepted (%v)", name, err)
			}
		}
		wrong := append(append([]byte(nil), v...), 'x')
		if err := proof.VerifyProof(root, key, wrong, p); !errors.Is(err, proof.ErrInvalid) {
			t.Errorf("wrong value accepted: %v", err)
		}
		if err := proof.VerifyProof(root, append(key, 'x'), v, p); !errors.Is(err, proof.ErrInvalid) {
			t.Errorf("wrong key accepted: %v", err)
		}
		if err := proof.VerifyProof(other, key, v, p); !errors.Is(err, proof.ErrInvalid) {
			t.Errorf("proof against another root accepted: %v", err)
		}
		if err := proof.VerifyProof(root, key, v, nil); !errors.Is(err, proof.ErrInvalid) {
			t.Errorf("nil proof accepted: %v", err)
		}
		// Every strict prefix of the encoding is rejected by the decoder.
		enc := mustEncode(t, p)
		for cut := 0; cut < len(enc); cut++ {
			if _, err := proof.Unmarshal(enc[:cut]); !errors.Is(err, proof.ErrMalformed) {
				t.Fatalf("truncated proof (%d of %d bytes) decoded: %v", cut, len(enc), err)
			}
		}
	}
	for i := 0; i < 40; i++ {
		key := []byte(fmt.Sprintf("absent-%d", i))
		p := tree.prove(key)
		for name, q := range tamper(p) {
			if err := proof.VerifyProof(root, key, nil, q); !errors.Is(err, proof.ErrInvalid) {
				t.Errorf("%s: non-inclusion proof accepted (%v)", name, err)
			}
		}
		if err := proof.VerifyProof(other, key, nil, p); !errors.Is(err, proof.ErrInvalid) {
			t.Errorf("non-inclusion proof against another root accepted: %v", err)
		}
		// A present key's proof cannot pass as an absence proof of that key.
		for k := range m {
			if err := proof.VerifyProof(root, []byte(k), nil, tree.prove([]byte(k))); !errors.Is(err, proof.ErrInvalid) {
				t.Errorf("absence of a present key accepted: %v", err)
			}
			break
		}
	}
}

func TestDecoderIsStrict(t *testing.T) {
	tree := newRefTree(randomMap(rand.New(rand.NewPCG(5, 6)), 64))
	p := tree.prove([]byte("absent"))
	p.Siblings = append(p.Siblings, proof.EmptyHash()) // one empty sibling in the bitmap
	enc := mustEncode(t, p)
	n := len(p.Siblings)
	cases := map[string][]byte{
		"empty":          nil,
		"short header":   {0, 0},
		"unknown flag":   append([]byte{0x02}, enc[1:]...),
		"trailing byte":  append(append([]byte(nil), enc...), 0),
		"too many sibs":  {0, 0x01, 0x01},
		"max uint16":     {0, 0xff, 0xff},
		"leaf flag flip": append([]byte{enc[0] ^ 1}, enc[1:]...),
		"padding bit":    nil,
		"encoded empty":  nil,
		"huge bitmap":    append([]byte{0, 0x01, 0x00}, bytes.Repeat([]byte{0xff}, 32)...),
		"count too high": append([]byte{enc[0], byte((n + 8) >> 8), byte(n + 8)}, enc[3:]...),
	}
	if n%8 != 0 {
		b := append([]byte(nil), enc...)
		b[3+(n+7)/8-1] |= 1
		cases["padding bit"] = b
	} else {
		delete(cases, "padding bit")
	}
	// A sibling equal to EmptyHash written out in full instead of in the bitmap.
	var full []byte
	full = append(full, 0, 0, 1, 0x80)
	e := proof.EmptyHash()
	full = append(full, e[:]...)
	cases["encoded empty"] = full
	for name, b := range cases {
		if _, err := proof.Unmarshal(b); !errors.Is(err, proof.ErrMalformed) {
			t.Errorf("%s: decoded without ErrMalformed (%v)", name, err)
		}
	}
	// The largest proof decodes, and its size is MaxEncodedSize.
	big := &proof.Proof{Siblings: make([]digest.Digest, proof.PathBits), Leaf: &proof.Leaf{}}
	for i := range big.Siblings {
		big.Siblings[i][0] = byte(i) | 1
	}
	b := mustEncode(t, big)
	if len(b) != proof.MaxEncodedSize {
		t.Fatalf("largest proof is %d bytes, MaxEncodedSize %d", len(b), proof.MaxEncodedSize)
	}
	if q, err := proof.Unmarshal(b); err != nil || !q.Equal(big) {
		t.Fatalf("largest proof does not round-trip: %v", err)
	}
	big.Siblings = append(big.Siblings, digest.Digest{})
	if _, err := big.MarshalBinary(); !errors.Is(err, proof.ErrMalformed) {
		t.Fatalf("a proof of 257 siblings encoded: %v", err)
	}
	if err := proof.VerifyProof(digest.Digest{}, nil, nil, big); !errors.Is(err, proof.ErrInvalid) {
		t.Fatalf("a proof of 257 siblings verified: %v", err)
	}
	var q proof.Proof
	if err := q.UnmarshalBinary(enc); err != nil || !q.Equal(p) {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
}
