package engine

import (
	"bytes"
	"testing"

	"github.com/dagd/dagd/engine/store"

	"github.com/dagd/dagd/crypto"
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
