package loadtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// HeaderSize is the length of the header every load transaction starts
// with: magic "dgLT" | run id u32 | sequence u64 | send time u64 (Unix
// nanoseconds), big-endian. Followers need only these first bytes.
const HeaderSize = 24

// MinTxSize is the smallest transaction the generator makes.
const MinTxSize = HeaderSize

var errNotLoadTx = errors.New("loadtest: not a load transaction")

const magic = "dgLT"

// TxHeader is what a load transaction says about itself.
type TxHeader struct {
	Run  uint32
	Seq  uint64
	Sent time.Time
}

// MakeTx returns a transaction of size bytes (at least HeaderSize) with
// the given header; the rest is a filler derived from the sequence number.
func MakeTx(h TxHeader, size int) []byte {
	size = max(size, HeaderSize)
	tx := make([]byte, size)
	copy(tx, magic)
	binary.BigEndian.PutUint32(tx[4:], h.Run)
	binary.BigEndian.PutUint64(tx[8:], h.Seq)
	binary.BigEndian.PutUint64(tx[16:], uint64(h.Sent.UnixNano()))
	x := h.Seq*0x9E3779B97F4A7C15 | 1
	for i := HeaderSize; i+8 <= size; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(tx[i:], x)
	}
	return tx
}

// ParseTx reads the header of a load transaction (or of its first
// HeaderSize bytes).
func ParseTx(tx []byte) (TxHeader, error) {
	if len(tx) < HeaderSize || string(tx[:4]) != magic {
		return TxHeader{}, fmt.Errorf("%w (%d bytes)", errNotLoadTx, len(tx))
	}
	return TxHeader{
		Run:  binary.BigEndian.Uint32(tx[4:]),
		Seq:  binary.BigEndian.Uint64(tx[8:]),
		Sent: time.Unix(0, int64(binary.BigEndian.Uint64(tx[16:]))),
	}, nil
}
