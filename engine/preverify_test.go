package engine

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// TestPreVerifier: a certificate checked as it is received is not checked
// again by the core; a forged one is reported to the receive path (which
// bans its sender), remembered as failed so the core refuses it without a
// second pairing; the memory is bounded.
func TestPreVerifier(t *testing.T) {
	keys, bc, err := dagbls.DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "test-chain", 1, testComm(t))
	cert := func(round uint64, signers ...dag.ValidatorID) *dag.Certificate {
		h := dag.NewHeader(1, round, 0, dag.Time(round), nil, nil)
		d := h.Digest()
		var sigs [][]byte
		for _, s := range signers {
			sigs = append(sigs, dagbls.NewSigner(keys[s]).Sign(dag.SigningMessage("test-chain", 1, d)))
		}
		agg, err := v.Aggregate(sigs)
		if err != nil {
			t.Fatal(err)
		}
		return &dag.Certificate{Header: h, Signers: signers, CommitteeSize: 4, Signature: agg}
	}

	msg := func(c *dag.Certificate) []byte { return dag.SigningMessage("test-chain", 1, c.Digest()) }
	good := cert(1, 0, 1, 2)
	if err := v.precheck(0, good); err != nil {
		t.Fatalf("precheck of a good certificate: %v", err)
	}
	if err := v.VerifyAggregate(msg(good), good.Signers, good.Signature); err != nil {
		t.Fatalf("prechecked certificate: %v", err)
	}
	if v.hits != 1 || v.checks != 1 {
		t.Fatalf("hits %d checks %d, want 1 and 1", v.hits, v.checks)
	}
	// The same signature claimed by other signers is another check.
	if err := v.VerifyAggregate(msg(good), []dag.ValidatorID{1, 2, 3}, good.Signature); err == nil {
		t.Fatal("aggregate accepted for signers that did not sign")
	}

	forged := cert(2, 0, 1, 2)
	forged.Signers = []dag.ValidatorID{0, 1, 3}
	if err := v.precheck(0, forged); err == nil {
		t.Fatal("precheck passed a forged certificate")
	}
	if err := v.VerifyAggregate(msg(forged), forged.Signers, forged.Signature); !errors.Is(err, errKnownBad) {
		t.Fatalf("forged certificate: %v, want the remembered failure", err)
	}
	if err := v.precheck(0, forged); !errors.Is(err, errKnownBad) {
		t.Fatalf("forged certificate again: %v, want the remembered failure", err)
	}
	if v.checks != 1 {
		t.Fatalf("forged certificate remembered as good (checks %d)", v.checks)
	}
	// A certificate of another chain id does not verify here.
	other := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "other-chain", 1, testComm(t))
	if err := other.precheck(0, cert(3, 0, 1, 2)); err == nil {
		t.Fatal("a certificate signed for test-chain verified on other-chain")
	}
	// Cheaper refusals are left to the core, unchecked: not reported.
	few := cert(4, 0)
	few.Signature = junkOf(t, keys)
	if err := v.precheck(0, few); err != nil {
		t.Fatalf("certificate below quorum: %v, want it left to the core", err)
	}
	if err := v.precheck(1, forged); err != nil {
		t.Fatalf("certificate of author 0 relayed by 1: %v, want it left to the core", err)
	}

	// Bounded: after preVerifiedCap more entries the first is forgotten.
	for i := range preVerifiedCap {
		v.remember(aggregateKey([]byte{byte(i), byte(i >> 8)}, nil, nil))
	}
	if v.ok.Len() != preVerifiedCap {
		t.Fatalf("%d entries, cap %d", v.ok.Len(), preVerifiedCap)
	}
	hits := v.hits
	_ = v.VerifyAggregate(msg(good), good.Signers, good.Signature)
	if v.hits != hits {
		t.Fatal("the oldest entry was not forgotten")
	}
}

// TestPreVerifierPeerBudget: one peer's certificates use up only its own
// share of the receive path's checks. A peer whose certificates fail pays
// for each failure with many checks, and once its share is spent its
// certificates are refused unchecked; an honest peer beyond its share has
// its certificates left to the core; another peer's certificate is still
// checked at once.
func TestPreVerifierPeerBudget(t *testing.T) {
	keys, bc, err := dagbls.DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "test-chain", 1, testComm(t))
	frozen := time.Now()
	v.clock = func() time.Time { return frozen }
	junk := keys[3].Sign([]byte("junk"))
	refused := 0
	for i := range 100 {
		h := dag.NewHeader(1, 1, 3, dag.Time(i), nil, nil)
		err := v.precheck(3, &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 3}, CommitteeSize: 4, Signature: junk})
		if errors.Is(err, errOverBudget) {
			refused++
		}
	}
	if want := (precheckBurst + precheckFailCost) / (precheckFailCost + 1); v.bad.Len() != want || refused != 100-want {
		t.Fatalf("forging peer: %d checks made, %d refused unchecked; want %d and %d", v.bad.Len(), refused, want, 100-want)
	}
	good := func(author dag.ValidatorID, ts dag.Time) *dag.Certificate {
		h := dag.NewHeader(1, 1, author, ts, nil, nil)
		msg := dag.SigningMessage("test-chain", 1, h.Digest())
		var sigs [][]byte
		for _, s := range []dag.ValidatorID{0, 1, 2} {
			sigs = append(sigs, dagbls.NewSigner(keys[s]).Sign(msg))
		}
		agg, err := v.Aggregate(sigs)
		if err != nil {
			t.Fatal(err)
		}
		return &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 2}, CommitteeSize: 4, Signature: agg}
	}
	if err := v.precheck(0, good(0, 1)); err != nil || v.checks != 1 {
		t.Fatalf("peer 0's certificate: %v, %d good checks", err, v.checks)
	}
	for i := range precheckBurst + 2 {
		if err := v.precheck(1, good(1, dag.Time(i))); err != nil {
			t.Fatalf("honest peer 1, certificate %d: %v", i, err)
		}
	}
	if v.skipped < 2 {
		t.Fatalf("honest peer beyond its share: %d certificates left to the core, want 2", v.skipped)
	}
}

func testComm(t *testing.T) *dag.Committee {
	t.Helper()
	c, err := dag.EqualStakeCommittee(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func junkOf(t *testing.T, keys []*crypto.BLSPrivateKey) []byte {
	t.Helper()
	return keys[0].Sign([]byte("junk"))
}
