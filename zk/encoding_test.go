package zk

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

func TestEnvelopeEncoding(t *testing.T) {
	fx := getFixture(t)
	env := fx.pool[3]
	b, err := env.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != EnvelopeSize {
		t.Fatalf("envelope is %d bytes, want %d", len(b), EnvelopeSize)
	}
	var back Envelope
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back != env {
		t.Fatal("envelope round trip changed it")
	}
	pBytes := fp.Modulus().FillBytes(make([]byte, 32))
	rBytes := fr.Modulus().FillBytes(make([]byte, 32))
	pubOff := 9 + 32
	proofOff := pubOff + PublicInputsSize
	cases := map[string]func([]byte) []byte{
		"short":                 func(b []byte) []byte { return b[:len(b)-1] },
		"long":                  func(b []byte) []byte { return append(b, 0) },
		"magic":                 func(b []byte) []byte { b[0] ^= 1; return b },
		"version":               func(b []byte) []byte { b[8] = 2; return b },
		"public input = r":      func(b []byte) []byte { copy(b[pubOff+32:], rBytes); return b },
		"A.x = p":               func(b []byte) []byte { copy(b[proofOff:], pBytes); return b },
		"A off the curve":       func(b []byte) []byte { b[proofOff+63] ^= 1; return b },
		"B off the twist":       func(b []byte) []byte { b[proofOff+64+127] ^= 1; return b },
		"B coordinate = p":      func(b []byte) []byte { copy(b[proofOff+64+32:], pBytes); return b },
		"C off the curve":       func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"C top bits set":        func(b []byte) []byte { b[len(b)-64] |= 0xc0; return b },
		"public input all ones": func(b []byte) []byte { copy(b[pubOff:], bytes.Repeat([]byte{0xff}, 32)); return b },
	}
	for name, mutate := range cases {
		m := mutate(append([]byte(nil), b...))
		var e Envelope
		if err := e.UnmarshalBinary(m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Points at infinity are all zeros and decode.
	inf := append([]byte(nil), b...)
	copy(inf[proofOff:], make([]byte, G1Size))
	if err := back.UnmarshalBinary(inf); err != nil || !back.Proof.A.IsInfinity() {
		t.Fatalf("infinity A: %v", err)
	}
}

func TestVerifyingKeyEncoding(t *testing.T) {
	fx := getFixture(t)
	vk := fx.setup.VerifyingKey
	b, err := vk.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != VerifyingKeySize {
		t.Fatalf("key is %d bytes, want %d", len(b), VerifyingKeySize)
	}
	back, err := ParseVerifyingKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != vk.Digest() || back.Depth() != testDepth {
		t.Fatal("verifying key round trip changed the digest")
	}
	// Every single-byte change is rejected or changes the digest.
	for i := range b {
		m := append([]byte(nil), b...)
		m[i] ^= 0x01
		if k, err := ParseVerifyingKey(m); err == nil && k.Digest() == vk.Digest() {
			t.Fatalf("byte %d changed and the digest did not", i)
		}
	}
	// A public-input point at infinity is refused (an unconstrained input).
	m := append([]byte(nil), b...)
	copy(m[len(m)-G1Size:], make([]byte, G1Size))
	if _, err := ParseVerifyingKey(m); err == nil {
		t.Fatal("key with a K point at infinity accepted")
	}
	m = append([]byte(nil), b...)
	m[10] = 4
	if _, err := ParseVerifyingKey(m); err == nil {
		t.Fatal("key with 4 public-input points accepted")
	}
	// A verifier for the round-tripped key accepts the pool.
	v, err := NewVerifier(back, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.VerifyProofs(context.Background(), fx.pool[:3])
	if err != nil || !res.AllValid() {
		t.Fatalf("round-tripped key: %v %v", res, err)
	}
}

func TestProvingKeyFiles(t *testing.T) {
	fx := getFixture(t)
	dir := t.TempDir()
	pkPath, vkPath, err := WriteKeyFiles(filepath.Join(dir, "keys"), fx.setup)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := ReadVerifyingKeyFile(vkPath)
	if err != nil || vk.Digest() != fx.setup.VerifyingKey.Digest() {
		t.Fatalf("verifying key file: %v", err)
	}
	pk, err := ReadProvingKeyFile(pkPath)
	if err != nil {
		t.Fatal(err)
	}
	if pk.VerifyingKeyDigest() != vk.Digest() || pk.Depth() != testDepth {
		t.Fatal("proving key file lost its binding to the verifying key")
	}
	b1, _ := fx.setup.ProvingKey.MarshalBinary()
	b2, _ := pk.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Fatal("proving key round trip is not exact")
	}
	// The decoded key proves.
	prover, err := NewProver(pk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	path, _ := fx.group.Path(2)
	env, err := prover.Prove(context.Background(), fx.ids[2], path, fx.scopes[0], SignalHash([]byte("from file")))
	if err != nil {
		t.Fatal(err)
	}
	if !fx.gnarkValid(env) {
		t.Fatal("proof from the decoded proving key is invalid")
	}
	// Truncations and count corruptions are errors, never panics or huge
	// allocations.
	for _, n := range []int{0, 9, 10, 60, 200, len(b1) / 2, len(b1) - 1} {
		if _, err := ParseProvingKey(b1[:n]); err == nil {
			t.Fatalf("proving key truncated to %d bytes accepted", n)
		}
	}
	for _, off := range []int{42, 50, 58 + 3*G1Size} {
		m := append([]byte(nil), b1...)
		m[off+3] = 0x7f
		if _, err := ParseProvingKey(m); err == nil {
			t.Fatalf("proving key with a corrupt count at %d accepted", off)
		}
	}
	if _, err := ParseProvingKey(append(append([]byte(nil), b1...), 0)); err == nil {
		t.Fatal("proving key with a trailing byte accepted")
	}
	// A key of another depth does not fit the circuit.
	other := *pk
	other.depth = testDepth + 1
	if _, err := NewProver(&other, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a proving key was accepted for another depth")
	}
}

func TestDeterministicSetup(t *testing.T) {
	ctx := context.Background()
	lg := slog.New(slog.DiscardHandler)
	a, err := DeterministicSetup(ctx, 1, []byte("seed one"), lg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DeterministicSetup(ctx, 1, []byte("seed one"), lg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := DeterministicSetup(ctx, 1, []byte("seed two"), lg)
	if err != nil {
		t.Fatal(err)
	}
	if a.VerifyingKey.Digest() != b.VerifyingKey.Digest() {
		t.Fatal("same seed, different verifying keys")
	}
	pa, _ := a.ProvingKey.MarshalBinary()
	pb, _ := b.ProvingKey.MarshalBinary()
	if !bytes.Equal(pa, pb) {
		t.Fatal("same seed, different proving keys")
	}
	if a.VerifyingKey.Digest() == c.VerifyingKey.Digest() {
		t.Fatal("different seeds, same verifying key")
	}
	if _, err := DeterministicSetup(ctx, 0, nil, lg); err == nil {
		t.Fatal("depth 0 accepted")
	}
}

// TestCeremonyKeys runs the production path end to end on a depth-1
// circuit: gnark's two-phase MPC with one contributor per phase, verified
// and sealed with a beacon, imported with KeysFromCeremony, then a proof
// checked by the batch verifier and by gnark.
func TestCeremonyKeys(t *testing.T) {
	const depth = 1
	r1cs, err := CompileMembership(depth)
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(1)
	for n < uint64(r1cs.GetNbConstraints()) {
		n <<= 1
	}
	beacon := []byte("test beacon")
	p1 := mpcsetup.NewPhase1(n)
	p1.Contribute()
	commons, err := mpcsetup.VerifyPhase1(n, beacon, p1)
	if err != nil {
		t.Fatal(err)
	}
	// The coordinator initializes phase 2 and sends its transcript to the
	// contributor, who contributes; anyone can then verify and seal.
	var p2 mpcsetup.Phase2
	p2.Initialize(r1cs, &commons)
	var buf bytes.Buffer
	if _, err := p2.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var contrib mpcsetup.Phase2
	if _, err := contrib.ReadFrom(&buf); err != nil {
		t.Fatal(err)
	}
	contrib.Contribute()
	gpk, gvk, err := mpcsetup.VerifyPhase2(r1cs, &commons, beacon, &contrib)
	if err != nil {
		t.Fatal(err)
	}
	res, err := KeysFromCeremony(depth, gpk, gvk)
	if err != nil {
		t.Fatal(err)
	}
	lg := slog.New(slog.DiscardHandler)
	prover, err := NewProver(res.ProvingKey, lg)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGroup(depth)
	rng := testRand(t, 31)
	id, _ := IdentityFromSecret(randFr(rng))
	if _, err := g.Add(id.Commitment()); err != nil {
		t.Fatal(err)
	}
	path, _ := g.Path(0)
	env, err := prover.Prove(context.Background(), id, path, ScopeHash([]byte("s")), SignalHash([]byte("m")))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(res.VerifyingKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := *env
	bad.Public.Scope = ScopeHash([]byte("other"))
	out, err := v.VerifyProofs(context.Background(), []Envelope{*env, bad})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdicts[0] != VerdictValid || out.Verdicts[1] != VerdictInvalidProof {
		t.Fatalf("ceremony keys: verdicts %v", out.Verdicts)
	}
}
