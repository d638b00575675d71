package crypto

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAccountKeyRFC8032(t *testing.T) {
	// RFC 8032 section 7.1, test 1 and test 2.
	vectors := []struct{ seed, pub, msg, sig string }{
		{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
		{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	}
	for _, v := range vectors {
		var seed [32]byte
		copy(seed[:], mustHex(t, v.seed))
		k := AccountKeyFromSeed(seed)
		if got := k.Public().String(); got != v.pub {
			t.Fatalf("public key %s, want %s", got, v.pub)
		}
		if k.Seed() != seed {
			t.Fatal("Seed does not round trip")
		}
		msg := mustHex(t, v.msg)
		sig := k.Sign(msg)
		if hex.EncodeToString(sig) != v.sig {
			t.Fatalf("signature %x, want %s", sig, v.sig)
		}
		if !VerifyAccount(k.Public(), msg, sig) {
			t.Fatal("RFC 8032 signature rejected")
		}
	}
}

func TestAccountSignVerify(t *testing.T) {
	k, err := GenerateAccountKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateAccountKey(nil)
	msg := []byte("transfer 5 to bob")
	sig := k.Sign(msg)
	if len(sig) != AccountSignatureSize {
		t.Fatalf("signature of %d bytes", len(sig))
	}
	if !VerifyAccount(k.Public(), msg, sig) {
		t.Fatal("valid signature rejected")
	}
	if VerifyAccount(k.Public(), []byte("transfer 6 to bob"), sig) {
		t.Fatal("wrong message accepted")
	}
	if VerifyAccount(other.Public(), msg, sig) {
		t.Fatal("wrong key accepted")
	}
	for i := 0; i < 64; i += 5 {
		bad := bytes.Clone(sig)
		bad[i] ^= 0x10
		if VerifyAccount(k.Public(), msg, bad) {
			t.Fatalf("signature with byte %d corrupted accepted", i)
		}
	}
	if VerifyAccount(k.Public(), msg, sig[:63]) || VerifyAccount(k.Public(), msg, append(bytes.Clone(sig), 0)) {
		t.Fatal("signature of the wrong length accepted")
	}
	if _, err := GenerateAccountKey(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("short randomness accepted")
	}
	pub := k.Public()
	pk, err := ParseAccountPublicKey(pub[:])
	if err != nil || pk != k.Public() {
		t.Fatalf("ParseAccountPublicKey: %v", err)
	}
	if _, err := ParseAccountPublicKey(make([]byte, 31)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("31-byte key: %v", err)
	}
}

// smallOrderEncodings are the 14 encodings of the eight small-order points
// of edwards25519: the eight canonical ones and six non-canonical ones (y
// >= p, or x = 0 with the sign bit set). ZIP-215 accepts all of them as A
// and as R.
var smallOrderEncodings = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	"0100000000000000000000000000000000000000000000000000000000000080", // identity, x=0 with sign bit
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // order 2, x=0 with sign bit
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 (identity)
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = p+1, sign bit
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (order 4)
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = p, sign bit
}

// TestSmallOrderEncodingsAreSmallOrder checks the table above instead of
// trusting it: each decodes (leniently) to a point of order dividing 8, and
// exactly six are non-canonical.
func TestSmallOrderEncodingsAreSmallOrder(t *testing.T) {
	nonCanonical := 0
	seen := map[string]bool{}
	for _, s := range smallOrderEncodings {
		if seen[s] {
			t.Fatalf("duplicate %s", s)
		}
		seen[s] = true
		var c curve.CompressedEdwardsY
		if _, err := c.SetBytes(mustHex(t, s)); err != nil {
			t.Fatal(err)
		}
		var p curve.EdwardsPoint
		if _, err := p.SetCompressedY(&c); err != nil {
			t.Fatalf("%s does not decode: %v", s, err)
		}
		if !p.IsSmallOrder() {
			t.Fatalf("%s is not of small order", s)
		}
		if !c.IsCanonicalVartime() {
			nonCanonical++
		}
	}
	if nonCanonical != 6 {
		t.Fatalf("%d non-canonical encodings, want 6", nonCanonical)
	}
}

// zip215Vectors returns the 196 ZIP-215 cases: every small-order encoding as
// A, every one as R, S = 0, message "Zcash". All are valid under plain
// ZIP-215; all are refused here, since A is of small order.
func zip215Vectors(t testing.TB) []AccountSig {
	var out []AccountSig
	for _, a := range smallOrderEncodings {
		for _, r := range smallOrderEncodings {
			pk, err := ParseAccountPublicKey(mustHex(t, a))
			if err != nil {
				t.Fatal(err)
			}
			sig := append(mustHex(t, r), make([]byte, 32)...)
			out = append(out, AccountSig{PublicKey: pk, Msg: []byte("Zcash"), Sig: sig})
		}
	}
	return out
}

// torsionSignature returns a signature by k whose R carries a small-order
// component: the cofactored (ZIP-215) equation accepts it, the cofactorless
// one of crypto/ed25519 does not.
func torsionSignature(t testing.TB, k *AccountPrivateKey, msg []byte, torsion string) []byte {
	t.Helper()
	seed := k.Seed()
	h := sha512.Sum512(seed[:])
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	var a, r, kh, s scalar.Scalar
	if _, err := a.SetBytesModOrder(h[:32]); err != nil {
		t.Fatal(err)
	}
	rnd := sha512.Sum512(append([]byte("nonce"), msg...))
	if _, err := r.SetBytesModOrderWide(rnd[:]); err != nil {
		t.Fatal(err)
	}
	var T curve.EdwardsPoint
	var tc curve.CompressedEdwardsY
	if _, err := tc.SetBytes(mustHex(t, torsion)); err != nil {
		t.Fatal(err)
	}
	if _, err := T.SetCompressedY(&tc); err != nil {
		t.Fatal(err)
	}
	var R curve.EdwardsPoint
	R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
	R.Add(&R, &T)
	var Rc curve.CompressedEdwardsY
	Rc.SetEdwardsPoint(&R)
	pub := k.Public()
	hh := sha512.New()
	hh.Write(Rc[:])
	hh.Write(pub[:])
	hh.Write(msg)
	if _, err := kh.SetBytesModOrderWide(hh.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	s.Mul(&kh, &a)
	s.Add(&s, &r)
	sig := make([]byte, 64)
	copy(sig, Rc[:])
	if err := s.ToBytes(sig[32:]); err != nil {
		t.Fatal(err)
	}
	return sig
}

// groupOrderL is the order of edwards25519's prime subgroup.
func groupOrderL() *big.Int {
	l, _ := new(big.Int).SetString("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed", 16)
	return l
}

// edgeCases returns signatures on which implementations are known to
// disagree, with whether ZIP-215 accepts them.
func edgeCases(t testing.TB) ([]AccountSig, []bool) {
	var items []AccountSig
	var want []bool
	for _, v := range zip215Vectors(t) {
		items = append(items, v)
		want = append(want, false) // small-order A: refused
	}
	k := AccountKeyFromSeed([32]byte{7})
	msg := []byte("edge")
	// Mixed-order R: accepted by the cofactored equation only.
	for _, torsion := range smallOrderEncodings[1:8] {
		items = append(items, AccountSig{PublicKey: k.Public(), Msg: msg, Sig: torsionSignature(t, k, msg, torsion)})
		want = append(want, true)
	}
	// S not reduced modulo L: refused by every rule set (malleability).
	sig := k.Sign(msg)
	s := new(big.Int).SetBytes(reverse(sig[32:]))
	for _, add := range []*big.Int{groupOrderL(), new(big.Int).Mul(groupOrderL(), big.NewInt(2))} {
		s2 := new(big.Int).Add(s, add)
		if s2.BitLen() > 256 {
			continue
		}
		bad := bytes.Clone(sig)
		copy(bad[32:], reverse(s2.FillBytes(make([]byte, 32))))
		items = append(items, AccountSig{PublicKey: k.Public(), Msg: msg, Sig: bad})
		want = append(want, false)
	}
	// S = 0 with a small-order R but a real key: invalid.
	items = append(items, AccountSig{PublicKey: k.Public(), Msg: msg, Sig: append(mustHex(t, smallOrderEncodings[0]), make([]byte, 32)...)})
	want = append(want, false)
	// A public key that is not a point (y with no x): invalid.
	notPoint := AccountPublicKey{2}
	var c curve.CompressedEdwardsY
	var p curve.EdwardsPoint
	c.SetBytes(notPoint[:])
	if _, err := p.SetCompressedY(&c); err == nil {
		t.Fatal("test key unexpectedly decodes")
	}
	items = append(items, AccountSig{PublicKey: notPoint, Msg: msg, Sig: sig})
	want = append(want, false)
	// An ordinary valid signature.
	items = append(items, AccountSig{PublicKey: k.Public(), Msg: msg, Sig: sig})
	want = append(want, true)
	return items, want
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// TestSmallOrderKeysRefused pins issue 13 finding 11: with a small-order
// public key (the all-zero key among them), R = identity and S = 0 verified
// for any message on the single and the batch paths. SmallOrder must agree
// with the curve arithmetic on every encoding whose y is near 0 or p, on
// the table above and on random keys.
func TestSmallOrderKeysRefused(t *testing.T) {
	isSmall := func(b []byte) bool {
		var c curve.CompressedEdwardsY
		if _, err := c.SetBytes(b); err != nil {
			t.Fatal(err)
		}
		var p curve.EdwardsPoint
		if _, err := p.SetCompressedY(&c); err != nil {
			return false
		}
		return p.IsSmallOrder()
	}
	check := func(pk AccountPublicKey) {
		t.Helper()
		if got, want := pk.SmallOrder(), isSmall(pk[:]); got != want {
			t.Fatalf("%s: SmallOrder = %v, curve says %v", pk, got, want)
		}
	}
	for _, s := range smallOrderEncodings {
		pk, err := ParseAccountPublicKey(mustHex(t, s))
		if err != nil {
			t.Fatal(err)
		}
		if !pk.SmallOrder() {
			t.Fatalf("%s: not recognised as small order", s)
		}
		if err := CheckAccountPublicKey(pk); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("%s: CheckAccountPublicKey = %v", s, err)
		}
		// The forgery: R = identity, S = 0, any message.
		sig := append(mustHex(t, smallOrderEncodings[0]), make([]byte, 32)...)
		msg := []byte("transfer everything to the attacker")
		if VerifyAccount(pk, msg, sig) {
			t.Fatalf("%s: forged signature verifies (single)", s)
		}
		batch := make([]AccountSig, 0, 70)
		for i := range 69 {
			k := AccountKeyFromSeed([32]byte{byte(i), 9})
			batch = append(batch, AccountSig{PublicKey: k.Public(), Msg: msg, Sig: k.Sign(msg)})
		}
		batch = append(batch[:33], append([]AccountSig{{PublicKey: pk, Msg: msg, Sig: sig}}, batch[33:]...)...)
		for _, w := range []int{1, 2} {
			valid, all := VerifyAccountBatch(batch, w)
			if all || valid[33] {
				t.Fatalf("%s, %d workers: forged signature verifies (batch)", s, w)
			}
			for i, v := range valid {
				if v != (i != 33) {
					t.Fatalf("%s, %d workers: item %d valid=%v", s, w, i, v)
				}
			}
		}
	}
	// Every y in 0..31 and p-31..2^255-1, both signs of x.
	for lo := range 32 {
		for _, sign := range []byte{0, 0x80} {
			var a, b AccountPublicKey
			a[0], a[31] = byte(lo), sign
			check(a)
			for i := range b {
				b[i] = 0xff
			}
			b[0], b[31] = byte(0xed-19+lo), 0x7f|sign // p-19+lo .. : around p = 2^255-19
			check(b)
		}
	}
	rng := mrand.New(mrand.NewPCG(3, 4))
	for range 2000 {
		var pk AccountPublicKey
		for i := range pk {
			pk[i] = byte(rng.Uint32())
		}
		check(pk)
		check(AccountKeyFromSeed(pk).Public())
	}
	if AccountKeyFromSeed([32]byte{1}).Public().SmallOrder() {
		t.Fatal("an ordinary key is small order")
	}
}

func TestZIP215SingleAndBatchAgree(t *testing.T) {
	items, want := edgeCases(t)
	stdAccepts, wantValid := 0, 0
	for i, it := range items {
		if got := VerifyAccount(it.PublicKey, it.Msg, it.Sig); got != want[i] {
			t.Errorf("case %d (A=%x R=%x): VerifyAccount = %v, want %v", i, it.PublicKey[:4], it.Sig[:4], got, want[i])
		}
		if it.PublicKey.SmallOrder() {
			continue // refused by our rule, whatever the equation says
		}
		if want[i] {
			wantValid++
		}
		if stded25519.Verify(it.PublicKey[:], it.Msg, it.Sig) {
			stdAccepts++
		}
	}
	// The edge cases matter: the standard library disagrees on many.
	if stdAccepts >= wantValid {
		t.Fatalf("crypto/ed25519 accepts %d of %d ZIP-215-valid cases; the edge cases test nothing", stdAccepts, wantValid)
	}
	t.Logf("crypto/ed25519 accepts %d, ZIP-215 %d of %d cases", stdAccepts, wantValid, len(items))

	// Batches: the edge cases alone, mixed into ordinary signatures, in
	// several orders and worker counts. Each batch result must equal the
	// single results.
	rng := mrand.New(mrand.NewPCG(11, 12))
	var ordinary []AccountSig
	for i := range 150 {
		k := AccountKeyFromSeed([32]byte{byte(i), 1})
		m := []byte(fmt.Sprintf("tx %d", i))
		ordinary = append(ordinary, AccountSig{PublicKey: k.Public(), Msg: m, Sig: k.Sign(m)})
	}
	check := func(name string, batch []AccountSig, workers int) {
		t.Helper()
		valid, all := VerifyAccountBatch(batch, workers)
		if len(valid) != len(batch) {
			t.Fatalf("%s: %d results for %d items", name, len(valid), len(batch))
		}
		wantAll := true
		for i, it := range batch {
			single := VerifyAccount(it.PublicKey, it.Msg, it.Sig)
			wantAll = wantAll && single
			if valid[i] != single {
				t.Fatalf("%s, workers %d: item %d batch=%v single=%v", name, workers, i, valid[i], single)
			}
		}
		if all != wantAll {
			t.Fatalf("%s, workers %d: allValid %v, want %v", name, workers, all, wantAll)
		}
	}
	for _, workers := range []int{0, 1, 2, 3, 8} {
		check("edge cases", items, workers)
		check("ZIP-215 vectors only", zip215Vectors(t), workers)
		check("ordinary", ordinary, workers)
		mixed := append(append([]AccountSig{}, ordinary...), items...)
		rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		check("mixed", mixed, workers)
	}
	for _, n := range []int{0, 1, 2, 31, 64, 65} {
		check(fmt.Sprintf("%d ordinary", n), ordinary[:n], 2)
	}
	// One bad signature among many is pinpointed.
	bad := append([]AccountSig{}, ordinary...)
	bad[77].Msg = []byte("forged")
	valid, all := VerifyAccountBatch(bad, 2)
	if all {
		t.Fatal("batch with a forgery is all valid")
	}
	for i, v := range valid {
		if v != (i != 77) {
			t.Fatalf("item %d valid=%v", i, v)
		}
	}
}

func TestNetworkKey(t *testing.T) {
	k, err := GenerateNetworkKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Bytes()) != NetworkKeySize {
		t.Fatalf("Bytes has %d bytes", len(k.Bytes()))
	}
	k2, err := ParseNetworkKey(k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Public().Equal(k.Public()) || !bytes.Equal(k2.Bytes(), k.Bytes()) {
		t.Fatal("round trip changed the key")
	}
	k3, err := NetworkKeyFromSeed(k.Bytes())
	if err != nil || !k3.Public().Equal(k.Public()) {
		t.Fatal("NetworkKeyFromSeed differs from ParseNetworkKey")
	}
	if _, err := ParseNetworkKey(make([]byte, 64)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("64 bytes: %v", err)
	}
	if _, err := GenerateNetworkKey(bytes.NewReader(nil)); err == nil {
		t.Fatal("empty randomness accepted")
	}
	// The key works as a TLS certificate key.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1)}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, k.Public(), k.PrivateKey())
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cert.PublicKey, k.Public()) {
		t.Fatal("certificate key differs")
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Fatalf("self-signed certificate does not verify: %v", err)
	}
	if _, err := x509.MarshalPKCS8PrivateKey(k.PrivateKey()); err != nil {
		t.Fatalf("PKCS#8: %v", err)
	}
}
