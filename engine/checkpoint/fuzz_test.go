package checkpoint_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/engine/checkpoint"
)

// The fuzz targets run their seeds (built here with f.Add) in the suite;
// `go test -fuzz` explores further. Every decoded value re-encodes to the
// input (one value, one encoding), and every refusal is classified.

func FuzzDecodeCommittee(f *testing.F) {
	c := committeeOf(f, 4, blsKeys(f, "fuzz", 3), []uint64{1, 5, 9})
	f.Add(c.Encode())
	f.Add(c.Encode()[:20])
	f.Add([]byte{checkpoint.Version, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := checkpoint.DecodeCommittee(b)
		if err != nil {
			if !errors.Is(err, checkpoint.ErrMalformed) && !errors.Is(err, checkpoint.ErrInvalidCommittee) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !bytes.Equal(d.Encode(), b) {
			t.Fatalf("decoded committee re-encodes to %x, input %x", d.Encode(), b)
		}
	})
}

func FuzzDecodeCheckpoint(f *testing.F) {
	next := digest.Hash([]byte("next"))
	for _, cp := range []checkpoint.Checkpoint{testCheckpoint(1, 2, nil), testCheckpoint(1, 3, &next)} {
		enc, err := cp.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte{checkpoint.Version, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := checkpoint.DecodeCheckpoint(b)
		if err != nil {
			if !errors.Is(err, checkpoint.ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		enc, err := cp.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("decoded checkpoint re-encodes to %x (%v), input %x", enc, err, b)
		}
		if _, err := cp.SigningMessage(); err != nil {
			t.Fatalf("decoded checkpoint has no signing message: %v", err)
		}
	})
}

func FuzzDecodeCertificate(f *testing.F) {
	keys := blsKeys(f, "fuzz cert", 4)
	com := committeeOf(f, 1, keys, []uint64{1, 2, 3, 4})
	next := digest.Hash([]byte("next"))
	valid := map[string]bool{}
	for _, c := range []*checkpoint.Certificate{
		certify(f, testCheckpoint(1, 2, nil), keys, []int{1, 2, 3}),
		certify(f, testCheckpoint(1, 3, &next), keys, all(4)),
	} {
		enc, err := c.Encode()
		if err != nil {
			f.Fatal(err)
		}
		valid[string(enc)] = true
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := checkpoint.DecodeCertificate(b)
		if err != nil {
			if !errors.Is(err, checkpoint.ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		enc, err := c.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("decoded certificate re-encodes to %x (%v), input %x", enc, err, b)
		}
		// Only the certificates the committee made verify.
		if err := c.Verify(com); err == nil && !valid[string(b)] {
			t.Fatalf("a certificate the committee never signed verifies: %x", b)
		}
	})
}
