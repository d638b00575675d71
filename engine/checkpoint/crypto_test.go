package checkpoint_test

import (
	mrand "math/rand/v2"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/crypto/bitmap"
)

// TestAgreesWithCryptoCommittee holds a Committee to the node's
// crypto.BLSCommittee (blst) on the same keys and stakes: the same quorum
// for any stakes, and the same verdict on a certificate's aggregate.
func TestAgreesWithCryptoCommittee(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(14, 4))
	keys := blsKeys(t, "agree", 7)
	for trial := range 50 {
		stakes := make([]uint64, len(keys))
		for i := range stakes {
			stakes[i] = 1 + rng.Uint64N(1<<uint(1+trial%40))
		}
		ours := committeeOf(t, 0, keys, stakes)
		pubs := make([]*crypto.BLSPublicKey, len(keys))
		pops := make([][]byte, len(keys))
		for i, k := range keys {
			pubs[i] = k.PublicKey()
			pops[i] = k.ProofOfPossession()
		}
		theirs, err := crypto.NewBLSCommittee(pubs, pops, stakes)
		must(t, err)
		if ours.QuorumStake() != theirs.QuorumStake() || ours.TotalStake() != theirs.TotalStake() {
			t.Fatalf("stakes %v: quorum %d of %d, crypto says %d of %d",
				stakes, ours.QuorumStake(), ours.TotalStake(), theirs.QuorumStake(), theirs.TotalStake())
		}
		if trial%10 != 0 {
			continue
		}
		// A random signer set: both verify the aggregate the same way, and
		// the checkpoint's quorum decision matches crypto's stake.
		var signers []int
		for i := range keys {
			if rng.IntN(3) != 0 {
				signers = append(signers, i)
			}
		}
		if len(signers) == 0 {
			signers = []int{0}
		}
		cp := testCheckpoint(0, uint64(trial), nil)
		c := certify(t, cp, keys, signers)
		msg, err := cp.SigningMessage()
		must(t, err)
		stake, err := theirs.VerifyAggregate(msg, crypto.Bitmap(c.Signers), c.Signature[:])
		must(t, err)
		err = c.Verify(ours)
		if (stake >= theirs.QuorumStake()) != (err == nil) {
			t.Fatalf("signers %v hold %d of quorum %d; Verify says %v", signers, stake, theirs.QuorumStake(), err)
		}
	}
	// The moved bitmap is the one crypto uses: the same type.
	var _ crypto.Bitmap = bitmap.New(3)
}
