package contracts

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// ErrMalformed is wrapped by every decoding error of this package: a
// truncated input, trailing bytes, a length above its bound, a value outside
// its range or any other non-canonical form.
var ErrMalformed = errors.New("contracts: malformed encoding")

// The binary encodings of this package are built from these pieces only,
// which makes each value's encoding unique:
//
//	u8, u16, u32, u64   fixed width, big-endian
//	bool                one byte, 0 or 1
//	key, digest         32 raw bytes
//	bytes8, bytes16     a u8 or u16 length, then that many bytes; each field
//	                    has its own upper bound, checked before allocation
//	list                a u16 count, bounded per field, then the items
//
// Every decoder consumes its whole input: trailing bytes are an error.

// appendU16 appends v big-endian.
func appendU16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

// appendU32 appends v big-endian.
func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// appendU64 appends v big-endian.
func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendBool appends 1 for true and 0 for false.
func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendBytes8 appends a u8 length and s. The caller keeps s below 256
// bytes; a longer s is cut, which its decoder's bound rejects anyway.
func appendBytes8(b []byte, s []byte) []byte {
	if len(s) > 0xff {
		s = s[:0xff]
	}
	return append(append(b, byte(len(s))), s...)
}

// appendString8 is appendBytes8 of a string.
func appendString8(b []byte, s string) []byte {
	if len(s) > 0xff {
		s = s[:0xff]
	}
	return append(append(b, byte(len(s))), s...)
}

// appendBytes16 appends a u16 length and s (cut at 65535 bytes).
func appendBytes16(b []byte, s []byte) []byte {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	return append(appendU16(b, uint16(len(s))), s...)
}

// appendString16 is appendBytes16 of a string.
func appendString16(b []byte, s string) []byte {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	return append(appendU16(b, uint16(len(s))), s...)
}

// reader decodes the pieces above. The first error sticks: later reads
// return zero values, and done reports it.
type reader struct {
	b   []byte
	off int
	err error
}

// fail records the first error.
func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// take returns the next n bytes without copying, or nil after an error.
func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("%s: need %d bytes at offset %d, have %d", what, n, r.off, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

// u8 reads one byte.
func (r *reader) u8(what string) uint8 {
	s := r.take(1, what)
	if s == nil {
		return 0
	}
	return s[0]
}

// u16 reads a big-endian uint16.
func (r *reader) u16(what string) uint16 {
	s := r.take(2, what)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint16(s)
}

// u32 reads a big-endian uint32.
func (r *reader) u32(what string) uint32 {
	s := r.take(4, what)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint32(s)
}

// u64 reads a big-endian uint64.
func (r *reader) u64(what string) uint64 {
	s := r.take(8, what)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint64(s)
}

// boolean reads a byte that must be 0 or 1.
func (r *reader) boolean(what string) bool {
	v := r.u8(what)
	if v > 1 {
		r.fail("%s: boolean byte %d, want 0 or 1", what, v)
		return false
	}
	return v == 1
}

// key reads an account public key.
func (r *reader) key(what string) crypto.AccountPublicKey {
	var k crypto.AccountPublicKey
	copy(k[:], r.take(len(k), what))
	return k
}

// digest reads a 32-byte digest.
func (r *reader) digest(what string) crypto.Digest {
	var d crypto.Digest
	copy(d[:], r.take(len(d), what))
	return d
}

// bytes8 reads a u8-length byte string of min..max bytes, copied.
func (r *reader) bytes8(what string, minLen, maxLen int) []byte {
	n := int(r.u8(what + " length"))
	return r.bounded(what, n, minLen, maxLen)
}

// bytes16 reads a u16-length byte string of min..max bytes, copied.
func (r *reader) bytes16(what string, minLen, maxLen int) []byte {
	n := int(r.u16(what + " length"))
	return r.bounded(what, n, minLen, maxLen)
}

// bounded checks n against its bounds and the remaining input before
// copying n bytes.
func (r *reader) bounded(what string, n, minLen, maxLen int) []byte {
	if r.err != nil {
		return nil
	}
	if n < minLen || n > maxLen {
		r.fail("%s: length %d outside [%d, %d]", what, n, minLen, maxLen)
		return nil
	}
	s := r.take(n, what)
	if s == nil {
		return nil
	}
	return append([]byte(nil), s...)
}

// string8 reads a u8-length string of min..max bytes.
func (r *reader) string8(what string, minLen, maxLen int) string {
	return string(r.bytes8(what, minLen, maxLen))
}

// string16 reads a u16-length string of min..max bytes.
func (r *reader) string16(what string, minLen, maxLen int) string {
	return string(r.bytes16(what, minLen, maxLen))
}

// count reads a u16 list count of min..max items, each at least itemSize
// bytes, and checks the count against the remaining input before the
// caller allocates.
func (r *reader) count(what string, minN, maxN, itemSize int) int {
	n := int(r.u16(what + " count"))
	if r.err != nil {
		return 0
	}
	if n < minN || n > maxN {
		r.fail("%s: count %d outside [%d, %d]", what, n, minN, maxN)
		return 0
	}
	if n*itemSize > len(r.b)-r.off {
		r.fail("%s: %d items of at least %d bytes do not fit in %d bytes", what, n, itemSize, len(r.b)-r.off)
		return 0
	}
	return n
}

// done returns the sticky error, or an error when input is left over.
func (r *reader) done(what string) error {
	if r.err != nil {
		return fmt.Errorf("contracts: decode %s: %w", what, r.err)
	}
	if r.off != len(r.b) {
		return fmt.Errorf("contracts: decode %s: %w: %d trailing bytes", what, ErrMalformed, len(r.b)-r.off)
	}
	return nil
}
