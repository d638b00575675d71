package crypto

import "errors"

// Sentinel errors. Every error returned by this package that concerns a
// signature, key, bitmap or committee wraps one of these, so callers can
// classify failures with errors.Is while the message says what exactly went
// wrong.
var (
	// ErrMalformed reports bytes that do not decode: a wrong length, a
	// point that is not on the curve or not in the prime-order subgroup, a
	// non-canonical encoding, a bitmap with bits beyond the committee.
	ErrMalformed = errors.New("malformed input")

	// ErrInvalidKey reports a key that decodes but may not be used: the
	// point at infinity, a zero or out-of-range secret scalar, a nil key.
	ErrInvalidKey = errors.New("invalid key")

	// ErrBadSignature reports a well-formed signature that does not verify.
	ErrBadSignature = errors.New("bad signature")

	// ErrBadProofOfPossession reports a proof of possession that does not
	// verify for its public key.
	ErrBadProofOfPossession = errors.New("bad proof of possession")

	// ErrUnknownSigner reports a validator index outside the committee.
	ErrUnknownSigner = errors.New("unknown signer")

	// ErrNoSigners reports an aggregate whose signer bitmap is empty.
	ErrNoSigners = errors.New("no signers")

	// ErrDuplicateKey reports a public key that appears twice in a
	// committee.
	ErrDuplicateKey = errors.New("duplicate public key")

	// ErrZeroStake reports a committee member without stake.
	ErrZeroStake = errors.New("zero stake")

	// ErrStakeOverflow reports a committee whose total stake does not fit
	// in a uint64.
	ErrStakeOverflow = errors.New("total stake overflows uint64")

	// ErrWrongPassword reports a keystore whose checksum does not match
	// the key derived from the given password.
	ErrWrongPassword = errors.New("wrong password")
)
