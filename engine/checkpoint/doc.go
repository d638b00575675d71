// Package checkpoint is the certified checkpoint of issue 14 as data: the
// Committee of an epoch as a light client knows it, the Checkpoint a
// committee signs, the Certificate that carries a quorum's aggregate
// signature on it, and the Chain a light client walks from the genesis
// committee through every epoch change. It builds with CGO_ENABLED=0: it
// imports crypto/blsverify (BLS12-381 over gnark-crypto), crypto/digest
// (BLAKE3), crypto/bitmap and engine/committeefile (the committee file's
// format), never package crypto (blst). Nothing in the
// node signs or serves checkpoints yet.
//
// Every encoding here is canonical (fixed field order, fixed-width
// big-endian integers, length-prefixed chain id, a version byte) and every
// decoder is strict: a truncation, a trailing byte, an unknown version, an
// out-of-range length or flag is refused, so one value has one encoding
// and a digest or signature over it is unambiguous.
//
// Certificate.Verify checks the cheap things first (epoch, signer bitmap,
// signers' stake against the quorum) and then makes ONE aggregate
// signature check, blsverify.VerifyAggregate over the signers' keys. That
// check is sound only because every key of a Committee proved possession
// of its secret key: NewCommittee and DecodeCommittee do not check proofs
// of possession (a light client's committee file carries them, and
// CommitteeFromFile and ReadCommitteeFile check each before building the
// genesis Committee), and the next committees of a Chain are vouched for by the
// certified digest of the epoch-end checkpoint, which the committee signs
// only after execution admitted each key with its proof.
//
// The quorum is dagd's consensus rule (dag.Committee.QuorumThreshold and
// crypto.BLSCommittee.QuorumStake): the smallest stake strictly above two
// thirds of the total, floor(2T/3)+1, with the total stake bounded by
// MaxTotalStake as dag bounds it.
//
// Every error wraps one of the sentinel errors below, so callers classify
// refusals with errors.Is while the message says what exactly was wrong.
// No function panics on any input, and the package keeps no global mutable
// state; a *Committee is immutable and safe for concurrent use.
package checkpoint

import "errors"

// Bounds of what a decoder accepts, checked before anything is allocated.
const (
	// Version is the version byte that starts every encoding of this
	// package.
	Version = 1
	// MaxMembers bounds a committee's size, as dag.MaxCommitteeSize does.
	MaxMembers = 1024
	// MaxTotalStake bounds a committee's total stake, as dag bounds it, so
	// that 2*total never overflows.
	MaxTotalStake = 1 << 60
	// MaxChainIDSize bounds a chain id in bytes, as dag.MaxChainIDSize
	// does.
	MaxChainIDSize = 256
)

// Sentinel errors. Each refusal wraps exactly one of them.
var (
	// ErrMalformed reports bytes that do not decode: a truncation, a
	// trailing byte, a bad version, a length or flag out of range, a key
	// or signature that is not a valid point.
	ErrMalformed = errors.New("malformed")

	// ErrInvalidCommittee reports members that do not form a committee:
	// none, too many, a zero stake, a duplicate key, too much stake.
	ErrInvalidCommittee = errors.New("invalid committee")

	// ErrWrongEpoch reports a certificate checked against the committee
	// of another epoch.
	ErrWrongEpoch = errors.New("wrong epoch")

	// ErrWrongChain reports a checkpoint of another chain than the one
	// the light client follows.
	ErrWrongChain = errors.New("wrong chain")

	// ErrBadBitmap reports a signer bitmap that is not canonical for the
	// committee's size (wrong length, a bit at or above the size).
	ErrBadBitmap = errors.New("bad signer bitmap")

	// ErrInsufficientStake reports signers whose stake is below the
	// quorum.
	ErrInsufficientStake = errors.New("insufficient stake")

	// ErrBadSignature reports an aggregate signature that does not verify
	// for the signers' keys and the checkpoint.
	ErrBadSignature = errors.New("bad signature")

	// ErrNotEpochEnd reports a certificate used as an epoch change whose
	// checkpoint names no next committee.
	ErrNotEpochEnd = errors.New("not an epoch-end checkpoint")

	// ErrWrongCommittee reports a next committee whose digest or epoch is
	// not the one the epoch-end checkpoint names.
	ErrWrongCommittee = errors.New("wrong next committee")

	// ErrOutOfOrder reports a checkpoint whose number does not come after
	// the last epoch-end checkpoint of the chain.
	ErrOutOfOrder = errors.New("checkpoint out of order")
)
