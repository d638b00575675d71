package crypto

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"

	"github.com/dagd/dagd/crypto/blsverify"

	blst "github.com/supranational/blst/bindings/go"
)

// Sizes of BLS12-381 keys and signatures in the min-sig variant.
const (
	// BLSSignatureSize is the length of a compressed G1 signature.
	BLSSignatureSize = blsverify.SignatureSize
	// BLSPublicKeySize is the length of a compressed G2 public key.
	BLSPublicKeySize = blsverify.PublicKeySize
	// BLSPrivateKeySize is the length of a big-endian secret scalar.
	BLSPrivateKeySize = 32
)

// Domain separation tags of dagd's BLS hash-to-curve, declared once in the
// cgo-free crypto/blsverify (which says why there are two) and named here
// for the rest of dagd.
const (
	// BLSSignatureDST tags signatures on messages.
	BLSSignatureDST = blsverify.SignatureDST
	// BLSProofOfPossessionDST tags proofs of possession.
	BLSProofOfPossessionDST = blsverify.ProofOfPossessionDST
)

// blstSuccess is BLST_SUCCESS of blst's BLST_ERROR enumeration, which the Go
// binding returns as a plain int from its Pairing functions.
const blstSuccess = 0

// dstSig and dstPoP return the tags as fresh byte slices for blst (a few
// dozen bytes per call, against a pairing that costs a millisecond; no
// package-level mutable slices).
func dstSig() []byte { return []byte(BLSSignatureDST) }
func dstPoP() []byte { return []byte(BLSProofOfPossessionDST) }

// BLSPrivateKey is a validator's BLS12-381 secret key. It is safe for
// concurrent use.
type BLSPrivateKey struct {
	sk  *blst.SecretKey
	pub *BLSPublicKey
}

// BLSPublicKey is a validator's BLS12-381 public key, a point of G2 known to
// be in the prime-order subgroup and not the point at infinity. It is
// immutable and safe for concurrent use.
type BLSPublicKey struct {
	p blst.P2Affine
	b [BLSPublicKeySize]byte
}

// GenerateBLSKey creates a new key from 32 bytes of rand (crypto/rand when
// rand is nil) through the IETF KeyGen procedure.
func GenerateBLSKey(rand io.Reader) (*BLSPrivateKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var ikm [32]byte
	defer clear(ikm[:])
	if _, err := io.ReadFull(rand, ikm[:]); err != nil {
		return nil, fmt.Errorf("crypto: generate BLS key: read randomness: %w", err)
	}
	return BLSKeyFromSeed(ikm[:])
}

// BLSKeyFromSeed derives a key deterministically from seed, which must hold
// at least 32 bytes of secret entropy, with the IETF BLS KeyGen procedure
// (HKDF-SHA-256), as blst implements it.
func BLSKeyFromSeed(seed []byte) (*BLSPrivateKey, error) {
	if len(seed) < 32 {
		return nil, fmt.Errorf("crypto: BLS key seed must be at least 32 bytes, got %d: %w", len(seed), ErrInvalidKey)
	}
	sk := blst.KeyGen(seed)
	if sk == nil || !sk.Valid() {
		return nil, fmt.Errorf("crypto: BLS KeyGen produced no valid scalar: %w", ErrInvalidKey)
	}
	return newBLSPrivateKey(sk), nil
}

// ParseBLSPrivateKey decodes the 32-byte big-endian form produced by Bytes.
// It rejects zero and scalars not below the group order.
func ParseBLSPrivateKey(b []byte) (*BLSPrivateKey, error) {
	if len(b) != BLSPrivateKeySize {
		return nil, fmt.Errorf("crypto: BLS private key must be %d bytes, got %d: %w", BLSPrivateKeySize, len(b), ErrMalformed)
	}
	sk := new(blst.SecretKey)
	if sk.Deserialize(b) == nil {
		return nil, fmt.Errorf("crypto: BLS private key is zero or not below the group order: %w", ErrInvalidKey)
	}
	return newBLSPrivateKey(sk), nil
}

