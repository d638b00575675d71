package crypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

// testSeed returns a deterministic 32-byte seed for key number i of a test.
func testSeed(tag string, i int) []byte {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], uint64(i))
	d := Hash([]byte(tag), idx[:])
	return d[:]
}

func mustBLSKey(t testing.TB, tag string, i int) *BLSPrivateKey {
	t.Helper()
	k, err := BLSKeyFromSeed(testSeed(tag, i))
	if err != nil {
		t.Fatalf("BLSKeyFromSeed: %v", err)
	}
	return k
}

func TestBLSSignVerify(t *testing.T) {
	k := mustBLSKey(t, "sign", 0)
	other := mustBLSKey(t, "sign", 1)
	msg := []byte("header digest")
	sig := k.Sign(msg)
	if len(sig) != BLSSignatureSize {
		t.Fatalf("signature is %d bytes, want %d", len(sig), BLSSignatureSize)
	}
	if err := VerifyBLS(k.PublicKey(), msg, sig); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	if !bytes.Equal(sig, k.Sign(msg)) {
		t.Fatal("BLS signing is not deterministic")
	}
	if err := VerifyBLS(k.PublicKey(), []byte("header digesT"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong message: got %v, want ErrBadSignature", err)
	}
	if err := VerifyBLS(other.PublicKey(), msg, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: got %v, want ErrBadSignature", err)
	}
	if err := VerifyBLS(nil, msg, sig); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("nil key: got %v, want ErrInvalidKey", err)
	}
	if err := VerifyBLS(k.PublicKey(), msg, sig[:47]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short signature: got %v, want ErrMalformed", err)
	}
	if err := VerifyBLS(k.PublicKey(), msg, append(sig, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("long signature: got %v, want ErrMalformed", err)
	}
	// Every single-bit corruption must be refused, either as malformed or
	// as a bad signature.
	for bit := 0; bit < 8*BLSSignatureSize; bit += 7 {
		bad := bytes.Clone(sig)
		bad[bit/8] ^= 1 << (bit % 8)
		err := VerifyBLS(k.PublicKey(), msg, bad)
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature with bit %d flipped: got %v", bit, err)
		}
	}
	// A signature from a different domain (a proof of possession) is not a
	// signature on the key bytes.
	if err := VerifyBLS(k.PublicKey(), k.PublicKey().Bytes(), k.ProofOfPossession()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("proof of possession accepted as a message signature: %v", err)
	}
}

func TestBLSKeyFromSeed(t *testing.T) {
	a := mustBLSKey(t, "seed", 0)
	b := mustBLSKey(t, "seed", 0)
	c := mustBLSKey(t, "seed", 1)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || !a.PublicKey().Equal(b.PublicKey()) {
		t.Fatal("same seed gave different keys")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) || a.PublicKey().Equal(c.PublicKey()) {
		t.Fatal("different seeds gave the same key")
	}
	if _, err := BLSKeyFromSeed(make([]byte, 31)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("31-byte seed: got %v, want ErrInvalidKey", err)
	}
	// KeyGen must agree with blst's own.
	want := blst.KeyGen(testSeed("seed", 0)).Serialize()
	if !bytes.Equal(a.Bytes(), want) {
		t.Fatal("BLSKeyFromSeed differs from blst.KeyGen")
	}
}

func TestGenerateBLSKey(t *testing.T) {
	k1, err := GenerateBLSKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := GenerateBLSKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if k1.PublicKey().Equal(k2.PublicKey()) {
		t.Fatal("two generated keys are equal")
	}
	// Deterministic from the reader.
	r := mrand.NewChaCha8([32]byte{1})
	r2 := mrand.NewChaCha8([32]byte{1})
	k3, _ := GenerateBLSKey(r)
	k4, _ := GenerateBLSKey(r2)
	if !k3.PublicKey().Equal(k4.PublicKey()) {
		t.Fatal("same randomness gave different keys")
	}
	if _, err := GenerateBLSKey(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("short randomness accepted")
	}
}

