package zk

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/dagd/dagd/crypto"
)

// domainBatch separates the transcript of the batch scalars.
const domainBatch = "dagd/zk/groth16-batch/v1"

// batchScalar is the random multiplier of one proof: r = a + λ·b mod r
// with a and b 64-bit, which takes 2^128 distinct values (two such
// representations of one r would give a non-zero vector of length below
// 2^65 in the GLV lattice, whose shortest vectors have about 127 bits).
// [r]A = [a]A + [b]φ(A) then costs 64 doublings instead of 128 to 254.
type batchScalar struct {
	a, b uint64
	r    fr.Element
}

// scalars derives the multipliers of items from a BLAKE3 transcript of the
// verifying key and every proof and public input of the batch, in order:
// every validator derives the same ones, and a prover cannot predict them
// without fixing all the proofs first. A batch of one proof needs no
// randomness and uses r = 1.
func (v *Verifier) scalars(items []item) []batchScalar {
	if len(items) == 1 {
		// One proof: the equation with r = 1 is the plain Groth16 check.
		out := []batchScalar{{a: 1}}
		out[0].r.SetOne()
		return out
	}
	h := crypto.NewHasher()
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], uint64(len(domainBatch)))
	_, _ = h.Write(n8[:])
	_, _ = h.Write([]byte(domainBatch))
	_, _ = h.Write(v.vk.digest[:])
	binary.LittleEndian.PutUint64(n8[:], uint64(len(items)))
	_, _ = h.Write(n8[:])
	buf := make([]byte, 0, ProofSize+PublicInputsSize)
	for i := range items {
		buf, _ = items[i].proof.AppendBinary(buf[:0])
		for _, e := range items[i].public {
			b := e.Bytes()
			buf = append(buf, b[:]...)
		}
		_, _ = h.Write(buf)
	}
	var seed crypto.Digest
	h.Sum(seed[:0])
	out := make([]batchScalar, len(items))
	for i := range out {
		binary.LittleEndian.PutUint64(n8[:], uint64(i))
		d := crypto.Hash(seed[:], n8[:])
		s := &out[i]
		s.a = binary.LittleEndian.Uint64(d[0:8])
		s.b = binary.LittleEndian.Uint64(d[8:16])
		if s.a == 0 && s.b == 0 {
			s.a = 1
		}
		var bb fr.Element
		bb.SetUint64(s.b)
		s.r.SetUint64(s.a)
		bb.Mul(&bb, &v.lambda)
		s.r.Add(&s.r, &bb)
	}
	return out
}

// worker holds the scratch memory of one goroutine of a batch.
type worker struct {
	lb      lineBatch
	lines   []lineTable
	qs      []bn254.G2Affine
	sel     []int
	inG2    []bool
	exc     []bool
	g1      g1Batch
	pa      []bn254.G1Affine
	ps      []bn254.G1Affine
	sa, sb  []uint64
	acc     bn254.GT
	hasAcc  bool
	outside []int
	err     error
}

func newWorker(chunk int) *worker {
	return &worker{
		lines: make([]lineTable, chunk),
		qs:    make([]bn254.G2Affine, chunk),
		sel:   make([]int, chunk),
		inG2:  make([]bool, chunk),
		exc:   make([]bool, chunk),
		pa:    make([]bn254.G1Affine, chunk),
		ps:    make([]bn254.G1Affine, chunk),
		sa:    make([]uint64, chunk),
		sb:    make([]uint64, chunk),
	}
}

