package dag

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestStepRefusesBadMessages steps messages a faulty or hostile peer
// (validator 3) may send into validator 0 of an epoch-5 committee: each
// is refused with its reason, returned by Step and listed in
// Ready.Rejected, and the node goes on. Signatures are stubbed: these are
// the checks made before any signature is verified.
func TestStepRefusesBadMessages(t *testing.T) {
	const epoch = 5
	c, _ := EqualStakeCommittee(epoch, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}})
	if err != nil {
		t.Fatal(err)
	}
	n.Tick(1) // proposes the round-1 header, which votes refer to
	Drain(n)
	own := n.Primary().own
	if own == nil {
		t.Fatal("no own header")
	}
	g := GenesisCertificates(c)
	parents := []crypto.Digest{g[0].Digest(), g[1].Digest(), g[2].Digest()}
	header := func(ep uint64) *Header {
		h := NewHeader(ep, 1, 3, 1, nil, parents)
		h.Signature = []byte{1}
		return h
	}
	cert := func(h *Header, size int, signers ...ValidatorID) *Certificate {
		return &Certificate{Header: h, Signers: signers, CommitteeSize: size, Signature: []byte{1}}
	}
	for _, tc := range []struct {
		name string
		msg  Message
		want string
	}{
		{"header of another epoch", header(epoch + 1), "header of epoch 6, want 5"},
		{"vote of another epoch", &Vote{Epoch: epoch + 1, Round: 1, Origin: 0, Header: own.Digest(), Voter: 3, Signature: []byte{1}}, "vote of epoch 6, want 5"},
		{"vote of an older epoch", &Vote{Epoch: epoch - 1, Round: 1, Origin: 0, Header: own.Digest(), Voter: 3, Signature: []byte{1}}, "vote of epoch 4, want 5"},
		{"certificate of another epoch", cert(header(epoch+1), 4, 0, 1, 3), "header of epoch 6, want 5"},
		{"batch of another epoch", &Batch{Epoch: epoch + 1, Author: 3, Transactions: [][]byte{[]byte("tx")}}, "batch of epoch 6, want 5"},
		{"certificate below quorum", cert(header(epoch), 4, 1, 3), "signed by stake 2 below quorum 3"},
		{"certificate with one signer", cert(header(epoch), 4, 3), "signed by stake 1 below quorum 3"},
		{"certificate with a repeated signer", cert(header(epoch), 4, 1, 1, 3), "unknown or repeated signer 1"},
		{"certificate with an unknown signer", cert(header(epoch), 4, 1, 3, 9), "unknown or repeated signer 9"},
		{"certificate with a larger bitmap", cert(header(epoch), 8, 0, 1, 3, 6), "signer bitmap of 8, committee of 4"},
		{"certificate with a smaller bitmap", cert(header(epoch), 3, 0, 1, 2), "signer bitmap of 3, committee of 4"},
		{"header in another's name", NewHeader(epoch, 1, 2, 1, nil, parents), "header of author 2 sent by 3"},
		{"vote in another's name", &Vote{Epoch: epoch, Round: 1, Origin: 0, Header: own.Digest(), Voter: 1}, "vote of 1 sent by 3"},
	} {
		err := n.Step(3, tc.msg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Step = %v, want %q", tc.name, err, tc.want)
			continue
		}
		rd := Drain(n)
		if len(rd.Rejected) != 1 || rd.Rejected[0].From != 3 || rd.Rejected[0].Kind != tc.msg.Kind() ||
			!strings.Contains(rd.Rejected[0].Reason.Error(), tc.want) {
			t.Errorf("%s: Ready.Rejected = %+v", tc.name, rd.Rejected)
		}
		for _, r := range rd.Persist {
			if IsBatchKey(r.Key) || bytes.HasPrefix(r.Key, certKey(1, 3)) {
				t.Errorf("%s: refused message persisted %x", tc.name, r.Key)
			}
		}
	}
	// The votes of this epoch still count.
	for _, v := range []ValidatorID{1, 2} {
		if err := n.Step(v, &Vote{Epoch: epoch, Round: 1, Origin: 0, Header: own.Digest(), Voter: v, Signature: []byte{1}}); err != nil {
			t.Fatalf("vote of %d: %v", v, err)
		}
	}
	if !n.Primary().ownCertified {
		t.Error("a quorum of good votes did not certify the own header")
	}
}
