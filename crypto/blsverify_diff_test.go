package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/dagd/dagd/crypto/blsverify"

	blst "github.com/supranational/blst/bindings/go"
)

// The cgo-free verifier (crypto/blsverify, gnark-crypto) must accept exactly
// what blst accepts here: a light client and a validator that disagree on a
// certificate would fork the light client off the chain. These tests run
// both on the same keys, messages, signer sets and corruptions.

// pureKeys parses the committee's keys with blsverify.
func pureKeys(t testing.TB, pubs []*BLSPublicKey) []*blsverify.PublicKey {
	t.Helper()
	out := make([]*blsverify.PublicKey, len(pubs))
	for i, pk := range pubs {
		p, err := blsverify.ParsePublicKey(pk.Bytes())
		if err != nil {
			t.Fatalf("blsverify refuses key %d that blst made: %v", i, err)
		}
		if !bytes.Equal(p.Bytes(), pk.Bytes()) {
			t.Fatalf("key %d: blsverify re-encodes %x as %x", i, pk.Bytes(), p.Bytes())
		}
		out[i] = p
	}
	return out
}

// blstSum compresses the blst sum of the given keys, to compare with
// blsverify.AggregatePublicKeys.
func blstSum(keys []*BLSPublicKey) []byte {
	var acc blst.P2
	for i, k := range keys {
		if i == 0 {
			acc.FromAffine(&k.p)
		} else {
			acc.AddAssign(&k.p)
		}
	}
	return acc.ToAffine().Compress()
}

// bothVerifyAggregate runs the committee's blst VerifyAggregate and
// blsverify's VerifyAggregate (ParseSignature included) on one certificate
// and returns their errors.
func bothVerifyAggregate(tc *testCommittee, pure []*blsverify.PublicKey, msg []byte, signers []int, sig []byte) (blstErr, pureErr error) {
	bm := NewBitmap(len(tc.keys))
	keys := make([]*blsverify.PublicKey, 0, len(signers))
	for _, i := range signers {
		bm.Set(i)
		keys = append(keys, pure[i])
	}
	_, blstErr = tc.c.VerifyAggregate(msg, bm, sig)
	s, err := blsverify.ParseSignature(sig)
	if err != nil {
		return blstErr, err
	}
	return blstErr, blsverify.VerifyAggregate(keys, msg, s)
}

// sameVerdict fails unless both verifiers accepted, or both refused with the
// same class of error.
func sameVerdict(t *testing.T, what string, blstErr, pureErr error) {
	t.Helper()
	classes := []struct{ blst, pure error }{
		{ErrMalformed, blsverify.ErrMalformed},
		{ErrInvalidKey, blsverify.ErrInvalidKey},
		{ErrBadSignature, blsverify.ErrBadSignature},
		{ErrBadProofOfPossession, blsverify.ErrBadProofOfPossession},
	}
	if (blstErr == nil) != (pureErr == nil) {
		t.Fatalf("%s: blst says %v, blsverify says %v", what, blstErr, pureErr)
	}
	if blstErr == nil {
		return
	}
	for _, c := range classes {
		if errors.Is(blstErr, c.blst) != errors.Is(pureErr, c.pure) {
			t.Fatalf("%s: blst refuses with %v, blsverify with %v", what, blstErr, pureErr)
		}
	}
}

// randomSubset returns k distinct indices below n in increasing order.
func randomSubset(rng *mrand.Rand, n, k int) []int {
	perm := rng.Perm(n)[:k]
	in := make([]bool, n)
	for _, i := range perm {
		in[i] = true
	}
	out := make([]int, 0, k)
	for i := range n {
		if in[i] {
			out = append(out, i)
		}
	}
	return out
}

