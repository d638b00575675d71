package erasure

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multihash"
	"github.com/zeebo/blake3"
)

// parseWithGoCID parses s with go-cid alone and returns its version, codec,
// multihash code and digest.
func parseWithGoCID(t *testing.T, s string) (uint64, uint64, uint64, []byte) {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatalf("go-cid cannot parse %q: %v", s, err)
	}
	dm, err := multihash.Decode(c.Hash())
	if err != nil {
		t.Fatalf("go-multihash cannot decode the hash of %q: %v", s, err)
	}
	return c.Version(), c.Type(), dm.Code, dm.Digest
}

func TestRawCIDOfFixedInput(t *testing.T) {
	input := []byte("dagd: the same bytes always give the same CID, on any machine.\n")
	want := blake3.Sum256(input) // computed here, independently of the package

	// RawCID is the ordinary raw CID that go-cid builds with its own
	// prefix for a BLAKE3 digest.
	mh, err := multihash.Encode(want[:], multihash.BLAKE3)
	if err != nil {
		t.Fatal(err)
	}
	raw := RawCID(input)
	if c := cid.NewCidV1(cid.Raw, mh); c != raw {
		t.Fatalf("go-cid builds %s, package %s", c, raw)
	}
	parsed, err := ParseCID(raw.String())
	if err != nil || parsed != raw {
		t.Fatalf("ParseCID(%s) = %s, %v", raw, parsed, err)
	}
}

// TestOneChunkCIDCommitsToManifest pins the fix of the raw-CID squat: the
// CID of content of at most one chunk names its manifest (so k, n and the
// shard hashes), not the bytes, and so depends on k and n like any other.
func TestOneChunkCIDCommitsToManifest(t *testing.T) {
	input := []byte("dagd: the same bytes always give the same CID, on any machine.\n")
	seen := map[cid.Cid]bool{}
	for _, opts := range []*Options{
		{DataShards: 2, ParityShards: 2},
		{DataShards: 1, ParityShards: 1, ChunkSize: MinChunkSize},
		{DataShards: 7, ParityShards: 5, ChunkSize: 4 << 10, Concurrency: 1},
		nil, // empty content below
	} {
		data := input
		if opts == nil {
			data = nil
		}
		id, m, _ := encodeBytes(t, opts, data)
		s := id.String()
		if !strings.HasPrefix(s, "b") {
			t.Fatalf("CID string %q is not base32", s)
		}
		v, codec, code, digest := parseWithGoCID(t, s)
		want := blake3.Sum256(m.Encode())
		if v != 1 || codec != ManifestCodec || code != 0x1e || !bytes.Equal(digest, want[:]) {
			t.Fatalf("CID %s: version %d codec %#x multihash %#x digest %x; want 1, %#x, 0x1e, %x", s, v, codec, code, digest, ManifestCodec, want)
		}
		if seen[id] {
			t.Fatalf("CID %s repeated for other params", id)
		}
		seen[id] = true
	}
}

func TestManifestCIDParses(t *testing.T) {
	opts := &Options{ChunkSize: 4 << 10, DataShards: 3, ParityShards: 4}
	data := randBytes(21, 3*(4<<10)+5)
	id, m, store := encodeBytes(t, opts, data)
	if m.NumChunks() != 4 {
		t.Fatalf("%d chunks, want 4", m.NumChunks())
	}
	v, codec, code, digest := parseWithGoCID(t, id.String())
	manifest := expectedManifest(t, data, opts.Params(), store)
	want := blake3.Sum256(manifest)
	if v != 1 || codec != ManifestCodec || code != 0x1e || !bytes.Equal(digest, want[:]) {
		t.Fatalf("CID %s: version %d codec %#x multihash %#x digest %x; want 1, %#x, 0x1e, %x", id, v, codec, code, digest, ManifestCodec, want)
	}
	if ManifestCodec < 0x300000 || ManifestCodec > 0x3fffff {
		t.Fatalf("ManifestCodec %#x is outside the private-use range", ManifestCodec)
	}
	// Any multibase parses to the same CID.
	for _, base := range []multibase.Encoding{multibase.Base58BTC, multibase.Base16, multibase.Base64url, multibase.Base36} {
		s, err := id.StringOfBase(base)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCID(s)
		if err != nil || c != id {
			t.Fatalf("ParseCID(%s) = %s, %v; want %s", s, c, err, id)
		}
	}
	c, err := CIDFromBytes(id.Bytes())
	if err != nil || c != id {
		t.Fatalf("CIDFromBytes = %s, %v", c, err)
	}
}

