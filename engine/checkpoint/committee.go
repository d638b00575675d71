package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto/blsverify"
	"github.com/dagd/dagd/crypto/digest"
)

// committeeDigestTag prefixes the bytes hashed by Committee.Digest, so the
// digest of a committee equals no other digest of dagd.
const committeeDigestTag = "dagd/checkpoint/committee/v1"

// memberSize is the encoded size of one Member: key and stake.
const memberSize = blsverify.PublicKeySize + 8

// committeeHeaderSize is the version byte, the epoch and the member count.
const committeeHeaderSize = 1 + 8 + 2

// Member is one validator of a committee as a light client knows it: its
// BLS12-381 public key (96 bytes, compressed G2, min-sig) and its stake.
// Its index in the committee is its bit in a signer bitmap.
type Member struct {
	// PublicKey is the compressed BLS public key.
	PublicKey [blsverify.PublicKeySize]byte
	// Stake weighs the member in quorums; positive.
	Stake uint64
}

// Committee is the validator set of one epoch: members in index order
// with parsed keys, the total stake and the committee's digest. It is
// immutable and safe for concurrent use. Its keys are assumed to have
// proved possession of their secret keys (see the package comment).
type Committee struct {
	epoch   uint64
	members []Member
	keys    []*blsverify.PublicKey
	total   uint64
	enc     []byte
	digest  digest.Digest
}

// NewCommittee builds the committee of an epoch from its members in index
// order. It refuses no members, more than MaxMembers, a zero stake, a
// total stake above MaxTotalStake, two members with one key
// (ErrInvalidCommittee) and a key that is not a valid G2 point
// (ErrMalformed). It does not check proofs of possession: the caller
// vouches for them (see the package comment). A light client builds the
// genesis committee from dagd's committee file with CommitteeFromFile or
// ReadCommitteeFile, which check every proof first.
func NewCommittee(epoch uint64, members []Member) (*Committee, error) {
	c, err := newCommittee(epoch, members)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}

// newCommittee is NewCommittee without the package prefix on its errors.
func newCommittee(epoch uint64, members []Member) (*Committee, error) {
	n := len(members)
	if n == 0 {
		return nil, fmt.Errorf("new committee of epoch %d: no members: %w", epoch, ErrInvalidCommittee)
	}
	if n > MaxMembers {
		return nil, fmt.Errorf("new committee of epoch %d: %d members exceed %d: %w", epoch, n, MaxMembers, ErrInvalidCommittee)
	}
	c := &Committee{
		epoch:   epoch,
		members: make([]Member, n),
		keys:    make([]*blsverify.PublicKey, n),
	}
	seen := make(map[[blsverify.PublicKeySize]byte]int, n)
	for i, m := range members {
		if m.Stake == 0 {
			return nil, fmt.Errorf("new committee of epoch %d: member %d has zero stake: %w", epoch, i, ErrInvalidCommittee)
		}
		if m.Stake > MaxTotalStake || c.total+m.Stake > MaxTotalStake {
			return nil, fmt.Errorf("new committee of epoch %d: total stake exceeds %d at member %d: %w", epoch, uint64(MaxTotalStake), i, ErrInvalidCommittee)
		}
		if j, dup := seen[m.PublicKey]; dup {
			return nil, fmt.Errorf("new committee of epoch %d: members %d and %d share key %x: %w", epoch, j, i, m.PublicKey[:8], ErrInvalidCommittee)
		}
		pk, err := blsverify.ParsePublicKey(m.PublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("new committee of epoch %d: member %d: %w (%w)", epoch, i, ErrMalformed, err)
		}
		seen[m.PublicKey] = i
		c.members[i] = m
		c.keys[i] = pk
		c.total += m.Stake
	}
	c.enc = c.encode()
	c.digest = digest.Hash([]byte(committeeDigestTag), c.enc)
	return c, nil
}

// encode writes the canonical form: the version byte, the epoch, the
// member count (uint16), then each member's key and stake, integers
// big-endian.
func (c *Committee) encode() []byte {
	b := make([]byte, 0, committeeHeaderSize+len(c.members)*memberSize)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint64(b, c.epoch)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.members))) // n <= MaxMembers
	for _, m := range c.members {
		b = append(b, m.PublicKey[:]...)
		b = binary.BigEndian.AppendUint64(b, m.Stake)
	}
	return b
}

// DecodeCommittee decodes the canonical encoding written by Encode and
// builds the committee as NewCommittee does. It refuses a bad version, a
// member count above MaxMembers (before allocating), a truncation and
// trailing bytes (ErrMalformed), and whatever NewCommittee refuses.
func DecodeCommittee(b []byte) (*Committee, error) {
	if len(b) < committeeHeaderSize {
		return nil, fmt.Errorf("checkpoint: decode committee: %d bytes, need at least %d: %w", len(b), committeeHeaderSize, ErrMalformed)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("checkpoint: decode committee: version %d, want %d: %w", b[0], Version, ErrMalformed)
	}
	epoch := binary.BigEndian.Uint64(b[1:9])
	n := int(binary.BigEndian.Uint16(b[9:11]))
	if n > MaxMembers {
		return nil, fmt.Errorf("checkpoint: decode committee: %d members exceed %d: %w", n, MaxMembers, ErrMalformed)
	}
	if want := committeeHeaderSize + n*memberSize; len(b) != want {
		return nil, fmt.Errorf("checkpoint: decode committee: %d bytes for %d members, want %d: %w", len(b), n, want, ErrMalformed)
	}
	members := make([]Member, n)
	rest := b[committeeHeaderSize:]
	for i := range members {
		copy(members[i].PublicKey[:], rest[:blsverify.PublicKeySize])
		members[i].Stake = binary.BigEndian.Uint64(rest[blsverify.PublicKeySize:memberSize])
		rest = rest[memberSize:]
	}
	c, err := newCommittee(epoch, members)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: decode committee: %w", err)
	}
	return c, nil
}

// Encode returns the canonical encoding of c (a fresh copy).
func (c *Committee) Encode() []byte { return append([]byte(nil), c.enc...) }

// Digest returns the BLAKE3-256 digest of c's canonical encoding under a
// domain tag: the value an epoch-end checkpoint names as its next
// committee.
func (c *Committee) Digest() digest.Digest { return c.digest }

// Epoch returns the committee's epoch.
func (c *Committee) Epoch() uint64 { return c.epoch }

// Size returns the number of members.
func (c *Committee) Size() int { return len(c.members) }

// Members returns a copy of the members in index order.
func (c *Committee) Members() []Member { return append([]Member(nil), c.members...) }

// TotalStake returns the sum of the members' stakes.
func (c *Committee) TotalStake() uint64 { return c.total }

// QuorumStake returns the stake a certificate's signers must reach: the
// smallest stake strictly above two thirds of the total, 2T/3+1 (integer
// division), the formula of dag.Committee.QuorumThreshold (dag/committee.go)
// and crypto.BLSCommittee.QuorumStake (crypto/committee.go). T is at most
// MaxTotalStake, so 2T does not overflow.
func (c *Committee) QuorumStake() uint64 { return 2*c.total/3 + 1 }
