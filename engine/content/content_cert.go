package content

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client/contentpay"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// ErrMalformedCertificate is wrapped by every error about certificate or
// statement bytes that do not decode.
var ErrMalformedCertificate = errors.New("content: malformed content certificate")

// ErrInvalidCertificate is wrapped by every error about a certificate that
// decodes but does not prove availability: wrong epoch, a signer that holds
// no shard, a bad aggregate signature, too little stake.
var ErrInvalidCertificate = errors.New("content: invalid content certificate")

// AvailabilityStatement returns the canonical bytes a validator signs with
// its BLS key to say that it stores its shards of the object named by id on
// chain chainID in committee epoch epoch: size content bytes coded with k
// of n shards, as the manifest of the given digest describes them. It is
// contracts.AvailabilityStatement, defined there once: the statement a
// RegisterContent transaction carries a quorum certificate of, bound to the
// chain id and epoch so that no signature serves another chain or epoch.
func AvailabilityStatement(chainID string, epoch uint64, id cid.Cid, size uint64, k, n int, manifestDigest erasure.Hash) []byte {
	return contracts.AvailabilityStatement(chainID, epoch, id.Bytes(), size, uint16(k), uint16(n), crypto.Digest(manifestDigest))
}

// Claim is what an availability statement says.
type Claim struct {
	// CID names the object.
	CID cid.Cid
	// Size is the content's length in bytes.
	Size uint64
	// K and N are the object's shard counts: any K of N rebuild a chunk.
	K, N int
	// ManifestDigest is the BLAKE3 hash of the object's canonical manifest.
	ManifestDigest erasure.Hash
}

// Statement returns the claim's AvailabilityStatement on chain chainID in
// committee epoch epoch.
func (c *Claim) Statement(chainID string, epoch uint64) []byte {
	return AvailabilityStatement(chainID, epoch, c.CID, c.Size, c.K, c.N, c.ManifestDigest)
}

// check reports a claim whose fields are out of range.
func (c *Claim) check() error {
	if err := erasure.CheckCID(c.CID); err != nil {
		return err
	}
	if c.K < 1 || c.N <= c.K || c.N > erasure.MaxShards {
		return fmt.Errorf("k=%d n=%d: want 1 <= k < n <= %d", c.K, c.N, erasure.MaxShards)
	}
	return nil
}

func readClaim(r *frameReader) (*Claim, error) {
	cb := r.cid("cid", false)
	c := &Claim{Size: r.u64("size"), K: int(r.u16("k")), N: int(r.u16("n"))}
	copy(c.ManifestDigest[:], r.bytes(erasure.HashSize, "manifest digest"))
	if r.err != nil {
		return nil, r.err
	}
	id, err := parseCIDBytes(cb)
	if err != nil {
		return nil, err
	}
	c.CID = id
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Certificate proves that validators holding a quorum of stake store
// their shards of an object: their aggregate BLS signature on the claim's
// AvailabilityStatement for the chain and Epoch. Its canonical encoding (Encode,
// DecodeCertificate), with big-endian integers:
//
//	version u8 (1) | epoch u64 | cid length u8 | cid | size u64 | k u16 | n u16 |
//	manifest digest [32] | bitmap length u16 | signer bitmap | signature [48]
type Certificate struct {
	Claim
	// Epoch is the committee's epoch, whose keys verify the signature.
	Epoch uint64
	// Signers marks the validators whose signatures were aggregated.
	Signers crypto.Bitmap
	// Signature is the 48-byte aggregate (min-sig) signature.
	Signature []byte
}

// contentCertVersion is the version byte of the certificate encoding.
const contentCertVersion = 1

// maxCertificateSize bounds an encoded certificate.
const maxCertificateSize = 1 + 8 + 1 + maxCIDLen + 8 + 2 + 2 + erasure.HashSize + 2 + (dag.MaxCommitteeSize+7)/8 + crypto.BLSSignatureSize

// Encode returns the canonical encoding of c.
func (c *Certificate) Encode() []byte {
	id := c.CID.Bytes()
	b := make([]byte, 0, 64+len(id)+len(c.Signers)+len(c.Signature))
	b = append(b, contentCertVersion)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	b = appendCID(b, id)
	b = binary.BigEndian.AppendUint64(b, c.Size)
	b = binary.BigEndian.AppendUint16(b, uint16(c.K))
	b = binary.BigEndian.AppendUint16(b, uint16(c.N))
	b = append(b, c.ManifestDigest[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Signers)))
	b = append(b, c.Signers...)
	return append(b, c.Signature...)
}

