package checkpoint_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/engine/checkpoint"
)

// checkStrict feeds decode every proper prefix of enc, enc with a trailing
// byte, and enc with each bad version, and wants ErrMalformed for each.
func checkStrict(t *testing.T, what string, enc []byte, decode func([]byte) error) {
	t.Helper()
	for i := range len(enc) {
		if err := decode(enc[:i]); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Fatalf("%s truncated to %d of %d bytes: %v, want ErrMalformed", what, i, len(enc), err)
		}
	}
	if err := decode(append(bytes.Clone(enc), 0)); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Fatalf("%s with a trailing byte: %v, want ErrMalformed", what, err)
	}
	for _, v := range []byte{0, checkpoint.Version + 1, 0xff} {
		bad := bytes.Clone(enc)
		bad[0] = v
		if err := decode(bad); !errors.Is(err, checkpoint.ErrMalformed) || !strings.Contains(err.Error(), "version") {
			t.Fatalf("%s with version %d: %v, want ErrMalformed naming the version", what, v, err)
		}
	}
}

func TestCommitteeRoundTrip(t *testing.T) {
	keys := blsKeys(t, "roundtrip", 5)
	c := committeeOf(t, 3, keys, []uint64{5, 1, 9, 2, 2})
	enc := c.Encode()
	if want := 1 + 8 + 2 + 5*(96+8); len(enc) != want {
		t.Fatalf("committee of 5 encodes to %d bytes, want %d", len(enc), want)
	}
	d, err := checkpoint.DecodeCommittee(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d.Epoch() != 3 || d.Size() != 5 || d.TotalStake() != 19 || d.Digest() != c.Digest() ||
		!reflect.DeepEqual(d.Members(), c.Members()) || !bytes.Equal(d.Encode(), enc) {
		t.Fatal("decoded committee differs")
	}
	if q := c.QuorumStake(); q != 13 { // floor(2*19/3)+1
		t.Fatalf("quorum of 19 is %d, want 13", q)
	}
	// Encode returns a copy.
	enc[0] ^= 0xff
	if c.Encode()[0] != checkpoint.Version {
		t.Fatal("Encode aliases the committee's bytes")
	}
	// The digest covers the epoch, each stake, each key and the order.
	m := c.Members()
	variants := map[string]*checkpoint.Committee{}
	var err2 error
	variants["epoch"], err2 = checkpoint.NewCommittee(4, m)
	must(t, err2)
	m2 := c.Members()
	m2[1].Stake++
	variants["stake"], err2 = checkpoint.NewCommittee(3, m2)
	must(t, err2)
	m3 := c.Members()
	m3[0], m3[1] = m3[1], m3[0]
	variants["order"], err2 = checkpoint.NewCommittee(3, m3)
	must(t, err2)
	m4 := c.Members()[:4]
	variants["member left"], err2 = checkpoint.NewCommittee(3, m4)
	must(t, err2)
	for name, v := range variants {
		if v.Digest() == c.Digest() {
			t.Errorf("committee with another %s has the same digest", name)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCommitteeRefusals(t *testing.T) {
	keys := blsKeys(t, "refusals", 2)
	var m [2]checkpoint.Member
	for i := range m {
		copy(m[i].PublicKey[:], keys[i].PublicKey().Bytes())
		m[i].Stake = 1
	}
	badKey := m[0]
	badKey.PublicKey[0] &^= 0x80 // not compressed
	infinity := m[0]
	infinity.PublicKey = [96]byte{0xc0}
	big := m[1]
	big.Stake = checkpoint.MaxTotalStake
	zero := m[1]
	zero.Stake = 0
	many := make([]checkpoint.Member, checkpoint.MaxMembers+1)
	cases := []struct {
		name    string
		members []checkpoint.Member
		want    error
	}{
		{"no members", nil, checkpoint.ErrInvalidCommittee},
		{"too many", many, checkpoint.ErrInvalidCommittee},
		{"zero stake", []checkpoint.Member{m[0], zero}, checkpoint.ErrInvalidCommittee},
		{"stake overflow", []checkpoint.Member{m[0], big}, checkpoint.ErrInvalidCommittee},
		{"duplicate key", []checkpoint.Member{m[0], m[1], m[0]}, checkpoint.ErrInvalidCommittee},
		{"uncompressed key", []checkpoint.Member{badKey, m[1]}, checkpoint.ErrMalformed},
		{"key at infinity", []checkpoint.Member{infinity, m[1]}, checkpoint.ErrMalformed},
	}
	for _, c := range cases {
		if _, err := checkpoint.NewCommittee(0, c.members); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDecodeCommitteeStrict(t *testing.T) {
	c := committeeOf(t, 1, blsKeys(t, "strict", 3), []uint64{1, 2, 3})
	enc := c.Encode()
	checkStrict(t, "committee", enc, func(b []byte) error { _, err := checkpoint.DecodeCommittee(b); return err })
	// A member count above the bound is refused before anything is read.
	huge := bytes.Clone(enc[:11])
	binary.BigEndian.PutUint16(huge[9:], checkpoint.MaxMembers+1)
	if _, err := checkpoint.DecodeCommittee(huge); !errors.Is(err, checkpoint.ErrMalformed) || !strings.Contains(err.Error(), "exceed") {
		t.Fatalf("count above MaxMembers: %v", err)
	}
	// A count that disagrees with the length.
	short := bytes.Clone(enc)
	binary.BigEndian.PutUint16(short[9:], 2)
	if _, err := checkpoint.DecodeCommittee(short); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Fatalf("count 2 with 3 members: %v", err)
	}
	// Zero stake inside a well-formed encoding is the committee's refusal.
	zero := bytes.Clone(enc)
	clear(zero[len(zero)-8:])
	if _, err := checkpoint.DecodeCommittee(zero); !errors.Is(err, checkpoint.ErrInvalidCommittee) {
		t.Fatalf("zero stake: %v", err)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	next := digest.Hash([]byte("next committee"))
	for _, cp := range []checkpoint.Checkpoint{testCheckpoint(2, 17, nil), testCheckpoint(2, 18, &next)} {
		enc, err := cp.Encode()
		must(t, err)
		d, err := checkpoint.DecodeCheckpoint(enc)
		must(t, err)
		if !reflect.DeepEqual(*d, cp) {
			t.Fatalf("round trip: %+v, want %+v", *d, cp)
		}
		if d.EpochEnd() != (cp.NextCommittee != nil) {
			t.Fatal("EpochEnd")
		}
		checkStrict(t, "checkpoint", enc, func(b []byte) error { _, err := checkpoint.DecodeCheckpoint(b); return err })
		// The flag byte is the last before the optional digest.
		flagAt := 3 + len(cp.ChainID) + 8*3 + 32*3 + 8
		for _, f := range []byte{2, 0xff} {
			bad := bytes.Clone(enc)
			bad[flagAt] = f
			if _, err := checkpoint.DecodeCheckpoint(bad); !errors.Is(err, checkpoint.ErrMalformed) {
				t.Fatalf("flag %d: %v", f, err)
			}
		}
	}
	// Chain ids: empty and oversized are refused both ways.
	for _, id := range []string{"", strings.Repeat("x", checkpoint.MaxChainIDSize+1)} {
		cp := testCheckpoint(0, 1, nil)
		cp.ChainID = id
		if _, err := cp.Encode(); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Fatalf("encode with a chain id of %d bytes: %v", len(id), err)
		}
		if _, err := cp.SigningMessage(); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Fatalf("signing message with a chain id of %d bytes: %v", len(id), err)
		}
		b := []byte{checkpoint.Version, 0, 0}
		binary.BigEndian.PutUint16(b[1:], uint16(len(id)))
		b = append(b, id...)
		b = append(b, make([]byte, 200)...)
		if _, err := checkpoint.DecodeCheckpoint(b); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Fatalf("decode with a chain id of %d bytes: %v", len(id), err)
		}
	}
	var nilCp *checkpoint.Checkpoint
	if _, err := nilCp.Encode(); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Fatalf("nil checkpoint: %v", err)
	}
}

// TestSigningMessage checks that the message binds every field, the chain
// id and the epoch, and starts with its own domain tag.
func TestSigningMessage(t *testing.T) {
	next := digest.Hash([]byte("next"))
	base := testCheckpoint(1, 5, nil)
	msg, err := base.SigningMessage()
	must(t, err)
	if !bytes.HasPrefix(msg, []byte("dagd/checkpoint/sig/v1")) || !bytes.Contains(msg, []byte(testChain)) {
		t.Fatalf("signing message %q lacks its domain tag or chain id", msg)
	}
	muts := map[string]func(*checkpoint.Checkpoint){
		"chain id":       func(c *checkpoint.Checkpoint) { c.ChainID = "ckpt-test-2" },
		"epoch":          func(c *checkpoint.Checkpoint) { c.Epoch++ },
		"number":         func(c *checkpoint.Checkpoint) { c.Number++ },
		"last seq":       func(c *checkpoint.Checkpoint) { c.LastCommitSeq++ },
		"commit digest":  func(c *checkpoint.Checkpoint) { c.CommitDigest[0] ^= 1 },
		"state root":     func(c *checkpoint.Checkpoint) { c.StateRoot[31] ^= 1 },
		"receipts root":  func(c *checkpoint.Checkpoint) { c.ReceiptsRoot[5] ^= 1 },
		"timestamp":      func(c *checkpoint.Checkpoint) { c.Timestamp++ },
		"next committee": func(c *checkpoint.Checkpoint) { c.NextCommittee = &next },
	}
	for name, mut := range muts {
		cp := base
		mut(&cp)
		m, err := cp.SigningMessage()
		must(t, err)
		if bytes.Equal(m, msg) {
			t.Errorf("changing the %s leaves the signing message unchanged", name)
		}
	}
}

func TestCertificateRoundTrip(t *testing.T) {
	keys := blsKeys(t, "cert", 10)
	next := digest.Hash([]byte("next"))
	for _, cp := range []checkpoint.Checkpoint{testCheckpoint(0, 3, nil), testCheckpoint(0, 4, &next)} {
		c := certify(t, cp, keys, []int{0, 2, 3, 5, 7, 8, 9})
		enc, err := c.Encode()
		must(t, err)
		d, err := checkpoint.DecodeCertificate(enc)
		must(t, err)
		if !reflect.DeepEqual(d, c) {
			t.Fatalf("round trip: %+v, want %+v", d, c)
		}
		checkStrict(t, "certificate", enc, func(b []byte) error { _, err := checkpoint.DecodeCertificate(b); return err })
		// The checkpoint's own version byte is checked too.
		bad := bytes.Clone(enc)
		bad[1] = 9
		if _, err := checkpoint.DecodeCertificate(bad); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Fatalf("inner version 9: %v", err)
		}
	}
	// A bitmap longer than MaxMembers needs is refused both ways.
	c := certify(t, testCheckpoint(0, 3, nil), keys, all(10))
	c.Signers = make([]byte, checkpoint.MaxMembers/8+1)
	if _, err := c.Encode(); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Fatalf("encode with an oversized bitmap: %v", err)
	}
	c.Signers = make([]byte, 2)
	enc, err := c.Encode()
	must(t, err)
	at := len(enc) - 48 - 2 - 2
	binary.BigEndian.PutUint16(enc[at:], checkpoint.MaxMembers/8+1)
	if _, err := checkpoint.DecodeCertificate(enc); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Fatalf("decode with an oversized bitmap: %v", err)
	}
}
