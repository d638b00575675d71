package dag

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestMissingBatchesRequestedAhead queues commits whose batches the node
// lacks, as after a restart: one scan asks for the batches of several
// queued commits at once, each from its author; nothing is asked again
// before the resend interval; a repeated ask also goes to another
// validator; a batch relayed twice is accepted once and the second copy
// is not refused.
func TestMissingBatchesRequestedAhead(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}})
	if err != nil {
		t.Fatal(err)
	}
	n.Tick(1)
	n.Ready()

	batches := map[crypto.Digest]*Batch{}
	var order []crypto.Digest
	for seq := uint64(1); seq <= 5; seq++ {
		sub := &CommittedSubDAG{Seq: seq}
		for author := ValidatorID(1); author <= 3; author++ {
			b := &Batch{Author: author, Transactions: [][]byte{fmt.Appendf(nil, "tx %d %d", seq, author)}}
			d := b.Digest()
			batches[d] = b
			order = append(order, d)
			h := NewHeader(0, 2*seq, author, Time(seq), []BatchRef{{Digest: d}}, nil)
			sub.Certificates = append(sub.Certificates, &Certificate{Header: h})
		}
		sub.Leader = sub.Certificates[len(sub.Certificates)-1]
		n.queue = append(n.queue, sub)
	}

	asked := func() map[ValidatorID][]crypto.Digest {
		out := map[ValidatorID][]crypto.Digest{}
		for _, m := range n.Ready().Messages {
			if r, ok := m.Msg.(*BatchRequest); ok {
				out[m.To] = append(out[m.To], r.Digests...)
			}
		}
		return out
	}

	n.deliver()
	first := asked()
	var all []crypto.Digest
	for peer, ds := range first {
		for _, d := range ds {
			if batches[d].Author != peer {
				t.Errorf("first ask of a batch of %d went to %d", batches[d].Author, peer)
			}
		}
		all = append(all, ds...)
	}
	if len(all) != len(order) {
		t.Fatalf("first scan asked %d batches, want all %d of the 5 queued commits", len(all), len(order))
	}

	// Within the resend interval nothing is asked again.
	n.Tick(1 + n.cfg.Options.ResendInterval/2)
	if again := asked(); len(again) != 0 {
		t.Fatalf("asked again before the resend interval: %v", again)
	}

	// The first commit's batches arrive, twice (from two peers): it is
	// delivered, the second copy is not refused.
	for _, d := range order[:3] {
		b := batches[d]
		if err := n.Step(b.Author, b); err != nil {
			t.Fatalf("batch from its author: %v", err)
		}
		relay := (b.Author % 3) + 1
		if err := n.Step(relay, b); err != nil {
			t.Fatalf("second copy relayed by %d refused: %v", relay, err)
		}
	}
	if rd := n.Ready(); len(rd.Committed) != 1 || rd.Committed[0].Seq != 1 {
		t.Fatalf("committed %d sub-DAGs after the first commit's batches, want seq 1", len(rd.Committed))
	}

	// After the resend interval the rest is asked again, from the author
	// and one more validator.
	n.Tick(2 + n.cfg.Options.ResendInterval)
	again := asked()
	var peers []ValidatorID
	count := 0
	for peer, ds := range again {
		peers = append(peers, peer)
		count += len(ds)
		if peer == 0 {
			t.Errorf("asked itself")
		}
	}
	if want := 2 * (len(order) - 3); count != want {
		t.Fatalf("resend asked %d digests, want %d (author and one other, for each of %d)", count, want, len(order)-3)
	}
	slices.Sort(peers)
	if len(peers) < 2 {
		t.Fatalf("resend went to %v only", peers)
	}
}
