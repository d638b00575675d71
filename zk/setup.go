package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/bits"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"

	"github.com/dagd/dagd/crypto"
)

// domainSetup separates the derivation of the deterministic toxic waste.
const domainSetup = "dagd/zk/deterministic-setup/v1"

// SetupResult is the output of a setup: the keys and the size of the
// circuit they serve.
type SetupResult struct {
	ProvingKey    *ProvingKey
	VerifyingKey  *VerifyingKey
	NbConstraints int
}

// toxicWaste holds the secret values of a Groth16 setup.
type toxicWaste struct {
	tau, alpha, beta, gamma, delta fr.Element
	gammaInv, deltaInv             fr.Element
}

// seededScalar derives a non-zero scalar from seed and a label: 64 bytes of
// BLAKE3 output reduced modulo r.
func seededScalar(seed []byte, label string, counter uint64) fr.Element {
	var c [8]byte
	putUint64(c[:], counter)
	var n [8]byte
	putUint64(n[:], uint64(len(seed)))
	lo := crypto.Hash([]byte(domainSetup), n[:], seed, []byte(label), c[:], []byte{0})
	hi := crypto.Hash([]byte(domainSetup), n[:], seed, []byte(label), c[:], []byte{1})
	var wide [64]byte
	copy(wide[:32], lo[:])
	copy(wide[32:], hi[:])
	var e fr.Element
	e.SetBytes(wide[:])
	return e
}

// deriveToxicWaste returns the toxic waste of the deterministic setup: a
// public function of seed. τ also avoids the evaluation domain (it must
// not be a root of unity of it), which would make the setup divide by
// zero.
func deriveToxicWaste(seed []byte, domain *fft.Domain) toxicWaste {
	var tw toxicWaste
	pick := func(label string, avoidDomain bool) fr.Element {
		for c := uint64(0); ; c++ {
			e := seededScalar(seed, label, c)
			if e.IsZero() {
				continue
			}
			if avoidDomain {
				var en fr.Element
				en.Exp(e, new(big.Int).SetUint64(domain.Cardinality))
				if en.IsOne() {
					continue
				}
			}
			return e
		}
	}
	tw.tau = pick("tau", true)
	tw.alpha = pick("alpha", false)
	tw.beta = pick("beta", false)
	tw.gamma = pick("gamma", false)
	tw.delta = pick("delta", false)
	tw.gammaInv.Inverse(&tw.gamma)
	tw.deltaInv.Inverse(&tw.delta)
	return tw
}

