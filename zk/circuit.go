package zk

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// NumPublicInputs is the number of public inputs of the membership circuit,
// in this order: Root, Nullifier, SignalHash, Scope.
const NumPublicInputs = 4

// MembershipCircuit is the anonymous membership credential, in the manner
// of Semaphore. It proves, for the public Root, Nullifier, SignalHash and
// Scope, knowledge of an identity secret s and a Merkle path such that:
//
//   - the commitment MiMC(1, s) is a leaf of the tree with root Root, at the
//     position given by PathBits (bit l set: the node is a right child at
//     level l) with the siblings Siblings;
//   - Nullifier = MiMC(2, s, Scope), so a member has one nullifier per scope
//     and a verifier who rejects repeated nullifiers accepts one signal per
//     member and scope;
//   - SignalHash is bound to the proof (it enters the constraint
//     SignalHash·SignalHash), so a proof cannot be replayed for another
//     signal.
//
// The circuit does not use api.Commit, so its Groth16 proofs carry no
// Pedersen commitments.
type MembershipCircuit struct {
	Root       frontend.Variable `gnark:",public"`
	Nullifier  frontend.Variable `gnark:",public"`
	SignalHash frontend.Variable `gnark:",public"`
	Scope      frontend.Variable `gnark:",public"`

	Secret   frontend.Variable
	Siblings []frontend.Variable
	PathBits []frontend.Variable
}

// NewMembershipCircuit returns an unassigned circuit of the given depth, as
// frontend.Compile needs it.
func NewMembershipCircuit(depth int) *MembershipCircuit {
	return &MembershipCircuit{
		Siblings: make([]frontend.Variable, depth),
		PathBits: make([]frontend.Variable, depth),
	}
}

// Define declares the constraints of the circuit.
func (c *MembershipCircuit) Define(api frontend.API) error {
	if len(c.Siblings) != len(c.PathBits) {
		return fmt.Errorf("zk: circuit has %d siblings and %d path bits", len(c.Siblings), len(c.PathBits))
	}
	node, err := circuitHash(api, tagCommitment, c.Secret)
	if err != nil {
		return fmt.Errorf("zk: commitment hash: %w", err)
	}
	for l := range c.Siblings {
		bit := c.PathBits[l]
		api.AssertIsBoolean(bit)
		left := api.Select(bit, c.Siblings[l], node)
		right := api.Select(bit, node, c.Siblings[l])
		if node, err = circuitHash(api, left, right); err != nil {
			return fmt.Errorf("zk: node hash at level %d: %w", l, err)
		}
	}
	api.AssertIsEqual(node, c.Root)

	nullifier, err := circuitHash(api, tagNullifier, c.Secret, c.Scope)
	if err != nil {
		return fmt.Errorf("zk: nullifier hash: %w", err)
	}
	api.AssertIsEqual(nullifier, c.Nullifier)

	// Tie SignalHash to a constraint: a public input that appears in no
	// constraint gets a verifying-key point at infinity, and the proof would
	// then hold for any value of it.
	// gnark keeps every multiplication as a constraint, so this one product
	// suffices (Semaphore does the same); NewVerifyingKey rejects a key with
	// a public-input point at infinity, which would reveal its removal.
	_ = api.Mul(c.SignalHash, c.SignalHash)
	return nil
}

// CompileMembership compiles the membership circuit of the given depth to a
// rank-1 constraint system over BN254.
func CompileMembership(depth int) (*cs.R1CS, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("zk: circuit depth %d outside [1, %d]", depth, MaxDepth)
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, NewMembershipCircuit(depth))
	if err != nil {
		return nil, fmt.Errorf("zk: compile membership circuit of depth %d: %w", depth, err)
	}
	r, ok := ccs.(*cs.R1CS)
	if !ok {
		return nil, fmt.Errorf("zk: compiled circuit is a %T, want a BN254 R1CS", ccs)
	}
	if err := checkShape(r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkShape verifies that a compiled system has the public inputs the
// verifier expects and no commitments.
func checkShape(r *cs.R1CS) error {
	if got := r.GetNbPublicVariables(); got != NumPublicInputs+1 {
		return fmt.Errorf("zk: circuit has %d public variables, want %d", got, NumPublicInputs+1)
	}
	if info, ok := r.CommitmentInfo.(constraint.Groth16Commitments); ok && len(info) > 0 {
		return fmt.Errorf("zk: circuit uses %d commitments; the batch verifier supports none", len(info))
	}
	return nil
}
