package zk

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	cs "github.com/consensys/gnark/constraint/bn254"

	"github.com/dagd/dagd/crypto"
)

// File magics and versions of the key encodings.
var (
	vkMagic = [8]byte{'D', 'A', 'G', 'D', 'Z', 'K', 'V', 'K'}
	pkMagic = [8]byte{'D', 'A', 'G', 'D', 'Z', 'K', 'P', 'K'}
)

const (
	keyVersion = 1
	// domainVKDigest separates the verifying-key digest from other BLAKE3
	// uses.
	domainVKDigest = "dagd/zk/groth16-bn254/verifying-key/v1"
)

// VerifyingKeySize is the size of an encoded verifying key.
const VerifyingKeySize = 8 + 3 + G1Size + 3*G2Size + (NumPublicInputs+1)*G1Size

// VerifyingKey is a Groth16 verifying key of the membership circuit over
// BN254: [α]₁, [β]₂, [γ]₂, [δ]₂ and the public-input points K₀..K₄. It is
// immutable once built and safe for concurrent use.
type VerifyingKey struct {
	depth              int
	alpha              bn254.G1Affine
	beta, gamma, delta bn254.G2Affine
	k                  []bn254.G1Affine
	enc                []byte
	digest             crypto.Digest
}

// Depth returns the tree depth of the circuit the key belongs to.
func (vk *VerifyingKey) Depth() int { return vk.depth }

// Digest returns BLAKE3-256 of a domain separator and the canonical
// encoding of the key. It pins the key: a node configured with a digest
// accepts exactly one verifying key, and every proof envelope names the
// digest of the key it was made for.
func (vk *VerifyingKey) Digest() crypto.Digest { return vk.digest }

// MarshalBinary returns the canonical encoding of the key:
//
//	"DAGDZKVK" | version (1) | depth (1) | number of K points (1, = 5) |
//	[α]₁ | [β]₂ | [γ]₂ | [δ]₂ | K₀ .. K₄
//
// with points encoded as described for G1Size and G2Size.
func (vk *VerifyingKey) MarshalBinary() ([]byte, error) {
	return append([]byte(nil), vk.enc...), nil
}

// newVerifyingKey checks the points of a key and computes its encoding and
// digest.
func newVerifyingKey(depth int, alpha bn254.G1Affine, beta, gamma, delta bn254.G2Affine, k []bn254.G1Affine) (*VerifyingKey, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("zk: verifying key depth %d outside [1, %d]", depth, MaxDepth)
	}
	if len(k) != NumPublicInputs+1 {
		return nil, fmt.Errorf("zk: verifying key has %d public-input points, want %d", len(k), NumPublicInputs+1)
	}
	if alpha.IsInfinity() || !alpha.IsInSubGroup() {
		return nil, errors.New("zk: verifying key [α]₁ is not a non-zero point of G1")
	}
	for i, q := range []*bn254.G2Affine{&beta, &gamma, &delta} {
		if q.IsInfinity() || !q.IsInSubGroup() {
			return nil, fmt.Errorf("zk: verifying key [%s]₂ is not a non-zero point of G2", [...]string{"β", "γ", "δ"}[i])
		}
	}
	for i := range k {
		// A point at infinity means a public input that no constraint
		// uses: proofs would hold for any value of it.
		if k[i].IsInfinity() || !k[i].IsInSubGroup() {
			return nil, fmt.Errorf("zk: verifying key K%d is not a non-zero point of G1", i)
		}
	}
	vk := &VerifyingKey{depth: depth, alpha: alpha, beta: beta, gamma: gamma, delta: delta, k: append([]bn254.G1Affine(nil), k...)}
	enc := make([]byte, 0, VerifyingKeySize)
	enc = append(enc, vkMagic[:]...)
	enc = append(enc, keyVersion, byte(depth), byte(len(k)))
	enc = appendG1(enc, &alpha)
	enc = appendG2(enc, &beta)
	enc = appendG2(enc, &gamma)
	enc = appendG2(enc, &delta)
	for i := range k {
		enc = appendG1(enc, &k[i])
	}
	vk.enc = enc
	vk.digest = crypto.Hash([]byte(domainVKDigest), enc)
	return vk, nil
}

