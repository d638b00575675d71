package blsverify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// testKey is a secret key for tests, signing with gnark-crypto. dagd signs
// with blst (package crypto); crypto's differential tests hold the two
// together, and TestBlstVectors checks blst's own output here.
type testKey struct {
	sk *big.Int
	pk *PublicKey
}

func newTestKey(t testing.TB, tag string, i int) testKey {
	t.Helper()
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", tag, i))
	sk := new(big.Int).SetBytes(h[:])
	sk.Mod(sk, bls12381.ID.ScalarField())
	var p bls12381.G2Affine
	p.ScalarMultiplicationBase(sk)
	b := p.Bytes()
	pk, err := ParsePublicKey(b[:])
	if err != nil {
		t.Fatalf("parse a key of our own: %v", err)
	}
	return testKey{sk: sk, pk: pk}
}

func (k testKey) signDST(t testing.TB, msg []byte, dst string) *Signature {
	t.Helper()
	h, err := bls12381.HashToG1(msg, []byte(dst))
	if err != nil {
		t.Fatal(err)
	}
	h.ScalarMultiplication(&h, k.sk)
	b := h.Bytes()
	s, err := ParseSignature(b[:])
	if err != nil {
		t.Fatalf("parse a signature of our own: %v", err)
	}
	return s
}

func (k testKey) sign(t testing.TB, msg []byte) *Signature { return k.signDST(t, msg, SignatureDST) }

func (k testKey) pop(t testing.TB) *Signature {
	return k.signDST(t, k.pk.Bytes(), ProofOfPossessionDST)
}

