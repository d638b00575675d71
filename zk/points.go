package zk

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

// Sizes of the uncompressed canonical point encodings.
const (
	// G1Size is the size of an encoded G1 point: X || Y, 32 bytes each.
	G1Size = 2 * fp.Bytes
	// G2Size is the size of an encoded G2 point: X.A1 || X.A0 || Y.A1 ||
	// Y.A0, 32 bytes each (the order of EIP-197 and gnark-crypto).
	G2Size = 4 * fp.Bytes
)

// Point encodings are uncompressed, big-endian, each coordinate below the
// base field modulus p; the point at infinity is all zero bytes (it is not
// on either curve, so the form is unambiguous). Decoders accept exactly
// this form and check that a point is on its curve; subgroup membership is
// checked where the point is used (G1 of BN254 has cofactor 1, so every
// point on the curve is in the group).

var errNotCanonical = errors.New("coordinate is not below the field modulus")

func appendG1(dst []byte, p *bn254.G1Affine) []byte {
	x := p.X.Bytes()
	y := p.Y.Bytes()
	dst = append(dst, x[:]...)
	return append(dst, y[:]...)
}

func appendG2(dst []byte, p *bn254.G2Affine) []byte {
	for _, e := range [...]*fp.Element{&p.X.A1, &p.X.A0, &p.Y.A1, &p.Y.A0} {
		b := e.Bytes()
		dst = append(dst, b[:]...)
	}
	return dst
}

func decodeFp(b []byte) (fp.Element, error) {
	v, err := fp.BigEndian.Element((*[fp.Bytes]byte)(b[:fp.Bytes]))
	if err != nil {
		return v, errNotCanonical
	}
	return v, nil
}

// decodeG1 decodes a G1 point from the first G1Size bytes of b and checks
// that it is on the curve.
func decodeG1(b []byte) (bn254.G1Affine, error) {
	var p bn254.G1Affine
	if len(b) < G1Size {
		return p, fmt.Errorf("G1 point needs %d bytes, have %d", G1Size, len(b))
	}
	var err error
	if p.X, err = decodeFp(b[0:32]); err != nil {
		return p, fmt.Errorf("G1 x: %w", err)
	}
	if p.Y, err = decodeFp(b[32:64]); err != nil {
		return p, fmt.Errorf("G1 y: %w", err)
	}
	if !p.IsOnCurve() {
		return p, errors.New("G1 point is not on the curve")
	}
	return p, nil
}

// decodeG2 decodes a G2 point from the first G2Size bytes of b and checks
// that it is on the twist curve. It does not check the subgroup.
func decodeG2(b []byte) (bn254.G2Affine, error) {
	var p bn254.G2Affine
	if len(b) < G2Size {
		return p, fmt.Errorf("G2 point needs %d bytes, have %d", G2Size, len(b))
	}
	for i, e := range [...]*fp.Element{&p.X.A1, &p.X.A0, &p.Y.A1, &p.Y.A0} {
		v, err := decodeFp(b[32*i : 32*i+32])
		if err != nil {
			return p, fmt.Errorf("G2 coordinate %d: %w", i, err)
		}
		*e = v
	}
	if !p.IsOnCurve() {
		return p, errors.New("G2 point is not on the twist curve")
	}
	return p, nil
}
