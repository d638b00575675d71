package checkpoint_test

import (
	"errors"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/engine/checkpoint"
)

// threeEpochs is a chain of three epochs with changing members: epoch 0
// has four validators; in epoch 1 a fifth joins and stakes change; in
// epoch 2 one of the original four has left.
type threeEpochs struct {
	keys    [3][]*crypto.BLSPrivateKey
	coms    [3]*checkpoint.Committee
	changes []checkpoint.EpochChange
	latest  *checkpoint.Certificate
}

func newThreeEpochs(t *testing.T) *threeEpochs {
	t.Helper()
	base := blsKeys(t, "chain", 5)
	e := &threeEpochs{}
	e.keys[0] = base[:4]
	e.coms[0] = committeeOf(t, 0, e.keys[0], []uint64{10, 10, 10, 10})
	e.keys[1] = base[:5]
	e.coms[1] = committeeOf(t, 1, e.keys[1], []uint64{10, 20, 10, 5, 15})
	e.keys[2] = []*crypto.BLSPrivateKey{base[0], base[2], base[3], base[4]} // base[1] left
	e.coms[2] = committeeOf(t, 2, e.keys[2], []uint64{7, 11, 13, 17})
	for ep := range 2 {
		d := e.coms[ep+1].Digest()
		cp := testCheckpoint(uint64(ep), uint64(10*(ep+1)), &d)
		// Signers with just a quorum in each epoch.
		signers := [][]int{{0, 1, 3}, {1, 2, 4}}[ep]
		e.changes = append(e.changes, checkpoint.EpochChange{End: certify(t, cp, e.keys[ep], signers), Next: e.coms[ep+1]})
	}
	e.latest = certify(t, testCheckpoint(2, 25, nil), e.keys[2], []int{1, 2, 3})
	return e
}

