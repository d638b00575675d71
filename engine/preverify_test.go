package engine

import (
	"crypto/rand"
	"testing"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// TestPreVerifier: a certificate checked as it is received is not checked
// again by the core; a forged one is not remembered and the core refuses
// it; the memory is bounded.
func TestPreVerifier(t *testing.T) {
	keys, bc, err := dagbls.DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := newPreVerifier(dagbls.NewVerifier(bc, rand.Reader))
	cert := func(round uint64, signers ...dag.ValidatorID) *dag.Certificate {
		h := dag.NewHeader(1, round, 0, dag.Time(round), nil, nil)
		d := h.Digest()
		var sigs [][]byte
		for _, s := range signers {
			sigs = append(sigs, dagbls.NewSigner(keys[s]).Sign(d[:]))
		}
		agg, err := v.Aggregate(sigs)
		if err != nil {
			t.Fatal(err)
		}
		return &dag.Certificate{Header: h, Signers: signers, CommitteeSize: 4, Signature: agg}
	}

	good := cert(1, 0, 1, 2)
	v.precheck(good)
	d := good.Digest()
	if err := v.VerifyAggregate(d[:], good.Signers, good.Signature); err != nil {
		t.Fatalf("prechecked certificate: %v", err)
	}
	if v.hits != 1 || v.checks != 1 {
		t.Fatalf("hits %d checks %d, want 1 and 1", v.hits, v.checks)
	}
	// The same signature claimed by other signers is another check.
	if err := v.VerifyAggregate(d[:], []dag.ValidatorID{1, 2, 3}, good.Signature); err == nil {
		t.Fatal("aggregate accepted for signers that did not sign")
	}

	forged := cert(2, 0, 1, 2)
	forged.Signers = []dag.ValidatorID{0, 1, 3}
	v.precheck(forged)
	fd := forged.Digest()
	if err := v.VerifyAggregate(fd[:], forged.Signers, forged.Signature); err == nil {
		t.Fatal("forged certificate accepted")
	}
	if v.checks != 1 {
		t.Fatalf("forged certificate remembered (checks %d)", v.checks)
	}

	// Bounded: after preVerifiedCap more entries the first is forgotten.
	for i := range preVerifiedCap {
		v.remember(aggregateKey([]byte{byte(i), byte(i >> 8)}, nil, nil))
	}
	if len(v.ok) != preVerifiedCap {
		t.Fatalf("%d entries, cap %d", len(v.ok), preVerifiedCap)
	}
	hits := v.hits
	_ = v.VerifyAggregate(d[:], good.Signers, good.Signature)
	if v.hits != hits {
		t.Fatal("the oldest entry was not forgotten")
	}
}
