package dag

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestDecodedBatchOwnsItsBytes: a decoded batch shares nothing with the
// frame it came from, its transactions cannot grow into each other, and
// Encode hands out a copy, so the cached encoding stays what was hashed.
func TestDecodedBatchOwnsItsBytes(t *testing.T) {
	orig := &Batch{Epoch: 3, Author: 2, Worker: 1, Transactions: [][]byte{[]byte("first"), {}, bytes.Repeat([]byte{9}, 700), []byte("last")}}
	frame := EncodeMessage(orig)
	want := orig.Digest()
	m, err := DecodeMessage(frame)
	if err != nil {
		t.Fatal(err)
	}
	b := m.(*Batch)
	if b.Digest() != want || !bytes.Equal(EncodeMessage(b), frame) {
		t.Fatal("decoded batch differs from the original")
	}
	if len(b.Transactions) != 4 || string(b.Transactions[0]) != "first" || len(b.Transactions[1]) != 0 || string(b.Transactions[3]) != "last" {
		t.Fatalf("transactions %q", b.Transactions)
	}
	clear(frame) // the network's buffer is reused
	if b.Digest() != want || string(b.Transactions[0]) != "first" {
		t.Fatal("the decoded batch aliases the frame")
	}
	grown := append(b.Transactions[0], "XXXX"...)
	_ = grown
	if b.Digest() != want || len(b.Transactions[1]) != 0 || b.Transactions[2][0] != 9 {
		t.Fatal("appending to a transaction overwrote the batch")
	}
	enc := b.Encode()
	clear(enc)
	if b.Digest() != want {
		t.Fatal("Encode returned the cached encoding itself")
	}
	again, err := DecodeBatch(orig.Encode())
	if err != nil || again.Digest() != want {
		t.Fatalf("DecodeBatch: %v", err)
	}
}

