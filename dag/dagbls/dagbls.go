// Package dagbls signs and verifies consensus messages with BLS12-381
// (package crypto, through blst): it implements dag.Signer over a
// validator's private key and dag.Verifier over the committee's public keys,
// whose proofs of possession crypto.NewBLSCommittee has checked.
package dagbls

import (
	"fmt"
	"io"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// Signer signs with one validator's BLS key.
type Signer struct{ key *crypto.BLSPrivateKey }

// NewSigner returns a dag.Signer over key.
func NewSigner(key *crypto.BLSPrivateKey) *Signer { return &Signer{key: key} }

// Sign implements dag.Signer.
func (s *Signer) Sign(msg []byte) []byte { return s.key.Sign(msg) }

// Verifier checks signatures against a BLS committee.
type Verifier struct {
	committee *crypto.BLSCommittee
	rand      io.Reader
}

// NewVerifier returns a dag.Verifier over committee. rand supplies the
// random scalars of batch verification (crypto/rand.Reader in a node).
func NewVerifier(committee *crypto.BLSCommittee, rand io.Reader) *Verifier {
	return &Verifier{committee: committee, rand: rand}
}

func (v *Verifier) bitmap(signers []dag.ValidatorID) (crypto.Bitmap, error) {
	bm := crypto.NewBitmap(v.committee.Size())
	for _, s := range signers {
		if int(s) >= v.committee.Size() {
			return nil, fmt.Errorf("dagbls: signer %d outside committee of %d: %w", s, v.committee.Size(), crypto.ErrUnknownSigner)
		}
		bm.Set(int(s))
	}
	return bm, nil
}

// VerifySignature implements dag.Verifier.
func (v *Verifier) VerifySignature(signer dag.ValidatorID, msg, sig []byte) error {
	return v.committee.Verify(int(signer), msg, sig)
}

// Aggregate implements dag.Verifier.
func (v *Verifier) Aggregate(sigs [][]byte) ([]byte, error) {
	return crypto.AggregateBLSSignatures(sigs)
}

// VerifyAggregate implements dag.Verifier.
func (v *Verifier) VerifyAggregate(msg []byte, signers []dag.ValidatorID, sig []byte) error {
	bm, err := v.bitmap(signers)
	if err != nil {
		return err
	}
	_, err = v.committee.VerifyAggregate(msg, bm, sig)
	return err
}

// VerifyAggregates implements dag.Verifier with one randomized batch check.
func (v *Verifier) VerifyAggregates(items []dag.AggregateItem) error {
	checks := make([]crypto.AggregateCheck, len(items))
	for i, it := range items {
		bm, err := v.bitmap(it.Signers)
		if err != nil {
			return err
		}
		checks[i] = crypto.AggregateCheck{Msg: it.Msg, Signers: bm, Signature: it.Signature}
	}
	return v.committee.VerifyAggregates(checks, v.rand)
}

// DevKeys derives n validator keys deterministically from a seed, with a
// committee of equal stake: for simulations, tests and devnets only.
func DevKeys(seed uint64, n int) ([]*crypto.BLSPrivateKey, *crypto.BLSCommittee, error) {
	keys := make([]*crypto.BLSPrivateKey, n)
	pubs := make([]*crypto.BLSPublicKey, n)
	pops := make([][]byte, n)
	stakes := make([]uint64, n)
	for i := range keys {
		ikm := crypto.Hash([]byte("dagd/devkey"), []byte(fmt.Sprintf("%d/%d", seed, i)))
		k, err := crypto.BLSKeyFromSeed(ikm[:])
		if err != nil {
			return nil, nil, fmt.Errorf("dagbls: dev key %d: %w", i, err)
		}
		keys[i], pubs[i], pops[i], stakes[i] = k, k.PublicKey(), k.ProofOfPossession(), 1
	}
	c, err := crypto.NewBLSCommittee(pubs, pops, stakes)
	if err != nil {
		return nil, nil, fmt.Errorf("dagbls: dev committee: %w", err)
	}
	return keys, c, nil
}
