package dag

import (
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestReadyWaitsForAdvance: once a Ready is handed out, the node hands out
// nothing more until Advance says its records are durable; what it
// produces meanwhile is kept for the next Ready, not lost.
func TestReadyWaitsForAdvance(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}})
	if err != nil {
		t.Fatal(err)
	}
	n.Tick(1) // proposes the round-1 header: records and a broadcast
	first := n.Ready()
	if len(first.Persist) == 0 || len(first.Messages) == 0 {
		t.Fatalf("first Ready: %d records, %d messages", len(first.Persist), len(first.Messages))
	}
	g := GenesisCertificates(c)
	h := NewHeader(0, 1, 3, 1, nil, []crypto.Digest{g[0].Digest(), g[1].Digest(), g[2].Digest()})
	h.Signature = []byte{1}
	if err := n.Step(3, h); err != nil {
		t.Fatal(err)
	}
	if rd := n.Ready(); !rd.IsEmpty() {
		t.Fatalf("a Ready before Advance: %d records, %d messages", len(rd.Persist), len(rd.Messages))
	}
	n.Advance()
	rd := n.Ready()
	voted := false
	for _, o := range rd.Messages {
		if v, ok := o.Msg.(*Vote); ok && v.Origin == 3 && o.To == 3 {
			voted = true
		}
	}
	if !voted || len(rd.Persist) == 0 {
		t.Fatalf("after Advance: the vote for 3's header (%v) and its record (%d) were not handed out", voted, len(rd.Persist))
	}
	n.Advance()
	if rd := n.Ready(); !rd.IsEmpty() {
		t.Fatal("output handed out twice")
	}
}
