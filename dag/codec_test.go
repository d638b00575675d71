package dag

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dagd/dagd/crypto"
)

func sampleMessages() []Message {
	c, _ := EqualStakeCommittee(7, 4)
	g := GenesisCertificates(c)
	parents := []crypto.Digest{g[3].Digest(), g[0].Digest(), g[1].Digest()}
	h := NewHeader(7, 1, 2, 1234, []BatchRef{{Digest: crypto.Hash([]byte("b1")), Worker: 0}, {Digest: crypto.Hash([]byte("b2")), Worker: 3}}, parents)
	h.Signature = bytes.Repeat([]byte{0xaa}, 48)
	cert := &Certificate{Header: h, Signers: []ValidatorID{0, 2, 3}, CommitteeSize: 4, Signature: bytes.Repeat([]byte{0xbb}, 48)}
	return []Message{
		h,
		&Vote{Epoch: 7, Round: 1, Origin: 2, Header: h.Digest(), Voter: 1, Signature: []byte{1, 2, 3}},
		cert,
		&CertRequest{Digests: parents},
		&CertResponse{Certificates: []*Certificate{cert, cert}},
		&SyncRequest{FromRound: 9, Limit: 100},
		&Batch{Epoch: 7, Author: 1, Worker: 0, Transactions: [][]byte{[]byte("tx1"), bytes.Repeat([]byte{7}, 300)}},
		&BatchAck{Digest: crypto.Hash([]byte("x"))},
		&BatchRequest{Digests: []crypto.Digest{crypto.Hash([]byte("y"))}},
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		enc := EncodeMessage(m)
		got, err := DecodeMessage(enc)
		if err != nil {
			t.Fatalf("%s: decode: %v", m.Kind(), err)
		}
		if got.Kind() != m.Kind() {
			t.Fatalf("kind %s decoded as %s", m.Kind(), got.Kind())
		}
		if again := EncodeMessage(got); !bytes.Equal(again, enc) {
			t.Fatalf("%s: re-encoding differs: not canonical", m.Kind())
		}
		// Trailing bytes are refused.
		if _, err := DecodeMessage(append(bytes.Clone(enc), 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: trailing byte accepted: %v", m.Kind(), err)
		}
		// Every strict prefix is refused.
		for i := 0; i < len(enc); i++ {
			if _, err := DecodeMessage(enc[:i]); err == nil {
				t.Fatalf("%s: truncated to %d of %d bytes accepted", m.Kind(), i, len(enc))
			}
		}
	}
}

func TestHeaderDigestCoversFieldsButNotSignature(t *testing.T) {
	h := sampleMessages()[0].(*Header)
	d := h.Digest()
	dec, err := DecodeHeader(h.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Digest() != d {
		t.Fatal("decoded header has another digest")
	}
	h2 := NewHeader(h.Epoch, h.Round, h.Author, h.Timestamp+1, h.Payload, h.Parents)
	if h2.Digest() == d {
		t.Fatal("timestamp not covered by the digest")
	}
	h3 := NewHeader(h.Epoch, h.Round, h.Author, h.Timestamp, h.Payload, h.Parents)
	h3.Signature = []byte{9}
	if h3.Digest() != d {
		t.Fatal("signature changes the digest")
	}
}

func TestStrictDecoding(t *testing.T) {
	msgs := sampleMessages()
	hdr := EncodeMessage(msgs[0])
	cases := map[string][]byte{
		"unknown kind":    {99},
		"empty":           {},
		"unknown version": append([]byte{byte(KindHeader), 2}, hdr[2:]...),
	}
	// Parents out of order: swap the first two parent digests.
	h := msgs[0].(*Header)
	bad := EncodeMessage(h)
	off := 1 + 1 + 8 + 8 + 2 + 8 + 4 + 34*len(h.Payload) + 4
	tmp := make([]byte, 32)
	copy(tmp, bad[off:off+32])
	copy(bad[off:off+32], bad[off+32:off+64])
	copy(bad[off+32:off+64], tmp)
	cases["parents out of order"] = bad
	// A count larger than the bytes left.
	huge := EncodeMessage(&CertRequest{})
	huge[1], huge[2], huge[3], huge[4] = 0, 0, 0x0f, 0xff
	cases["oversize count"] = huge
	// A signer bit beyond the committee size.
	cert := msgs[2].(*Certificate)
	cb := EncodeMessage(cert)
	hl := len(EncodeMessage(cert.Header))
	cb[hl+1] = 0x00
	cb[hl+2] = 0x03 // committee size 3, bitmap still sets bit 3
	cases["signer beyond committee"] = cb
	for name, p := range cases {
		if _, err := DecodeMessage(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestCommitRecordRoundTrip(t *testing.T) {
	r := &CommitRecord{Seq: 5, LeaderRound: 10, Leader: crypto.Hash([]byte("l")), Timestamp: 99, Digest: crypto.Hash([]byte("d")),
		Certificates: []crypto.Digest{crypto.Hash([]byte("a")), crypto.Hash([]byte("b"))}}
	got, err := DecodeCommitRecord(r.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 5 || got.LeaderRound != 10 || got.Leader != r.Leader || got.Timestamp != 99 || got.Digest != r.Digest || len(got.Certificates) != 2 || got.Certificates[1] != r.Certificates[1] {
		t.Fatalf("round trip changed the record: %+v", got)
	}
	if _, err := DecodeCommitRecord(append(r.encode(), 1)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(EncodeMessage(m))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := DecodeMessage(p)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		// Whatever decodes re-encodes to the same bytes: one value, one encoding.
		if enc := EncodeMessage(m); !bytes.Equal(enc, p) {
			t.Fatalf("decoded %s re-encodes differently", m.Kind())
		}
	})
}

func FuzzDecodeCommitRecord(f *testing.F) {
	r := &CommitRecord{Seq: 1, LeaderRound: 2, Certificates: []crypto.Digest{{1}}}
	f.Add(r.encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		rec, err := DecodeCommitRecord(p)
		if err == nil && !bytes.Equal(rec.encode(), p) {
			t.Fatal("commit record re-encodes differently")
		}
	})
}

func FuzzDecodeEvidence(f *testing.F) {
	h := sampleMessages()[0].(*Header)
	h2 := NewHeader(h.Epoch, h.Round, h.Author, h.Timestamp+5, nil, h.Parents)
	f.Add((&Evidence{First: h, Second: h2}).Encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := DecodeEvidence(p)
		if err == nil && !bytes.Equal(ev.Encode(), p) {
			t.Fatal("evidence re-encodes differently")
		}
	})
}
