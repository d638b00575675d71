package zk

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"

	"github.com/dagd/dagd/internal/cputime"
)

// benchFixture holds depth-20 keys and a pool of valid proofs for the
// benchmarks: a few distinct proofs, re-randomized into 1024.
type benchFixture struct {
	setup  *SetupResult
	prover *Prover
	group  *Group
	ids    []Identity
	envs   []Envelope
	gvk    *groth16bn254.VerifyingKey
}

var (
	benchOnce sync.Once
	benchVal  *benchFixture
	benchErr  error
)

const benchDistinct = 8

func getBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	benchOnce.Do(func() { benchVal, benchErr = makeBenchFixture() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchVal
}

func makeBenchFixture() (*benchFixture, error) {
	ctx := context.Background()
	lg := slog.New(slog.DiscardHandler)
	res, err := DeterministicSetup(ctx, DefaultDepth, []byte("dagd zk benchmarks"), lg)
	if err != nil {
		return nil, err
	}
	bf := &benchFixture{setup: res}
	if bf.prover, err = NewProver(res.ProvingKey, lg); err != nil {
		return nil, err
	}
	if bf.gvk, err = res.VerifyingKey.gnarkKey(); err != nil {
		return nil, err
	}
	if bf.group, err = NewGroup(DefaultDepth); err != nil {
		return nil, err
	}
	rng := mrand.New(mrand.NewPCG(21, 21))
	for i := 0; i < 100; i++ {
		id, err := IdentityFromSecret(randFr(rng))
		if err != nil {
			return nil, err
		}
		bf.ids = append(bf.ids, id)
		if _, err := bf.group.Add(id.Commitment()); err != nil {
			return nil, err
		}
	}
	var distinct []Envelope
	for i := 0; i < benchDistinct; i++ {
		path, err := bf.group.Path(i * 11)
		if err != nil {
			return nil, err
		}
		env, err := bf.prover.Prove(ctx, bf.ids[i*11], path, ScopeHash([]byte("bench")), SignalHash([]byte(fmt.Sprint(i))))
		if err != nil {
			return nil, err
		}
		distinct = append(distinct, *env)
	}
	for i := 0; i < 1024; i++ {
		bf.envs = append(bf.envs, rerandomize(distinct[i%benchDistinct], res.VerifyingKey, rng))
	}
	return bf, nil
}

var benchSizes = []int{1, 16, 64, 256, 1024}

// reportPerProof reports wall time and process CPU time per proof.
func reportPerProof(b *testing.B, n int, cpu0 time.Duration) {
	per := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/proof")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/per, "cpu-ns/proof")
	// go test -cpu 1 with -count > 1 runs the first round of a
	// sub-benchmark with the previous GOMAXPROCS; show what was used.
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// BenchmarkVerify compares gnark's groth16.Verify, one proof after the
// other, with the batch verifier, per proof. Run with -cpu 1,2 for one
// core and all cores (the batch verifier uses GOMAXPROCS workers).
func BenchmarkVerify(b *testing.B) {
	bf := getBenchFixture(b)
	ctx := context.Background()
	for _, n := range benchSizes {
		envs := bf.envs[:n]
		b.Run(fmt.Sprintf("gnark-sequential/N=%d", n), func(b *testing.B) {
			proofs := make([]*groth16bn254.Proof, n)
			pubs := make([]fr.Vector, n)
			for i := range envs {
				proofs[i] = envs[i].Proof.gnarkProof()
				v := envs[i].Public.vector()
				pubs[i] = fr.Vector(v[:])
			}
			cpu0 := cputime.Process()
			for b.Loop() {
				for i := range proofs {
					if err := groth16bn254.Verify(proofs[i], bf.gvk, pubs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportPerProof(b, n, cpu0)
		})
		b.Run(fmt.Sprintf("batch/N=%d", n), func(b *testing.B) {
			v, err := NewVerifier(bf.setup.VerifyingKey, Options{})
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cputime.Process()
			for b.Loop() {
				res, err := v.VerifyProofs(ctx, envs)
				if err != nil {
					b.Fatal(err)
				}
				if !res.AllValid() {
					b.Fatal("valid batch rejected")
				}
			}
			reportPerProof(b, n, cpu0)
		})
	}
}

// BenchmarkVerifyBatch is the full VerifyBatch path (policy and the
// nullifier rule on top of VerifyProofs) at N = 256.
func BenchmarkVerifyBatch(b *testing.B) {
	bf := getBenchFixture(b)
	envs := bf.envs[:256]
	v, err := NewVerifier(bf.setup.VerifyingKey, Options{})
	if err != nil {
		b.Fatal(err)
	}
	root := bf.group.Root()
	pol := Policy{KnownRoot: func(r fr.Element) bool { return r == root }}
	cpu0 := cputime.Process()
	for b.Loop() {
		res, err := v.VerifyBatch(context.Background(), envs, pol)
		if err != nil {
			b.Fatal(err)
		}
		// The benchmark pool repeats statements: all but the first
		// benchDistinct envelopes reuse a nullifier.
		if res.Verdicts[0] != VerdictValid || res.Verdicts[benchDistinct] != VerdictNullifierReused {
			b.Fatalf("verdicts %v", res.Verdicts[:benchDistinct+1])
		}
	}
	reportPerProof(b, len(envs), cpu0)
}

// BenchmarkProve measures one proof of the default depth-20 circuit and
// reports its constraint count.
func BenchmarkProve(b *testing.B) {
	bf := getBenchFixture(b)
	path, err := bf.group.Path(3)
	if err != nil {
		b.Fatal(err)
	}
	scope, signal := ScopeHash([]byte("bench-prove")), SignalHash([]byte("yes"))
	for b.Loop() {
		if _, err := bf.prover.Prove(context.Background(), bf.ids[3], path, scope, signal); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bf.prover.NbConstraints()), "constraints")
}

// BenchmarkBatchParts measures the per-proof parts of the batch equation
// on one core: line computation with the fused subgroup check, the Miller
// loop over precomputed lines, the scalar multiplication [a + λb]A, and
// gnark-crypto's own G2 subgroup check and variable-point Miller loop for
// comparison.
func BenchmarkBatchParts(b *testing.B) {
	const n = 64
	rng := mrand.New(mrand.NewPCG(5, 5))
	qs := make([]bn254.G2Affine, n)
	ps := make([]bn254.G1Affine, n)
	for i := range qs {
		qs[i] = randG2(rng)
		ps[i] = randG1(rng)
	}
	lines := make([]lineTable, n)
	inG2 := make([]bool, n)
	exc := make([]bool, n)
	var lb lineBatch
	perPoint := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
	}
	b.Run("lines+subgroup", func(b *testing.B) {
		for b.Loop() {
			lb.compute(qs, lines, inG2, exc)
		}
		perPoint(b)
	})
	lb.compute(qs, lines, inG2, exc)
	work := make([]lineTable, n)
	b.Run("miller-fixedQ", func(b *testing.B) {
		for b.Loop() {
			copy(work, lines)
			if _, err := bn254.MillerLoopFixedQ(ps, work); err != nil {
				b.Fatal(err)
			}
		}
		perPoint(b)
	})
	b.Run("miller-variableQ", func(b *testing.B) {
		for b.Loop() {
			if _, err := bn254.MillerLoop(ps, qs); err != nil {
				b.Fatal(err)
			}
		}
		perPoint(b)
	})
	b.Run("g2-subgroup-gnark", func(b *testing.B) {
		for b.Loop() {
			for i := range qs {
				if !qs[i].IsInSubGroup() {
					b.Fatal("not in G2")
				}
			}
		}
		perPoint(b)
	})
	b.Run("g1-mul-a+λb-jacobian", func(b *testing.B) {
		var omega fp.Element
		if _, err := omega.SetString(glvOmega); err != nil {
			b.Fatal(err)
		}
		var ab, bb big.Int
		var out bn254.G1Jac
		for b.Loop() {
			for i := range ps {
				phi := ps[i]
				phi.X.Mul(&phi.X, &omega)
				ab.SetUint64(rng.Uint64())
				bb.SetUint64(rng.Uint64())
				out.JointScalarMultiplication(&ps[i], &phi, &ab, &bb)
			}
		}
		perPoint(b)
	})
	b.Run("g1-mul-a+λb-batch", func(b *testing.B) {
		var omega fp.Element
		if _, err := omega.SetString(glvOmega); err != nil {
			b.Fatal(err)
		}
		sa, sb := make([]uint64, n), make([]uint64, n)
		for i := range sa {
			sa[i], sb[i] = rng.Uint64(), rng.Uint64()
		}
		out := make([]bn254.G1Affine, n)
		var g g1Batch
		for b.Loop() {
			g.mul(ps, sa, sb, &omega, out)
		}
		perPoint(b)
	})
	b.Run("final-exponentiation", func(b *testing.B) {
		f, err := bn254.MillerLoop(ps[:1], qs[:1])
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			bn254.FinalExponentiation(&f)
		}
	})
}