// aggregateSigs adds signatures (test helper: the package verifies, it does
// not aggregate signatures).
func aggregateSigs(t testing.TB, sigs ...*Signature) *Signature {
	t.Helper()
	var acc bls12381.G1Jac
	for i, s := range sigs {
		if i == 0 {
			acc.FromAffine(&s.p)
		} else {
			acc.AddMixed(&s.p)
		}
	}
	var a bls12381.G1Affine
	a.FromJacobian(&acc)
	b := a.Bytes()
	s, err := ParseSignature(b[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBlstVectors verifies signatures that blst made through package crypto
// (BLSKeyFromSeed on seeds 0..31, 32..63 and 64..95; Sign and
// ProofOfPossession; AggregateBLSSignatures), so that this package is checked
// against blst even where cgo is off.
func TestBlstVectors(t *testing.T) {
	msg := []byte("dagd checkpoint 14")
	vec := []struct{ pk, pop, sig string }{
		{
			"acfd749941a5bea56796745d1fc91668d63f9522374cb6e9c033433e3216dcad48b4fc1ab7000a365f2861565daa6b0819fd041ac58eed8c441c8b3478df6ceeaf89cc02c8119f63891a1368d7ec1d0c7e2abaaae2ac8579b7eece473478dac7",
			"b82a56667108a068c575f0d1c7cb7321c41af4d94044f75c2222a324f7bc33de5a9c123fb55c75c00ddb94989e250e97",
			"963ca1fd51b97a8b5c923f159e4c0b9277b9fd981f2054277c7bd4d94733a87725e1d991f63549b68254dea82616dd13",
		},
		{
			"842706c5250b5dbafe4b4b497c00cdece55b807db08824c2c9a1ac73a88dc27bbd3616d5fa2894534a8270f1b2779d5615bce8be164022fb848d0bc87c1f0e151aad15fbdca6ad5d733af5e478443ea9f8655978625e7cc2bb22e581436ce11d",
			"86750a77ab41f6f80a5e1f3bcf0bb0ae466b10e7ae10db39d32b067fcc98192c29ce89049ee6c8bb49055c6fb90b3320",
			"8a25746209ade78deb64fc8f5ebeaa2ebb7c1f39609ecb30a010ff8c85a5732596e66eb104170e3ae673ba43fd8bc20b",
		},
		{
			"81f4fdf3a073dc38e0d62933a1e78ebc399e552f11df2f69e861b7980cee2f0ca53929347a14300311c46598b89181ae197620c329d2e6256c7bc1c09436a6c1d2d73ebb193235036c110fe46b8169945ae46c27cfcf4d3f98dfe3ba11a39c3d",
			"96099b7339348b79f6d646cc1caaa5894eadfdf9251cf1710ef59b0750f7f0eeb995189ef14547f662e725c9c801527a",
			"86d23e6455338acb5bfd9c0d55875b50d1131ff872606efd829c1bddcd66f34c58d2b73815b7234f3dd1cc6a6c538c91",
		},
	}
	const agg = "a6a57896de6636797d008e1d8a9e7addaa2e9a773c6626dd35c1fa3740b15c69331b59cc2651de7fc25ed57dfc414143"

	var pks []*PublicKey
	for i, v := range vec {
		pk, err := ParsePublicKey(mustHex(t, v.pk))
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		if pk.String() != v.pk {
			t.Fatalf("key %d re-encodes as %s", i, pk)
		}
		pop, err := ParseSignature(mustHex(t, v.pop))
		if err != nil {
			t.Fatalf("pop %d: %v", i, err)
		}
		if err := VerifyProofOfPossession(pk, pop); err != nil {
			t.Fatalf("pop %d: %v", i, err)
		}
		sig, err := ParseSignature(mustHex(t, v.sig))
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if err := Verify(pk, msg, sig); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if err := Verify(pk, []byte("dagd checkpoint 15"), sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature %d on another message: %v", i, err)
		}
		// A proof of possession is not a signature on the key bytes, nor
		// the other way around.
		if err := Verify(pk, pk.Bytes(), pop); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("pop %d as a message signature: %v", i, err)
		}
		if err := VerifyProofOfPossession(pk, sig); !errors.Is(err, ErrBadProofOfPossession) {
			t.Fatalf("signature %d as a pop: %v", i, err)
		}
		pks = append(pks, pk)
	}
	aggSig, err := ParseSignature(mustHex(t, agg))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyAggregate(pks, msg, aggSig); err != nil {
		t.Fatalf("aggregate: %v", err)
	}
	if err := VerifyAggregate(pks[:2], msg, aggSig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("aggregate under two of its three keys: %v", err)
	}
	if err := VerifyAggregate(append(pks, pks[0]), msg, aggSig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("aggregate with a key counted twice: %v", err)
	}
}

func TestSignVerifyAggregate(t *testing.T) {
	msg := []byte("checkpoint")
	var keys []testKey
	var pks []*PublicKey
	var sigs []*Signature
	for i := range 7 {
		k := newTestKey(t, "agg", i)
		keys = append(keys, k)
		pks = append(pks, k.pk)
		sigs = append(sigs, k.sign(t, msg))
		if err := VerifyProofOfPossession(k.pk, k.pop(t)); err != nil {
			t.Fatalf("pop %d: %v", i, err)
		}
	}
	for i := range keys {
		if err := Verify(pks[i], msg, sigs[i]); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		if err := Verify(pks[(i+1)%len(pks)], msg, sigs[i]); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("key %d's signature under another key: %v", i, err)
		}
	}
	agg := aggregateSigs(t, sigs...)
	if err := VerifyAggregate(pks, msg, agg); err != nil {
		t.Fatal(err)
	}
	// Order does not matter; membership does.
	rev := make([]*PublicKey, len(pks))
	for i := range pks {
		rev[i] = pks[len(pks)-1-i]
	}
	if err := VerifyAggregate(rev, msg, agg); err != nil {
		t.Fatalf("reversed keys: %v", err)
	}
	if err := VerifyAggregate(pks[1:], msg, agg); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("one key short: %v", err)
	}
	if err := VerifyAggregate(pks, []byte("checkpoinT"), agg); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other message: %v", err)
	}
	// The aggregate key is a key like any other, and parses back.
	ak, err := AggregatePublicKeys(pks)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ak, msg, agg); err != nil {
		t.Fatalf("Verify under the aggregate key: %v", err)
	}
	back, err := ParsePublicKey(ak.Bytes())
	if err != nil || !back.Equal(ak) {
		t.Fatalf("aggregate key does not parse back: %v", err)
	}
	// Bytes returns copies.
	ak.Bytes()[3] ^= 1
	agg.Bytes()[3] ^= 1
	if !back.Equal(ak) {
		t.Fatal("PublicKey.Bytes exposes internal state")
	}
	if err := VerifyAggregate(pks, msg, agg); err != nil {
		t.Fatal("Signature.Bytes exposes internal state")
	}
}

