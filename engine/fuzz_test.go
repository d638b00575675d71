package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/dagd/dagd/engine/store"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
)

// FuzzCommitIndex: the engine's commit index entries come back from disk;
// decoding never panics and what decodes encodes to the same bytes.
func FuzzCommitIndex(f *testing.F) {
	ci := &store.CommitIndex{Seq: 7, LeaderRound: 14, Timestamp: 1234, Digest: crypto.Hash([]byte("d")), Certs: 5,
		Batches: []store.IndexedBatch{{Digest: crypto.Hash([]byte("b")), Author: 2, Txs: 900}}}
	f.Add(ci.Encode())
	f.Add((&store.CommitIndex{}).Encode())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, p []byte) {
		ci, err := store.DecodeCommitIndex(p)
		if err != nil {
			return
		}
		if !bytes.Equal(ci.Encode(), p) {
			t.Fatalf("decode/encode changed %x", p)
		}
	})
}

// FuzzSplitBinary: a binary submission body from a client never panics
// the parser, and every transaction it yields is within the limits.
func FuzzSplitBinary(f *testing.F) {
	n, err := New(context.Background(), testOptionsF(f))
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	f.Add(client.AppendBinaryTx(client.AppendBinaryTx(nil, []byte("a")), []byte("bc")))
	f.Add([]byte{0, 0, 0, 5, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		txs, err := n.splitBinary(body)
		if err != nil {
			return
		}
		var again []byte
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > n.MaxTxSize() {
				t.Fatalf("transaction of %d bytes passed", len(tx))
			}
			again = client.AppendBinaryTx(again, tx)
		}
		if !bytes.Equal(again, body) {
			t.Fatal("split does not round-trip")
		}
	})
}
