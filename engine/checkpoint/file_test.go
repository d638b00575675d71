package checkpoint_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/crypto/blsverify"
	"github.com/dagd/dagd/engine/checkpoint"
	"github.com/dagd/dagd/engine/committeefile"
)

// committeeFile returns the bytes of a committee file of chain and epoch
// listing keys with stake 1 each, as `dagd committee` writes it.
func committeeFile(tb testing.TB, chain string, epoch uint64, keys []*crypto.BLSPrivateKey) []byte {
	tb.Helper()
	ms := make([]committeefile.Member, len(keys))
	for i, k := range keys {
		net := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
		ms[i] = committeefile.Member{Name: "val-" + strconv.Itoa(i), BLSPublicKey: k.PublicKey().Bytes(),
			ProofOfPossession: k.ProofOfPossession(), NetworkKey: committeefile.HexBytes(net),
			Address: "10.0.0." + strconv.Itoa(i+1) + ":7000", Stake: 1}
	}
	f, err := committeefile.Assemble(chain, epoch, ms)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := f.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestVerifyFromCommitteeFile: a light client that has nothing but the
// genesis committee file's bytes (4 generated keys) verifies a checkpoint
// certified by 3 of them, and refuses one certified by 2.
func TestVerifyFromCommitteeFile(t *testing.T) {
	keys := blsKeys(t, "file", 4)
	data := committeeFile(t, testChain, 0, keys)

	chainID, genesis, err := checkpoint.ReadCommitteeFile(data)
	if err != nil {
		t.Fatalf("ReadCommitteeFile: %v", err)
	}
	if chainID != testChain || genesis.Epoch() != 0 || genesis.Size() != 4 || genesis.TotalStake() != 4 || genesis.QuorumStake() != 3 {
		t.Fatalf("committee of chain %q: epoch %d, %d members, stake %d, quorum %d",
			chainID, genesis.Epoch(), genesis.Size(), genesis.TotalStake(), genesis.QuorumStake())
	}
	// The same committee as one built member by member.
	if want := committeeOf(t, 0, keys, []uint64{1, 1, 1, 1}); genesis.Digest() != want.Digest() {
		t.Fatalf("digest %x, want %x", genesis.Digest(), want.Digest())
	}
	chain, err := checkpoint.NewChain(chainID, genesis)
	if err != nil {
		t.Fatal(err)
	}
	cert := certify(t, testCheckpoint(0, 1, nil), keys, []int{0, 2, 3})
	// Through the wire form, as a light client receives it.
	enc, err := cert.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := checkpoint.DecodeCertificate(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Verify(got); err != nil {
		t.Fatalf("3 of 4 signers: %v", err)
	}
	if err := chain.Verify(certify(t, testCheckpoint(0, 2, nil), keys, []int{1, 3})); !errors.Is(err, checkpoint.ErrInsufficientStake) {
		t.Fatalf("2 of 4 signers: %v", err)
	}
	other := blsKeys(t, "not-in-file", 4)
	if err := chain.Verify(certify(t, testCheckpoint(0, 3, nil), other, []int{0, 1, 2})); !errors.Is(err, checkpoint.ErrBadSignature) {
		t.Fatalf("signed by keys not in the file: %v", err)
	}
}

// TestReadCommitteeFileRefusals: bytes that are not a committee file are
// malformed; a file with a bad proof of possession is an invalid
// committee whose error names the validator.
func TestReadCommitteeFileRefusals(t *testing.T) {
	keys := blsKeys(t, "file-refuse", 4)
	data := committeeFile(t, testChain, 0, keys)

	for name, b := range map[string][]byte{
		"unknown field": bytes.Replace(data, []byte(`"epoch"`), []byte(`"era": 1, "epoch"`), 1),
		"trailing data": append(bytes.Clone(data), '1'),
		"truncated":     data[:len(data)-3],
		"empty":         nil,
	} {
		if _, _, err := checkpoint.ReadCommitteeFile(b); !errors.Is(err, checkpoint.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}

	f, err := committeefile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	f.Validators[2].ProofOfPossession = f.Validators[1].ProofOfPossession
	bad, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = checkpoint.ReadCommitteeFile(bad)
	if !errors.Is(err, checkpoint.ErrInvalidCommittee) || !errors.Is(err, blsverify.ErrBadProofOfPossession) ||
		!strings.Contains(err.Error(), `validator 2 ("val-2"): proof of possession does not verify`) {
		t.Errorf("bad proof of possession: %v", err)
	}
	if _, err := checkpoint.CommitteeFromFile(f); !errors.Is(err, checkpoint.ErrInvalidCommittee) {
		t.Errorf("CommitteeFromFile of a bad file: %v", err)
	}
	if _, err := checkpoint.CommitteeFromFile(nil); !errors.Is(err, checkpoint.ErrInvalidCommittee) {
		t.Errorf("CommitteeFromFile(nil): %v", err)
	}
}

// TestFileBoundsMatch: the committee file's bounds are the checkpoint
// committee's, so every valid file builds a committee.
func TestFileBoundsMatch(t *testing.T) {
	if committeefile.MaxValidators != checkpoint.MaxMembers || committeefile.MaxTotalStake != checkpoint.MaxTotalStake ||
		committeefile.MaxChainIDSize > checkpoint.MaxChainIDSize {
		t.Errorf("committeefile bounds (%d validators, stake %d, chain id %d) differ from checkpoint's (%d, %d, %d)",
			committeefile.MaxValidators, uint64(committeefile.MaxTotalStake), committeefile.MaxChainIDSize,
			checkpoint.MaxMembers, uint64(checkpoint.MaxTotalStake), checkpoint.MaxChainIDSize)
	}
}
