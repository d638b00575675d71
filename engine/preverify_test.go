package engine

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

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
	v := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "test-chain", 1, 4)
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
	other := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "other-chain", 1, 4)
	if err := other.precheck(0, cert(3, 0, 1, 2)); err == nil {
		t.Fatal("a certificate signed for test-chain verified on other-chain")
	}
	// Cheaper refusals are left to the core: not reported.
	if err := v.precheck(1, forged); err != nil {
		t.Fatalf("certificate of author 0 relayed by 1: %v, want it left to the core", err)
	}

	// Bounded: after preVerifiedCap more entries the first is forgotten.
	for i := range preVerifiedCap {
		v.remember(aggregateKey([]byte{byte(i), byte(i >> 8)}, nil, nil))
	}
	if len(v.ok) != preVerifiedCap {
		t.Fatalf("%d entries, cap %d", len(v.ok), preVerifiedCap)
	}
	hits := v.hits
	_ = v.VerifyAggregate(msg(good), good.Signers, good.Signature)
	if v.hits != hits {
		t.Fatal("the oldest entry was not forgotten")
	}
}

// TestPreVerifierPeerBudget: one peer's certificates use up only its own
// share of the receive path's checks; beyond it they are left to the
// core, and another peer's certificate is still checked at once.
func TestPreVerifierPeerBudget(t *testing.T) {
	keys, bc, err := dagbls.DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader), "test-chain", 1, 4)
	frozen := time.Now()
	v.clock = func() time.Time { return frozen }
	junk := keys[3].Sign([]byte("junk"))
	for i := range precheckBurst + 10 {
		h := dag.NewHeader(1, 1, 3, dag.Time(i), nil, nil)
		_ = v.precheck(3, &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 3}, CommitteeSize: 4, Signature: junk})
	}
	if v.bad.len() != precheckBurst || v.skipped < 10 {
		t.Fatalf("peer 3: %d checks made, %d left to the core; want %d and at least 10", v.bad.len(), v.skipped, precheckBurst)
	}
	h := dag.NewHeader(1, 1, 0, 1, nil, nil)
	msg := dag.SigningMessage("test-chain", 1, h.Digest())
	var sigs [][]byte
	for _, s := range []dag.ValidatorID{0, 1, 2} {
		sigs = append(sigs, dagbls.NewSigner(keys[s]).Sign(msg))
	}
	agg, err := v.Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.precheck(0, &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 2}, CommitteeSize: 4, Signature: agg}); err != nil || v.checks != 1 {
		t.Fatalf("peer 0's certificate: %v, %d good checks", err, v.checks)
	}
}
