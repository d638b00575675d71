package crypto

import (
	"fmt"

	"github.com/dagd/dagd/crypto/bitmap"
)

// Bitmap records which validators of a committee signed an aggregate: bit i
// (bit i%8 of byte i/8) is set when validator i signed. It is bitmap.Bitmap,
// which light clients use without cgo; see there for the canonical form.
type Bitmap = bitmap.Bitmap

// NewBitmap returns an empty bitmap for n validators (ceil(n/8) zero bytes).
// A negative n is treated as zero.
func NewBitmap(n int) Bitmap { return bitmap.New(n) }

// ParseBitmap decodes the canonical bitmap of n validators (bitmap.Parse):
// b must have exactly ceil(n/8) bytes and no bit set at or above n. It
// returns a copy. Its errors wrap both ErrMalformed and bitmap.ErrMalformed.
func ParseBitmap(b []byte, n int) (Bitmap, error) {
	bm, err := bitmap.Parse(b, n)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w (%w)", err, ErrMalformed)
	}
	return bm, nil
}