func TestAggregateKeysToInfinity(t *testing.T) {
	k := newTestKey(t, "inf", 0)
	var neg bls12381.G2Affine
	neg.Neg(&k.pk.p)
	nb := neg.Bytes()
	negPK, err := ParsePublicKey(nb[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AggregatePublicKeys([]*PublicKey{k.pk, negPK}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("keys summing to infinity: got %v, want ErrInvalidKey", err)
	}
	if err := VerifyAggregate([]*PublicKey{k.pk, negPK}, []byte("m"), k.sign(t, []byte("m"))); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("verify under keys summing to infinity: %v", err)
	}
}

// TestNilAndZeroValues checks that nil pointers, zero values and empty
// lists are refused with an error, never a panic.
func TestNilAndZeroValues(t *testing.T) {
	k := newTestKey(t, "nil", 0)
	msg := []byte("m")
	sig := k.sign(t, msg)
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"Verify nil key", Verify(nil, msg, sig), ErrInvalidKey},
		{"Verify zero key", Verify(&PublicKey{}, msg, sig), ErrInvalidKey},
		{"Verify nil signature", Verify(k.pk, msg, nil), ErrMalformed},
		{"Verify zero signature", Verify(k.pk, msg, &Signature{}), ErrMalformed},
		{"VerifyAggregate no keys", VerifyAggregate(nil, msg, sig), ErrInvalidKey},
		{"VerifyAggregate nil key", VerifyAggregate([]*PublicKey{k.pk, nil}, msg, sig), ErrInvalidKey},
		{"VerifyAggregate zero key", VerifyAggregate([]*PublicKey{{}}, msg, sig), ErrInvalidKey},
		{"VerifyAggregate nil signature", VerifyAggregate([]*PublicKey{k.pk}, msg, nil), ErrMalformed},
		{"VerifyProofOfPossession nil key", VerifyProofOfPossession(nil, sig), ErrInvalidKey},
		{"VerifyProofOfPossession nil proof", VerifyProofOfPossession(k.pk, nil), ErrMalformed},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	if _, err := AggregatePublicKeys(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("AggregatePublicKeys(nil): %v", err)
	}
	var nilKey *PublicKey
	if nilKey.Equal(k.pk) || k.pk.Equal(nil) {
		t.Error("Equal with nil")
	}
	// An empty message is a message like any other.
	if err := Verify(k.pk, nil, k.sign(t, nil)); err != nil {
		t.Errorf("empty message: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	k := newTestKey(t, "parse", 0)
	pkb := k.pk.Bytes()
	sigb := k.sign(t, []byte("m")).Bytes()
	modulus := fp.Modulus().FillBytes(make([]byte, fp.Bytes))

	setFirst := func(b []byte, v byte) []byte { b = bytes.Clone(b); b[0] = v; return b }
	infKey := setFirst(make([]byte, PublicKeySize), 0xc0)
	infSig := setFirst(make([]byte, SignatureSize), 0xc0)
	xIsP := bytes.Clone(modulus)
	xIsP[0] |= 0x80
	keyA0IsP := append(bytes.Clone(pkb[:48]), modulus...)
	keyA1IsP := append(bytes.Clone(xIsP), pkb[48:]...)
	dirty := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1] = 1; return b }

	keyCases := map[string]struct {
		b    []byte
		want error
	}{
		"infinity":               {infKey, ErrInvalidKey},
		"infinity and sort flag": {setFirst(infKey, 0xe0), ErrMalformed},
		"infinity, dirty":        {dirty(infKey), ErrMalformed},
		"uncompressed flag":      {setFirst(pkb, pkb[0]&^0x80), ErrMalformed},
		"x.A1 = p":               {keyA1IsP, ErrMalformed},
		"x.A0 = p":               {keyA0IsP, ErrMalformed},
		"short":                  {pkb[:95], ErrMalformed},
		"long":                   {append(bytes.Clone(pkb), 0), ErrMalformed},
		"a signature":            {sigb, ErrMalformed},
		"empty":                  {nil, ErrMalformed},
	}
	for name, c := range keyCases {
		pk, err := ParsePublicKey(c.b)
		if !errors.Is(err, c.want) || pk != nil {
			t.Errorf("key %s: got %v, %v; want %v", name, pk, err, c.want)
		}
	}
	sigCases := map[string][]byte{
		"infinity":               infSig,
		"infinity and sort flag": setFirst(infSig, 0xe0),
		"infinity, dirty":        dirty(infSig),
		"uncompressed flag":      setFirst(sigb, sigb[0]&^0x80),
		"x = p":                  xIsP,
		"short":                  sigb[:47],
		"a key":                  pkb,
		"empty":                  nil,
	}
	for name, b := range sigCases {
		s, err := ParseSignature(b)
		if !errors.Is(err, ErrMalformed) || s != nil {
			t.Errorf("signature %s: got %v, %v; want ErrMalformed", name, s, err)
		}
	}

	// Points on the curve outside the subgroup, and x off the curve: walk
	// x upwards from a valid key or signature until each kind turns up.
	var offSub, offCurve bool
	for i := 0; i < 200 && !(offSub && offCurve); i++ {
		b := bytes.Clone(sigb)
		b[47] += byte(i + 1)
		_, err := ParseSignature(b)
		switch {
		case err == nil:
		case errors.Is(err, ErrMalformed) && bytes.Contains([]byte(err.Error()), []byte("subgroup")):
			offSub = true
		case errors.Is(err, ErrMalformed) && bytes.Contains([]byte(err.Error()), []byte("curve")):
			offCurve = true
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if !offSub || !offCurve {
		t.Fatalf("G1 walk found off-subgroup %v, off-curve %v", offSub, offCurve)
	}
	offSub, offCurve = false, false
	for i := 0; i < 200 && !(offSub && offCurve); i++ {
		b := bytes.Clone(pkb)
		b[95] += byte(i + 1)
		_, err := ParsePublicKey(b)
		switch {
		case err == nil:
		case errors.Is(err, ErrMalformed) && bytes.Contains([]byte(err.Error()), []byte("subgroup")):
			offSub = true
		case errors.Is(err, ErrMalformed) && bytes.Contains([]byte(err.Error()), []byte("curve")):
			offCurve = true
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if !offSub || !offCurve {
		t.Fatalf("G2 walk found off-subgroup %v, off-curve %v", offSub, offCurve)
	}
}
