package dag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/dagd/dagd/crypto"
)

// ErrMissingParents is returned by Orderer.Add for a certificate whose
// parents above the garbage-collection round are not in the DAG yet.
var ErrMissingParents = errors.New("dag: certificate parents missing")

// CommittedSubDAG is one step of the total order: a Bullshark leader and
// its causal history not committed before, sorted by (round, author).
type CommittedSubDAG struct {
	// Seq numbers commits from 1 without gaps.
	Seq    uint64
	Leader *Certificate
	// Certificates ends with the leader.
	Certificates []*Certificate
	// Timestamp is the consensus clock: the leader's header timestamp,
	// never below the previous commit's. Execution uses it as its time.
	Timestamp Time
	// Digest is the running commit digest: BLAKE3 over the previous one,
	// Seq and the digests of Certificates. Equal digests at equal Seq mean
	// equal histories.
	Digest crypto.Digest
}

// Record returns the commit record to persist for s.
func (s *CommittedSubDAG) Record() *CommitRecord {
	r := &CommitRecord{Seq: s.Seq, LeaderRound: s.Leader.Round(), Leader: s.Leader.Digest(), Timestamp: s.Timestamp, Digest: s.Digest}
	r.Certificates = make([]crypto.Digest, len(s.Certificates))
	for i, c := range s.Certificates {
		r.Certificates[i] = c.Digest()
	}
	return r
}

// Orderer is the Bullshark commit rule over a DAG of certificates, as a
// pure state machine: certificates go in, in causal order; committed
// sub-DAGs come out. Given the same DAG it commits the same sequence
// whatever the order in which certificates arrive.
type Orderer struct {
	committee *Committee
	gcDepth   uint64

	rounds   map[uint64][]*Certificate // round -> certificate per author
	byDigest map[crypto.Digest]*Certificate
	lowest   uint64 // lowest round still held

	committed map[crypto.Digest]struct{}
	// collectedCerts are certificates dropped by GC, for TakeCollected;
	// orphanedCerts are those of them that no commit included, for
	// TakeOrphaned.
	collectedCerts []*Certificate
	orphanedCerts  []*Certificate
	// keepCollected makes collect remember dropped certificates.
	keepCollected bool

	// Planted bugs, set only by tests, to show the simulator catches them.
	bugSkipSupport, bugForgetCommitted bool

	lastLeaderRound uint64
	seq             uint64
	lastTimestamp   Time
	digest          crypto.Digest
}

// NewOrderer returns an orderer over the genesis certificates of committee.
// Certificates more than gcDepth rounds below the last committed leader
// are dropped.
func NewOrderer(committee *Committee, gcDepth uint64) *Orderer {
	o := &Orderer{
		committee: committee,
		gcDepth:   gcDepth,
		rounds:    make(map[uint64][]*Certificate),
		byDigest:  make(map[crypto.Digest]*Certificate),
		committed: make(map[crypto.Digest]struct{}),
	}
	for _, g := range GenesisCertificates(committee) {
		o.insert(g)
		o.committed[g.Digest()] = struct{}{}
	}
	return o
}

// GCRound is the lowest round the orderer keeps: certificates below it are
// ignored and parents below it are taken as present.
func (o *Orderer) GCRound() uint64 {
	if o.lastLeaderRound > o.gcDepth {
		return o.lastLeaderRound - o.gcDepth
	}
	return 0
}

// LastCommittedRound returns the round of the last committed leader.
func (o *Orderer) LastCommittedRound() uint64 { return o.lastLeaderRound }

// LastSeq returns the sequence number of the last commit.
func (o *Orderer) LastSeq() uint64 { return o.seq }

// CommitDigest returns the running commit digest after the last commit.
func (o *Orderer) CommitDigest() crypto.Digest { return o.digest }

// LastTimestamp returns the consensus timestamp of the last commit.
func (o *Orderer) LastTimestamp() Time { return o.lastTimestamp }

// Contains reports whether the orderer holds the certificate d.
func (o *Orderer) Contains(d crypto.Digest) bool {
	_, ok := o.byDigest[d]
	return ok
}

// Get returns the certificate d if the orderer holds it.
func (o *Orderer) Get(d crypto.Digest) *Certificate { return o.byDigest[d] }

// Round returns the certificates held for round, indexed by author (nil
// where none is held). The slice must not be modified.
func (o *Orderer) Round(round uint64) []*Certificate { return o.rounds[round] }

