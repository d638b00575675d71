package zk

import (
	"github.com/consensys/gnark-crypto/ecc/bn254"
)

// loopLen is the length of the optimal-ate loop counter (the NAF of
// 6x₀+2) of BN254.
const loopLen = len(bn254.LoopCounter)

// lineTable holds the line evaluations of one G2 point for
// bn254.MillerLoopFixedQ, exactly as bn254.PrecomputeLines lays them out.
type lineTable = [2][loopLen]bn254.LineEvaluationAff

// lineBatch computes the Miller-loop lines of many G2 points at once in
// affine coordinates, sharing one field inversion per step among all the
// points (Montgomery's trick), and checks on the way that every point is
// in G2. The values are identical to bn254.PrecomputeLines(q) for each
// point, which the tests assert.
//
// The subgroup check is free: the loop already computes T = [6x₀+2]Q and
// then T + ψ(Q) − ψ²(Q), where ψ is the untwist-Frobenius-twist
// endomorphism. For Q in G2, 6x₀+2 + p − p² + p³ ≡ 0 (mod r), so the result
// must equal −ψ³(Q). Conversely, for Q on the twist E'(Fp2), ψ satisfies
// ψ² − tψ + p = 0 with t the trace of Frobenius, so α = 6x₀+2 + ψ − ψ² + ψ³
// reduces to a + bψ, and α(Q) = 0 implies [N(α)]Q = 0 with
// N(α) = a² + abt + pb². N(α) is a multiple of r and coprime to the
// cofactor 2p − r of G2 in E'(Fp2) (TestLineBatchSubgroupArgument checks
// both), so such a Q has order r: it is in G2.
//
// An exceptional step (a zero denominator: Q of small order, or a chain
// that meets ±Q) cannot happen for a point of G2; such a point is flagged
// and left to the caller, which falls back to gnark-crypto's subgroup test.
type lineBatch struct {
	t        []bn254.G2Affine // running points T
	den      []bn254.E2       // denominators of the current step
	inv      []bn254.E2       // their inverses
	pre      []bn254.E2       // prefix products for the batch inversion
	lambda   []bn254.E2       // slopes of the first half of a double-and-add
	x3       []bn254.E2       // x of T ± Q in a double-and-add
	bad      []bool           // exceptional step met
	negQ     []bn254.G2Affine
	capacity int
}

func (lb *lineBatch) ensure(n int) {
	if n <= lb.capacity {
		return
	}
	lb.t = make([]bn254.G2Affine, n)
	lb.den = make([]bn254.E2, n)
	lb.inv = make([]bn254.E2, n)
	lb.pre = make([]bn254.E2, n)
	lb.lambda = make([]bn254.E2, n)
	lb.x3 = make([]bn254.E2, n)
	lb.bad = make([]bool, n)
	lb.negQ = make([]bn254.G2Affine, n)
	lb.capacity = n
}

// invertDen sets inv[k] = 1/den[k] for k < n. A zero denominator marks the
// point as exceptional and is replaced by one, so that it cannot spoil the
// shared inversion of the others.
func (lb *lineBatch) invertDen(n int) {
	var one bn254.E2
	one.SetOne()
	for k := 0; k < n; k++ {
		if lb.den[k].IsZero() {
			lb.bad[k] = true
			lb.den[k] = one
		}
	}
	acc := one
	for k := 0; k < n; k++ {
		lb.pre[k] = acc
		acc.Mul(&acc, &lb.den[k])
	}
	acc.Inverse(&acc)
	for k := n - 1; k >= 0; k-- {
		lb.inv[k].Mul(&acc, &lb.pre[k])
		acc.Mul(&acc, &lb.den[k])
	}
}

// compute fills lines[k] for the points q[k] (on the twist curve, not at
// infinity) and sets inG2[k]. A point whose inG2[k] is false is either
// outside G2 or exceptional (exceptional[k] true); its lines are garbage.
func (lb *lineBatch) compute(q []bn254.G2Affine, lines []lineTable, inG2, exceptional []bool) {
	n := len(q)
	lb.ensure(n)
	for k := 0; k < n; k++ {
		lb.t[k] = q[k]
		lb.negQ[k].Neg(&q[k])
		lb.bad[k] = false
	}
	for i := loopLen - 2; i >= 0; i-- {
		switch bn254.LoopCounter[i] {
		case 0:
			lb.doubleStep(n, lines, i)
		case 1:
			lb.doubleAndAddStep(n, lines, i, q)
		default:
			lb.doubleAndAddStep(n, lines, i, lb.negQ[:n])
		}
	}
	// T + ψ(Q), then + (−ψ²(Q)), as in PrecomputeLines.
	a := lb.negQ[:n] // reuse as the addend buffer
	for k := 0; k < n; k++ {
		a[k].X.Conjugate(&q[k].X).MulByNonResidue1Power2(&a[k].X)
		a[k].Y.Conjugate(&q[k].Y).MulByNonResidue1Power3(&a[k].Y)
	}
	lb.addStep(n, lines, 1, a)
	for k := 0; k < n; k++ {
		a[k].X.MulByNonResidue2Power2(&q[k].X)
		a[k].Y.MulByNonResidue2Power3(&q[k].Y).Neg(&a[k].Y)
	}
	lb.addStep(n, lines, 0, a)
	// Compare T with −ψ³(Q) = −ψ(ψ²(Q)); a[k] holds −ψ²(Q).
	for k := 0; k < n; k++ {
		var x, y bn254.E2
		x.Conjugate(&a[k].X).MulByNonResidue1Power2(&x)
		y.Conjugate(&a[k].Y).MulByNonResidue1Power3(&y) // = −ψ³(Q).Y since a[k].Y = −ψ²(Q).Y
		exceptional[k] = lb.bad[k]
		inG2[k] = !lb.bad[k] && lb.t[k].X.Equal(&x) && lb.t[k].Y.Equal(&y)
	}
}

