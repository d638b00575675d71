package dag

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// PlantBug breaks one rule of node n, so that tests can show the
// simulator reports the violation: "skip-support" commits a leader on any
// support, "double-commit" forgets which certificates were committed.
func PlantBug(n *Node, bug string) {
	switch bug {
	case "skip-support":
		n.primary.orderer.bugSkipSupport = true
	case "double-commit":
		n.primary.orderer.bugForgetCommitted = true
	default:
		panic("unknown bug " + bug)
	}
}

// DebugState describes a node's internals for failing-test diagnostics.
func DebugState(n *Node) string {
	p := n.primary
	return fmt.Sprintf("round=%d lastProposed=%d ownCertified=%v gc=%d lastLeader=%d pendingCerts=%d pendingHeaders=%d highestSeen=%d queue=%d delivered=%d workerReady=%d pending=%d now=%d lastProgress=%d lastSync=%d",
		p.round, p.lastProposed, p.ownCertified, p.gcRound(), p.orderer.lastLeaderRound, len(p.pendingCerts), len(p.pendingHeaders), p.highestSeen, len(n.queue), n.deliveredSeq, len(n.worker.ready), len(n.worker.pending), p.now, p.lastProgress, p.lastSync)
}

// DebugPending describes the lowest certificate waiting for parents.
func DebugPending(n *Node) string {
	p := n.primary
	low := p.lowestPending()
	if low == nil {
		return "none"
	}
	out := fmt.Sprintf("%s missing:", low)
	for _, m := range p.orderer.MissingParents(low) {
		out += " " + m.Short()
	}
	for r := low.Round() - 1; r <= low.Round(); r++ {
		out += fmt.Sprintf(" | round %d held:", r)
		for _, c := range p.orderer.Round(r) {
			if c != nil {
				out += " " + c.String()
			}
		}
	}
	return out
}

// DescribeRecord names a persisted record for the data-driven tests:
// the kind of record and what its key says, digests named by name.
func DescribeRecord(r Record, name func(crypto.Digest) string) string {
	op := "persist"
	if r.Delete {
		op = "delete"
	}
	k := r.Key
	switch {
	case len(k) == 11 && k[0] == prefixVote:
		s, _ := parseVoteKey(k)
		out := fmt.Sprintf("%s vote slot r%d v%d", op, s.round, s.author)
		if len(r.Value) == crypto.DigestSize {
			out += " -> " + name(crypto.Digest(r.Value))
		}
		return out
	case len(k) == 9 && k[0] == prefixHeader:
		return fmt.Sprintf("%s own header r%d", op, binary.BigEndian.Uint64(k[1:]))
	}
	if round, author, ok := ParseCertKey(k); ok {
		return fmt.Sprintf("%s cert r%d v%d", op, round, author)
	}
	if d, ok := ParseBatchKey(k); ok {
		return fmt.Sprintf("%s batch %s", op, name(d))
	}
	if seq, ok := IsCommitKey(k); ok {
		return fmt.Sprintf("%s commit %d", op, seq)
	}
	return fmt.Sprintf("%s %x", op, k)
}

// Drain returns n's Ready and advances it at once, for tests whose
// records need no durability.
func Drain(n *Node) Ready {
	rd := n.Ready()
	n.Advance()
	return rd
}
