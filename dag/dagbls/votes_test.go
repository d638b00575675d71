package dagbls

import (
	"crypto/rand"

	"github.com/dagd/dagd/crypto"
	"strings"
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestBadVoteRefusedCertificateStillForms drives validator 0 of a real BLS
// committee: votes are checked as one aggregate once a quorum is in, so a
// vote with a bad signature makes that check fail; the core then finds
// the bad vote, refuses it with its reason, ignores its voter for this
// header, and certifies the header with the next good vote. The
// certificate it broadcasts verifies.
func TestBadVoteRefusedCertificateStillForms(t *testing.T) {
	keys, bc, err := DevKeys(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dag.EqualStakeCommittee(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(bc, rand.Reader)
	n, err := dag.NewNode(dag.Config{Self: 0, Committee: c, Signer: NewSigner(keys[0]), Verifier: v, Batches: noBatches{}})
	if err != nil {
		t.Fatal(err)
	}
	n.Tick(1)
	var own *dag.Header
	for _, m := range drain(n).Messages {
		if h, ok := m.Msg.(*dag.Header); ok {
			own = h
		}
	}
	if own == nil {
		t.Fatal("no own header proposed")
	}
	d := own.Digest()
	vote := func(voter dag.ValidatorID, sig []byte) *dag.Vote {
		return &dag.Vote{Epoch: own.Epoch, Round: own.Round, Origin: 0, Header: d, Voter: voter, Signature: sig}
	}
	certs := func(rd dag.Ready) []*dag.Certificate {
		var out []*dag.Certificate
		for _, m := range rd.Messages {
			if c, ok := m.Msg.(*dag.Certificate); ok {
				out = append(out, c)
			}
		}
		return out
	}

	if err := n.Step(1, vote(1, NewSigner(keys[1]).Sign(dag.SigningMessage("", own.Epoch, d)))); err != nil {
		t.Fatalf("good vote of 1: %v", err)
	}
	// Validator 2 signs another message: a valid point, a wrong signature.
	if err := n.Step(2, vote(2, NewSigner(keys[2]).Sign([]byte("not the header")))); err != nil {
		t.Fatalf("the bad vote is refused through Ready, not Step: %v", err)
	}
	rd := drain(n)
	if cs := certs(rd); len(cs) != 0 {
		t.Fatalf("certified with a bad vote: %v", cs)
	}
	found := false
	for _, r := range rd.Rejected {
		if r.From == 2 && r.Kind == dag.KindVote && strings.Contains(r.Reason.Error(), "vote signature") {
			found = true
		}
	}
	if !found {
		t.Fatalf("bad vote not refused with its reason: %+v", rd.Rejected)
	}
	// A second vote from 2, even a good one, is not heard for this header.
	if err := n.Step(2, vote(2, NewSigner(keys[2]).Sign(dag.SigningMessage("", own.Epoch, d)))); err != nil {
		t.Fatal(err)
	}
	if cs := certs(drain(n)); len(cs) != 0 {
		t.Fatal("validator 2 heard again after a bad vote")
	}
	if err := n.Step(3, vote(3, NewSigner(keys[3]).Sign(dag.SigningMessage("", own.Epoch, d)))); err != nil {
		t.Fatalf("good vote of 3: %v", err)
	}
	cs := certs(drain(n))
	if len(cs) != 1 {
		t.Fatalf("%d certificates after a quorum of good votes, want 1", len(cs))
	}
	cert := cs[0]
	if err := v.VerifyAggregate(dag.SigningMessage("", own.Epoch, d), cert.Signers, cert.Signature); err != nil {
		t.Fatalf("certificate does not verify: %v", err)
	}
	if len(cert.Signers) != 3 || cert.Signers[0] != 0 || cert.Signers[1] != 1 || cert.Signers[2] != 3 {
		t.Fatalf("signers %v, want [0 1 3]", cert.Signers)
	}
}

// noBatches is a store without batches (the test proposes empty headers).
type noBatches struct{}

func (noBatches) ReadBatch(crypto.Digest) (*dag.Batch, bool) { return nil, false }

// drain returns n's Ready and advances it at once: the test keeps no
// records.
func drain(n *dag.Node) dag.Ready {
	rd := n.Ready()
	n.Advance()
	return rd
}
