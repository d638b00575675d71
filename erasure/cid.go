package erasure

import (
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Codecs of the CIDs this package makes.
const (
	// RawCodec is the multicodec of RawCID: the CID names bytes themselves
	// (IPFS's "raw", 0x55). Stored objects are never named by one: a raw
	// CID would not bind the shard hashes (see VerifyManifest).
	RawCodec uint64 = cid.Raw
	// ManifestCodec is the multicodec of every stored object, whatever its
	// size: the CID names the canonical encoding of its Manifest. 0x30dad0 lies in
	// the multicodec table's range reserved for private use
	// (0x300000–0x3fffff), which the public table never assigns.
	ManifestCodec uint64 = 0x30dad0
)

// maxCIDStringLen bounds the strings ParseCID reads. A CIDv1 with a 32-byte
// multihash is under 40 bytes; even in base2 it is about 300 characters.
const maxCIDStringLen = 512

// newCID returns the CIDv1 of codec with the BLAKE3 multihash of digest h.
func newCID(codec uint64, h Hash) cid.Cid {
	// multihash.Encode's error is legacy and always nil.
	mh, _ := multihash.Encode(h[:], multihash.BLAKE3)
	return cid.NewCidV1(codec, mh)
}

// RawCID returns the raw-codec CIDv1 with the BLAKE3 multihash of content:
// the ordinary IPFS raw CID of those bytes. It names bytes, not a stored
// object: VerifyManifest refuses it.
func RawCID(content []byte) cid.Cid { return newCID(RawCodec, Sum(content)) }

// CID returns the identifier of the object m describes, whatever its size:
// the CID with ManifestCodec of m's canonical encoding, so that it commits
// to the parameters and to every shard hash. (Content of one chunk once got
// the raw CID of its bytes; that left the shard hashes unbound, and anyone
// who knew the content could register it first with garbage shards.)
func (m *Manifest) CID() cid.Cid { return newCID(ManifestCodec, m.Digest()) }

// ParseCID parses the string form of a CID (any multibase) and checks it as
// CheckCID does. Errors wrap ErrMalformedCID.
func ParseCID(s string) (cid.Cid, error) {
	if len(s) > maxCIDStringLen {
		return cid.Undef, fmt.Errorf("%w: %d characters, longer than %d", ErrMalformedCID, len(s), maxCIDStringLen)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %w", ErrMalformedCID, err)
	}
	if err := CheckCID(c); err != nil {
		return cid.Undef, err
	}
	return c, nil
}

// CIDFromBytes parses the binary form of a CID (Cid.Bytes) and checks it as
// CheckCID does. Errors wrap ErrMalformedCID.
func CIDFromBytes(b []byte) (cid.Cid, error) {
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %w", ErrMalformedCID, err)
	}
	if err := CheckCID(c); err != nil {
		return cid.Undef, err
	}
	return c, nil
}

// CheckCID reports whether c is a CID of this package: version 1, codec
// RawCodec or ManifestCodec, and a BLAKE3 multihash (0x1e) of 32 bytes.
// Errors wrap ErrMalformedCID.
func CheckCID(c cid.Cid) error {
	_, _, err := cidDigest(c)
	return err
}

// cidDigest returns the codec and the BLAKE3 digest of c.
func cidDigest(c cid.Cid) (uint64, Hash, error) {
	if !c.Defined() {
		return 0, Hash{}, fmt.Errorf("%w: undefined CID", ErrMalformedCID)
	}
	if v := c.Version(); v != 1 {
		return 0, Hash{}, fmt.Errorf("%w: version %d, want 1", ErrMalformedCID, v)
	}
	codec := c.Type()
	if codec != RawCodec && codec != ManifestCodec {
		return 0, Hash{}, fmt.Errorf("%w: codec %#x, want raw (%#x) or dagd manifest (%#x)", ErrMalformedCID, codec, RawCodec, ManifestCodec)
	}
	dm, err := multihash.Decode(c.Hash())
	if err != nil {
		return 0, Hash{}, fmt.Errorf("%w: multihash: %w", ErrMalformedCID, err)
	}
	if dm.Code != multihash.BLAKE3 {
		return 0, Hash{}, fmt.Errorf("%w: multihash code %#x, want blake3 (%#x)", ErrMalformedCID, dm.Code, multihash.BLAKE3)
	}
	if len(dm.Digest) != HashSize {
		return 0, Hash{}, fmt.Errorf("%w: blake3 digest of %d bytes, want %d", ErrMalformedCID, len(dm.Digest), HashSize)
	}
	return codec, Hash(dm.Digest), nil
}

// VerifyManifest checks that id names the object m describes: id must
// have ManifestCodec and its digest must be m.Digest(). Everything m says,
// shard hashes included, is then authentic. A raw CID is refused: it fixes
// the content bytes but not the shard hashes, so a manifest with garbage
// shards would pass under it.
//
// Errors wrap ErrMalformedCID or ErrManifestMismatch.
func VerifyManifest(id cid.Cid, m *Manifest) error {
	codec, digest, err := cidDigest(id)
	if err != nil {
		return err
	}
	if codec != ManifestCodec {
		return fmt.Errorf("%w: CID codec %#x names bytes, not a stored object (want the dagd manifest codec %#x)", ErrManifestMismatch, codec, ManifestCodec)
	}
	if got := m.Digest(); got != digest {
		return fmt.Errorf("%w: manifest hash %s, CID digest %s", ErrManifestMismatch, got, digest)
	}
	return nil
}

// OpenManifest decodes manifest bytes and checks them against id: the
// DecodeManifest and VerifyManifest a node runs on a manifest from a peer.
func OpenManifest(id cid.Cid, b []byte) (*Manifest, error) {
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, err
	}
	if err := VerifyManifest(id, m); err != nil {
		return nil, err
	}
	return m, nil
}
