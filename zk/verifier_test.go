package zk

import (
	"context"
	"math/bits"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// batchSizes returns the batch sizes of the random-batch properties: the
// small edge cases, 300, and random sizes in between.
func batchSizes(rng *mrand.Rand) []int {
	sizes := []int{1, 2, 3, 300}
	extra := 8
	if testing.Short() {
		extra = 3
	}
	for i := 0; i < extra; i++ {
		sizes = append(sizes, 4+rng.IntN(296))
	}
	return sizes
}

// drawBatch draws n proofs from the pool with replacement, each
// re-randomized so that every pair of the batch has distinct points.
func drawBatch(fx *testFixture, rng *mrand.Rand, n int) []Envelope {
	envs := make([]Envelope, n)
	for i := range envs {
		envs[i] = rerandomize(fx.pool[rng.IntN(len(fx.pool))], fx.setup.VerifyingKey, rng)
	}
	return envs
}

func TestVerifyProofsRandomValidBatches(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 11)
	ctx := context.Background()
	for _, n := range batchSizes(rng) {
		envs := drawBatch(fx, rng, n)
		res, err := fx.verifier.VerifyProofs(ctx, envs)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !res.AllValid() {
			t.Fatalf("n=%d: valid batch rejected: %v", n, res.Rejected())
		}
		if res.PairingChecks != 1 {
			t.Fatalf("n=%d: a valid batch took %d pairing checks, want 1", n, res.PairingChecks)
		}
		fx.checkAgreesWithGnark(t, envs, res)
	}
}

func TestVerifyBatchDistinctNullifiersPass(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 12)
	ctx := context.Background()
	sizes := []int{1, 2, len(fx.pool)}
	for i := 0; i < 6; i++ {
		sizes = append(sizes, 1+rng.IntN(len(fx.pool)))
	}
	for _, n := range sizes {
		perm := rng.Perm(len(fx.pool))[:n]
		envs := make([]Envelope, n)
		for i, p := range perm {
			envs[i] = fx.pool[p]
		}
		res, err := fx.verifier.VerifyBatch(ctx, envs, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.AllValid() {
			t.Fatalf("n=%d: batch of distinct (member, scope) proofs rejected: %v", n, res.Verdicts)
		}
		fx.checkAgreesWithGnark(t, envs, res)
	}
}

// expectedReuse returns the verdicts the nullifier rule must give a batch
// of valid proofs: the first proof of each nullifier wins.
func expectedReuse(envs []Envelope) []Verdict {
	seen := map[fr.Element]bool{}
	out := make([]Verdict, len(envs))
	for i := range envs {
		if seen[envs[i].Public.Nullifier] {
			out[i] = VerdictNullifierReused
		}
		seen[envs[i].Public.Nullifier] = true
	}
	return out
}

