package zk

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"

	"github.com/dagd/dagd/crypto"
)

// ProofSize is the size of an encoded Groth16 proof: A (G1) | B (G2) | C (G1).
const ProofSize = 2*G1Size + G2Size

// Proof is a Groth16 proof over BN254 without Pedersen commitments.
type Proof struct {
	A bn254.G1Affine
	B bn254.G2Affine
	C bn254.G1Affine
}

// AppendBinary appends the canonical encoding of p to dst.
func (p *Proof) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendG1(dst, &p.A)
	dst = appendG2(dst, &p.B)
	return appendG1(dst, &p.C), nil
}

// MarshalBinary returns the canonical encoding of p.
func (p *Proof) MarshalBinary() ([]byte, error) { return p.AppendBinary(make([]byte, 0, ProofSize)) }

// UnmarshalBinary decodes exactly ProofSize bytes. Points must be canonical
// and on their curves; the subgroup of B is checked by the verifier.
func (p *Proof) UnmarshalBinary(b []byte) error {
	if len(b) != ProofSize {
		return fmt.Errorf("zk: proof is %d bytes, want %d", len(b), ProofSize)
	}
	var q Proof
	var err error
	if q.A, err = decodeG1(b); err != nil {
		return fmt.Errorf("zk: proof A: %w", err)
	}
	if q.B, err = decodeG2(b[G1Size:]); err != nil {
		return fmt.Errorf("zk: proof B: %w", err)
	}
	if q.C, err = decodeG1(b[G1Size+G2Size:]); err != nil {
		return fmt.Errorf("zk: proof C: %w", err)
	}
	*p = q
	return nil
}

// fromGnarkProof converts a proof of gnark's prover, refusing proofs that
// carry Pedersen commitments (their check is not part of this verifier).
func fromGnarkProof(g *groth16bn254.Proof) (Proof, error) {
	if len(g.Commitments) != 0 {
		return Proof{}, fmt.Errorf("zk: proof carries %d Pedersen commitments; none are supported", len(g.Commitments))
	}
	return Proof{A: g.Ar, B: g.Bs, C: g.Krs}, nil
}

// gnarkProof returns p as a gnark proof, for gnark's own groth16.Verify.
func (p *Proof) gnarkProof() *groth16bn254.Proof {
	return &groth16bn254.Proof{Ar: p.A, Bs: p.B, Krs: p.C}
}

// PublicInputsSize is the size of encoded public inputs.
const PublicInputsSize = NumPublicInputs * ElementSize

// PublicInputs are the public inputs of a membership proof, in circuit
// order.
type PublicInputs struct {
	// Root is the Merkle root of the group's member commitments.
	Root fr.Element
	// Nullifier is MiMC(2, secret, Scope): one value per member and scope.
	Nullifier fr.Element
	// SignalHash commits to the external signal (see SignalHash).
	SignalHash fr.Element
	// Scope is the public scope (see ScopeHash).
	Scope fr.Element
}

// vector returns the inputs in circuit order.
func (pi *PublicInputs) vector() [NumPublicInputs]fr.Element {
	return [NumPublicInputs]fr.Element{pi.Root, pi.Nullifier, pi.SignalHash, pi.Scope}
}

// AppendBinary appends the four inputs, each as a canonical 32-byte
// big-endian element, in circuit order.
func (pi *PublicInputs) AppendBinary(dst []byte) ([]byte, error) {
	for _, e := range pi.vector() {
		b := e.Bytes()
		dst = append(dst, b[:]...)
	}
	return dst, nil
}

// UnmarshalBinary decodes exactly PublicInputsSize bytes of canonical
// elements.
func (pi *PublicInputs) UnmarshalBinary(b []byte) error {
	if len(b) != PublicInputsSize {
		return fmt.Errorf("zk: public inputs are %d bytes, want %d", len(b), PublicInputsSize)
	}
	var v [NumPublicInputs]fr.Element
	for i := range v {
		e, err := ElementFromBytes(b[i*ElementSize : (i+1)*ElementSize])
		if err != nil {
			return fmt.Errorf("zk: public input %d: %w", i, err)
		}
		v[i] = e
	}
	*pi = PublicInputs{Root: v[0], Nullifier: v[1], SignalHash: v[2], Scope: v[3]}
	return nil
}

var envelopeMagic = [8]byte{'D', 'A', 'G', 'D', 'Z', 'K', 'P', 'F'}

const envelopeVersion = 1

// EnvelopeSize is the size of an encoded envelope.
const EnvelopeSize = 8 + 1 + crypto.DigestSize + PublicInputsSize + ProofSize

// Envelope is what a member publishes and a proof file holds: the digest of
// the verifying key the proof is for, the public inputs and the proof.
type Envelope struct {
	VerifyingKey crypto.Digest
	Public       PublicInputs
	Proof        Proof
}

// MarshalBinary returns the proof-file encoding of e (EnvelopeSize bytes):
//
//	"DAGDZKPF" | version (1) | verifying-key digest (32) |
//	Root | Nullifier | SignalHash | Scope (32 each) | A | B | C
func (e *Envelope) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, EnvelopeSize)
	out = append(out, envelopeMagic[:]...)
	out = append(out, envelopeVersion)
	out = append(out, e.VerifyingKey[:]...)
	out, _ = e.Public.AppendBinary(out)
	return e.Proof.AppendBinary(out)
}

// UnmarshalBinary decodes a proof file strictly: exact size, magic,
// version, canonical elements and points on their curves.
func (e *Envelope) UnmarshalBinary(b []byte) error {
	if len(b) != EnvelopeSize {
		return fmt.Errorf("zk: proof file is %d bytes, want %d", len(b), EnvelopeSize)
	}
	if !bytes.Equal(b[:8], envelopeMagic[:]) {
		return errors.New("zk: not a dagd proof file (bad magic)")
	}
	if b[8] != envelopeVersion {
		return fmt.Errorf("zk: proof file version %d, want %d", b[8], envelopeVersion)
	}
	var out Envelope
	copy(out.VerifyingKey[:], b[9:9+crypto.DigestSize])
	off := 9 + crypto.DigestSize
	if err := out.Public.UnmarshalBinary(b[off : off+PublicInputsSize]); err != nil {
		return err
	}
	off += PublicInputsSize
	if err := out.Proof.UnmarshalBinary(b[off:]); err != nil {
		return err
	}
	*e = out
	return nil
}
