package loadtest

import (
	"encoding/hex"
	"fmt"
	"sync"
)

// Consistency compares the running commit digests that several nodes
// report: every honest node must have the same digest at the same sequence
// number. It is safe for concurrent use; its memory holds the sequence
// numbers that not every node has reached yet.
type Consistency struct {
	mu         sync.Mutex
	nodes      int
	open       map[uint64]*seqEntry
	checked    uint64
	highest    []uint64
	mismatches []Mismatch
}

type seqEntry struct {
	digest [32]byte
	first  int
	seen   []bool
	count  int
	bad    bool
}

// Mismatch is a sequence number at which two nodes disagree.
type Mismatch struct {
	Seq     uint64 `json:"seq"`
	NodeA   int    `json:"node_a"`
	DigestA string `json:"digest_a"`
	NodeB   int    `json:"node_b"`
	DigestB string `json:"digest_b"`
}

// maxMismatches bounds the mismatches kept for the report.
const maxMismatches = 16

// NewConsistency returns a checker for nodes nodes.
func NewConsistency(nodes int) *Consistency {
	return &Consistency{nodes: nodes, open: make(map[uint64]*seqEntry), highest: make([]uint64, nodes)}
}

// Observe records that node reached seq with digest. Each node reports
// its seqs in increasing order; a repeated report is ignored.
func (c *Consistency) Observe(node int, seq uint64, digest [32]byte) {
	if node < 0 || node >= c.nodes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.highest[node]
	c.highest[node] = max(prev, seq)
	e, ok := c.open[seq]
	if !ok {
		if seq <= prev {
			return // a repeat of a seq every node has reported
		}
		e = &seqEntry{digest: digest, seen: make([]bool, c.nodes), first: node}
		c.open[seq] = e
	}
	if e.digest != digest {
		if len(c.mismatches) < maxMismatches {
			c.mismatches = append(c.mismatches, Mismatch{Seq: seq, NodeA: e.first, DigestA: hex.EncodeToString(e.digest[:]),
				NodeB: node, DigestB: hex.EncodeToString(digest[:])})
		}
		e.bad = true
	}
	if e.seen[node] {
		return
	}
	e.seen[node] = true
	e.count++
	if e.count == c.nodes {
		if !e.bad {
			c.checked++
		}
		delete(c.open, seq)
	}
}

// ConsistencyResult summarizes the comparison.
type ConsistencyResult struct {
	// Consistent is false as soon as two nodes disagree at some seq.
	Consistent bool `json:"consistent"`
	// CommonSeqs counts the seqs every node reached with equal digests.
	CommonSeqs uint64 `json:"common_seqs"`
	// Highest is each node's highest seq.
	Highest    []uint64   `json:"highest_seq"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// Result returns the comparison so far.
func (c *Consistency) Result() ConsistencyResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ConsistencyResult{Consistent: len(c.mismatches) == 0, CommonSeqs: c.checked,
		Highest: append([]uint64(nil), c.highest...), Mismatches: append([]Mismatch(nil), c.mismatches...)}
}

// String describes the result in one line.
func (r ConsistencyResult) String() string {
	if r.Consistent {
		return fmt.Sprintf("consistent over %d common commits", r.CommonSeqs)
	}
	m := r.Mismatches[0]
	return fmt.Sprintf("INCONSISTENT: %d mismatches, first at seq %d: node %d %s vs node %d %s",
		len(r.Mismatches), m.Seq, m.NodeA, m.DigestA[:16], m.NodeB, m.DigestB[:16])
}

// Merge returns the comparison of r and o, two checks of the same nodes
// (say, one while the load ran and one over every commit at the end):
// consistent only if both are, the larger count of common commits, the
// higher seq of each node, and the mismatches of both (at most
// maxMismatches).
func (r ConsistencyResult) Merge(o ConsistencyResult) ConsistencyResult {
	m := ConsistencyResult{Consistent: r.Consistent && o.Consistent, CommonSeqs: max(r.CommonSeqs, o.CommonSeqs)}
	for i := range max(len(r.Highest), len(o.Highest)) {
		var h uint64
		if i < len(r.Highest) {
			h = r.Highest[i]
		}
		if i < len(o.Highest) {
			h = max(h, o.Highest[i])
		}
		m.Highest = append(m.Highest, h)
	}
	m.Mismatches = append(append([]Mismatch(nil), r.Mismatches...), o.Mismatches...)
	if len(m.Mismatches) > maxMismatches {
		m.Mismatches = m.Mismatches[:maxMismatches]
	}
	return m
}