func TestVerifyBatchRejectsReusedNullifiers(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 13)
	ctx := context.Background()

	// The same statement twice, as two distinct proofs.
	a := fx.pool[5]
	b := rerandomize(a, fx.setup.VerifyingKey, rng)
	// Another signal by the same member in the same scope.
	c := fx.repeats[0]
	first := fx.pool[fx.repeatOf[0]]
	if c.Public.Nullifier != first.Public.Nullifier || c.Public.SignalHash == first.Public.SignalHash {
		t.Fatal("fixture: a repeat must share the nullifier and not the signal")
	}
	envs := []Envelope{a, fx.pool[1], b, first, c}
	res, err := fx.verifier.VerifyBatch(ctx, envs, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{VerdictValid, VerdictValid, VerdictNullifierReused, VerdictValid, VerdictNullifierReused}
	if !slices.Equal(res.Verdicts, want) {
		t.Fatalf("verdicts %v, want %v", res.Verdicts, want)
	}
	fx.checkAgreesWithGnark(t, envs, res)

	// An invalid first use does not spend the nullifier.
	bad := first
	bad.Proof.C = randG1(rng)
	envs = []Envelope{bad, c}
	if res, err = fx.verifier.VerifyBatch(ctx, envs, Policy{}); err != nil {
		t.Fatal(err)
	}
	if want := []Verdict{VerdictInvalidProof, VerdictValid}; !slices.Equal(res.Verdicts, want) {
		t.Fatalf("verdicts %v, want %v", res.Verdicts, want)
	}
	fx.checkAgreesWithGnark(t, envs, res)

	// Random batches drawn with replacement: exactly the repeats are named.
	for _, n := range batchSizes(rng) {
		envs := drawBatch(fx, rng, n)
		if n > 4 {
			k := rng.IntN(len(fx.repeats))
			envs[rng.IntN(n)] = fx.repeats[k]
		}
		res, err := fx.verifier.VerifyBatch(ctx, envs, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if want := expectedReuse(envs); !slices.Equal(res.Verdicts, want) {
			t.Fatalf("n=%d: verdicts %v, want %v", n, res.Verdicts, want)
		}
	}
}

// corruption kinds for the bisection property.
const (
	corruptPublic = iota
	corruptSwap
	corruptA
	corruptB
	corruptC
	corruptKinds
)

func corrupt(fx *testFixture, rng *mrand.Rand, env *Envelope, kind int) {
	switch kind {
	case corruptPublic:
		v := env.Public.vector()
		j := rng.IntN(NumPublicInputs)
		one := fr.One()
		v[j].Add(&v[j], &one)
		env.Public = PublicInputs{Root: v[0], Nullifier: v[1], SignalHash: v[2], Scope: v[3]}
	case corruptSwap:
		// The proof of another statement.
		for {
			other := fx.pool[rng.IntN(len(fx.pool))]
			if other.Public != env.Public {
				env.Proof = rerandomize(other, fx.setup.VerifyingKey, rng).Proof
				return
			}
		}
	case corruptA:
		env.Proof.A = randG1(rng)
	case corruptB:
		env.Proof.B = randG2(rng)
	case corruptC:
		env.Proof.C = randG1(rng)
	}
}

func TestBisectionNamesExactlyTheInvalidProofs(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 14)
	ctx := context.Background()
	trials := 10
	if testing.Short() {
		trials = 4
	}
	for trial := 0; trial < trials; trial++ {
		n := 2 + rng.IntN(299)
		if trial == 0 {
			n = 300
		}
		envs := drawBatch(fx, rng, n)
		k := 1 + rng.IntN(min(8, n))
		bad := rng.Perm(n)[:k]
		slices.Sort(bad)
		for _, i := range bad {
			corrupt(fx, rng, &envs[i], rng.IntN(corruptKinds))
		}
		res, err := fx.verifier.VerifyProofs(ctx, envs)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rejected(); !slices.Equal(got, bad) {
			t.Fatalf("trial %d, n=%d: rejected %v, want exactly %v", trial, n, got, bad)
		}
		for _, i := range bad {
			if res.Verdicts[i] != VerdictInvalidProof {
				t.Fatalf("trial %d: envelope %d verdict %v, want %v", trial, i, res.Verdicts[i], VerdictInvalidProof)
			}
		}
		limit := 1 + 2*k*(bits.Len(uint(n))+1)
		if res.PairingChecks > limit {
			t.Fatalf("trial %d: %d pairing checks for %d bad of %d, more than %d", trial, res.PairingChecks, k, n, limit)
		}
		t.Logf("trial %d: n=%d bad=%d pairing checks=%d", trial, n, k, res.PairingChecks)
		fx.checkAgreesWithGnark(t, envs, res)
	}
}