// doubleStep: T ← 2T with the tangent line at T (slot 0 of index i).
func (lb *lineBatch) doubleStep(n int, lines []lineTable, i int) {
	for k := 0; k < n; k++ {
		lb.den[k].Double(&lb.t[k].Y)
	}
	lb.invertDen(n)
	for k := 0; k < n; k++ {
		t := &lb.t[k]
		var nn, l, xr, yr bn254.E2
		// λ = 3x²/2y
		nn.Square(&t.X)
		l.Double(&nn).Add(&l, &nn)
		l.Mul(&l, &lb.inv[k])
		// xr = λ² − 2x
		xr.Square(&l).Sub(&xr, &t.X).Sub(&xr, &t.X)
		// yr = λ(x − xr) − y
		yr.Sub(&t.X, &xr).Mul(&yr, &l).Sub(&yr, &t.Y)
		ev := &lines[k][0][i]
		ev.R0 = l
		ev.R1.Mul(&l, &t.X).Sub(&ev.R1, &t.Y)
		t.X, t.Y = xr, yr
	}
}

// doubleAndAddStep: T ← 2T + a as (T + a) + T, with the line through T and
// a in slot 0 and the line through T + a and T in slot 1 of index i.
func (lb *lineBatch) doubleAndAddStep(n int, lines []lineTable, i int, a []bn254.G2Affine) {
	for k := 0; k < n; k++ {
		lb.den[k].Sub(&lb.t[k].X, &a[k].X)
	}
	lb.invertDen(n)
	for k := 0; k < n; k++ {
		t := &lb.t[k]
		var nn bn254.E2
		// λ1 = (y1 − y2)/(x1 − x2)
		nn.Sub(&t.Y, &a[k].Y)
		l1 := &lb.lambda[k]
		l1.Mul(&nn, &lb.inv[k])
		// x3 = λ1² − x1 − x2
		x3 := &lb.x3[k]
		x3.Square(l1).Sub(x3, &t.X).Sub(x3, &a[k].X)
		ev := &lines[k][0][i]
		ev.R0 = *l1
		ev.R1.Mul(l1, &t.X).Sub(&ev.R1, &t.Y)
		// second denominator: x3 − x1
		lb.den[k].Sub(x3, &t.X)
	}
	lb.invertDen(n)
	for k := 0; k < n; k++ {
		t := &lb.t[k]
		var nn, l2, x4, y4 bn254.E2
		// λ2 = −λ1 − 2y1/(x3 − x1)
		nn.Double(&t.Y)
		l2.Mul(&nn, &lb.inv[k]).Add(&l2, &lb.lambda[k]).Neg(&l2)
		// x4 = λ2² − x1 − x3
		x4.Square(&l2).Sub(&x4, &t.X).Sub(&x4, &lb.x3[k])
		// y4 = λ2(x1 − x4) − y1
		y4.Sub(&t.X, &x4).Mul(&l2, &y4).Sub(&y4, &t.Y)
		ev := &lines[k][1][i]
		ev.R0 = l2
		ev.R1.Mul(&l2, &t.X).Sub(&ev.R1, &t.Y)
		t.X, t.Y = x4, y4
	}
}

// addStep: T ← T + a with the line through T and a in the given slot of
// the last index.
func (lb *lineBatch) addStep(n int, lines []lineTable, slot int, a []bn254.G2Affine) {
	for k := 0; k < n; k++ {
		lb.den[k].Sub(&a[k].X, &lb.t[k].X)
	}
	lb.invertDen(n)
	for k := 0; k < n; k++ {
		t := &lb.t[k]
		var nn, l, xr, yr bn254.E2
		nn.Sub(&a[k].Y, &t.Y)
		l.Mul(&nn, &lb.inv[k])
		xr.Square(&l)
		nn.Add(&t.X, &a[k].X)
		xr.Sub(&xr, &nn)
		yr.Sub(&t.X, &xr).Mul(&yr, &l).Sub(&yr, &t.Y)
		ev := &lines[k][slot][loopLen-1]
		ev.R0 = l
		ev.R1.Mul(&l, &t.X).Sub(&ev.R1, &t.Y)
		t.X, t.Y = xr, yr
	}
}