func TestParseBLSPrivateKey(t *testing.T) {
	k := mustBLSKey(t, "parse", 0)
	k2, err := ParseBLSPrivateKey(k.Bytes())
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if !k2.PublicKey().Equal(k.PublicKey()) || !bytes.Equal(k2.Bytes(), k.Bytes()) {
		t.Fatal("round trip changed the key")
	}
	if _, err := ParseBLSPrivateKey(make([]byte, 32)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("zero key: got %v, want ErrInvalidKey", err)
	}
	// The group order r and everything above is refused.
	r, _ := new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)
	for _, v := range []*big.Int{r, new(big.Int).Add(r, big.NewInt(1)), new(big.Int).Lsh(big.NewInt(1), 256-1)} {
		if _, err := ParseBLSPrivateKey(v.FillBytes(make([]byte, 32))); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("scalar %x: got %v, want ErrInvalidKey", v, err)
		}
	}
	// r-1 is the largest valid key.
	rm1 := new(big.Int).Sub(r, big.NewInt(1))
	if _, err := ParseBLSPrivateKey(rm1.FillBytes(make([]byte, 32))); err != nil {
		t.Fatalf("r-1 refused: %v", err)
	}
	if _, err := ParseBLSPrivateKey(make([]byte, 31)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("31 bytes: got %v, want ErrMalformed", err)
	}
}

// offSubgroupG2 returns the compressed encoding of a point on G2's curve
// that is not in the prime-order subgroup.
func offSubgroupG2(t testing.TB) []byte {
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 1000 {
		b := make([]byte, BLSPublicKeySize)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = b[0]&0x1f | 0x80 // compressed, not infinity, x well below p
		var p blst.P2Affine
		if p.Uncompress(b) != nil && !p.InG2() {
			return b
		}
	}
	t.Fatal("found no off-subgroup G2 point")
	return nil
}

// offSubgroupG1 is offSubgroupG2 for G1.
func offSubgroupG1(t testing.TB) []byte {
	rng := mrand.New(mrand.NewPCG(3, 4))
	for range 1000 {
		b := make([]byte, BLSSignatureSize)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = b[0]&0x1f | 0x80
		var p blst.P1Affine
		if p.Uncompress(b) != nil && !p.InG1() {
			return b
		}
	}
	t.Fatal("found no off-subgroup G1 point")
	return nil
}