func TestMalformedPointsAreRejected(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 15)
	ctx := context.Background()
	offG1 := bn254.G1Affine{}
	offG1.X.SetOne()
	offG1.Y.SetOne()
	offG2 := bn254.G2Affine{}
	offG2.X.SetOne()
	offG2.Y.SetOne()
	twist := randTwistPoint(rng)
	var mixed bn254.G2Affine
	{
		b := fx.pool[0].Proof.B
		mixed.Add(&b, &twist)
	}
	cases := []struct {
		name    string
		mutate  func(*Proof)
		verdict Verdict
	}{
		{"A off the curve", func(p *Proof) { p.A = offG1 }, VerdictMalformed},
		{"B off the twist", func(p *Proof) { p.B = offG2 }, VerdictMalformed},
		{"C off the curve", func(p *Proof) { p.C = offG1 }, VerdictMalformed},
		{"B outside G2", func(p *Proof) { p.B = twist }, VerdictMalformed},
		{"B plus a point outside G2", func(p *Proof) { p.B = mixed }, VerdictMalformed},
		{"A at infinity", func(p *Proof) { p.A = bn254.G1Affine{} }, VerdictInvalidProof},
		{"B at infinity", func(p *Proof) { p.B = bn254.G2Affine{} }, VerdictInvalidProof},
		{"C at infinity", func(p *Proof) { p.C = bn254.G1Affine{} }, VerdictInvalidProof},
	}
	if mixed.IsInSubGroup() || twist.IsInSubGroup() || !mixed.IsOnCurve() {
		t.Fatal("test points: want points of the twist outside G2")
	}
	envs := drawBatch(fx, rng, 3*len(cases))
	want := make([]Verdict, len(envs))
	for i, c := range cases {
		c.mutate(&envs[3*i+1].Proof)
		want[3*i+1] = c.verdict
	}
	res, err := fx.verifier.VerifyProofs(ctx, envs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := res.Verdicts[3*i+1]; got != c.verdict {
			t.Errorf("%s: verdict %v, want %v", c.name, got, c.verdict)
		}
	}
	if !slices.Equal(res.Verdicts, want) {
		t.Fatalf("verdicts %v, want %v", res.Verdicts, want)
	}
	fx.checkAgreesWithGnark(t, envs, res)
}

func TestVerifyBatchPolicy(t *testing.T) {
	fx := getFixture(t)
	ctx := context.Background()
	envs := append([]Envelope(nil), fx.pool[:6]...)
	envs[1].VerifyingKey[0] ^= 1
	root := fx.group.Root()
	spent := envs[4].Public.Nullifier
	var otherRoot fr.Element
	otherRoot.SetUint64(12345)
	envs[2].Public.Root = otherRoot // also invalid as a proof: policy comes first
	pol := Policy{
		KnownRoot: func(r fr.Element) bool { return r == root },
		Spent:     func(n fr.Element) bool { return n == spent },
	}
	res, err := fx.verifier.VerifyBatch(ctx, envs, pol)
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{VerdictValid, VerdictWrongKey, VerdictUnknownRoot, VerdictValid, VerdictNullifierSpent, VerdictValid}
	if !slices.Equal(res.Verdicts, want) {
		t.Fatalf("verdicts %v, want %v", res.Verdicts, want)
	}
	v, err := fx.verifier.Verify(ctx, envs[3], pol)
	if err != nil || v != VerdictValid {
		t.Fatalf("Verify: %v, %v", v, err)
	}
}

func TestVerdictsDoNotDependOnWorkers(t *testing.T) {
	fx := getFixture(t)
	rng := testRand(t, 16)
	ctx := context.Background()
	envs := drawBatch(fx, rng, 41)
	for _, i := range []int{0, 7, 8, 40} {
		corrupt(fx, rng, &envs[i], rng.IntN(corruptKinds))
	}
	envs[20].Proof.B = randTwistPoint(rng)
	var ref []Verdict
	for _, o := range []Options{{Workers: 1, ChunkSize: 1}, {Workers: 2, ChunkSize: 5}, {Workers: 3, ChunkSize: 64}, {Workers: 8, ChunkSize: 3}} {
		v, err := NewVerifier(fx.setup.VerifyingKey, o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.VerifyProofs(ctx, envs)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = res.Verdicts
			if len(res.Rejected()) != 5 || res.Verdicts[20] != VerdictMalformed {
				t.Fatalf("verdicts %v: want 4 invalid proofs and a malformed one at 20", res.Verdicts)
			}
			continue
		}
		if !slices.Equal(res.Verdicts, ref) {
			t.Fatalf("options %+v: verdicts %v differ from %v", o, res.Verdicts, ref)
		}
	}
}

