package crypto

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"
	"math/bits"
	"strings"

	"github.com/dagd/dagd/crypto/bitmap"
	blst "github.com/supranational/blst/bindings/go"
)

// BLSCommittee is the validator set of an epoch: BLS public keys whose proofs
// of possession have been checked, with their stakes. Validator i is the i-th
// key given to NewBLSCommittee, and bit i of a signer Bitmap. A committee is
// immutable and safe for concurrent use.
type BLSCommittee struct {
	keys   []*BLSPublicKey
	stakes []uint64
	total  uint64
	index  map[[BLSPublicKeySize]byte]int
	// all is the sum of every key. When more than half of the committee
	// signs, the aggregate key is all minus the non-signers, which halves
	// the G2 additions on the common quorum path.
	all blst.P2
}

// AggregateCheck is one aggregate signature to verify in a batch: Signature
// over Msg by the validators marked in Signers.
type AggregateCheck struct {
	// Msg is the signed message.
	Msg []byte
	// Signers marks the validators whose signatures were aggregated.
	Signers Bitmap
	// Signature is the 48-byte compressed aggregate signature.
	Signature []byte
}

// NewBLSCommittee builds a committee from parallel slices of keys, proofs of
// possession and stakes. It rejects an empty committee, slices of different
// lengths, nil or infinite keys, duplicate keys, zero stakes, a total stake
// above the uint64 range, and any proof of possession that does not verify
// (the proofs are batch-verified with random scalars, then re-checked one by
// one only if the batch fails, to name the culprit).
func NewBLSCommittee(keys []*BLSPublicKey, pops [][]byte, stakes []uint64) (*BLSCommittee, error) {
	n := len(keys)
	if n == 0 {
		return nil, fmt.Errorf("crypto: new committee: no validators: %w", ErrMalformed)
	}
	if len(pops) != n || len(stakes) != n {
		return nil, fmt.Errorf("crypto: new committee: %d keys, %d proofs of possession and %d stakes: %w", n, len(pops), len(stakes), ErrMalformed)
	}
	c := &BLSCommittee{
		keys:   make([]*BLSPublicKey, n),
		stakes: make([]uint64, n),
		index:  make(map[[BLSPublicKeySize]byte]int, n),
	}
	items := make([]pairingItem, n)
	for i, k := range keys {
		if k == nil || k.p.Equals(new(blst.P2Affine)) {
			return nil, fmt.Errorf("crypto: new committee: validator %d: nil or infinite public key: %w", i, ErrInvalidKey)
		}
		if j, dup := c.index[k.b]; dup {
			return nil, fmt.Errorf("crypto: new committee: validators %d and %d share key %x: %w", j, i, k.b[:8], ErrDuplicateKey)
		}
		if stakes[i] == 0 {
			return nil, fmt.Errorf("crypto: new committee: validator %d: %w", i, ErrZeroStake)
		}
		var carry uint64
		c.total, carry = bits.Add64(c.total, stakes[i], 0)
		if carry != 0 {
			return nil, fmt.Errorf("crypto: new committee: adding validator %d: %w", i, ErrStakeOverflow)
		}
		pop, err := parseBLSSignature(pops[i])
		if err != nil {
			return nil, fmt.Errorf("crypto: new committee: validator %d: proof of possession: %w", i, err)
		}
		c.index[k.b] = i
		c.keys[i] = k
		c.stakes[i] = stakes[i]
		items[i] = pairingItem{pk: &k.p, sig: pop, msg: k.b[:]}
		if i == 0 {
			c.all.FromAffine(&k.p)
		} else {
			c.all.AddAssign(&k.p)
		}
	}
	bad, err := verifyBatchFindBad(items, dstPoP(), cryptorand.Reader)
	if err != nil {
		return nil, fmt.Errorf("crypto: new committee: %w", err)
	}
	if len(bad) > 0 {
		i := bad[0]
		return nil, fmt.Errorf("crypto: new committee: validator %d (key %x): proof of possession does not verify (%d bad in all): %w",
			i, keys[i].b[:8], len(bad), ErrBadProofOfPossession)
	}
	return c, nil
}

// Size returns the number of validators.
func (c *BLSCommittee) Size() int { return len(c.keys) }

// TotalStake returns the sum of all stakes.
func (c *BLSCommittee) TotalStake() uint64 { return c.total }

// Stake returns the stake of validator i, or 0 when i is not a validator.
func (c *BLSCommittee) Stake(i int) uint64 {
	if i < 0 || i >= len(c.stakes) {
		return 0
	}
	return c.stakes[i]
}

