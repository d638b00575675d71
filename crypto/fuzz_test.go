package crypto

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dagd/dagd/crypto/bitmap"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add calls below
// add a few more built at run time.

func FuzzParseBLSPublicKey(f *testing.F) {
	k := mustBLSKey(f, "fuzz", 0)
	f.Add(k.PublicKey().Bytes())
	f.Add(make([]byte, BLSPublicKeySize))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParseBLSPublicKey(b)
		if err != nil {
			if pk != nil {
				t.Fatal("key returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		// Canonical: the accepted bytes are the key's only encoding.
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("accepted %x but encodes as %x", b, pk.Bytes())
		}
		if !pk.p.KeyValidate() {
			t.Fatal("accepted a key outside the subgroup or at infinity")
		}
		// A signature by someone else never verifies under it.
		if err := VerifyBLS(pk, []byte("m"), k.Sign([]byte("m"))); err == nil && !pk.Equal(k.PublicKey()) {
			t.Fatal("foreign signature verified")
		}
	})
}

func FuzzParseBLSSignature(f *testing.F) {
	k := mustBLSKey(f, "fuzz", 0)
	f.Add(k.Sign([]byte("m")))
	f.Add(k.ProofOfPossession())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseBLSSignature(b)
		verr := VerifyBLS(k.PublicKey(), []byte("m"), b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			if !errors.Is(verr, ErrMalformed) {
				t.Fatalf("VerifyBLS of unparseable bytes: %v", verr)
			}
			return
		}
		if !bytes.Equal(s.Compress(), b) {
			t.Fatalf("accepted %x but encodes as %x", b, s.Compress())
		}
		if !s.SigValidate(true) {
			t.Fatal("accepted a signature outside the subgroup or at infinity")
		}
		if verr != nil && !errors.Is(verr, ErrBadSignature) {
			t.Fatalf("VerifyBLS of a parseable signature: %v", verr)
		}
		if verr == nil && !bytes.Equal(b, k.Sign([]byte("m"))) {
			t.Fatal("a signature other than the deterministic one verified")
		}
		agg, err := AggregateBLSSignatures([][]byte{b})
		if err != nil || !bytes.Equal(agg, b) {
			t.Fatalf("aggregate of one signature: %x, %v", agg, err)
		}
	})
}

func FuzzParseBitmap(f *testing.F) {
	f.Add([]byte{0x0f}, 4)
	f.Add([]byte{0xff, 0x01}, 9)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		bm, err := ParseBitmap(b, n)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, bitmap.ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(bm) != (n+7)/8 || !bytes.Equal(bm, b) {
			t.Fatalf("ParseBitmap(%x, %d) = %x", b, n, []byte(bm))
		}
		// Rebuilding the bitmap from its indices gives the same bytes: one
		// signer set, one encoding.
		again := NewBitmap(n)
		idx := bm.Indices()
		if len(idx) != bm.Count() {
			t.Fatalf("%d indices, count %d", len(idx), bm.Count())
		}
		for k, i := range idx {
			if i < 0 || i >= n || (k > 0 && idx[k-1] >= i) || !bm.Has(i) {
				t.Fatalf("bad index list %v for n=%d", idx, n)
			}
			again.Set(i)
		}
		if !bytes.Equal(again, bm) {
			t.Fatalf("rebuilt %x from %x", []byte(again), []byte(bm))
		}
	})
}

// fuzzKeystoreLimits keep each execution fast; the bounds logic is the same
// as in DecryptKeystore.
var fuzzKeystoreLimits = keystoreLimits{maxScryptMemory: 1 << 20, maxScryptP: 2, maxPBKDF2Iter: 1 << 10}

func FuzzDecryptKeystore(f *testing.F) {
	ks, err := EncryptKeystoreWithOptions([]byte("fuzz secret"), []byte("pw"), "fuzz", []byte{1, 2, 3}, nil, lightKeystore)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ks, []byte("pw"))
	f.Add(ks, []byte("wrong"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		secret, err := decryptKeystore(data, password, fuzzKeystoreLimits)
		if err != nil {
			if secret != nil {
				t.Fatal("secret returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrWrongPassword) && !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(secret) == 0 || len(secret) > MaxKeystoreSecretSize {
			t.Fatalf("secret of %d bytes", len(secret))
		}
	})
}

// FuzzAccountSingleVsBatch checks that batch and single verification of
// account signatures never disagree, whatever the key, message and
// signature bytes.
func FuzzAccountSingleVsBatch(f *testing.F) {
	k := AccountKeyFromSeed([32]byte{42})
	pub := k.Public()
	f.Add(pub[:], []byte("m"), k.Sign([]byte("m")))
	f.Add(make([]byte, 32), []byte("Zcash"), make([]byte, 64))
	anchor := AccountSig{PublicKey: pub, Msg: []byte("anchor"), Sig: k.Sign([]byte("anchor"))}
	f.Fuzz(func(t *testing.T, pk, msg, sig []byte) {
		var a AccountPublicKey
		copy(a[:], pk)
		single := VerifyAccount(a, msg, sig)
		item := AccountSig{PublicKey: a, Msg: msg, Sig: sig}
		// Two items and one worker: the curve25519-voi batch path.
		valid, all := VerifyAccountBatch([]AccountSig{anchor, item}, 1)
		if !valid[0] {
			t.Fatal("valid anchor rejected")
		}
		if valid[1] != single || all != single {
			t.Fatalf("single %v, batch %v (all %v) for pk %x sig %x", single, valid[1], all, a, sig)
		}
	})
}
