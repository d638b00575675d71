package erasure

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// Seed corpora live in testdata/fuzz/<target>; the f.Add calls add a few
// more built from real objects.

func FuzzDecodeManifest(f *testing.F) {
	for _, size := range []int{0, 1, 1024, 3000} {
		_, m, _ := encodeBytes(f, &Options{ChunkSize: 1024, DataShards: 2, ParityShards: 3}, randBytes(uint64(size), size))
		f.Add(m.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedManifest) || m != nil {
				t.Fatalf("DecodeManifest error %v does not wrap ErrMalformedManifest", err)
			}
			return
		}
		// Canonical: the bytes that decode are the bytes that encode.
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, m.Encode())
		}
		if err := m.Params().Validate(); err != nil {
			t.Fatalf("decoded params do not validate: %v", err)
		}
		var total uint64
		for i := range m.NumChunks() {
			l := m.ChunkLen(i)
			if l < 1 || l > m.Params().ChunkSize {
				t.Fatalf("chunk %d has %d bytes", i, l)
			}
			total += uint64(l)
			_ = m.ChunkHash(i)
			_ = m.ShardHash(i, m.Params().TotalShards()-1)
		}
		if total != m.ContentSize() {
			t.Fatalf("chunks add up to %d bytes, content size %d", total, m.ContentSize())
		}
		id := m.CID()
		if err := CheckCID(id); err != nil {
			t.Fatalf("CID of a decoded manifest: %v", err)
		}
		if err := VerifyManifest(id, m); err != nil {
			t.Fatalf("a manifest does not verify against its own CID: %v", err)
		}
	})
}

func FuzzParseCID(f *testing.F) {
	f.Add(RawCID([]byte("seed")).String())
	_, m, _ := encodeBytes(f, &Options{ChunkSize: 1024}, randBytes(1, 2048))
	f.Add(m.CID().String())
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCID(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedCID) || c.Defined() {
				t.Fatalf("ParseCID error %v does not wrap ErrMalformedCID", err)
			}
			return
		}
		if c.Version() != 1 || (c.Type() != RawCodec && c.Type() != ManifestCodec) {
			t.Fatalf("ParseCID accepted %v", c)
		}
		if err := CheckCID(c); err != nil {
			t.Fatalf("accepted CID fails CheckCID: %v", err)
		}
		again, err := ParseCID(c.String())
		if err != nil || again != c {
			t.Fatalf("the canonical string of %v does not parse back: %v", c, err)
		}
		fromBytes, err := CIDFromBytes(c.Bytes())
		if err != nil || fromBytes != c {
			t.Fatalf("the bytes of %v do not parse back: %v", c, err)
		}
	})
}

func FuzzCIDFromBytes(f *testing.F) {
	f.Add(RawCID([]byte("seed")).Bytes())
	f.Add(newCID(ManifestCodec, Sum(nil)).Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := CIDFromBytes(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedCID) || c.Defined() {
				t.Fatalf("CIDFromBytes error %v does not wrap ErrMalformedCID", err)
			}
			return
		}
		if !bytes.Equal(c.Bytes(), b) {
			t.Fatalf("accepted %x, which re-encodes as %x", b, c.Bytes())
		}
		if again, err := ParseCID(c.String()); err != nil || again != c {
			t.Fatalf("the string of %v does not parse back: %v", c, err)
		}
	})
}

// FuzzDecodeShards serves an object through holders that lose, cut, flip
// and swap shards as the input says. Decode must return the content or an
// error, with only whole verified chunks written; with a consistent
// manifest the only possible error is too few shards.
func FuzzDecodeShards(f *testing.F) {
	opts := &Options{ChunkSize: 1024, DataShards: 2, ParityShards: 2, Concurrency: 2}
	data := randBytes(81, 3*1024+500)
	id, m, store := encodeBytes(f, opts, data)
	dec, err := NewDecoder(opts)
	if err != nil {
		f.Fatal(err)
	}
	n := opts.DataShards + opts.ParityShards
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 5, 1, 1, 1, 7, 2, 2, 2, 0, 3, 3, 3, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		type op struct{ kind, arg byte }
		plan := make(map[shardKey]op)
		for len(ops) >= 4 {
			key := shardKey{int(ops[0]) % m.NumChunks(), int(ops[1]) % n}
			plan[key] = op{ops[2] % 5, ops[3]}
			ops = ops[4:]
		}
		src := &testSource{store: store, serve: func(c, s int, b []byte) ([]byte, error) {
			o, ok := plan[shardKey{c, s}]
			if !ok {
				return b, nil
			}
			switch o.kind {
			case 0:
				return nil, errors.New("lost")
			case 1:
				return b[:int(o.arg)%len(b)], nil
			case 2:
				x := bytes.Clone(b)
				x[int(o.arg)%len(x)] ^= 1 | o.arg
				return x, nil
			case 3:
				other, _ := store.get(int(o.arg)%m.NumChunks(), int(o.arg>>4)%n)
				return other, nil
			default:
				return append(bytes.Clone(b), o.arg), nil
			}
		}}
		var out bytes.Buffer
		st, err := dec.Decode(context.Background(), id, m, src, &out)
		if err == nil {
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatal("Decode returned other content")
			}
			if st.BadShards != int64(len(src.reported())) {
				t.Fatalf("%d bad shards, %d reports", st.BadShards, len(src.reported()))
			}
			return
		}
		if !errors.Is(err, ErrTooFewShards) {
			t.Fatalf("Decode error %v, want ErrTooFewShards", err)
		}
		if out.Len()%opts.ChunkSize != 0 || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Fatalf("wrote %d bytes that are not whole verified chunks", out.Len())
		}
	})
}
