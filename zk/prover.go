package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/witness"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
)

// Prover makes membership proofs with one proving key. It compiles the
// circuit once. Prove is safe for concurrent use; calls run one at a time
// (gnark's prover already uses every core).
type Prover struct {
	mu     sync.Mutex
	pk     *ProvingKey
	r1cs   *cs.R1CS
	logger *slog.Logger
}

// NewProver compiles the circuit of the key's depth and checks that the key
// fits it.
func NewProver(pk *ProvingKey, logger *slog.Logger) (*Prover, error) {
	if pk == nil || pk.pk == nil {
		return nil, errors.New("zk: NewProver needs a proving key")
	}
	if logger == nil {
		return nil, errors.New("zk: NewProver needs a logger")
	}
	r1cs, err := CompileMembership(pk.depth)
	if err != nil {
		return nil, err
	}
	if err := pk.checkAgainst(r1cs); err != nil {
		return nil, err
	}
	return &Prover{pk: pk, r1cs: r1cs, logger: logger}, nil
}

// NbConstraints returns the number of constraints of the circuit.
func (p *Prover) NbConstraints() int { return p.r1cs.GetNbConstraints() }

// Depth returns the tree depth of the circuit.
func (p *Prover) Depth() int { return p.pk.depth }

// Prove makes a proof that the owner of id is a member of the group whose
// root the path leads to, signalling signalHash in scope. The envelope's
// root is the root computed from the path; the caller checks that it is
// the group's current root.
func (p *Prover) Prove(ctx context.Context, id Identity, path MerklePath, scope, signalHash fr.Element) (*Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zk: prove: %w", err)
	}
	if id.secret.IsZero() {
		return nil, errors.New("zk: prove: identity has no secret")
	}
	depth := p.pk.depth
	if len(path.Siblings) != depth {
		return nil, fmt.Errorf("zk: prove: path has %d siblings, the circuit depth is %d", len(path.Siblings), depth)
	}
	if depth < 64 && path.Index>>uint(depth) != 0 {
		return nil, fmt.Errorf("zk: prove: leaf index %d does not fit depth %d", path.Index, depth)
	}
	pub := PublicInputs{
		Root:       path.ComputeRoot(id.Commitment()),
		Nullifier:  id.Nullifier(scope),
		SignalHash: signalHash,
		Scope:      scope,
	}
	assignment := NewMembershipCircuit(depth)
	assignment.Root = pub.Root
	assignment.Nullifier = pub.Nullifier
	assignment.SignalHash = pub.SignalHash
	assignment.Scope = pub.Scope
	assignment.Secret = id.secret
	for l := 0; l < depth; l++ {
		assignment.Siblings[l] = path.Siblings[l]
		assignment.PathBits[l] = (path.Index >> uint(l)) & 1
	}
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("zk: prove: build witness: %w", err)
	}
	start := time.Now()
	p.mu.Lock()
	gp, err := p.proveGuarded(w)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	proof, err := fromGnarkProof(gp)
	if err != nil {
		return nil, err
	}
	p.logger.Debug("zk proof made", "depth", depth, "elapsed", time.Since(start))
	return &Envelope{VerifyingKey: p.pk.vkDigest, Public: pub, Proof: proof}, nil
}

// proveGuarded runs gnark's prover and turns a panic into an error: the
// proving key comes from a file and, although it was checked against the
// circuit, must not be able to crash the process.
func (p *Prover) proveGuarded(w witness.Witness) (gp *groth16bn254.Proof, err error) {
	defer func() {
		if r := recover(); r != nil {
			gp, err = nil, fmt.Errorf("zk: prove: gnark prover failed on this proving key: %v", r)
		}
	}()
	gp, err = groth16bn254.Prove(p.r1cs, p.pk.pk, w)
	if err != nil {
		return nil, fmt.Errorf("zk: prove: %w", err)
	}
	return gp, nil
}