// TestDecodeBatchLimits: the one-pass decoder still refuses oversize,
// truncated and over-long batches.
func TestDecodeBatchLimits(t *testing.T) {
	enc := (&Batch{Transactions: [][]byte{[]byte("abc")}}).Encode()
	// The transaction's length says MaxTxSize+1.
	big := bytes.Clone(enc)
	big[17], big[18], big[19], big[20] = 0, 0x10, 0, 1
	// The count says two transactions, one is there.
	short := bytes.Clone(enc)
	short[16] = 2
	for name, p := range map[string][]byte{"oversize transaction": big, "missing transaction": short,
		"truncated": enc[:len(enc)-1], "trailing": append(bytes.Clone(enc), 0)} {
		if _, err := DecodeBatch(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// TestSealedBatchSendsItsEncoding: the batch a worker seals is broadcast
// with the bytes it persisted and hashed.
func TestSealedBatchSendsItsEncoding(t *testing.T) {
	c, _ := EqualStakeCommittee(0, 4)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}, Options: Options{BatchSize: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Submit([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	rd := Drain(n)
	var stored []byte
	for _, r := range rd.Persist {
		if IsBatchKey(r.Key) {
			stored = r.Value
		}
	}
	var sent *Batch
	for _, o := range rd.Messages {
		if b, ok := o.Msg.(*Batch); ok {
			sent = b
		}
	}
	if stored == nil || sent == nil {
		t.Fatal("no batch sealed")
	}
	if frame := EncodeMessage(sent); !bytes.Equal(frame[1:], stored) {
		t.Fatal("the broadcast frame differs from the stored batch")
	}
	if d := sent.Digest(); !bytes.Equal(BatchKey(d), rdBatchKey(rd)) {
		t.Fatal("the sealed batch's digest differs from its record's key")
	}
}

func rdBatchKey(rd Ready) []byte {
	for _, r := range rd.Persist {
		if IsBatchKey(r.Key) {
			return r.Key
		}
	}
	return nil
}

// FuzzDecodeBatch: a batch decoder fed anything never panics; what it
// accepts re-encodes to the same bytes, hashes like them (BatchDigest of
// the bytes included), does not change when the input buffer is
// overwritten afterwards, and reads the same through PeekBatch and
// ScanBatch, which drivers use on stored batches without decoding them.
// Neither of those panics on anything either.
func FuzzDecodeBatch(f *testing.F) {
	for _, b := range []*Batch{
		{},
		{Epoch: 7, Author: 1, Transactions: [][]byte{[]byte("tx1"), bytes.Repeat([]byte{7}, 300)}},
		{Author: 3, Worker: 2, Transactions: [][]byte{{}, {0}, []byte("last")}},
	} {
		f.Add(b.Encode())
	}
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		bh, peekErr := PeekBatch(p)
		var scanned [][]byte
		scanErr := ScanBatch(p, func(tx []byte) bool { scanned = append(scanned, tx); return true })
		if peekErr != nil && !errors.Is(peekErr, ErrMalformed) || scanErr != nil && !errors.Is(scanErr, ErrMalformed) {
			t.Fatalf("errors %v, %v do not wrap ErrMalformed", peekErr, scanErr)
		}
		in := bytes.Clone(p)
		b, err := DecodeBatch(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if peekErr != nil || bh != (BatchHeader{Epoch: b.Epoch, Author: b.Author, Worker: b.Worker, Count: len(b.Transactions)}) {
			t.Fatalf("PeekBatch = %+v, %v; decoded %d transactions of author %d", bh, peekErr, len(b.Transactions), b.Author)
		}
		if scanErr != nil || len(scanned) != len(b.Transactions) {
			t.Fatalf("ScanBatch gave %d transactions, %v; decoded %d", len(scanned), scanErr, len(b.Transactions))
		}
		for i := range scanned {
			if !bytes.Equal(scanned[i], b.Transactions[i]) {
				t.Fatalf("ScanBatch transaction %d differs", i)
			}
		}
		d := b.Digest()
		if BatchDigest(p) != d {
			t.Fatal("BatchDigest of the encoding differs from the batch's digest")
		}
		clear(in)
		if !bytes.Equal(b.Encode(), p) {
			t.Fatal("re-encoding differs from the input")
		}
		if d != b.Digest() || d != (&Batch{Epoch: b.Epoch, Author: b.Author, Worker: b.Worker, Transactions: b.Transactions}).Digest() {
			t.Fatal("digest changed")
		}
		total := 0
		for _, tx := range b.Transactions {
			total += len(tx)
		}
		if total > len(p) {
			t.Fatalf("%d bytes of transactions from %d bytes", total, len(p))
		}
	})
}

// TestRecordKeysParse: the key constructors and parsers drivers use agree,
// and refuse the keys of other records.
func TestRecordKeysParse(t *testing.T) {
	var d crypto.Digest
	d[0], d[31] = 7, 9
	if got, ok := ParseBatchKey(BatchKey(d)); !ok || got != d {
		t.Errorf("ParseBatchKey(BatchKey) = %s, %v", got.Short(), ok)
	}
	if r, a, ok := ParseCertKey(certKey(12, 3)); !ok || r != 12 || a != 3 {
		t.Errorf("ParseCertKey = %d, %d, %v", r, a, ok)
	}
	lo, hi := CertKeyRange(12)
	for _, k := range [][]byte{certKey(12, 0), certKey(13, 65535), certKey(1<<63, 1)} {
		if bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) >= 0 {
			t.Errorf("certificate key %x outside [%x, %x)", k, lo, hi)
		}
	}
	for _, k := range [][]byte{certKey(11, 65535), voteKey(1, 12), commitKey(12), headerKey(12), BatchKey(d)} {
		if bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0 {
			t.Errorf("key %x inside the certificate range from 12", k)
		}
		if _, _, ok := ParseCertKey(k); ok && k[0] != prefixCert {
			t.Errorf("ParseCertKey took %x", k)
		}
	}
	if _, ok := ParseBatchKey(certKey(1, 1)); ok {
		t.Error("ParseBatchKey took a certificate key")
	}
	if s, ok := parseVoteKey(voteKey(513, 1<<40)); !ok || s != (voteSlot{513, 1 << 40}) {
		t.Errorf("parseVoteKey = %+v, %v", s, ok)
	}
	for k := Kind(0); k < 12; k++ {
		named := !strings.HasPrefix(k.String(), "kind(")
		if k.Valid() != named {
			t.Errorf("Kind(%d).Valid() = %v, String %q", k, k.Valid(), k.String())
		}
	}
}