func TestMalformedCIDs(t *testing.T) {
	good := RawCID([]byte("x"))
	digest := blake3.Sum256([]byte("x"))
	mhBlake3, _ := multihash.Encode(digest[:], multihash.BLAKE3)
	long := blake3.Sum512([]byte("x"))
	mhLong, _ := multihash.Encode(long[:], multihash.BLAKE3)
	mhSHA, _ := multihash.Sum([]byte("x"), multihash.SHA2_256, -1)
	mhID, _ := multihash.Encode([]byte("x"), multihash.IDENTITY)
	cases := map[string]string{
		"empty":            "",
		"one char":         "b",
		"garbage":          "not a cid",
		"unknown base":     "!" + good.String()[1:],
		"bad base32":       "b" + strings.Repeat("1", 40),
		"truncated":        good.String()[:len(good.String())-2],
		"extended":         good.String() + "aa",
		"v0":               cid.NewCidV0(mhSHA).String(),
		"dag-pb codec":     cid.NewCidV1(cid.DagProtobuf, mhBlake3).String(),
		"dag-cbor codec":   cid.NewCidV1(cid.DagCBOR, mhBlake3).String(),
		"sha2-256":         cid.NewCidV1(cid.Raw, mhSHA).String(),
		"identity hash":    cid.NewCidV1(cid.Raw, mhID).String(),
		"64-byte blake3":   cid.NewCidV1(cid.Raw, mhLong).String(),
		"manifest sha":     cid.NewCidV1(ManifestCodec, mhSHA).String(),
		"overlong":         "b" + strings.Repeat("a", 600),
		"multihash only":   "z" + multihashB58(mhBlake3),
		"spaces":           " " + good.String(),
		"version 2 prefix": "f0255" + "1e20" + strings.Repeat("00", 32),
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCID(s)
			if !errors.Is(err, ErrMalformedCID) || c.Defined() {
				t.Fatalf("ParseCID(%q) = %v, %v; want ErrMalformedCID", s, c, err)
			}
		})
	}
	bin := good.Bytes()
	for name, b := range map[string][]byte{
		"nil":       nil,
		"truncated": bin[:len(bin)-1],
		"trailing":  append(bytes.Clone(bin), 0),
		"version 2": append([]byte{2}, bin[1:]...),
		"sha2-256":  cid.NewCidV1(cid.Raw, mhSHA).Bytes(),
	} {
		if c, err := CIDFromBytes(b); !errors.Is(err, ErrMalformedCID) || c.Defined() {
			t.Errorf("CIDFromBytes(%s) = %v, %v; want ErrMalformedCID", name, c, err)
		}
	}
	if err := CheckCID(cid.Undef); !errors.Is(err, ErrMalformedCID) {
		t.Errorf("CheckCID(Undef) = %v", err)
	}
	// A malformed CID never reaches the shards.
	_, m, store := encodeBytes(t, nil, []byte("x"))
	src := &testSource{store: store}
	if _, _, err := decodeBytes(t, cid.NewCidV1(cid.Raw, mhSHA), m, src); !errors.Is(err, ErrMalformedCID) || src.gets != 0 {
		t.Fatalf("Decode with a sha2-256 CID: %v after %d gets", err, src.gets)
	}
}

func multihashB58(mh []byte) string {
	s, _ := multibase.Encode(multibase.Base58BTC, mh)
	return s[1:]
}

// forge returns m with hash number idx of chunk i replaced (0 is the chunk
// hash, 1+s the hash of shard s), through the encoding.

