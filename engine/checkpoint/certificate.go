package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto/bitmap"
	"github.com/dagd/dagd/crypto/blsverify"
)

// maxBitmapSize is the longest signer bitmap a decoder accepts: that of a
// committee of MaxMembers.
var maxBitmapSize = bitmap.Len(MaxMembers)

// Certificate is a checkpoint with a quorum's aggregate BLS signature on
// its SigningMessage: bit i of Signers is set when member i of the epoch's
// committee signed, and Signature is the 48-byte compressed aggregate.
type Certificate struct {
	// Checkpoint is the certified checkpoint.
	Checkpoint Checkpoint
	// Signers marks the signers; canonical for the committee's size
	// (ceil(n/8) bytes, no bit at or above n).
	Signers bitmap.Bitmap
	// Signature is the aggregate of the signers' signatures.
	Signature [blsverify.SignatureSize]byte
}

// Encode returns the canonical encoding of c: the version byte, the
// checkpoint's encoding, the bitmap's length (uint16) and bytes, the
// signature. It refuses what Checkpoint.Encode refuses and a bitmap longer
// than a committee of MaxMembers needs (ErrMalformed); the bitmap's
// canonical form for a committee is checked by Verify, which knows the
// committee.
func (c *Certificate) Encode() ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("checkpoint: encode certificate: nil certificate: %w", ErrMalformed)
	}
	if err := c.Checkpoint.check(); err != nil {
		return nil, fmt.Errorf("checkpoint: encode certificate: %w", err)
	}
	if len(c.Signers) > maxBitmapSize {
		return nil, fmt.Errorf("checkpoint: encode certificate: signer bitmap of %d bytes exceeds %d: %w", len(c.Signers), maxBitmapSize, ErrMalformed)
	}
	b := make([]byte, 0, 1+c.Checkpoint.size()+2+len(c.Signers)+blsverify.SignatureSize)
	b = append(b, Version)
	b = c.Checkpoint.appendTo(b)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Signers)))
	b = append(b, c.Signers...)
	return append(b, c.Signature[:]...), nil
}

// DecodeCertificate decodes the canonical encoding written by Encode. It
// refuses a bad version, a malformed checkpoint, a bitmap longer than a
// committee of MaxMembers needs, a truncation and trailing bytes, all
// ErrMalformed. It does not parse the signature's point: Verify does.
func DecodeCertificate(b []byte) (*Certificate, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("checkpoint: decode certificate: empty: %w", ErrMalformed)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("checkpoint: decode certificate: version %d, want %d: %w", b[0], Version, ErrMalformed)
	}
	cp, rest, err := decodeCheckpoint(b[1:])
	if err != nil {
		return nil, fmt.Errorf("checkpoint: decode certificate: checkpoint: %w", err)
	}
	if len(rest) < 2 {
		return nil, fmt.Errorf("checkpoint: decode certificate: truncated before the signer bitmap: %w", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(rest[:2]))
	rest = rest[2:]
	if n > maxBitmapSize {
		return nil, fmt.Errorf("checkpoint: decode certificate: signer bitmap of %d bytes exceeds %d: %w", n, maxBitmapSize, ErrMalformed)
	}
	if len(rest) != n+blsverify.SignatureSize {
		return nil, fmt.Errorf("checkpoint: decode certificate: %d bytes for a %d-byte bitmap and the signature, want %d: %w",
			len(rest), n, n+blsverify.SignatureSize, ErrMalformed)
	}
	c := &Certificate{Checkpoint: *cp, Signers: bitmap.Bitmap(append([]byte{}, rest[:n]...))}
	copy(c.Signature[:], rest[n:])
	return c, nil
}

// Verify checks c against the committee of its epoch, cheap things first:
// the epoch (ErrWrongEpoch), the signer bitmap's canonical form for the
// committee's size (ErrBadBitmap), the signers' stake against
// QuorumStake (ErrInsufficientStake, with the figures), the checkpoint's
// encoding and the signature's point (ErrMalformed), and then one
// aggregate signature check over the signers' keys (ErrBadSignature). It
// does not check the chain id against the one the caller follows: Chain
// does.
func (c *Certificate) Verify(com *Committee) error {
	if err := c.verify(com); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// verify is Verify without the package prefix on its errors.
func (c *Certificate) verify(com *Committee) error {
	if c == nil || com == nil {
		return fmt.Errorf("verify: nil certificate or committee: %w", ErrMalformed)
	}
	cp := &c.Checkpoint
	if cp.Epoch != com.epoch {
		return fmt.Errorf("verify checkpoint %d: epoch %d, committee of epoch %d: %w", cp.Number, cp.Epoch, com.epoch, ErrWrongEpoch)
	}
	signers, err := bitmap.Parse(c.Signers, len(com.members))
	if err != nil {
		return fmt.Errorf("verify checkpoint %d: %w (%w)", cp.Number, ErrBadBitmap, err)
	}
	var stake uint64 // at most the total, which is bounded
	idx := signers.Indices()
	for _, i := range idx {
		stake += com.members[i].Stake
	}
	if q := com.QuorumStake(); stake < q {
		return fmt.Errorf("verify checkpoint %d: %d signers hold stake %d of %d, quorum needs %d: %w",
			cp.Number, len(idx), stake, com.total, q, ErrInsufficientStake)
	}
	if err := cp.check(); err != nil {
		return fmt.Errorf("verify checkpoint %d: %w", cp.Number, err)
	}
	msg := cp.signingMessage()
	sig, err := blsverify.ParseSignature(c.Signature[:])
	if err != nil {
		return fmt.Errorf("verify checkpoint %d: signature: %w (%w)", cp.Number, ErrMalformed, err)
	}
	keys := make([]*blsverify.PublicKey, len(idx))
	for k, i := range idx {
		keys[k] = com.keys[i]
	}
	if err := blsverify.VerifyAggregate(keys, msg, sig); err != nil {
		return fmt.Errorf("verify checkpoint %d: %d signers: %w (%w)", cp.Number, len(idx), ErrBadSignature, err)
	}
	return nil
}