func newBLSPrivateKey(sk *blst.SecretKey) *BLSPrivateKey {
	pub := &BLSPublicKey{}
	pub.p.From(sk)
	copy(pub.b[:], pub.p.Compress())
	return &BLSPrivateKey{sk: sk, pub: pub}
}

// Bytes returns the 32-byte big-endian secret scalar (the form EIP-2335
// keystores hold). Keep it secret.
func (k *BLSPrivateKey) Bytes() []byte { return k.sk.Serialize() }

// PublicKey returns the public key of k.
func (k *BLSPrivateKey) PublicKey() *BLSPublicKey { return k.pub }

// Sign returns the 48-byte compressed signature of msg under
// BLSSignatureDST.
func (k *BLSPrivateKey) Sign(msg []byte) []byte {
	return new(blst.P1Affine).Sign(k.sk, msg, dstSig()).Compress()
}

// ProofOfPossession returns a signature on k's compressed public key under
// BLSProofOfPossessionDST. A committee admits a key only with a valid proof,
// which is what makes fast aggregate verification safe against rogue keys.
func (k *BLSPrivateKey) ProofOfPossession() []byte {
	return new(blst.P1Affine).Sign(k.sk, k.pub.b[:], dstPoP()).Compress()
}

// ParseBLSPublicKey decodes a 96-byte compressed G2 point. It rejects
// non-canonical encodings, points not on the curve or not in the prime-order
// subgroup, and the point at infinity.
func ParseBLSPublicKey(b []byte) (*BLSPublicKey, error) {
	if len(b) != BLSPublicKeySize {
		return nil, fmt.Errorf("crypto: BLS public key must be %d bytes, got %d: %w", BLSPublicKeySize, len(b), ErrMalformed)
	}
	pk := &BLSPublicKey{}
	if pk.p.Uncompress(b) == nil {
		return nil, fmt.Errorf("crypto: BLS public key is not a compressed point on G2's curve: %w", ErrMalformed)
	}
	if pk.p.Equals(new(blst.P2Affine)) {
		return nil, fmt.Errorf("crypto: BLS public key is the point at infinity: %w", ErrInvalidKey)
	}
	if !pk.p.KeyValidate() {
		return nil, fmt.Errorf("crypto: BLS public key is not in the G2 subgroup: %w", ErrMalformed)
	}
	copy(pk.b[:], b)
	return pk, nil
}

// Bytes returns the 96-byte compressed form of p.
func (p *BLSPublicKey) Bytes() []byte {
	b := p.b
	return b[:]
}

// Equal reports whether p and q are the same key.
func (p *BLSPublicKey) Equal(q *BLSPublicKey) bool {
	return p != nil && q != nil && p.b == q.b
}

// String returns the hex form of the compressed key.
func (p *BLSPublicKey) String() string { return fmt.Sprintf("%x", p.b[:]) }

// VerifyProofOfPossession checks that pop was made by ProofOfPossession with
// the secret key of p.
func (p *BLSPublicKey) VerifyProofOfPossession(pop []byte) error {
	sig, err := parseBLSSignature(pop)
	if err != nil {
		return fmt.Errorf("crypto: proof of possession: %w", err)
	}
	if !verifyOne(&p.p, p.b[:], sig, dstPoP()) {
		return fmt.Errorf("crypto: proof of possession does not verify for key %x: %w", p.b[:8], ErrBadProofOfPossession)
	}
	return nil
}

// VerifyBLS checks sig on msg under pk. The signature is decoded with the
// subgroup check and must not be the point at infinity.
func VerifyBLS(pk *BLSPublicKey, msg, sig []byte) error {
	if pk == nil {
		return fmt.Errorf("crypto: verify BLS: nil public key: %w", ErrInvalidKey)
	}
	s, err := parseBLSSignature(sig)
	if err != nil {
		return fmt.Errorf("crypto: verify BLS: %w", err)
	}
	if !verifyOne(&pk.p, msg, s, dstSig()) {
		return fmt.Errorf("crypto: BLS signature does not verify: %w", ErrBadSignature)
	}
	return nil
}