func TestBLSVerifyDifferential(t *testing.T) {
	const n = 24
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	rng := mrand.New(mrand.NewPCG(14, 2026))
	tc := newTestCommittee(t, "diff", n)
	pure := pureKeys(t, tc.pubs)

	// Proofs of possession: every one verifies under both, none under
	// another key, and a message signature on the key is not one.
	for i := range n {
		pop, err := blsverify.ParseSignature(tc.pops[i])
		if err != nil {
			t.Fatalf("blsverify refuses proof %d: %v", i, err)
		}
		sameVerdict(t, fmt.Sprintf("pop %d", i), tc.pubs[i].VerifyProofOfPossession(tc.pops[i]), blsverify.VerifyProofOfPossession(pure[i], pop))
		j := (i + 1) % n
		sameVerdict(t, fmt.Sprintf("pop %d under key %d", i, j), tc.pubs[j].VerifyProofOfPossession(tc.pops[i]), blsverify.VerifyProofOfPossession(pure[j], pop))
		if tc.pubs[j].VerifyProofOfPossession(tc.pops[i]) == nil {
			t.Fatalf("pop %d verified under key %d", i, j)
		}
		asMsg := tc.keys[i].Sign(tc.pubs[i].Bytes())
		asMsgPure, err := blsverify.ParseSignature(asMsg)
		if err != nil {
			t.Fatal(err)
		}
		sameVerdict(t, fmt.Sprintf("message signature as pop %d", i), tc.pubs[i].VerifyProofOfPossession(asMsg), blsverify.VerifyProofOfPossession(pure[i], asMsgPure))
	}

	for r := range rounds {
		msg := make([]byte, rng.IntN(100))
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		k := 1 + rng.IntN(n)
		switch r {
		case 0:
			k = n // everyone
		case 1:
			k = 1
		case 2:
			k = 2*n/3 + 1 // a quorum
		}
		signers := randomSubset(rng, n, k)
		_, sig := tc.certify(t, msg, signers)
		name := fmt.Sprintf("round %d (%d signers, %d-byte message)", r, k, len(msg))

		// The aggregate key encodes as blst's sum does.
		sub := make([]*BLSPublicKey, k)
		subPure := make([]*blsverify.PublicKey, k)
		for j, i := range signers {
			sub[j], subPure[j] = tc.pubs[i], pure[i]
		}
		agg, err := blsverify.AggregatePublicKeys(subPure)
		if err != nil {
			t.Fatalf("%s: aggregate keys: %v", name, err)
		}
		if want := blstSum(sub); !bytes.Equal(agg.Bytes(), want) {
			t.Fatalf("%s: aggregate key %x, blst %x", name, agg.Bytes(), want)
		}

		// Valid: both accept.
		be, pe := bothVerifyAggregate(tc, pure, msg, signers, sig)
		if be != nil {
			t.Fatalf("%s: blst refuses a valid certificate: %v", name, be)
		}
		sameVerdict(t, name, be, pe)

		// One member's own signature, under its own key and another's.
		i := signers[rng.IntN(k)]
		one := tc.keys[i].Sign(msg)
		onePure, err := blsverify.ParseSignature(one)
		if err != nil {
			t.Fatalf("%s: parse member signature: %v", name, err)
		}
		sameVerdict(t, name+": member signature", VerifyBLS(tc.pubs[i], msg, one), blsverify.Verify(pure[i], msg, onePure))
		o := (i + 1 + rng.IntN(n-1)) % n
		sameVerdict(t, name+": member signature under another key", VerifyBLS(tc.pubs[o], msg, one), blsverify.Verify(pure[o], msg, onePure))

		// Another message.
		other := append(bytes.Clone(msg), byte(r))
		be, pe = bothVerifyAggregate(tc, pure, other, signers, sig)
		mustRefuse(t, name+": other message", be, pe)

		// Another signer set: one signer dropped or one added.
		var set []int
		if k > 1 && (k == n || rng.IntN(2) == 0) {
			drop := rng.IntN(k)
			set = append(append([]int{}, signers[:drop]...), signers[drop+1:]...)
		} else {
			in := make(map[int]bool, k)
			for _, s := range signers {
				in[s] = true
			}
			for a := rng.IntN(n); ; a = (a + 1) % n {
				if !in[a] {
					set = randomSubsetWith(signers, a)
					break
				}
			}
		}
		be, pe = bothVerifyAggregate(tc, pure, msg, set, sig)
		mustRefuse(t, name+": other signer set", be, pe)

		// A flipped bit of the signature, anywhere (the sort flag gives the
		// negated point, which parses and must not verify).
		for range 3 {
			bad := bytes.Clone(sig)
			bit := rng.IntN(8 * BLSSignatureSize)
			bad[bit/8] ^= 1 << (bit % 8)
			be, pe = bothVerifyAggregate(tc, pure, msg, signers, bad)
			mustRefuse(t, fmt.Sprintf("%s: bit %d flipped", name, bit), be, pe)
		}
		neg := bytes.Clone(sig)
		neg[0] ^= 0x20
		be, pe = bothVerifyAggregate(tc, pure, msg, signers, neg)
		mustRefuse(t, name+": negated signature", be, pe)

		// A non-canonical x (x + p, when it fits under the flags).
		if nc, ok := xPlusP(sig); ok {
			be, pe = bothVerifyAggregate(tc, pure, msg, signers, nc)
			mustRefuse(t, name+": x + p", be, pe)
		}
	}

	// Encodings that are never signatures, for every verifier.
	inf := make([]byte, BLSSignatureSize)
	inf[0] = 0xc0
	infSort := bytes.Clone(inf)
	infSort[0] = 0xe0
	infDirty := bytes.Clone(inf)
	infDirty[47] = 1
	xIsP := fieldModulus()
	xIsP[0] |= 0x80
	_, valid := tc.certify(t, []byte("m"), []int{0, 1, 2})
	uncompressed := bytes.Clone(valid)
	uncompressed[0] &^= 0x80
	for name, b := range map[string][]byte{
		"infinity": inf, "infinity with sort flag": infSort, "infinity with a non-zero byte": infDirty,
		"x = p": xIsP, "off the subgroup": offSubgroupG1(t), "uncompressed flag": uncompressed,
		"short": valid[:47], "long": append(bytes.Clone(valid), 0), "empty": nil,
	} {
		be, pe := bothVerifyAggregate(tc, pure, []byte("m"), []int{0, 1, 2}, b)
		mustRefuse(t, "signature "+name, be, pe)
		if !errors.Is(pe, blsverify.ErrMalformed) {
			t.Fatalf("signature %s: blsverify says %v, want ErrMalformed", name, pe)
		}
	}
}

