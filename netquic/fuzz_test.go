package netquic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzDecodeHello: decoding never panics, accepts only canonical hellos
// (re-encoding gives the input back) and agrees with readHello and with
// decodeAck's refusal of anything that is not an ack.
func FuzzDecodeHello(f *testing.F) {
	f.Add(appendHello(nil, hello{From: 1, To: 2, ChainID: "dagd"}))
	f.Add(appendHello(nil, hello{From: 65535, To: 0, ChainID: string(bytes.Repeat([]byte{0xff}, 255))}))
	f.Add(appendAck(nil, 3))
	f.Add([]byte("DQHL\x01\x00\x01\x00\x02\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHello(b)
		if err == nil {
			if !bytes.Equal(appendHello(nil, h), b) {
				t.Fatalf("non-canonical hello accepted: %x decodes to %+v", b, h)
			}
			if len(h.ChainID) == 0 || len(h.ChainID) > MaxChainIDLen {
				t.Fatalf("chain id of %d bytes accepted", len(h.ChainID))
			}
		} else if !errors.Is(err, ErrBadHello) {
			t.Fatalf("error %v does not wrap ErrBadHello", err)
		}
		r := bytes.NewReader(b)
		rh, rerr := readHello(r)
		switch {
		case err == nil && (rerr != nil || rh != h):
			t.Fatalf("readHello = %+v, %v; decodeHello = %+v", rh, rerr, h)
		case rerr == nil:
			// readHello accepts a valid hello followed by anything: the
			// prefix it consumed must decode the same way.
			n := len(b) - r.Len()
			if dh, derr := decodeHello(b[:n]); derr != nil || dh != rh {
				t.Fatalf("readHello consumed %d bytes that decode to %+v, %v", n, dh, derr)
			}
		case !errors.Is(rerr, ErrBadHello):
			t.Fatalf("readHello error %v does not wrap ErrBadHello", rerr)
		}
		if id, aerr := decodeAck(b); aerr == nil {
			if !bytes.Equal(appendAck(nil, id), b) {
				t.Fatalf("non-canonical ack accepted: %x", b)
			}
		} else if !errors.Is(aerr, ErrBadHello) {
			t.Fatalf("ack error %v does not wrap ErrBadHello", aerr)
		}
	})
}

// FuzzFrameReader: reading frames from any byte stream never panics, never
// returns a frame above the limit, and what it returns re-encodes to a
// prefix of the stream (the whole stream when it ends cleanly).
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{}, uint16(16))
	f.Add(appendFrame(appendFrame(nil, []byte("hello")), nil), uint16(16))
	f.Add(binary.BigEndian.AppendUint32(nil, 0xffffffff), uint16(1024))
	f.Add([]byte{0, 0, 0, 17, 1, 2}, uint16(16))
	f.Add([]byte{0, 0}, uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, max uint16) {
		fr := frameReader{r: bytes.NewReader(stream), max: int(max)}
		var re []byte
		for {
			frame, err := fr.next()
			if err != nil {
				switch {
				case err == io.EOF:
					if !bytes.Equal(re, stream) {
						t.Fatalf("clean end but the frames re-encode to %d of %d bytes", len(re), len(stream))
					}
				case errors.Is(err, ErrFrameTooLarge):
					rest := stream[len(re):]
					if len(rest) < frameHeaderLen || binary.BigEndian.Uint32(rest) <= uint32(max) {
						t.Fatalf("ErrFrameTooLarge for a header within the limit: %x", rest[:min(len(rest), 4)])
					}
				case errors.Is(err, ErrTruncatedFrame):
					rest := stream[len(re):]
					if len(rest) >= frameHeaderLen && uint64(len(rest)-frameHeaderLen) >= uint64(binary.BigEndian.Uint32(rest)) {
						t.Fatalf("ErrTruncatedFrame but the whole frame was there")
					}
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(frame) > int(max) {
				t.Fatalf("frame of %d bytes above the limit %d", len(frame), max)
			}
			re = appendFrame(re, frame)
			if !bytes.HasPrefix(stream, re) {
				t.Fatalf("frames re-encode to something that is not a prefix of the stream")
			}
		}
	})
}