func TestBatchScalars(t *testing.T) {
	fx := getFixture(t)
	items := make([]item, 6)
	for i := range items {
		items[i] = item{idx: i, proof: fx.pool[i].Proof, public: fx.pool[i].Public.vector()}
	}
	s1 := fx.verifier.scalars(items)
	s2 := fx.verifier.scalars(items)
	if !slices.Equal(s1, s2) {
		t.Fatal("scalars are not deterministic")
	}
	seen := map[fr.Element]bool{}
	for i, s := range s1 {
		var want, b fr.Element
		b.SetUint64(s.b)
		want.SetUint64(s.a)
		b.Mul(&b, &fx.verifier.lambda)
		want.Add(&want, &b)
		if s.r != want || s.r.IsZero() || seen[s.r] {
			t.Fatalf("scalar %d is not a fresh a + λb", i)
		}
		seen[s.r] = true
	}
	// Changing one public input changes every scalar.
	items[3].public[2].SetUint64(99)
	s3 := fx.verifier.scalars(items)
	for i := range s3 {
		if s3[i] == s1[i] {
			t.Fatalf("scalar %d did not change with the batch", i)
		}
	}
	// Changing the order changes them too.
	items[0], items[1] = items[1], items[0]
	s4 := fx.verifier.scalars(items)
	if s4[0] == s3[1] || s4[1] == s3[0] {
		t.Fatal("scalars do not depend on the position in the batch")
	}
}

// TestFixedLinesSurviveVerification guards against the MillerLoopFixedQ
// pitfall of gnark-crypto v0.19.0: the function writes into its lines, so
// the verifier must pass copies of the key's precomputed lines.
func TestFixedLinesSurviveVerification(t *testing.T) {
	fx := getFixture(t)
	v, err := NewVerifier(fx.setup.VerifyingKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		res, err := v.VerifyProofs(ctx, fx.pool[:4])
		if err != nil {
			t.Fatal(err)
		}
		if !res.AllValid() {
			t.Fatalf("round %d: valid proofs rejected: %v", round, res.Verdicts)
		}
	}
	vk := fx.setup.VerifyingKey
	for i, q := range []bn254.G2Affine{vk.beta, vk.gamma, vk.delta} {
		if v.fixedLines[i] != bn254.PrecomputeLines(q) {
			t.Fatalf("fixed lines %d were modified by verification", i)
		}
	}
}

func TestVerifierLimits(t *testing.T) {
	fx := getFixture(t)
	v, err := NewVerifier(fx.setup.VerifyingKey, Options{MaxBatch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyProofs(context.Background(), fx.pool[:4]); err == nil {
		t.Fatal("batch above MaxBatch accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.VerifyBatch(ctx, fx.pool[:2], Policy{}); err == nil {
		t.Fatal("verification with a cancelled context succeeded")
	}
	if res, err := v.VerifyProofs(context.Background(), nil); err != nil || len(res.Verdicts) != 0 || !res.AllValid() {
		t.Fatalf("empty batch: %v, %v", res, err)
	}
	for _, o := range []Options{{Workers: -1}, {MaxBatch: -1}, {ChunkSize: 5000}} {
		if _, err := NewVerifier(fx.setup.VerifyingKey, o); err == nil {
			t.Fatalf("options %+v accepted", o)
		}
	}
}