// chunk runs the variable part of the batch equation for items: the lines
// and subgroup checks of the B points, the scalar multiplications [r]A and
// the Miller loop of the pairs ([r]A, B). Items whose B is outside G2 are
// left out and reported in w.outside.
func (v *Verifier) chunk(w *worker, items []item, sc []batchScalar) error {
	m := 0
	for k := range items {
		if items[k].proof.B.IsInfinity() {
			continue // in G2; the pair contributes 1
		}
		w.qs[m] = items[k].proof.B
		w.sel[m] = k
		m++
	}
	if m < smallChunkSize {
		return v.smallChunk(w, items, sc, m)
	}
	w.lb.compute(w.qs[:m], w.lines[:m], w.inG2[:m], w.exc[:m])
	np := 0
	for j := 0; j < m; j++ {
		it := &items[w.sel[j]]
		if !w.inG2[j] {
			if w.exc[j] && w.qs[j].IsInSubGroup() {
				// Unreachable for points of G2 (see lineBatch); stay exact.
				w.lines[j] = bn254.PrecomputeLines(w.qs[j])
			} else {
				w.outside = append(w.outside, it.idx)
				continue
			}
		}
		if it.proof.A.IsInfinity() {
			continue
		}
		s := &sc[w.sel[j]]
		w.pa[np] = it.proof.A
		w.sa[np], w.sb[np] = s.a, s.b
		if np != j {
			w.lines[np] = w.lines[j]
		}
		np++
	}
	if np == 0 {
		return nil
	}
	w.g1.mul(w.pa[:np], w.sa[:np], w.sb[:np], &v.omega, w.ps[:np])
	f, err := bn254.MillerLoopFixedQ(w.ps[:np], w.lines[:np])
	if err != nil {
		return fmt.Errorf("zk: Miller loop: %w", err)
	}
	if w.hasAcc {
		w.acc.Mul(&w.acc, &f)
	} else {
		w.acc, w.hasAcc = f, true
	}
	return nil
}

// smallChunkSize is the chunk size below which the shared inversions of the
// affine batch methods cost more than they save (about 7 points on BN254):
// smaller chunks use gnark-crypto's projective Miller loop, subgroup test
// and Jacobian scalar multiplication instead.
const smallChunkSize = 8

// smallChunk does the work of chunk for the m selected pairs of a small
// chunk.
func (v *Verifier) smallChunk(w *worker, items []item, sc []batchScalar, m int) error {
	ps := make([]bn254.G1Affine, 0, m)
	qs := make([]bn254.G2Affine, 0, m)
	var ab, bb big.Int
	for j := 0; j < m; j++ {
		it := &items[w.sel[j]]
		if !w.qs[j].IsInSubGroup() {
			w.outside = append(w.outside, it.idx)
			continue
		}
		if it.proof.A.IsInfinity() {
			continue
		}
		s := &sc[w.sel[j]]
		p := it.proof.A
		if s.a != 1 || s.b != 0 {
			phi := it.proof.A
			phi.X.Mul(&phi.X, &v.omega)
			ab.SetUint64(s.a)
			bb.SetUint64(s.b)
			var pj bn254.G1Jac
			pj.JointScalarMultiplication(&it.proof.A, &phi, &ab, &bb)
			p.FromJacobian(&pj)
		}
		ps = append(ps, p)
		qs = append(qs, w.qs[j])
	}
	if len(ps) == 0 {
		return nil
	}
	f, err := bn254.MillerLoop(ps, qs)
	if err != nil {
		return fmt.Errorf("zk: Miller loop: %w", err)
	}
	if w.hasAcc {
		w.acc.Mul(&w.acc, &f)
	} else {
		w.acc, w.hasAcc = f, true
	}
	return nil
}

// batchCheck evaluates the batch equation
//
//	∏ e([rᵢ]Aᵢ, Bᵢ) · e(−[Σrᵢ]α, β) · e(−Σ[rᵢ]Lᵢ, γ) · e(−Σ[rᵢ]Cᵢ, δ) = 1
//
// with Lᵢ = K₀ + Σⱼ xᵢⱼKⱼ, over the items whose B is in G2, and returns the
// original indices of the others. The N variable pairs go through
// MillerLoopFixedQ with lines computed in batches, split across workers;
// the three fixed pairs use the lines of the key, copied first because
// MillerLoopFixedQ overwrites its lines argument; one final
// exponentiation follows.
func (v *Verifier) batchCheck(ctx context.Context, items []item) (bool, []int, error) {
	sc := v.scalars(items)
	n := len(items)
	nw := v.opts.Workers
	size := (n + nw - 1) / nw
	if size > v.opts.ChunkSize {
		size = v.opts.ChunkSize
	}
	nChunks := (n + size - 1) / size
	if nw > nChunks {
		nw = nChunks
	}
	workers := make([]*worker, nw)
	var next atomic.Int64
	var wg sync.WaitGroup
	for wi := range workers {
		w := newWorker(size)
		workers[wi] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= nChunks {
					return
				}
				if err := ctx.Err(); err != nil {
					w.err = err
					return
				}
				lo, hi := c*size, min((c+1)*size, n)
				if err := v.chunk(w, items[lo:hi], sc[lo:hi]); err != nil {
					w.err = err
					return
				}
			}
		}()
	}
	// The fixed pairs do not depend on the workers' results unless a B
	// point turns out to be outside G2: compute them meanwhile, assuming
	// none is, and again in the rare case one is.
	type fixedResult struct {
		f   bn254.GT
		err error
	}
	optimistic := make(chan fixedResult, 1)
	go func() {
		f, err := v.fixedPart(items, sc, nil)
		optimistic <- fixedResult{f, err}
	}()
	wg.Wait()
	fr0 := <-optimistic
	var outside []int
	f := bn254.GT{}
	f.SetOne()
	for _, w := range workers {
		if w.err != nil {
			return false, nil, fmt.Errorf("zk: batch verification: %w", w.err)
		}
		outside = append(outside, w.outside...)
		if w.hasAcc {
			f.Mul(&f, &w.acc)
		}
	}
	ff, err := fr0.f, fr0.err
	if len(outside) > 0 {
		excluded := make(map[int]bool, len(outside))
		for _, o := range outside {
			excluded[o] = true
		}
		ff, err = v.fixedPart(items, sc, excluded)
	}
	if err != nil {
		return false, nil, err
	}
	f.Mul(&f, &ff)
	f = bn254.FinalExponentiation(&f)
	return f.IsOne(), outside, nil
}

