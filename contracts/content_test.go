package contracts

import (
	"bytes"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// certify returns the signer bitmap and aggregate signature of the given
// validators over the availability statement.
func certify(t testing.TB, keys []*crypto.BLSPrivateKey, signers []int, c []byte, size uint64, k, n uint16, m crypto.Digest) (crypto.Bitmap, []byte) {
	t.Helper()
	stmt := AvailabilityStatement(c, size, k, n, m)
	bm := crypto.NewBitmap(len(keys))
	var sigs [][]byte
	for _, i := range signers {
		bm.Set(i)
		sigs = append(sigs, keys[i].Sign(stmt))
	}
	agg, err := crypto.AggregateBLSSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	return bm, agg
}

func TestAvailabilityStatement(t *testing.T) {
	c := testCID("a")
	m := digestOf("m")
	s := AvailabilityStatement(c, 5, 2, 4, m)
	if !bytes.HasPrefix(s, []byte(domainAvailability)) {
		t.Fatal("no domain")
	}
	for _, other := range [][]byte{
		AvailabilityStatement(testCID("b"), 5, 2, 4, m),
		AvailabilityStatement(c, 6, 2, 4, m),
		AvailabilityStatement(c, 5, 3, 4, m),
		AvailabilityStatement(c, 5, 2, 5, m),
		AvailabilityStatement(c, 5, 2, 4, digestOf("n")),
	} {
		if bytes.Equal(s, other) {
			t.Fatal("statements of different content are equal")
		}
	}
}

func TestRegisterContent(t *testing.T) {
	f := newFixture(t, Params{})
	c, m := testCID("blob"), digestOf("manifest")
	bm, sig := certify(t, f.bls, []int{0, 2, 3}, c, 1<<20, 2, 4, m)
	f.mustOK(1, NewRegisterContent(c, 1<<20, 2, 4, m, bm, sig))
	v, _ := f.st.Get(ContentKey(c))
	rec, err := DecodeContent(v)
	if err != nil || rec.Registrant != f.pk(1) || !bytes.Equal(rec.CID, c) || rec.Size != 1<<20 || rec.K != 2 || rec.N != 4 || rec.Manifest != m || rec.Time != f.env.Time {
		t.Fatalf("record %+v %v", rec, err)
	}
	f.mustReject(1, NewRegisterContent(c, 1<<20, 2, 4, m, bm, sig), CodeExists, "already registered")

	c2 := testCID("blob2")
	// Two of four validators are not a quorum.
	bm2, sig2 := certify(t, f.bls, []int{0, 1}, c2, 10, 2, 4, m)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, bm2, sig2), CodeBadCertificate, "no quorum")
	// A certificate over other parameters does not verify.
	bm3, sig3 := certify(t, f.bls, []int{0, 1, 2}, c2, 10, 2, 4, m)
	f.mustReject(1, NewRegisterContent(c2, 11, 2, 4, m, bm3, sig3), CodeBadCertificate, "bad certificate")
	// The bitmap must name the signers exactly.
	wrong := crypto.NewBitmap(4)
	wrong.Set(0)
	wrong.Set(1)
	wrong.Set(3)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, wrong, sig3), CodeBadCertificate, "bad certificate")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, crypto.Bitmap{0xff}, sig3), CodeBadCertificate, "signers")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, crypto.Bitmap{0x07, 0}, sig3), CodeBadCertificate, "signers")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, bm3, make([]byte, 48)), CodeBadCertificate, "bad certificate")
	// Stateless rules.
	f.mustReject(1, NewRegisterContent(c2, 10, 0, 4, m, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent(c2, 10, 5, 4, m, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 300, m, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent([]byte("nope"), 10, 2, 4, m, bm3, sig3), CodeInvalid, "CID")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m, nil, sig3), CodeInvalid, "no signers")
	v0 := []byte{0x12, 0x20} // a CIDv0: sha2-256 multihash
	v0 = append(v0, make([]byte, 32)...)
	f.mustReject(1, NewRegisterContent(v0, 10, 2, 4, m, bm3, sig3), CodeInvalid, "version 1")
	// The correct certificate then succeeds.
	f.mustOK(1, NewRegisterContent(c2, 10, 2, 4, m, bm3, sig3))
	// A too-small fee for content is refused, nothing charged.
	tx := f.tx(1, NewRegisterContent(testCID("x"), 10, 2, 4, m, bm3, sig3))
	tx.Fee = DefaultMinFee
	tx.Sign(f.keys[1])
	f.checkRejected(f.apply(tx), CodeFeeTooLow, "fee too low")
}

func TestRegisterContentWithoutGenesis(t *testing.T) {
	m := NewModule(Params{})
	st := newMemStore()
	k := accountKey(0)
	acct := &Account{Balance: 1 << 30}
	_ = st.Set(AccountKey(k.Public()), acct.Encode())
	c := testCID("x")
	tx := NewSignedTx(k, testChain, 0, DefaultContentFee, 10, NewRegisterContent(c, 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil))
	rc, err := m.Apply(Env{ChainID: testChain}, newCheckStore(t, st, m.Keys(tx), "content"), tx)
	if err != nil || rc.Code != CodeNotFound {
		t.Fatalf("%+v %v", rc, err)
	}
	// A corrupt committee is a store fault, not a receipt.
	_ = st.Set(CommitteeKey(), []byte{0, 1})
	tx = NewSignedTx(k, testChain, 1, DefaultContentFee, 10, NewRegisterContent(c, 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil))
	if _, err := m.Apply(Env{ChainID: testChain}, st, tx); err == nil {
		t.Fatal("corrupt committee accepted")
	}
}
