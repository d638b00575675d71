package dag

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// ErrMalformed is wrapped by every decoding error: the bytes are not a
// canonical encoding of the expected value.
var ErrMalformed = errors.New("dag: malformed encoding")

// encoder appends canonical big-endian fields to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) digest(d crypto.Digest) {
	e.b = append(e.b, d[:]...)
}

// bytes16 writes a byte string of at most 65535 bytes with a 2-byte length.
func (e *encoder) bytes16(p []byte) {
	e.u16(uint16(len(p)))
	e.b = append(e.b, p...)
}

// bytes32 writes a byte string with a 4-byte length.
func (e *encoder) bytes32(p []byte) {
	e.u32(uint32(len(p)))
	e.b = append(e.b, p...)
}

// decoder reads canonical fields; the first error sticks and later reads
// return zero values, so callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail("truncated %s: need %d bytes, have %d", what, n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8(what string) uint8 {
	p := d.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u16(what string) uint16 {
	p := d.take(2, what)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (d *decoder) u32(what string) uint32 {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) u64(what string) uint64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (d *decoder) digest(what string) crypto.Digest {
	var out crypto.Digest
	p := d.take(crypto.DigestSize, what)
	if p != nil {
		copy(out[:], p)
	}
	return out
}

// count reads a 4-byte element count and checks it against max and against
// the bytes left (each element is at least minSize bytes) before anything is
// allocated.
func (d *decoder) count(what string, max, minSize int) int {
	n := d.u32(what + " count")
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.fail("%s count %d exceeds limit %d", what, n, max)
		return 0
	}
	if minSize > 0 && uint64(n)*uint64(minSize) > uint64(len(d.b)) {
		d.fail("%s count %d exceeds the %d bytes left", what, n, len(d.b))
		return 0
	}
	return int(n)
}

// bytes16 reads a 2-byte length and that many bytes, copying them so the
// result does not alias the input.
func (d *decoder) bytes16(what string, max int) []byte {
	n := int(d.u16(what + " length"))
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail("%s length %d exceeds limit %d", what, n, max)
		return nil
	}
	p := d.take(n, what)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// bytes32 reads a 4-byte length and that many bytes (copied).
func (d *decoder) bytes32(what string, max int) []byte {
	n := d.u32(what + " length")
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		d.fail("%s length %d exceeds limit %d", what, n, max)
		return nil
	}
	p := d.take(int(n), what)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// finish reports the sticky error, or an error if bytes are left over.
func (d *decoder) finish(what string) error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %s", ErrMalformed, len(d.b), what)
	}
	return nil
}