// PublicKey returns the key of validator i, or nil when i is not a
// validator.
func (c *BLSCommittee) PublicKey(i int) *BLSPublicKey {
	if i < 0 || i >= len(c.keys) {
		return nil
	}
	return c.keys[i]
}

// Index returns the position of pk in the committee.
func (c *BLSCommittee) Index(pk *BLSPublicKey) (int, bool) {
	if pk == nil {
		return 0, false
	}
	i, ok := c.index[pk.b]
	return i, ok
}

// QuorumStake returns the smallest stake strictly above two thirds of the
// total: floor(2T/3)+1. A certificate needs at least this much.
func (c *BLSCommittee) QuorumStake() uint64 {
	hi, lo := bits.Mul64(c.total, 2)
	q, _ := bits.Div64(hi, lo, 3) // hi < 3 always, so no overflow panic
	return q + 1
}

// ValidityStake returns the smallest stake strictly above one third of the
// total: floor(T/3)+1. At least one honest validator is among any signers
// holding this much.
func (c *BLSCommittee) ValidityStake() uint64 { return c.total/3 + 1 }

// Verify checks validator i's own signature sig on msg.
func (c *BLSCommittee) Verify(i int, msg, sig []byte) error {
	if i < 0 || i >= len(c.keys) {
		return fmt.Errorf("crypto: verify: validator %d of a committee of %d: %w", i, len(c.keys), ErrUnknownSigner)
	}
	s, err := parseBLSSignature(sig)
	if err != nil {
		return fmt.Errorf("crypto: verify: validator %d: %w", i, err)
	}
	if !verifyOne(&c.keys[i].p, msg, s, dstSig()) {
		return fmt.Errorf("crypto: verify: validator %d: signature does not verify: %w", i, ErrBadSignature)
	}
	return nil
}

// SignerStake checks that signers is a canonical, non-empty bitmap of this
// committee and returns the signers' total stake. It does no cryptography.
func (c *BLSCommittee) SignerStake(signers Bitmap) (uint64, error) {
	if err := c.checkBitmap(signers); err != nil {
		return 0, fmt.Errorf("crypto: signer stake: %w", err)
	}
	return c.sumStake(signers), nil
}

// VerifyAggregate checks that aggSig is an aggregate signature on msg by
// exactly the validators marked in signers, and returns their total stake.
// The signers' public keys are added into one key and checked with a single
// pairing equation, which is sound because every key proved possession of
// its secret key when the committee was built. The caller compares the
// returned stake with QuorumStake or ValidityStake.
func (c *BLSCommittee) VerifyAggregate(msg []byte, signers Bitmap, aggSig []byte) (uint64, error) {
	sig, err := parseBLSSignature(aggSig)
	if err != nil {
		return 0, fmt.Errorf("crypto: verify aggregate: %w", err)
	}
	pk, stake, err := c.aggregateKey(signers)
	if err != nil {
		return 0, fmt.Errorf("crypto: verify aggregate: %w", err)
	}
	if !verifyOne(pk, msg, sig, dstSig()) {
		return 0, fmt.Errorf("crypto: verify aggregate: signature by %d signers does not verify: %w", signers.Count(), ErrBadSignature)
	}
	return stake, nil
}

