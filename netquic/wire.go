package netquic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Wire constants (see the package comment).
const (
	protocolVersion = 1
	frameHeaderLen  = 4
	helloFixedLen   = 10 // magic(4) version(1) from(2) to(2) len(1)
	maxHelloLen     = helloFixedLen + MaxChainIDLen
	ackLen          = 7 // magic(4) version(1) from(2)
)

var (
	helloMagic = [4]byte{'D', 'Q', 'H', 'L'}
	ackMagic   = [4]byte{'D', 'Q', 'A', 'K'}
	// bulkMagic opens the bulk stream (see the package comment).
	bulkMagic = [4]byte{'D', 'Q', 'B', 'K'}
)

// hello is the dialer's first message on a connection.
type hello struct {
	From    PeerID
	To      PeerID
	ChainID string
}

// appendHello appends the encoding of h to b. h.ChainID must hold 1 to
// MaxChainIDLen bytes.
func appendHello(b []byte, h hello) []byte {
	b = append(b, helloMagic[:]...)
	b = append(b, protocolVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(h.From))
	b = binary.BigEndian.AppendUint16(b, uint16(h.To))
	b = append(b, byte(len(h.ChainID)))
	return append(b, h.ChainID...)
}

// parseHelloFixed checks the fixed part of a hello and returns the length
// of the chain id that follows.
func parseHelloFixed(b []byte) (chainLen int, err error) {
	if len(b) < helloFixedLen {
		return 0, fmt.Errorf("%w: %d bytes, shorter than %d", ErrBadHello, len(b), helloFixedLen)
	}
	if [4]byte(b[:4]) != helloMagic {
		return 0, fmt.Errorf("%w: magic %q is not %q", ErrBadHello, b[:4], helloMagic[:])
	}
	if b[4] != protocolVersion {
		return 0, fmt.Errorf("%w: protocol version %d, this node speaks %d", ErrBadHello, b[4], protocolVersion)
	}
	chainLen = int(b[9])
	if chainLen == 0 {
		return 0, fmt.Errorf("%w: empty chain id", ErrBadHello)
	}
	return chainLen, nil
}

// decodeHello decodes exactly one hello: trailing bytes are an error.
func decodeHello(b []byte) (hello, error) {
	chainLen, err := parseHelloFixed(b)
	if err != nil {
		return hello{}, err
	}
	if len(b) != helloFixedLen+chainLen {
		return hello{}, fmt.Errorf("%w: %d bytes, the chain id length says %d", ErrBadHello, len(b), helloFixedLen+chainLen)
	}
	return hello{
		From:    PeerID(binary.BigEndian.Uint16(b[5:7])),
		To:      PeerID(binary.BigEndian.Uint16(b[7:9])),
		ChainID: string(b[helloFixedLen:]),
	}, nil
}

// readHello reads one hello from r, reading nothing past it.
func readHello(r io.Reader) (hello, error) {
	var buf [maxHelloLen]byte
	if _, err := io.ReadFull(r, buf[:helloFixedLen]); err != nil {
		return hello{}, fmt.Errorf("%w: reading: %w", ErrBadHello, err)
	}
	chainLen, err := parseHelloFixed(buf[:helloFixedLen])
	if err != nil {
		return hello{}, err
	}
	n := helloFixedLen + chainLen
	if _, err := io.ReadFull(r, buf[helloFixedLen:n]); err != nil {
		return hello{}, fmt.Errorf("%w: reading the chain id: %w", ErrBadHello, err)
	}
	return decodeHello(buf[:n])
}

// appendAck appends the acceptor's ack, sent by validator from.
func appendAck(b []byte, from PeerID) []byte {
	b = append(b, ackMagic[:]...)
	b = append(b, protocolVersion)
	return binary.BigEndian.AppendUint16(b, uint16(from))
}

// decodeAck decodes exactly one ack and returns its sender.
func decodeAck(b []byte) (PeerID, error) {
	if len(b) != ackLen {
		return 0, fmt.Errorf("%w: ack of %d bytes, want %d", ErrBadHello, len(b), ackLen)
	}
	if [4]byte(b[:4]) != ackMagic {
		return 0, fmt.Errorf("%w: ack magic %q is not %q", ErrBadHello, b[:4], ackMagic[:])
	}
	if b[4] != protocolVersion {
		return 0, fmt.Errorf("%w: ack protocol version %d, this node speaks %d", ErrBadHello, b[4], protocolVersion)
	}
	return PeerID(binary.BigEndian.Uint16(b[5:7])), nil
}

// appendFrame appends the encoding of one frame to b.
func appendFrame(b, frame []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// frameReader reads length-prefixed frames from a stream. It checks each
// length against max before allocating the frame.
type frameReader struct {
	r   io.Reader
	max int
	hdr [frameHeaderLen]byte
}

// next returns the next frame. It returns io.EOF when the stream ends
// cleanly between two frames, an error wrapping ErrFrameTooLarge for a
// length above max (nothing is allocated for it), and one wrapping
// ErrTruncatedFrame when the stream ends or breaks inside a frame.
func (fr *frameReader) next() ([]byte, error) {
	n, err := io.ReadFull(fr.r, fr.hdr[:])
	if err != nil {
		switch {
		case n == 0 && errors.Is(err, io.EOF):
			return nil, io.EOF
		case n == 0:
			return nil, fmt.Errorf("netquic: reading a frame header: %w", err)
		default:
			return nil, fmt.Errorf("%w: %d of %d header bytes: %w", ErrTruncatedFrame, n, frameHeaderLen, err)
		}
	}
	size := binary.BigEndian.Uint32(fr.hdr[:])
	if uint64(size) > uint64(fr.max) {
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrFrameTooLarge, size, fr.max)
	}
	frame := make([]byte, size)
	if n, err := io.ReadFull(fr.r, frame); err != nil {
		return nil, fmt.Errorf("%w: %d of %d bytes: %w", ErrTruncatedFrame, n, size, err)
	}
	return frame, nil
}
