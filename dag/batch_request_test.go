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
	Drain(n)

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
		for _, m := range Drain(n).Messages {
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
	if rd := Drain(n); len(rd.Committed) != 1 || rd.Committed[0].Seq != 1 {
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

// TestOrphanedBatchesProposedAgain: an own certificate that garbage
// collection drops without any commit having included it gives its
// batches back to the worker, which puts them in the next header, while
// a committed one and another validator's orphan do not.
func TestOrphanedBatchesProposedAgain(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}})
	if err != nil {
		t.Fatal(err)
	}
	o := n.primary.orderer
	const round = 3
	mk := func(author ValidatorID, tag string) (*Certificate, crypto.Digest) {
		b := &Batch{Author: author, Transactions: [][]byte{[]byte(tag)}}
		d := b.Digest()
		n.worker.index[d] = &batchInfo{author: author, referenced: true}
		h := NewHeader(0, round, author, round, []BatchRef{{Digest: d}}, nil)
		return &Certificate{Header: h}, d
	}
	orphan, od := mk(0, "own orphan")
	committed, cd := mk(0, "own committed")
	committed.Header.Timestamp++ // another header, same author and round
	other, xd := mk(1, "another's orphan")
	row := make([]*Certificate, 4)
	row[0], row[1] = orphan, other
	o.rounds[round] = row
	o.rounds[round+1] = []*Certificate{committed, nil, nil, nil} // stands for a committed one
	o.committed[committed.Digest()] = struct{}{}
	o.lowest = round
	o.lastLeaderRound = round + 2 + o.gcDepth // GC drops rounds 3 and 4
	o.collect()
	n.forget()

	if !n.worker.has(od) || n.worker.has(xd) || n.worker.has(cd) {
		t.Fatalf("indexed after GC: own orphan %v, another's %v, committed %v; want true, false, false",
			n.worker.has(od), n.worker.has(xd), n.worker.has(cd))
	}
	if len(n.worker.ready) != 1 || n.worker.ready[0].Digest != od {
		t.Fatalf("ready %v, want the own orphan's batch", n.worker.ready)
	}
	if st := n.Status(); st.ReproposedBatches != 1 {
		t.Fatalf("ReproposedBatches %d, want 1", st.ReproposedBatches)
	}
	for _, rr := range n.retained {
		if slices.Contains(rr.batches, od) {
			t.Fatal("the proposed-again batch is still due for deletion with its old round")
		}
	}
}
