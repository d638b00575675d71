package heal

import (
	"errors"
	"fmt"

	"github.com/dagd/dagd/erasure"
)

// Holder returns the validator that holds shard j of every chunk in a
// committee of the given size: j mod validators. It returns -1 for a
// negative shard or a committee of no validators.
func Holder(shard, validators int) int {
	if shard < 0 || validators <= 0 {
		return -1
	}
	return shard % validators
}

// ShardsOf returns, in increasing order, the shards among n that validator
// holds in a committee of the given size: none when validator >= n.
func ShardsOf(validator, n, validators int) []int {
	if validator < 0 || validators <= 0 || validator >= validators {
		return nil
	}
	var out []int
	for j := validator; j < n; j += validators {
		out = append(out, j)
	}
	return out
}

// Holders returns, in increasing order, the validators that hold at least
// one of n shards: the first min(n, validators).
func Holders(n, validators int) []int {
	out := make([]int, 0, min(max(n, 0), max(validators, 0)))
	for i := 0; i < n && i < validators; i++ {
		out = append(out, i)
	}
	return out
}

// ShardRef names one shard of one chunk.
type ShardRef struct {
	// Chunk is the chunk's index in the object.
	Chunk int
	// Shard is the shard's index in the chunk, in [0, n).
	Shard int
}

// String returns a short form such as "chunk 3 shard 1".
func (r ShardRef) String() string { return fmt.Sprintf("chunk %d shard %d", r.Chunk, r.Shard) }

// Fault says what is wrong with a shard a holder should keep.
type Fault uint8

// Faults an audit finds.
const (
	// FaultNone: the shard is present and matches the manifest.
	FaultNone Fault = iota
	// FaultMissing: the shard could not be read, or is shorter than the
	// manifest says.
	FaultMissing
	// FaultCorrupt: the shard was read but its length or BLAKE3 hash is
	// not the manifest's.
	FaultCorrupt
)

// String names the fault as metrics and logs spell it.
func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "ok"
	case FaultMissing:
		return "missing"
	case FaultCorrupt:
		return "corrupt"
	}
	return fmt.Sprintf("fault(%d)", uint8(f))
}

// ErrShort is what a reader returns (wrapped or not) for a shard that is
// on disk but shorter than asked: Classify counts it as missing.
var ErrShort = errors.New("heal: shard shorter than expected")

// Classify decides what an audit found for shard `shard` of chunk `chunk`
// of m, given what reading it gave: data, or readErr. A read error (the
// file or the range is absent, ErrShort) means missing; bytes that fail
// erasure.VerifyShard mean corrupt. A chunk or shard index outside m is
// corrupt too: there is nothing to compare it with.
func Classify(m *erasure.Manifest, chunk, shard int, data []byte, readErr error) Fault {
	if readErr != nil {
		return FaultMissing
	}
	if err := erasure.VerifyShard(m, chunk, shard, data); err != nil {
		return FaultCorrupt
	}
	return FaultNone
}

// Finding is one shard an audit found at fault.
type Finding struct {
	ShardRef
	// Fault is FaultMissing or FaultCorrupt.
	Fault Fault
}

// Report is what an audit of one object found.
type Report struct {
	// Good counts the shards present and matching the manifest.
	Good int
	// Findings lists the shards at fault, in chunk order then shard order.
	Findings []Finding
}

// Missing counts the findings of FaultMissing.
func (r *Report) Missing() int {
	n := 0
	for _, f := range r.Findings {
		if f.Fault == FaultMissing {
			n++
		}
	}
	return n
}

// Corrupt counts the findings of FaultCorrupt.
func (r *Report) Corrupt() int { return len(r.Findings) - r.Missing() }

// Chunks returns the chunks with at least one finding, in order, each with
// the shards at fault.
func (r *Report) Chunks() []ChunkDamage {
	var out []ChunkDamage
	for _, f := range r.Findings {
		if n := len(out); n > 0 && out[n-1].Chunk == f.Chunk {
			out[n-1].Shards = append(out[n-1].Shards, f.Shard)
			continue
		}
		out = append(out, ChunkDamage{Chunk: f.Chunk, Shards: []int{f.Shard}})
	}
	return out
}

