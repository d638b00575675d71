package proof

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/dagd/dagd/crypto/digest"
)

// ErrMalformed is wrapped by every error Unmarshal returns for bytes that
// are not the canonical encoding of a proof, and by MarshalBinary for a
// proof that cannot be encoded.
var ErrMalformed = errors.New("proof: malformed proof encoding")

const (
	flagLeaf   = 0x01
	headerSize = 3 // flags, then the big-endian sibling count
	leafSize   = 2 * digest.Size
)

// MaxEncodedSize is the size of the largest canonical proof encoding: 256
// non-empty siblings and a leaf.
const MaxEncodedSize = headerSize + PathBits/8 + PathBits*digest.Size + leafSize

// EncodedSize returns the length of p's canonical encoding.
func (p *Proof) EncodedSize() int {
	n := len(p.Siblings)
	size := headerSize + (n+7)/8
	for _, s := range p.Siblings {
		if s != emptyHash {
			size += digest.Size
		}
	}
	if p.Leaf != nil {
		size += leafSize
	}
	return size
}

// AppendBinary appends p's canonical encoding (see the package comment) to b.
func (p *Proof) AppendBinary(b []byte) ([]byte, error) {
	n := len(p.Siblings)
	if n > PathBits {
		return b, fmt.Errorf("%w: %d siblings, at most %d", ErrMalformed, n, PathBits)
	}
	var flags byte
	if p.Leaf != nil {
		flags |= flagLeaf
	}
	b = append(b, flags, byte(n>>8), byte(n))
	start := len(b)
	b = append(b, make([]byte, (n+7)/8)...)
	for i, s := range p.Siblings {
		if s != emptyHash {
			b[start+i/8] |= 0x80 >> uint(i%8)
		}
	}
	for _, s := range p.Siblings {
		if s != emptyHash {
			b = append(b, s[:]...)
		}
	}
	if p.Leaf != nil {
		b = append(b, p.Leaf.KeyHash[:]...)
		b = append(b, p.Leaf.ValueHash[:]...)
	}
	return b, nil
}

// MarshalBinary returns p's canonical encoding (see the package comment).
func (p *Proof) MarshalBinary() ([]byte, error) {
	if len(p.Siblings) > PathBits {
		return nil, fmt.Errorf("%w: %d siblings, at most %d", ErrMalformed, len(p.Siblings), PathBits)
	}
	return p.AppendBinary(make([]byte, 0, p.EncodedSize()))
}

// UnmarshalBinary decodes the canonical encoding in data into p, replacing
// its contents. It is strict: see Unmarshal.
func (p *Proof) UnmarshalBinary(data []byte) error {
	q, err := Unmarshal(data)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// Unmarshal decodes a proof from its canonical encoding. It rejects every
// other byte string, unknown flags, more than PathBits siblings, set padding
// bits, an encoded sibling equal to EmptyHash(), short input and trailing
// bytes, and checks lengths before it allocates. Every error wraps
// ErrMalformed. It never panics.
func Unmarshal(data []byte) (*Proof, error) {
	if len(data) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformed, len(data), headerSize)
	}
	flags := data[0]
	if flags&^flagLeaf != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#02x", ErrMalformed, flags)
	}
	n := int(binary.BigEndian.Uint16(data[1:3]))
	if n > PathBits {
		return nil, fmt.Errorf("%w: %d siblings, at most %d", ErrMalformed, n, PathBits)
	}
	rest := data[headerSize:]
	bitmapLen := (n + 7) / 8
	if len(rest) < bitmapLen {
		return nil, fmt.Errorf("%w: truncated sibling bitmap", ErrMalformed)
	}
	bitmap := rest[:bitmapLen]
	rest = rest[bitmapLen:]
	if n%8 != 0 && bitmap[bitmapLen-1]&(0xff>>uint(n%8)) != 0 {
		return nil, fmt.Errorf("%w: padding bits of the sibling bitmap are set", ErrMalformed)
	}
	present := 0
	for _, x := range bitmap {
		present += bits.OnesCount8(x)
	}
	want := present * digest.Size
	if flags&flagLeaf != 0 {
		want += leafSize
	}
	if len(rest) != want {
		if len(rest) < want {
			return nil, fmt.Errorf("%w: truncated: %d bytes after the bitmap, want %d", ErrMalformed, len(rest), want)
		}
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest)-want)
	}
	p := &Proof{}
	if n > 0 {
		p.Siblings = make([]digest.Digest, n)
	}
	for i := 0; i < n; i++ {
		if bitmap[i/8]&(0x80>>uint(i%8)) == 0 {
			p.Siblings[i] = emptyHash
			continue
		}
		copy(p.Siblings[i][:], rest[:digest.Size])
		rest = rest[digest.Size:]
		if p.Siblings[i] == emptyHash {
			return nil, fmt.Errorf("%w: sibling %d is the empty hash but is encoded in full", ErrMalformed, i)
		}
	}
	if flags&flagLeaf != 0 {
		p.Leaf = &Leaf{}
		copy(p.Leaf.KeyHash[:], rest[:digest.Size])
		copy(p.Leaf.ValueHash[:], rest[digest.Size:leafSize])
	}
	return p, nil
}