// HasParents reports whether every parent of c above the GC round is held.
func (o *Orderer) HasParents(c *Certificate) bool { return len(o.MissingParents(c)) == 0 }

// MissingParents lists the parents of c that must arrive before c.
func (o *Orderer) MissingParents(c *Certificate) []crypto.Digest {
	r := c.Round()
	if r == 0 || r-1 < o.GCRound() {
		return nil
	}
	var missing []crypto.Digest
	for _, p := range c.Header.Parents {
		if pc, ok := o.byDigest[p]; !ok || pc.Round() != r-1 {
			missing = append(missing, p)
		}
	}
	return missing
}

func (o *Orderer) insert(c *Certificate) {
	r := c.Round()
	row := o.rounds[r]
	if row == nil {
		row = make([]*Certificate, o.committee.Size())
		o.rounds[r] = row
	}
	row[c.Author()] = c
	o.byDigest[c.Digest()] = c
}

// Add inserts a certificate whose parents are held (or below the GC round)
// and returns the sub-DAGs it lets commit, oldest first. A duplicate or a
// certificate below the GC round is ignored. The certificate must already be
// verified.
func (o *Orderer) Add(c *Certificate) ([]*CommittedSubDAG, error) {
	r := c.Round()
	if r < o.GCRound() || r == 0 {
		return nil, nil
	}
	if !o.committee.Has(c.Author()) {
		return nil, fmt.Errorf("dag: certificate author %d not in committee", c.Author())
	}
	if row := o.rounds[r]; row != nil && row[c.Author()] != nil {
		if row[c.Author()].Digest() == c.Digest() {
			return nil, nil
		}
		return nil, fmt.Errorf("dag: conflicting certificates for author %d round %d", c.Author(), r)
	}
	if missing := o.MissingParents(c); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s lacks %d parents", ErrMissingParents, c, len(missing))
	}
	o.insert(c)
	if r%2 == 1 && r >= 3 {
		return o.tryCommit(r - 1), nil
	}
	return nil, nil
}

// support returns the stake of round-(leader+1) certificates that have
// the leader as a parent.
func (o *Orderer) support(leader *Certificate) uint64 {
	d := leader.Digest()
	set := newStakeSet(o.committee)
	for _, c := range o.rounds[leader.Round()+1] {
		if c != nil && hasParent(c.Header, d) {
			set.add(o.committee, c.Author())
		}
	}
	return set.stake
}

func hasParent(h *Header, d crypto.Digest) bool {
	_, ok := slices.BinarySearchFunc(h.Parents, d, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

// LeaderOf returns the leader certificate of an even round if held.
func (o *Orderer) LeaderOf(round uint64) *Certificate {
	row := o.rounds[round]
	if row == nil {
		return nil
	}
	return row[o.committee.Leader(round)]
}

// LeaderSupport returns the stake supporting the leader of round in round+1.
func (o *Orderer) LeaderSupport(round uint64) uint64 {
	l := o.LeaderOf(round)
	if l == nil {
		return 0
	}
	return o.support(l)
}

func (o *Orderer) tryCommit(round uint64) []*CommittedSubDAG {
	if round <= o.lastLeaderRound {
		return nil
	}
	leader := o.LeaderOf(round)
	if leader == nil {
		return nil
	}
	need := o.committee.ValidityThreshold()
	if o.bugSkipSupport {
		need = 0
	}
	if o.support(leader) < need {
		return nil
	}
	chain := []*Certificate{leader}
	cur := leader
	for rr := round - 2; rr > o.lastLeaderRound && rr >= 2 && rr >= o.GCRound(); rr -= 2 {
		if prev := o.LeaderOf(rr); prev != nil && o.linked(cur, prev) {
			chain = append(chain, prev)
			cur = prev
		}
	}
	out := make([]*CommittedSubDAG, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, o.commit(chain[i]))
	}
	return out
}

// linked reports whether there is a path from a down to b in the DAG.
func (o *Orderer) linked(a, b *Certificate) bool {
	frontier := []*Certificate{a}
	for r := a.Round(); r > b.Round() && len(frontier) > 0; r-- {
		seen := make(map[crypto.Digest]struct{})
		var next []*Certificate
		for _, c := range frontier {
			for _, p := range c.Header.Parents {
				if _, ok := seen[p]; ok {
					continue
				}
				seen[p] = struct{}{}
				if pc, ok := o.byDigest[p]; ok {
					next = append(next, pc)
				}
			}
		}
		frontier = next
	}
	for _, c := range frontier {
		if c.Digest() == b.Digest() {
			return true
		}
	}
	return false
}

func (o *Orderer) commit(leader *Certificate) *CommittedSubDAG {
	floor := o.GCRound()
	var list []*Certificate
	visited := map[crypto.Digest]struct{}{leader.Digest(): {}}
	stack := []*Certificate{leader}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		list = append(list, c)
		for _, p := range c.Header.Parents {
			if _, ok := visited[p]; ok {
				continue
			}
			visited[p] = struct{}{}
			pc, ok := o.byDigest[p]
			if !ok || pc.Round() < floor {
				continue
			}
			if _, done := o.committed[p]; done {
				continue
			}
			stack = append(stack, pc)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Round() != list[j].Round() {
			return list[i].Round() < list[j].Round()
		}
		return list[i].Author() < list[j].Author()
	})
	for _, c := range list {
		if !o.bugForgetCommitted || c == leader {
			o.committed[c.Digest()] = struct{}{}
		}
	}
	o.seq++
	ts := leader.Header.Timestamp
	if ts < o.lastTimestamp {
		ts = o.lastTimestamp
	}
	o.lastTimestamp = ts
	o.digest = chainDigest(o.digest, o.seq, list)
	o.lastLeaderRound = leader.Round()
	o.collect()
	return &CommittedSubDAG{Seq: o.seq, Leader: leader, Certificates: list, Timestamp: ts, Digest: o.digest}
}