// ParseVerifyingKey decodes a verifying key strictly: exact length, magic,
// version, a depth in range, five public-input points, and every point
// canonical, on its curve, in its subgroup and not at infinity.
func ParseVerifyingKey(b []byte) (*VerifyingKey, error) {
	if len(b) != VerifyingKeySize {
		return nil, fmt.Errorf("zk: verifying key is %d bytes, want %d", len(b), VerifyingKeySize)
	}
	if !bytes.Equal(b[:8], vkMagic[:]) {
		return nil, errors.New("zk: not a dagd verifying key (bad magic)")
	}
	if b[8] != keyVersion {
		return nil, fmt.Errorf("zk: verifying key version %d, want %d", b[8], keyVersion)
	}
	depth, nk := int(b[9]), int(b[10])
	if nk != NumPublicInputs+1 {
		return nil, fmt.Errorf("zk: verifying key has %d public-input points, want %d", nk, NumPublicInputs+1)
	}
	off := 11
	alpha, err := decodeG1(b[off:])
	if err != nil {
		return nil, fmt.Errorf("zk: verifying key [α]₁: %w", err)
	}
	off += G1Size
	var g2 [3]bn254.G2Affine
	for i := range g2 {
		if g2[i], err = decodeG2(b[off:]); err != nil {
			return nil, fmt.Errorf("zk: verifying key G2 point %d: %w", i, err)
		}
		off += G2Size
	}
	k := make([]bn254.G1Affine, nk)
	for i := range k {
		if k[i], err = decodeG1(b[off:]); err != nil {
			return nil, fmt.Errorf("zk: verifying key K%d: %w", i, err)
		}
		off += G1Size
	}
	return newVerifyingKey(depth, alpha, g2[0], g2[1], g2[2], k)
}

// gnarkKey returns the key as gnark's verifying key, for gnark's own
// groth16.Verify.
func (vk *VerifyingKey) gnarkKey() (*groth16bn254.VerifyingKey, error) {
	g := new(groth16bn254.VerifyingKey)
	g.G1.Alpha = vk.alpha
	g.G1.K = append([]bn254.G1Affine(nil), vk.k...)
	g.G2.Beta = vk.beta
	g.G2.Gamma = vk.gamma
	g.G2.Delta = vk.delta
	if err := g.Precompute(); err != nil {
		return nil, fmt.Errorf("zk: precompute gnark verifying key: %w", err)
	}
	return g, nil
}

// fromGnarkVerifyingKey converts a key produced by gnark's setup.
func fromGnarkVerifyingKey(depth int, g *groth16bn254.VerifyingKey) (*VerifyingKey, error) {
	if len(g.CommitmentKeys) != 0 || len(g.PublicAndCommitmentCommitted) != 0 {
		return nil, errors.New("zk: verifying key has Pedersen commitment keys; the batch verifier supports none")
	}
	return newVerifyingKey(depth, g.G1.Alpha, g.G2.Beta, g.G2.Gamma, g.G2.Delta, g.G1.K)
}

// ProvingKey is a Groth16 proving key of the membership circuit, bound to
// the digest of its verifying key.
type ProvingKey struct {
	depth    int
	vkDigest crypto.Digest
	pk       *groth16bn254.ProvingKey
}

// Depth returns the tree depth of the circuit the key belongs to.
func (pk *ProvingKey) Depth() int { return pk.depth }

// VerifyingKeyDigest returns the digest of the matching verifying key.
func (pk *ProvingKey) VerifyingKeyDigest() crypto.Digest { return pk.vkDigest }

// MaxProvingKeySize bounds the size of a proving key accepted by
// ParseProvingKey (a depth-20 key is about 4.7 MB).
const MaxProvingKeySize = 256 << 20

// maxDomain bounds the FFT domain of a proving key (2^24 constraints).
const maxDomain = 1 << 24