// DeterministicSetup makes the Groth16 keys of the membership circuit of
// the given depth with toxic waste (τ, α, β, γ, δ) derived from seed. The
// same depth and seed always give the same keys, which is what tests and
// devnets need. The construction is gnark's groth16.Setup for a circuit
// without commitments, with its random sampling replaced by the seed.
//
// INSECURE FOR PRODUCTION: anyone who knows the seed knows the toxic waste
// and can forge proofs of any statement. See the package documentation for
// what a production setup needs.
func DeterministicSetup(ctx context.Context, depth int, seed []byte, logger *slog.Logger) (*SetupResult, error) {
	if logger == nil {
		return nil, errors.New("zk: DeterministicSetup needs a logger")
	}
	start := time.Now()
	r1cs, err := CompileMembership(depth)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zk: setup: %w", err)
	}
	nbConstraints := r1cs.GetNbConstraints()
	domain := fft.NewDomain(uint64(nbConstraints))
	if domain.Cardinality > maxDomain {
		return nil, fmt.Errorf("zk: circuit of depth %d needs a domain of %d, more than %d", depth, domain.Cardinality, maxDomain)
	}
	logger.Info("zk setup: circuit compiled", "depth", depth, "constraints", nbConstraints, "domain", domain.Cardinality)
	tw := deriveToxicWaste(seed, domain)
	pk, vk, err := groth16Setup(r1cs, domain, &tw)
	if err != nil {
		return nil, err
	}
	res, err := importKeys(depth, r1cs, pk, vk)
	if err != nil {
		return nil, err
	}
	logger.Info("zk setup: keys made", "depth", depth, "vk_digest", res.VerifyingKey.Digest().String(), "elapsed", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// KeysFromCeremony imports the keys that a Groth16 ceremony with gnark's
// backend/groth16/bn254/mpcsetup produced for the membership circuit of
// the given depth (Phase2.Seal or VerifyPhase2). It checks that they fit
// the circuit and carry no commitment keys.
func KeysFromCeremony(depth int, pk groth16.ProvingKey, vk groth16.VerifyingKey) (*SetupResult, error) {
	r1cs, err := CompileMembership(depth)
	if err != nil {
		return nil, err
	}
	p, ok := pk.(*groth16bn254.ProvingKey)
	if !ok {
		return nil, fmt.Errorf("zk: ceremony proving key is a %T, want a BN254 key", pk)
	}
	v, ok := vk.(*groth16bn254.VerifyingKey)
	if !ok {
		return nil, fmt.Errorf("zk: ceremony verifying key is a %T, want a BN254 key", vk)
	}
	return importKeys(depth, r1cs, p, v)
}

func importKeys(depth int, r1cs *cs.R1CS, p *groth16bn254.ProvingKey, v *groth16bn254.VerifyingKey) (*SetupResult, error) {
	vk, err := fromGnarkVerifyingKey(depth, v)
	if err != nil {
		return nil, err
	}
	if !p.G1.Alpha.Equal(&vk.alpha) || !p.G2.Beta.Equal(&vk.beta) || !p.G2.Delta.Equal(&vk.delta) {
		return nil, errors.New("zk: proving and verifying keys do not match")
	}
	pk := &ProvingKey{depth: depth, vkDigest: vk.Digest(), pk: p}
	if err := pk.checkAgainst(r1cs); err != nil {
		return nil, err
	}
	return &SetupResult{ProvingKey: pk, VerifyingKey: vk, NbConstraints: r1cs.GetNbConstraints()}, nil
}

// groth16Setup is gnark's groth16.Setup (backend/groth16/bn254/setup.go,
// Apache-2.0, Consensys Software Inc.) restricted to circuits without
// commitments and taking its toxic waste as an argument.
func groth16Setup(r1cs *cs.R1CS, domain *fft.Domain, tw *toxicWaste) (*groth16bn254.ProvingKey, *groth16bn254.VerifyingKey, error) {
	if err := checkShape(r1cs); err != nil {
		return nil, nil, err
	}
	nbWires := r1cs.NbInternalVariables + r1cs.GetNbPublicVariables() + r1cs.GetNbSecretVariables()
	nbPublic := r1cs.GetNbPublicVariables()
	A, B, C, err := setupABC(r1cs, domain, tw)
	if err != nil {
		return nil, nil, err
	}

	// K points: (β·Aᵢ + α·Bᵢ + Cᵢ)/γ for public wires, /δ for the others.
	vkK := make([]fr.Element, nbPublic)
	pkK := make([]fr.Element, nbWires-nbPublic)
	for i := range A {
		var t0, t1 fr.Element
		t1.Mul(&A[i], &tw.beta)
		t0.Mul(&B[i], &tw.alpha)
		t1.Add(&t1, &t0).Add(&t1, &C[i])
		if i < nbPublic {
			vkK[i].Mul(&t1, &tw.gammaInv)
		} else {
			pkK[i-nbPublic].Mul(&t1, &tw.deltaInv)
		}
	}

	// Z: τⁱ(τⁿ − 1)/δ.
	Z := make([]fr.Element, domain.Cardinality)
	var zdt fr.Element
	one := fr.One()
	zdt.Exp(tw.tau, new(big.Int).SetUint64(domain.Cardinality)).Sub(&zdt, &one).Mul(&zdt, &tw.deltaInv)
	for i := range Z {
		Z[i] = zdt
		zdt.Mul(&zdt, &tw.tau)
	}

	pk := new(groth16bn254.ProvingKey)
	vk := new(groth16bn254.VerifyingKey)
	pk.InfinityA = make([]bool, nbWires)
	pk.InfinityB = make([]bool, nbWires)
	n := 0
	for i, e := range A {
		if e.IsZero() {
			pk.InfinityA[i] = true
			continue
		}
		A[n] = A[i]
		n++
	}
	A = A[:n]
	pk.NbInfinityA = uint64(nbWires - n)
	n = 0
	for i, e := range B {
		if e.IsZero() {
			pk.InfinityB[i] = true
			continue
		}
		B[n] = B[i]
		n++
	}
	B = B[:n]
	pk.NbInfinityB = uint64(nbWires - n)

	_, _, g1, g2 := bn254.Generators()
	g1Scalars := make([]fr.Element, 0, 3+len(A)+len(B)+len(Z)+len(vkK)+len(pkK))
	g1Scalars = append(g1Scalars, tw.alpha, tw.beta, tw.delta)
	g1Scalars = append(g1Scalars, A...)
	g1Scalars = append(g1Scalars, B...)
	g1Scalars = append(g1Scalars, Z...)
	g1Scalars = append(g1Scalars, vkK...)
	g1Scalars = append(g1Scalars, pkK...)
	g1Points := bn254.BatchScalarMultiplicationG1(&g1, g1Scalars)
	pk.G1.Alpha, pk.G1.Beta, pk.G1.Delta = g1Points[0], g1Points[1], g1Points[2]
	off := 3
	pk.G1.A = g1Points[off : off+len(A)]
	off += len(A)
	pk.G1.B = g1Points[off : off+len(B)]
	off += len(B)
	bitReverseG1(g1Points[off : off+int(domain.Cardinality)])
	pk.G1.Z = g1Points[off : off+int(domain.Cardinality)-1]
	off += int(domain.Cardinality)
	vk.G1.K = g1Points[off : off+nbPublic]
	off += nbPublic
	pk.G1.K = g1Points[off : off+len(pkK)]

	g2Scalars := append(B, tw.beta, tw.delta, tw.gamma)
	g2Points := bn254.BatchScalarMultiplicationG2(&g2, g2Scalars)
	pk.G2.B = g2Points[:len(B)]
	pk.G2.Beta, pk.G2.Delta = g2Points[len(B)], g2Points[len(B)+1]
	vk.G2.Beta, vk.G2.Delta, vk.G2.Gamma = pk.G2.Beta, pk.G2.Delta, g2Points[len(B)+2]
	vk.G1.Alpha, vk.G1.Beta, vk.G1.Delta = pk.G1.Alpha, pk.G1.Beta, pk.G1.Delta
	if err := vk.Precompute(); err != nil {
		return nil, nil, fmt.Errorf("zk: setup: %w", err)
	}
	pk.Domain = *domain
	return pk, vk, nil
}

// setupABC evaluates the QAP polynomials Aᵢ, Bᵢ, Cᵢ of every wire at τ,
// as gnark's setupABC does.
func setupABC(r1cs *cs.R1CS, domain *fft.Domain, tw *toxicWaste) (A, B, C []fr.Element, err error) {
	nbWires := r1cs.NbInternalVariables + r1cs.GetNbPublicVariables() + r1cs.GetNbSecretVariables()
	A = make([]fr.Element, nbWires)
	B = make([]fr.Element, nbWires)
	C = make([]fr.Element, nbWires)
	one := fr.One()
	w := domain.Generator
	wi := fr.One()
	t := make([]fr.Element, r1cs.GetNbConstraints()+1)
	for i := range t {
		t[i].Sub(&tw.tau, &wi)
		if t[i].IsZero() {
			return nil, nil, nil, errors.New("zk: setup: τ is in the evaluation domain")
		}
		wi.Mul(&wi, &w)
	}
	tInv := fr.BatchInvert(t)
	// L₀(τ) = (τⁿ − 1)/(n(τ − 1)); Lᵢ₊₁ = ω·Lᵢ·(τ − ωⁱ)/(τ − ωⁱ⁺¹).
	var L fr.Element
	L.Exp(tw.tau, new(big.Int).SetUint64(domain.Cardinality)).Sub(&L, &one)
	L.Mul(&L, &tInv[0]).Mul(&L, &domain.CardinalityInv)
	accumulate := func(res *fr.Element, term constraint.Term, value *fr.Element) {
		switch cID := term.CoeffID(); cID {
		case constraint.CoeffIdZero:
		case constraint.CoeffIdOne:
			res.Add(res, value)
		case constraint.CoeffIdMinusOne:
			res.Sub(res, value)
		case constraint.CoeffIdTwo:
			var b fr.Element
			b.Double(value)
			res.Add(res, &b)
		default:
			var b fr.Element
			b.Mul(&r1cs.Coefficients[cID], value)
			res.Add(res, &b)
		}
	}
	j := 0
	it := r1cs.GetR1CIterator()
	for c := it.Next(); c != nil; c = it.Next() {
		for _, term := range c.L {
			accumulate(&A[term.WireID()], term, &L)
		}
		for _, term := range c.R {
			accumulate(&B[term.WireID()], term, &L)
		}
		for _, term := range c.O {
			accumulate(&C[term.WireID()], term, &L)
		}
		L.Mul(&L, &w).Mul(&L, &t[j]).Mul(&L, &tInv[j+1])
		j++
	}
	return A, B, C, nil
}

// bitReverseG1 permutes a (of power-of-two length) into bit-reversed order.
func bitReverseG1(a []bn254.G1Affine) {
	n := uint(len(a))
	nn := uint(bits.UintSize - bits.TrailingZeros(n))
	for i := uint(0); i < n; i++ {
		irev := bits.Reverse(i) >> nn
		if irev > i {
			a[i], a[irev] = a[irev], a[i]
		}
	}
}
