package dagbls

import (
	"crypto/rand"
	"testing"

	"github.com/dagd/dagd/dag"
)

func TestSignAggregateVerify(t *testing.T) {
	keys, c, err := DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(c, rand.Reader)
	msg := []byte("header digest")
	var sigs [][]byte
	signers := []dag.ValidatorID{0, 2, 3}
	for _, s := range signers {
		sig := NewSigner(keys[s]).Sign(msg)
		if err := v.VerifySignature(s, msg, sig); err != nil {
			t.Fatalf("signature of %d: %v", s, err)
		}
		sigs = append(sigs, sig)
	}
	if err := v.VerifySignature(1, msg, sigs[0]); err == nil {
		t.Fatal("signature of 0 accepted as 1's")
	}
	agg, err := v.Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyAggregate(msg, signers, agg); err != nil {
		t.Fatalf("aggregate: %v", err)
	}
	if err := v.VerifyAggregate(msg, []dag.ValidatorID{0, 1, 3}, agg); err == nil {
		t.Fatal("aggregate accepted with the wrong signers")
	}
	if err := v.VerifyAggregate(msg, []dag.ValidatorID{0, 9}, agg); err == nil {
		t.Fatal("signer outside the committee accepted")
	}
	good := dag.AggregateItem{Msg: msg, Signers: signers, Signature: agg}
	bad := dag.AggregateItem{Msg: []byte("other"), Signers: signers, Signature: agg}
	if err := v.VerifyAggregates([]dag.AggregateItem{good, good}); err != nil {
		t.Fatalf("batch of valid aggregates: %v", err)
	}
	if err := v.VerifyAggregates([]dag.AggregateItem{good, bad}); err == nil {
		t.Fatal("batch with an invalid aggregate accepted")
	}
}
