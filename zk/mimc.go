package zk

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	nativemimc "github.com/consensys/gnark-crypto/ecc/bn254/fr/mimc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/hash/mimc"
)

// Domain tags hashed in front of a secret, so that an identity commitment
// and a nullifier can never be confused with each other or with an inner
// node of the Merkle tree (whose inputs carry no tag).
const (
	tagCommitment = 1
	tagNullifier  = 2
)

// mimcHash is the native MiMC-BN254 hash (Miyaguchi–Preneel over the
// 110-round MiMC-x^5 permutation, as gnark-crypto and gnark's standard
// library define it) of a sequence of field elements.
func mimcHash(elems ...*fr.Element) fr.Element {
	h := nativemimc.NewMiMC()
	for _, e := range elems {
		b := e.Bytes()
		// Write accepts any canonical element; e.Bytes() is canonical.
		if _, err := h.Write(b[:]); err != nil {
			panic("zk: MiMC rejected a canonical field element: " + err.Error())
		}
	}
	var out fr.Element
	out.SetBytes(h.Sum(nil))
	return out
}

// HashPair returns the Merkle tree node above the children left and right:
// MiMC(left, right).
func HashPair(left, right fr.Element) fr.Element { return mimcHash(&left, &right) }

// IdentityCommitment returns the public commitment of an identity secret,
// the leaf a member adds to a group: MiMC(1, secret).
func IdentityCommitment(secret fr.Element) fr.Element {
	t := fr.NewElement(tagCommitment)
	return mimcHash(&t, &secret)
}

// NullifierHash returns the nullifier of an identity in a scope:
// MiMC(2, secret, scope). It is the same every time the member signals in
// that scope, and reveals nothing about the member.
func NullifierHash(secret, scope fr.Element) fr.Element {
	t := fr.NewElement(tagNullifier)
	return mimcHash(&t, &secret, &scope)
}

// circuitHash is the in-circuit counterpart of mimcHash.
func circuitHash(api frontend.API, elems ...frontend.Variable) (frontend.Variable, error) {
	h, err := mimc.NewMiMC(api)
	if err != nil {
		return nil, err
	}
	h.Write(elems...)
	return h.Sum(), nil
}
