package dag

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// ValidatorID is a validator's index in its committee.
type ValidatorID uint16

// MaxCommitteeSize bounds the number of validators in one committee.
const MaxCommitteeSize = 1024

// maxTotalStake keeps stake sums and 2x multiples far from overflow.
const maxTotalStake = 1 << 60

// Committee is the validator set of one epoch: each validator's stake,
// indexed by ValidatorID. Keys live with the Verifier; the core only needs
// stake to count quorums.
type Committee struct {
	epoch  uint64
	stakes []uint64
	total  uint64
	// cumulative[i] is the sum of stakes[0..i], for the leader schedule.
	cumulative []uint64
}

// NewCommittee returns the committee of an epoch with the given stakes.
func NewCommittee(epoch uint64, stakes []uint64) (*Committee, error) {
	if len(stakes) == 0 {
		return nil, errors.New("dag: committee is empty")
	}
	if len(stakes) > MaxCommitteeSize {
		return nil, fmt.Errorf("dag: committee of %d exceeds %d validators", len(stakes), MaxCommitteeSize)
	}
	c := &Committee{epoch: epoch, stakes: append([]uint64(nil), stakes...), cumulative: make([]uint64, len(stakes))}
	for i, s := range stakes {
		if s == 0 {
			return nil, fmt.Errorf("dag: validator %d has zero stake", i)
		}
		if s > maxTotalStake || c.total+s > maxTotalStake {
			return nil, fmt.Errorf("dag: total stake exceeds %d", uint64(maxTotalStake))
		}
		c.total += s
		c.cumulative[i] = c.total
	}
	return c, nil
}

// EqualStakeCommittee returns a committee of n validators with stake 1 each.
func EqualStakeCommittee(epoch uint64, n int) (*Committee, error) {
	stakes := make([]uint64, n)
	for i := range stakes {
		stakes[i] = 1
	}
	return NewCommittee(epoch, stakes)
}

// Epoch returns the committee's epoch.
func (c *Committee) Epoch() uint64 { return c.epoch }

// Size returns the number of validators.
func (c *Committee) Size() int { return len(c.stakes) }

// Has reports whether id names a validator of the committee.
func (c *Committee) Has(id ValidatorID) bool { return int(id) < len(c.stakes) }

// Stake returns the stake of validator id, or 0 if it is not a member.
func (c *Committee) Stake(id ValidatorID) uint64 {
	if !c.Has(id) {
		return 0
	}
	return c.stakes[id]
}

// TotalStake returns the sum of all stakes.
func (c *Committee) TotalStake() uint64 { return c.total }

// QuorumThreshold is the smallest stake strictly above two thirds of the
// total: any two quorums share an honest validator.
func (c *Committee) QuorumThreshold() uint64 { return 2*c.total/3 + 1 }

// ValidityThreshold is the smallest stake strictly above one third of the
// total: any such set holds at least one honest validator.
func (c *Committee) ValidityThreshold() uint64 { return c.total/3 + 1 }

// MaxFaultyStake is f, the largest stake below one third of the total.
func (c *Committee) MaxFaultyStake() uint64 { return c.total - c.QuorumThreshold() }

// Leader returns the Bullshark leader of round, drawn by a deterministic
// stake-weighted schedule: BLAKE3 of (epoch, round) picks a point in the
// cumulative stake.
func (c *Committee) Leader(round uint64) ValidatorID {
	var buf [24]byte
	copy(buf[:8], "dagd/ldr")
	binary.BigEndian.PutUint64(buf[8:16], c.epoch)
	binary.BigEndian.PutUint64(buf[16:24], round)
	h := crypto.Hash(buf[:])
	point := binary.BigEndian.Uint64(h[:8]) % c.total
	lo, hi := 0, len(c.cumulative)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if c.cumulative[mid] > point {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return ValidatorID(lo)
}

// stakeSet accumulates the stake of distinct validators.
type stakeSet struct {
	seen  []bool
	stake uint64
}

func newStakeSet(c *Committee) stakeSet { return stakeSet{seen: make([]bool, c.Size())} }

// add counts id once and reports whether it was new.
func (s *stakeSet) add(c *Committee, id ValidatorID) bool {
	if !c.Has(id) || s.seen[id] {
		return false
	}
	s.seen[id] = true
	s.stake += c.stakes[id]
	return true
}
