package zk

import (
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// testRand returns a seeded PRNG; failures print the seed.
func testRand(t testing.TB, seed uint64) *mrand.Rand {
	t.Helper()
	t.Logf("PRNG seed %d", seed)
	return mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func randFp(rng *mrand.Rand) fp.Element {
	var b [64]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	var e fp.Element
	e.SetBytes(b[:])
	return e
}

func randFr(rng *mrand.Rand) fr.Element {
	var b [64]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	var e fr.Element
	e.SetBytes(b[:])
	return e
}

// randG2 returns a uniformly random point of G2.
func randG2(rng *mrand.Rand) bn254.G2Affine {
	_, _, _, g2 := bn254.Generators()
	s := randFr(rng)
	var bi big.Int
	s.BigInt(&bi)
	var q bn254.G2Affine
	q.ScalarMultiplication(&g2, &bi)
	return q
}

// randG1 returns a uniformly random point of G1.
func randG1(rng *mrand.Rand) bn254.G1Affine {
	_, _, g1, _ := bn254.Generators()
	s := randFr(rng)
	var bi big.Int
	s.BigInt(&bi)
	var p bn254.G1Affine
	p.ScalarMultiplication(&g1, &bi)
	return p
}

// twistB returns the coefficient b' of the twist y² = x³ + b'.
func twistB() bn254.E2 {
	_, _, _, g2 := bn254.Generators()
	var y2, x3 bn254.E2
	y2.Square(&g2.Y)
	x3.Square(&g2.X).Mul(&x3, &g2.X)
	var b bn254.E2
	b.Sub(&y2, &x3)
	return b
}

// randTwistPoint returns a random point of E'(Fp2), almost never in G2 (the
// cofactor is about p).
func randTwistPoint(rng *mrand.Rand) bn254.G2Affine {
	b := twistB()
	for {
		var x bn254.E2
		x.A0, x.A1 = randFp(rng), randFp(rng)
		var rhs bn254.E2
		rhs.Square(&x).Mul(&rhs, &x).Add(&rhs, &b)
		if rhs.Legendre() != 1 {
			continue
		}
		var y bn254.E2
		y.Sqrt(&rhs)
		q := bn254.G2Affine{X: x, Y: y}
		if !q.IsOnCurve() {
			panic("test: random twist point is not on the curve")
		}
		return q
	}
}

// mulPlain is double-and-add with no endomorphism, valid for any point of
// E'(Fp2) (gnark-crypto's GLV multiplication assumes G2).
func mulPlain(q *bn254.G2Affine, s *big.Int) bn254.G2Jac {
	var acc, base bn254.G2Jac
	acc.X.SetOne()
	acc.Y.SetOne() // infinity in Jacobian coordinates: Z = 0
	base.FromAffine(q)
	for i := s.BitLen() - 1; i >= 0; i-- {
		acc.DoubleAssign()
		if s.Bit(i) == 1 {
			acc.AddAssign(&base)
		}
	}
	return acc
}

func psiAff(q bn254.G2Affine) bn254.G2Affine {
	var r bn254.G2Affine
	r.X.Conjugate(&q.X).MulByNonResidue1Power2(&r.X)
	r.Y.Conjugate(&q.Y).MulByNonResidue1Power3(&r.Y)
	return r
}

func bnParams() (x, p, r, t *big.Int) {
	x, _ = new(big.Int).SetString("4965661367192848881", 10)
	pow := func(e int64) *big.Int { return new(big.Int).Exp(x, big.NewInt(e), nil) }
	lin := func(c4, c3, c2, c1, c0 int64) *big.Int {
		v := new(big.Int).Mul(big.NewInt(c4), pow(4))
		v.Add(v, new(big.Int).Mul(big.NewInt(c3), pow(3)))
		v.Add(v, new(big.Int).Mul(big.NewInt(c2), pow(2)))
		v.Add(v, new(big.Int).Mul(big.NewInt(c1), x))
		return v.Add(v, big.NewInt(c0))
	}
	p = lin(36, 36, 24, 6, 1)
	r = lin(36, 36, 18, 6, 1)
	t = lin(0, 0, 6, 0, 1)
	return x, p, r, t
}

// TestLineBatchSubgroupArgument checks the arithmetic behind the fused
// subgroup test of lineBatch: ψ satisfies ψ² − tψ + p = 0 on E'(Fp2); the
// norm N of 6x₀+2 + ψ − ψ² + ψ³ is a multiple of r and coprime to the
// cofactor 2p − r; and no step of the chain is exceptional for a point of
// G2.
func TestLineBatchSubgroupArgument(t *testing.T) {
	x, p, r, tr := bnParams()
	if got, _ := new(big.Int).SetString(fp.Modulus().String(), 10); got.Cmp(p) != 0 {
		t.Fatalf("p from the seed differs from gnark-crypto's modulus")
	}
	if fr.Modulus().Cmp(r) != 0 {
		t.Fatalf("r from the seed differs from gnark-crypto's modulus")
	}
	// α = (6x+2 + p − tp) + (1 − t + t² − p)ψ after reducing with ψ² = tψ − p.
	six := new(big.Int).Mul(big.NewInt(6), x)
	six.Add(six, big.NewInt(2))
	a := new(big.Int).Add(six, p)
	a.Sub(a, new(big.Int).Mul(tr, p))
	b := new(big.Int).Sub(big.NewInt(1), tr)
	b.Add(b, new(big.Int).Mul(tr, tr))
	b.Sub(b, p)
	n := new(big.Int).Mul(a, a)
	n.Add(n, new(big.Int).Mul(new(big.Int).Mul(a, b), tr))
	n.Add(n, new(big.Int).Mul(p, new(big.Int).Mul(b, b)))
	if new(big.Int).Mod(n, r).Sign() != 0 {
		t.Fatal("N(α) is not a multiple of r")
	}
	cof := new(big.Int).Sub(new(big.Int).Lsh(p, 1), r)
	if g := new(big.Int).GCD(nil, nil, n, cof); g.Cmp(big.NewInt(1)) != 0 {
		t.Fatalf("gcd(N(α), 2p − r) = %v, want 1", g)
	}
	// No exceptional step for points of G2: 6x+2 ≢ ±p and 6x+2+p ≢ ±p² (mod r).
	for _, v := range []*big.Int{
		new(big.Int).Sub(six, p), new(big.Int).Add(six, p),
		new(big.Int).Add(new(big.Int).Add(six, p), new(big.Int).Mul(p, p)),
		new(big.Int).Sub(new(big.Int).Add(six, p), new(big.Int).Mul(p, p)),
	} {
		if new(big.Int).Mod(v, r).Sign() == 0 {
			t.Fatal("a final step of the chain is exceptional for G2 points")
		}
	}

	rng := testRand(t, 1)
	for i := 0; i < 4; i++ {
		q := randTwistPoint(rng)
		// #E'(Fp2) = r(2p − r) kills every point.
		order := new(big.Int).Mul(r, cof)
		if z := mulPlain(&q, order); !z.Z.IsZero() {
			t.Fatal("r(2p−r) does not kill a twist point: wrong group order")
		}
		// ψ²(Q) − [t]ψ(Q) + [p]Q = O.
		pq := psiAff(q)
		ppq := psiAff(pq)
		s1 := mulPlain(&pq, tr)
		s2 := mulPlain(&q, p)
		var sum bn254.G2Jac
		sum.FromAffine(&ppq)
		s1.Neg(&s1)
		sum.AddAssign(&s1)
		sum.AddAssign(&s2)
		if !sum.Z.IsZero() {
			t.Fatal("ψ² − tψ + p does not vanish on a twist point")
		}
	}
}

func TestLineBatchMatchesPrecomputeLines(t *testing.T) {
	rng := testRand(t, 2)
	for _, n := range []int{1, 2, 7} {
		q := make([]bn254.G2Affine, n)
		for i := range q {
			q[i] = randG2(rng)
		}
		lines := make([]lineTable, n)
		inG2 := make([]bool, n)
		exc := make([]bool, n)
		var lb lineBatch
		lb.compute(q, lines, inG2, exc)
		for i := range q {
			if !inG2[i] || exc[i] {
				t.Fatalf("n=%d: point %d of G2 reported outside (exceptional=%v)", n, i, exc[i])
			}
			want := bn254.PrecomputeLines(q[i])
			if lines[i] != want {
				t.Fatalf("n=%d: lines of point %d differ from bn254.PrecomputeLines", n, i)
			}
		}
	}
}

func TestLineBatchRejectsPointsOutsideG2(t *testing.T) {
	rng := testRand(t, 3)
	const n = 24
	q := make([]bn254.G2Affine, n)
	want := make([]bool, n)
	for i := range q {
		switch i % 3 {
		case 0:
			q[i] = randG2(rng)
		case 1:
			q[i] = randTwistPoint(rng)
		case 2:
			// A point of G2 plus a point outside: still outside.
			a, b := randG2(rng), randTwistPoint(rng)
			var s bn254.G2Jac
			s.FromAffine(&a)
			var bj bn254.G2Jac
			bj.FromAffine(&b)
			s.AddAssign(&bj)
			q[i].FromJacobian(&s)
		}
		want[i] = q[i].IsInSubGroup()
		if i%3 == 0 && !want[i] {
			t.Fatal("gnark-crypto says a point of G2 is outside")
		}
	}
	lines := make([]lineTable, n)
	inG2 := make([]bool, n)
	exc := make([]bool, n)
	var lb lineBatch
	lb.compute(q, lines, inG2, exc)
	for i := range q {
		if inG2[i] != want[i] {
			t.Fatalf("point %d: fused check says inG2=%v, gnark-crypto's IsInSubGroup %v", i, inG2[i], want[i])
		}
		if want[i] && lines[i] != bn254.PrecomputeLines(q[i]) {
			t.Fatalf("point %d: lines differ next to points outside G2", i)
		}
	}
}
