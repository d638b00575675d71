package contracts

import (
	"bytes"
	"math"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// certify returns the signer bitmap and aggregate signature of the given
// validators over the availability statement of testChain, epoch 0.
func certify(t testing.TB, keys []*crypto.BLSPrivateKey, signers []int, c []byte, size uint64, k, n uint16, m crypto.Digest) (crypto.Bitmap, []byte) {
	t.Helper()
	return certifyFor(t, keys, signers, testChain, 0, c, size, k, n, m)
}

// certifyFor is certify for another chain and epoch.
func certifyFor(t testing.TB, keys []*crypto.BLSPrivateKey, signers []int, chain string, epoch uint64, c []byte, size uint64, k, n uint16, m crypto.Digest) (crypto.Bitmap, []byte) {
	t.Helper()
	stmt := AvailabilityStatement(chain, epoch, c, size, k, n, m)
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
	m := digestOf("m")
	c := manifestCID(m)
	s := AvailabilityStatement(testChain, 0, c, 5, 2, 4, m)
	if !bytes.HasPrefix(s, []byte(AvailabilityDomain)) {
		t.Fatal("no domain")
	}
	for _, other := range [][]byte{
		AvailabilityStatement("other-chain", 0, c, 5, 2, 4, m),
		AvailabilityStatement(testChain, 1, c, 5, 2, 4, m),
		AvailabilityStatement(testChain, 0, testCID("b"), 5, 2, 4, m),
		AvailabilityStatement(testChain, 0, c, 6, 2, 4, m),
		AvailabilityStatement(testChain, 0, c, 5, 3, 4, m),
		AvailabilityStatement(testChain, 0, c, 5, 2, 5, m),
		AvailabilityStatement(testChain, 0, c, 5, 2, 4, digestOf("n")),
	} {
		if bytes.Equal(s, other) {
			t.Fatal("statements of different content are equal")
		}
	}
}

func TestRegisterContent(t *testing.T) {
	f := newFixture(t, Params{})
	m := digestOf("manifest")
	c := manifestCID(m)
	bm, sig := certify(t, f.bls, []int{0, 2, 3}, c, 1<<20, 2, 4, m)
	f.mustOK(1, NewRegisterContent(c, 1<<20, 2, 4, m, bm, sig))
	v, _ := f.st.Get(ContentKey(c))
	rec, err := DecodeContent(v)
	if err != nil || rec.Registrant != f.pk(1) || !bytes.Equal(rec.CID, c) || rec.Size != 1<<20 || rec.K != 2 || rec.N != 4 || rec.Manifest != m || rec.Time != f.env.Time {
		t.Fatalf("record %+v %v", rec, err)
	}
	f.mustReject(1, NewRegisterContent(c, 1<<20, 2, 4, m, bm, sig), CodeExists, "already registered")

	m2 := digestOf("manifest2")
	c2 := manifestCID(m2)
	// Two of four validators are not a quorum.
	bm2, sig2 := certify(t, f.bls, []int{0, 1}, c2, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, bm2, sig2), CodeBadWitness, "no quorum")
	// A certificate over other parameters does not verify.
	bm3, sig3 := certify(t, f.bls, []int{0, 1, 2}, c2, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(c2, 11, 2, 4, m2, bm3, sig3), CodeBadWitness, "bad certificate")
	// The bitmap must name the signers exactly.
	wrong := crypto.NewBitmap(4)
	wrong.Set(0)
	wrong.Set(1)
	wrong.Set(3)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, wrong, sig3), CodeBadWitness, "bad certificate")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, crypto.Bitmap{0xff}, sig3), CodeBadWitness, "signers")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, crypto.Bitmap{0x07, 0}, sig3), CodeBadWitness, "signers")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, bm3, make([]byte, 48)), CodeBadWitness, "bad certificate")
	// Stateless rules.
	f.mustReject(1, NewRegisterContent(c2, 10, 0, 4, m2, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent(c2, 10, 5, 4, m2, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 300, m2, bm3, sig3), CodeInvalid, "shards")
	f.mustReject(1, NewRegisterContent([]byte("nope"), 10, 2, 4, m2, bm3, sig3), CodeInvalid, "CID")
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, nil, sig3), CodeInvalid, "no signers")
	v0 := []byte{0x12, 0x20} // a CIDv0: sha2-256 multihash
	v0 = append(v0, make([]byte, 32)...)
	f.mustReject(1, NewRegisterContent(v0, 10, 2, 4, m2, bm3, sig3), CodeInvalid, "version 1")
	// Finding 10: raw CIDs of known content cannot be registered, nor a
	// manifest CID with another manifest digest.
	raw := testCID("known small content")
	bmR, sigR := certify(t, f.bls, []int{0, 1, 2}, raw, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(raw, 10, 2, 4, m2, bmR, sigR), CodeInvalid, "manifest codec")
	bmO, sigO := certify(t, f.bls, []int{0, 1, 2}, c, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(c, 10, 2, 4, m2, bmO, sigO), CodeInvalid, "does not name manifest")
	// Finding 4: a quorum's certificate for another chain or epoch.
	bmC, sigC := certifyFor(t, f.bls, []int{0, 1, 2}, "other-chain", 0, c2, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, bmC, sigC), CodeBadWitness, "bad certificate")
	bmE, sigE := certifyFor(t, f.bls, []int{0, 1, 2}, testChain, 1, c2, 10, 2, 4, m2)
	f.mustReject(1, NewRegisterContent(c2, 10, 2, 4, m2, bmE, sigE), CodeBadWitness, "bad certificate")
	op := NewRegisterContent(c2, 10, 2, 4, m2, bmE, sigE)
	op.Epoch = 1
	f.mustReject(1, op, CodeBadCertificate, "epoch 1")
	// Finding 9: n/k and n are bounded.
	f.mustReject(1, NewRegisterContent(c2, 10, 1, 9, m2, bm3, sig3), CodeInvalid, "n/k")
	f.mustReject(1, NewRegisterContent(c2, 10, 4, 17, m2, bm3, sig3), CodeInvalid, "per validator")
	// The correct certificate then succeeds.
	f.mustOK(1, NewRegisterContent(c2, 10, 2, 4, m2, bm3, sig3))
	// A too-small fee for content is refused, nothing charged.
	tx := f.tx(1, NewRegisterContent(manifestCID(digestOf("x")), 10, 2, 4, digestOf("x"), bm3, sig3))
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
	c := manifestCID(crypto.Digest{})
	fee := m.MinFee(NewTx(testChain, 0, 0, 10, NewRegisterContent(c, 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil)))
	tx := NewSignedTx(k, testChain, 0, fee, 10, NewRegisterContent(c, 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil))
	rc, err := m.Apply(Env{ChainID: testChain}, newCheckStore(t, st, m.Keys(tx), "content"), tx)
	if err != nil || rc.Code != CodeNotFound {
		t.Fatalf("%+v %v", rc, err)
	}
	// A corrupt committee is a store fault, not a receipt.
	_ = st.Set(CommitteeKey(), []byte{0, 1})
	tx = NewSignedTx(k, testChain, 1, fee, 10, NewRegisterContent(c, 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil))
	if _, err := m.Apply(Env{ChainID: testChain}, st, tx); err == nil {
		t.Fatal("corrupt committee accepted")
	}
}