// VerifyAggregates verifies several aggregate signatures at once. All checks
// go into one multi-pairing in which check k is weighted by a secret random
// 64-bit scalar r_k read from rand (crypto/rand when nil), spread over
// GOMAXPROCS goroutines, so n checks cost n Miller loops and a single final
// exponentiation; a batch with an invalid member passes with probability at
// most 2^-64. Only when the batch fails is it bisected to find the bad
// checks. It returns nil when every check verifies, a *BatchError naming the
// indices of the bad checks (with errors.Is usable on it for the causes), or
// another error when rand fails. It does not compare stakes: use SignerStake
// for that.
func (c *BLSCommittee) VerifyAggregates(checks []AggregateCheck, rand io.Reader) error {
	if len(checks) == 0 {
		return nil
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	batchErr := &BatchError{Total: len(checks)}
	items := make([]pairingItem, 0, len(checks))
	pos := make([]int, 0, len(checks)) // pos[j] is the check index of items[j]
	for k := range checks {
		ch := &checks[k]
		sig, err := parseBLSSignature(ch.Signature)
		if err != nil {
			batchErr.add(k, err)
			continue
		}
		pk, _, err := c.aggregateKey(ch.Signers)
		if err != nil {
			batchErr.add(k, err)
			continue
		}
		items = append(items, pairingItem{pk: pk, sig: sig, msg: ch.Msg})
		pos = append(pos, k)
	}
	bad, err := verifyBatchFindBad(items, dstSig(), rand)
	if err != nil {
		return fmt.Errorf("crypto: verify aggregates: %w", err)
	}
	for _, j := range bad {
		batchErr.add(pos[j], fmt.Errorf("aggregate signature does not verify: %w", ErrBadSignature))
	}
	if len(batchErr.Indices) == 0 {
		return nil
	}
	batchErr.sort()
	return batchErr
}

// checkBitmap validates signers against the committee size.
func (c *BLSCommittee) checkBitmap(signers Bitmap) error {
	n := len(c.keys)
	if want := bitmap.Len(n); len(signers) != want {
		return fmt.Errorf("signer bitmap has %d bytes, a committee of %d needs %d: %w", len(signers), n, want, ErrMalformed)
	}
	if i := signers.FirstAtOrAbove(n); i >= 0 {
		return fmt.Errorf("signer %d is not in a committee of %d: %w", i, n, ErrUnknownSigner)
	}
	if signers.Count() == 0 {
		return fmt.Errorf("signer bitmap is empty: %w", ErrNoSigners)
	}
	return nil
}

// sumStake adds the stakes of the signers of a checked bitmap; it cannot
// overflow because the total fits in a uint64.
func (c *BLSCommittee) sumStake(signers Bitmap) uint64 {
	var s uint64
	for byteIdx, v := range signers {
		for v != 0 {
			s += c.stakes[byteIdx*8+bits.TrailingZeros8(v)]
			v &= v - 1
		}
	}
	return s
}

// aggregateKey validates signers and returns the sum of their keys and their
// stake.
func (c *BLSCommittee) aggregateKey(signers Bitmap) (*blst.P2Affine, uint64, error) {
	if err := c.checkBitmap(signers); err != nil {
		return nil, 0, err
	}
	n := len(c.keys)
	count := signers.Count()
	var acc blst.P2
	if 2*count > n {
		// Start from the sum of all keys and remove the non-signers.
		acc = c.all
		for i := 0; i < n; i++ {
			if !signers.Has(i) {
				acc.SubAssign(&c.keys[i].p)
			}
		}
	} else {
		first := true
		for byteIdx, v := range signers {
			for v != 0 {
				k := &c.keys[byteIdx*8+bits.TrailingZeros8(v)].p
				if first {
					acc.FromAffine(k)
					first = false
				} else {
					acc.AddAssign(k)
				}
				v &= v - 1
			}
		}
	}
	pk := acc.ToAffine()
	if pk.Equals(new(blst.P2Affine)) {
		// Only colluding validators that registered keys summing to zero
		// can get here; refuse rather than accept any signature.
		return nil, 0, fmt.Errorf("aggregate key of the %d signers is the point at infinity: %w", count, ErrInvalidKey)
	}
	return pk, c.sumStake(signers), nil
}

// BatchError reports which members of a batch verification failed and why.
// errors.Is and errors.As see through it to the per-member causes.
type BatchError struct {
	// Total is the number of members in the batch.
	Total int
	// Indices are the positions of the failed members, in increasing
	// order.
	Indices []int
	// Errs[k] is why member Indices[k] failed.
	Errs []error
}

func (e *BatchError) add(i int, err error) {
	e.Indices = append(e.Indices, i)
	e.Errs = append(e.Errs, err)
}

// sort orders the failures by index (insertion sort: failures are few and
// already mostly ordered).
func (e *BatchError) sort() {
	for i := 1; i < len(e.Indices); i++ {
		for j := i; j > 0 && e.Indices[j] < e.Indices[j-1]; j-- {
			e.Indices[j], e.Indices[j-1] = e.Indices[j-1], e.Indices[j]
			e.Errs[j], e.Errs[j-1] = e.Errs[j-1], e.Errs[j]
		}
	}
}

// maxListedFailures bounds how many failures Error spells out.
const maxListedFailures = 8

// Error lists the failed indices and the first few causes.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "crypto: %d of %d batch members failed: indices %v", len(e.Indices), e.Total, e.Indices)
	for k, err := range e.Errs {
		if k == maxListedFailures {
			fmt.Fprintf(&b, "; and %d more", len(e.Errs)-k)
			break
		}
		fmt.Fprintf(&b, "; %d: %v", e.Indices[k], err)
	}
	return b.String()
}

// Unwrap returns the per-member causes.
func (e *BatchError) Unwrap() []error { return e.Errs }