// randomSubsetWith returns signers with a added, in increasing order.
func randomSubsetWith(signers []int, a int) []int {
	out := make([]int, 0, len(signers)+1)
	added := false
	for _, s := range signers {
		if !added && a < s {
			out = append(out, a)
			added = true
		}
		out = append(out, s)
	}
	if !added {
		out = append(out, a)
	}
	return out
}

// mustRefuse fails unless both verifiers refused, with the same class.
func mustRefuse(t *testing.T, what string, blstErr, pureErr error) {
	t.Helper()
	if blstErr == nil || pureErr == nil {
		t.Fatalf("%s accepted: blst %v, blsverify %v", what, blstErr, pureErr)
	}
	sameVerdict(t, what, blstErr, pureErr)
}

// xPlusP returns the compressed point b with p added to its x coordinate
// (48-byte G1 or the first half of a 96-byte G2 encoding), flags kept, when
// the sum fits below the flag bits.
func xPlusP(b []byte) ([]byte, bool) {
	x := new(big.Int).SetBytes(append([]byte{b[0] & 0x1f}, b[1:48]...))
	x.Add(x, new(big.Int).SetBytes(fieldModulus()))
	if x.BitLen() > 381 {
		return nil, false
	}
	out := bytes.Clone(b)
	x.FillBytes(out[:48])
	out[0] |= b[0] & 0xe0
	return out, true
}

