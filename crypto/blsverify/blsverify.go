// Package blsverify verifies dagd's BLS12-381 signatures without cgo, in
// pure Go over gnark-crypto, so that light clients built with
// CGO_ENABLED=0 (for linux/arm64 boards) can check checkpoint certificates.
// Package crypto signs and verifies the same signatures with blst, and takes
// its domain separation tags from here: SignatureDST and
// ProofOfPossessionDST exist once.
//
// The scheme is the min-sig variant of the IETF BLS proof-of-possession
// scheme, exactly as package crypto runs it: signatures are points of G1 (48
// bytes compressed), public keys points of G2 (96 bytes compressed), in the
// ZCash serialization that blst reads and writes; messages are hashed to G1
// with RFC 9380 hash_to_curve (expand_message_xmd with SHA-256, simplified
// SWU) under SignatureDST, and a proof of possession is a signature on the
// compressed public key under ProofOfPossessionDST.
//
// ParsePublicKey and ParseSignature are strict, as package crypto's decoders
// are: the compression flag must be set, the infinity flag only with every
// other bit zero, each coordinate below the field modulus, the point on the
// curve and in the prime-order subgroup, and not the point at infinity. A
// parsed *PublicKey or *Signature is therefore always valid and immutable,
// and Verify, VerifyAggregate and VerifyProofOfPossession only hash and pair.
// No function of this package panics on any input, nil pointers included.
//
// VerifyAggregate checks one signature by many keys on one message with a
// single pairing equation against the sum of the keys. That is sound only
// for keys whose proofs of possession were checked (a committee admits no
// other), since otherwise a rogue key can cancel honest ones.
//
// Every function runs on the calling goroutine. The pure-Go pairing is
// slower than blst (the package benchmarks and crypto's
// BenchmarkBLSVerifyAggregateKeys measure both): it is meant for a light
// client checking a certificate now and then, not for a validator's votes.
package blsverify

