package zk

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

// g1Batch computes [aₖ]Pₖ + [bₖ]φ(Pₖ) = [aₖ + λbₖ]Pₖ for many points of G1
// at once, with 64-bit aₖ and bₖ: a joint double-and-add over 64 bits in
// affine coordinates, sharing one field inversion per step among all the
// points (Montgomery's trick). About twice as fast as gnark-crypto's
// Jacobian JointScalarMultiplication per point.
//
// No step is exceptional for a point of G1 other than infinity: the
// running point is [u + λv]P with 0 ≤ u, v < 2^64 not both zero, and
// doubling or adding [s + λt]P (s, t ∈ {0, 1}) could only meet a zero
// denominator if a non-zero vector with coordinates below 2^66 lay in the
// GLV lattice {(x, y) : x + λy ≡ 0 (mod r)}, whose shortest vectors have
// about 127 bits (TestGLVLatticeIsWide). A point that nevertheless meets
// one is recomputed with gnark-crypto's JointScalarMultiplication.
type g1Batch struct {
	r        []bn254.G1Affine
	tbl      [][3]bn254.G1Affine // P, φ(P), P + φ(P)
	inf      []bool
	bad      []bool
	active   []int // points taking part in the current step
	den      []fp.Element
	pre      []fp.Element
	inv      []fp.Element
	capacity int
}

func (g *g1Batch) ensure(n int) {
	if n <= g.capacity {
		return
	}
	g.r = make([]bn254.G1Affine, n)
	g.tbl = make([][3]bn254.G1Affine, n)
	g.inf = make([]bool, n)
	g.bad = make([]bool, n)
	g.active = make([]int, n)
	g.den = make([]fp.Element, n)
	g.pre = make([]fp.Element, n)
	g.inv = make([]fp.Element, n)
	g.capacity = n
}

// invert sets inv[j] = 1/den[j] for j < m; a zero denominator marks the
// point active[j] bad and is replaced by one.
func (g *g1Batch) invert(m int) {
	one := fp.One()
	for j := 0; j < m; j++ {
		if g.den[j].IsZero() {
			g.bad[g.active[j]] = true
			g.den[j] = one
		}
	}
	acc := one
	for j := 0; j < m; j++ {
		g.pre[j] = acc
		acc.Mul(&acc, &g.den[j])
	}
	acc.Inverse(&acc)
	for j := m - 1; j >= 0; j-- {
		g.inv[j].Mul(&acc, &g.pre[j])
		acc.Mul(&acc, &g.den[j])
	}
}

// mul sets out[k] = [a[k] + λ·b[k]]p[k]. The points must be on the curve
// and not at infinity; omega is the cube root of unity of φ.
func (g *g1Batch) mul(p []bn254.G1Affine, a, b []uint64, omega *fp.Element, out []bn254.G1Affine) {
	n := len(p)
	g.ensure(n)
	// Tables: P, φ(P) and P + φ(P) (x(P) ≠ x(φ(P)) since φ has no fixed
	// point of order r).
	for k := 0; k < n; k++ {
		g.tbl[k][0] = p[k]
		g.tbl[k][1] = p[k]
		g.tbl[k][1].X.Mul(&p[k].X, omega)
		g.inf[k] = true
		g.bad[k] = false
		g.active[k] = k
		g.den[k].Sub(&g.tbl[k][1].X, &p[k].X)
	}
	g.invert(n)
	for k := 0; k < n; k++ {
		g.addInto(&g.tbl[k][2], &g.tbl[k][0], &g.tbl[k][1], &g.inv[k])
	}
	for bit := 63; bit >= 0; bit-- {
		// Double every running point.
		m := 0
		for k := 0; k < n; k++ {
			if !g.inf[k] {
				g.active[m] = k
				g.den[m].Double(&g.r[k].Y)
				m++
			}
		}
		if m > 0 {
			g.invert(m)
			for j := 0; j < m; j++ {
				r := &g.r[g.active[j]]
				var l, x2, y2 fp.Element
				l.Square(&r.X)
				var t fp.Element
				t.Double(&l)
				l.Add(&l, &t).Mul(&l, &g.inv[j]) // 3x²/2y
				x2.Square(&l).Sub(&x2, &r.X).Sub(&x2, &r.X)
				y2.Sub(&r.X, &x2).Mul(&y2, &l).Sub(&y2, &r.Y)
				r.X, r.Y = x2, y2
			}
		}
		// Add P, φ(P) or P + φ(P) by the bits of a and b.
		m = 0
		for k := 0; k < n; k++ {
			sel := (a[k]>>uint(bit))&1 | ((b[k]>>uint(bit))&1)<<1
			if sel == 0 {
				continue
			}
			t := &g.tbl[k][sel-1]
			if g.inf[k] {
				g.r[k] = *t
				g.inf[k] = false
				continue
			}
			g.active[m] = k
			g.den[m].Sub(&t.X, &g.r[k].X)
			m++
		}
		if m > 0 {
			g.invert(m)
			for j := 0; j < m; j++ {
				k := g.active[j]
				sel := (a[k]>>uint(bit))&1 | ((b[k]>>uint(bit))&1)<<1
				r := g.r[k]
				g.addInto(&g.r[k], &r, &g.tbl[k][sel-1], &g.inv[j])
			}
		}
	}
	var ab, bb big.Int
	for k := 0; k < n; k++ {
		switch {
		case g.bad[k]:
			phi := g.tbl[k][1]
			ab.SetUint64(a[k])
			bb.SetUint64(b[k])
			var j bn254.G1Jac
			j.JointScalarMultiplication(&p[k], &phi, &ab, &bb)
			out[k].FromJacobian(&j)
		case g.inf[k]:
			out[k] = bn254.G1Affine{}
		default:
			out[k] = g.r[k]
		}
	}
}

// addInto sets z = p + q given inv = 1/(x(q) − x(p)).
func (g *g1Batch) addInto(z, p, q *bn254.G1Affine, inv *fp.Element) {
	var l, x3, y3 fp.Element
	l.Sub(&q.Y, &p.Y).Mul(&l, inv)
	x3.Square(&l).Sub(&x3, &p.X).Sub(&x3, &q.X)
	y3.Sub(&p.X, &x3).Mul(&y3, &l).Sub(&y3, &p.Y)
	z.X, z.Y = x3, y3
}
