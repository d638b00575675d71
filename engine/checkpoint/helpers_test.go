package checkpoint_test

import (
	"encoding/binary"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/crypto/bitmap"
	"github.com/dagd/dagd/crypto/blsverify"
	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/engine/checkpoint"
)

// The tests sign with package crypto (blst, cgo): an external test package
// may import it, while the package itself stays cgo-free (the lint's
// TestLightClientPackagesNeedNoCgo lists its dependencies, not its tests').

const testChain = "ckpt-test-1"

// blsKeys derives n deterministic BLS keys named by label.
func blsKeys(tb testing.TB, label string, n int) []*crypto.BLSPrivateKey {
	tb.Helper()
	out := make([]*crypto.BLSPrivateKey, n)
	for i := range out {
		var idx [8]byte
		binary.BigEndian.PutUint64(idx[:], uint64(i))
		seed := digest.Hash([]byte("checkpoint test key/"), []byte(label), idx[:])
		k, err := crypto.BLSKeyFromSeed(seed[:])
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = k
	}
	return out
}

// committeeOf builds the committee of an epoch from keys and stakes, as a
// light client does from a committee file: each proof of possession is
// checked with the cgo-free verifier first.
func committeeOf(tb testing.TB, epoch uint64, keys []*crypto.BLSPrivateKey, stakes []uint64) *checkpoint.Committee {
	tb.Helper()
	members := make([]checkpoint.Member, len(keys))
	for i, k := range keys {
		pk, err := blsverify.ParsePublicKey(k.PublicKey().Bytes())
		if err != nil {
			tb.Fatal(err)
		}
		pop, err := blsverify.ParseSignature(k.ProofOfPossession())
		if err != nil {
			tb.Fatal(err)
		}
		if err := blsverify.VerifyProofOfPossession(pk, pop); err != nil {
			tb.Fatalf("member %d: %v", i, err)
		}
		copy(members[i].PublicKey[:], k.PublicKey().Bytes())
		members[i].Stake = stakes[i]
	}
	c, err := checkpoint.NewCommittee(epoch, members)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// testCheckpoint returns a checkpoint of epoch and number with distinct
// field values.
func testCheckpoint(epoch, number uint64, next *digest.Digest) checkpoint.Checkpoint {
	return checkpoint.Checkpoint{
		ChainID:       testChain,
		Epoch:         epoch,
		Number:        number,
		LastCommitSeq: 1000*number + 7,
		CommitDigest:  digest.Hash([]byte("commit"), []byte{byte(number)}),
		StateRoot:     digest.Hash([]byte("state"), []byte{byte(number)}),
		ReceiptsRoot:  digest.Hash([]byte("receipts"), []byte{byte(number)}),
		Timestamp:     1_765_000_000_000 + number,
		NextCommittee: next,
	}
}

// certify has the members at signers of a committee of n sign cp and
// returns the certificate with their aggregate.
func certify(tb testing.TB, cp checkpoint.Checkpoint, keys []*crypto.BLSPrivateKey, signers []int) *checkpoint.Certificate {
	tb.Helper()
	return certifyAs(tb, cp, keys, signers, signers)
}

// certifyAs marks marked in the bitmap but aggregates the signatures of
// signed: the two differ only in tests of forgeries.
func certifyAs(tb testing.TB, cp checkpoint.Checkpoint, keys []*crypto.BLSPrivateKey, marked, signed []int) *checkpoint.Certificate {
	tb.Helper()
	msg, err := cp.SigningMessage()
	if err != nil {
		tb.Fatal(err)
	}
	sigs := make([][]byte, len(signed))
	for k, i := range signed {
		sigs[k] = keys[i].Sign(msg)
	}
	agg, err := crypto.AggregateBLSSignatures(sigs)
	if err != nil {
		tb.Fatal(err)
	}
	bm := bitmap.New(len(keys))
	for _, i := range marked {
		bm.Set(i)
	}
	c := &checkpoint.Certificate{Checkpoint: cp, Signers: bm}
	copy(c.Signature[:], agg)
	return c
}

// all returns 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