// MarshalBinary returns the encoding of the proving key:
//
//	"DAGDZKPK" | version (1) | depth (1) | verifying-key digest (32) |
//	domain cardinality (u64) | number of wires (u64) |
//	[α]₁ [β]₁ [δ]₁ | A | B | Z | K (each: u32 count, G1 points) |
//	[β]₂ [δ]₂ | B₂ (u32 count, G2 points) |
//	infinity flags of A, then of B (one bit per wire, LSB first, padded
//	with zero bits to a byte)
//
// Integers are little-endian; points as described for G1Size and G2Size.
func (pk *ProvingKey) MarshalBinary() ([]byte, error) {
	p := pk.pk
	nWires := len(p.InfinityA)
	if len(p.InfinityB) != nWires {
		return nil, errors.New("zk: proving key infinity flags differ in length")
	}
	size := 8 + 2 + 32 + 16 + 3*G1Size + 4*4 + (len(p.G1.A)+len(p.G1.B)+len(p.G1.Z)+len(p.G1.K))*G1Size +
		2*G2Size + 4 + len(p.G2.B)*G2Size + 2*((nWires+7)/8)
	out := make([]byte, 0, size)
	out = append(out, pkMagic[:]...)
	out = append(out, keyVersion, byte(pk.depth))
	out = append(out, pk.vkDigest[:]...)
	var n8 [8]byte
	putUint64(n8[:], p.Domain.Cardinality)
	out = append(out, n8[:]...)
	putUint64(n8[:], uint64(nWires))
	out = append(out, n8[:]...)
	out = appendG1(out, &p.G1.Alpha)
	out = appendG1(out, &p.G1.Beta)
	out = appendG1(out, &p.G1.Delta)
	for _, s := range [][]bn254.G1Affine{p.G1.A, p.G1.B, p.G1.Z, p.G1.K} {
		var n4 [4]byte
		putUint32(n4[:], uint32(len(s)))
		out = append(out, n4[:]...)
		for i := range s {
			out = appendG1(out, &s[i])
		}
	}
	out = appendG2(out, &p.G2.Beta)
	out = appendG2(out, &p.G2.Delta)
	var n4 [4]byte
	putUint32(n4[:], uint32(len(p.G2.B)))
	out = append(out, n4[:]...)
	for i := range p.G2.B {
		out = appendG2(out, &p.G2.B[i])
	}
	out = appendBits(out, p.InfinityA)
	out = appendBits(out, p.InfinityB)
	return out, nil
}

func appendBits(dst []byte, flags []bool) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, (len(flags)+7)/8)...)
	for i, f := range flags {
		if f {
			dst[start+i/8] |= 1 << (i % 8)
		}
	}
	return dst
}

// pkReader reads a proving key with bounds checks before every allocation.
type pkReader struct {
	b   []byte
	off int
	err error
}

func (r *pkReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("truncated at byte %d (need %d more)", r.off, n)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *pkReader) u64() uint64 {
	s := r.take(8)
	if s == nil {
		return 0
	}
	return getUint64(s)
}

func (r *pkReader) g1() bn254.G1Affine {
	s := r.take(G1Size)
	if s == nil {
		return bn254.G1Affine{}
	}
	p, err := decodeG1(s)
	if err != nil {
		r.err = fmt.Errorf("at byte %d: %w", r.off-G1Size, err)
	}
	return p
}

func (r *pkReader) g2() bn254.G2Affine {
	s := r.take(G2Size)
	if s == nil {
		return bn254.G2Affine{}
	}
	p, err := decodeG2(s)
	if err != nil {
		r.err = fmt.Errorf("at byte %d: %w", r.off-G2Size, err)
	}
	return p
}

// count reads a u32 element count and checks that the remaining input can
// hold that many elements of the given size before anything is allocated.
func (r *pkReader) count(elemSize int) int {
	s := r.take(4)
	if s == nil {
		return 0
	}
	n := int(getUint32(s))
	if n > (len(r.b)-r.off)/elemSize {
		r.err = fmt.Errorf("count %d at byte %d exceeds the remaining input", n, r.off-4)
		return 0
	}
	return n
}

func (r *pkReader) g1s() []bn254.G1Affine {
	n := r.count(G1Size)
	if r.err != nil {
		return nil
	}
	out := make([]bn254.G1Affine, n)
	for i := range out {
		if out[i] = r.g1(); r.err != nil {
			return nil
		}
	}
	return out
}

func (r *pkReader) bitsOf(n int) ([]bool, int) {
	s := r.take((n + 7) / 8)
	if s == nil {
		return nil, 0
	}
	flags := make([]bool, n)
	set := 0
	for i := range flags {
		flags[i] = s[i/8]>>(i%8)&1 == 1
		if flags[i] {
			set++
		}
	}
	if n%8 != 0 && s[len(s)-1]>>(n%8) != 0 {
		r.err = errors.New("padding bits of the infinity flags are not zero")
	}
	return flags, set
}

// ParseProvingKey decodes a proving key strictly: size bound, magic,
// version, counts that fit the input and agree with each other, points
// canonical and on their curves, zero padding, nothing after the end. It
// does not check subgroup membership (a corrupt proving key yields proofs
// that fail verification); NewProver further checks the key against the
// compiled circuit.
func ParseProvingKey(b []byte) (*ProvingKey, error) {
	if len(b) > MaxProvingKeySize {
		return nil, fmt.Errorf("zk: proving key is %d bytes, more than the %d allowed", len(b), MaxProvingKeySize)
	}
	pk, err := parseProvingKey(b)
	if err != nil {
		return nil, fmt.Errorf("zk: proving key: %w", err)
	}
	return pk, nil
}

