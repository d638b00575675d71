package content

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/erasure"
)

// contentSeeds are valid encodings of every content frame kind, the
// certificate and the statement; the fuzz targets start from them (and
// from testdata/fuzz).
func contentSeeds(tb testing.TB) (frames [][]byte, cert *Certificate) {
	tb.Helper()
	id := erasure.RawCID([]byte("seed")) // any CID: the frames are not checked against a manifest here
	claim := Claim{CID: id, Size: 4, K: 2, N: 4, ManifestDigest: erasure.Sum([]byte("m"))}
	keys, _, err := testCommittee(4)
	if err != nil {
		tb.Fatal(err)
	}
	key := keys[0]
	signers := crypto.NewBitmap(4)
	signers.Set(0)
	cert = &Certificate{Claim: claim, Signers: signers, Signature: key.Sign(claim.Statement("dagd-devnet", 0))}
	msgs := []any{
		&uploadBegin{ID: 1, ChunkSize: 1 << 20, K: 2, N: 4, MaxChunks: 200},
		&shardPush{ID: 1, Chunk: 3, Shard: 1, Data: []byte("shard bytes")},
		&uploadCommit{ID: 1, Pushed: 200, CID: id.Bytes(), Manifest: []byte{1, 0, 0, 0}},
		&uploadAbort{ID: 1},
		&uploadAck{ID: 1, Bytes: 1 << 30},
		&uploadResult{ID: 1, Status: statusOK, Signature: make([]byte, crypto.BLSSignatureSize)},
		&uploadResult{ID: 1, Status: statusError, Reason: "no"},
		&shardRequest{ID: 9, CID: id.Bytes(), Chunk: 7, Shard: 3},
		&manifestRequest{ID: 9, CID: id.Bytes()},
		&registryRequest{ID: 9, After: id.Bytes(), Limit: 256},
		&registryRequest{ID: 9, Limit: 1},
		&fetchResponse{ID: 9, Status: statusOK, Body: []byte("body")},
		&fetchResponse{ID: 9, Status: statusNotFound},
		&registerMsg{Cert: cert.Encode()},
	}
	for _, m := range msgs {
		frames = append(frames, encodeContentMsg(m))
	}
	return frames, cert
}

// FuzzContentFrame: every content frame from a peer decodes without
// panicking, and what decodes encodes back to the same bytes (one value,
// one encoding).
func FuzzContentFrame(f *testing.F) {
	frames, _ := contentSeeds(f)
	for _, fr := range frames {
		f.Add(fr)
	}
	f.Add([]byte{kindShardPush})
	f.Add([]byte{0x4f, 1, 2})
	f.Fuzz(func(t *testing.T, p []byte) {
		msg, err := decodeContentFrame(p)
		if err != nil {
			return
		}
		if again := encodeContentMsg(msg); !bytes.Equal(again, p) {
			t.Fatalf("decode/encode changed %x into %x", p, again)
		}
	})
}

var fuzzCommittee = sync.OnceValues(func() (*crypto.BLSCommittee, error) {
	_, comm, err := testCommittee(4)
	return comm, err
})

// FuzzContentCertificate: certificates come from peers (register frames,
// registry pages) and from disk: decoding never panics, what decodes
// encodes back to the same bytes, and verifying it never panics (and only
// the seed's own signature verifies).
func FuzzContentCertificate(f *testing.F) {
	_, cert := contentSeeds(f)
	committee, err := fuzzCommittee()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cert.Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := DecodeCertificate(p)
		if err != nil {
			return
		}
		if again := c.Encode(); !bytes.Equal(again, p) {
			t.Fatalf("decode/encode changed %x into %x", p, again)
		}
		_ = c.Verify(committee, "dagd-devnet", 0)
	})
}

// FuzzRegistryPage: a peer's registry answer splits without panicking and
// canonically.
func FuzzRegistryPage(f *testing.F) {
	_, cert := contentSeeds(f)
	f.Add(encodeRegistryPage([][]byte{cert.Encode(), {1, 2, 3}}))
	f.Add(encodeRegistryPage(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		page, err := decodeRegistryPage(p)
		if err != nil {
			return
		}
		if again := encodeRegistryPage(page); !bytes.Equal(again, p) {
			t.Fatalf("split/join changed %x into %x", p, again)
		}
	})
}

// FuzzHoldingRecord: holding records come back from disk: decoding never
// panics and is canonical.
func FuzzHoldingRecord(f *testing.F) {
	h := &holdingRec{StoredAt: time.UnixMilli(1_700_000_000_000), ManifestDigest: erasure.Sum([]byte("m")), Size: 9,
		Params: erasure.Params{ChunkSize: 1 << 20, DataShards: 2, ParityShards: 6}, Shards: []int{1, 5}}
	f.Add(h.encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		h, err := decodeHoldingRec(p)
		if err != nil {
			return
		}
		if again := h.encode(); !bytes.Equal(again, p) {
			t.Fatalf("decode/encode changed %x into %x", p, again)
		}
	})
}

// FuzzLedgerRecords: the ledger index entries and the registrar's records
// come back from disk: decoding never panics and is canonical.
func FuzzLedgerRecords(f *testing.F) {
	f.Add(byte(0), (&ledgerRec{Seq: 42, Tx: crypto.Hash([]byte("tx")), N: 4}).encode())
	f.Add(byte(1), (&regRec{State: regPending, Nonce: 7, Expiry: 1_700_000_000_000, Tx: crypto.Hash([]byte("tx")), Attempts: 2}).encode())
	f.Add(byte(1), (&regRec{State: regFailed, Reason: "account not funded"}).encode())
	f.Fuzz(func(t *testing.T, which byte, p []byte) {
		var again []byte
		if which%2 == 0 {
			r, err := decodeLedgerRec(p)
			if err != nil {
				return
			}
			again = r.encode()
		} else {
			r, err := decodeRegRec(p)
			if err != nil {
				return
			}
			again = r.encode()
		}
		if !bytes.Equal(again, p) {
			t.Fatalf("decode/encode changed %x into %x", p, again)
		}
	})
}
