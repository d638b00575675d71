package zk

import (
	"bytes"
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"

	"github.com/dagd/dagd/crypto"
)

// Fuzz targets for every decoder of untrusted bytes: proof files, key files,
// identity and group files, and the verifier on decoded proofs. Seed
// corpora are in testdata/fuzz/<target>/.

// fuzzKey returns a structurally valid verifying key made of random points
// (no setup: nobody can make a valid proof for it).
func fuzzKey(t testing.TB) *VerifyingKey {
	rng := mrand.New(mrand.NewPCG(77, 77))
	k := make([]bn254.G1Affine, NumPublicInputs+1)
	for i := range k {
		k[i] = randG1(rng)
	}
	vk, err := newVerifyingKey(testDepth, randG1(rng), randG2(rng), randG2(rng), randG2(rng), k)
	if err != nil {
		t.Fatal(err)
	}
	return vk
}

// fuzzEnvelope returns a well-formed envelope of random points.
func fuzzEnvelope(rng *mrand.Rand, vk *VerifyingKey) Envelope {
	return Envelope{
		VerifyingKey: vk.Digest(),
		Public:       PublicInputs{Root: randFr(rng), Nullifier: randFr(rng), SignalHash: randFr(rng), Scope: randFr(rng)},
		Proof:        Proof{A: randG1(rng), B: randG2(rng), C: randG1(rng)},
	}
}

// fuzzProvingKey returns a small proving key with consistent counts.
func fuzzProvingKey(rng *mrand.Rand) *ProvingKey {
	p := new(groth16bn254.ProvingKey)
	p.Domain = *fft.NewDomain(4)
	p.G1.Alpha, p.G1.Beta, p.G1.Delta = randG1(rng), randG1(rng), randG1(rng)
	p.InfinityA = []bool{false, true, false}
	p.InfinityB = []bool{true, false, false}
	p.NbInfinityA, p.NbInfinityB = 1, 1
	p.G1.A = []bn254.G1Affine{randG1(rng), randG1(rng)}
	p.G1.B = []bn254.G1Affine{randG1(rng), randG1(rng)}
	p.G1.Z = []bn254.G1Affine{randG1(rng), randG1(rng), randG1(rng)}
	p.G1.K = []bn254.G1Affine{randG1(rng)}
	p.G2.Beta, p.G2.Delta = randG2(rng), randG2(rng)
	p.G2.B = []bn254.G2Affine{randG2(rng), randG2(rng)}
	return &ProvingKey{depth: 2, vkDigest: crypto.Hash([]byte("fuzz")), pk: p}
}

func FuzzEnvelope(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	vk := fuzzKey(f)
	env := fuzzEnvelope(rng, vk)
	good, err := env.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:100])
	f.Add(make([]byte, EnvelopeSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Envelope
		if err := e.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("accepted a non-canonical proof file")
		}
		if !e.Proof.A.IsOnCurve() || !e.Proof.B.IsOnCurve() || !e.Proof.C.IsOnCurve() {
			t.Fatal("accepted a point off its curve")
		}
	})
}

func FuzzVerifyingKey(f *testing.F) {
	vk := fuzzKey(f)
	good, err := vk.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:VerifyingKeySize-1])
	f.Add(make([]byte, VerifyingKeySize))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseVerifyingKey(b)
		if err != nil {
			return
		}
		out, err := k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("accepted a non-canonical verifying key")
		}
		if k.Digest() != crypto.Hash([]byte(domainVKDigest), b) {
			t.Fatal("digest does not cover the encoding")
		}
		if _, err := NewVerifier(k, Options{Workers: 1}); err != nil {
			t.Fatalf("parsed key refused by NewVerifier: %v", err)
		}
	})
}

func FuzzProvingKey(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	good, err := fuzzProvingKey(rng).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:60])
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParseProvingKey(b)
		if err != nil {
			return
		}
		out, err := pk.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("accepted a non-canonical proving key")
		}
	})
}

func FuzzIdentityFile(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	id, err := IdentityFromSecret(randFr(rng))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeIdentityFile(id))
	f.Add([]byte(`{"version":1,"secret":"0x01"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := DecodeIdentityFile(b)
		if err != nil {
			return
		}
		if s := id.Secret(); s.IsZero() {
			t.Fatal("accepted a zero secret")
		}
		back, err := DecodeIdentityFile(EncodeIdentityFile(id))
		if err != nil || back.Secret() != id.Secret() {
			t.Fatalf("re-encoded identity does not decode to itself: %v", err)
		}
	})
}

func FuzzGroupFile(f *testing.F) {
	g, err := NewGroup(3)
	if err != nil {
		f.Fatal(err)
	}
	for i := uint64(1); i <= 5; i++ {
		if _, err := g.Add(fr.NewElement(i * 1000003)); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(EncodeGroupFile(g))
	empty, _ := json.Marshal(groupFile{Version: 1, Depth: 2, Members: []string{}})
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeGroupFile(b)
		if err != nil {
			return
		}
		back, err := DecodeGroupFile(EncodeGroupFile(g))
		if err != nil {
			t.Fatal(err)
		}
		if back.Root() != g.Root() || back.Size() != g.Size() || back.Depth() != g.Depth() {
			t.Fatal("re-encoded group differs")
		}
		for i, m := range g.Members() {
			if j, ok := back.IndexOf(m); !ok || j != i {
				t.Fatal("re-encoded group lost a member")
			}
		}
	})
}

// FuzzVerifyEnvelope feeds decoded proof files to the batch verifier under
// a key nobody can prove for: it must return a verdict, never an error, a
// panic or an acceptance.
func FuzzVerifyEnvelope(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	vk := fuzzKey(f)
	v, err := NewVerifier(vk, Options{Workers: 2})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		env := fuzzEnvelope(rng, vk)
		b, _ := env.MarshalBinary()
		f.Add(b)
	}
	env := fuzzEnvelope(rng, vk)
	env.Proof.B = randTwistPoint(rng)
	b, _ := env.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Envelope
		if err := e.UnmarshalBinary(b); err != nil {
			return
		}
		e.VerifyingKey = vk.Digest()
		other := e
		other.Public.Scope.SetUint64(1)
		res, err := v.VerifyBatch(context.Background(), []Envelope{e, other, e}, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		for i, verdict := range res.Verdicts {
			if verdict == VerdictValid || verdict == VerdictNullifierReused {
				t.Fatalf("envelope %d accepted under a key without a setup", i)
			}
			if verdict == VerdictMalformed && e.Proof.B.IsInSubGroup() {
				t.Fatal("a point of G2 was called malformed")
			}
		}
	})
}