import (
	"errors"
	"fmt"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// Sizes of the compressed encodings in the min-sig variant.
const (
	// SignatureSize is the length of a compressed G1 signature.
	SignatureSize = 48
	// PublicKeySize is the length of a compressed G2 public key.
	PublicKeySize = 96
)

// Domain separation tags of dagd's BLS hash-to-curve (RFC 9380, SHA-256,
// simplified SWU onto G1). Signatures on protocol messages and proofs of
// possession use distinct tags, so that a proof of possession can never be
// replayed as a signature on a message that happens to equal a public key,
// nor the other way around. They follow the naming of the IETF BLS draft's
// proof-of-possession scheme with a dagd prefix, so dagd signatures are
// useless on any other system.
const (
	// SignatureDST tags signatures on messages.
	SignatureDST = "DAGD_V1_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
	// ProofOfPossessionDST tags proofs of possession.
	ProofOfPossessionDST = "DAGD_V1_BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
)

// Sentinel errors. Every error of this package wraps one of them, so
// callers classify failures with errors.Is while the message says what
// exactly went wrong.
var (
	// ErrMalformed reports bytes that do not decode to a usable point: a
	// wrong length, a flag combination other than compressed, a
	// non-canonical encoding, a point off the curve or outside the
	// prime-order subgroup, or a signature at infinity.
	ErrMalformed = errors.New("malformed input")

	// ErrInvalidKey reports a key that may not be used: the point at
	// infinity, a nil or zero-value key, an empty key list, or keys that
	// sum to infinity.
	ErrInvalidKey = errors.New("invalid key")

	// ErrBadSignature reports a well-formed signature that does not
	// verify.
	ErrBadSignature = errors.New("bad signature")

	// ErrBadProofOfPossession reports a proof of possession that does not
	// verify for its public key.
	ErrBadProofOfPossession = errors.New("bad proof of possession")
)

// Flag bits of the first byte of a compressed point (ZCash serialization).
const (
	flagCompressed = 0x80
	flagInfinity   = 0x40
	flagLargestY   = 0x20
	flagMask       = flagCompressed | flagInfinity | flagLargestY
)

// PublicKey is a validator's BLS12-381 public key: a point of G2 in the
// prime-order subgroup, not the point at infinity. The zero value is not a
// valid key and every function refuses it. A *PublicKey from
// ParsePublicKey or AggregatePublicKeys is immutable and safe for
// concurrent use.
type PublicKey struct {
	p bls12381.G2Affine
	b [PublicKeySize]byte
}

// Signature is a BLS12-381 signature: a point of G1 in the prime-order
// subgroup, not the point at infinity. The zero value is not a valid
// signature and every function refuses it. A *Signature from
// ParseSignature is immutable and safe for concurrent use.
type Signature struct {
	p bls12381.G1Affine
	b [SignatureSize]byte
}

// ParsePublicKey decodes a 96-byte compressed G2 point. It refuses a wrong
// length, a missing compression flag, a malformed infinity encoding, an x
// coordinate whose halves are not below the field modulus, an x with no
// point on the curve, a point outside the prime-order subgroup (all
// ErrMalformed) and the point at infinity (ErrInvalidKey).
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("blsverify: public key must be %d bytes, got %d: %w", PublicKeySize, len(b), ErrMalformed)
	}
	inf, largest, err := parseFlags(b)
	if err != nil {
		return nil, fmt.Errorf("blsverify: public key: %w", err)
	}
	if inf {
		return nil, fmt.Errorf("blsverify: public key is the point at infinity: %w", ErrInvalidKey)
	}
	pk := &PublicKey{}
	var x1 [fp.Bytes]byte
	copy(x1[:], b[:fp.Bytes])
	x1[0] &^= flagMask
	// The compressed form is x.A1 || x.A0, big-endian.
	if err := pk.p.X.A1.SetBytesCanonical(x1[:]); err != nil {
		return nil, fmt.Errorf("blsverify: public key: x's imaginary half is not below the field modulus: %w", ErrMalformed)
	}
	if err := pk.p.X.A0.SetBytesCanonical(b[fp.Bytes:]); err != nil {
		return nil, fmt.Errorf("blsverify: public key: x's real half is not below the field modulus: %w", ErrMalformed)
	}
	// y² = x³ + 4(1+u) on the twist.
	y2 := pk.p.X
	y2.Square(&pk.p.X).Mul(&y2, &pk.p.X)
	bTwist := y2
	bTwist.A0.SetUint64(4)
	bTwist.A1.SetUint64(4)
	y2.Add(&y2, &bTwist)
	if y2.Legendre() == -1 {
		return nil, fmt.Errorf("blsverify: public key is not a compressed point on G2's curve: %w", ErrMalformed)
	}
	pk.p.Y.Sqrt(&y2)
	if pk.p.Y.LexicographicallyLargest() != largest {
		pk.p.Y.Neg(&pk.p.Y)
	}
	if !pk.p.IsOnCurve() {
		// Unreachable unless Sqrt is wrong; cheap insurance.
		return nil, fmt.Errorf("blsverify: public key is not a compressed point on G2's curve: %w", ErrMalformed)
	}
	if !pk.p.IsInSubGroup() {
		return nil, fmt.Errorf("blsverify: public key is not in the G2 subgroup: %w", ErrMalformed)
	}
	copy(pk.b[:], b)
	return pk, nil
}

