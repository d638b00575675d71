package checkpoint_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto/blsverify"
	"github.com/dagd/dagd/engine/checkpoint"
)

// TestVerifyQuorum signs with real blst keys, committees of 4 and 10 with
// unequal stakes, and checks the quorum exactly at the threshold and one
// below it.
func TestVerifyQuorum(t *testing.T) {
	cases := []struct {
		name        string
		stakes      []uint64
		quorum      uint64
		atQuorum    []int // signers holding exactly the quorum
		belowQuorum []int // signers holding the quorum minus one
	}{
		// total 10, quorum floor(20/3)+1 = 7
		{"4 members", []uint64{1, 2, 3, 4}, 7, []int{2, 3}, []int{1, 3}},
		// total 55, quorum floor(110/3)+1 = 37
		{"10 members", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 37, []int{2, 6, 7, 8, 9}, []int{1, 6, 7, 8, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := blsKeys(t, tc.name, len(tc.stakes))
			com := committeeOf(t, 7, keys, tc.stakes)
			if q := com.QuorumStake(); q != tc.quorum {
				t.Fatalf("quorum %d, want %d", q, tc.quorum)
			}
			cp := testCheckpoint(7, 42, nil)
			if err := certify(t, cp, keys, all(len(keys))).Verify(com); err != nil {
				t.Fatalf("everyone signed: %v", err)
			}
			if err := certify(t, cp, keys, tc.atQuorum).Verify(com); err != nil {
				t.Fatalf("signers at the quorum exactly: %v", err)
			}
			err := certify(t, cp, keys, tc.belowQuorum).Verify(com)
			if !errors.Is(err, checkpoint.ErrInsufficientStake) {
				t.Fatalf("signers below the quorum: %v, want ErrInsufficientStake", err)
			}
			if !strings.Contains(err.Error(), "quorum needs") {
				t.Fatalf("the refusal does not give the figures: %v", err)
			}
			t.Log(err)
		})
	}
}

func TestVerifyTwoThirdsExactlyIsShort(t *testing.T) {
	keys := blsKeys(t, "two thirds", 3)
	com := committeeOf(t, 0, keys, []uint64{2, 2, 2}) // total 6, two thirds 4, quorum 5
	err := certify(t, testCheckpoint(0, 1, nil), keys, []int{0, 1}).Verify(com)
	if !errors.Is(err, checkpoint.ErrInsufficientStake) || !strings.Contains(err.Error(), "stake 4 of 6, quorum needs 5") {
		t.Fatalf("two thirds exactly: %v", err)
	}
}

// TestVerifyRefusals covers every refusal of Certificate.Verify.
func TestVerifyRefusals(t *testing.T) {
	keys := blsKeys(t, "refuse", 4)
	stakes := []uint64{1, 1, 1, 1}
	com := committeeOf(t, 5, keys, stakes)
	nextCom := committeeOf(t, 6, keys, stakes) // same members, next epoch
	cp := testCheckpoint(5, 9, nil)
	good := certify(t, cp, keys, []int{0, 1, 2})
	must(t, good.Verify(com))

	outsider := blsKeys(t, "outsider", 1)[0]
	withOutsider := append(append(keys[:0:0], keys...), outsider)

	cases := []struct {
		name string
		cert func() *checkpoint.Certificate
		com  *checkpoint.Committee
		want error
	}{
		{"nil certificate", func() *checkpoint.Certificate { return nil }, com, checkpoint.ErrMalformed},
		{"nil committee", func() *checkpoint.Certificate { return good }, nil, checkpoint.ErrMalformed},
		{"epoch e against e+1", func() *checkpoint.Certificate { return good }, nextCom, checkpoint.ErrWrongEpoch},
		{"relabelled to epoch e+1", func() *checkpoint.Certificate {
			c := *good
			c.Checkpoint.Epoch = 6
			return &c
		}, nextCom, checkpoint.ErrBadSignature},
		{"wrong chain id", func() *checkpoint.Certificate {
			c := *good
			c.Checkpoint.ChainID = "ckpt-test-2"
			return &c
		}, com, checkpoint.ErrBadSignature},
		{"tampered state root", func() *checkpoint.Certificate {
			c := *good
			c.Checkpoint.StateRoot[0] ^= 1
			return &c
		}, com, checkpoint.ErrBadSignature},
		{"empty chain id", func() *checkpoint.Certificate {
			c := *good
			c.Checkpoint.ChainID = ""
			return &c
		}, com, checkpoint.ErrMalformed},
		{"bitmap too long", func() *checkpoint.Certificate {
			c := *good
			c.Signers = append(bytes.Clone(c.Signers), 0)
			return &c
		}, com, checkpoint.ErrBadBitmap},
		{"bitmap empty", func() *checkpoint.Certificate {
			c := *good
			c.Signers = nil
			return &c
		}, com, checkpoint.ErrBadBitmap},
		{"bit at the committee size", func() *checkpoint.Certificate {
			c := *good
			c.Signers = []byte{0x17}
			return &c
		}, com, checkpoint.ErrBadBitmap},
		{"no signers", func() *checkpoint.Certificate {
			c := *good
			c.Signers = []byte{0}
			return &c
		}, com, checkpoint.ErrInsufficientStake},
		// A signer outside the bitmap: four signed, three are marked.
		{"signer outside the bitmap", func() *checkpoint.Certificate {
			return certifyAs(t, cp, keys, []int{0, 1, 2}, []int{0, 1, 2, 3})
		}, com, checkpoint.ErrBadSignature},
		// A marked member who did not sign.
		{"marked member did not sign", func() *checkpoint.Certificate {
			return certifyAs(t, cp, keys, []int{0, 1, 2, 3}, []int{0, 1, 2})
		}, com, checkpoint.ErrBadSignature},
		// A key outside the committee signs in place of a member.
		{"outsider signs for a member", func() *checkpoint.Certificate {
			c := certifyAs(t, cp, withOutsider, []int{0, 1, 2}, []int{0, 1, 4})
			c.Signers = c.Signers[:1]
			return c
		}, com, checkpoint.ErrBadSignature},
		{"signature not a point", func() *checkpoint.Certificate {
			c := *good
			c.Signature = [48]byte{0x80, 1}
			return &c
		}, com, checkpoint.ErrMalformed},
		{"signature at infinity", func() *checkpoint.Certificate {
			c := *good
			c.Signature = [48]byte{0xc0}
			return &c
		}, com, checkpoint.ErrMalformed},
	}
	for _, tc := range cases {
		err := tc.cert().Verify(tc.com)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// The underlying blsverify causes stay visible.
	c := *good
	c.Checkpoint.Number++
	if err := c.Verify(com); !errors.Is(err, blsverify.ErrBadSignature) {
		t.Fatalf("blsverify's cause is not wrapped: %v", err)
	}
}
