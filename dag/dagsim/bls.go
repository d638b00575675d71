package dagsim

import (
	"math/rand/v2"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// blsScheme returns real BLS signers and a verifier for the simulator. The
// batch verifier's scalars come from a PRNG seeded by the run, so a run
// stays reproducible; a valid batch passes whatever the scalars.
func blsScheme(seed uint64, n int) ([]dag.Signer, dag.Verifier, error) {
	keys, committee, err := dagbls.DevKeys(seed, n)
	if err != nil {
		return nil, nil, err
	}
	signers := make([]dag.Signer, n)
	for i, k := range keys {
		signers[i] = dagbls.NewSigner(k)
	}
	return signers, dagbls.NewVerifier(committee, rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})), nil
}
