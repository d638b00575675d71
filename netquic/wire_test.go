package netquic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestHelloRoundTrip(t *testing.T) {
	for _, h := range []hello{
		{From: 0, To: 1, ChainID: "a"},
		{From: 65535, To: 0, ChainID: strings.Repeat("z", MaxChainIDLen)},
		{From: 7, To: 7, ChainID: "dagd-mainnet"},
	} {
		b := appendHello(nil, h)
		if len(b) != helloFixedLen+len(h.ChainID) {
			t.Fatalf("%+v: %d bytes", h, len(b))
		}
		got, err := decodeHello(b)
		if err != nil || got != h {
			t.Fatalf("decodeHello(appendHello(%+v)) = %+v, %v", h, got, err)
		}
		// readHello reads exactly the hello and leaves what follows.
		r := bytes.NewReader(append(b, "rest"...))
		got, err = readHello(r)
		if err != nil || got != h {
			t.Fatalf("readHello = %+v, %v", got, err)
		}
		if rest, _ := io.ReadAll(r); string(rest) != "rest" {
			t.Fatalf("readHello consumed past the hello: %q left", rest)
		}
	}
}

func TestDecodeHelloRejects(t *testing.T) {
	good := appendHello(nil, hello{From: 1, To: 2, ChainID: "chain"})
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":          nil,
		"short":          good[:helloFixedLen-1],
		"magic":          mut(func(b []byte) []byte { b[3] = 'X'; return b }),
		"version":        mut(func(b []byte) []byte { b[4] = 2; return b }),
		"empty chain":    mut(func(b []byte) []byte { b[9] = 0; return b[:helloFixedLen] }),
		"chain too long": mut(func(b []byte) []byte { b[9] = 6; return b }),
		"trailing byte":  append(bytes.Clone(good), 0),
		"truncated":      good[:len(good)-1],
	}
	for name, b := range cases {
		if _, err := decodeHello(b); !errors.Is(err, ErrBadHello) {
			t.Errorf("%s: decodeHello error %v, want ErrBadHello", name, err)
		}
	}
	// readHello never waits for more than the announced chain id, and
	// reports a stream that ends early.
	if _, err := readHello(bytes.NewReader(good[:len(good)-2])); !errors.Is(err, ErrBadHello) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("readHello of a truncated hello: %v", err)
	}
}

func TestAck(t *testing.T) {
	b := appendAck(nil, 513)
	if id, err := decodeAck(b); err != nil || id != 513 {
		t.Fatalf("decodeAck = %d, %v", id, err)
	}
	for name, bad := range map[string][]byte{
		"short":    b[:ackLen-1],
		"long":     append(bytes.Clone(b), 0),
		"magic":    append([]byte("DQHL"), b[4:]...),
		"version":  append(bytes.Clone(b[:4]), 0, b[5], b[6]),
		"hello":    appendHello(nil, hello{From: 1, To: 2, ChainID: "c"}),
		"all zero": make([]byte, ackLen),
	} {
		if _, err := decodeAck(bad); !errors.Is(err, ErrBadHello) {
			t.Errorf("%s: decodeAck error %v, want ErrBadHello", name, err)
		}
	}
}

func TestFrameReader(t *testing.T) {
	var stream []byte
	frames := [][]byte{{}, []byte("a"), bytes.Repeat([]byte{7}, 1000), bytes.Repeat([]byte{9}, 1024)}
	for _, f := range frames {
		stream = appendFrame(stream, f)
	}
	fr := frameReader{r: bytes.NewReader(stream), max: 1024}
	for i, want := range frames {
		got, err := fr.next()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
	}
	if _, err := fr.next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}

	cases := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"oversize by one", binary.BigEndian.AppendUint32(nil, 1025), ErrFrameTooLarge},
		{"oversize max", binary.BigEndian.AppendUint32(nil, 0xffffffff), ErrFrameTooLarge},
		{"partial header", []byte{0, 0, 1}, ErrTruncatedFrame},
		{"partial body", append(binary.BigEndian.AppendUint32(nil, 10), 1, 2, 3), ErrTruncatedFrame},
		{"missing body", binary.BigEndian.AppendUint32(nil, 1), ErrTruncatedFrame},
	}
	for _, tc := range cases {
		fr := frameReader{r: bytes.NewReader(tc.stream), max: 1024}
		if _, err := fr.next(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A stream that breaks (rather than ends) between frames is neither
	// truncated nor EOF.
	broken := errors.New("connection reset")
	fr = frameReader{r: io.MultiReader(bytes.NewReader(appendFrame(nil, []byte("x"))), errReader{broken}), max: 10}
	if _, err := fr.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.next(); !errors.Is(err, broken) || errors.Is(err, ErrTruncatedFrame) || err == io.EOF {
		t.Fatalf("broken between frames: %v", err)
	}
	// ...and one that breaks inside a frame is truncated, with the cause.
	fr = frameReader{r: io.MultiReader(bytes.NewReader([]byte{0, 0, 0, 5, 1}), errReader{broken}), max: 10}
	if _, err := fr.next(); !errors.Is(err, broken) || !errors.Is(err, ErrTruncatedFrame) {
		t.Fatalf("broken inside a frame: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestOversizeFrameAllocatesNothing: the length is checked before the
// frame is allocated.
func TestOversizeFrameAllocatesNothing(t *testing.T) {
	hdr := binary.BigEndian.AppendUint32(nil, 0xffffffff)
	r := bytes.NewReader(hdr)
	fr := frameReader{r: r, max: 4 << 20}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const rounds = 100
	for range rounds {
		r.Reset(hdr)
		if _, err := fr.next(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perRound := (after.TotalAlloc - before.TotalAlloc) / rounds
	if perRound > 1024 {
		t.Fatalf("%d bytes allocated per refused 4 GiB frame; the error alone needs far less", perRound)
	}
}