func parseProvingKey(b []byte) (*ProvingKey, error) {
	r := &pkReader{b: b}
	head := r.take(10)
	if r.err != nil {
		return nil, r.err
	}
	if !bytes.Equal(head[:8], pkMagic[:]) {
		return nil, errors.New("not a dagd proving key (bad magic)")
	}
	if head[8] != keyVersion {
		return nil, fmt.Errorf("version %d, want %d", head[8], keyVersion)
	}
	out := &ProvingKey{depth: int(head[9])}
	if out.depth < 1 || out.depth > MaxDepth {
		return nil, fmt.Errorf("depth %d outside [1, %d]", out.depth, MaxDepth)
	}
	copy(out.vkDigest[:], r.take(32))
	card := r.u64()
	nWires := r.u64()
	if r.err != nil {
		return nil, r.err
	}
	if card < 2 || card > maxDomain || bits.OnesCount64(card) != 1 {
		return nil, fmt.Errorf("domain cardinality %d is not a power of two in [2, %d]", card, maxDomain)
	}
	// Every wire has at least a flag bit in each of the two flag arrays.
	if nWires == 0 || nWires > uint64(len(b))*4 {
		return nil, fmt.Errorf("wire count %d does not fit the input", nWires)
	}
	p := new(groth16bn254.ProvingKey)
	p.G1.Alpha, p.G1.Beta, p.G1.Delta = r.g1(), r.g1(), r.g1()
	p.G1.A = r.g1s()
	p.G1.B = r.g1s()
	p.G1.Z = r.g1s()
	p.G1.K = r.g1s()
	p.G2.Beta, p.G2.Delta = r.g2(), r.g2()
	nB2 := r.count(G2Size)
	if r.err == nil {
		p.G2.B = make([]bn254.G2Affine, nB2)
		for i := range p.G2.B {
			if p.G2.B[i] = r.g2(); r.err != nil {
				break
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	var nInfA, nInfB int
	p.InfinityA, nInfA = r.bitsOf(int(nWires))
	p.InfinityB, nInfB = r.bitsOf(int(nWires))
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%d trailing bytes", len(b)-r.off)
	}
	p.NbInfinityA, p.NbInfinityB = uint64(nInfA), uint64(nInfB)
	if len(p.G1.A) != int(nWires)-nInfA {
		return nil, fmt.Errorf("%d A points for %d wires of which %d at infinity", len(p.G1.A), nWires, nInfA)
	}
	if len(p.G1.B) != int(nWires)-nInfB || len(p.G2.B) != len(p.G1.B) {
		return nil, fmt.Errorf("%d B₁ and %d B₂ points for %d wires of which %d at infinity", len(p.G1.B), len(p.G2.B), nWires, nInfB)
	}
	if len(p.G1.Z) != int(card)-1 {
		return nil, fmt.Errorf("%d Z points for a domain of %d", len(p.G1.Z), card)
	}
	p.Domain = *fft.NewDomain(card)
	out.pk = p
	return out, nil
}

// checkAgainst verifies that the proving key fits the compiled circuit, so
// that gnark's prover never indexes outside the key.
func (pk *ProvingKey) checkAgainst(r *cs.R1CS) error {
	p := pk.pk
	nWires := r.NbInternalVariables + r.GetNbPublicVariables() + r.GetNbSecretVariables()
	if len(p.InfinityA) != nWires {
		return fmt.Errorf("zk: proving key has %d wires, the depth-%d circuit %d", len(p.InfinityA), pk.depth, nWires)
	}
	if want := nWires - r.GetNbPublicVariables(); len(p.G1.K) != want {
		return fmt.Errorf("zk: proving key has %d K points, the circuit needs %d", len(p.G1.K), want)
	}
	if want := ecc.NextPowerOfTwo(uint64(r.GetNbConstraints())); p.Domain.Cardinality != want {
		return fmt.Errorf("zk: proving key domain is %d, the circuit needs %d", p.Domain.Cardinality, want)
	}
	if len(p.CommitmentKeys) != 0 {
		return errors.New("zk: proving key has commitment keys")
	}
	return nil
}