// fieldModulus is p of BLS12-381's base field, big-endian, 48 bytes.
func fieldModulus() []byte {
	p, _ := new(big.Int).SetString("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16)
	return p.FillBytes(make([]byte, 48))
}

func TestParseBLSPublicKey(t *testing.T) {
	k := mustBLSKey(t, "pk", 0)
	pkb := k.PublicKey().Bytes()
	if len(pkb) != BLSPublicKeySize {
		t.Fatalf("public key is %d bytes", len(pkb))
	}
	pk, err := ParseBLSPublicKey(pkb)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if !pk.Equal(k.PublicKey()) || !bytes.Equal(pk.Bytes(), pkb) {
		t.Fatal("round trip changed the key")
	}
	// Bytes returns a copy.
	pk.Bytes()[5] ^= 1
	if !bytes.Equal(pk.Bytes(), pkb) {
		t.Fatal("Bytes exposes internal state")
	}

	infinity := make([]byte, BLSPublicKeySize)
	infinity[0] = 0xc0
	if _, err := ParseBLSPublicKey(infinity); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("infinity: got %v, want ErrInvalidKey", err)
	}
	if _, err := ParseBLSPublicKey(offSubgroupG2(t)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("off-subgroup key: got %v, want ErrMalformed", err)
	}
	// x with no square root of x^3+b: try increments until Uncompress fails.
	notOnCurve := bytes.Clone(pkb)
	for i := 0; ; i++ {
		notOnCurve[95]++
		var p blst.P2Affine
		if p.Uncompress(notOnCurve) == nil {
			break
		}
		if i > 100 {
			t.Fatal("found no x off the curve")
		}
	}
	if _, err := ParseBLSPublicKey(notOnCurve); !errors.Is(err, ErrMalformed) {
		t.Fatalf("off-curve key: got %v, want ErrMalformed", err)
	}
	// The uncompressed flag, non-canonical infinity and x >= p are refused.
	uncompressed := bytes.Clone(pkb)
	uncompressed[0] &^= 0x80
	nonCanonInf := bytes.Clone(infinity)
	nonCanonInf[50] = 1
	xIsP := make([]byte, BLSPublicKeySize)
	copy(xIsP[48:], fieldModulus()) // the c0 half of x equal to p
	copy(xIsP[:48], pkb[:48])
	for name, b := range map[string][]byte{"uncompressed flag": uncompressed, "non-canonical infinity": nonCanonInf, "x = p": xIsP, "short": pkb[:95]} {
		if _, err := ParseBLSPublicKey(b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestBLSSignatureParsing(t *testing.T) {
	k := mustBLSKey(t, "sigparse", 0)
	sig := k.Sign([]byte("m"))
	s, err := parseBLSSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Compress(), sig) {
		t.Fatal("signature round trip changed bytes")
	}
	infinity := make([]byte, BLSSignatureSize)
	infinity[0] = 0xc0
	if _, err := parseBLSSignature(infinity); !errors.Is(err, ErrMalformed) {
		t.Fatalf("infinite signature: got %v", err)
	}
	if _, err := parseBLSSignature(offSubgroupG1(t)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("off-subgroup signature: got %v", err)
	}
	xIsP := fieldModulus()
	xIsP[0] |= 0x80
	if _, err := parseBLSSignature(xIsP); !errors.Is(err, ErrMalformed) {
		t.Fatalf("x = p: got %v", err)
	}
}

func TestProofOfPossession(t *testing.T) {
	k := mustBLSKey(t, "pop", 0)
	other := mustBLSKey(t, "pop", 1)
	pop := k.ProofOfPossession()
	if err := k.PublicKey().VerifyProofOfPossession(pop); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	if err := other.PublicKey().VerifyProofOfPossession(pop); !errors.Is(err, ErrBadProofOfPossession) {
		t.Fatalf("proof for another key: got %v", err)
	}
	// A message signature on the key bytes is not a proof of possession:
	// the two use different domain separation tags.
	if err := k.PublicKey().VerifyProofOfPossession(k.Sign(k.PublicKey().Bytes())); !errors.Is(err, ErrBadProofOfPossession) {
		t.Fatalf("message signature accepted as proof: %v", err)
	}
	if err := k.PublicKey().VerifyProofOfPossession(pop[:10]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short proof: got %v", err)
	}
	if BLSSignatureDST == BLSProofOfPossessionDST {
		t.Fatal("signature and proof-of-possession tags are equal")
	}
}

func TestAggregateBLSSignatures(t *testing.T) {
	msg := []byte("vote")
	var sigs [][]byte
	var pks []*blst.P2Affine
	for i := range 5 {
		k := mustBLSKey(t, "agg", i)
		sigs = append(sigs, k.Sign(msg))
		pks = append(pks, &k.PublicKey().p)
	}
	agg, err := AggregateBLSSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if len(agg) != BLSSignatureSize {
		t.Fatalf("aggregate is %d bytes", len(agg))
	}
	var s blst.P1Affine
	if s.Uncompress(agg) == nil || !s.FastAggregateVerify(true, pks, msg, dstSig()) {
		t.Fatal("aggregate does not verify with blst")
	}
	if s.FastAggregateVerify(true, pks[:4], msg, dstSig()) {
		t.Fatal("aggregate verifies without one signer")
	}
	one, err := AggregateBLSSignatures(sigs[:1])
	if err != nil || !bytes.Equal(one, sigs[0]) {
		t.Fatalf("aggregate of one signature: %x, %v", one, err)
	}
	if _, err := AggregateBLSSignatures(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty: got %v", err)
	}
	bad := append([][]byte{}, sigs...)
	bad[3] = offSubgroupG1(t)
	if _, err := AggregateBLSSignatures(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("off-subgroup member: got %v", err)
	}
}