// fixedPart returns the Miller loop of the three fixed pairs of the batch
// equation over the items not excluded: s = Σrᵢ and uⱼ = Σrᵢxᵢⱼ fold the
// public inputs into one multi-scalar multiplication over K₀..K₄, and
// Σ[rᵢ]Cᵢ is computed as Σ[aᵢ]Cᵢ + [bᵢ]φ(Cᵢ), a multi-scalar
// multiplication with 64-bit scalars.
func (v *Verifier) fixedPart(items []item, sc []batchScalar, excluded map[int]bool) (bn254.GT, error) {
	n := len(items)
	var s fr.Element
	var u [NumPublicInputs]fr.Element
	cPoints := make([]bn254.G1Affine, 0, 2*n)
	cScalars := make([]fr.Element, 0, 2*n)
	for i := range items {
		if excluded[items[i].idx] {
			continue
		}
		r := &sc[i].r
		s.Add(&s, r)
		for j := range u {
			var t fr.Element
			t.Mul(r, &items[i].public[j])
			u[j].Add(&u[j], &t)
		}
		c := items[i].proof.C
		if c.IsInfinity() {
			continue
		}
		var ea, eb fr.Element
		ea.SetUint64(sc[i].a)
		cPoints = append(cPoints, c)
		cScalars = append(cScalars, ea)
		if sc[i].b != 0 {
			phi := c
			phi.X.Mul(&phi.X, &v.omega)
			eb.SetUint64(sc[i].b)
			cPoints = append(cPoints, phi)
			cScalars = append(cScalars, eb)
		}
	}
	var fixed [3]bn254.G1Affine
	cfg := ecc.MultiExpConfig{NbTasks: v.opts.Workers}
	// −[s]α
	var sb big.Int
	s.BigInt(&sb)
	fixed[0].ScalarMultiplication(&v.vk.alpha, &sb)
	fixed[0].Neg(&fixed[0])
	// −([s]K₀ + Σ[uⱼ]Kⱼ₊₁)
	kScalars := append([]fr.Element{s}, u[:]...)
	var lj bn254.G1Jac
	if _, err := lj.MultiExp(v.vk.k, kScalars, cfg); err != nil {
		return bn254.GT{}, fmt.Errorf("zk: public-input MSM: %w", err)
	}
	fixed[1].FromJacobian(&lj)
	fixed[1].Neg(&fixed[1])
	// −Σ[rᵢ]Cᵢ
	switch {
	case len(cPoints) == 1 && cScalars[0].IsOne():
		fixed[2].Neg(&cPoints[0])
	case len(cPoints) > 0:
		var cj bn254.G1Jac
		if _, err := cj.MultiExp(cPoints, cScalars, cfg); err != nil {
			return bn254.GT{}, fmt.Errorf("zk: C MSM: %w", err)
		}
		fixed[2].FromJacobian(&cj)
		fixed[2].Neg(&fixed[2])
	}
	// MillerLoopFixedQ writes into its lines: pass a copy, never the key's.
	lines := v.fixedLines
	ff, err := bn254.MillerLoopFixedQ(fixed[:], lines[:])
	if err != nil {
		return bn254.GT{}, fmt.Errorf("zk: Miller loop of the fixed pairs: %w", err)
	}
	return ff, nil
}