// ParseSignature decodes a 48-byte compressed G1 point. It refuses a wrong
// length, a missing compression flag, a malformed infinity encoding, an x
// coordinate not below the field modulus, an x with no point on the curve,
// a point outside the prime-order subgroup and the point at infinity, all
// as ErrMalformed (as package crypto does).
func ParseSignature(b []byte) (*Signature, error) {
	if len(b) != SignatureSize {
		return nil, fmt.Errorf("blsverify: signature must be %d bytes, got %d: %w", SignatureSize, len(b), ErrMalformed)
	}
	inf, largest, err := parseFlags(b)
	if err != nil {
		return nil, fmt.Errorf("blsverify: signature: %w", err)
	}
	if inf {
		return nil, fmt.Errorf("blsverify: signature is the point at infinity: %w", ErrMalformed)
	}
	s := &Signature{}
	var x [fp.Bytes]byte
	copy(x[:], b)
	x[0] &^= flagMask
	if err := s.p.X.SetBytesCanonical(x[:]); err != nil {
		return nil, fmt.Errorf("blsverify: signature: x is not below the field modulus: %w", ErrMalformed)
	}
	// y² = x³ + 4.
	var y2, four fp.Element
	four.SetUint64(4)
	y2.Square(&s.p.X).Mul(&y2, &s.p.X).Add(&y2, &four)
	if s.p.Y.Sqrt(&y2) == nil {
		return nil, fmt.Errorf("blsverify: signature is not a compressed point on G1's curve: %w", ErrMalformed)
	}
	if s.p.Y.LexicographicallyLargest() != largest {
		s.p.Y.Neg(&s.p.Y)
	}
	if !s.p.IsInSubGroup() {
		return nil, fmt.Errorf("blsverify: signature is not in the G1 subgroup: %w", ErrMalformed)
	}
	copy(s.b[:], b)
	return s, nil
}

// parseFlags reads the flags of a compressed point of the right length. It
// reports whether b is the canonical encoding of the point at infinity
// (0xc0 then zeros) and, otherwise, whether y is the lexicographically
// larger root.
func parseFlags(b []byte) (infinity, largest bool, err error) {
	if b[0]&flagCompressed == 0 {
		return false, false, fmt.Errorf("compression flag not set (uncompressed encodings are not accepted): %w", ErrMalformed)
	}
	if b[0]&flagInfinity != 0 {
		if b[0] != flagCompressed|flagInfinity {
			return false, false, fmt.Errorf("infinity flag with other bits set in the first byte: %w", ErrMalformed)
		}
		for _, v := range b[1:] {
			if v != 0 {
				return false, false, fmt.Errorf("infinity flag with a non-zero coordinate: %w", ErrMalformed)
			}
		}
		return true, false, nil
	}
	return false, b[0]&flagLargestY != 0, nil
}

// Bytes returns the 96-byte compressed form of pk.
func (pk *PublicKey) Bytes() []byte {
	b := pk.b
	return b[:]
}

// Equal reports whether pk and q are the same key.
func (pk *PublicKey) Equal(q *PublicKey) bool {
	return pk != nil && q != nil && pk.b == q.b
}

// String returns the hex form of the compressed key.
func (pk *PublicKey) String() string { return fmt.Sprintf("%x", pk.b[:]) }

// Bytes returns the 48-byte compressed form of s.
func (s *Signature) Bytes() []byte {
	b := s.b
	return b[:]
}

// usable reports whether pk is a key this package produced (not nil, not
// the zero value, whose point is infinity).
func (pk *PublicKey) usable() bool { return pk != nil && !pk.p.IsInfinity() }

// usable reports whether s is a signature this package produced.
func (s *Signature) usable() bool { return s != nil && !s.p.IsInfinity() }

// AggregatePublicKeys adds keys into one key, the key that verifies the
// aggregate of their signatures on one message. Every key must come from
// ParsePublicKey (or this function); an empty list, a nil or zero-value key
// and a sum at infinity are ErrInvalidKey. The keys should have proved
// possession of their secret keys (see the package comment).
func AggregatePublicKeys(pks []*PublicKey) (*PublicKey, error) {
	if len(pks) == 0 {
		return nil, fmt.Errorf("blsverify: aggregate public keys: empty list: %w", ErrInvalidKey)
	}
	var acc bls12381.G2Jac
	for i, pk := range pks {
		if !pk.usable() {
			return nil, fmt.Errorf("blsverify: aggregate public keys: key %d is nil or the zero value: %w", i, ErrInvalidKey)
		}
		if i == 0 {
			acc.FromAffine(&pk.p)
		} else {
			acc.AddMixed(&pk.p)
		}
	}
	out := &PublicKey{}
	out.p.FromJacobian(&acc)
	if out.p.IsInfinity() {
		return nil, fmt.Errorf("blsverify: aggregate public keys: the %d keys sum to the point at infinity: %w", len(pks), ErrInvalidKey)
	}
	out.b = out.p.Bytes()
	return out, nil
}