// AggregateBLSSignatures adds signatures into one 48-byte aggregate. Each
// must decode to a point on G1's curve other than infinity; the subgroup is
// checked once, on the sum, instead of on every member: the members are
// usually votes already verified one by one, and a member with a torsion
// component yields a sum outside the subgroup, which is refused. An empty
// list is an error.
func AggregateBLSSignatures(sigs [][]byte) ([]byte, error) {
	if len(sigs) == 0 {
		return nil, fmt.Errorf("crypto: aggregate BLS signatures: empty list: %w", ErrMalformed)
	}
	var acc blst.P1
	var s blst.P1Affine
	for i, b := range sigs {
		if len(b) != BLSSignatureSize {
			return nil, fmt.Errorf("crypto: aggregate BLS signatures: signature %d has %d bytes, want %d: %w", i, len(b), BLSSignatureSize, ErrMalformed)
		}
		if s.Uncompress(b) == nil {
			return nil, fmt.Errorf("crypto: aggregate BLS signatures: signature %d is not a compressed point on G1's curve: %w", i, ErrMalformed)
		}
		if s.Equals(new(blst.P1Affine)) {
			return nil, fmt.Errorf("crypto: aggregate BLS signatures: signature %d is the point at infinity: %w", i, ErrMalformed)
		}
		if i == 0 {
			acc.FromAffine(&s)
		} else {
			acc.AddAssign(&s)
		}
	}
	sum := acc.ToAffine()
	if sum.Equals(new(blst.P1Affine)) {
		return nil, fmt.Errorf("crypto: aggregate BLS signatures: the sum of %d signatures is the point at infinity: %w", len(sigs), ErrMalformed)
	}
	if !sum.SigValidate(false) {
		return nil, fmt.Errorf("crypto: aggregate BLS signatures: the sum of %d signatures is not in the G1 subgroup: %w", len(sigs), ErrMalformed)
	}
	return sum.Compress(), nil
}

// parseBLSSignature decodes a compressed G1 signature, rejecting
// non-canonical encodings, points outside the subgroup and infinity.
func parseBLSSignature(b []byte) (*blst.P1Affine, error) {
	if len(b) != BLSSignatureSize {
		return nil, fmt.Errorf("BLS signature must be %d bytes, got %d: %w", BLSSignatureSize, len(b), ErrMalformed)
	}
	s := new(blst.P1Affine)
	if s.Uncompress(b) == nil {
		return nil, fmt.Errorf("BLS signature is not a compressed point on G1's curve: %w", ErrMalformed)
	}
	if !s.SigValidate(true) {
		if s.Equals(new(blst.P1Affine)) {
			return nil, fmt.Errorf("BLS signature is the point at infinity: %w", ErrMalformed)
		}
		return nil, fmt.Errorf("BLS signature is not in the G1 subgroup: %w", ErrMalformed)
	}
	return s, nil
}

// verifyOne checks e(sig, g2) == e(H(msg), pk) on the calling goroutine.
// pk must be validated (in the subgroup, not infinity) and sig decoded with
// parseBLSSignature. Unlike blst's Verify it starts no goroutines: callers
// verify many signatures at once and spread them over cores themselves.
func verifyOne(pk *blst.P2Affine, msg []byte, sig *blst.P1Affine, dst []byte) bool {
	ctx := blst.PairingCtx(true, dst)
	if blst.PairingAggregatePkInG2(ctx, pk, false, sig, false, msg) != blstSuccess {
		return false
	}
	blst.PairingCommit(ctx)
	return blst.PairingFinalVerify(ctx)
}