// TestContentFeeByStoredBytes pins finding 9's pricing: a registration
// pays for Size*N/K stored bytes, not a flat fee per CID.
func TestContentFeeByStoredBytes(t *testing.T) {
	mod := NewModule(Params{})
	m := digestOf("priced")
	day := uint64(DefaultContentRetentionUnit)
	for _, c := range []struct {
		size      uint64
		k, n      uint16
		retention uint64
		stored    uint64
		units     uint64
	}{
		{0, 1, 2, day, 0, 1},
		{1, 2, 4, 1, 2, 1},
		{3, 2, 3, day + 1, 5, 2}, // 4.5 rounded up; a unit begun is paid
		{1 << 30, 2, 4, 30 * day, 1 << 31, 30},
		{1 << 30, 1, 8, 366 * day, 1 << 33, 366},
		{math.MaxUint64, 1, 2, day, math.MaxUint64, 1}, // saturates
	} {
		op := NewRegisterContent(manifestCID(m), c.size, c.k, c.n, m, crypto.Bitmap{1}, nil)
		op.Retention = c.retention
		if got := op.StoredBytes(); got != c.stored {
			t.Fatalf("size %d k=%d n=%d: stored %d, want %d", c.size, c.k, c.n, got, c.stored)
		}
		want := DefaultContentFee + c.stored*c.units*DefaultContentBytePrice
		if c.stored == math.MaxUint64 {
			want = math.MaxUint64
		}
		renew := NewTx(testChain, 0, 0, 10, NewRenewContent(manifestCID(m), c.size, c.k, c.n, c.retention))
		if got := mod.MinFee(renew); got != want {
			t.Fatalf("renewal of size %d k=%d n=%d: fee %d, want %d", c.size, c.k, c.n, got, want)
		}
		tx := NewSignedTx(accountKey(0), testChain, 0, 0, 10, op)
		if got := mod.MinFee(tx); got != want {
			t.Fatalf("size %d k=%d n=%d: fee %d, want %d", c.size, c.k, c.n, got, want)
		}
	}
}

