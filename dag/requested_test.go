package dag

import (
	"crypto/rand"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestRequestedBatchesBounded: a Byzantine author's headers that each
// name 1,000 batches that do not exist, 60 rounds running, while the DAG
// commits and collects: the worker's requests stay within the author's
// share and none survives garbage collection (the requests used to pile
// up, 60,000 after 60 rounds).
func TestRequestedBatchesBounded(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{},
		Options: Options{GCDepth: 10}})
	if err != nil {
		t.Fatal(err)
	}
	now := Time(1)
	n.Tick(now)
	Drain(n)
	prev := GenesisCertificates(c)
	parentsOf := func(cs []*Certificate) []crypto.Digest {
		var ds []crypto.Digest
		for _, x := range cs {
			if x != nil {
				ds = append(ds, x.Digest())
			}
		}
		return ds
	}
	const rounds = 60
	peak := 0
	for r := uint64(1); r <= rounds; r++ {
		var fake []BatchRef
		for range 1000 {
			var d crypto.Digest
			rand.Read(d[:])
			fake = append(fake, BatchRef{Digest: d})
		}
		h := NewHeader(0, r, 3, 1, fake, parentsOf(prev))
		h.Signature = []byte{1}
		_ = n.Step(3, h)
		var cur []*Certificate
		for _, a := range []ValidatorID{1, 2, 3} {
			hh := NewHeader(0, r, a, 1, nil, parentsOf(prev))
			hh.Signature = []byte{1}
			cert := &Certificate{Header: hh, Signers: []ValidatorID{0, 1, 2, 3}, CommitteeSize: 4, Signature: []byte{1}}
			_ = n.Step(a, cert)
			cur = append(cur, cert)
		}
		now += 1000
		n.Tick(now)
		Drain(n)
		prev = cur
		peak = max(peak, len(n.worker.requested))
	}
	gc := n.primary.gcRound()
	if gc < rounds/2 {
		t.Fatalf("GC round %d after %d rounds: the DAG did not commit", gc, rounds)
	}
	if limit := n.worker.maxRequestedPerAuthor(); peak > limit {
		t.Fatalf("requested batches peaked at %d, the author's share is %d", peak, limit)
	}
	for d, a := range n.worker.requested {
		if a.round < gc {
			t.Fatalf("request of %s (round %d) survived GC at round %d", d.Short(), a.round, gc)
		}
	}
	if got := n.worker.reqCount[3]; got != len(n.worker.requested) {
		t.Fatalf("author 3 counted %d requests, %d held", got, len(n.worker.requested))
	}
	t.Logf("after %d rounds: gc %d, requested %d (peak %d)", rounds, gc, len(n.worker.requested), peak)
}

// TestUnreferencedBatchesBoundedByBytes: a Byzantine author's batches that
// no certificate references stay within MaxUnreferencedBytes (they were
// bounded in count only: 2,000 batches of up to 16 MiB each).
func TestUnreferencedBatchesBoundedByBytes(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{},
		Options: Options{MaxUnreferencedBytes: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	tx := make([]byte, 64<<10)
	for i := range 20 {
		txs := make([][]byte, 16) // about 1 MiB a batch
		for k := range txs {
			txs[k] = append([]byte{byte(i), byte(k)}, tx[2:]...)
		}
		if err := n.Step(3, &Batch{Epoch: 0, Author: 3, Transactions: txs}); err != nil {
			t.Fatal(err)
		}
		Drain(n)
	}
	held, bytes := 0, 0
	for _, bi := range n.worker.index {
		if bi.author == 3 {
			held++
			bytes += bi.size
		}
	}
	if bytes > 4<<20 || held == 0 {
		t.Fatalf("author 3 holds %d unreferenced batches of %d bytes, bound %d", held, bytes, 4<<20)
	}
	if n.worker.unrefBytes[3] != bytes {
		t.Fatalf("counted %d bytes, %d held", n.worker.unrefBytes[3], bytes)
	}
}
