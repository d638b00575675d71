package zk

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// hashCircuit asserts the in-circuit hashes against public expected values.
type hashCircuit struct {
	Secret, Scope, Left, Right frontend.Variable
	Commitment                 frontend.Variable `gnark:",public"`
	Nullifier                  frontend.Variable `gnark:",public"`
	Node                       frontend.Variable `gnark:",public"`
}

func (c *hashCircuit) Define(api frontend.API) error {
	cm, err := circuitHash(api, tagCommitment, c.Secret)
	if err != nil {
		return err
	}
	api.AssertIsEqual(cm, c.Commitment)
	n, err := circuitHash(api, tagNullifier, c.Secret, c.Scope)
	if err != nil {
		return err
	}
	api.AssertIsEqual(n, c.Nullifier)
	h, err := circuitHash(api, c.Left, c.Right)
	if err != nil {
		return err
	}
	api.AssertIsEqual(h, c.Node)
	return nil
}

// TestNativeHashesMatchCircuit checks that the native MiMC hashes used to
// build groups and nullifiers are the ones the circuit computes.
func TestNativeHashesMatchCircuit(t *testing.T) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &hashCircuit{})
	if err != nil {
		t.Fatal(err)
	}
	rng := testRand(t, 8)
	for i := 0; i < 5; i++ {
		secret, scope, left, right := randFr(rng), randFr(rng), randFr(rng), randFr(rng)
		a := &hashCircuit{
			Secret: secret, Scope: scope, Left: left, Right: right,
			Commitment: IdentityCommitment(secret),
			Nullifier:  NullifierHash(secret, scope),
			Node:       HashPair(left, right),
		}
		w, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
		if err != nil {
			t.Fatal(err)
		}
		if err := ccs.IsSolved(w); err != nil {
			t.Fatalf("native hashes do not satisfy the circuit: %v", err)
		}
		// A wrong expected value must not satisfy it.
		one := fr.One()
		node := HashPair(left, right)
		var wrong fr.Element
		wrong.Add(&node, &one)
		a.Node = wrong
		if w, err = frontend.NewWitness(a, ecc.BN254.ScalarField()); err != nil {
			t.Fatal(err)
		}
		if ccs.IsSolved(w) == nil {
			t.Fatal("a wrong node hash satisfies the circuit")
		}
	}
}

func TestHashesAreDomainSeparated(t *testing.T) {
	rng := testRand(t, 9)
	s := randFr(rng)
	var tag fr.Element
	tag.SetUint64(tagCommitment)
	if IdentityCommitment(s) == NullifierHash(s, tag) || IdentityCommitment(s) == HashPair(s, s) {
		t.Fatal("commitment collides with another hash of the same secret")
	}
	if SignalHash([]byte("x")) == ScopeHash([]byte("x")) {
		t.Fatal("signal and scope hashes are not separated")
	}
	for i := 0; i < 100; i++ {
		b := make([]byte, rng.IntN(40))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		h := SignalHash(b)
		if hb := h.Bytes(); hb[0] != 0 {
			t.Fatal("HashToField output is not below 2^248")
		}
	}
}

// TestCircuitConstraints compiles the default depth-20 circuit and checks
// that its size grows by the same amount per level (two MiMC permutations
// of a Merkle node, two selects and a boolean check).
func TestCircuitConstraints(t *testing.T) {
	counts := map[int]int{}
	for _, d := range []int{1, 2, DefaultDepth - 1, DefaultDepth} {
		r, err := CompileMembership(d)
		if err != nil {
			t.Fatal(err)
		}
		counts[d] = r.GetNbConstraints()
	}
	perLevel := counts[2] - counts[1]
	if perLevel <= 0 || counts[DefaultDepth]-counts[DefaultDepth-1] != perLevel {
		t.Fatalf("constraints per level not constant: %v", counts)
	}
	if counts[DefaultDepth] != counts[1]+(DefaultDepth-1)*perLevel {
		t.Fatalf("depth-20 count %d is not linear in the depth: %v", counts[DefaultDepth], counts)
	}
	t.Logf("constraints: depth 1 %d, depth %d %d (%d per level)", counts[1], DefaultDepth, counts[DefaultDepth], perLevel)
	for _, d := range []int{0, MaxDepth + 1} {
		if _, err := CompileMembership(d); err == nil {
			t.Fatalf("depth %d compiled", d)
		}
	}
}
