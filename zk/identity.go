package zk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Identity is a member's secret: one non-zero field element. Its commitment
// is public (it is the member's leaf in a group); the secret itself never
// leaves the member.
type Identity struct {
	secret fr.Element
}

// NewIdentity draws a fresh identity from rand (crypto/rand.Reader in
// production): 64 bytes reduced modulo r, so the secret is uniform up to a
// negligible bias.
func NewIdentity(rand io.Reader) (Identity, error) {
	var buf [64]byte
	for {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return Identity{}, fmt.Errorf("zk: read randomness for identity: %w", err)
		}
		var s fr.Element
		s.SetBytes(buf[:])
		if !s.IsZero() {
			return Identity{secret: s}, nil
		}
	}
}

// IdentityFromSecret wraps an existing secret. The zero secret is rejected.
func IdentityFromSecret(secret fr.Element) (Identity, error) {
	if secret.IsZero() {
		return Identity{}, errors.New("zk: identity secret must not be zero")
	}
	return Identity{secret: secret}, nil
}

// Secret returns the identity secret. Handle it like a private key.
func (id Identity) Secret() fr.Element { return id.secret }

// Commitment returns the identity commitment, the member's public leaf.
func (id Identity) Commitment() fr.Element { return IdentityCommitment(id.secret) }

// Nullifier returns the member's nullifier in scope.
func (id Identity) Nullifier(scope fr.Element) fr.Element { return NullifierHash(id.secret, scope) }

// identityFileVersion is the version of the identity file format.
const identityFileVersion = 1

// maxIdentityFile bounds the size of an identity file accepted by
// DecodeIdentityFile.
const maxIdentityFile = 4 << 10

// identityFile is the JSON form of an identity file:
//
//	{"version": 1, "secret": "0x<64 hex digits>"}
type identityFile struct {
	Version int    `json:"version"`
	Secret  string `json:"secret"`
}

// EncodeIdentityFile returns the JSON identity file of id:
// {"version":1,"secret":"0x..."} followed by a newline.
func EncodeIdentityFile(id Identity) []byte {
	b, err := json.Marshal(identityFile{Version: identityFileVersion, Secret: FormatElement(&id.secret)})
	if err != nil {
		// A struct of an int and a string always marshals.
		panic("zk: marshal identity file: " + err.Error())
	}
	return append(b, '\n')
}

// DecodeIdentityFile parses an identity file strictly: known fields only,
// version 1, a canonical non-zero secret, nothing after the object.
func DecodeIdentityFile(b []byte) (Identity, error) {
	if len(b) > maxIdentityFile {
		return Identity{}, fmt.Errorf("zk: identity file is %d bytes, more than the %d allowed", len(b), maxIdentityFile)
	}
	var f identityFile
	if err := decodeStrictJSON(b, &f); err != nil {
		return Identity{}, fmt.Errorf("zk: identity file: %w", err)
	}
	if f.Version != identityFileVersion {
		return Identity{}, fmt.Errorf("zk: identity file version %d, want %d", f.Version, identityFileVersion)
	}
	s, err := ParseElement(f.Secret)
	if err != nil {
		return Identity{}, fmt.Errorf("zk: identity file secret: %w", err)
	}
	return IdentityFromSecret(s)
}

// decodeStrictJSON decodes one JSON value into v, rejecting unknown fields
// and trailing data.
func decodeStrictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}
