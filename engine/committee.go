package engine

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// BuildBLSCommittee parses the validators' BLS keys, checks their proofs
// of possession and returns the crypto committee (for dagbls.Verifier) and
// the dag committee (same stakes, same order).
func BuildBLSCommittee(epoch uint64, validators []Validator) (*crypto.BLSCommittee, *dag.Committee, error) {
	keys := make([]*crypto.BLSPublicKey, len(validators))
	pops := make([][]byte, len(validators))
	stakes := make([]uint64, len(validators))
	for i, v := range validators {
		pk, err := crypto.ParseBLSPublicKey(v.BLSPublicKey)
		if err != nil {
			return nil, nil, fmt.Errorf("engine: validator %d: %w", i, err)
		}
		keys[i], pops[i], stakes[i] = pk, v.ProofOfPossession, v.Stake
	}
	bc, err := crypto.NewBLSCommittee(keys, pops, stakes)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: committee: %w", err)
	}
	dc, err := dag.NewCommittee(epoch, stakes)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: committee: %w", err)
	}
	return bc, dc, nil
}