func forge(t *testing.T, m *Manifest, i, idx int, h Hash) *Manifest {
	t.Helper()
	b := m.Encode()
	off := manifestHeaderSize + (i*(m.Params().TotalShards()+1)+idx)*HashSize
	copy(b[off:], h[:])
	f, err := DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestVerifyManifest(t *testing.T) {
	opts := &Options{ChunkSize: 1024, DataShards: 2, ParityShards: 2}
	multi := randBytes(31, 3000)
	idM, mM, storeM := encodeBytes(t, opts, multi)
	one := randBytes(32, 1000)
	idR, mR, storeR := encodeBytes(t, opts, one)
	idE, mE, _ := encodeBytes(t, opts, nil)
	other := randBytes(33, 1000)
	_, mO, storeO := encodeBytes(t, opts, other)

	for _, ok := range []struct {
		id cid.Cid
		m  *Manifest
	}{{idM, mM}, {idR, mR}, {idE, mE}} {
		if err := VerifyManifest(ok.id, ok.m); err != nil {
			t.Fatalf("VerifyManifest(%s): %v", ok.id, err)
		}
	}
	garbage := Sum([]byte("garbage"))
	single, err := DecodeManifest(mR.Encode())
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]struct {
		id cid.Cid
		m  *Manifest
	}{
		"shard hash changed":       {idM, forge(t, mM, 1, 3, garbage)},
		"chunk hash changed":       {idM, forge(t, mM, 2, 0, garbage)},
		"manifest of other object": {idM, mO},
		"raw CID, one chunk":       {RawCID(one), single},
		"raw CID, empty":           {RawCID(nil), mE},
		"raw CID, many chunks":     {newCID(RawCodec, mM.ChunkHash(0)), mM},
		"one chunk, other content": {idR, mO},
		"one chunk, empty":         {idR, mE},
		"empty CID, one chunk":     {idE, mR},
		"one chunk, chunk forged":  {idR, forge(t, mR, 0, 0, garbage)},
		"one chunk, shard forged":  {idR, forge(t, mR, 0, 2, garbage)},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			if err := VerifyManifest(c.id, c.m); !errors.Is(err, ErrManifestMismatch) {
				t.Fatalf("VerifyManifest = %v, want ErrManifestMismatch", err)
			}
			src := &testSource{store: storeM}
			out, _, err := decodeBytes(t, c.id, c.m, src)
			if !errors.Is(err, ErrManifestMismatch) || len(out) != 0 || src.gets != 0 {
				t.Fatalf("Decode = %v after %d gets, %d bytes written", err, src.gets, len(out))
			}
			if _, err := OpenManifest(c.id, c.m.Encode()); !errors.Is(err, ErrManifestMismatch) {
				t.Fatalf("OpenManifest = %v", err)
			}
		})
	}
	if _, err := OpenManifest(idM, mM.Encode()[:100]); !errors.Is(err, ErrMalformedManifest) {
		t.Fatalf("OpenManifest of a truncated manifest = %v", err)
	}
	if m, err := OpenManifest(idM, mM.Encode()); err != nil || !bytes.Equal(m.Encode(), mM.Encode()) {
		t.Fatalf("OpenManifest = %v", err)
	}

	// The squat: the raw CID of small content with the right chunk hash
	// and garbage shard hashes. Under the old raw CIDs this manifest
	// passed and whoever registered it first blocked the content; now no
	// CID of a stored object accepts it, and the honest CID refuses it.
	forged := forge(t, mR, 0, 1, garbage)
	forged = forge(t, forged, 0, 2, garbage)
	forged = forge(t, forged, 0, 3, garbage)
	for _, id := range []cid.Cid{RawCID(one), idR} {
		if err := VerifyManifest(id, forged); !errors.Is(err, ErrManifestMismatch) {
			t.Fatalf("VerifyManifest(%s, forged shard hashes) = %v, want ErrManifestMismatch", id, err)
		}
	}
	if _, _, err := decodeBytes(t, idR, forged, &testSource{store: storeR}); !errors.Is(err, ErrManifestMismatch) {
		t.Fatalf("Decode with forged shard hashes = %v", err)
	}
	_ = storeO
}

func TestDeterminism(t *testing.T) {
	data := randBytes(41, 300<<10+17)
	base := Options{ChunkSize: 64 << 10, DataShards: 4, ParityShards: 3}
	noSIMD := []reedsolomon.Option{
		reedsolomon.WithAVX512(false), reedsolomon.WithGFNI(false), reedsolomon.WithAVXGFNI(false),
		reedsolomon.WithAVX2(false), reedsolomon.WithSSSE3(false), reedsolomon.WithSSE2(false),
	}
	variants := []Options{base}
	for _, conc := range []int{1, 2, 5} {
		for _, g := range []int{1, 4} {
			o := base
			o.Concurrency, o.CoderGoroutines = conc, g
			variants = append(variants, o)
		}
	}
	generic := base
	generic.libOptions = noSIMD
	variants = append(variants, generic)

	var wantID cid.Cid
	var wantManifest []byte
	for i, o := range variants {
		id, m, _ := encodeBytes(t, &o, data)
		if i == 0 {
			wantID, wantManifest = id, m.Encode()
			continue
		}
		if id != wantID || !bytes.Equal(m.Encode(), wantManifest) {
			t.Fatalf("variant %d (%+v) gives CID %s, want %s", i, o, id, wantID)
		}
	}
	// The same encoder twice, and a copy of the bytes.
	enc, err := NewEncoder(&base)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		id, _, err := enc.Encode(context.Background(), bytes.NewReader(bytes.Clone(data)), UnknownSize, discardSink{})
		if err != nil || id != wantID {
			t.Fatalf("re-encode gives %s, %v; want %s", id, err, wantID)
		}
	}
	// Other bytes, or other Params, give another CID.
	changed := bytes.Clone(data)
	changed[len(changed)/2]++
	if id, _, _ := encodeBytes(t, &base, changed); id == wantID {
		t.Fatal("changed content kept its CID")
	}
	other := base
	other.ParityShards++
	if id, _, _ := encodeBytes(t, &other, data); id == wantID {
		t.Fatal("other parameters kept the CID of multi-chunk content")
	}
}