// DecodeCertificate decodes the canonical encoding of a certificate
// strictly (version, CID, ranges, lengths, no trailing bytes). It checks
// the form only: call Verify before trusting it. The result does not alias
// b. Errors wrap ErrMalformedCertificate.
func DecodeCertificate(b []byte) (*Certificate, error) {
	if len(b) > maxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedCertificate, len(b), maxCertificateSize)
	}
	r := &frameReader{p: b}
	if v := r.u8("version"); r.err == nil && v != contentCertVersion {
		return nil, fmt.Errorf("%w: version %d", ErrMalformedCertificate, v)
	}
	epoch := r.u64("epoch")
	claim, err := readClaim(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCertificate, err)
	}
	bl := int(r.u16("bitmap length"))
	if r.err == nil && (bl == 0 || bl > (dag.MaxCommitteeSize+7)/8) {
		return nil, fmt.Errorf("%w: bitmap of %d bytes", ErrMalformedCertificate, bl)
	}
	signers := bytes.Clone(r.bytes(bl, "signer bitmap"))
	sig := bytes.Clone(r.bytes(crypto.BLSSignatureSize, "signature"))
	if err := r.end("certificate"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCertificate, err)
	}
	return &Certificate{Claim: *claim, Epoch: epoch, Signers: signers, Signature: sig}, nil
}

// Verify checks c against the committee of epoch on chain chainID: the
// certificate is of that epoch, the signature is of the statement for that
// chain and epoch, the bitmap is
// canonical for the committee, every signer holds shards of the object
// (heal.Holders), the aggregate signature verifies, and the signers hold
// at least a quorum of stake. Errors wrap ErrInvalidCertificate (and the
// crypto error that caused them).
func (c *Certificate) Verify(committee Committee, chainID string, epoch uint64) error {
	if c.Epoch != epoch {
		return fmt.Errorf("%w: epoch %d, committee of epoch %d", ErrInvalidCertificate, c.Epoch, epoch)
	}
	if err := c.Claim.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	v := committee.Size()
	if err := contentpay.CheckShards(c.K, c.N, v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	signers, err := crypto.ParseBitmap(c.Signers, v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	for _, i := range signers.Indices() {
		if len(heal.ShardsOf(i, c.N, v)) == 0 {
			return fmt.Errorf("%w: signer %d holds no shard of n=%d in a committee of %d", ErrInvalidCertificate, i, c.N, v)
		}
	}
	stake, err := committee.VerifyAggregate(c.Statement(chainID, c.Epoch), signers, c.Signature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	if q := committee.QuorumStake(); stake < q {
		return fmt.Errorf("%w: signers hold stake %d, quorum is %d", ErrInvalidCertificate, stake, q)
	}
	return nil
}

// RegisterOp returns the ledger operation that registers c: a
// contracts.RegisterContent carrying the same claim, epoch, signers and
// aggregate signature, which the executor verifies against the committee. A client
// with an account submits it in a transaction (contracts.NewSignedTx).
func (c *Certificate) RegisterOp() *contracts.RegisterContent {
	op := contracts.NewRegisterContent(c.CID.Bytes(), c.Size, uint16(c.K), uint16(c.N), crypto.Digest(c.ManifestDigest), c.Signers, c.Signature)
	op.Epoch = c.Epoch
	return op
}
