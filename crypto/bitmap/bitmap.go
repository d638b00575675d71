// Package bitmap is the signer bitmap of dagd's aggregate signatures: which
// validators of a committee signed. It has no cgo dependency, so package
// crypto (which signs and verifies with blst) and the light-client
// packages (engine/checkpoint, built with CGO_ENABLED=0) share one
// definition and one canonical form. Package crypto re-exports it as
// crypto.Bitmap, crypto.NewBitmap and crypto.ParseBitmap.
package bitmap

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrMalformed reports a bitmap that is not the canonical form for its
// committee size: a wrong length, a bit at or above the size, or a negative
// size. Package crypto's ParseBitmap wraps it together with
// crypto.ErrMalformed.
var ErrMalformed = errors.New("malformed bitmap")

// Bitmap records which validators of a committee signed an aggregate: bit i
// (bit i%8 of byte i/8, least significant bit first) is set when validator i
// signed. Its canonical form for n validators is exactly ceil(n/8) bytes with
// no bit set at or above n; Parse accepts only that form, so one signer set
// has one encoding.
type Bitmap []byte

// New returns an empty bitmap for n validators (ceil(n/8) zero bytes). A
// negative n is treated as zero.
func New(n int) Bitmap {
	if n < 0 {
		n = 0
	}
	return make(Bitmap, Len(n))
}

// Len returns the length in bytes of the canonical bitmap of n validators,
// ceil(n/8), or 0 for a negative n.
func Len(n int) int {
	if n <= 0 {
		return 0
	}
	return (n-1)/8 + 1
}

// Parse decodes the canonical bitmap of n validators: b must have exactly
// ceil(n/8) bytes and no bit set at or above n. It returns a copy, so the
// caller's buffer may be reused. Every error wraps ErrMalformed.
func Parse(b []byte, n int) (Bitmap, error) {
	if n < 0 {
		return nil, fmt.Errorf("parse bitmap: negative committee size %d: %w", n, ErrMalformed)
	}
	if want := Len(n); len(b) != want {
		return nil, fmt.Errorf("parse bitmap: %d bytes for %d validators, want %d: %w", len(b), n, want, ErrMalformed)
	}
	if i := Bitmap(b).FirstAtOrAbove(n); i >= 0 {
		return nil, fmt.Errorf("parse bitmap: bit %d set for a committee of %d: %w", i, n, ErrMalformed)
	}
	out := make(Bitmap, len(b))
	copy(out, b)
	return out, nil
}

// FirstAtOrAbove returns the lowest set bit at index >= n, or -1 when there
// is none. A canonical bitmap of n validators has none.
func (b Bitmap) FirstAtOrAbove(n int) int {
	if n < 0 {
		n = 0
	}
	for byteIdx := n / 8; byteIdx < len(b); byteIdx++ {
		v := b[byteIdx]
		if byteIdx == n/8 {
			v &^= byte(1)<<(n%8) - 1 // ignore bits below n in the boundary byte
		}
		if v != 0 {
			return byteIdx*8 + bits.TrailingZeros8(v)
		}
	}
	return -1
}

// Set marks validator i as a signer. Like a slice index, it panics when i is
// outside [0, 8*len(b)); check indices that come from the network against the
// committee size first.
func (b Bitmap) Set(i int) {
	if i < 0 || i >= 8*len(b) {
		panic(fmt.Sprintf("bitmap: Set(%d) out of range for %d bits", i, 8*len(b)))
	}
	b[i/8] |= 1 << (i % 8)
}

// Has reports whether validator i is marked; it is false for any i outside
// the bitmap.
func (b Bitmap) Has(i int) bool {
	if i < 0 || i >= 8*len(b) {
		return false
	}
	return b[i/8]&(1<<(i%8)) != 0
}

// Count returns the number of marked validators.
func (b Bitmap) Count() int {
	n := 0
	for _, v := range b {
		n += bits.OnesCount8(v)
	}
	return n
}

// Indices returns the marked validators in increasing order.
func (b Bitmap) Indices() []int {
	out := make([]int, 0, b.Count())
	for byteIdx, v := range b {
		for v != 0 {
			out = append(out, byteIdx*8+bits.TrailingZeros8(v))
			v &= v - 1
		}
	}
	return out
}