// ChunkDamage lists the shards of one chunk that need rebuilding.
type ChunkDamage struct {
	// Chunk is the chunk's index.
	Chunk int
	// Shards are the shards at fault, in increasing order.
	Shards []int
}

// Audit checks every shard in shards of every chunk of m, reading each with
// read, and reports what it found. read is the engine's I/O; Audit stops
// early, returning what it found so far and the error, only when stop
// returns a non-nil error (a cancelled context, say); stop may be nil.
func Audit(m *erasure.Manifest, shards []int, read func(chunk, shard int) ([]byte, error), stop func() error) (Report, error) {
	var r Report
	for i := 0; i < m.NumChunks(); i++ {
		if stop != nil {
			if err := stop(); err != nil {
				return r, err
			}
		}
		for _, j := range shards {
			data, err := read(i, j)
			switch f := Classify(m, i, j, data, err); f {
			case FaultNone:
				r.Good++
			default:
				r.Findings = append(r.Findings, Finding{ShardRef: ShardRef{Chunk: i, Shard: j}, Fault: f})
			}
		}
	}
	return r, nil
}

// Candidates describe the shards of one chunk a reader or a repairer may
// use, for Sources.
type Candidates struct {
	// K and N are the object's k and n.
	K, N int
	// Validators is the committee size.
	Validators int
	// Self is the caller's validator index (-1 when it holds nothing).
	Self int
	// Local reports the shards the caller has on hand and believes good;
	// nil means none.
	Local func(shard int) bool
	// Suspect reports holders to ask last; nil means none.
	Suspect func(validator int) bool
	// Exclude lists shards not to use at all: those known bad or being
	// rebuilt.
	Exclude []int
}

// Sources orders the usable shards of a chunk by preference: shards on hand
// first, then data shards (a chunk whose k data shards all arrive needs no
// decoding), then parity shards; within each group, shards whose holder is
// not suspect come before those whose holder is, and shards of holders the
// caller is (when not on hand) are left out, since asking oneself over the
// network cannot help. A caller takes the first K and falls back, in order,
// to the next ones when a shard fails. Fewer than K entries mean the chunk
// cannot be rebuilt from what is known to be usable.
func Sources(c Candidates) []int {
	excluded := func(j int) bool {
		for _, x := range c.Exclude {
			if x == j {
				return true
			}
		}
		return false
	}
	local := func(j int) bool { return c.Local != nil && c.Local(j) }
	suspect := func(j int) bool { return c.Suspect != nil && c.Suspect(Holder(j, c.Validators)) }
	var groups [5][]int // local; data ok; parity ok; data suspect; parity suspect
	for j := 0; j < c.N; j++ {
		switch {
		case excluded(j):
		case local(j):
			groups[0] = append(groups[0], j)
		case Holder(j, c.Validators) == c.Self:
			// Our own shard, not on hand: no one else has it.
		case suspect(j) && j < c.K:
			groups[3] = append(groups[3], j)
		case suspect(j):
			groups[4] = append(groups[4], j)
		case j < c.K:
			groups[1] = append(groups[1], j)
		default:
			groups[2] = append(groups[2], j)
		}
	}
	out := make([]int, 0, c.N)
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Scores remember which holders served shards that did not verify, so that
// readers ask them last. A bad shard adds Penalty to the holder's score and
// a good one takes 1 off; a holder is suspect while its score is above
// zero, that is until it has served Penalty good shards for each bad one.
// It is not safe for concurrent use.
type Scores struct {
	score []int
}

// Penalty is what one bad shard adds to a holder's score.
const Penalty = 16

// NewScores returns scores for a committee of the given size, all clean.
func NewScores(validators int) *Scores { return &Scores{score: make([]int, max(validators, 0))} }

// Bad records a shard from validator that did not verify.
func (s *Scores) Bad(validator int) {
	if validator >= 0 && validator < len(s.score) {
		s.score[validator] += Penalty
	}
}

// Good records a shard from validator that verified.
func (s *Scores) Good(validator int) {
	if validator >= 0 && validator < len(s.score) && s.score[validator] > 0 {
		s.score[validator]--
	}
}

// Suspect reports whether validator served bad shards recently.
func (s *Scores) Suspect(validator int) bool {
	return validator >= 0 && validator < len(s.score) && s.score[validator] > 0
}
