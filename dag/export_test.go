package dag

import "fmt"

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
