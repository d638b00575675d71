package zk

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func glvConstants(t testing.TB) (fp.Element, fr.Element) {
	t.Helper()
	var omega fp.Element
	var lambda fr.Element
	if _, err := omega.SetString(glvOmega); err != nil {
		t.Fatal(err)
	}
	if _, err := lambda.SetString(glvLambda); err != nil {
		t.Fatal(err)
	}
	return omega, lambda
}

func TestG1BatchMatchesScalarMultiplication(t *testing.T) {
	rng := testRand(t, 4)
	omega, lambda := glvConstants(t)
	const n = 40
	p := make([]bn254.G1Affine, n)
	a := make([]uint64, n)
	b := make([]uint64, n)
	for k := range p {
		p[k] = randG1(rng)
		a[k], b[k] = rng.Uint64(), rng.Uint64()
	}
	// Edge scalars: one half zero, tiny values, all bits set.
	a[0], b[0] = 1, 0
	a[1], b[1] = 0, 1
	a[2], b[2] = 1, 1
	a[3], b[3] = ^uint64(0), ^uint64(0)
	a[4], b[4] = 0, ^uint64(0)
	a[5], b[5] = 1<<63, 0
	out := make([]bn254.G1Affine, n)
	var g g1Batch
	g.mul(p, a, b, &omega, out)
	for k := range p {
		var r, bb fr.Element
		bb.SetUint64(b[k])
		r.SetUint64(a[k])
		bb.Mul(&bb, &lambda)
		r.Add(&r, &bb)
		var ri big.Int
		r.BigInt(&ri)
		var want bn254.G1Affine
		want.ScalarMultiplication(&p[k], &ri)
		if !out[k].Equal(&want) {
			t.Fatalf("point %d (a=%d, b=%d): batch result differs from [a + λb]P", k, a[k], b[k])
		}
		if g.bad[k] {
			t.Fatalf("point %d took the exceptional path", k)
		}
	}
}

// TestGLVLatticeIsWide checks the claim behind g1Batch and the batch
// scalars: the lattice {(x, y) : x + λy ≡ 0 mod r} has no non-zero vector
// with both coordinates below 2^66, so distinct (a, b) give distinct
// a + λb and the joint double-and-add meets no exceptional step.
func TestGLVLatticeIsWide(t *testing.T) {
	_, lambda := glvConstants(t)
	var l big.Int
	lambda.BigInt(&l)
	r := fr.Modulus()
	// Gauss-reduce the basis (r, 0), (−λ mod r, 1).
	u := [2]*big.Int{new(big.Int).Set(r), big.NewInt(0)}
	v := [2]*big.Int{new(big.Int).Sub(r, &l), big.NewInt(1)}
	norm := func(w [2]*big.Int) *big.Int {
		n := new(big.Int).Mul(w[0], w[0])
		return n.Add(n, new(big.Int).Mul(w[1], w[1]))
	}
	dot := func(w, z [2]*big.Int) *big.Int {
		d := new(big.Int).Mul(w[0], z[0])
		return d.Add(d, new(big.Int).Mul(w[1], z[1]))
	}
	for i := 0; i < 1000; i++ {
		if norm(u).Cmp(norm(v)) < 0 {
			u, v = v, u
		}
		// u ← u − round(⟨u,v⟩/⟨v,v⟩)·v
		num, den := dot(u, v), norm(v)
		q := new(big.Int).Mul(num, big.NewInt(2))
		q.Add(q, den)
		q.Div(q, new(big.Int).Mul(den, big.NewInt(2)))
		if q.Sign() == 0 {
			break
		}
		u = [2]*big.Int{new(big.Int).Sub(u[0], new(big.Int).Mul(q, v[0])), new(big.Int).Sub(u[1], new(big.Int).Mul(q, v[1]))}
	}
	shortest := norm(v)
	if norm(u).Cmp(shortest) < 0 {
		shortest = norm(u)
	}
	// A vector with |x|, |y| < 2^66 has squared norm below 2^133.
	if bound := new(big.Int).Lsh(big.NewInt(1), 133); shortest.Cmp(bound) <= 0 {
		t.Fatalf("shortest GLV lattice vector has squared norm 2^%d, want above 2^133", shortest.BitLen()-1)
	}
	t.Logf("shortest GLV lattice vector: squared norm of %d bits", shortest.BitLen())
	// The reduced vectors are in the lattice.
	for _, w := range [][2]*big.Int{u, v} {
		z := new(big.Int).Mul(w[1], &l)
		z.Add(z, w[0])
		if z.Mod(z, r).Sign() != 0 {
			t.Fatal("reduction left the lattice")
		}
	}
}
