package zk

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/dagd/dagd/crypto"
)

// ElementSize is the length in bytes of the canonical encoding of a field
// element of the BN254 scalar field: 32 bytes, big-endian, less than the
// field modulus r.
const ElementSize = fr.Bytes

// Domain separators of the values hashed to the field with BLAKE3. They are
// part of the protocol: changing one changes every signal and scope hash.
const (
	domainSignal = "dagd/zk/signal/v1"
	domainScope  = "dagd/zk/scope/v1"
)

// HashToField maps msg to a field element under a domain separator: the
// first 31 bytes of BLAKE3-256(len(domain) || domain || msg), read as a
// big-endian integer, which is always below the modulus (2^248 < r). The
// result is uniform over [0, 2^248).
func HashToField(domain string, msg []byte) fr.Element {
	var n [8]byte
	putUint64(n[:], uint64(len(domain)))
	d := crypto.Hash(n[:], []byte(domain), msg)
	var buf [ElementSize]byte
	copy(buf[1:], d[:31])
	var e fr.Element
	e.SetBytes(buf[:])
	return e
}

// SignalHash returns the public input that commits to an external signal,
// for example a vote on a proposal.
func SignalHash(signal []byte) fr.Element { return HashToField(domainSignal, signal) }

// ScopeHash returns the public scope (Semaphore's external nullifier) for a
// scope name, for example a proposal identifier. A member signals at most
// once per scope.
func ScopeHash(scope []byte) fr.Element { return HashToField(domainScope, scope) }

// ElementBytes returns the canonical 32-byte big-endian encoding of e.
func ElementBytes(e *fr.Element) [ElementSize]byte { return e.Bytes() }

// ElementFromBytes decodes a canonical 32-byte big-endian field element. It
// rejects any other length and any value not below the modulus.
func ElementFromBytes(b []byte) (fr.Element, error) {
	var e fr.Element
	if len(b) != ElementSize {
		return e, fmt.Errorf("zk: field element must be %d bytes, got %d", ElementSize, len(b))
	}
	v, err := fr.BigEndian.Element((*[ElementSize]byte)(b))
	if err != nil {
		return e, fmt.Errorf("zk: field element is not canonical: %w", err)
	}
	return v, nil
}

// FormatElement returns the canonical text form of e: "0x" followed by 64
// lower-case hex digits.
func FormatElement(e *fr.Element) string {
	b := e.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// ParseElement parses the text form produced by FormatElement. It accepts
// exactly "0x" and 64 lower-case hex digits encoding a value below the
// modulus, so that every element has one text form.
func ParseElement(s string) (fr.Element, error) {
	var e fr.Element
	rest, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return e, fmt.Errorf("zk: field element %q must start with 0x", clip(s))
	}
	if len(rest) != 2*ElementSize {
		return e, fmt.Errorf("zk: field element must have %d hex digits, got %d", 2*ElementSize, len(rest))
	}
	if strings.ToLower(rest) != rest {
		return e, fmt.Errorf("zk: field element %q must be lower-case hex", clip(s))
	}
	b, err := hex.DecodeString(rest)
	if err != nil {
		return e, fmt.Errorf("zk: parse field element: %w", err)
	}
	return ElementFromBytes(b)
}

// clip shortens untrusted text quoted in error messages.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func putUint32(b []byte, v uint32) {
	_ = b[3]
	for i := 0; i < 4; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func getUint64(b []byte) uint64 {
	_ = b[7]
	var v uint64
	for i := 0; i < 8; i++ {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

func getUint32(b []byte) uint32 {
	_ = b[3]
	var v uint32
	for i := 0; i < 4; i++ {
		v |= uint32(b[i]) << (8 * i)
	}
	return v
}
