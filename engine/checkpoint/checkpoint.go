package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto/digest"
)

// Domain tags. Each purpose has its own, so bytes made for one never
// count for another.
const (
	// checkpointDigestTag prefixes the bytes hashed by Checkpoint.Digest.
	checkpointDigestTag = "dagd/checkpoint/v1"
	// signingDomain prefixes the message a validator signs for a
	// checkpoint, as dag's "dagd/dag/sig/v1" does for headers.
	signingDomain = "dagd/checkpoint/sig/v1"
)

// Encoded field sizes after the chain id: epoch, number, last commit seq,
// commit digest, state root, receipts root, timestamp, next-committee flag.
const checkpointFixedSize = 8 + 8 + 8 + digest.Size*3 + 8 + 1

// Checkpoint is what a committee certifies at a cadence of executed
// commits and at every epoch end: where the ledger stands after commit
// LastCommitSeq. It is plain data; Encode checks it.
type Checkpoint struct {
	// ChainID names the network: 1 to MaxChainIDSize bytes.
	ChainID string
	// Epoch is the epoch whose committee signs the checkpoint.
	Epoch uint64
	// Number counts the chain's checkpoints; no validator signs two
	// different checkpoints for one number.
	Number uint64
	// LastCommitSeq is the sequence number of the last executed commit
	// the checkpoint covers.
	LastCommitSeq uint64
	// CommitDigest is the running commit digest after LastCommitSeq.
	CommitDigest digest.Digest
	// StateRoot is the state root after executing LastCommitSeq.
	StateRoot digest.Digest
	// ReceiptsRoot commits to the receipts up to LastCommitSeq.
	ReceiptsRoot digest.Digest
	// Timestamp is the consensus timestamp of commit LastCommitSeq, in
	// milliseconds (dag.Time).
	Timestamp uint64
	// NextCommittee is the digest (Committee.Digest) of the next epoch's
	// committee at an epoch end, and nil otherwise.
	NextCommittee *digest.Digest
}

// EpochEnd reports whether c ends its epoch, naming the next committee.
func (c *Checkpoint) EpochEnd() bool { return c != nil && c.NextCommittee != nil }

// checkChainID accepts 1 to MaxChainIDSize bytes.
func checkChainID(id string) error {
	if id == "" || len(id) > MaxChainIDSize {
		return fmt.Errorf("chain id of %d bytes, want 1 to %d: %w", len(id), MaxChainIDSize, ErrMalformed)
	}
	return nil
}

// Encode returns the canonical encoding of c: the version byte, the chain
// id's length (uint16) and bytes, epoch, number, last commit seq, commit
// digest, state root, receipts root, timestamp, then a flag byte (0, or 1
// followed by the next committee's digest); integers big-endian. It
// refuses an empty or oversized chain id (ErrMalformed).
func (c *Checkpoint) Encode() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("checkpoint: encode: %w", err)
	}
	return c.appendTo(make([]byte, 0, c.size())), nil
}

// check refuses what has no encoding: a nil checkpoint, an empty or
// oversized chain id.
func (c *Checkpoint) check() error {
	if c == nil {
		return fmt.Errorf("nil checkpoint: %w", ErrMalformed)
	}
	return checkChainID(c.ChainID)
}

// size is the encoded length of a checkpoint with a valid chain id.
func (c *Checkpoint) size() int {
	n := 1 + 2 + len(c.ChainID) + checkpointFixedSize
	if c.NextCommittee != nil {
		n += digest.Size
	}
	return n
}

// appendTo appends the encoding of c, whose chain id was checked.
func (c *Checkpoint) appendTo(b []byte) []byte {
	b = append(b, Version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.ChainID)))
	b = append(b, c.ChainID...)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	b = binary.BigEndian.AppendUint64(b, c.Number)
	b = binary.BigEndian.AppendUint64(b, c.LastCommitSeq)
	b = append(b, c.CommitDigest[:]...)
	b = append(b, c.StateRoot[:]...)
	b = append(b, c.ReceiptsRoot[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Timestamp)
	if c.NextCommittee == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return append(b, c.NextCommittee[:]...)
}

