package dagsim

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/dag"
)

// blsScheme returns real BLS signers and a verifier for the simulator.
func blsScheme(seed uint64, n int) ([]dag.Signer, dag.Verifier, error) {
	return nil, nil, fmt.Errorf("bls scheme not wired yet (seed %d, n %d) %v", seed, n, binary.BigEndian)
}