// TestBLSParsersAgree decodes random and crafted encodings with both
// decoders: they accept the same bytes, refuse with the same class, and
// re-encode what they accept to the same bytes.
func TestBLSParsersAgree(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(15, 2026))
	tries := 300
	if testing.Short() {
		tries = 60
	}
	k := mustBLSKey(t, "agree", 0)
	pkb := k.PublicKey().Bytes()
	sigb := k.Sign([]byte("m"))

	var sigCases, keyCases [][]byte
	for range tries {
		s := make([]byte, BLSSignatureSize)
		p := make([]byte, BLSPublicKeySize)
		for i := range s {
			s[i] = byte(rng.Uint32())
		}
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		// Mostly compressed and not infinity, so that many reach the curve
		// and subgroup checks; some with any flags.
		if rng.IntN(4) != 0 {
			s[0] = s[0]&0x3f | 0x80
			p[0] = p[0]&0x3f | 0x80
		}
		sigCases = append(sigCases, s)
		keyCases = append(keyCases, p)
	}
	for bit := range 8 * BLSSignatureSize {
		b := bytes.Clone(sigb)
		b[bit/8] ^= 1 << (bit % 8)
		sigCases = append(sigCases, b)
	}
	for bit := 0; bit < 8*BLSPublicKeySize; bit += 3 {
		b := bytes.Clone(pkb)
		b[bit/8] ^= 1 << (bit % 8)
		keyCases = append(keyCases, b)
	}
	if nc, ok := xPlusP(sigb); ok {
		sigCases = append(sigCases, nc)
	}
	// A key whose imaginary half of x is non-canonical: search for one
	// whose x.A1 + p fits under the flags.
	for i := range 20 {
		kk := mustBLSKey(t, "agree", 1+i)
		if nc, ok := xPlusP(kk.PublicKey().Bytes()); ok {
			keyCases = append(keyCases, nc)
			break
		}
	}
	negKey := bytes.Clone(pkb)
	negKey[0] ^= 0x20 // the negated key: valid, and not pkb
	keyCases = append(keyCases, negKey)
	realP := bytes.Clone(pkb)
	copy(realP[48:], fieldModulus()) // x.A0 = p
	keyInf := make([]byte, BLSPublicKeySize)
	keyInf[0] = 0xc0
	keyInfDirty := bytes.Clone(keyInf)
	keyInfDirty[95] = 1
	keyInfSort := bytes.Clone(keyInf)
	keyInfSort[0] = 0xe0 // malformed for blst, not a key at infinity
	sigCases = append(sigCases, offSubgroupG1(t), sigb, k.ProofOfPossession())
	keyCases = append(keyCases, offSubgroupG2(t), pkb, realP, keyInf, keyInfDirty, keyInfSort)

	acceptedSigs, acceptedKeys := 0, 0
	for _, b := range sigCases {
		bs, be := parseBLSSignature(b)
		ps, pe := blsverify.ParseSignature(b)
		sameVerdict(t, fmt.Sprintf("signature %x", b), be, pe)
		if be == nil {
			acceptedSigs++
			if !bytes.Equal(bs.Compress(), ps.Bytes()) {
				t.Fatalf("signature %x: blst %x, blsverify %x", b, bs.Compress(), ps.Bytes())
			}
		}
	}
	for _, b := range keyCases {
		bk, be := ParseBLSPublicKey(b)
		pk, pe := blsverify.ParsePublicKey(b)
		sameVerdict(t, fmt.Sprintf("key %x", b), be, pe)
		if be == nil {
			acceptedKeys++
			if !bytes.Equal(bk.Bytes(), pk.Bytes()) {
				t.Fatalf("key %x: blst %x, blsverify %x", b, bk.Bytes(), pk.Bytes())
			}
		}
	}
	t.Logf("%d signature and %d key encodings; both accepted %d and %d", len(sigCases), len(keyCases), acceptedSigs, acceptedKeys)
}

// FuzzBLSDecodersAgree holds blsverify's decoders to blst's on any bytes
// (48 bytes go to the signature decoders, anything else to the key
// decoders): the same verdict, class and re-encoding.
func FuzzBLSDecodersAgree(f *testing.F) {
	k := mustBLSKey(f, "fuzz", 0)
	f.Add(k.PublicKey().Bytes())
	f.Add(k.Sign([]byte("m")))
	f.Add(k.ProofOfPossession())
	inf := make([]byte, BLSSignatureSize)
	inf[0] = 0xc0
	f.Add(inf)
	f.Add(append(bytes.Clone(inf), inf...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == BLSSignatureSize {
			bs, be := parseBLSSignature(b)
			ps, pe := blsverify.ParseSignature(b)
			sameVerdict(t, fmt.Sprintf("signature %x", b), be, pe)
			if be == nil && !bytes.Equal(bs.Compress(), ps.Bytes()) {
				t.Fatalf("signature %x: blst %x, blsverify %x", b, bs.Compress(), ps.Bytes())
			}
			return
		}
		bk, be := ParseBLSPublicKey(b)
		pk, pe := blsverify.ParsePublicKey(b)
		sameVerdict(t, fmt.Sprintf("key %x", b), be, pe)
		if be == nil && !bytes.Equal(bk.Bytes(), pk.Bytes()) {
			t.Fatalf("key %x: blst %x, blsverify %x", b, bk.Bytes(), pk.Bytes())
		}
	})
}
