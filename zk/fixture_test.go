package zk

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
)

// testDepth is the tree depth of the test circuit: small, so that a pool
// of proofs is quick to make, while the default stays DefaultDepth.
const testDepth = 3

// Sizes of the proof pool shared by the tests of one test binary.
const (
	poolMembers = 1 << testDepth // a full group
	poolScopes  = 5
	poolRepeats = 4 // extra proofs repeating a (member, scope) with another signal
)

// testFixture holds the keys, the group and a pool of valid proofs, made
// once per test binary.
type testFixture struct {
	setup    *SetupResult
	prover   *Prover
	verifier *Verifier
	gvk      *groth16bn254.VerifyingKey
	group    *Group
	ids      []Identity
	scopes   []fr.Element
	// pool holds one proof per (member, scope): distinct nullifiers.
	pool []Envelope
	// repeats holds proofs of pool[i] statements' (member, scope) with
	// another signal: same nullifier as pool[repeatOf[i]].
	repeats  []Envelope
	repeatOf []int
}

var (
	fixtureOnce sync.Once
	fixtureVal  *testFixture
	fixtureErr  error
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// getFixture returns the shared fixture, making it on first use.
func getFixture(t testing.TB) *testFixture {
	t.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = makeFixture(slog.New(slog.DiscardHandler)) })
	if fixtureErr != nil {
		t.Fatalf("fixture: %v", fixtureErr)
	}
	return fixtureVal
}

func makeFixture(lg *slog.Logger) (*testFixture, error) {
	ctx := context.Background()
	res, err := DeterministicSetup(ctx, testDepth, []byte("dagd zk test fixture"), lg)
	if err != nil {
		return nil, err
	}
	fx := &testFixture{setup: res}
	if fx.prover, err = NewProver(res.ProvingKey, lg); err != nil {
		return nil, err
	}
	if fx.verifier, err = NewVerifier(res.VerifyingKey, Options{}); err != nil {
		return nil, err
	}
	if fx.gvk, err = res.VerifyingKey.gnarkKey(); err != nil {
		return nil, err
	}
	if fx.group, err = NewGroup(testDepth); err != nil {
		return nil, err
	}
	rng := mrand.New(mrand.NewPCG(7, 7))
	for i := 0; i < poolMembers; i++ {
		id, err := IdentityFromSecret(randFr(rng))
		if err != nil {
			return nil, err
		}
		fx.ids = append(fx.ids, id)
		if _, err := fx.group.Add(id.Commitment()); err != nil {
			return nil, err
		}
	}
	for s := 0; s < poolScopes; s++ {
		fx.scopes = append(fx.scopes, ScopeHash([]byte(fmt.Sprintf("proposal-%d", s))))
	}
	for m := 0; m < poolMembers; m++ {
		path, err := fx.group.Path(m)
		if err != nil {
			return nil, err
		}
		for s := 0; s < poolScopes; s++ {
			env, err := fx.prover.Prove(ctx, fx.ids[m], path, fx.scopes[s], SignalHash([]byte(fmt.Sprintf("vote %d/%d", m, s))))
			if err != nil {
				return nil, err
			}
			fx.pool = append(fx.pool, *env)
		}
	}
	for k := 0; k < poolRepeats; k++ {
		m, s := (3*k+1)%poolMembers, (2*k+1)%poolScopes
		path, err := fx.group.Path(m)
		if err != nil {
			return nil, err
		}
		env, err := fx.prover.Prove(ctx, fx.ids[m], path, fx.scopes[s], SignalHash([]byte(fmt.Sprintf("second vote %d/%d", m, s))))
		if err != nil {
			return nil, err
		}
		fx.repeats = append(fx.repeats, *env)
		fx.repeatOf = append(fx.repeatOf, m*poolScopes+s)
	}
	return fx, nil
}

// gnarkValid verifies one envelope with gnark's own groth16.Verify.
func (fx *testFixture) gnarkValid(env *Envelope) bool {
	v := env.Public.vector()
	return groth16bn254.Verify(env.Proof.gnarkProof(), fx.gvk, fr.Vector(v[:])) == nil
}

// checkAgreesWithGnark asserts that every verdict matches gnark's
// groth16.Verify on the same envelope.
func (fx *testFixture) checkAgreesWithGnark(t *testing.T, envs []Envelope, res *BatchResult) {
	t.Helper()
	for i := range envs {
		g := fx.gnarkValid(&envs[i])
		if res.Verdicts[i].ProofValid() != g {
			t.Fatalf("envelope %d: batch verdict %v, gnark's groth16.Verify valid=%v", i, res.Verdicts[i], g)
		}
	}
}

// rerandomize returns another valid proof of the same statement:
// A' = A/t, B' = tB + uδ, C' = C + (u/t)A, so that e(A', B') =
// e(A, B)·e((u/t)A, δ). Batches of up to 300 proofs are built from the
// pool this way, with distinct points in every pair.
func rerandomize(env Envelope, vk *VerifyingKey, rng *mrand.Rand) Envelope {
	t := randFr(rng)
	for t.IsZero() {
		t = randFr(rng)
	}
	u := randFr(rng)
	var tInv, ut fr.Element
	tInv.Inverse(&t)
	ut.Mul(&u, &tInv)
	var bi big.Int
	out := env
	tInv.BigInt(&bi)
	out.Proof.A.ScalarMultiplication(&env.Proof.A, &bi)
	var tb, ud bn254.G2Affine
	t.BigInt(&bi)
	tb.ScalarMultiplication(&env.Proof.B, &bi)
	u.BigInt(&bi)
	ud.ScalarMultiplication(&vk.delta, &bi)
	out.Proof.B.Add(&tb, &ud)
	var ua bn254.G1Affine
	ut.BigInt(&bi)
	ua.ScalarMultiplication(&env.Proof.A, &bi)
	out.Proof.C.Add(&env.Proof.C, &ua)
	return out
}
