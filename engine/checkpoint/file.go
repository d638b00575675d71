package checkpoint

import (
	"fmt"

	"github.com/dagd/dagd/engine/committeefile"
)

// CommitteeFromFile builds the committee a light client trusts from dagd's
// committee file (engine/committeefile's format, what `dagd init`,
// `dagd committee` and `dagd testnet` write): it validates the file first,
// every proof of possession included (checked with the cgo-free
// verifier), and refuses an invalid one with ErrInvalidCommittee and the
// validator's name; then it builds the committee of the file's epoch from
// each validator's BLS public key and stake, in file order, as
// NewCommittee does. Names, addresses and network keys are the node's
// business and are not kept.
func CommitteeFromFile(f *committeefile.Committee) (*Committee, error) {
	if f == nil {
		return nil, fmt.Errorf("checkpoint: committee from file: nil file: %w", ErrInvalidCommittee)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: committee from file: %w (%w)", ErrInvalidCommittee, err)
	}
	members := make([]Member, len(f.Validators))
	for i, v := range f.Validators {
		copy(members[i].PublicKey[:], v.BLSPublicKey) // Validate checked the size
		members[i].Stake = v.Stake
	}
	c, err := newCommittee(f.Epoch, members)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: committee from file: %w", err)
	}
	return c, nil
}

// ReadCommitteeFile builds the committee of a committee file's bytes, as
// CommitteeFromFile does, and returns the file's chain id with it: a light
// client's trust root from the genesis committee file alone. Bytes that
// are not a committee file (unknown fields, trailing data, more than
// committeefile.MaxFileSize bytes, bad JSON or hex) are refused with
// ErrMalformed.
func ReadCommitteeFile(data []byte) (chainID string, c *Committee, err error) {
	f, err := committeefile.Decode(data)
	if err != nil {
		return "", nil, fmt.Errorf("checkpoint: read committee file: %w (%w)", ErrMalformed, err)
	}
	c, err = CommitteeFromFile(f)
	if err != nil {
		return "", nil, err
	}
	return f.ChainID, c, nil
}