func chainDigest(prev crypto.Digest, seq uint64, certs []*Certificate) crypto.Digest {
	h := crypto.NewHasher()
	_, _ = h.Write([]byte("dagd/commit/v1"))
	_, _ = h.Write(prev[:])
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	_, _ = h.Write(s[:])
	for _, c := range certs {
		d := c.Digest()
		_, _ = h.Write(d[:])
	}
	var out crypto.Digest
	h.Sum(out[:0])
	return out
}

// collect drops rounds below the GC round.
func (o *Orderer) collect() {
	gc := o.GCRound()
	for ; o.lowest < gc; o.lowest++ {
		for _, c := range o.rounds[o.lowest] {
			if c != nil {
				_, committed := o.committed[c.Digest()]
				delete(o.byDigest, c.Digest())
				delete(o.committed, c.Digest())
				if o.keepCollected && c.Round() > 0 {
					o.collectedCerts = append(o.collectedCerts, c)
					if !committed {
						o.orphanedCerts = append(o.orphanedCerts, c)
					}
				}
			}
		}
		delete(o.rounds, o.lowest)
	}
}

// Restore sets the orderer's position from the last persisted commit
// records (ascending by Seq), before any certificate is added back. Records
// of certificates below the restored GC round may be omitted.
func (o *Orderer) Restore(records []*CommitRecord) error {
	if len(records) == 0 {
		return nil
	}
	for i, r := range records {
		if i > 0 && r.Seq != records[i-1].Seq+1 {
			return fmt.Errorf("dag: commit records not contiguous at seq %d", r.Seq)
		}
		for _, d := range r.Certificates {
			o.committed[d] = struct{}{}
		}
	}
	last := records[len(records)-1]
	o.seq = last.Seq
	o.digest = last.Digest
	o.lastTimestamp = last.Timestamp
	o.lastLeaderRound = last.LeaderRound
	for r := range o.rounds { // only genesis is held at this point
		if r < o.GCRound() {
			for _, c := range o.rounds[r] {
				delete(o.byDigest, c.Digest())
			}
			delete(o.rounds, r)
		}
	}
	o.lowest = o.GCRound()
	return nil
}

// TakeOrphaned returns the certificates dropped by garbage collection
// since the last call that no commit included: every validator's commit
// sequence is the same, so every validator finds the same orphans, and
// none of them can be committed any more. Their authors propose their
// batches again.
func (o *Orderer) TakeOrphaned() []*Certificate {
	out := o.orphanedCerts
	o.orphanedCerts = nil
	return out
}

// TakeCollected returns the certificates dropped by garbage collection
// since the last call, so the driver can delete what it persisted for them.
func (o *Orderer) TakeCollected() []*Certificate {
	out := o.collectedCerts
	o.collectedCerts = nil
	return out
}