// Verify checks sig on msg under pk: e(sig, g2) = e(H(msg), pk) with H the
// hash to G1 under SignatureDST.
func Verify(pk *PublicKey, msg []byte, sig *Signature) error {
	ok, err := verify(pk, msg, sig, SignatureDST)
	if err != nil {
		return fmt.Errorf("blsverify: verify: %w", err)
	}
	if !ok {
		return fmt.Errorf("blsverify: signature does not verify: %w", ErrBadSignature)
	}
	return nil
}

// VerifyAggregate checks that sig is the aggregate of signatures on msg by
// exactly the keys pks, with one pairing equation against their sum. It is
// sound only if every key proved possession of its secret key (a
// committee's keys did).
func VerifyAggregate(pks []*PublicKey, msg []byte, sig *Signature) error {
	if !sig.usable() {
		return fmt.Errorf("blsverify: verify aggregate: nil or zero-value signature: %w", ErrMalformed)
	}
	agg, err := AggregatePublicKeys(pks)
	if err != nil {
		return fmt.Errorf("blsverify: verify aggregate: %w", err)
	}
	ok, err := verify(agg, msg, sig, SignatureDST)
	if err != nil {
		return fmt.Errorf("blsverify: verify aggregate: %w", err)
	}
	if !ok {
		return fmt.Errorf("blsverify: aggregate signature by %d keys does not verify: %w", len(pks), ErrBadSignature)
	}
	return nil
}

// VerifyProofOfPossession checks that pop is a signature on pk's compressed
// encoding under ProofOfPossessionDST, made by package crypto's
// ProofOfPossession with pk's secret key.
func VerifyProofOfPossession(pk *PublicKey, pop *Signature) error {
	if !pk.usable() {
		return fmt.Errorf("blsverify: proof of possession: nil or zero-value public key: %w", ErrInvalidKey)
	}
	ok, err := verify(pk, pk.b[:], pop, ProofOfPossessionDST)
	if err != nil {
		return fmt.Errorf("blsverify: proof of possession: %w", err)
	}
	if !ok {
		return fmt.Errorf("blsverify: proof of possession does not verify for key %x: %w", pk.b[:8], ErrBadProofOfPossession)
	}
	return nil
}

// verify checks e(sig, g2) = e(H(msg), pk), H the hash to G1 under dst, as
// e(-sig, g2) · e(H(msg), pk) = 1: one multi-pairing, one final
// exponentiation. It reports false, nil for a signature that does not
// verify and an error for unusable inputs.
func verify(pk *PublicKey, msg []byte, sig *Signature, dst string) (bool, error) {
	if !pk.usable() {
		return false, fmt.Errorf("nil or zero-value public key: %w", ErrInvalidKey)
	}
	if !sig.usable() {
		return false, fmt.Errorf("nil or zero-value signature: %w", ErrMalformed)
	}
	h, err := bls12381.HashToG1(msg, []byte(dst))
	if err != nil {
		// Only a tag longer than 255 bytes gets here; ours are constants.
		return false, fmt.Errorf("hash to G1: %w", err)
	}
	_, _, _, g2 := bls12381.Generators()
	var negSig bls12381.G1Affine
	negSig.Neg(&sig.p)
	ok, err := bls12381.PairingCheck([]bls12381.G1Affine{negSig, h}, []bls12381.G2Affine{g2, pk.p})
	if err != nil {
		return false, fmt.Errorf("pairing: %w", err)
	}
	return ok, nil
}