// TestRegisterContentWitness: the payer signs the registration before the
// certificate exists; the certificate attached after signing is a witness
// the signature does not cover, and every other field is covered.
func TestRegisterContentWitness(t *testing.T) {
	f := newFixture(t, Params{})
	m := digestOf("paid")
	c := manifestCID(m)
	op := NewRegisterContent(c, 1000, 2, 4, m, nil, nil)
	tx := f.tx(1, op) // signed with no certificate
	bm, sig := certify(t, f.bls, []int{0, 1, 2}, c, 1000, 2, 4, m)
	op.Signers = bm
	copy(op.Signature[:], sig)
	if !tx.VerifySignature() {
		t.Fatal("attaching the certificate broke the payer's signature")
	}
	back, err := DecodeTx(tx.Encode())
	if err != nil || !back.VerifySignature() {
		t.Fatalf("decoded: %v", err)
	}
	for name, mut := range map[string]func(o *RegisterContent){
		"size":      func(o *RegisterContent) { o.Size++ },
		"k":         func(o *RegisterContent) { o.K++ },
		"n":         func(o *RegisterContent) { o.N++ },
		"manifest":  func(o *RegisterContent) { o.ManifestDigest[0] ^= 1 },
		"epoch":     func(o *RegisterContent) { o.Epoch++ },
		"retention": func(o *RegisterContent) { o.Retention++ },
		"cid":       func(o *RegisterContent) { o.CID = testCID("other") },
	} {
		o := *op
		mut(&o)
		cp := *tx
		cp.Op = &o
		if cp.VerifySignature() {
			t.Errorf("%s changed and the signature still verifies", name)
		}
	}
	before := f.account(f.pk(1)).Balance
	rc := f.apply(tx)
	if !rc.OK() {
		t.Fatalf("%s: %s", rc.Code, rc.Reason)
	}
	if paid := before - f.account(f.pk(1)).Balance; paid != tx.Fee || tx.Fee < DefaultContentFee+2000*30 {
		t.Fatalf("payer paid %d (fee %d)", paid, tx.Fee)
	}
}

// TestContentRetention: a registration is paid until its commit time plus
// Retention; renewal extends it; once expired, renewal is refused and a
// new registration replaces the record.
func TestContentRetention(t *testing.T) {
	f := newFixture(t, Params{})
	m := digestOf("kept")
	c := manifestCID(m)
	bm, sig := certify(t, f.bls, []int{0, 1, 2}, c, 10, 2, 4, m)
	op := NewRegisterContent(c, 10, 2, 4, m, bm, sig)
	op.Retention = 1000
	f.mustOK(1, op)
	rec := func() *Content {
		v, _ := f.st.Get(ContentKey(c))
		r, err := DecodeContent(v)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	start := f.env.Time
	if r := rec(); r.Expiry != start+1000 || r.Expired(start+1000) || !r.Expired(start+1001) {
		t.Fatalf("expiry %d, registered at %d", r.Expiry, start)
	}
	f.mustReject(2, op, CodeExists, "already registered")
	f.mustReject(2, NewRenewContent(c, 11, 2, 4, 500), CodeInvalid, "size 10")
	f.mustReject(2, NewRenewContent(c, 10, 2, 4, DefaultMaxContentRetention), CodeInvalid, "MaxContentRetention")
	f.mustReject(2, NewRenewContent(c, 10, 2, 4, 0), CodeInvalid, "retention")
	f.mustReject(2, NewRenewContent(manifestCID(digestOf("none")), 10, 2, 4, 500), CodeNotFound, "not registered")
	f.mustOK(2, NewRenewContent(c, 10, 2, 4, 500)) // anyone may pay
	if r := rec(); r.Expiry != start+1500 || r.Registrant != f.pk(1) {
		t.Fatalf("renewed expiry %d registrant %s", r.Expiry, r.Registrant)
	}
	f.env.Time = start + 1501
	f.mustReject(2, NewRenewContent(c, 10, 2, 4, 500), CodeNotFound, "expired")
	op.Retention = 2000
	f.mustOK(2, op)
	if r := rec(); r.Expiry != start+1501+2000 || r.Registrant != f.pk(2) {
		t.Fatalf("re-registered: expiry %d registrant %s", r.Expiry, r.Registrant)
	}
}

// TestBadWitnessCostsTheSenderNothing: whoever sees a payer's signed
// registration can attach a garbage certificate and have it ordered first.
// The payer did not sign the witness, so that copy must not take the
// payer's fee or nonce: the same signed transaction with the right
// certificate still registers the content afterwards.
func TestBadWitnessCostsTheSenderNothing(t *testing.T) {
	f := newFixture(t, Params{})
	m := digestOf("griefed manifest")
	c := manifestCID(m)
	bm, sig := certify(t, f.bls, []int{0, 1, 2}, c, 1<<20, 2, 4, m)
	good := f.tx(1, NewRegisterContent(c, 1<<20, 2, 4, m, bm, sig))
	before := f.account(f.pk(1))

	forged := *good
	op := *good.Op.(*RegisterContent)
	op.Signature = [crypto.BLSSignatureSize]byte{}
	forged.Op = &op
	if !forged.VerifySignature() {
		t.Fatal("the payer's signature must still cover the forged copy")
	}
	rc := f.apply(&forged)
	f.checkRejected(rc, CodeBadWitness, "bad certificate")
	if rc.Fee != 0 || rc.Code.Charged() {
		t.Fatalf("a bad witness charged the payer: %+v", rc)
	}
	if after := f.account(f.pk(1)); after != before {
		t.Fatalf("a bad witness changed the payer's account: %+v -> %+v", before, after)
	}
	if rc := f.apply(good); !rc.OK() {
		t.Fatalf("the payer's registration after the forged copy: %s: %s", rc.Code, rc.Reason)
	}
}