// DecodeCheckpoint decodes the canonical encoding written by Encode. It
// refuses a bad version, an empty or oversized chain id, a flag other than
// 0 or 1, a truncation and trailing bytes, all ErrMalformed.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	c, rest, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: decode checkpoint: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("checkpoint: decode checkpoint: %d trailing bytes: %w", len(rest), ErrMalformed)
	}
	return c, nil
}

// decodeCheckpoint decodes one checkpoint from the front of b and returns
// the bytes after it.
func decodeCheckpoint(b []byte) (*Checkpoint, []byte, error) {
	if len(b) < 3 {
		return nil, nil, fmt.Errorf("%d bytes, need at least 3: %w", len(b), ErrMalformed)
	}
	if b[0] != Version {
		return nil, nil, fmt.Errorf("version %d, want %d: %w", b[0], Version, ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	if n == 0 || n > MaxChainIDSize {
		return nil, nil, fmt.Errorf("chain id of %d bytes, want 1 to %d: %w", n, MaxChainIDSize, ErrMalformed)
	}
	b = b[3:]
	if len(b) < n+checkpointFixedSize {
		return nil, nil, fmt.Errorf("truncated: %d bytes after the version, need at least %d: %w", len(b), n+checkpointFixedSize, ErrMalformed)
	}
	c := &Checkpoint{ChainID: string(b[:n])}
	b = b[n:]
	c.Epoch = binary.BigEndian.Uint64(b[0:8])
	c.Number = binary.BigEndian.Uint64(b[8:16])
	c.LastCommitSeq = binary.BigEndian.Uint64(b[16:24])
	b = b[24:]
	copy(c.CommitDigest[:], b[:digest.Size])
	copy(c.StateRoot[:], b[digest.Size:2*digest.Size])
	copy(c.ReceiptsRoot[:], b[2*digest.Size:3*digest.Size])
	b = b[3*digest.Size:]
	c.Timestamp = binary.BigEndian.Uint64(b[:8])
	flag := b[8]
	b = b[9:]
	switch flag {
	case 0:
	case 1:
		if len(b) < digest.Size {
			return nil, nil, fmt.Errorf("truncated next committee digest: %d bytes, need %d: %w", len(b), digest.Size, ErrMalformed)
		}
		var d digest.Digest
		copy(d[:], b[:digest.Size])
		c.NextCommittee = &d
		b = b[digest.Size:]
	default:
		return nil, nil, fmt.Errorf("next committee flag %d, want 0 or 1: %w", flag, ErrMalformed)
	}
	return c, b, nil
}

// Digest returns the BLAKE3-256 digest of c's canonical encoding under a
// domain tag, the checkpoint's name. It fails as Encode does.
func (c *Checkpoint) Digest() (digest.Digest, error) {
	if err := c.check(); err != nil {
		return digest.Digest{}, fmt.Errorf("checkpoint: digest: %w", err)
	}
	return c.digest(), nil
}

// digest is Digest for a checked checkpoint.
func (c *Checkpoint) digest() digest.Digest {
	return digest.Hash([]byte(checkpointDigestTag), c.appendTo(make([]byte, 0, c.size())))
}

// SigningMessage returns the bytes each validator BLS-signs for c, in the
// shape of dag.SigningMessage: a domain tag of its own, the chain id's
// length (uint16) and bytes, the epoch, and the checkpoint's digest. The
// chain id and epoch stand outside the digest too, so a signature made for
// one chain, epoch or purpose (a header, a vote, a content statement) is
// never valid for another. It fails as Encode does.
func (c *Checkpoint) SigningMessage() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("checkpoint: signing message: %w", err)
	}
	return c.signingMessage(), nil
}

// signingMessage is SigningMessage for a checked checkpoint.
func (c *Checkpoint) signingMessage() []byte {
	d := c.digest()
	b := make([]byte, 0, len(signingDomain)+2+len(c.ChainID)+8+digest.Size)
	b = append(b, signingDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.ChainID)))
	b = append(b, c.ChainID...)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	return append(b, d[:]...)
}