func TestVerifyChainThreeEpochs(t *testing.T) {
	e := newThreeEpochs(t)
	got, err := checkpoint.VerifyChain(testChain, e.coms[0], e.changes, e.latest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch() != 2 || got.Digest() != e.coms[2].Digest() {
		t.Fatalf("ended at epoch %d", got.Epoch())
	}
	// The light client's genesis comes from bytes alone.
	g, err := checkpoint.DecodeCommittee(e.coms[0].Encode())
	must(t, err)
	if _, err := checkpoint.VerifyChain(testChain, g, e.changes, e.latest); err != nil {
		t.Fatalf("from decoded genesis: %v", err)
	}
	// Certificates that went over the wire.
	var wire []checkpoint.EpochChange
	for _, c := range e.changes {
		enc, err := c.End.Encode()
		must(t, err)
		end, err := checkpoint.DecodeCertificate(enc)
		must(t, err)
		next, err := checkpoint.DecodeCommittee(c.Next.Encode())
		must(t, err)
		wire = append(wire, checkpoint.EpochChange{End: end, Next: next})
	}
	if _, err := checkpoint.VerifyChain(testChain, g, wire, e.latest); err != nil {
		t.Fatalf("from encoded certificates: %v", err)
	}
}

func TestVerifyChainRefusals(t *testing.T) {
	e := newThreeEpochs(t)
	// A forged next committee: the keys of an attacker in place of epoch
	// 1's, with the epoch right.
	forgedKeys := blsKeys(t, "forger", 5)
	forged := committeeOf(t, 1, forgedKeys, []uint64{10, 20, 10, 5, 15})
	// The right members under the wrong epoch number.
	wrongEpoch := committeeOf(t, 2, e.keys[1], []uint64{10, 20, 10, 5, 15})
	// An epoch-end checkpoint naming the forged committee, signed by one
	// honest-looking minority of epoch 0 (short of the quorum).
	fd := forged.Digest()
	minority := certify(t, testCheckpoint(0, 10, &fd), e.keys[0], []int{0, 1})
	// A regular (not epoch-end) checkpoint used as an epoch change.
	regular := certify(t, testCheckpoint(0, 10, nil), e.keys[0], all(4))
	// Epoch 2's latest, signed by the departed validator and the forger's
	// keys in the slots of epoch 2's members.
	oldSigners := certify(t, testCheckpoint(2, 25, nil), []*crypto.BLSPrivateKey{forgedKeys[0], e.keys[1][1], forgedKeys[2], forgedKeys[3]}, all(4))
	// A latest checkpoint from before the last epoch change.
	stale := certify(t, testCheckpoint(2, 20, nil), e.keys[2], all(4))
	// The right chain's checkpoint with another chain id, signed properly.
	other := testCheckpoint(2, 25, nil)
	other.ChainID = "another-chain"
	otherChain := certify(t, other, e.keys[2], all(4))

	with := func(i int, c checkpoint.EpochChange) []checkpoint.EpochChange {
		out := append([]checkpoint.EpochChange(nil), e.changes...)
		out[i] = c
		return out
	}
	cases := []struct {
		name    string
		changes []checkpoint.EpochChange
		latest  *checkpoint.Certificate
		want    error
	}{
		{"forged next committee", with(0, checkpoint.EpochChange{End: e.changes[0].End, Next: forged}), e.latest, checkpoint.ErrWrongCommittee},
		{"next committee of the wrong epoch", with(0, checkpoint.EpochChange{End: e.changes[0].End, Next: wrongEpoch}), e.latest, checkpoint.ErrWrongCommittee},
		{"missing next committee", with(1, checkpoint.EpochChange{End: e.changes[1].End}), e.latest, checkpoint.ErrWrongCommittee},
		{"minority names a forged committee", with(0, checkpoint.EpochChange{End: minority, Next: forged}), e.latest, checkpoint.ErrInsufficientStake},
		{"not an epoch end", with(0, checkpoint.EpochChange{End: regular, Next: e.coms[1]}), e.latest, checkpoint.ErrNotEpochEnd},
		{"epoch changes out of order", []checkpoint.EpochChange{e.changes[1], e.changes[0]}, e.latest, checkpoint.ErrWrongEpoch},
		{"an epoch change skipped", e.changes[1:], e.latest, checkpoint.ErrWrongEpoch},
		{"latest signed by other keys", e.changes, oldSigners, checkpoint.ErrBadSignature},
		{"latest before the epoch change", e.changes, stale, checkpoint.ErrOutOfOrder},
		{"latest of another chain", e.changes, otherChain, checkpoint.ErrWrongChain},
		{"no latest", e.changes, nil, checkpoint.ErrMalformed},
		{"latest of an old epoch", e.changes[:1], e.latest, checkpoint.ErrWrongEpoch},
	}
	for _, tc := range cases {
		_, err := checkpoint.VerifyChain(testChain, e.coms[0], tc.changes, tc.latest)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
	if _, err := checkpoint.VerifyChain("", e.coms[0], e.changes, e.latest); !errors.Is(err, checkpoint.ErrMalformed) {
		t.Errorf("empty chain id: %v", err)
	}
	if _, err := checkpoint.VerifyChain(testChain, nil, e.changes, e.latest); !errors.Is(err, checkpoint.ErrInvalidCommittee) {
		t.Errorf("nil genesis: %v", err)
	}
}

// TestChainUnchangedByRefusal checks that a refused Advance leaves the
// chain where it was, so a client can retry with the right committee.
func TestChainUnchangedByRefusal(t *testing.T) {
	e := newThreeEpochs(t)
	ch, err := checkpoint.NewChain(testChain, e.coms[0])
	must(t, err)
	var zero digest.Digest
	bogus := committeeOf(t, 1, blsKeys(t, "bogus", 4), []uint64{1, 1, 1, 1})
	if bogus.Digest() == zero {
		t.Fatal("zero digest")
	}
	if err := ch.Advance(e.changes[0].End, bogus); !errors.Is(err, checkpoint.ErrWrongCommittee) {
		t.Fatalf("bogus committee: %v", err)
	}
	if ch.Committee() != e.coms[0] {
		t.Fatal("a refused Advance moved the chain")
	}
	must(t, ch.Advance(e.changes[0].End, e.coms[1]))
	if ch.Committee().Epoch() != 1 {
		t.Fatal("Advance did not move the chain")
	}
	// Replaying the same epoch change is refused: its number is not after
	// the last epoch end (and its epoch is no longer the chain's).
	if err := ch.Advance(e.changes[0].End, e.coms[1]); !errors.Is(err, checkpoint.ErrOutOfOrder) {
		t.Fatalf("replayed epoch change: %v", err)
	}
}
